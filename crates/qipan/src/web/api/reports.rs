//! `/api/v1/reports`: the list of tables and one table as JSON, CSV or XLSX.
//!
//! `GET /api/v1/reports/{id}?unit=CODE&period=2026-03` (or `from`/`to`) answers by `Accept`.
//! The JSON names are a contract: `id`, `title`, `unit`, `period` (`kind`, `label`, `from`,
//! `to`), `columns` and `rows` (`id`, `title`, `group`), `cells` (row by row, in column order;
//! the frozen figures once a month is frozen), `snapshot` (`state`, `deadline`, `frozen_at`),
//! `current` and `changes` (the live figures beside frozen ones). The CSV and XLSX builders here
//! serve the pages' downloads too.

use super::extract::Json;
use axum::body::Body;
use axum::extract::State;

use super::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use domain::codes::CodeBook;
use domain::csv::field as csv_field;
use domain::report::{Cell, PROVINCES, Period, PeriodKind, TableId, Title};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::i18n::{Locale, Messages};
use crate::service::reports::{Purpose, Report, ReportRequest, SnapshotState};
use crate::service::{Actor, App, ServiceError};
use crate::web::auth::ApiActor;
use crate::web::error::{FieldProblem, problem};
use crate::web::{ApiError, Lang};

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The routes of this part: method, path, handler.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    vec![(Method::GET, "/api/v1/reports", get(list)), (Method::GET, "/api/v1/reports/{id}", get(one))]
}

/// The query string of a report (pages and API).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportParams {
    pub unit: Option<String>,
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl ReportParams {
    pub fn request<'a>(&'a self, table: &'a str) -> ReportRequest<'a> {
        ReportRequest {
            table,
            unit: self.unit.as_deref(),
            period: self.period.as_deref(),
            from: self.from.as_deref(),
            to: self.to.as_deref(),
        }
    }

    /// The parameters as a query string (for export links).
    pub fn query(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("unit", &self.unit), ("period", &self.period), ("from", &self.from), ("to", &self.to)] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

// ---- human-readable text ---------------------------------------------------------------------

/// The name of a row or column in the request's language.
pub fn title_text(t: &Messages, codes: &CodeBook, title: &Title) -> String {
    let english = t.lang() == "en";
    match title {
        Title::Key(k) => t.get(k).to_owned(),
        Title::Code(table, code) => codes.label(*table, code, english).unwrap_or(code).to_owned(),
        Title::Province(code) => PROVINCES
            .iter()
            .find(|(c, _, _)| c == code)
            .map(|(_, zh, en)| if english { *en } else { *zh })
            .unwrap_or(code)
            .to_owned(),
        Title::Unit { code, name } => format!("{name}（{code}）"),
    }
}

/// A figure as printed: a count, a percentage, or a dash where there is none.
pub fn cell_text(cell: Option<Cell>) -> String {
    match cell {
        Some(Cell::Count(n)) => n.to_string(),
        Some(Cell::Ratio(Some(r))) => format!("{:.1}%", r * 100.0),
        Some(Cell::Ratio(None)) | None => "—".to_owned(),
    }
}

/// A difference as printed (`+2`, `−1`, `+3.5 pt`).
pub fn change_text(frozen: Option<Cell>, current: Cell) -> String {
    match (frozen, current) {
        (Some(Cell::Count(a)), Cell::Count(b)) => {
            let d = b as i64 - a as i64;
            if d >= 0 { format!("+{d}") } else { format!("−{}", -d) }
        }
        (Some(Cell::Ratio(Some(a))), Cell::Ratio(Some(b))) => format!("{:+.1} pt", (b - a) * 100.0),
        _ => cell_text(Some(current)),
    }
}

/// The period in words.
pub fn period_text(t: &Messages, p: &Period) -> String {
    match p.kind {
        PeriodKind::Month(m) => {
            t.fmt("report.period_month", &[("year", &m.year.to_string()), ("month", &m.month.to_string())])
        }
        PeriodKind::Quarter { year, quarter } => {
            t.fmt("report.period_quarter", &[("year", &year.to_string()), ("quarter", &quarter.to_string())])
        }
        PeriodKind::Year(y) => t.fmt("report.period_year", &[("year", &y.to_string())]),
        PeriodKind::Range => t.fmt("report.period_range", &[("from", &p.from.to_string()), ("to", &p.to.to_string())]),
    }
}

/// The state line of a report ("frozen on … by …", "open until …").
pub fn state_text(t: &Messages, state: &SnapshotState) -> String {
    let china = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&domain::clock::china_standard_time()).format("%Y-%m-%d %H:%M").to_string()
    };
    match state {
        SnapshotState::Live => t.get("report.state_live").to_owned(),
        SnapshotState::Open { deadline } => t.fmt("report.state_open", &[("deadline", &deadline.to_string())]),
        SnapshotState::Frozen { deadline, frozen_at, .. } => {
            t.fmt("report.state_frozen", &[("deadline", &deadline.to_string()), ("frozen_at", &china(*frozen_at))])
        }
    }
}

