//! The clerk's day kept as tasks per person (migration 26): after any history of registrations,
//! sections, moves and ends over weeks of days, with the derivation run at random moments in
//! between, the tasks kept are the tasks a full derivation of every person gives, on every day;
//! the active records kept per unit (migration 27) are those a count finds; and the report
//! roll-ups kept per unit and month (migration 29) are the rows the live report groups.

use std::collections::BTreeMap;

use domain::record::PersonInput;
use domain::sections::Section;
use qipan::service::{Actor, App};

use crate::helpers::{at, demo_app};

/// A small deterministic generator: the same "random" history on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const VILLAGES: [&str; 3] = ["371602001001", "371602001002", "371602002001"];

/// The `i`-th woman of the history: a birthday of her own, moved in on `moved_on`.
fn woman(i: usize, moved_on: &str, village: &str) -> PersonInput {
    let name = ["陈静", "李娜", "王芳", "张敏", "刘洋", "赵丽", "孙悦", "周婷", "吴霞", "郑雪"][i % 10];
    let mut p = crate::worklist::woman(&format!("1990{:02}{:02}", 1 + i % 12, 1 + i % 28), name, village);
    p.moved_on = moved_on.into();
    p
}

/// Every task showing on the app's day in the county, as kept: `(key, detail, due, unit)`.
async fn showing(app: &App) -> Vec<(String, String, String, String)> {
    let (low, high) = domain::OrgCode::parse("371602").unwrap().path().subtree_range();
    let mut rows: Vec<_> = app
        .store
        .tasks_showing(&low, &high, app.clock.today(), 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.task_key, format!("{}={}", r.detail_key, r.detail), r.due_on.to_string(), r.managing_unit))
        .collect();
    rows.sort();
    rows
}

/// Every kept month's grouped rows of every unit holding roll-ups, read from the roll-ups and
/// grouped from the records, in each shape a report asks for; returns the rows compared.
async fn compare_rollups(app: &App, context: &str) -> usize {
    use domain::report::Flow;
    use store::reports::{GroupKey, GroupQuery};
    let normal = |rows: Vec<(GroupKey, i64)>| -> BTreeMap<GroupKey, i64> {
        let mut out = BTreeMap::new();
        for (k, n) in rows {
            *out.entry(k).or_insert(0) += n;
        }
        out.retain(|_, n| *n != 0);
        out
    };
    let mut compared = 0;
    for month in app.store.rollup_months().await.unwrap() {
        if month.state != "ready" {
            continue;
        }
        let (from, to) = store::rollups::month_days(&month.month).unwrap();
        for holder in app.store.rollup_holders(&month.month).await.unwrap() {
            let code = holder.trim_end_matches('/').rsplit('/').next().unwrap().to_owned();
            let unit = app.store.org_unit(&domain::OrgCode::parse(&code).unwrap()).await.unwrap().unwrap();
            let child_len = match unit.level {
                domain::OrgLevel::Province => 4,
                domain::OrgLevel::City => 6,
                domain::OrgLevel::County => 9,
                domain::OrgLevel::Township => 12,
                _ => 0,
            };
            for (by_child, details, flow) in [
                (true, false, None),
                (false, true, Some(Flow::In)),
                (false, true, Some(Flow::Out)),
                (false, false, None),
            ] {
                let q = GroupQuery {
                    range: unit.code.path().subtree_range(),
                    root: code.clone(),
                    child_len,
                    by_child,
                    by_leaf: false,
                    narrow: false,
                    details,
                    flow,
                    from,
                    to,
                };
                let live = normal(app.store.report_group_rows(&q).await.unwrap());
                let kept = app.store.rollup_group_rows(&holder, &month.month, by_child, details, flow).await.unwrap();
                let kept = normal(kept.expect("a kept month with nothing waiting is read from its roll-ups"));
                assert_eq!(
                    kept, live,
                    "{context}: roll-ups of {holder} for {} ({by_child}, {details}, {flow:?})",
                    month.month
                );
                compared += live.len();
            }
        }
    }
    compared
}

