//! Rosters (花名册): a unit's inflow or outflow population with the columns the user picks, as a
//! printable page and as CSV or XLSX downloads. Downloads are audited and streamed: rows are
//! read in batches, so a roster of 100,000 people never sits in memory.

use askama::Template;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use domain::codes::{CodeBook, CodeTable};
use domain::csv::field as csv_field;
use domain::privacy::Disclosure;
use store::{Person, PersonFilter};

use super::Chrome;
use super::orgs::Pager;
use crate::i18n::Messages;
use crate::service::privacy::LIST_DISCLOSURE;
use crate::service::{App, ServiceError};
use crate::web::api::persons::SearchParams;
use crate::web::auth::SignedIn;
use crate::web::error::render;
use crate::web::{Lang, PageError};

const BATCH: u32 = 2000;

/// What a column's value depends on besides the record.
struct Ctx<'a> {
    t: &'a Messages,
    codes: &'a CodeBook,
    /// What the service decided the reader sees; the rows come projected already, the
    /// birth date is cut here by the same rule.
    disclosure: Disclosure,
}

/// A roster column: its parameter name, its header's catalogue key, and its value.
struct Column {
    id: &'static str,
    header: &'static str,
    value: fn(&Person, &Ctx) -> String,
}

fn code(table: CodeTable, v: &Option<String>, c: &Ctx) -> String {
    v.as_deref().map(|v| c.codes.label(table, v, c.t.lang() == "en").unwrap_or(v)).unwrap_or("").to_owned()
}

const COLUMNS: [Column; 18] = [
    Column { id: "name", header: "person.name", value: |p, _| p.name.clone() },
    Column { id: "id_number", header: "person.id_number", value: |p, _| p.id_number.clone().unwrap_or_default() },
    Column { id: "gender", header: "person.gender", value: |p, c| code(CodeTable::Gender, &Some(p.gender.clone()), c) },
    Column { id: "birth_date", header: "person.birth_date", value: |p, c| c.disclosure.birth_date(p.birth_date) },
    Column { id: "ethnicity", header: "person.ethnicity", value: |p, c| code(CodeTable::Ethnicity, &p.ethnicity, c) },
    Column { id: "education", header: "person.education", value: |p, c| code(CodeTable::Education, &p.education, c) },
    Column {
        id: "marital_status",
        header: "person.marital_status",
        value: |p, c| code(CodeTable::MaritalStatus, &p.marital_status, c),
    },
    Column { id: "phone", header: "person.phone", value: |p, _| p.phone.clone().unwrap_or_default() },
    Column { id: "hukou_area", header: "person.hukou_area", value: |p, _| p.hukou_area.clone() },
    Column { id: "hukou_address", header: "person.hukou_address", value: |p, _| p.hukou_address.clone() },
    Column {
        id: "hukou_type",
        header: "person.hukou_type",
        value: |p, c| code(CodeTable::HukouType, &p.hukou_type, c),
    },
    Column { id: "residence_address", header: "person.residence_address", value: |p, _| p.residence_address.clone() },
    Column { id: "managing_unit", header: "roster.unit_name", value: |p, _| p.managing_name.clone() },
    Column {
        id: "direction",
        header: "person.direction",
        value: |p, c| {
            c.t.get(if p.direction == "out" { "person.direction_out" } else { "person.direction_in" }).to_owned()
        },
    },
    Column { id: "moved_on", header: "person.moved_on", value: |p, _| p.moved_on.to_string() },
    Column {
        id: "move_reason",
        header: "person.move_reason",
        value: |p, c| code(CodeTable::MoveReason, &p.move_reason, c),
    },
    Column { id: "registered_on", header: "person.registered_on", value: |p, _| p.registered_on.to_string() },
    Column {
        id: "days_late",
        header: "roster.days_late",
        value: |p, _| domain::record::days_late(p.moved_on, p.registered_on).to_string(),
    },
];

const DEFAULT_COLUMNS: [&str; 8] =
    ["name", "id_number", "gender", "birth_date", "hukou_address", "residence_address", "moved_on", "phone"];

/// The query string of a roster: the search parameters plus repeated `col`.
struct RosterParams {
    search: SearchParams,
    columns: Vec<&'static Column>,
    raw: Vec<(String, String)>,
}

