//! Report pages (报表): the list of tables with the form (unit, period), one table as a page
//! that prints cleanly (`/reports/{id}`), its downloads (`/reports/{id}.csv`,
//! `/reports/{id}.xlsx`, one route since the router matches whole segments), and the deadline
//! states of a month (`/reports/snapshots`). Downloads are audited by the service before any
//! figure leaves; both are sent as a stream.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use domain::report::TableId;
use serde::Deserialize;

use super::Chrome;
use crate::i18n::Messages;
use crate::service::reports::{Purpose, Report};
use crate::service::{Actor, App, ServiceError};
use crate::web::auth::SignedIn;
use crate::web::error::{message_of, render};
use crate::web::export::{
    ReportParams, XLSX_TYPE, cell_text, change_text, csv_text, download, exported_text, file_name, period_text,
    state_text, title_text, xlsx_of,
};
use crate::web::{Lang, PageError};

/// The routes of this part: method, path, handler.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    vec![
        (Method::GET, "/reports", get(index)),
        (Method::GET, "/reports/snapshots", get(snapshots)),
        (Method::GET, "/reports/{id}", get(table)),
    ]
}

struct TableLink {
    id: &'static str,
    title: &'static str,
    about: &'static str,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct IndexPage {
    t: Messages,
    chrome: Chrome,
    tables: Vec<TableLink>,
    unit: String,
    period: String,
    from: String,
    to: String,
    error: Option<String>,
}

fn value(v: &Option<String>) -> String {
    v.as_deref().unwrap_or("").trim().to_owned()
}

fn index_page(app: &App, t: Messages, actor: &Actor, uri: &Uri, p: &ReportParams, error: Option<String>) -> IndexPage {
    let no_period = [&p.period, &p.from, &p.to].iter().all(|v| value(v).is_empty());
    IndexPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/reports", uri),
        tables: app
            .report_tables()
            .iter()
            .map(|id| TableLink { id: id.as_str(), title: t.get(id.title()), about: t.get(id.description()) })
            .collect(),
        unit: if p.unit.is_some() { value(&p.unit) } else { actor.org.to_string() },
        period: if no_period { app.default_report_month().to_string() } else { value(&p.period) },
        from: value(&p.from),
        to: value(&p.to),
        error,
    }
}

/// `GET /reports`: the tables and the form.
pub async fn index(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<ReportParams>,
) -> Response {
    let t = lang.0;
    if let Err(e) = app.guard(&actor, domain::authz::Capability::PersonRead).await {
        return PageError::new(lang, e).into_response();
    }
    render(&index_page(&app, t, &actor, &uri, &p, None), t)
}

struct HeadCell {
    text: String,
    colspan: usize,
    rowspan: usize,
}

struct BodyCell {
    text: String,
    /// The difference from the frozen figure, when the live one differs.
    change: Option<String>,
    current: String,
}

struct BodyRow {
    /// The group's name, on the first row of each group.
    group: Option<String>,
    id: String,
    title: String,
    cells: Vec<BodyCell>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct TablePage {
    t: Messages,
    chrome: Chrome,
    id: &'static str,
    title: &'static str,
    unit: String,
    period: String,
    from: String,
    to: String,
    unit_title: String,
    period_title: String,
    state: &'static str,
    state_line: String,
    exported: String,
    query: String,
    top: Vec<HeadCell>,
    sub: Vec<String>,
    body: Vec<BodyRow>,
    width: usize,
    empty: bool,
    changes: usize,
}

fn table_page(
    app: &App,
    t: Messages,
    actor: &Actor,
    uri: &Uri,
    p: &ReportParams,
    r: &Report,
    codes: &domain::codes::CodeBook,
) -> TablePage {
    let cols = &r.layout.columns;
    let mut top = vec![HeadCell { text: t.get("report.item").to_owned(), colspan: 1, rowspan: 2 }];
    let mut sub = Vec::new();
    let mut i = 0;
    while i < cols.len() {
        match cols[i].group {
            Some(g) => {
                let mut j = i;
                while j + 1 < cols.len() && cols[j + 1].group == Some(g) {
                    j += 1;
                }
                top.push(HeadCell { text: t.get(g).to_owned(), colspan: j - i + 1, rowspan: 1 });
                sub.extend(cols[i..=j].iter().map(|c| t.get(c.title).to_owned()));
                i = j + 1;
            }
            None => {
                top.push(HeadCell { text: t.get(cols[i].title).to_owned(), colspan: 1, rowspan: 2 });
                i += 1;
            }
        }
    }
    let changes = r.changes();
    let mut body = Vec::with_capacity(r.layout.rows.len());
    let mut last_group = None;
    for (ri, row) in r.layout.rows.iter().enumerate() {
        let group = (row.group != last_group).then(|| row.group.map(|g| t.get(g).to_owned()).unwrap_or_default());
        last_group = row.group;
        let cells = r.figures[ri]
            .iter()
            .enumerate()
            .map(|(ci, cell)| {
                let change = changes.iter().find(|c| c.row == ri && c.column == ci);
                BodyCell {
                    text: cell_text(*cell),
                    change: change.map(|c| change_text(c.frozen, c.current)),
                    current: change.map(|c| cell_text(Some(c.current))).unwrap_or_default(),
                }
            })
            .collect();
        body.push(BodyRow { group, id: row.id.clone(), title: title_text(&t, codes, &row.title), cells });
    }
    TablePage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/reports", uri),
        id: r.table.as_str(),
        title: t.get(r.table.title()),
        unit: r.unit.code.to_string(),
        period: value(&p.period),
        from: value(&p.from),
        to: value(&p.to),
        unit_title: format!("{}（{}）", r.unit.name, r.unit.code),
        period_title: format!("{}（{} — {}）", period_text(&t, &r.period), r.period.from, r.period.to),
        state: r.state.as_str(),
        state_line: state_text(&t, &r.state),
        exported: exported_text(&t, r),
        query: p.query(),
        top,
        sub,
        body,
        width: cols.len() + 1,
        empty: r.is_empty(),
        changes: changes.len(),
    }
}

