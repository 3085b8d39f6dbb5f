//! Personal records: writing them with their history and audit entry in one transaction,
//! reading one, and searching within a data scope.

use chrono::{DateTime, NaiveDate, Utc};

use crate::case::CaseTx;
use crate::seal;
use crate::search;
use crate::{AuditDraft, Context, Engine, Page, Store, StoreResult, escape_like, on_pool};

/// A personal record as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Person {
    pub id: i64,
    pub id_number: Option<String>,
    pub name: String,
    pub gender: String,
    pub birth_date: NaiveDate,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub phone: Option<String>,
    pub marital_status: Option<String>,
    pub hukou_area: String,
    pub hukou_address: String,
    pub hukou_type: Option<String>,
    pub residence_area: String,
    pub residence_address: String,
    pub managing_unit: String,
    pub managing_name: String,
    pub direction: String,
    pub moved_on: NaiveDate,
    pub move_reason: Option<String>,
    pub registered_on: NaiveDate,
    pub status: String,
    pub ended_on: Option<NaiveDate>,
    pub end_note: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub key_person: bool,
    /// Catalogue keys of the reasons, comma-separated.
    pub key_reasons: String,
}

/// The columns a registration or an edit writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFields {
    pub province_code: String,
    pub id_number: Option<String>,
    pub name: String,
    pub name_pinyin: String,
    pub name_initials: String,
    pub gender: String,
    pub birth_date: NaiveDate,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub phone: Option<String>,
    pub marital_status: Option<String>,
    pub hukou_area: String,
    pub hukou_path: String,
    pub hukou_address: String,
    pub hukou_type: Option<String>,
    pub residence_area: String,
    pub residence_address: String,
    pub managing_unit: String,
    pub managing_path: String,
    pub direction: String,
    pub moved_on: NaiveDate,
    pub move_reason: Option<String>,
}

/// One entry of a record's history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonChange {
    pub at: DateTime<Utc>,
    pub actor_name: String,
    pub action: String,
    /// JSON: `{"field": {"before": …, "after": …}, …}`.
    pub changes: String,
    pub version: i32,
}

/// Who writes, and the audit entry that goes with the write.
#[derive(Debug, Clone)]
pub struct PersonWriteMeta<'a> {
    pub actor_name: &'a str,
    pub action: &'a str,
    pub changes: String,
    pub now: DateTime<Utc>,
    pub audit: AuditDraft,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonWriteOutcome {
    Done(i64),
    Stale,
    Missing,
    /// Another active record of the unit has this ID number.
    Duplicate,
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

const ID_NUMBER: &str = "persons.id_number";
const PHONE: &str = "persons.phone";
pub(crate) const CHANGES: &str = "person_history.changes";

/// The sealed columns of a record as written: the number and phone sealed, and the number's
/// blind indexes.
pub(crate) struct SealedFields {
    pub(crate) id_number: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) id_index: Option<String>,
    pub(crate) id_tail_index: Option<String>,
}

impl SealedFields {
    pub(crate) fn of(f: &PersonFields) -> StoreResult<SealedFields> {
        let id = f.id_number.as_deref();
        Ok(SealedFields {
            id_number: seal::seal_opt(ID_NUMBER, id)?,
            phone: seal::seal_opt(PHONE, f.phone.as_deref())?,
            id_index: id.map(seal::id_index).transpose()?,
            id_tail_index: id.map(seal::id_tail_index).transpose()?,
        })
    }
}

/// A record as read, its sealed columns opened.
fn opened(mut p: Person) -> StoreResult<Person> {
    p.id_number = seal::unseal_opt(ID_NUMBER, p.id_number.take())?;
    p.phone = seal::unseal_opt(PHONE, p.phone.take())?;
    Ok(p)
}

pub(crate) fn all_opened(rows: Vec<Person>) -> StoreResult<Vec<Person>> {
    rows.into_iter().map(opened).collect()
}

/// Appends a line to a record's history inside an open transaction (`$tx`), stamped with the
/// record's version as it stands after the write the line describes.
macro_rules! write_history {
    ($tx:expr, $person_id:expr, $at:expr, $actor:expr, $action:expr, $changes:expr) => {
        sqlx::query(
            "INSERT INTO person_history (person_id, at, actor_name, action, changes, version) \
             SELECT id, $2, $3, $4, $5, version FROM persons WHERE id = $1",
        )
        .bind($person_id)
        .bind($at)
        .bind($actor)
        .bind($action)
        .bind($crate::seal::seal($crate::persons::CHANGES, &$changes)?)
        .execute(&mut *$tx)
        .await
        .context("writing a record's history")?
    };
}
pub(crate) use write_history;

/// Which records a search covers and what it looks for. Path ranges are `[low, high)`.
#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    /// Records managed in this range…
    pub managing: Option<(String, String)>,
    /// …or registered (household) in this one. Both `None`: everything (the console).
    pub household: Option<(String, String)>,
    /// Only people registered in `household` but managed outside `managing` (异地查询).
    pub origin_only: bool,
    /// Narrow to records managed under this unit.
    pub unit: Option<(String, String)>,
    pub direction: Option<String>,
    /// A name, its pinyin or initials, or digits of the ID number.
    pub text: Option<String>,
    pub include_ended: bool,
    /// Only key persons (重点对象).
    pub key_person: bool,
    /// Moves on or after this date…
    pub moved_from: Option<NaiveDate>,
    /// …and on or before this one.
    pub moved_to: Option<NaiveDate>,
    /// Part of the current residence address.
    pub residence: Option<String>,
}

