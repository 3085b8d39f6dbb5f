//! Reports as files and text, shared by the pages and the API: the names of rows, columns and
//! periods in the reader's language, the CSV and XLSX writers, and the download response.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::codes::CodeBook;
use domain::csv::field as csv_field;
use domain::report::{Cell, PROVINCES, Period, PeriodKind, Title};
use serde::Deserialize;

use crate::i18n::Messages;
use crate::service::ServiceError;
use crate::service::reports::{Report, ReportRequest, SnapshotState};

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

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