fn parse(pairs: Vec<(String, String)>) -> Result<RosterParams, ServiceError> {
    let mut search = SearchParams::default();
    let mut wanted: Vec<String> = Vec::new();
    for (k, v) in &pairs {
        match k.as_str() {
            "q" => search.q = Some(v.clone()),
            "unit" => search.unit = Some(v.clone()),
            "direction" => search.direction = Some(v.clone()),
            "origin" => search.origin = Some(v.clone()),
            "include_ended" => search.include_ended = Some(v.clone()),
            "key_person" => search.key_person = Some(v.clone()),
            "moved_from" => search.moved_from = Some(v.clone()),
            "moved_to" => search.moved_to = Some(v.clone()),
            "residence" => search.residence = Some(v.clone()),
            "page" => search.page = Some(v.clone()),
            "col" => wanted.push(v.clone()),
            _ => {}
        }
    }
    search.sort = Some("name".to_owned());
    search.per_page = Some("200".to_owned());
    let columns: Vec<&'static Column> = if wanted.is_empty() {
        COLUMNS.iter().filter(|c| DEFAULT_COLUMNS.contains(&c.id)).collect()
    } else {
        let mut cols = Vec::new();
        for w in &wanted {
            let c = COLUMNS
                .iter()
                .find(|c| c.id == w)
                .ok_or_else(|| ServiceError::invalid("field.col", "rule.column", w))?;
            cols.push(c);
        }
        cols
    };
    Ok(RosterParams { search, columns, raw: pairs })
}

#[derive(Template)]
#[template(path = "roster.html")]
struct RosterPage {
    t: Messages,
    chrome: Chrome,
    choices: Vec<(&'static str, &'static str, bool)>,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    pager: Pager,
    direction: String,
    unit: String,
    query: String,
    unit_title: String,
    printed: String,
}

pub async fn page(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let t = lang.0;
    let result = async {
        let p = parse(pairs)?;
        let listing = app.search_persons(&actor, &p.search.to_query()?).await?;
        Ok::<_, ServiceError>((p, listing, app.codes().await?))
    }
    .await;
    let (p, listing, codes) = match result {
        Ok(v) => v,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(p.raw.iter().filter(|(k, _)| k != "page"))
        .finish();
    let keep: Vec<(&str, Option<&str>)> = vec![];
    let mut pager = Pager::new(&listing, "/persons/roster", &keep);
    let link = |n: u32| format!("/persons/roster?{query}{}page={n}", if query.is_empty() { "" } else { "&" });
    pager.prev = (listing.page.number > 1).then(|| link(listing.page.number - 1));
    pager.next = listing.has_next().then(|| link(listing.page.number + 1));
    let unit_title = match &p.search.unit {
        Some(u) if !u.trim().is_empty() => u.clone(),
        _ => format!("{} ({})", actor.org_name, actor.org),
    };
    let page = RosterPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/persons", &uri),
        choices: COLUMNS.iter().map(|c| (c.id, t.get(c.header), p.columns.iter().any(|x| x.id == c.id))).collect(),
        headers: p.columns.iter().map(|c| t.get(c.header)).collect(),
        rows: {
            let ctx = Ctx { t: &t, codes: &codes, disclosure: LIST_DISCLOSURE };
            listing.items.iter().map(|r| p.columns.iter().map(|c| (c.value)(r, &ctx)).collect()).collect()
        },
        pager,
        direction: p.search.direction.clone().unwrap_or_default(),
        unit: p.search.unit.clone().unwrap_or_default(),
        query,
        unit_title,
        printed: format!(
            "{} · {}",
            actor.display_name,
            app.clock.now().with_timezone(&domain::clock::china_standard_time()).format("%Y-%m-%d %H:%M")
        ),
    };
    render(&page, t)
}

async fn begin(
    app: &App,
    lang: Lang,
    actor: &crate::service::Actor,
    pairs: Vec<(String, String)>,
    format: &str,
) -> Result<(RosterParams, (PersonFilter, Disclosure)), Response> {
    let result = async {
        let p = parse(pairs)?;
        let filter = app.begin_person_export(actor, &p.search.to_query()?, format).await?;
        Ok::<_, ServiceError>((p, filter))
    }
    .await;
    result.map_err(|e| PageError::new(lang, e).into_response())
}

fn attachment(name: &str) -> String {
    format!("attachment; filename=\"{name}\"")
}