pub(crate) const PERSON_COLUMNS: &str = "p.id, p.id_number, p.name, p.gender, p.birth_date, p.ethnicity, p.education, p.phone, \
     p.marital_status, p.hukou_area, p.hukou_address, p.hukou_type, p.residence_area, p.residence_address, \
     p.managing_unit, o.name AS managing_name, p.direction, p.moved_on, p.move_reason, p.registered_on, p.status, \
     p.ended_on, p.end_note, p.version, p.created_at, p.updated_at, p.key_person, p.key_reasons";

/// A person search counts its matches up to this many; beyond, it says "more than".
pub const COUNT_CAP: u64 = 1000;

/// A date bound as text: SQLite stores and compares ISO dates as text; PostgreSQL needs a cast.
fn date_arg(engine: Engine, placeholder: &str) -> String {
    match engine {
        Engine::Sqlite => placeholder.to_owned(),
        Engine::Postgres => format!("CAST({placeholder} AS DATE)"),
    }
}

/// How far a person search counts before it walks the sort order's index instead of sorting
/// what it finds (see [`Store::search_persons`]): √(page × records), at least past the cap of
/// the count shown, at most 50,000. A name's matches come from the name index and each is then
/// read from its row, which costs about 25 index entries passed in a walk (at 1M records,
/// 王雪's 1,851 matches by newest move: 11 ms sorted against 6 ms walking, warm; 214 against
/// 9 ms cold): for them the two meet at √(page × records / 25). Matches read from PostgreSQL's
/// index rows are not looked up (decision 0029).
fn walk_threshold(records: u64, page: u64, looked_up: bool) -> u64 {
    let meet = ((page.max(1) * records) as f64).sqrt() as u64;
    let meet = if looked_up { meet / 5 } else { meet };
    meet.clamp(COUNT_CAP + 1, 50_000)
}

/// How a person list reads its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Through the scope's index range (or the name index), sorting what it finds: for a
    /// selective filter.
    Range,
    /// Along the sort order's index, passing over what does not match, until a page is full: for
    /// a filter that most records of the walk match. SQLite is told so by the unary `+` that keeps
    /// a term from choosing an index; PostgreSQL's planner sees the parameters and chooses alone.
    InOrder,
}

fn person_where(engine: Engine, f: &PersonFilter) -> StoreResult<(String, Vec<String>)> {
    let mut args = Vec::new();
    let w = person_where_part(engine, f, Walk::Range, TextPart::Match, &mut args)?;
    Ok((w, args))
}