#[tokio::test]
async fn kept_state_equals_a_full_derivation_after_any_history() {
    let (app, _db) = demo_app().await;
    let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let mut rng = Lcg(20261203);
    let mut day = start;
    let on = |day: chrono::NaiveDate| at(&app, &format!("{day}T09:00:00+08:00"));
    let county: Actor = app.login("county", qipan::demo::DEMO_PASSWORD, None).await.unwrap().actor;
    let mut people: Vec<(i64, PersonInput)> = Vec::new();
    let mut checked = 0;
    let mut rolled = 0;
    let mut services = Lcg(7);
    let mut ended = std::collections::BTreeSet::new();
    on(start).build_rollups(false).await.unwrap();
    for step in 0..160 {
        day += chrono::Duration::days(rng.below(4) as i64);
        let now = on(day);
        let back = |days: u64| (day - chrono::Duration::days(days as i64)).to_string();
        let choice = if people.len() < 4 { 0 } else { rng.below(12) };
        let k = if people.is_empty() { 0 } else { rng.below(people.len() as u64) as usize };
        if choice > 0 && ended.contains(&k) {
            continue;
        }
        let entry = |pairs: &[(&str, String)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(f, v)| ((*f).to_owned(), v.clone())).collect()
        };
        let result = match choice {
            // A registration, late (moved weeks ago) or on time.
            0 => {
                let i = people.len();
                let input = woman(i, &back(if rng.below(2) == 0 { 40 } else { 1 }), VILLAGES[i % 3]);
                match now.register_person(&county, &input).await {
                    Ok(id) => {
                        people.push((id, input));
                        Ok(())
                    }
                    Err(e) => Err(format!("{e:?}")),
                }
            }
            1 | 2 => {
                let detected = back(rng.below(50));
                let mut e = vec![("detected_on", detected)];
                if rng.below(3) > 0 {
                    e.push(("expected_on", (day + chrono::Duration::days(20 + rng.below(200) as i64)).to_string()));
                }
                if rng.below(4) == 0 {
                    e.push(("outcome", "birth".to_owned()));
                    e.push(("ended_on", back(0)));
                }
                now.add_entry(&county, people[k].0, Section::Pregnancies, &entry(&e))
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
            }
            3 => {
                let e =
                    entry(&[("name", "新生儿".into()), ("gender", "1".into()), ("birth_date", back(rng.below(70)))]);
                now.add_entry(&county, people[k].0, Section::Children, &e)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
            }
            4..=6 => {
                let kind = ["prenatal", "postnatal", "pregnancy"][rng.below(3) as usize];
                let e = entry(&[("kind", kind.into()), ("done_on", back(rng.below(10)))]);
                now.add_entry(&county, people[k].0, Section::Checks, &e).await.map(|_| ()).map_err(|e| format!("{e:?}"))
            }
            7 | 8 => {
                let until = day + chrono::Duration::days(rng.below(90) as i64) - chrono::Duration::days(30);
                let e = entry(&[
                    ("number", format!("证-{step}")),
                    ("issuer", "平昌县卫健局".into()),
                    ("issued_on", back(700)),
                    ("valid_until", until.to_string()),
                ]);
                now.add_entry(&county, people[k].0, Section::Certificates, &e)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
            }
            9 | 10 => {
                // A move to another village: the work goes with the record.
                let (id, input) = &mut people[k];
                let village = VILLAGES[rng.below(3) as usize];
                input.managing_unit = village.into();
                input.residence_area = village.into();
                let version = now.view_person(&county, *id).await.unwrap().person.version;
                now.edit_person(&county, *id, Some(version), input).await.map(|_| ()).map_err(|e| format!("{e:?}"))
            }
            _ => {
                ended.insert(k);
                let id = people[k].0;
                let version = now.view_person(&county, id).await.unwrap().person.version;
                now.end_person(&county, id, version, "moved_on", &back(0), "").await.map_err(|e| format!("{e:?}"))
            }
        };
        result.unwrap_or_else(|e| panic!("step {step}: {e}"));
        // Now and then a contraceptive service (a report's facts), from a generator of its own.
        if step % 7 == 3 && !ended.contains(&k) {
            let method = ["03", "06"][services.below(2) as usize];
            let e = entry(&[
                ("kind", "contraception".into()),
                ("method", method.into()),
                ("started_on", back(services.below(40))),
            ]);
            now.add_entry(&county, people[k].0, Section::Services, &e).await.unwrap();
        }
        // The derivation runs at random moments, a few persons at a time.
        if rng.below(3) == 0 {
            now.refresh_tasks(rng.below(3)).await.unwrap();
        }
        // So do the roll-ups' (a unit or two at a time) and, now and then, the nightly build.
        if rng.below(3) == 0 {
            now.refresh_rollups(rng.below(3)).await.unwrap();
        }
        if rng.below(15) == 0 {
            now.build_rollups(false).await.unwrap();
        }
        if step % 20 == 19 {
            // The day as a clerk reads it (what waits is derived first) ...
            now.worklist(&county).await.unwrap();
            let kept = showing(&now).await;
            // ... and after every person is derived again from all their facts.
            let repair = now.repair_tasks(true).await.unwrap();
            assert_eq!(repair.differed, 0, "step {step} ({day}): the nightly repair had to change tasks");
            assert_eq!(kept, showing(&now).await, "step {step} ({day}): kept tasks differ from a full derivation");
            checked += kept.len();
            // The active records per unit, as kept by the triggers, against a count of them.
            let sql = "SELECT managing_path, COUNT(*) FROM persons WHERE status = 'active' GROUP BY managing_path";
            let counted: Vec<(String, i64)> = match &now.store {
                store::Store::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
                store::Store::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
            }
            .unwrap();
            let counted: Vec<(String, u64)> = counted.into_iter().map(|(p, n)| (p, n as u64)).collect();
            let mut kept_counts = now.store.active_records_by_path("", "\u{10FFFF}").await.unwrap();
            kept_counts.sort();
            let mut counted = counted;
            counted.sort();
            assert_eq!(kept_counts, counted, "step {step}: the kept active records per unit");
            // The report roll-ups, once what the writes queued is grouped again.
            now.refresh_rollups(u64::MAX).await.unwrap();
            rolled += compare_rollups(&now, &format!("step {step} ({day})")).await;
            let rebuilt = now.build_rollups(true).await.unwrap();
            assert_eq!(rebuilt.differed, 0, "step {step} ({day}): the months built again differ from those kept");
        }
    }
    assert!(checked > 40, "the history made work to compare: {checked} tasks");
    eprintln!("compared {checked} tasks, {rolled} report rows");
    assert!(rolled > 1000, "the history made report rows to compare: {rolled}");
}

