//! Aggregate queries of the statistical reports, and the monthly snapshots.
//!
//! The reports never read people one by one: [`Store::report_groups`] counts the records of a
//! subtree with `GROUP BY` over a handful of keys (see `domain::report`), so that a province
//! becomes a few thousand grouped rows; the facts from the sections (pregnancies, children,
//! certificates, services, checks) are first folded per person in SQL, then grouped the same way.
//! Both queries run in one read transaction, so that they see the same data. The SQL is built
//! from fixed fragments and the domain's constant code lists, never from input; every value is
//! a bound `$n` argument.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::report::{
    AGE_BANDS, ExchangeFigures, Flag, FlagGroup, Flags, Flow, Groups, MARITAL_GROUPS, PersonGroup, Reach, Sex,
    age_bounds, flags,
};

use crate::case::CaseTx;
use crate::{AuditDraft, Context, Engine, Store, StoreError, StoreResult, on_pool};

/// Which records a report counts and how they are grouped.
#[derive(Debug, Clone)]
pub struct GroupQuery {
    /// `[low, high)` bounds of the report unit's path: records managed in its subtree.
    pub range: (String, String),
    /// The report unit's code.
    pub root: String,
    /// Length of an area code one level below the report unit (0 where only units hang below).
    pub child_len: i32,
    /// Group by the unit directly below the report unit.
    pub by_child: bool,
    /// Group by the managing unit's path itself (the roll-ups' leaves); overrides `by_child`.
    pub by_leaf: bool,
    /// The range holds few records: the sections are read through its persons, not by date.
    pub narrow: bool,
    /// Group by reason, reach and province too (the inflow and outflow tables).
    pub details: bool,
    /// Only one direction.
    pub flow: Option<Flow>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Snapshot {
    pub unit: String,
    pub report: String,
    pub month: String,
    /// The figures as frozen, JSON (the service layer's format).
    pub cells: String,
    pub frozen_at: DateTime<Utc>,
    pub frozen_by: String,
}

/// A snapshot to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSnapshot {
    pub province_code: String,
    pub unit: String,
    pub unit_path: String,
    pub report: String,
    pub month: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub deadline: NaiveDate,
    pub cells: String,
    pub frozen_at: DateTime<Utc>,
    pub frozen_by: String,
}

/// A bound argument.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    Date(NaiveDate),
    Int(i32),
}

/// SQL text with its arguments in placeholder order.
#[derive(Debug, Default)]
pub(crate) struct Args(pub(crate) Vec<Arg>);

