//! The clerk's day in `qipan bench`: the worklist of a township and of a county over the
//! generated population, after a share of the women get pregnancies, births, checks and
//! certificates running out (the demo generator makes records without sections).

use std::time::Instant;

use domain::OrgCode;

use crate::service::{Actor, App, Via};

/// An actor of a demo role at a unit, as the service would see it after signing in.
fn actor(role: domain::authz::Role, unit: &str) -> Actor {
    let mut a = Actor::console(OrgCode::parse(unit).expect("static code"));
    a.roles = vec![role];
    a.name = format!("bench-{}", role.as_str());
    a.via = Via::Session { csrf: String::new() };
    a
}

/// Rows for the bench table: (path, p50 or total, p99 or rate).
pub async fn rows(app: &App, runs: usize) -> anyhow::Result<Vec<(String, String, String)>> {
    let english = |e: crate::service::ServiceError| anyhow::anyhow!(super::english(&e));
    let start = Instant::now();
    let added = app.store.seed_bench_sections(app.clock.today(), app.clock.now()).await?;
    let mut out = vec![(
        "worklist data: sections for a share of the women".to_owned(),
        format!("{added} entries in {:.2} s", start.elapsed().as_secs_f64()),
        String::new(),
    )];
    // The sections' triggers queued their persons: deriving their tasks is the cost of the
    // first drain after a load like this one (and of the nightly repair).
    let start = Instant::now();
    let derived = app.refresh_tasks(u64::MAX).await.map_err(english)?;
    let took = start.elapsed();
    out.push((
        "worklist tasks derived for the persons with work".to_owned(),
        format!("{} persons, {} tasks in {:.2} s", derived.checked, derived.written, took.as_secs_f64()),
        format!("{:.0} persons/s", derived.checked as f64 / took.as_secs_f64()),
    ));
    // Measured as a day some time after such a load: statistics and visibility caught up.
    app.store.settle(&["person_tasks", "task_dirty"]).await?;
    let township = actor(domain::authz::Role::TownshipOfficer, "371602001");
    let county = actor(domain::authz::Role::CountyOperator, "371602");
    for (label, who) in [("township 371602001", &township), ("county 371602", &county)] {
        let first = app.worklist(who).await.map_err(english)?;
        let (p50, p99) = super::bench::time(runs, |_| {
            let (app, who) = (app, who);
            async move { app.worklist(who).await.map(|_| ()).map_err(|e| anyhow::anyhow!(super::english(&e))) }
        })
        .await?;
        out.push((
            format!("worklist of a {label} ({} tasks shown)", first.tasks.len()),
            super::bench::ms(p50),
            super::bench::ms(p99),
        ));
    }
    Ok(out)
}