#[tokio::test]
async fn a_derivation_running_while_a_write_is_uncommitted_waits_for_it() {
    let (app, _db) = demo_app().await;
    let now = at(&app, "2026-03-24T09:00:00+08:00");
    let county: Actor = now.login("county", qipan::demo::DEMO_PASSWORD, None).await.unwrap().actor;
    now.refresh_tasks(u64::MAX).await.unwrap();
    let id = now.register_person(&county, &woman(3, "2026-03-20", VILLAGES[0])).await.unwrap();
    let pregnancy: BTreeMap<String, String> = [("detected_on".to_owned(), "2026-03-01".to_owned())].into();
    now.add_entry(&county, id, Section::Pregnancies, &pregnancy).await.unwrap();
    // She waits in the queue. A prenatal check is written and not yet committed when a
    // derivation starts; the derivation must see it (next visit 03-20 + 28 = 04-17), not derive
    // her from the pregnancy alone (03-29) and take her off the queue for good.
    let insert = "INSERT INTO person_checks (person_id, kind, done_on, created_at, created_by) \
                  VALUES ($1, 'prenatal', $2, $3, 'test')";
    let done_on = chrono::NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
    let key = match &now.store {
        store::Store::Sqlite(pool) => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query(insert).bind(id).bind(done_on).bind(now.clock.now()).execute(&mut *tx).await.unwrap();
            let derivation = tokio::spawn({
                let now = now.clone();
                async move { now.refresh_tasks(u64::MAX).await.unwrap() }
            });
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            tx.commit().await.unwrap();
            derivation.await.unwrap();
            prenatal_key(&now, id).await
        }
        store::Store::Postgres(pool) => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query(insert).bind(id).bind(done_on).bind(now.clock.now()).execute(&mut *tx).await.unwrap();
            let derivation = tokio::spawn({
                let now = now.clone();
                async move { now.refresh_tasks(u64::MAX).await.unwrap() }
            });
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            tx.commit().await.unwrap();
            derivation.await.unwrap();
            prenatal_key(&now, id).await
        }
    };
    assert_eq!(key, format!("prenatal:{id}:2026-04-17"), "the derivation saw the committed check");
    now.refresh_tasks(u64::MAX).await.unwrap();
    assert_eq!(prenatal_key(&now, id).await, format!("prenatal:{id}:2026-04-17"), "after draining what is left");
}