/// How a search's text is asked for in one part of a query.
#[derive(Debug, Clone, Copy)]
enum TextPart<'a> {
    /// The text's match in the name index (or an ID number's blind index).
    Match,
    /// The same, asked of the name index's own rows ([`reads_index_rows`]).
    MatchHere,
    /// Names that start with the head's text: a range of the name order.
    Starting(&'a search::NameHead),
    /// The other matches: the index's, without the head token.
    NotStarting(&'a search::NameHead),
    /// The same, asked of the name index's own rows ([`others_source`]).
    NotStartingHere(&'a search::NameHead),
}

/// Whether every condition of a filter falls on what PostgreSQL's name index rows hold beside
/// the document — the record's unit, state and sort keys (decision 0029).
fn index_holds(f: &PersonFilter) -> bool {
    let PersonFilter {
        managing: _,
        household,
        origin_only: _,
        unit: _,
        direction,
        text: _,
        include_ended: _,
        key_person,
        moved_from,
        moved_to,
        residence,
    } = f;
    household.is_none()
        && direction.is_none()
        && !key_person
        && moved_from.is_none()
        && moved_to.is_none()
        && residence.as_deref().map(str::trim).is_none_or(str::is_empty)
}

/// Whether a search's matches are read from PostgreSQL's name index rows alone, named as the
/// records' columns ([`search::POSTGRES_INDEX_ROWS`]): a name (not an ID number) and a filter
/// that asks nothing else those rows do not hold. Then no match is looked up in the records to
/// be counted or placed in the page's order (decision 0029); otherwise they are read there.
fn reads_index_rows(engine: Engine, filter: &PersonFilter) -> bool {
    let name = filter.text.as_deref().map(str::trim).is_some_and(|t| !t.is_empty() && !domain::person::is_id_digits(t));
    engine == Engine::Postgres && name && index_holds(filter)
}

const RECORDS: &str = " FROM persons p";

/// Where a search's matches are read from, and how its text is asked for there.
fn matches_source(engine: Engine, filter: &PersonFilter) -> (&'static str, TextPart<'static>) {
    if reads_index_rows(engine, filter) {
        (search::POSTGRES_INDEX_ROWS, TextPart::MatchHere)
    } else {
        (RECORDS, TextPart::Match)
    }
}

/// Where a name search's other matches are read from (see [`matches_source`]).
fn others_source<'a>(
    engine: Engine,
    filter: &PersonFilter,
    head: &'a search::NameHead,
) -> (&'static str, TextPart<'a>) {
    if reads_index_rows(engine, filter) {
        (search::POSTGRES_INDEX_ROWS, TextPart::NotStartingHere(head))
    } else {
        (RECORDS, TextPart::NotStarting(head))
    }
}

/// The conditions of a person filter, their arguments appended to `args` (so that two parts of
/// one query number theirs apart).
fn person_where_part(
    engine: Engine,
    f: &PersonFilter,
    walk: Walk,
    text_part: TextPart<'_>,
    args: &mut Vec<String>,
) -> StoreResult<String> {
    let p = if walk == Walk::InOrder && engine == Engine::Sqlite { "+p" } else { "p" };
    let mut conds: Vec<String> = Vec::new();
    let arg = |v: String, args: &mut Vec<String>| {
        args.push(v);
        format!("${}", args.len())
    };
    let managing = f.managing.as_ref().map(|(l, h)| {
        let (a, b) = (arg(l.clone(), args), arg(h.clone(), args));
        format!("({p}.managing_path >= {a} AND {p}.managing_path < {b})")
    });
    let household = f.household.as_ref().map(|(l, h)| {
        let (a, b) = (arg(l.clone(), args), arg(h.clone(), args));
        format!("({p}.hukou_path >= {a} AND {p}.hukou_path < {b})")
    });
    match (managing, household, f.origin_only) {
        (Some(m), Some(h), true) => conds.push(format!("{h} AND NOT {m}")),
        (Some(m), Some(h), false) => conds.push(format!("({m} OR {h})")),
        (Some(m), None, _) => conds.push(m),
        (None, Some(h), _) => conds.push(h),
        (None, None, _) => {}
    }
    if let Some((l, h)) = &f.unit {
        let (a, b) = (arg(l.clone(), args), arg(h.clone(), args));
        conds.push(format!("{p}.managing_path >= {a} AND {p}.managing_path < {b}"));
    }
    if let Some(d) = &f.direction {
        let a = arg(d.clone(), args);
        conds.push(format!("{p}.direction = {a}"));
    }
    if f.key_person {
        conds.push(format!("{p}.key_person"));
    }
    // Dates are compared as ISO text on both engines: bound as text, cast on PostgreSQL.
    if let Some(d) = f.moved_from {
        let a = arg(d.to_string(), args);
        conds.push(format!("p.moved_on >= {}", date_arg(engine, &a)));
    }
    if let Some(d) = f.moved_to {
        let a = arg(d.to_string(), args);
        conds.push(format!("p.moved_on <= {}", date_arg(engine, &a)));
    }
    if let Some(r) = f.residence.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        let a = arg(format!("%{}%", escape_like(r)), args);
        conds.push(format!("p.residence_address LIKE {a} ESCAPE '\\'"));
    }
    if !f.include_ended {
        conds.push(format!("{p}.status = 'active'"));
    } else {
        conds.push(format!("{p}.status <> 'removed'"));
    }
    let text = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    match text_part {
        TextPart::Match | TextPart::MatchHere => {}
        TextPart::Starting(head) => {
            let (a, b) = (arg(head.low.clone(), args), arg(head.high.clone(), args));
            conds.push(format!("p.name >= {a} AND p.name < {b}"));
        }
        TextPart::NotStarting(head) => {
            let a = arg(head.others.clone(), args);
            conds.push(search::matches(engine, &a, false));
        }
        TextPart::NotStartingHere(head) => {
            let a = arg(head.others.clone(), args);
            conds.push(search::matches_here(&a));
        }
    }
    if let Some(text) = text.filter(|_| matches!(text_part, TextPart::Match | TextPart::MatchHere)) {
        let upper = text.to_uppercase();
        if upper.bytes().all(|b| b.is_ascii_digit() || b == b'X') {
            // The number is sealed: its last four characters or the whole of it, through the
            // blind indexes (the service refuses other lengths).
            if upper.len() == 4 {
                let a = arg(seal::id_tail_index(&upper)?, args);
                conds.push(format!("p.id_tail_index = {a}"));
            } else {
                let a = arg(seal::id_index(&upper)?, args);
                conds.push(format!("p.id_index = {a}"));
            }
        } else {
            // Through the name index: characters together, or the start of a pinyin key.
            match search::query(engine, text) {
                Some(q) => {
                    let a = arg(q, args);
                    conds.push(match text_part {
                        TextPart::MatchHere => search::matches_here(&a),
                        _ => search::matches(engine, &a, walk == Walk::InOrder),
                    });
                }
                None => conds.push("FALSE".to_owned()),
            }
        }
    }
    Ok(if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) })
}

/// Sort orders of a person list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PersonSort {
    #[default]
    NewestMove,
    Name,
    BirthDate,
}

/// Where a page starts: after the row with this sort key and id (keyset paging), or at an
/// offset when the row the client named is not in the list any more.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Start {
    Offset,
    After { key: String, id: i64 },
}

