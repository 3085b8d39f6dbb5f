//! `qipan bench`: measures the record paths on a fresh database and prints a table. Targets
//! live here, never in timed tests (DESIGN §14): the machines are shared and noisy, so each
//! figure is given with the baseline measured in the same run where one exists.

use std::time::{Duration, Instant};

use domain::OrgCode;
use store::{DatabaseUrl, Page, PersonFilter, PersonSort};

use super::GlobalArgs;
use crate::service::reports::{Purpose, ReportRequest};
use crate::service::{Actor, App};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(super) fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Times `runs` calls of `f`, returning p50 and p99.
pub(super) async fn time<F, Fut>(runs: usize, mut f: F) -> anyhow::Result<(Duration, Duration)>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs {
        let start = Instant::now();
        f(i).await?;
        samples.push(start.elapsed());
    }
    samples.sort();
    Ok((percentile(&samples, 0.5), percentile(&samples, 0.99)))
}

/// What the bench loads before it measures: `people` generated from `seed`.
pub struct Load {
    pub people: u32,
    pub seed: u64,
}

pub async fn run(global: &GlobalArgs, load: Load, runs: usize, quick: bool) -> anyhow::Result<()> {
    let Load { people, seed } = load;
    // A database of its own: a fresh SQLite file unless DATABASE_URL names one to use.
    let dir = tempfile::tempdir()?;
    let url = global.database_url.clone().unwrap_or_else(|| DatabaseUrl::sqlite_in(dir.path()));
    if global.database_url.is_some() {
        global.install_data_keys(true)?;
    } else {
        store::seal::install_keyring(store::seal::Keyring::generate());
    }
    let app = App::open(&url, global.clock()).await?;
    let english = |e: crate::service::ServiceError| anyhow::anyhow!(super::english(&e));
    app.ensure_demo_data().await.map_err(english)?;
    let mut rows: Vec<(String, String, String)> = Vec::new();

    // The floor: the same people, generated the same way (not timed), written as they come
    // into a scratch table with no index, by the engine's fastest plain path.
    let mut raw = Duration::ZERO;
    for batch in crate::demo_people::demo_batches(people, seed, app.clock.today()) {
        let start = Instant::now();
        app.store.raw_load(&batch).await?;
        raw += start.elapsed();
    }
    app.store.drop_raw_load().await?;
    let raw_rate = f64::from(people) / raw.as_secs_f64();
    rows.push((
        "raw load of the same rows (no index, nothing sealed; baseline)".into(),
        format!("{people} rows in {:.2} s", raw.as_secs_f64()),
        format!("{raw_rate:.0} rows/s"),
    ));
    let start = Instant::now();
    app.generate_demo_people(people, seed).await.map_err(english)?;
    let load = start.elapsed();
    let rate = f64::from(people) / load.as_secs_f64();
    let path = match app.store.engine() {
        store::Engine::Sqlite => "multi-row INSERT",
        store::Engine::Postgres => "COPY",
    };
    rows.push((
        format!("bulk load (generator → {path}, indexes, history, name index, quality queue)"),
        format!("{people} people in {:.2} s", load.as_secs_f64()),
        format!("{rate:.0} records/s ({:.0}% of raw)", 100.0 * rate / raw_rate),
    ));

    let console = Actor::console(OrgCode::parse("00").expect("static code"));
    let sample = app.store.persons_after(&PersonFilter::default(), 0, runs as u32).await?;
    let ids: Vec<String> = sample.iter().filter_map(|p| p.id_number.clone()).collect();
    let names: Vec<String> = sample.iter().map(|p| p.name.clone()).collect();
    anyhow::ensure!(!ids.is_empty(), "no people to measure with: use --people");

    // The baseline: a primary-key read of one row, the cheapest query there is.
    let (p50, p99) = time(runs, |i| {
        let (app, id) = (&app, sample[i % sample.len()].id);
        async move { app.store.person(id).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    let baseline = p50;
    rows.push(("baseline: one record by primary key".into(), ms(p50), ms(p99)));

    let scope = Some(OrgCode::parse("371602").expect("static code").path().subtree_range());
    let (p50, p99) = time(runs, |i| {
        let (app, id, scope) = (&app, ids[i % ids.len()].clone(), scope.clone());
        async move { app.store.persons_with_id_number(&id, scope.as_ref()).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    rows.push((
        "exact ID number lookup (sealed: blind index, rows opened)".into(),
        ms(p50),
        format!("{} (×{:.1} baseline p50)", ms(p99), p50.as_secs_f64() / baseline.as_secs_f64()),
    ));
    // The same lookup without the cost of sealing: the index value computed beforehand and the
    // rows returned as stored — what an unencrypted ID-number column would cost.
    let indexes: Vec<String> = ids.iter().map(|id| store::seal::id_index(id)).collect::<Result<_, _>>()?;
    let (p50, p99) = time(runs, |i| {
        let (app, index, scope) = (&app, indexes[i % indexes.len()].clone(), scope.clone());
        async move {
            app.store.persons_with_id_index_as_stored(&index, scope.as_ref()).await.map(|_| ()).map_err(Into::into)
        }
    })
    .await?;
    rows.push((
        "exact ID number lookup without sealing (same query, nothing opened)".into(),
        ms(p50),
        format!("{} (×{:.1} baseline p50)", ms(p99), p50.as_secs_f64() / baseline.as_secs_f64()),
    ));

    // A full name, in name order and in the list's default order (newest move first).
    for (sort, what) in [(PersonSort::Name, ""), (PersonSort::NewestMove, " by newest move")] {
        let (p50, p99) = time(runs, |i| {
            let (app, name, scope) = (&app, names[i % names.len()].clone(), scope.clone());
            async move {
                let filter = PersonFilter { managing: scope, text: Some(name), ..Default::default() };
                app.store
                    .search_persons(&filter, sort, Page { number: 1, size: 50 })
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            }
        })
        .await?;
        rows.push((
            format!("name search{what}, first page of 50"),
            ms(p50),
            format!("{} (×{:.1} baseline p50)", ms(p99), p50.as_secs_f64() / baseline.as_secs_f64()),
        ));
    }

    // The county's list with no text: most of the subtree matches, so the page walks the sort
    // order's index and the count stops at its cap.
    for (sort, what) in [(PersonSort::NewestMove, "newest move"), (PersonSort::Name, "name")] {
        let (p50, p99) = time(runs, |i| {
            let (app, scope) = (&app, scope.clone());
            async move {
                let filter = PersonFilter { managing: scope, ..Default::default() };
                let page = Page { number: 1 + (i % 3) as u32, size: 50 };
                app.store.search_persons(&filter, sort, page).await.map(|_| ()).map_err(Into::into)
            }
        })
        .await?;
        rows.push((
            format!("county list by {what}, pages 1–3 of 50"),
            ms(p50),
            format!("{} (×{:.1} baseline p50)", ms(p99), p50.as_secs_f64() / baseline.as_secs_f64()),
        ));
    }
    // One surname character: the most frequent token of the index, the worst phrase — in the
    // list's default order (newest move) and in name order.
    for (sort, what) in [(PersonSort::NewestMove, "newest move"), (PersonSort::Name, "name")] {
        let (p50, p99) = time(runs.clamp(1, 20), |_| {
            let (app, scope) = (&app, scope.clone());
            async move {
                let filter = PersonFilter { managing: scope, text: Some("李".to_owned()), ..Default::default() };
                app.store
                    .search_persons(&filter, sort, Page { number: 1, size: 50 })
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            }
        })
        .await?;
        rows.push((
            format!("search of one common surname (李) by {what}, first page of 50"),
            ms(p50),
            format!("{} (×{:.1} baseline p50)", ms(p99), p50.as_secs_f64() / baseline.as_secs_f64()),
        ));
    }
    if !quick {
        long_paths(&app, &console, &scope, baseline, runs, &mut rows).await?;
    }
    // The worklist part is long at a million: what is measured so far goes to stderr first.
    for (what, a, b) in &rows {
        eprintln!("measured: {what}: {a} | {b}");
    }
    // The clerk's day of a township and a county (DESIGN §14: p99 < 20 ms at 1 million).
    rows.extend(super::bench_worklist::rows(&app, runs).await?);
    app.store.close().await;
    print_table(&url, people, runs, rows);
    Ok(())
}

/// The export, the data-quality check and page, and the reports: the long parts of a run at
/// 10M records, which `--quick` leaves out.
async fn long_paths(
    app: &App,
    console: &Actor,
    scope: &Option<(String, String)>,
    baseline: Duration,
    runs: usize,
    rows: &mut Vec<(String, String, String)>,
) -> anyhow::Result<()> {
    let english = |e: crate::service::ServiceError| anyhow::anyhow!(super::english(&e));
    let start = Instant::now();
    let filter = PersonFilter { managing: scope.clone(), include_ended: true, ..Default::default() };
    let (mut after, mut streamed) = (0i64, 0u64);
    loop {
        let batch = app.person_batch(&filter, domain::privacy::Disclosure::Full, after, 2000).await.map_err(english)?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        streamed += batch.len() as u64;
    }
    let took = start.elapsed();
    rows.push((
        "export read path (batches of 2,000)".into(),
        format!("{streamed} rows in {:.2} s", took.as_secs_f64()),
        format!("{:.0} rows/s", streamed as f64 / took.as_secs_f64()),
    ));

    // The data-quality findings: every record loaded above waits in the queue, so the first
    // refresh checks the whole database (what the nightly re-check costs); then the page's read
    // of a county's and the province's findings, against the target of p99 < 50 ms.
    let start = Instant::now();
    let checked = app.refresh_quality(u64::MAX).await.map_err(english)?;
    let took = start.elapsed();
    // The page is measured as it reads some time after the check, statistics caught up.
    app.store.settle(&["quality_findings", "quality_counts", "quality_dirty"]).await?;
    rows.push((
        "data-quality check of every record (nightly, in the background)".into(),
        format!("{checked} records in {:.2} s", took.as_secs_f64()),
        format!("{:.0} records/s", checked as f64 / took.as_secs_f64()),
    ));
    for (unit, what) in [("371602", "county 371602"), ("37", "province 37")] {
        let unit = OrgCode::parse(unit).expect("static code");
        let (p50, p99) = time(runs, |_| {
            let (app, console, unit) = (&app, &console, &unit);
            async move { app.quality_report(console, Some(unit), None, 500).await.map(|_| ()).map_err(english) }
        })
        .await?;
        rows.push((
            format!("data-quality page of the {what} (counts and first 500 findings)"),
            ms(p50),
            format!("{} (p99, ×{:.1} baseline p50)", ms(p99), p50.as_secs_f64() / baseline.as_secs_f64()),
        ));
    }
    // The monthly report of a subtree: the inflow table of the previous month, first grouped
    // from the records (a month not kept), then read from the kept roll-ups once the nightly
    // job has built the month. The first read of a month past its deadline also freezes it.
    let month = app.default_report_month().to_string();
    let reports = [("371602", "county 371602"), ("37", "province 37")];
    let report_times = async |how: &str, rows: &mut Vec<(String, String, String)>| -> anyhow::Result<()> {
        for (unit, what) in reports {
            let request =
                ReportRequest { table: "inflow", unit: Some(unit), period: Some(&month), from: None, to: None };
            let (p50, p99) = time(if how == "kept" { runs } else { runs.clamp(1, 5) }, |_| {
                let (app, console, request) = (&app, &console, request);
                async move { app.report(console, &request, Purpose::View).await.map(|_| ()).map_err(english) }
            })
            .await?;
            rows.push((
                format!("monthly report {month} (inflow table), {what}, {how}"),
                ms(p50),
                format!("{} (p99, ×{:.1} baseline p50)", ms(p99), p50.as_secs_f64() / baseline.as_secs_f64()),
            ));
        }
        Ok(())
    };
    report_times("grouped from the records", rows).await?;
    // What the load queued: no month is kept yet, so this only empties the queue.
    app.refresh_rollups(u64::MAX).await.map_err(english)?;
    let start = Instant::now();
    let built = app.build_rollup_month(&month).await.map_err(english)?;
    let took = start.elapsed();
    rows.push((
        format!("report roll-ups of {month} built from every record (nightly, once a month)"),
        format!("{} rows in {:.2} s", built.written, took.as_secs_f64()),
        format!("×{} for the months kept", crate::service::rollups::ROLLUP_MONTHS),
    ));
    report_times("kept", rows).await?;
    // What a write costs the roll-ups: its unit's own records grouped again for every kept
    // month (one here; the nightly job keeps four), the difference moved up.
    let village = app.store.units_with_records().await.map_err(|e| english(e.into()))?.into_iter().next();
    if let Some(village) = village.and_then(|v| OrgCode::parse(&v).ok()) {
        let path = village.path();
        let (p50, p99) = time(runs, |_| {
            let (app, path) = (&app, &path);
            async move {
                app.store.queue_rollup_unit(path.as_str()).await.map_err(|e| english(e.into()))?;
                app.refresh_rollups(1).await.map(|_| ()).map_err(english)
            }
        })
        .await?;
        rows.push((
            format!("a village's roll-ups grouped again after a write ({village}, 1 month kept)"),
            ms(p50),
            format!("{} (p99)", ms(p99)),
        ));
    }
    Ok(())
}

fn print_table(url: &DatabaseUrl, people: u32, runs: usize, rows: Vec<(String, String, String)>) {
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(10);
    println!(
        "qipan bench — {} on {}, {people} people, {runs} runs per latency",
        env!("CARGO_PKG_VERSION"),
        url.redacted()
    );
    for (what, a, b) in rows {
        println!("{what:<width$}  {a:>26}  {b}");
    }
}
