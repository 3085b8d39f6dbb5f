//! `qipan migrate`: bring the schema up to date and exit.

use super::GlobalArgs;

pub async fn run(global: &GlobalArgs) -> anyhow::Result<()> {
    global.log_effective(&[]);
    let app = global.open_app().await?;
    println!("database {} is up to date ({})", global.database_url().redacted(), app.store.engine().as_str());
    app.store.close().await;
    Ok(())
}
