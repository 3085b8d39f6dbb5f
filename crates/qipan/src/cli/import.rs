//! `qipan import divisions PATH`.

use std::path::Path;

use anyhow::Context;

use super::GlobalArgs;
use crate::service::read_division_dir;

pub async fn divisions(global: &GlobalArgs, path: &Path) -> anyhow::Result<()> {
    global.log_effective(&[("path", path.display().to_string())]);
    let files = read_division_dir(path)?;
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let app = global.open_app().await?;
    let counts =
        app.import_divisions(&refs).await.with_context(|| format!("nothing was imported from {}", path.display()))?;
    println!(
        "divisions: {} read, {} inserted, {} renamed, {} unchanged",
        counts.read, counts.inserted, counts.renamed, counts.unchanged
    );
    app.store.close().await;
    Ok(())
}