/// The query of one page of a person search, and its arguments.
fn person_list_sql(
    engine: Engine,
    filter: &PersonFilter,
    sort: PersonSort,
    page: Page,
    walk: Walk,
    start: &Start,
) -> StoreResult<(String, Vec<String>)> {
    // Walking the order's index reads the records; a range reads the matches where they are.
    let (from, text_part) = match walk {
        Walk::InOrder => (RECORDS, TextPart::Match),
        Walk::Range => matches_source(engine, filter),
    };
    let mut args = Vec::new();
    let mut w = person_where_part(engine, filter, walk, text_part, &mut args)?;
    let offset = start_after(engine, sort, page, start, &mut w, &mut args);
    // A text's matches read through the name index are sorted, never found by walking the sort
    // order's index: PostgreSQL's planner expects a text's matches spread evenly over the order,
    // but a surname's lie together (李 by name at 1M: 397,000 index entries passed, 8.6 s).
    // An order by an expression no index holds leaves it nothing to walk.
    let order = if engine == Engine::Postgres && walk == Walk::Range && filter.text.is_some() {
        sort.sql_sorted()
    } else {
        sort.sql()
    };
    let sql = match walk {
        Walk::InOrder => format!(
            "SELECT {PERSON_COLUMNS} FROM persons p JOIN org_units o ON o.code = p.managing_unit{w} ORDER BY {order} LIMIT {} OFFSET {offset}",
            page.size,
        ),
        // The matches are sorted by their key and id alone; only the page's rows are read
        // whole and joined to their unit (at 500,000 records, 李 by name: 0.19–0.26 s against
        // 0.27–0.69 s with every column carried through the sort).
        Walk::Range => format!(
            "SELECT {PERSON_COLUMNS} FROM persons p JOIN org_units o ON o.code = p.managing_unit \
             WHERE p.id IN (SELECT p.id{from}{w} ORDER BY {order} LIMIT {} OFFSET {offset}) ORDER BY {}",
            page.size,
            // The page's rows sorted again, never found by walking an order index on PostgreSQL.
            match engine {
                Engine::Sqlite => sort.sql(),
                Engine::Postgres => sort.sql_sorted(),
            },
        ),
    };
    Ok((sql, args))
}

/// The head of a name search in name order, when its text has one (see [`search::NameHead`]).
fn name_head(engine: Engine, filter: &PersonFilter, sort: PersonSort) -> Option<search::NameHead> {
    (sort == PersonSort::Name).then(|| filter.text.as_deref().and_then(|t| search::head(engine, t))).flatten()
}

/// Narrows `w` to the rows after a keyset start (a row comparison, which both engines answer
/// from the order index's range); returns the offset still to skip (a page number's).
fn start_after(
    engine: Engine,
    sort: PersonSort,
    page: Page,
    start: &Start,
    w: &mut String,
    args: &mut Vec<String>,
) -> u64 {
    match start {
        Start::Offset => u64::from(page.number.saturating_sub(1)) * u64::from(page.size),
        Start::After { key, id } => {
            args.push(key.clone());
            let key = sort.key_arg(engine, &format!("${}", args.len()));
            args.push(id.to_string());
            let id = match engine {
                Engine::Sqlite => format!("CAST(${} AS INTEGER)", args.len()),
                Engine::Postgres => format!("CAST(${} AS BIGINT)", args.len()),
            };
            let (column, op) = (sort.key_column(), if sort.descending() { "<" } else { ">" });
            let glue = if w.is_empty() { " WHERE" } else { " AND" };
            w.push_str(&format!("{glue} ({column}, p.id) {op} ({key}, {id})"));
            0
        }
    }
}

/// A page of a name search in name order, read in two parts (decision 0028): the names that
/// start with the text, along the name order's index from the text and only to the page's end;
/// and the other matches, from the name index without the head token, sorted (for a full name
/// or a surname, few or none). Their union in name order is the page.
fn person_head_page_sql(
    engine: Engine,
    filter: &PersonFilter,
    head: &search::NameHead,
    page: Page,
    start: &Start,
) -> StoreResult<(String, Vec<String>)> {
    let sort = PersonSort::Name;
    let mut args = Vec::new();
    let mut starting = person_where_part(engine, filter, Walk::Range, TextPart::Starting(head), &mut args)?;
    let offset = start_after(engine, sort, page, start, &mut starting, &mut args);
    let (others_from, others_text) = others_source(engine, filter, head);
    let mut others = person_where_part(engine, filter, Walk::Range, others_text, &mut args)?;
    start_after(engine, sort, page, start, &mut others, &mut args);
    let reach = offset + u64::from(page.size);
    // The other matches are sorted by expressions no index holds, so that neither planner walks
    // the name order (from the page's record, when paging on) past every name between them
    // instead of reading the few from the name index (see `person_list_sql`).
    let others_order = sort.sql_sorted();
    let page_order = match engine {
        Engine::Sqlite => sort.sql(),
        Engine::Postgres => sort.sql_sorted(),
    };
    let sql = format!(
        "SELECT {PERSON_COLUMNS} FROM persons p JOIN org_units o ON o.code = p.managing_unit \
         WHERE p.id IN (SELECT m.id FROM (\
         SELECT * FROM (SELECT p.id, p.name FROM persons p{starting} ORDER BY {} LIMIT {reach}) AS s \
         UNION ALL SELECT * FROM (SELECT p.id, p.name{others_from}{others} ORDER BY {others_order} LIMIT {reach}) AS t\
         ) AS m ORDER BY m.name, m.id LIMIT {} OFFSET {offset}) ORDER BY {page_order}",
        sort.sql(),
        page.size,
    );
    Ok((sql, args))
}

