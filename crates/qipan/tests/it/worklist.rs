//! The clerk's day through the service layer: tasks appear five days before their last day
//! (expected births four weeks), stay on top while overdue, leave when done, come back after a
//! snooze, and are scoped to the unit's subtree. Every date below is worked out by hand.

use std::collections::BTreeMap;

use domain::record::PersonInput;
use domain::sections::Section;
use domain::worklist::Category;
use qipan::service::exchange::ItemRequest;
use qipan::service::worklist::Worklist;
use qipan::service::{Actor, App, ServiceError};

use crate::helpers::{at, demo_app};

async fn actor(app: &App, username: &str) -> Actor {
    app.login(username, qipan::demo::DEMO_PASSWORD, None).await.unwrap().actor
}

/// `(category, subject, due_on, overdue)` of each task, in the order the page shows them.
fn lines(w: &Worklist) -> Vec<(Category, String, String, bool)> {
    w.tasks.iter().map(|t| (t.category, t.subject.clone(), t.due_on.to_string(), t.overdue)).collect()
}

fn entry(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// A valid ID number of a woman born in 平昌县 on `born` (YYYYMMDD).
fn id_of(born: &str) -> String {
    let first17 = format!("511923{born}002");
    format!("{first17}{}", domain::id_number::check_char(&first17))
}

pub(crate) fn woman(born: &str, name: &str, village: &str) -> PersonInput {
    PersonInput {
        id_number: id_of(born),
        name: name.into(),
        hukou_area: "511923101002".into(),
        hukou_address: "平昌县江口镇禹王街社区".into(),
        residence_area: village.into(),
        residence_address: "新苑小区3号楼".into(),
        managing_unit: village.into(),
        direction: "in".into(),
        moved_on: "2026-01-10".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_prenatal_visit_shows_five_days_ahead_stays_overdue_and_leaves_when_done() {
    let (app, _db) = demo_app().await;
    let march = at(&app, "2026-03-02T09:00:00+08:00");
    let clerk = actor(&march, "clerk").await;
    // Registered on 03-02, moved 01-10: a late registration too (due 03-07, shown from 03-02).
    let id = march.register_person(&clerk, &woman("19900307", "陈静", "371602001001")).await.unwrap();
    // Found pregnant on 03-01, expected 2026-10-05: prenatal visit due 03-01 + 28 = 03-29.
    march
        .add_entry(
            &clerk,
            id,
            Section::Pregnancies,
            &entry(&[("detected_on", "2026-03-01"), ("expected_on", "2026-10-05")]),
        )
        .await
        .unwrap();
    // A certificate valid until 03-26: due then, shown from 03-21.
    march
        .add_entry(
            &clerk,
            id,
            Section::Certificates,
            &entry(&[
                ("number", "川平-2024-001"),
                ("issuer", "平昌县卫健局"),
                ("issued_on", "2024-03-26"),
                ("valid_until", "2026-03-26"),
            ]),
        )
        .await
        .unwrap();

    let day = |when: &'static str| {
        let app = at(&app, when);
        let clerk = clerk.clone();
        async move { app.worklist(&clerk).await.unwrap() }
    };
    // 03-02: only the late registration (registered 03-02 → checked by 03-07).
    let w = day("2026-03-02T09:00:00+08:00").await;
    assert_eq!(lines(&w), [(Category::LateRegistration, "陈静".to_owned(), "2026-03-07".to_owned(), false)]);
    assert!(w.tasks[0].key.starts_with("late:"));
    assert_eq!(w.next_duty_day.to_string(), "2026-03-05");
    // 03-23: the certificate (03-26, 3 days ahead); the late registration is overdue (03-07) and on top;
    // the visit (03-29) is still 6 days away.
    let w = day("2026-03-23T09:00:00+08:00").await;
    assert_eq!(
        lines(&w),
        [
            (Category::LateRegistration, "陈静".to_owned(), "2026-03-07".to_owned(), true),
            (Category::Certificate, "陈静".to_owned(), "2026-03-26".to_owned(), false),
        ]
    );
    // 03-24: five days ahead, the visit shows.
    let w = day("2026-03-24T09:00:00+08:00").await;
    assert_eq!(w.counts.get(&Category::PrenatalVisit), Some(&1));
    let visit = w.tasks.iter().find(|t| t.category == Category::PrenatalVisit).unwrap().clone();
    assert_eq!((visit.due_on.to_string(), visit.overdue), ("2026-03-29".to_owned(), false));
    assert_eq!(visit.href, format!("/persons/{id}#checks"));

    // 03-30: overdue; the unit marks the late registration done and snoozes the certificate.
    let late_day = at(&app, "2026-03-30T09:00:00+08:00");
    let w = late_day.worklist(&clerk).await.unwrap();
    assert!(w.tasks.iter().all(|t| t.overdue), "everything here is overdue now: {:?}", lines(&w));
    let late_key = w.tasks.iter().find(|t| t.category == Category::LateRegistration).unwrap().key.clone();
    let cert_key = w.tasks.iter().find(|t| t.category == Category::Certificate).unwrap().key.clone();
    late_day.mark_task(&clerk, &late_key, None, "").await.unwrap();
    // A snooze needs a later day and a reason.
    for (until, reason, field) in
        [("2026-03-30", "已联系", "field.until"), ("2026-04-03", "", "field.reason"), ("明天", "x", "field.until")]
    {
        match late_day.mark_task(&clerk, &cert_key, Some(until), reason).await {
            Err(ServiceError::Invalid { field: f, .. }) => assert_eq!(f, field, "{until} {reason}"),
            other => panic!("snooze {until} {reason:?}: {other:?}"),
        }
    }
    late_day.mark_task(&clerk, &cert_key, Some("2026-04-03"), "本人在外地，4月初返回").await.unwrap();
    assert!(matches!(
        late_day.mark_task(&clerk, "bogus", None, "").await,
        Err(ServiceError::Invalid { field: "field.task", .. })
    ));
    let w = late_day.worklist(&clerk).await.unwrap();
    assert_eq!(lines(&w), [(Category::PrenatalVisit, "陈静".to_owned(), "2026-03-29".to_owned(), true)]);
    assert_eq!(w.hidden, 2);
    // The marks are the unit's: the township's list still shows what the community marked done.
    let township = actor(&app, "township").await;
    let w = late_day.worklist(&township).await.unwrap();
    assert!(w.tasks.iter().any(|t| t.category == Category::LateRegistration));
    assert_eq!(w.hidden, 0);
    // The visit is made on 03-30: the next is due 04-27, not shown before 04-22.
    late_day
        .add_entry(&clerk, id, Section::Checks, &entry(&[("kind", "prenatal"), ("done_on", "2026-03-30")]))
        .await
        .unwrap();
    assert!(late_day.worklist(&clerk).await.unwrap().tasks.is_empty());
    // 04-03: the snooze has run out, the certificate is back (still overdue).
    let w = day("2026-04-03T09:00:00+08:00").await;
    assert_eq!(lines(&w), [(Category::Certificate, "陈静".to_owned(), "2026-03-26".to_owned(), true)]);
    // A renewed certificate replaces the one running out: the task goes.
    let april = at(&app, "2026-04-03T09:00:00+08:00");
    assert!(lines(&april.worklist(&clerk).await.unwrap()).iter().any(|l| l.0 == Category::Certificate));
    april
        .add_entry(
            &clerk,
            id,
            Section::Certificates,
            &entry(&[
                ("number", "川平-2026-017"),
                ("issuer", "平昌县卫健局"),
                ("issued_on", "2026-04-03"),
                ("valid_until", "2028-04-02"),
            ]),
        )
        .await
        .unwrap();
    let renewed = lines(&april.worklist(&clerk).await.unwrap());
    assert!(renewed.iter().all(|l| l.0 != Category::Certificate), "{renewed:?}");

    // 09-07: four weeks before 10-05 the expected birth shows; the prenatal visit (due 04-27) is overdue.
    let w = day("2026-09-07T09:00:00+08:00").await;
    let got: Vec<_> = lines(&w).into_iter().filter(|l| l.0 != Category::Certificate).collect();
    assert_eq!(
        got,
        [
            (Category::PrenatalVisit, "陈静".to_owned(), "2026-04-27".to_owned(), true),
            (Category::ExpectedBirth, "陈静".to_owned(), "2026-10-05".to_owned(), false),
        ]
    );

    // Scope: the township above sees her; a clerk of another community and 平昌县 do not.
    let seen = lines(&at(&app, "2026-09-07T09:00:00+08:00").worklist(&township).await.unwrap());
    for task in &got {
        assert!(seen.contains(task), "the township sees the community's {task:?}: {seen:?}");
    }
    assert!(seen.iter().all(|l| l.1 == "陈静"), "only the one person of its subtree: {seen:?}");
    let pingchang = actor(&app, "pingchang").await;
    let w = at(&app, "2026-09-07T09:00:00+08:00").worklist(&pingchang).await.unwrap();
    assert!(w.tasks.iter().all(|t| t.subject != "陈静" || t.category == Category::ExchangeAnswer));
}

#[tokio::test]
async fn a_birth_asks_for_a_postnatal_visit_then_the_forty_two_day_check() {
    let (app, _db) = demo_app().await;
    let may = at(&app, "2026-05-05T09:00:00+08:00");
    let clerk = actor(&may, "clerk").await;
    let id = may.register_person(&clerk, &woman("19920308", "李梅", "371602001001")).await.unwrap();
    may.add_entry(
        &clerk,
        id,
        Section::Children,
        &entry(&[("name", "李小宝"), ("gender", "1"), ("birth_date", "2026-05-03")]),
    )
    .await
    .unwrap();
    let visits = |w: &Worklist| -> Vec<(String, bool)> {
        w.tasks
            .iter()
            .filter(|t| t.category == Category::PostnatalVisit)
            .map(|t| (t.due_on.to_string(), t.overdue))
            .collect()
    };
    // Born 05-03: visit due 05-10, shown from 05-05 (five days ahead).
    assert_eq!(visits(&may.worklist(&clerk).await.unwrap()), [("2026-05-10".to_owned(), false)]);
    // Visited 05-04: the 42-day check is due 06-14, shown from 06-09.
    may.add_entry(&clerk, id, Section::Checks, &entry(&[("kind", "postnatal"), ("done_on", "2026-05-04")]))
        .await
        .unwrap();
    assert!(visits(&may.worklist(&clerk).await.unwrap()).is_empty());
    assert!(visits(&at(&app, "2026-06-08T09:00:00+08:00").worklist(&clerk).await.unwrap()).is_empty());
    assert_eq!(
        visits(&at(&app, "2026-06-09T09:00:00+08:00").worklist(&clerk).await.unwrap()),
        [("2026-06-14".to_owned(), false)]
    );
}

#[tokio::test]
async fn exchange_items_wait_on_the_operators_list_and_a_reminder_moves_them_up() {
    let (app, _db) = demo_app().await;
    let march = at(&app, "2026-03-02T09:00:00+08:00");
    let county = actor(&march, "county").await;
    let pingchang = actor(&march, "pingchang").await;
    let id = march.register_person(&county, &woman("19900307", "陈静", "371602001001")).await.unwrap();
    let item = march
        .create_exchange_item(
            &county,
            &ItemRequest {
                kind: "verification".into(),
                person_id: id,
                categories: vec!["basic".into()],
                submit: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Submitted Mon 03-02, a normal verification: due 30 days later, Wed 04-01. Not shown on
    // 03-26 (six days ahead), shown from 03-27.
    assert!(at(&app, "2026-03-26T09:00:00+08:00").worklist(&pingchang).await.unwrap().tasks.is_empty());
    let w = at(&app, "2026-03-27T09:00:00+08:00").worklist(&pingchang).await.unwrap();
    assert_eq!(lines(&w), [(Category::ExchangeAnswer, "陈静".to_owned(), "2026-04-01".to_owned(), false)]);
    assert_eq!(w.tasks[0].href, format!("/exchange/{item}"));
    // Overdue on 04-02; 滨城区 reminds: it becomes a reminder on 平昌县's list.
    let april = at(&app, "2026-04-02T09:00:00+08:00");
    april.remind_exchange_item(&county, item, "请尽快反馈").await.unwrap();
    let w = april.worklist(&pingchang).await.unwrap();
    assert_eq!(lines(&w), [(Category::Reminder, "陈静".to_owned(), "2026-04-01".to_owned(), true)]);
    // Answered: gone.
    april
        .answer_exchange_item(
            &pingchang,
            item,
            &qipan::service::exchange::AnswerRequest {
                found: true,
                search_steps: vec!["own_records".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(april.worklist(&pingchang).await.unwrap().tasks.is_empty());
    // The birth-free registration of a woman without a certificate suggested a notification to
    // 平昌县, due 5 working days after 03-02 (Mon): 03-09. On 滨城区's list as a draft to send.
    let w = at(&app, "2026-03-04T09:00:00+08:00").worklist(&county).await.unwrap();
    let send: Vec<_> = w.tasks.iter().filter(|t| t.category == Category::ExchangeSend).collect();
    assert_eq!(send.len(), 1);
    assert_eq!(send[0].due_on.to_string(), "2026-03-09");
}

#[tokio::test]
async fn the_daily_reclassification_notices_a_certificate_running_out_and_a_new_year() {
    let (app, _db) = demo_app().await;
    let march = at(&app, "2026-03-02T09:00:00+08:00");
    let clerk = actor(&march, "clerk").await;
    let id = march.register_person(&clerk, &woman("19900307", "陈静", "371602001001")).await.unwrap();
    let cert = entry(&[
        ("number", "川平-1"),
        ("issuer", "平昌县卫健局"),
        ("issued_on", "2024-03-26"),
        ("valid_until", "2026-03-26"),
    ]);
    march.add_entry(&clerk, id, Section::Certificates, &cert).await.unwrap();
    march
        .add_entry(
            &clerk,
            id,
            Section::Children,
            &entry(&[("name", "陈小宝"), ("gender", "1"), ("birth_date", "2026-02-20")]),
        )
        .await
        .unwrap();
    let reasons = |app: App| async move { app.store.person(id).await.unwrap().unwrap().key_reasons };
    assert_eq!(reasons(march.clone()).await, "key.birth_this_year");
    // 03-27: the certificate ran out yesterday; no edit happened, the daily job notices.
    let after = at(&app, "2026-03-27T06:00:00+08:00");
    assert!(after.reclassify_key_persons().await.unwrap() >= 1);
    assert_eq!(reasons(after.clone()).await, "key.birth_this_year,key.no_certificate");
    // 2027-01-02: a new year ends "gave birth this year".
    let next_year = at(&app, "2027-01-02T06:00:00+08:00");
    next_year.reclassify_key_persons().await.unwrap();
    assert_eq!(reasons(next_year.clone()).await, "key.no_certificate");
    // Run again: nothing left to change.
    assert_eq!(next_year.reclassify_key_persons().await.unwrap(), 0);
}

#[tokio::test]
async fn the_work_of_a_record_moves_with_it_to_its_new_unit_and_the_nightly_repair_puts_back_a_stray_task() {
    let (app, _db) = demo_app().await;
    let march = at(&app, "2026-03-24T09:00:00+08:00");
    let clerk = actor(&march, "clerk").await;
    let mut input = woman("19910412", "周婷", "371602001001");
    let id = march.register_person(&clerk, &input).await.unwrap();
    march
        .add_entry(
            &clerk,
            id,
            Section::Pregnancies,
            &entry(&[("detected_on", "2026-03-01"), ("expected_on", "2026-10-05")]),
        )
        .await
        .unwrap();
    let visit = (Category::PrenatalVisit, "周婷".to_owned(), "2026-03-29".to_owned(), false);
    assert!(lines(&march.worklist(&clerk).await.unwrap()).contains(&visit));

    // She moves to 市西街道 南海社区: her visit leaves 新苑社区's day and joins 市西街道's.
    let shixi = crate::helpers::new_actor(&march, "shixi", "township_officer", "371602002").await;
    assert!(!lines(&march.worklist(&shixi).await.unwrap()).contains(&visit));
    let county = actor(&march, "county").await;
    input.managing_unit = "371602002001".into();
    input.residence_area = "371602002001".into();
    let version = march.view_person(&county, id).await.unwrap().person.version;
    march.edit_person(&county, id, Some(version), &input).await.unwrap();
    let mine = lines(&march.worklist(&clerk).await.unwrap());
    assert!(mine.iter().all(|l| l.1 != "周婷"), "gone from the old community: {mine:?}");
    assert!(lines(&march.worklist(&shixi).await.unwrap()).contains(&visit), "on the new township's day");
    assert_eq!(march.repair_worklist_units().await.unwrap(), 0, "every write kept the unit");
    assert_eq!(march.repair_tasks(true).await.unwrap().differed, 0, "every write queued its person");

    // A task still kept under her old community (as while her move waits to be derived) does
    // not show her there: the page checks where the record is managed now.
    let sql = "UPDATE person_tasks SET managing_path = '/37/3716/371602/371602001/371602001001/' WHERE person_id = $1";
    crate::helpers::execute_with_id(&march, sql, id).await;
    let mine = lines(&march.worklist(&clerk).await.unwrap());
    assert!(mine.iter().all(|l| l.1 != "周婷"), "not listed where she no longer lives: {mine:?}");
    march.repair_tasks(true).await.unwrap();

    // A task that lost its unit (as a write path that forgot to queue its person would leave
    // it) is put back by the nightly repair, and counted.
    let sql = "UPDATE person_tasks SET managing_path = '/99/' WHERE person_id = $1";
    crate::helpers::execute_with_id(&march, sql, id).await;
    assert!(!lines(&march.worklist(&shixi).await.unwrap()).contains(&visit));
    let repaired = march.repair_tasks(false).await.unwrap();
    assert_eq!(repaired.differed, 0, "today's repair already ran: {repaired:?}");
    let repaired = march.repair_tasks(true).await.unwrap();
    assert_eq!(repaired.differed, 1, "{repaired:?}");
    assert!(lines(&march.worklist(&shixi).await.unwrap()).contains(&visit));
}

#[tokio::test]
async fn a_county_with_thousands_of_tasks_counts_to_a_thousand_and_lists_the_earliest_first() {
    let (app, _db) = demo_app().await;
    let march = at(&app, "2026-03-24T09:00:00+08:00");
    let clerk = actor(&march, "clerk").await;
    let id = march.register_person(&clerk, &woman("19910412", "周婷", "371602001001")).await.unwrap();
    march.refresh_tasks(u64::MAX).await.unwrap();
    // 1,200 certificates of hers running out (kept as the derivation would keep them), due
    // over the days around today: more than the day counts, and more than it lists.
    let sql = "INSERT INTO person_tasks (person_id, task_key, category, detail_key, detail, due_on, show_from, \
               hide_after, managing_path) \
               VALUES ($1, $2, 'certificate', 'worklist.detail.valid_until', $3, $4, $5, $6, '/37/3716/371602/371602001/371602001001/')";
    for i in 0..1200i64 {
        let due = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + chrono::Duration::days(i % 28);
        let (show, hide) = (due - chrono::Duration::days(5), due + chrono::Duration::days(60));
        let key = format!("certificate:{id}:{i}");
        match &march.store {
            store::Store::Sqlite(pool) => sqlx::query(sql)
                .bind(id)
                .bind(&key)
                .bind(due.to_string())
                .bind(due)
                .bind(show)
                .bind(hide)
                .execute(pool)
                .await
                .map(|_| ()),
            store::Store::Postgres(pool) => sqlx::query(sql)
                .bind(id)
                .bind(&key)
                .bind(due.to_string())
                .bind(due)
                .bind(show)
                .bind(hide)
                .execute(pool)
                .await
                .map(|_| ()),
        }
        .unwrap();
    }
    let w = march.worklist(&clerk).await.unwrap();
    assert_eq!(w.counts.get(&Category::Certificate), Some(&1000));
    assert!(w.capped.contains(&Category::Certificate));
    assert_eq!(w.count_label(Category::Certificate), "1000+");
    let certificates: Vec<_> = w.tasks.iter().filter(|t| t.category == Category::Certificate).collect();
    assert_eq!(certificates.len(), 500, "the first 500 are listed");
    // All 1,200 show on 03-24 (due 03-01 … 03-28, each from five days before): the list
    // holds the earliest 500, from 03-01 on.
    assert_eq!(certificates[0].due_on.to_string(), "2026-03-01");
    assert!(certificates.windows(2).all(|p| p[0].due_on <= p[1].due_on));
    let page = crate::helpers::get(&march, "/", Some(&crate::helpers::demo_login(&march, "clerk").await)).await;
    assert!(page.body.contains("1000+"), "the page says more than a thousand");

    // 210 marked done: 990 remain, counted exactly.
    for i in 0..210 {
        march.mark_task(&clerk, &format!("certificate:{id}:{i}"), None, "").await.unwrap();
    }
    let w = march.worklist(&clerk).await.unwrap();
    assert_eq!(w.counts.get(&Category::Certificate), Some(&990));
    assert!(!w.capped.contains(&Category::Certificate));
    assert_eq!(w.hidden, 210);
    assert_eq!(w.tasks.iter().filter(|t| t.category == Category::Certificate).count(), 500);
}