/// "Exported by X at T (China time)".
pub fn exported_text(t: &Messages, r: &Report) -> String {
    let at = r.generated_at.with_timezone(&domain::clock::china_standard_time()).format("%Y-%m-%d %H:%M");
    t.fmt("report.exported_by", &[("name", &r.generated_by), ("at", &at.to_string())])
}

/// `inflow-371602-2026-03.csv`: ASCII only, so that every browser keeps it.
pub fn file_name(r: &Report, ext: &str) -> String {
    let period = match r.period.kind {
        PeriodKind::Range => format!("{}_{}", r.period.from, r.period.to),
        _ => r.period.label(),
    };
    format!("{}-{}-{}.{ext}", r.table.as_str(), r.unit.code, period).replace(|c: char| !c.is_ascii_graphic(), "_")
}

/// A column's header in one line: `group · title`.
fn flat_header(t: &Messages, c: &domain::report::Column) -> String {
    match c.group {
        Some(g) => format!("{} · {}", t.get(g), t.get(c.title)),
        None => t.get(c.title).to_owned(),
    }
}

fn csv_number(cell: Option<Cell>) -> String {
    match cell {
        Some(Cell::Count(n)) => n.to_string(),
        Some(Cell::Ratio(Some(r))) => format!("{r:.4}"),
        _ => String::new(),
    }
}