impl Args {
    fn push(&mut self, a: Arg) -> String {
        self.0.push(a);
        format!("${}", self.0.len())
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in &$args.0 {
            q = match a {
                $crate::reports::Arg::Text(s) => q.bind(s.clone()),
                $crate::reports::Arg::Date(d) => q.bind(*d),
                $crate::reports::Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

/// A constant of the domain's code lists, checked before it goes into SQL text.
fn literal(s: &str) -> String {
    assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "a code list holds plain codes: {s}");
    format!("'{s}'")
}

/// The fragments both grouped queries share: the keys and the WHERE clause.
struct Common {
    low: String,
    high: String,
    from: String,
    to: String,
    child: String,
    age: String,
    at_end: String,
    arrived: String,
    left: String,
    scope: String,
}

fn common(q: &GroupQuery, args: &mut Args) -> Common {
    let (low, high) = (args.push(Arg::Text(q.range.0.clone())), args.push(Arg::Text(q.range.1.clone())));
    let from = args.push(Arg::Date(q.from));
    let to = args.push(Arg::Date(q.to));
    let bounds: Vec<String> = age_bounds(q.to).iter().map(|d| args.push(Arg::Date(*d))).collect();
    let mut age = String::from("CASE");
    for (i, b) in bounds.iter().enumerate() {
        age.push_str(&format!(" WHEN p.birth_date > {b} THEN {i}"));
    }
    age.push_str(&format!(" ELSE {} END", AGE_BANDS.len() - 1));
    let child = if q.by_leaf {
        "p.managing_path".to_owned()
    } else if q.by_child {
        let root = args.push(Arg::Text(q.root.clone()));
        let after_root = args.push(Arg::Int(q.root.len() as i32 + 1));
        let child_len = args.push(Arg::Int(q.child_len));
        // The unit itself → ''; a unit (单位) hanging directly below it → its whole code; anything
        // deeper → the code of the area one level down, which its own code starts with.
        format!(
            "CASE WHEN p.managing_unit = {root} THEN '' \
             WHEN SUBSTR(p.managing_unit, {after_root}, 1) = '-' THEN p.managing_unit \
             ELSE SUBSTR(p.managing_unit, 1, {child_len}) END"
        )
    } else {
        "''".to_owned()
    };
    let direction = match q.flow {
        Some(f) => format!(" AND p.direction = {}", literal(f.as_str())),
        None => String::new(),
    };
    Common {
        low: low.clone(),
        high: high.clone(),
        from: from.clone(),
        to: to.clone(),
        child,
        age,
        at_end: format!("CASE WHEN p.ended_on IS NULL OR p.ended_on > {to} THEN 1 ELSE 0 END"),
        arrived: format!("CASE WHEN p.moved_on >= {from} THEN 1 ELSE 0 END"),
        left: format!("CASE WHEN p.ended_on IS NOT NULL AND p.ended_on <= {to} THEN 1 ELSE 0 END"),
        // Everyone the period touches: moved by its end, not ended before its start, never
        // removed as a mistake.
        scope: format!(
            "p.managing_path >= {low} AND p.managing_path < {high} AND p.status <> 'removed' \
             AND p.moved_on <= {to} AND (p.ended_on IS NULL OR p.ended_on >= {from}){direction}"
        ),
    }
}

pub(crate) fn persons_sql(q: &GroupQuery) -> (String, Args) {
    let mut args = Args::default();
    let c = common(q, &mut args);
    let mut marital = String::from("CASE");
    for (id, codes) in MARITAL_GROUPS {
        let list: Vec<String> = codes.iter().map(|c| literal(c)).collect();
        marital.push_str(&format!(" WHEN p.marital_status IN ({}) THEN {}", list.join(", "), literal(id)));
    }
    marital.push_str(" ELSE '' END");
    let (reason, reach, province) = if q.details {
        let other = "(CASE WHEN p.direction = 'in' THEN p.hukou_area ELSE p.residence_area END)";
        let m = "p.managing_unit";
        (
            "COALESCE(p.move_reason, '')".to_owned(),
            format!(
                "CASE WHEN SUBSTR({other}, 1, 2) <> SUBSTR({m}, 1, 2) THEN 'p' \
                 WHEN SUBSTR({other}, 1, 4) <> SUBSTR({m}, 1, 4) THEN 'c' \
                 WHEN SUBSTR({other}, 1, 6) <> SUBSTR({m}, 1, 6) THEN 'k' ELSE 'l' END"
            ),
            format!("SUBSTR({other}, 1, 2)"),
        )
    } else {
        ("''".to_owned(), "''".to_owned(), "''".to_owned())
    };
    let sql = format!(
        "SELECT {child}, p.direction, p.gender, {age}, {marital}, {reason}, {reach}, {province}, \
         {at_end}, {arrived}, {left}, COUNT(*) \
         FROM persons p WHERE {scope} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11",
        child = c.child,
        age = c.age,
        at_end = c.at_end,
        arrived = c.arrived,
        left = c.left,
        scope = c.scope,
    );
    (sql, args)
}

pub(crate) fn flags_sql(q: &GroupQuery) -> (String, Args) {
    let mut args = Args::default();
    let c = common(q, &mut args);
    let (from, to) = (c.from.clone(), c.to.clone());
    let narrow = if q.narrow {
        format!(
            " AND person_id IN (SELECT id FROM persons WHERE managing_path >= {} AND managing_path < {})",
            c.low, c.high
        )
    } else {
        String::new()
    };
    let year_start = NaiveDate::from_ymd_opt(q.to.year(), 1, 1).expect("1 January exists");
    let earliest = args.push(Arg::Date(q.from.min(year_start)));
    let year_start = args.push(Arg::Date(year_start));
    let all = flags();
    // One branch per section: the person, one column per flag (0 where the section says
    // nothing about it), then children born and deliveries in the period.
    let branch = |table: &str, expr: &dyn Fn(Flag) -> Option<String>, born: &str, delivered: &str, cond: &str| {
        let cols: Vec<String> = all
            .iter()
            .enumerate()
            .map(|(i, f)| format!("{} AS f{i}", expr(*f).unwrap_or_else(|| "0".to_owned())))
            .collect();
        format!(
            "SELECT person_id, {}, {born} AS born, {delivered} AS delivered FROM {table} WHERE {cond}{narrow}",
            cols.join(", ")
        )
    };
    let pregnancies = branch(
        "person_pregnancies",
        &|f| match f {
            Flag::Pregnant => Some(format!("CASE WHEN ended_on IS NULL OR ended_on > {to} THEN 1 ELSE 0 END")),
            Flag::BirthThisYear => Some(format!(
                "CASE WHEN outcome = 'birth' AND ended_on >= {year_start} AND ended_on <= {to} THEN 1 ELSE 0 END"
            )),
            _ => None,
        },
        "0",
        &format!("CASE WHEN outcome = 'birth' AND ended_on >= {from} AND ended_on <= {to} THEN 1 ELSE 0 END"),
        &format!("detected_on <= {to} AND (ended_on IS NULL OR ended_on >= {earliest})"),
    );
    let children = branch(
        "person_children",
        &|f| (f == Flag::BirthThisYear).then(|| format!("CASE WHEN birth_date >= {year_start} THEN 1 ELSE 0 END")),
        &format!("CASE WHEN birth_date >= {from} THEN 1 ELSE 0 END"),
        "0",
        &format!("birth_date >= {earliest} AND birth_date <= {to}"),
    );
    let certificates = branch(
        "person_certificates",
        &|f| (f == Flag::Certificate).then(|| "1".to_owned()),
        "0",
        "0",
        &format!("issued_on <= {to} AND (valid_until IS NULL OR valid_until >= {to})"),
    );
    let services = branch(
        "person_services",
        &|f| match f {
            Flag::Service(kind) => Some(format!("CASE WHEN kind = {} THEN 1 ELSE 0 END", literal(kind))),
            Flag::Method(code) => {
                Some(format!("CASE WHEN kind = 'contraception' AND method = {} THEN 1 ELSE 0 END", literal(code)))
            }
            _ => None,
        },
        "0",
        "0",
        &format!("started_on >= {from} AND started_on <= {to}"),
    );
    let checks = branch(
        "person_checks",
        &|f| match f {
            Flag::Check(kind) => Some(format!("CASE WHEN kind = {} THEN 1 ELSE 0 END", literal(kind))),
            _ => None,
        },
        "0",
        "0",
        &format!("done_on >= {from} AND done_on <= {to}"),
    );
    let folded: Vec<String> = (0..all.len()).map(|i| format!("MAX(u.f{i}) AS f{i}")).collect();
    let per_person = format!(
        "SELECT u.person_id, {}, SUM(u.born) AS born, SUM(u.delivered) AS delivered FROM ({}) u GROUP BY u.person_id",
        folded.join(", "),
        [pregnancies, children, certificates, services, checks].join(" UNION ALL "),
    );
    let flag_cols: Vec<String> = (0..all.len()).map(|i| format!("f.f{i}")).collect();
    let group_by: Vec<String> = (1..=7 + all.len() + 2).map(|i| i.to_string()).collect();
    let sql = format!(
        "SELECT {child}, p.direction, p.gender, {age}, {at_end}, {arrived}, {left}, {flags}, f.born, f.delivered, COUNT(*) \
         FROM persons p JOIN ({per_person}) f ON f.person_id = p.id WHERE {scope} GROUP BY {group_by}",
        child = c.child,
        age = c.age,
        at_end = c.at_end,
        arrived = c.arrived,
        left = c.left,
        flags = flag_cols.join(", "),
        scope = c.scope,
        group_by = group_by.join(", "),
    );
    (sql, args)
}

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt { what: "report group", detail }
}

fn flow_of(s: &str) -> StoreResult<Flow> {
    Flow::parse(s).ok_or_else(|| corrupt(format!("direction `{s}`")))
}

/// One grouped row of a report's records, as the grouped queries give it and as the roll-ups
/// keep it: the people (`kind` 0 without reason, reach and province; 2 with them) or the facts
/// (`kind` 1) of one unit below (`child`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub kind: i16,
    pub child: String,
    pub direction: String,
    pub gender: String,
    pub age: i32,
    pub marital: String,
    pub reason: String,
    pub reach: String,
    pub province: String,
    pub at_end: i32,
    pub arrived: i32,
    pub gone: i32,
    pub flags: i64,
    pub born: i64,
    pub delivered: i64,
}

/// The kinds of [`GroupKey`].
pub const KIND_PEOPLE: i16 = 0;
pub const KIND_FACTS: i16 = 1;
pub const KIND_PEOPLE_DETAILED: i16 = 2;

/// Grouped rows with their counts.
pub type GroupRows = Vec<(GroupKey, i64)>;

/// The domain's groups of grouped rows (people of kind 0 or 2, facts of kind 1).
pub(crate) fn groups_of(rows: GroupRows) -> StoreResult<Groups> {
    let mut out = Groups { persons: Vec::new(), flagged: Vec::new() };
    for (k, count) in rows {
        let count = count.max(0) as u64;
        let flow = flow_of(&k.direction)?;
        let sex = Sex::of_code(&k.gender);
        let age = u8::try_from(k.age).map_err(|_| corrupt(format!("age band {}", k.age)))?;
        if k.kind == KIND_FACTS {
            out.flagged.push(FlagGroup {
                child: k.child,
                flow,
                sex,
                age,
                at_end: k.at_end != 0,
                arrived: k.arrived != 0,
                left: k.gone != 0,
                flags: Flags(k.flags as u64),
                children_born: k.born.max(0) as u64,
                deliveries: k.delivered.max(0) as u64,
                count,
            });
        } else {
            out.persons.push(PersonGroup {
                child: k.child,
                flow,
                sex,
                age,
                marital: k.marital,
                reason: k.reason,
                reach: Reach::of_key(&k.reach),
                province: k.province,
                at_end: k.at_end != 0,
                arrived: k.arrived != 0,
                left: k.gone != 0,
                count,
            });
        }
    }
    Ok(out)
}

/// Runs both grouped queries of a [`GroupQuery`] on a connection (`&mut *tx`): the people
/// (kind 2 when the query asks for details, else 0) and the facts; evaluates to a future of
/// `StoreResult<GroupRows>`.
macro_rules! group_rows {
    ($conn:expr, $q:expr) => {{
        use sqlx::Row as _;
        use $crate::Context as _;
        use $crate::reports::{GroupKey, GroupRows, KIND_FACTS, KIND_PEOPLE, KIND_PEOPLE_DETAILED};
        let q: &$crate::reports::GroupQuery = $q;
        let (persons_sql, persons_args) = $crate::reports::persons_sql(q);
        let (flags_sql, flags_args) = $crate::reports::flags_sql(q);
        let flag_count = domain::report::flags().len();
        let people_kind = if q.details { KIND_PEOPLE_DETAILED } else { KIND_PEOPLE };
        let conn = &mut *$conn;
        async move {
            let mut out: GroupRows = Vec::new();
            let rows = $crate::reports::bind_all!(sqlx::query(&persons_sql), persons_args)
                .fetch_all(&mut *conn)
                .await
                .context("counting people for a report")?;
            for r in rows {
                out.push((
                    GroupKey {
                        kind: people_kind,
                        child: r.try_get(0).context("reading a unit")?,
                        direction: r.try_get(1).context("reading a direction")?,
                        gender: r.try_get(2).context("reading a gender")?,
                        age: r.try_get(3).context("reading an age band")?,
                        marital: r.try_get(4).context("reading a marital group")?,
                        reason: r.try_get(5).context("reading a reason")?,
                        reach: r.try_get(6).context("reading a reach")?,
                        province: r.try_get(7).context("reading a province")?,
                        at_end: r.try_get(8).context("reading a presence")?,
                        arrived: r.try_get(9).context("reading a presence")?,
                        gone: r.try_get(10).context("reading a presence")?,
                        flags: 0,
                        born: 0,
                        delivered: 0,
                    },
                    r.try_get::<i64, _>(11).context("reading a count")?,
                ));
            }
            let rows = $crate::reports::bind_all!(sqlx::query(&flags_sql), flags_args)
                .fetch_all(&mut *conn)
                .await
                .context("counting facts for a report")?;
            for r in rows {
                let mut values = Vec::with_capacity(flag_count);
                for i in 0..flag_count {
                    values.push(i64::from(r.try_get::<i32, _>(7 + i).context("reading a flag")?));
                }
                out.push((
                    GroupKey {
                        kind: KIND_FACTS,
                        child: r.try_get(0).context("reading a unit")?,
                        direction: r.try_get(1).context("reading a direction")?,
                        gender: r.try_get(2).context("reading a gender")?,
                        age: r.try_get(3).context("reading an age band")?,
                        marital: String::new(),
                        reason: String::new(),
                        reach: String::new(),
                        province: String::new(),
                        at_end: r.try_get(4).context("reading a presence")?,
                        arrived: r.try_get(5).context("reading a presence")?,
                        gone: r.try_get(6).context("reading a presence")?,
                        flags: domain::report::Flags::from_values(&values).0 as i64,
                        born: r.try_get(7 + flag_count).context("reading births")?,
                        delivered: r.try_get(8 + flag_count).context("reading deliveries")?,
                    },
                    r.try_get::<i64, _>(9 + flag_count).context("reading a count")?,
                ));
            }
            Ok::<GroupRows, $crate::StoreError>(out)
        }
    }};
}
pub(crate) use group_rows;

impl Store {
    /// The grouped people of a report (see [`GroupQuery`]), read in one transaction.
    pub async fn report_groups(&self, q: &GroupQuery) -> StoreResult<Groups> {
        groups_of(self.report_group_rows(q).await?)
    }

