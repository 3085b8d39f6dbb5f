//! `/api/v1/reports`: the list of tables and one table as JSON, CSV or XLSX.
//!
//! `GET /api/v1/reports/{id}?unit=CODE&period=2026-03` (or `from`/`to`) answers by `Accept`.
//! The JSON names are a contract: `id`, `title`, `unit`, `period` (`kind`, `label`, `from`,
//! `to`), `columns` and `rows` (`id`, `title`, `group`), `cells` (row by row, in column order;
//! the frozen figures once a month is frozen), `snapshot` (`state`, `deadline`, `frozen_at`),
//! `current` and `changes` (the live figures beside frozen ones). The CSV and XLSX builders here
//! serve the pages' downloads too.

use super::extract::Json;
use axum::extract::State;

use super::extract::{Path, Query};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use domain::codes::CodeBook;
use domain::report::{Cell, TableId};
use serde::Serialize;
use serde_json::{Value, json};

use crate::i18n::{Locale, Messages};
use crate::service::reports::{Purpose, Report, SnapshotState};
use crate::service::{Actor, App, ServiceError};
use crate::web::auth::ApiActor;
use crate::web::error::{FieldProblem, problem};
use crate::web::export::{ReportParams, XLSX_TYPE, csv_text, download, file_name, title_text, xlsx_of};
use crate::web::{ApiError, Lang};

/// The routes of this part: method, path, handler.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    vec![(Method::GET, "/api/v1/reports", get(list)), (Method::GET, "/api/v1/reports/{id}", get(one))]
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
        "figures_from": r.figures_from,
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
            "generated_by": {"type": "string"},
            "figures_from": {"type": "string", "enum": ["rollups", "records"], "description": "Where the live figures were read: `rollups`, the month's grouped rows kept per unit as the records change (the current month and the three before it, once built by the nightly job), or `records`, grouped from the records for this read (other periods, a month not kept, or a unit whose changes are still being grouped). Both give the same figures."}
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
    use axum::http::HeaderValue;

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