impl PersonSort {
    fn sql(self) -> &'static str {
        match self {
            PersonSort::NewestMove => "p.moved_on DESC, p.id DESC",
            PersonSort::Name => "p.name, p.id",
            PersonSort::BirthDate => "p.birth_date, p.id",
        }
    }

    /// The same order by expressions that no index holds (PostgreSQL).
    fn sql_sorted(self) -> &'static str {
        match self {
            PersonSort::NewestMove => "p.moved_on + 0 DESC, p.id + 0 DESC",
            PersonSort::Name => "p.name || '', p.id + 0",
            PersonSort::BirthDate => "p.birth_date + 0, p.id + 0",
        }
    }

    fn key_column(self) -> &'static str {
        match self {
            PersonSort::NewestMove => "p.moved_on",
            PersonSort::Name => "p.name",
            PersonSort::BirthDate => "p.birth_date",
        }
    }

    fn descending(self) -> bool {
        self == PersonSort::NewestMove
    }

    /// The sort key bound as text, as the engine compares it with the column.
    fn key_arg(self, engine: Engine, placeholder: &str) -> String {
        match self {
            PersonSort::Name => placeholder.to_owned(),
            PersonSort::NewestMove | PersonSort::BirthDate => date_arg(engine, placeholder),
        }
    }
}