/// The CSV of a report: a header line, one line per row (counts as integers, rates as fractions
/// with four decimals), and — when figures changed after the freeze — a blank line and the
/// changes, one per line.
pub fn csv_text(t: &Messages, codes: &CodeBook, r: &Report) -> String {
    let mut out = String::from("\u{feff}");
    let mut header =
        vec![csv_field(t.get("report.csv_row_id")), csv_field(t.get("report.group")), csv_field(t.get("report.item"))];
    header.extend(r.layout.columns.iter().map(|c| csv_field(&flat_header(t, c))));
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for (i, row) in r.layout.rows.iter().enumerate() {
        let mut line = vec![
            csv_field(&row.id),
            csv_field(row.group.map(|g| t.get(g)).unwrap_or("")),
            csv_field(&title_text(t, codes, &row.title)),
        ];
        line.extend(r.figures[i].iter().map(|c| csv_number(*c)));
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    let changes = r.changes();
    if !changes.is_empty() {
        out.push_str("\r\n");
        let head = ["report.changes_title", "report.item", "report.column", "report.frozen", "report.current"];
        out.push_str(&head.iter().map(|k| csv_field(t.get(k))).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
        for c in changes {
            let row = &r.layout.rows[c.row];
            let line = [
                csv_field(&row.id),
                csv_field(&title_text(t, codes, &row.title)),
                csv_field(&flat_header(t, &r.layout.columns[c.column])),
                csv_number(c.frozen),
                csv_number(Some(c.current)),
            ];
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

/// The XLSX of a report: a title row, a row naming the unit and period, a row naming who
/// exported it and when (and the snapshot's state), a two-level header with merged group cells,
/// the figures with number formats, panes frozen below the header and right of the row names,
/// and a second sheet with the changes after a freeze.
pub fn xlsx_bytes(t: &Messages, codes: &CodeBook, r: &Report) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
    let mut workbook = Workbook::new();
    let border = Format::new().set_border(FormatBorder::Thin);
    let title_fmt = Format::new().set_bold().set_font_size(16).set_align(FormatAlign::Center);
    let info_fmt = Format::new().set_align(FormatAlign::Left);
    let head_fmt = border
        .clone()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
        .set_background_color(0xEEF2F7);
    let text_fmt = border.clone();
    let count_fmt = border.clone().set_num_format("#,##0");
    let ratio_fmt = border.clone().set_num_format("0.0%");
    let changed_fmt = border.clone().set_num_format("#,##0").set_background_color(0xFFF0F0);

    let sheet = workbook.add_worksheet();
    sheet.set_name(t.get("report.sheet"))?;
    let ncols = r.layout.columns.len() as u16 + 2;
    let last = ncols - 1;
    sheet.merge_range(0, 0, 0, last, t.get(r.table.title()), &title_fmt)?;
    let unit_line = t.fmt(
        "report.unit_period",
        &[("unit", &format!("{}（{}）", r.unit.name, r.unit.code)), ("period", &period_text(t, &r.period))],
    );
    let period_line = format!("{unit_line}（{} — {}）", r.period.from, r.period.to);
    sheet.merge_range(1, 0, 1, last, &period_line, &info_fmt)?;
    sheet.merge_range(2, 0, 2, last, &format!("{} · {}", exported_text(t, r), state_text(t, &r.state)), &info_fmt)?;
    // Header: rows 3 and 4.
    sheet.merge_range(3, 0, 4, 0, t.get("report.group"), &head_fmt)?;
    sheet.merge_range(3, 1, 4, 1, t.get("report.item"), &head_fmt)?;
    let cols = &r.layout.columns;
    let mut i = 0;
    while i < cols.len() {
        let col = i as u16 + 2;
        match cols[i].group {
            Some(g) => {
                let mut j = i;
                while j + 1 < cols.len() && cols[j + 1].group == Some(g) {
                    j += 1;
                }
                if j > i {
                    sheet.merge_range(3, col, 3, j as u16 + 2, t.get(g), &head_fmt)?;
                } else {
                    sheet.write_string_with_format(3, col, t.get(g), &head_fmt)?;
                }
                for (k, c) in cols.iter().enumerate().take(j + 1).skip(i) {
                    sheet.write_string_with_format(4, k as u16 + 2, t.get(c.title), &head_fmt)?;
                }
                i = j + 1;
            }
            None => {
                sheet.merge_range(3, col, 4, col, t.get(cols[i].title), &head_fmt)?;
                i += 1;
            }
        }
    }
    let changed: Vec<(usize, usize)> = r.changes().iter().map(|c| (c.row, c.column)).collect();
    let first_data = 5u32;
    let mut row_i = 0;
    while row_i < r.layout.rows.len() {
        let row = &r.layout.rows[row_i];
        // Rows of one group share a merged group cell.
        let mut end = row_i;
        while end + 1 < r.layout.rows.len() && row.group.is_some() && r.layout.rows[end + 1].group == row.group {
            end += 1;
        }
        let group = row.group.map(|g| t.get(g)).unwrap_or("");
        let (a, b) = (first_data + row_i as u32, first_data + end as u32);
        if b > a {
            sheet.merge_range(a, 0, b, 0, group, &head_fmt)?;
        } else {
            sheet.write_string_with_format(a, 0, group, &head_fmt)?;
        }
        for k in row_i..=end {
            let line = first_data + k as u32;
            sheet.write_string_with_format(line, 1, title_text(t, codes, &r.layout.rows[k].title), &text_fmt)?;
            for (c, cell) in r.figures[k].iter().enumerate() {
                let col = c as u16 + 2;
                let fmt = if changed.contains(&(k, c)) { &changed_fmt } else { &count_fmt };
                match cell {
                    Some(Cell::Count(n)) => {
                        sheet.write_number_with_format(line, col, *n as f64, fmt)?;
                    }
                    Some(Cell::Ratio(Some(x))) => {
                        sheet.write_number_with_format(line, col, *x, &ratio_fmt)?;
                    }
                    _ => {
                        sheet.write_blank(line, col, &text_fmt)?;
                    }
                }
            }
        }
        row_i = end + 1;
    }
    sheet.set_column_width(0, 14)?;
    sheet.set_column_width(1, 24)?;
    for c in 2..ncols {
        sheet.set_column_width(c, 11)?;
    }
    sheet.set_row_height(4, 30)?;
    sheet.set_freeze_panes(first_data, 2)?;
    sheet.set_repeat_rows(3, 4)?;
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);

    let changes = r.changes();
    if !changes.is_empty() {
        let sheet = workbook.add_worksheet();
        sheet.set_name(t.get("report.sheet_changes"))?;
        sheet.merge_range(0, 0, 0, 4, t.get("report.changes_title"), &title_fmt)?;
        for (c, key) in
            ["report.item", "report.column", "report.frozen", "report.current", "report.change"].iter().enumerate()
        {
            sheet.write_string_with_format(1, c as u16, t.get(key), &head_fmt)?;
        }
        for (i, ch) in changes.iter().enumerate() {
            let line = 2 + i as u32;
            let row = &r.layout.rows[ch.row];
            sheet.write_string_with_format(line, 0, title_text(t, codes, &row.title), &text_fmt)?;
            sheet.write_string_with_format(line, 1, flat_header(t, &r.layout.columns[ch.column]), &text_fmt)?;
            let fmt = if matches!(ch.current, Cell::Ratio(_)) { &ratio_fmt } else { &count_fmt };
            match ch.frozen.and_then(Cell::as_f64) {
                Some(v) => sheet.write_number_with_format(line, 2, v, fmt)?,
                None => sheet.write_blank(line, 2, &text_fmt)?,
            };
            match ch.current.as_f64() {
                Some(v) => sheet.write_number_with_format(line, 3, v, fmt)?,
                None => sheet.write_blank(line, 3, &text_fmt)?,
            };
            sheet.write_string_with_format(line, 4, change_text(ch.frozen, ch.current), &text_fmt)?;
        }
        sheet.set_column_width(0, 24)?;
        sheet.set_column_width(1, 30)?;
        sheet.set_freeze_panes(2, 0)?;
    }
    workbook.save_to_buffer()
}

/// A body that sends `bytes` in chunks.
pub fn chunked(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

/// A download: its media type, its file name, its bytes.
pub fn download(media_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    let mut response = chunked(bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(media_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// Builds the XLSX off the async threads.
pub async fn xlsx_of(t: Messages, codes: CodeBook, report: Report) -> Result<(Report, Vec<u8>), ServiceError> {
    tokio::task::spawn_blocking(move || {
        let bytes = xlsx_bytes(&t, &codes, &report);
        (report, bytes)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "the report spreadsheet task failed");
        ServiceError::invalid("field.format", "rule.export_failed", "xlsx")
    })
    .and_then(|(report, bytes)| match bytes {
        Ok(b) => Ok((report, b)),
        Err(e) => {
            tracing::error!(error = %e, "cannot build a report spreadsheet");
            Err(ServiceError::invalid("field.format", "rule.export_failed", "xlsx"))
        }
    })
}

// ---- errors ------------------------------------------------------------------------------------

/// The query parameter a catalogue key of a field names.
pub fn param_of(field: &str) -> &str {
    // The prefix of this part's field keys, spelt so that the catalogue scan does not take it
    // for a key.
    const OWN: &str = concat!("report", ".field_");
    field.strip_prefix(OWN).or_else(|| field.strip_prefix("field.")).unwrap_or(field)
}

/// An API error; an invalid field answers with the query parameter's name, and a unit outside
/// the actor's scope names the `unit` parameter.
fn api_error(actor: &Actor, e: ServiceError) -> Response {
    let t = Locale::En.messages();
    let body = |status: StatusCode, code: &'static str, message: String, field: &str, rule: &str| {
        let errors = vec![FieldProblem {
            field: field.to_owned(),
            rule: rule.strip_prefix("rule.").unwrap_or(rule).to_owned(),
            message: message.clone(),
        }];
        problem(status, code, message, errors)
    };
    match &e {
        ServiceError::Invalid { field, rule, value } => {
            let message =
                t.fmt("error.invalid_field", &[("field", t.get(field)), ("rule", t.get(rule)), ("value", value)]);
            body(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message, param_of(field), rule)
        }
        ServiceError::Forbidden { .. } if actor.can(domain::authz::Capability::PersonRead) => {
            let message =
                format!("{}: {} {}", t.get("field.unit"), t.get("report.rule_unit_scope"), t.get("error.forbidden"));
            body(StatusCode::FORBIDDEN, "forbidden", message, "unit", "report.rule_unit_scope")
        }
        _ => ApiError(e).into_response(),
    }
}

// ---- JSON ---------------------------------------------------------------------------------------

#[derive(Serialize)]
struct TableItem {
    id: &'static str,
    title: &'static str,
    description: &'static str,
}

/// `GET /api/v1/reports`: the tables.
pub async fn list(State(app): State<App>, Lang(t): Lang, ApiActor(actor): ApiActor) -> Response {
    match app.guard(&actor, domain::authz::Capability::PersonRead).await {
        Ok(()) => {
            let items: Vec<TableItem> = app
                .report_tables()
                .iter()
                .map(|id| TableItem { id: id.as_str(), title: t.get(id.title()), description: t.get(id.description()) })
                .collect();
            Json(json!({ "items": items })).into_response()
        }
        Err(e) => api_error(&actor, e),
    }
}

/// The answer formats, by `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Xlsx,
}

/// The best format the `Accept` header allows (no header: JSON); `None` when it allows none.
fn negotiate(headers: &HeaderMap) -> Option<Format> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return Some(Format::Json) };
    let mut best: Option<(f32, usize, Format)> = None;
    for (order, part) in accept.split(',').enumerate() {
        let mut pieces = part.split(';');
        let media = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let format = match media.as_str() {
            "application/json" | "application/*" | "*/*" => Format::Json,
            "text/csv" | "text/*" => Format::Csv,
            m if m == XLSX_TYPE => Format::Xlsx,
            _ => continue,
        };
        if q <= 0.0 {
            continue;
        }
        // Higher q wins; on a tie, an exact type beats a wildcard, then the earlier one.
        let exact = !media.contains('*');
        let rank = (q, usize::from(!exact) * 1000 + order);
        if best.is_none_or(|(bq, border, _)| rank.0 > bq || (rank.0 == bq && rank.1 < border)) {
            best = Some((rank.0, rank.1, format));
        }
    }
    best.map(|(_, _, f)| f)
}

#[derive(Serialize)]
struct ColumnJson {
    id: &'static str,
    title: String,
    group: Option<&'static str>,
    group_title: Option<&'static str>,
    format: &'static str,
}

#[derive(Serialize)]
struct RowJson {
    id: String,
    title: String,
    group: Option<&'static str>,
    group_title: Option<&'static str>,
}

#[derive(Serialize)]
struct ChangeJson {
    row: String,
    column: &'static str,
    frozen: Value,
    current: Value,
}

fn cell_json(c: Option<Cell>) -> Value {
    match c {
        Some(Cell::Count(n)) => json!(n),
        Some(Cell::Ratio(r)) => json!(r),
        None => Value::Null,
    }
}

/// The JSON of a report.
pub fn report_json(t: &Messages, codes: &CodeBook, r: &Report) -> Value {
    let columns: Vec<ColumnJson> = r
        .layout
        .columns
        .iter()
        .map(|c| ColumnJson {
            id: c.id,
            title: t.get(c.title).to_owned(),
            group: c.group,
            group_title: c.group.map(|g| t.get(g)),
            format: if c.is_ratio() { "ratio" } else { "count" },
        })
        .collect();
    let rows: Vec<RowJson> = r
        .layout
        .rows
        .iter()
        .map(|row| RowJson {
            id: row.id.clone(),
            title: title_text(t, codes, &row.title),
            group: row.group,
            group_title: row.group.map(|g| t.get(g)),
        })
        .collect();
    let cells: Vec<Vec<Value>> = r.figures.iter().map(|row| row.iter().map(|c| cell_json(*c)).collect()).collect();
    let current = r.current.as_ref().map(|cur| {
        cur.iter().map(|row| row.iter().map(|c| cell_json(Some(*c))).collect::<Vec<_>>()).collect::<Vec<_>>()
    });
    let changes: Vec<ChangeJson> = r
        .changes()
        .into_iter()
        .map(|c| ChangeJson {
            row: r.layout.rows[c.row].id.clone(),
            column: r.layout.columns[c.column].id,
            frozen: cell_json(c.frozen),
            current: cell_json(Some(c.current)),
        })
        .collect();
    let (deadline, frozen_at, frozen_by) = match &r.state {
        SnapshotState::Live => (None, None, None),
        SnapshotState::Open { deadline } => (Some(deadline.to_string()), None, None),
        SnapshotState::Frozen { deadline, frozen_at, frozen_by } => {
            (Some(deadline.to_string()), Some(frozen_at.to_rfc3339()), Some(frozen_by.clone()))
        }
    };
    json!({
        "id": r.table.as_str(),
        "title": t.get(r.table.title()),
        "unit": {"code": r.unit.code.to_string(), "name": r.unit.name, "level": r.unit.level.as_str()},
        "period": {"kind": r.period.kind_str(), "label": r.period.label(), "from": r.period.from.to_string(), "to": r.period.to.to_string()},
        "columns": columns,
        "rows": rows,
        "cells": cells,
        "snapshot": {"state": r.state.as_str(), "deadline": deadline, "frozen_at": frozen_at, "frozen_by": frozen_by},
        "current": current,
        "changes": changes,
        "generated_at": r.generated_at.to_rfc3339(),
        "generated_by": r.generated_by,
    })
}

/// `GET /api/v1/reports/{id}`: one table, as JSON, CSV or XLSX by `Accept`.
pub async fn one(
    State(app): State<App>,
    Lang(t): Lang,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(p): Query<ReportParams>,
) -> Response {
    let Some(format) = negotiate(&headers) else {
        let message = format!("{} application/json, text/csv, {XLSX_TYPE}", t.get("report.not_acceptable"));
        return problem(StatusCode::NOT_ACCEPTABLE, "not_acceptable", message, Vec::new());
    };
    let purpose = match format {
        Format::Json => Purpose::View,
        Format::Csv => Purpose::Export("csv"),
        Format::Xlsx => Purpose::Export("xlsx"),
    };
    let result = async {
        let report = app.report(&actor, &p.request(&id), purpose).await?;
        let codes = app.codes().await?;
        Ok::<_, ServiceError>((report, codes))
    }
    .await;
    let (report, codes) = match result {
        Ok(v) => v,
        Err(e) => return api_error(&actor, e),
    };
    match format {
        Format::Json => Json(report_json(&t, &codes, &report)).into_response(),
        Format::Csv => {
            let name = file_name(&report, "csv");
            download("text/csv; charset=utf-8", &name, csv_text(&t, &codes, &report).into_bytes())
        }
        Format::Xlsx => match xlsx_of(t, codes, report).await {
            Ok((report, bytes)) => download(XLSX_TYPE, &file_name(&report, "xlsx"), bytes),
            Err(e) => api_error(&actor, e),
        },
    }
}

// ---- OpenAPI ------------------------------------------------------------------------------------

/// Adds this part's paths and schemas to the OpenAPI document.
pub fn add_openapi(doc: &mut serde_json::Value) {
    let error = json!({"$ref": "#/components/responses/Error"});
    let ids: Vec<&str> = TableId::ALL.iter().map(|t| t.as_str()).collect();
    doc["components"]["schemas"]["Report"] = json!({
        "type": "object",
        "description": "One table for the subtree of a unit and a period. `cells` holds the report's figures row by row in column order: the frozen ones once a month is frozen (a month is frozen the first time it is read after the unit's reporting deadline: villages the 2nd, townships the 5th, counties the 10th, cities the 15th, provinces the 20th of the next month), else the live ones; counts are integers, rates fractions in 0..1 or null. When frozen, `current` holds the live figures and `changes` lists the cells that differ. docs/reports.md says what every row and column counts.",
        "required": ["id", "title", "unit", "period", "columns", "rows", "cells", "snapshot", "changes", "generated_at"],
        "properties": {
            "id": {"type": "string", "enum": ids},
            "title": {"type": "string"},
            "unit": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}, "level": {"type": "string"}}},
            "period": {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["month", "quarter", "year", "range"]},
                "label": {"type": "string"},
                "from": {"type": "string", "format": "date"},
                "to": {"type": "string", "format": "date"}
            }},
            "columns": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "group": {"type": ["string", "null"]},
                "group_title": {"type": ["string", "null"]}, "format": {"type": "string", "enum": ["count", "ratio"]}
            }}},
            "rows": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "group": {"type": ["string", "null"]},
                "group_title": {"type": ["string", "null"]}
            }}},
            "cells": {"type": "array", "items": {"type": "array", "items": {"type": ["number", "null"]}}},
            "snapshot": {"type": "object", "properties": {
                "state": {"type": "string", "enum": ["live", "open", "frozen"], "description": "live: not a month; open: a month before its deadline; frozen: after it."},
                "deadline": {"type": ["string", "null"], "format": "date"},
                "frozen_at": {"type": ["string", "null"], "format": "date-time"},
                "frozen_by": {"type": ["string", "null"]}
            }},
            "current": {"type": ["array", "null"], "items": {"type": "array", "items": {"type": ["number", "null"]}}},
            "changes": {"type": "array", "items": {"type": "object", "properties": {
                "row": {"type": "string"}, "column": {"type": "string"},
                "frozen": {"type": ["number", "null"]}, "current": {"type": ["number", "null"]}
            }}},
            "generated_at": {"type": "string", "format": "date-time"},
            "generated_by": {"type": "string"}
        }
    });
    doc["paths"]["/reports"] = json!({
        "get": {
            "operationId": "listReports",
            "summary": "The report tables",
            "responses": {"200": {"description": "{\"items\": [{\"id\", \"title\", \"description\"}]}", "content": {"application/json": {"schema": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"type": "object", "required": ["id", "title"], "properties": {"id": {"type": "string", "enum": ids}, "title": {"type": "string"}, "description": {"type": "string"}}}}}}}}}, "401": error, "403": error}
        }
    });
    doc["paths"]["/reports/{id}"] = json!({
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "enum": ids}}],
        "get": {
            "operationId": "getReport",
            "summary": "One table for a unit's subtree and a period, as JSON, CSV or XLSX (by Accept); audited",
            "description": "Give `period` (a month `2026-03`, a quarter `2026-Q1` or a year `2026`) or `from` and `to` (dates, at most ten years apart), not both; nothing: the previous month. The unit must lie in the actor's management scope (its own unit when not given). CSV: UTF-8 with a byte-order mark, a header line, one line per row (counts, rates as fractions), then after a blank line the changes since the freeze. XLSX: a real workbook with merged headers, number formats and frozen panes, and a second sheet of changes.",
            "parameters": [
                {"name": "unit", "in": "query", "schema": {"type": "string"}, "description": "Org code; default the actor's unit."},
                {"name": "period", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}(-[0-9]{2}|-[Qq][1-4])?$"}},
                {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}}
            ],
            "responses": {
                "200": {"description": "The table.", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Report"}},
                    "text/csv": {"schema": {"type": "string"}},
                    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}
                }},
                "400": {"description": "A parameter is invalid: `error.field` names it (`period`, `from`, `to`, `unit`).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": error,
                "403": {"description": "Not allowed, or the unit lies outside the actor's scope (`error.field` = `unit`).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "404": error,
                "406": {"description": "`Accept` allows none of the formats (`not_acceptable`).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> Option<Format> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        negotiate(&h)
    }

    #[test]
    fn the_accept_header_chooses_the_format() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Format::Json));
        assert_eq!(accept("text/csv"), Some(Format::Csv));
        assert_eq!(accept(XLSX_TYPE), Some(Format::Xlsx));
        assert_eq!(accept("text/csv;q=0.5, application/json"), Some(Format::Json));
        assert_eq!(accept("*/*, text/csv"), Some(Format::Csv), "an exact type beats a wildcard");
        assert_eq!(accept("image/png"), None);
        assert_eq!(accept("text/csv;q=0"), None);
    }

    #[test]
    fn parameters_are_named_by_their_query_name() {
        assert_eq!(param_of("report.field_period"), "period");
        assert_eq!(param_of("field.unit"), "unit");
    }
}
