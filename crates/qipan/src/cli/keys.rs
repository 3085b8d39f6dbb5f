//! The data keys: loading them at start-up (creating the key file for a new installation) and
//! `qipan keys rotate`, which adds a key and re-seals every sealed value under it.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use store::seal::Keyring;

use super::{GlobalArgs, write_secret_file};

impl GlobalArgs {
    pub fn data_keys_file(&self) -> PathBuf {
        self.data_keys_file.clone().unwrap_or_else(|| self.data_dir.join("data.keys"))
    }

    /// Loads the data keys from QIPAN_DATA_KEYS or the key file and installs them. With
    /// `create` and no file, makes one with new keys; returns its path then, so that the caller
    /// can take it back if the database turns out to be sealed under other keys.
    pub(super) fn install_data_keys(&self, create: bool) -> anyhow::Result<Option<PathBuf>> {
        if let Ok(text) = std::env::var("QIPAN_DATA_KEYS") {
            let ring = Keyring::parse(&text).map_err(|e| anyhow::anyhow!("QIPAN_DATA_KEYS: {e}"))?;
            store::seal::install_keyring(ring);
            return Ok(None);
        }
        let path = self.data_keys_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let ring =
                    Keyring::parse(&text).map_err(|e| anyhow::anyhow!("{} (--data-keys-file): {e}", path.display()))?;
                store::seal::install_keyring(ring);
                Ok(None)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let ring = Keyring::generate();
                write_secret_file(&path, ring.to_text().trim_end())
                    .with_context(|| format!("creating {}", path.display()))?;
                tracing::warn!(
                    path = %path.display(),
                    "created new data keys: keep the file outside the database's backups, and back it up on its own"
                );
                store::seal::install_keyring(ring);
                Ok(Some(path))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
}

/// Replaces a key file: the new text goes to a temporary file beside it, reaches the disk, and
/// is renamed over the old one, so that a crash leaves either the old file or the new one.
fn replace_key_file(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("keys.new");
    let _ = std::fs::remove_file(&tmp);
    write_secret_file(&tmp, text.trim_end()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).ok();
    }
    Ok(())
}

/// `qipan keys rotate`: resumes an interrupted pass, or adds a key and re-seals everything under it.
pub async fn rotate(global: &GlobalArgs, batch: u32) -> anyhow::Result<()> {
    anyhow::ensure!(
        std::env::var_os("QIPAN_DATA_KEYS").is_none(),
        "rotation writes the new key to the key file: unset QIPAN_DATA_KEYS and name the file with --data-keys-file"
    );
    let path = global.data_keys_file();
    anyhow::ensure!(path.exists(), "no key file at {} (--data-keys-file)", path.display());
    let app = global.open_app_keeping_pass().await?;
    let now = app.clock.now();
    if app.store.seal_pass_pending().await? {
        let ring = store::seal::keyring()?;
        eprintln!("resuming the interrupted pass: re-sealing under key {}", ring.current_id());
    } else {
        let ring = store::seal::keyring()?.with_new_key();
        replace_key_file(&path, &ring.to_text())?;
        let id = ring.current_id().to_owned();
        let fingerprint = ring.fingerprint(&id).expect("the new key is in the ring");
        store::seal::install_keyring(ring);
        app.store.record_key(&id, &fingerprint, now).await?;
        app.store.begin_seal_pass().await?;
        eprintln!("added key {id} to {}; re-sealing every sealed value under it", path.display());
    }
    let resealed = run_pass(&app, batch).await?;
    let keys = app.store.recorded_keys().await?;
    let retired: Vec<&str> = keys.iter().filter(|k| k.retired_at.is_some()).map(|k| k.id.as_str()).collect();
    println!(
        "done: {resealed} values re-sealed under {}; no value is sealed under {} any more (keep them in the file \
         while a backup made before today may need restoring)",
        store::seal::keyring()?.current_id(),
        if retired.is_empty() { "an older key".to_owned() } else { retired.join(", ") }
    );
    app.store.close().await;
    Ok(())
}

/// Runs the pending pass with a progress bar on a terminal, or a line per tenth otherwise.
pub(super) async fn run_pass(app: &crate::service::App, batch: u32) -> anyhow::Result<u64> {
    let terminal = std::io::stderr().is_terminal();
    let mut last_tenth = None;
    let resealed = app
        .store
        .run_seal_pass(batch, app.clock.now(), &mut |p| {
            let share = if p.total == 0 { 1.0 } else { p.done as f64 / p.total as f64 };
            let mut err = std::io::stderr().lock();
            if terminal {
                let filled = (share * 30.0).round() as usize;
                let _ = write!(
                    err,
                    "\r{:<16} [{}{}] {}/{}",
                    p.table,
                    "#".repeat(filled),
                    " ".repeat(30 - filled.min(30)),
                    p.done,
                    p.total
                );
                if p.done == p.total {
                    let _ = writeln!(err);
                }
            } else {
                let tenth = ((share * 10.0).floor() as u64, p.table);
                if last_tenth != Some(tenth) {
                    last_tenth = Some(tenth);
                    let _ = writeln!(err, "sealing {}: {}/{}", p.table, p.done, p.total);
                }
            }
        })
        .await?;
    Ok(resealed)
}
