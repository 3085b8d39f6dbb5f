//! `qipan audit verify` and `qipan audit archive`.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use domain::audit::ChainBreak;

use super::GlobalArgs;
use crate::service::{Actor, ChainReport};

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
        ChainReport::Broken(ChainBreak::Altered { seq }) => {
            anyhow::bail!("audit log broken: entry #{seq} was altered (its content no longer matches its hash)")
        }
        ChainReport::Broken(ChainBreak::Gap { seq, expected_seq }) => anyhow::bail!(
            "audit log broken at entry #{seq}: expected #{expected_seq} to come next (an entry was deleted or inserted)"
        ),
    }
}

/// Writes entries older than `before` to `out` (JSON lines, one entry each with its hashes),
/// then removes them from the database. Refuses anything younger than the retention.
pub async fn archive(global: &GlobalArgs, before: DateTime<Utc>, out: &Path) -> anyhow::Result<()> {
    let app = global.open_app().await?;
    let entries = app.audit_to_archive(before).await.map_err(|e| anyhow::anyhow!(super::english(&e)))?;
    let Some(last) = entries.last() else {
        println!("nothing to archive before {}", before.to_rfc3339());
        app.store.close().await;
        return Ok(());
    };
    if out.exists() {
        anyhow::bail!("{} exists already; choose a new file (--out)", out.display());
    }
    let mut file = std::fs::File::create_new(out).with_context(|| format!("creating {}", out.display()))?;
    for s in &entries {
        let e = &s.entry;
        let line = serde_json::json!({
            "seq": e.seq, "at": e.at.to_rfc3339(), "actor_id": e.actor_id, "actor_name": e.actor_name,
            "action": e.action, "org_code": e.org_code, "target": e.target, "detail": e.detail,
            "address": e.address, "prev_hash": s.prev_hash, "hash": s.hash,
        });
        writeln!(file, "{line}").with_context(|| format!("writing {}", out.display()))?;
    }
    // The file must be on disk before the entries leave the database.
    file.sync_all().with_context(|| format!("syncing {}", out.display()))?;
    let console = Actor::console(domain::OrgCode::parse("00").expect("static code"));
    let removed = app
        .archive_audit_through(&console, last, &out.display().to_string())
        .await
        .map_err(|e| anyhow::anyhow!(super::english(&e)))?;
    app.store.close().await;
    println!("archived {removed} entries (through #{}) to {}", last.entry.seq, out.display());
    Ok(())
}
