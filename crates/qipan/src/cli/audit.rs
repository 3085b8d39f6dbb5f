//! `qipan audit verify`, `qipan audit anchor` and `qipan audit archive`.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use domain::audit::{Anchor, AnchorBreak, ChainBreak};

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
        ChainBreak::Unkeyed { seq } => format!(
            "audit log broken: entry #{seq} carries an unkeyed hash after keyed ones (rewritten without the audit key)"
        ),
        ChainBreak::NoKey { seq } => format!(
            "cannot check entry #{seq}: it is keyed and no audit key was given (QIPAN_AUDIT_KEY or --audit-key-file)"
        ),
    }
}

/// Checks the hash chain, then the anchors written out of it; exit status 1 and the first
/// break when there is one.
pub async fn verify(global: &GlobalArgs) -> anyhow::Result<()> {
    let app = global.open_app_to_check().await?;
    let path = global.audit_anchors();
    let anchors = read_anchors(&path)?;
    let report = app.verify_audit_chain().await;
    let anchored = match &anchors {
        Some(list) => Some(app.check_audit_anchors(list).await),
        None => None,
    };
    app.store.close().await;
    let english = |e: crate::service::ServiceError| anyhow::anyhow!(super::english(&e));
    let (checked, head) = match report.map_err(english)? {
        ChainReport::Intact { checked, head } => (checked, head),
        ChainReport::Broken(b) => anyhow::bail!(describe(&b)),
    };
    match anchored.transpose().map_err(english)?.flatten() {
        Some(AnchorBreak::Truncated { anchored, at, head }) => anyhow::bail!(
            "audit log broken: it ends at #{head}, but #{anchored} was anchored at {} in {} (entries were removed from the end)",
            at.to_rfc3339(),
            path.display()
        ),
        Some(AnchorBreak::Rewritten { seq, at }) => anyhow::bail!(
            "audit log broken: entry #{seq} differs from its anchor of {} in {} (the tail was rewritten)",
            at.to_rfc3339(),
            path.display()
        ),
        None => {}
    }
    let anchors = match anchors {
        Some(list) => format!("{} anchors in {} agree", list.len(), path.display()),
        None => format!("no anchors file at {} (serve and `qipan audit anchor` write it)", path.display()),
    };
    println!("audit log intact: {checked} entries checked, chain head at #{head}; {anchors}");
    Ok(())
}

/// The anchors written so far, or `None` when there is no file.
fn read_anchors(path: &Path) -> anyhow::Result<Option<Vec<Anchor>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let anchors = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(Anchor::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Some(anchors))
}

/// Appends one anchor to the file (created when missing), synced to disk.
pub fn append_anchor(path: &Path, anchor: &Anchor) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    writeln!(file, "{}", anchor.line()).with_context(|| format!("writing {}", path.display()))?;
    file.sync_all().with_context(|| format!("syncing {}", path.display()))
}

/// `qipan audit anchor`: writes the chain's head out of the database now.
pub async fn anchor(global: &GlobalArgs) -> anyhow::Result<()> {
    let app = global.open_app().await?;
    let anchor = app.audit_anchor().await.map_err(|e| anyhow::anyhow!(super::english(&e)));
    app.store.close().await;
    let anchor = anchor?;
    let path = global.audit_anchors();
    append_anchor(&path, &anchor)?;
    println!("anchored the audit log at #{} in {}", anchor.seq, path.display());
    Ok(())
}

/// Writes entries older than `before` to `out` (JSON lines, one entry each with its hashes),
/// checking the chain as it goes, then removes them from the database. Refuses anything
/// younger than the retention, and a chain that does not verify.
pub async fn archive(global: &GlobalArgs, before: DateTime<Utc>, out: &Path) -> anyhow::Result<()> {
    let app = global.open_app_to_check().await?;
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