impl Store {
    /// Registers a person with the first history entry and the audit entry, in one transaction.
    pub async fn insert_person(
        &self,
        f: &PersonFields,
        registered_on: NaiveDate,
        meta: &PersonWriteMeta<'_>,
    ) -> StoreResult<PersonWriteOutcome> {
        let sealed = SealedFields::of(f)?;
        let engine = self.engine();
        let document = search::document(engine, &f.name, &f.name_pinyin, &f.name_initials);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a registration")?;
            let id: Result<i64, sqlx::Error> = sqlx::query_scalar(
                "INSERT INTO persons (province_code, id_number, name, name_pinyin, name_initials, gender, birth_date, \
                 ethnicity, education, phone, marital_status, hukou_area, hukou_path, hukou_address, hukou_type, \
                 residence_area, residence_address, managing_unit, managing_path, direction, moved_on, move_reason, \
                 registered_on, created_at, updated_at, id_index, id_tail_index) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $24, $25, $26) \
                 RETURNING id",
            )
            .bind(&f.province_code).bind(&sealed.id_number).bind(&f.name).bind(&f.name_pinyin).bind(&f.name_initials)
            .bind(&f.gender).bind(f.birth_date).bind(&f.ethnicity).bind(&f.education).bind(&sealed.phone)
            .bind(&f.marital_status).bind(&f.hukou_area).bind(&f.hukou_path).bind(&f.hukou_address).bind(&f.hukou_type)
            .bind(&f.residence_area).bind(&f.residence_address).bind(&f.managing_unit).bind(&f.managing_path)
            .bind(&f.direction).bind(f.moved_on).bind(&f.move_reason).bind(registered_on).bind(meta.now)
            .bind(&sealed.id_index).bind(&sealed.id_tail_index)
            .fetch_one(&mut *tx)
            .await;
            let id = match id {
                Ok(id) => id,
                Err(e) if is_unique_violation(&e) => return Ok(PersonWriteOutcome::Duplicate),
                Err(e) => return Err(crate::StoreError::Query { context: "registering a person", source: e }),
            };
            sqlx::query(search::insert_sql(engine)).bind(id).bind(&document)
                .execute(&mut *tx).await.context("indexing a name")?;
            write_history!(tx, id, meta.now, meta.actor_name, meta.action, &meta.changes);
            let mut audit = meta.audit.clone();
            audit.target = Some(format!("person:{id}"));
            tx.append_audit(&audit).await?;
            tx.commit().await.context("committing a registration")?;
            Ok(PersonWriteOutcome::Done(id))
        })
    }

    /// Refreshes the planner's statistics after a bulk load, so that a search over a whole
    /// county scans the table instead of walking an index row by row.
    pub async fn analyze_persons(&self) -> StoreResult<()> {
        // SQLite samples each index instead of reading it whole (1.7 s at 1M records): the
        // planner needs the shape of the columns, not exact counts.
        let sql = match self {
            Store::Sqlite(_) => "PRAGMA analysis_limit = 1000; ANALYZE persons; PRAGMA analysis_limit = 0",
            // The name index's rows too: a large load built its GIN index again.
            Store::Postgres(_) => "ANALYZE persons, person_search",
        };
        on_pool!(self, pool => sqlx::raw_sql(sql).execute(pool).await.map(|_| ())).context("refreshing statistics")
    }

    pub async fn person(&self, id: i64) -> StoreResult<Option<Person>> {
        let sql = format!(
            "SELECT {PERSON_COLUMNS} FROM persons p JOIN org_units o ON o.code = p.managing_unit WHERE p.id = $1"
        );
        let row: Option<Person> = on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
            .context("loading a person")?;
        row.map(opened).transpose()
    }

    /// Rewrites a record's fields if it is still at `expected_version`, with history and audit.
    pub async fn update_person(
        &self,
        id: i64,
        expected_version: i32,
        f: &PersonFields,
        meta: &PersonWriteMeta<'_>,
    ) -> StoreResult<PersonWriteOutcome> {
        let sealed = SealedFields::of(f)?;
        let engine = self.engine();
        let document = search::document(engine, &f.name, &f.name_pinyin, &f.name_initials);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting an edit")?;
            let n = sqlx::query(
                "UPDATE persons SET province_code = $3, id_number = $4, name = $5, name_pinyin = $6, name_initials = $7, \
                 gender = $8, birth_date = $9, ethnicity = $10, education = $11, phone = $12, marital_status = $13, \
                 hukou_area = $14, hukou_path = $15, hukou_address = $16, hukou_type = $17, residence_area = $18, \
                 residence_address = $19, managing_unit = $20, managing_path = $21, direction = $22, moved_on = $23, \
                 move_reason = $24, updated_at = $25, id_index = $26, id_tail_index = $27, version = version + 1 \
                 WHERE id = $1 AND version = $2 AND status = 'active'",
            )
            .bind(id).bind(expected_version)
            .bind(&f.province_code).bind(&sealed.id_number).bind(&f.name).bind(&f.name_pinyin).bind(&f.name_initials)
            .bind(&f.gender).bind(f.birth_date).bind(&f.ethnicity).bind(&f.education).bind(&sealed.phone)
            .bind(&f.marital_status).bind(&f.hukou_area).bind(&f.hukou_path).bind(&f.hukou_address).bind(&f.hukou_type)
            .bind(&f.residence_area).bind(&f.residence_address).bind(&f.managing_unit).bind(&f.managing_path)
            .bind(&f.direction).bind(f.moved_on).bind(&f.move_reason).bind(meta.now)
            .bind(&sealed.id_index).bind(&sealed.id_tail_index)
            .execute(&mut *tx)
            .await;
            let n = match n {
                Ok(r) => r.rows_affected(),
                Err(e) if is_unique_violation(&e) => return Ok(PersonWriteOutcome::Duplicate),
                Err(e) => return Err(crate::StoreError::Query { context: "editing a person", source: e }),
            };
            if n == 0 {
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM persons WHERE id = $1 AND status <> 'removed'")
                    .bind(id).fetch_optional(&mut *tx).await.context("checking a person")?;
                return Ok(if exists.is_some() { PersonWriteOutcome::Stale } else { PersonWriteOutcome::Missing });
            }
            sqlx::query(search::delete_sql(engine)).bind(id).execute(&mut *tx).await.context("re-indexing a name")?;
            sqlx::query(search::insert_sql(engine)).bind(id).bind(&document)
                .execute(&mut *tx).await.context("re-indexing a name")?;
            // The sections that make work follow the record to its unit.
            for section in crate::sections::UNIT_SECTIONS {
                let sql = format!(
                    "UPDATE {} SET managing_path = $1 WHERE person_id = $2 AND managing_path <> $1",
                    section.table()
                );
                sqlx::query(&sql).bind(&f.managing_path).bind(id)
                    .execute(&mut *tx).await.context("moving a record's sections")?;
            }
            write_history!(tx, id, meta.now, meta.actor_name, meta.action, &meta.changes);
            tx.append_audit(&meta.audit).await?;
            tx.commit().await.context("committing an edit")?;
            Ok(PersonWriteOutcome::Done(id))
        })
    }

    /// Ends a move (returned home, moved on) or removes a record registered by mistake: a
    /// change of state with its reason, never a delete.
    pub async fn set_person_status(
        &self,
        id: i64,
        expected_version: i32,
        status: &str,
        ended_on: Option<NaiveDate>,
        note: &str,
        meta: &PersonWriteMeta<'_>,
    ) -> StoreResult<PersonWriteOutcome> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a status change")?;
            let n = sqlx::query(
                "UPDATE persons SET status = $3, ended_on = $4, end_note = $5, updated_at = $6, version = version + 1 \
                 WHERE id = $1 AND version = $2 AND status = 'active'",
            )
            .bind(id).bind(expected_version).bind(status).bind(ended_on).bind(note).bind(meta.now)
            .execute(&mut *tx)
            .await
            .context("changing a record's status")?
            .rows_affected();
            if n == 0 {
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM persons WHERE id = $1")
                    .bind(id).fetch_optional(&mut *tx).await.context("checking a person")?;
                return Ok(if exists.is_some() { PersonWriteOutcome::Stale } else { PersonWriteOutcome::Missing });
            }
            write_history!(tx, id, meta.now, meta.actor_name, meta.action, &meta.changes);
            tx.append_audit(&meta.audit).await?;
            tx.commit().await.context("committing a status change")?;
            Ok(PersonWriteOutcome::Done(id))
        })
    }

    pub async fn person_history(&self, id: i64) -> StoreResult<Vec<PersonChange>> {
        let rows: Vec<PersonChange> = on_pool!(self, pool => sqlx::query_as(
            "SELECT at, actor_name, action, changes, version FROM person_history WHERE person_id = $1 ORDER BY id DESC",
        )
        .bind(id)
        .fetch_all(pool)
        .await)
        .context("loading a record's history")?;
        rows.into_iter()
            .map(|mut c| {
                c.changes = seal::unseal(CHANGES, &c.changes)?;
                Ok(c)
            })
            .collect()
    }

    /// One page of matching records, and how many match — counted only as far as it takes to
    /// choose how to read the page (at least [`COUNT_CAP`] + 1), so that neither the count nor
    /// the page costs a read of the whole subtree.
    pub async fn search_persons(
        &self,
        filter: &PersonFilter,
        sort: PersonSort,
        page: Page,
    ) -> StoreResult<(Vec<Person>, u64)> {
        self.search_persons_after(filter, sort, page, None).await
    }

    /// Where the page after the record `after` starts, when that record is still in the list:
    /// its sort key. Looked up under the same filter, so that naming a record out of scope
    /// reveals nothing about it; `Offset` otherwise, and the page number decides.
    async fn page_start(&self, filter: &PersonFilter, sort: PersonSort, after: Option<i64>) -> StoreResult<Start> {
        let Some(id) = after else { return Ok(Start::Offset) };
        let (w, mut args) = person_where(self.engine(), filter)?;
        args.push(id.to_string());
        let glue = if w.is_empty() { " WHERE" } else { " AND" };
        let cast = match self.engine() {
            Engine::Sqlite => "INTEGER",
            Engine::Postgres => "BIGINT",
        };
        let sql = format!(
            "SELECT CAST({} AS TEXT) FROM persons p{w}{glue} p.id = CAST(${} AS {cast})",
            sort.key_column(),
            args.len()
        );
        let key: Option<String> = on_pool!(self, pool => {
            let mut q = sqlx::query_scalar(&sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_optional(pool).await
        })
        .context("finding where a page starts")?;
        Ok(key.map_or(Start::Offset, |key| Start::After { key, id }))
    }

    /// A page of a person search that starts after the record `after` (the last of the page
    /// before) when it is given and still in the list: keyset paging, as quick on page 500 as
    /// on page 1. The count is the same as [`Store::search_persons`]'s.
    pub async fn search_persons_after(
        &self,
        filter: &PersonFilter,
        sort: PersonSort,
        page: Page,
        after: Option<i64>,
    ) -> StoreResult<(Vec<Person>, u64)> {
        let engine = self.engine();
        let start = self.page_start(filter, sort, after).await?;
        if let Some(head) = name_head(engine, filter, sort) {
            return self.search_by_head(filter, &head, page, &start).await;
        }
        let (from, text_part) = matches_source(engine, filter);
        let mut args = Vec::new();
        let w = person_where_part(engine, filter, Walk::Range, text_part, &mut args)?;
        // A text in name order is always read through the name index and sorted (see below):
        // nothing to decide, so the count goes only as far as the count shown.
        let sorted_text = filter.text.is_some() && sort == PersonSort::Name;
        let reach = if sorted_text {
            COUNT_CAP + 1
        } else {
            // Sorting n matches costs about n rows; walking the order's index costs about
            // page × N / n rows for N records. They meet at n = √(page × N): count that far.
            let records: Option<i64> = on_pool!(self, pool => sqlx::query_scalar("SELECT MAX(id) FROM persons")
                .fetch_one(pool).await)
            .context("sizing a person search")?;
            // Read from PostgreSQL's index rows, a match costs no record's lookup: the two meet
            // later (王琴's 17,844 matches at 10M: 110 ms read from the index rows against
            // 1.4 s with each looked up, the planner's choice for the walk's query).
            let looked_up = filter.text.as_deref().is_some_and(|t| !domain::person::is_id_digits(t.trim()))
                && !reads_index_rows(engine, filter);
            walk_threshold(records.unwrap_or(0).max(0) as u64, u64::from(page.size), looked_up)
        };
        let count_sql = format!("SELECT COUNT(*) FROM (SELECT 1{from}{w} LIMIT {reach}) AS c");
        let counted: i64 = on_pool!(self, pool => {
            let mut q = sqlx::query_scalar(&count_sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_one(pool).await
        })
        .context("counting persons")?;
        // A text that matches as many records walks the order too, looking each row up in the
        // set of matches, rather than reading and sorting every match — except in name order,
        // where a surname's matches lie together and the walk would pass every name before
        // them (measured at 1M: 李 by newest move 32 ms walking against 362 ms sorting; 王 by
        // name 515 ms walking against 298 ms sorting).
        let walk = if counted as u64 >= reach && !sorted_text { Walk::InOrder } else { Walk::Range };
        let (list_sql, args) = person_list_sql(engine, filter, sort, page, walk, &start)?;
        let rows: Vec<Person> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&list_sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_all(pool).await
        })
        .context("searching persons")?;
        Ok((all_opened(rows)?, counted.max(0) as u64))
    }

    /// [`Store::search_persons_after`] for a text with a head, in name order: the count and the
    /// page each in two parts (see [`person_head_page_sql`]).
    async fn search_by_head(
        &self,
        filter: &PersonFilter,
        head: &search::NameHead,
        page: Page,
        start: &Start,
    ) -> StoreResult<(Vec<Person>, u64)> {
        let engine = self.engine();
        let reach = COUNT_CAP + 1;
        let mut args = Vec::new();
        let starting = person_where_part(engine, filter, Walk::Range, TextPart::Starting(head), &mut args)?;
        let (others_from, others_text) = others_source(engine, filter, head);
        let others = person_where_part(engine, filter, Walk::Range, others_text, &mut args)?;
        let count_sql = format!(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM persons p{starting} LIMIT {reach}) AS s) \
             + (SELECT COUNT(*) FROM (SELECT 1{others_from}{others} LIMIT {reach}) AS t)"
        );
        let counted: i64 = on_pool!(self, pool => {
            let mut q = sqlx::query_scalar(&count_sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_one(pool).await
        })
        .context("counting persons")?;
        let (list_sql, args) = person_head_page_sql(engine, filter, head, page, start)?;
        let rows: Vec<Person> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&list_sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_all(pool).await
        })
        .context("searching persons")?;
        Ok((all_opened(rows)?, (counted.max(0) as u64).min(reach)))
    }

    /// The plan the database chooses for a person search's page (walking the sort order's index
    /// when `in_order`, as a search where most of a large subtree matches does). On PostgreSQL
    /// sequential scans are priced out, so a `Seq Scan` left in the plan means no index serves
    /// the query; on SQLite it is `EXPLAIN QUERY PLAN`'s lines, where a bare `SCAN` is a full scan.
    pub async fn explain_person_search(
        &self,
        filter: &PersonFilter,
        sort: PersonSort,
        page: Page,
        in_order: bool,
        after: Option<i64>,
    ) -> StoreResult<String> {
        let walk = if in_order { Walk::InOrder } else { Walk::Range };
        let start = self.page_start(filter, sort, after).await?;
        let (sql, args) = match name_head(self.engine(), filter, sort) {
            Some(head) => person_head_page_sql(self.engine(), filter, &head, page, &start)?,
            None => person_list_sql(self.engine(), filter, sort, page, walk, &start)?,
        };
        // Sorting priced out too: a text's matches read and sorted must have no index to walk
        // instead (PostgreSQL's planner would walk one at scale, see `person_list_sql`).
        self.explain_with(&sql, &args, &["enable_sort"], "explaining a person search").await
    }

    /// Up to `limit` records after `after_id` (by id) matching the filter: for streaming exports
    /// and scans in batches without holding them all.
    pub async fn persons_after(&self, filter: &PersonFilter, after_id: i64, limit: u32) -> StoreResult<Vec<Person>> {
        let (w, mut args) = person_where(self.engine(), filter)?;
        args.push(after_id.to_string());
        let glue = if w.is_empty() { " WHERE" } else { " AND" };
        let cast = match self {
            Store::Sqlite(_) => format!("CAST(${} AS INTEGER)", args.len()),
            Store::Postgres(_) => format!("CAST(${} AS BIGINT)", args.len()),
        };
        let sql = format!(
            "SELECT {PERSON_COLUMNS} FROM persons p JOIN org_units o ON o.code = p.managing_unit{w}{glue} p.id > {cast} ORDER BY p.id LIMIT {limit}"
        );
        let rows = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_all(pool).await
        })
        .context("reading persons in batches")?;
        all_opened(rows)
    }

    /// Active records with this ID number inside a management range (`None`: anywhere).
    pub async fn persons_with_id_number(
        &self,
        id_number: &str,
        managing: Option<&(String, String)>,
    ) -> StoreResult<Vec<Person>> {
        all_opened(self.persons_with_id_index_as_stored(&seal::id_index(id_number)?, managing).await?)
    }

    /// Active records whose ID number has this blind index, their sealed columns as stored: the
    /// bench's measure of what a lookup costs without sealing.
    pub async fn persons_with_id_index_as_stored(
        &self,
        index: &str,
        managing: Option<&(String, String)>,
    ) -> StoreResult<Vec<Person>> {
        let filter = PersonFilter { managing: managing.cloned(), ..Default::default() };
        let (w, mut args) = person_where(self.engine(), &filter)?;
        args.push(index.to_owned());
        let glue = if w.is_empty() { " WHERE" } else { " AND" };
        let sql = format!(
            "SELECT {PERSON_COLUMNS} FROM persons p JOIN org_units o ON o.code = p.managing_unit{w}{glue} p.id_index = ${} ORDER BY p.id",
            args.len()
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_all(pool).await
        })
        .context("looking up an ID number")
    }
}