/// The form again, with the refusal naming the field and the rule.
fn refused(app: &App, lang: Lang, actor: &Actor, uri: &Uri, p: &ReportParams, e: ServiceError) -> Response {
    let t = lang.0;
    let status = match &e {
        ServiceError::Invalid { .. } => StatusCode::BAD_REQUEST,
        // A unit outside the actor's area (the guard has audited it).
        ServiceError::Forbidden { .. } if actor.can(domain::authz::Capability::PersonRead) => StatusCode::FORBIDDEN,
        _ => return PageError::new(lang, e).into_response(),
    };
    let message = match &e {
        ServiceError::Forbidden { .. } => {
            format!("{}: {} {}", t.get("field.unit"), t.get("report.rule_unit_scope"), t.get("error.forbidden"))
        }
        _ => message_of(&e, &t).1,
    };
    let mut response = render(&index_page(app, t, actor, uri, p, Some(message)), t);
    *response.status_mut() = status;
    response
}

/// `GET /reports/{id}` (a page), `/reports/{id}.csv` and `/reports/{id}.xlsx` (downloads).
pub async fn table(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Path(id): Path<String>,
    Query(p): Query<ReportParams>,
) -> Response {
    let t = lang.0;
    let (name, format) = match id.rsplit_once('.') {
        Some((name, "csv")) => (name.to_owned(), Some("csv")),
        Some((name, "xlsx")) => (name.to_owned(), Some("xlsx")),
        _ => (id.clone(), None),
    };
    if TableId::parse(&name).is_none() {
        // An unknown table is a missing page, whatever the parameters say.
        let e = ServiceError::NotFound { what: "report.thing_table", key: id.clone() };
        return PageError::new(lang, e).into_response();
    }
    let purpose = format.map(Purpose::Export).unwrap_or(Purpose::View);
    let result = async {
        let report = app.report(&actor, &p.request(&name), purpose).await?;
        let codes = app.codes().await?;
        Ok::<_, ServiceError>((report, codes))
    }
    .await;
    let (report, codes) = match result {
        Ok(v) => v,
        Err(e) => return refused(&app, lang, &actor, &uri, &p, e),
    };
    match format {
        Some("csv") => {
            download("text/csv; charset=utf-8", &file_name(&report, "csv"), csv_text(&t, &codes, &report).into_bytes())
        }
        Some(_) => match xlsx_of(t, codes, report).await {
            Ok((report, bytes)) => download(XLSX_TYPE, &file_name(&report, "xlsx"), bytes),
            Err(e) => PageError::new(lang, e).into_response(),
        },
        None => render(&table_page(&app, t, &actor, &uri, &p, &report, &codes), t),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct BoardParams {
    unit: Option<String>,
    month: Option<String>,
}

struct BoardLine {
    code: String,
    name: String,
    level: &'static str,
    deadline: String,
    state: &'static str,
    state_label: &'static str,
    frozen: String,
    own: bool,
}

#[derive(Template)]
#[template(path = "report_snapshots.html")]
struct BoardPage {
    t: Messages,
    chrome: Chrome,
    unit: String,
    month: String,
    title: String,
    lines: Vec<BoardLine>,
    error: Option<String>,
}

/// `GET /reports/snapshots?unit=&month=`: whether each unit's month is open or frozen.
pub async fn snapshots(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<BoardParams>,
) -> Response {
    let t = lang.0;
    let board = match app.report_board(&actor, p.unit.as_deref(), p.month.as_deref()).await {
        Ok(b) => b,
        Err(e @ ServiceError::Invalid { .. }) => {
            let page = BoardPage {
                t,
                chrome: Chrome::for_request(&app, &t, Some(&actor), "/reports", &uri),
                unit: value(&p.unit),
                month: value(&p.month),
                title: String::new(),
                lines: Vec::new(),
                error: Some(message_of(&e, &t).1),
            };
            let mut response = render(&page, t);
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return response;
        }
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let china = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&domain::clock::china_standard_time()).format("%m-%d %H:%M").to_string()
    };
    let lines = board
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| BoardLine {
            code: r.unit.code.to_string(),
            name: r.unit.name.clone(),
            level: t.level(r.unit.level),
            deadline: r.deadline.to_string(),
            state: r.state,
            state_label: t.get(match r.state {
                "open" => "reports.state_open",
                "frozen" => "reports.state_frozen",
                _ => "reports.state_due",
            }),
            frozen: r
                .frozen
                .iter()
                .map(|(table, at)| format!("{} {}", t.get(table.short_title()), china(*at)))
                .collect::<Vec<_>>()
                .join("；"),
            own: i == 0,
        })
        .collect();
    let page = BoardPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/reports", &uri),
        unit: board.unit.code.to_string(),
        month: board.month.to_string(),
        title: format!("{}（{}）· {}", board.unit.name, board.unit.code, board.month),
        lines,
        error: None,
    };
    render(&page, t)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ratio_cells_print_as_percentages() {
        use domain::report::Cell;
        assert_eq!(super::cell_text(Some(Cell::Ratio(Some(0.955)))), "95.5%");
        assert_eq!(super::cell_text(Some(Cell::Count(12))), "12");
        assert_eq!(super::cell_text(None), "—");
    }
}
