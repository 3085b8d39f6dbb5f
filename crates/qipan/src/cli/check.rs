//! `qipan check`: the data-quality scan from the console.

use domain::OrgCode;

use super::GlobalArgs;
use crate::i18n::Locale;
use crate::service::Actor;

pub async fn run(global: &GlobalArgs, unit: Option<&str>, limit: usize) -> anyhow::Result<()> {
    let unit = unit.map(|u| OrgCode::parse(u).map_err(|e| anyhow::anyhow!("--unit `{u}`: {e}"))).transpose()?;
    let app = global.open_app().await?;
    let console = Actor::console(OrgCode::parse("00").expect("static code"));
    let report = app.scan_quality(&console, unit.as_ref()).await.map_err(|e| anyhow::anyhow!(super::english(&e)))?;
    app.store.close().await;
    let t = Locale::En.messages();
    println!("{} records checked, {} findings", report.scanned, report.findings.len());
    for (rule, n) in &report.per_rule {
        println!("  {n:>8}  {}", t.get(rule));
    }
    for f in report.findings.iter().take(limit) {
        let detail = if f.detail.starts_with("rule.") { t.get(&f.detail).to_owned() } else { f.detail.clone() };
        println!("{}\tperson {}\t{}\t{}\tfix: {} {}", t.get(f.rule), f.person_id, f.name, detail, f.unit, f.unit_name);
    }
    Ok(())
}
