//! `qipan audit verify` and `qipan audit archive`.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use domain::audit::ChainBreak;

use super::GlobalArgs;
use crate::service::{Actor, ChainReport};

fn describe(b: &ChainBreak) -> String {
    match b {
        ChainBreak::Altered { seq } => {
            format!("audit log broken: entry #{seq} was altered (its content no longer matches its hash)")
        }
        ChainBreak::Gap { seq, expected_seq } => format!(
            "audit log broken at entry #{seq}: expected #{expected_seq} to come next (an entry was deleted or inserted)"
        ),
    }
}

/// Checks the hash chain; exit status 1 and the first broken entry when it is broken.
pub async fn verify(global: &GlobalArgs) -> anyhow::Result<()> {
    let app = global.open_app().await?;
    let report = app.verify_audit_chain().await;
    app.store.close().await;
    match report.map_err(|e| anyhow::anyhow!(super::english(&e)))? {
        ChainReport::Intact { checked, head } => {
            println!("audit log intact: {checked} entries checked, chain head at #{head}");
            Ok(())
        }
        ChainReport::Broken(b) => anyhow::bail!(describe(&b)),
    }
}

/// Writes entries older than `before` to `out` (JSON lines, one entry each with its hashes),
/// checking the chain as it goes, then removes them from the database. Refuses anything
/// younger than the retention, and a chain that does not verify.
pub async fn archive(global: &GlobalArgs, before: DateTime<Utc>, out: &Path) -> anyhow::Result<()> {
    let app = global.open_app().await?;
    let english = |e: crate::service::ServiceError| anyhow::anyhow!(super::english(&e));
    let start = app.begin_audit_archive(before).await.map_err(english)?;
    let mut file: Option<std::fs::File> = None;
    let mut cursor = start.clone();
    let mut last = None;
    let mut written = 0u64;
    loop {
        let batch = app.audit_archive_batch(&cursor, before, 2000).await.map_err(english)?;
        let batch = batch.map_err(|b| anyhow::anyhow!("{}; nothing was archived", describe(&b)))?;
        let Some(tail) = batch.last() else { break };
        let f = match &mut file {
            Some(f) => f,
            None => file.insert(
                std::fs::File::create_new(out)
                    .with_context(|| format!("creating {} (it must not exist yet)", out.display()))?,
            ),
        };
        for s in &batch {
            let e = &s.entry;
            let line = serde_json::json!({
                "seq": e.seq, "at": e.at.to_rfc3339(), "actor_id": e.actor_id, "actor_name": e.actor_name,
                "action": e.action, "org_code": e.org_code, "target": e.target, "detail": e.detail,
                "address": e.address, "prev_hash": s.prev_hash, "hash": s.hash,
            });
            writeln!(f, "{line}").with_context(|| format!("writing {}", out.display()))?;
        }
        written += batch.len() as u64;
        cursor = (tail.entry.seq, tail.hash.clone());
        last = Some(tail.clone());
    }
    let (Some(last), Some(file)) = (last, file) else {
        println!("nothing to archive before {}", before.to_rfc3339());
        app.store.close().await;
        return Ok(());
    };
    // The file must be on disk before the entries leave the database.
    file.sync_all().with_context(|| format!("syncing {}", out.display()))?;
    let console = Actor::console(domain::OrgCode::parse("00").expect("static code"));
    let removed =
        app.archive_audit_through(&console, start.0, &last, &out.display().to_string()).await.map_err(english)?;
    app.store.close().await;
    println!("archived {removed} of {written} entries written (through #{}) to {}", last.entry.seq, out.display());
    Ok(())
}