/// `GET /persons/roster.csv`: streamed in batches, full values to those who may write the records
/// (the export is audited).
pub async fn csv(
    State(app): State<App>,
    lang: Lang,
    SignedIn(actor): SignedIn,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let t = lang.0;
    let (p, (filter, disclosure)) = match begin(&app, lang, &actor, pairs, "csv").await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let codes = match app.codes().await {
        Ok(c) => std::sync::Arc::new(c),
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let columns = p.columns;
    let header: String =
        format!("\u{feff}{}\r\n", columns.iter().map(|c| csv_field(t.get(c.header))).collect::<Vec<_>>().join(","));
    let state = Some((app, filter, 0i64, Some(header)));
    let stream = futures_util::stream::unfold(state, move |state| {
        let columns = columns.clone();
        let codes = codes.clone();
        async move {
            let (app, filter, after, header) = state?;
            if let Some(h) = header {
                return Some((Ok::<_, std::io::Error>(h), Some((app, filter, after, None))));
            }
            match app.person_batch(&filter, disclosure, after, BATCH).await {
                Ok(batch) if batch.is_empty() => None,
                Ok(batch) => {
                    let last = batch.last().map(|p| p.id).unwrap_or(after);
                    let mut chunk = String::new();
                    for person in &batch {
                        let line: Vec<String> = columns
                            .iter()
                            .map(|c| csv_field(&(c.value)(person, &Ctx { t: &t, codes: &codes, disclosure })))
                            .collect();
                        chunk.push_str(&line.join(","));
                        chunk.push_str("\r\n");
                    }
                    Some((Ok(chunk), Some((app, filter, last, None))))
                }
                Err(e) => {
                    tracing::error!(error = %e, "roster export failed part-way");
                    Some((Err(std::io::Error::other("roster export failed")), None))
                }
            }
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, attachment("roster.csv")),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// `GET /persons/roster.xlsx`: a real spreadsheet written in rust_xlsxwriter's constant-memory
/// mode (rows go to a temporary file as they come), then streamed from that file.
pub async fn xlsx(
    State(app): State<App>,
    lang: Lang,
    SignedIn(actor): SignedIn,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let t = lang.0;
    let (p, (filter, disclosure)) = match begin(&app, lang, &actor, pairs, "xlsx").await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let codes = match app.codes().await {
        Ok(c) => c,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let columns = p.columns;
    let runtime = tokio::runtime::Handle::current();
    let built = tokio::task::spawn_blocking(move || -> Result<tempfile::NamedTempFile, String> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet_with_constant_memory().map_err(|e| e.to_string())?;
        sheet.set_name(t.get("roster.sheet")).map_err(|e| e.to_string())?;
        let bold = Format::new().set_bold();
        for (i, c) in columns.iter().enumerate() {
            sheet.write_string_with_format(0, i as u16, t.get(c.header), &bold).map_err(|e| e.to_string())?;
            sheet.set_column_width(i as u16, if c.id == "id_number" { 22 } else { 14 }).map_err(|e| e.to_string())?;
        }
        let mut row = 1u32;
        let mut after = 0i64;
        loop {
            let batch =
                runtime.block_on(app.person_batch(&filter, disclosure, after, BATCH)).map_err(|e| e.to_string())?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            for person in &batch {
                for (i, c) in columns.iter().enumerate() {
                    sheet
                        .write_string(row, i as u16, (c.value)(person, &Ctx { t: &t, codes: &codes, disclosure }))
                        .map_err(|e| e.to_string())?;
                }
                row += 1;
            }
        }
        let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        workbook.save(file.path()).map_err(|e| e.to_string())?;
        Ok(file)
    })
    .await;
    let file = match built {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot build the roster spreadsheet");
            return PageError::new(lang, ServiceError::invalid("field.format", "rule.export_failed", ""))
                .into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "the spreadsheet task failed");
            return PageError::new(lang, ServiceError::invalid("field.format", "rule.export_failed", ""))
                .into_response();
        }
    };
    // The temporary file is removed once the body has been sent (it lives in the stream).
    let reopened = match tokio::fs::File::open(file.path()).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "cannot reopen the roster spreadsheet");
            return PageError::new(lang, ServiceError::invalid("field.format", "rule.export_failed", ""))
                .into_response();
        }
    };
    let stream = futures_util::stream::unfold((reopened, file), |(mut f, keep)| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), (f, keep)))
            }
            Err(e) => Some((Err(e), (f, keep))),
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
            (header::CONTENT_DISPOSITION, attachment("roster.xlsx")),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