    /// The rows of [`Store::report_groups`] before they become the domain's groups (the
    /// roll-ups keep them so).
    pub async fn report_group_rows(&self, q: &GroupQuery) -> StoreResult<GroupRows> {
        let engine = self.engine();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a report read")?;
            if engine == Engine::Postgres {
                // Both queries see the same data.
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx).await.context("isolating a report read")?;
            }
            let rows = group_rows!(tx, q).await?;
            tx.commit().await.context("ending a report read")?;
            Ok(rows)
        })
    }

    /// The exchange items of a period seen from a subtree (`range`: path bounds), by kind:
    /// submitted between `start` and `end`, their state as of `end`; `to` is the period's last
    /// day (an item whose last day is on or before it and is not done by `end` is overdue).
    pub async fn report_exchange(
        &self,
        range: &(String, String),
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        to: NaiveDate,
    ) -> StoreResult<Vec<(String, ExchangeFigures)>> {
        let sent_sql = "SELECT kind, COUNT(*), \
               SUM(CASE WHEN urgency = 'urgent' THEN 1 ELSE 0 END), \
               SUM(CASE WHEN answered_at IS NOT NULL AND answered_at <= $4 THEN 1 ELSE 0 END), \
               SUM(CASE WHEN answer_required AND due_on <= $5 AND (answered_at IS NULL OR answered_at > $4) THEN 1 ELSE 0 END) \
             FROM exchange_items \
             WHERE from_path >= $1 AND from_path < $2 AND submitted_at >= $3 AND submitted_at <= $4 GROUP BY kind";
        let incoming_sql = "SELECT kind, COUNT(*), \
               SUM(CASE WHEN received_at IS NOT NULL AND received_at <= $4 THEN 1 ELSE 0 END), \
               SUM(CASE WHEN answer_required THEN 1 ELSE 0 END), \
               SUM(CASE WHEN answer_required AND answered_at IS NOT NULL AND answered_at <= $4 THEN 1 ELSE 0 END), \
               SUM(CASE WHEN answer_required AND answered_at IS NOT NULL AND answered_at <= $4 AND answered_on_time THEN 1 ELSE 0 END), \
               SUM(CASE WHEN due_on <= $5 AND ( \
                     (answer_required AND (answered_at IS NULL OR answered_at > $4)) OR \
                     (NOT answer_required AND (received_at IS NULL OR received_at > $4))) THEN 1 ELSE 0 END) \
             FROM exchange_items \
             WHERE to_path >= $1 AND to_path < $2 AND submitted_at >= $3 AND submitted_at <= $4 GROUP BY kind";
        type SentRow = (String, i64, i64, i64, i64);
        type IncomingRow = (String, i64, i64, i64, i64, i64, i64);
        let (sent, incoming): (Vec<SentRow>, Vec<IncomingRow>) = on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting an exchange report read")?;
            let sent = sqlx::query_as(sent_sql)
                .bind(&range.0).bind(&range.1).bind(start).bind(end).bind(to)
                .fetch_all(&mut *tx).await.context("counting items sent for a report")?;
            let incoming = sqlx::query_as(incoming_sql)
                .bind(&range.0).bind(&range.1).bind(start).bind(end).bind(to)
                .fetch_all(&mut *tx).await.context("counting items received for a report")?;
            tx.commit().await.context("ending an exchange report read")?;
            Ok::<_, StoreError>((sent, incoming))
        })?;
        let n = |v: i64| v.max(0) as u64;
        let mut out: std::collections::BTreeMap<String, ExchangeFigures> = std::collections::BTreeMap::new();
        for (kind, count, urgent, answered, overdue) in sent {
            let f = out.entry(kind).or_default();
            f.sent = n(count);
            f.sent_urgent = n(urgent);
            f.sent_answered = n(answered);
            f.sent_overdue = n(overdue);
        }
        for (kind, count, received, due, answered, on_time, overdue) in incoming {
            let f = out.entry(kind).or_default();
            f.incoming = n(count);
            f.received = n(received);
            f.feedback_due = n(due);
            f.answered = n(answered);
            f.answered_on_time = n(on_time);
            f.overdue = n(overdue);
        }
        Ok(out.into_iter().collect())
    }

    /// The units that manage active records (the units whose reports have something to freeze).
    pub async fn units_with_records(&self) -> StoreResult<Vec<String>> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT DISTINCT managing_unit FROM persons WHERE status = 'active' ORDER BY managing_unit",
        ).fetch_all(pool).await)
        .context("listing the units with records")
    }

    /// The snapshot of a unit's table for a month, if frozen.
    pub async fn report_snapshot(&self, unit: &str, report: &str, month: &str) -> StoreResult<Option<Snapshot>> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT unit, report, month, cells, frozen_at, frozen_by FROM report_snapshots \
             WHERE unit = $1 AND report = $2 AND month = $3",
        )
        .bind(unit).bind(report).bind(month)
        .fetch_optional(pool).await)
        .context("reading a report snapshot")
    }

    /// Freezes a unit's table for a month unless it is frozen already, with the audit entry of
    /// the freezing in the same transaction; returns the snapshot that stands (this one, or the
    /// one a concurrent reader stored first).
    pub async fn freeze_report(&self, new: &NewSnapshot, audit: &AuditDraft) -> StoreResult<Snapshot> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a report freeze")?;
            let inserted = sqlx::query(
                "INSERT INTO report_snapshots (province_code, unit, unit_path, report, month, period_from, period_to, \
                 deadline, cells, frozen_at, frozen_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (unit, report, month) DO NOTHING",
            )
            .bind(&new.province_code).bind(&new.unit).bind(&new.unit_path).bind(&new.report).bind(&new.month)
            .bind(new.period_from).bind(new.period_to).bind(new.deadline).bind(&new.cells).bind(new.frozen_at)
            .bind(&new.frozen_by)
            .execute(&mut *tx).await.context("freezing a report")?
            .rows_affected();
            if inserted > 0 {
                tx.append_audit(audit).await?;
            }
            let stored: Snapshot = sqlx::query_as(
                "SELECT unit, report, month, cells, frozen_at, frozen_by FROM report_snapshots \
                 WHERE unit = $1 AND report = $2 AND month = $3",
            )
            .bind(&new.unit).bind(&new.report).bind(&new.month)
            .fetch_one(&mut *tx).await.context("reading a frozen report")?;
            tx.commit().await.context("committing a report freeze")?;
            Ok(stored)
        })
    }

    /// The snapshots of a month for units in a subtree (`range`: path bounds): unit, table and
    /// when it was frozen.
    pub async fn report_snapshots_within(
        &self,
        range: &(String, String),
        month: &str,
    ) -> StoreResult<Vec<(String, String, DateTime<Utc>)>> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT unit, report, frozen_at FROM report_snapshots \
             WHERE month = $1 AND unit_path >= $2 AND unit_path < $3 ORDER BY unit, report",
        )
        .bind(month).bind(&range.0).bind(&range.1)
        .fetch_all(pool).await)
        .context("listing report snapshots")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query() -> GroupQuery {
        GroupQuery {
            range: ("/37/3716/371602/".into(), "/37/3716/3716020".into()),
            root: "371602".into(),
            child_len: 9,
            by_child: true,
            by_leaf: false,
            narrow: true,
            details: true,
            flow: Some(Flow::In),
            from: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
        }
    }

    #[test]
    fn every_placeholder_has_its_argument() {
        for (sql, args) in [persons_sql(&query()), flags_sql(&query())] {
            let highest = (1..=args.0.len() + 5).filter(|n| sql.contains(&format!("${n}"))).max().unwrap_or(0);
            assert_eq!(highest, args.0.len(), "{sql}");
            for n in 1..=args.0.len() {
                assert!(sql.contains(&format!("${n}")), "${n} unused in {sql}");
            }
        }
    }
}