/// The key of the person's prenatal visit as kept.
async fn prenatal_key(app: &App, id: i64) -> String {
    let sql = "SELECT task_key FROM person_tasks WHERE person_id = $1 AND category = 'prenatal_visit'";
    match &app.store {
        store::Store::Sqlite(pool) => sqlx::query_scalar(sql).bind(id).fetch_one(pool).await,
        store::Store::Postgres(pool) => sqlx::query_scalar(sql).bind(id).fetch_one(pool).await,
    }
    .unwrap()
}

#[tokio::test]
async fn a_roll_up_refresh_running_while_a_write_is_uncommitted_waits_for_it() {
    let (app, _db) = demo_app().await;
    let now = at(&app, "2026-03-24T09:00:00+08:00");
    let county: Actor = now.login("county", qipan::demo::DEMO_PASSWORD, None).await.unwrap().actor;
    now.build_rollups(false).await.unwrap();
    // Her village is queued (committed) before the write below begins.
    let id = now.register_person(&county, &woman(3, "2026-03-20", VILLAGES[0])).await.unwrap();
    // A contraceptive service is written and not yet committed when a refresh starts; the
    // refresh must see it, not group the village without it and take it off the queue for good.
    let insert = "INSERT INTO person_services (person_id, kind, method, started_on, created_at, created_by) \
                  VALUES ($1, 'contraception', '03', $2, $3, 'test')";
    let started = chrono::NaiveDate::from_ymd_opt(2026, 3, 21).unwrap();
    match &now.store {
        store::Store::Sqlite(pool) => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query(insert).bind(id).bind(started).bind(now.clock.now()).execute(&mut *tx).await.unwrap();
            let refresh = tokio::spawn({
                let now = now.clone();
                async move { now.refresh_rollups(u64::MAX).await.unwrap() }
            });
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            tx.commit().await.unwrap();
            refresh.await.unwrap();
        }
        store::Store::Postgres(pool) => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query(insert).bind(id).bind(started).bind(now.clock.now()).execute(&mut *tx).await.unwrap();
            let refresh = tokio::spawn({
                let now = now.clone();
                async move { now.refresh_rollups(u64::MAX).await.unwrap() }
            });
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            tx.commit().await.unwrap();
            refresh.await.unwrap();
        }
    }
    now.refresh_rollups(u64::MAX).await.unwrap();
    assert!(compare_rollups(&now, "after the write").await > 0);
}

#[tokio::test]
async fn an_older_build_of_a_month_never_finishes_over_a_newer_one() {
    let (app, _db) = demo_app().await;
    let now = at(&app, "2026-03-24T09:00:00+08:00");
    let county: Actor = now.login("county", qipan::demo::DEMO_PASSWORD, None).await.unwrap().actor;
    // A first build reads the records; a registration follows; a second build reads it, finishes,
    // and the queue is drained against it. The first build finishing last must not put back
    // the records as they were (the registration's unit is no longer queued to correct it).
    let first = now.store.start_rollup_month("2026-03", now.clock.now()).await.unwrap();
    let before = now.store.rollup_leaf_rows("2026-03").await.unwrap();
    now.register_person(&county, &woman(3, "2026-03-20", VILLAGES[0])).await.unwrap();
    now.build_rollup_month("2026-03").await.unwrap();
    now.refresh_rollups(u64::MAX).await.unwrap();
    let late = now.store.finish_rollup_month("2026-03", first, before, now.clock.now()).await.unwrap();
    assert!(late.superseded, "{late:?}");
    assert!(compare_rollups(&now, "after the older build finished").await > 0);
}

#[tokio::test]
async fn a_month_written_a_slice_at_a_time_is_the_month_written_at_once() {
    let (app, _db) = demo_app().await;
    let now = at(&app, "2026-03-24T09:00:00+08:00");
    let county: Actor = now.login("county", qipan::demo::DEMO_PASSWORD, None).await.unwrap().actor;
    for i in 0..12 {
        now.register_person(&county, &woman(i, &format!("2026-03-{:02}", 1 + i), VILLAGES[i % 3])).await.unwrap();
    }
    let build = now.store.start_rollup_month("2026-03", now.clock.now()).await.unwrap();
    let leaves = now.store.rollup_leaf_rows("2026-03").await.unwrap();
    let done = now.store.finish_rollup_month_in_slices("2026-03", build, leaves, now.clock.now(), 7).await.unwrap();
    assert!(done.written > 2 * 7, "three slices or more: {done:?}");
    // The registrations' units, queued before the build read them, move nothing.
    assert_eq!(now.refresh_rollups(u64::MAX).await.unwrap().moved, 0);
    assert!(compare_rollups(&now, "written in slices of 7").await > 0);
}
