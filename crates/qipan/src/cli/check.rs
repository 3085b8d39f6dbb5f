//! `qipan check`: the data-quality findings from the console, after checking every record
//! still waiting in the queue.

use domain::OrgCode;

use super::GlobalArgs;
use crate::i18n::Locale;
use crate::service::Actor;

pub async fn run(global: &GlobalArgs, unit: Option<&str>, limit: usize) -> anyhow::Result<()> {
    let unit = unit.map(|u| OrgCode::parse(u).map_err(|e| anyhow::anyhow!("--unit `{u}`: {e}"))).transpose()?;
    let app = global.open_app().await?;
    let english = |e: crate::service::ServiceError| anyhow::anyhow!(super::english(&e));
    let console = Actor::console(OrgCode::parse("00").expect("static code"));
    let checked = app.refresh_quality(u64::MAX).await.map_err(english)?;
    let shown = u32::try_from(limit).unwrap_or(u32::MAX);
    let report = app.quality_report(&console, unit.as_ref(), None, shown).await.map_err(english)?;
    app.store.close().await;
    let t = Locale::En.messages();
    println!("{} findings ({checked} records checked now)", report.total);
    for (rule, n) in &report.per_rule {
        println!("  {n:>8}  {}", t.get(rule));
    }
    for f in &report.findings {
        let detail = if f.detail.starts_with("rule.") { t.get(&f.detail).to_owned() } else { f.detail.clone() };
        println!("{}\tperson {}\t{}\t{}\tfix: {} {}", t.get(f.rule), f.person_id, f.name, detail, f.unit, f.unit_name);
    }
    Ok(())
}
