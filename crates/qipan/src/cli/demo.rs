//! `qipan demo`: serve with the demo jurisdiction, loading it on the first run only.

use super::{GlobalArgs, ServeArgs};
use crate::demo::{DEMO_ACCOUNTS, DEMO_PASSWORD, DemoData};

pub async fn run(global: &GlobalArgs, args: &ServeArgs, people: u32, seed: u64) -> anyhow::Result<()> {
    global.log_effective(&[("addr", args.addr.to_string())]);
    let app = global.open_app().await?;
    let loaded = app.ensure_demo_data_with(people, seed).await.map_err(|e| anyhow::anyhow!(super::english(&e)))?;
    let token = match loaded {
        DemoData::Loaded { divisions, people, token } => {
            println!(
                "demo data loaded: {} divisions ({} new) — 滨州市滨城区 and four origin counties — and {people} people",
                divisions.read, divisions.inserted
            );
            Some(token)
        }
        DemoData::AlreadyLoaded(at) => {
            println!("demo data already loaded at {at}; reusing it");
            None
        }
    };
    println!("database: {}", global.database_url().redacted());
    println!("demo logins (password for all: {DEMO_PASSWORD}):");
    for (username, name, role, unit) in DEMO_ACCOUNTS {
        println!("  {username:<11} {role:<17} unit {unit:<13} {name}");
    }
    match token {
        Some(t) => println!("department API token (滨城区公安分局, shown once): {t}"),
        None => println!("department API token: shown at the first start only; secadmin can issue a new one"),
    }
    super::serve::serve(app, args, global).await
}
