//! `qipan demo`: serve with the demo jurisdiction, loading it on the first run only.

use super::{GlobalArgs, ServeArgs};
use crate::demo::DemoData;

pub async fn run(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<()> {
    global.log_effective(&[("addr", args.addr.to_string())]);
    let app = global.open_app().await?;
    match app.ensure_demo_data().await? {
        DemoData::Loaded(c) => println!(
            "demo data loaded: {} divisions ({} new) — 滨州市滨城区 and four origin counties",
            c.read, c.inserted
        ),
        DemoData::AlreadyLoaded(at) => println!("demo data already loaded at {at}; reusing it"),
    }
    println!("database: {}", global.database_url().redacted());
    println!("demo logins: none are needed yet — the organisation browser is open to all;");
    println!("             accounts, roles and the login page arrive with the accounts issue (#3)");
    super::serve::serve(app, args).await
}
