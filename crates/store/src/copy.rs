//! Rows for bulk loads, written as text that the engine reads in bulk: PostgreSQL's `COPY …
//! FROM STDIN` in its text format, and for SQLite a JSON array of rows read by `json_each` —
//! one bound value per few thousand rows instead of one per column and row, which the driver
//! copies and hands to its worker thread one by one (the most of a bulk load's time, measured).

use std::fmt::Write;

/// What a row of a bulk load is written into, field by field in column order.
pub(crate) trait Row {
    /// A text field.
    fn text(&mut self, value: &str) -> &mut Self;
    /// A text field or NULL.
    fn opt(&mut self, value: Option<&str>) -> &mut Self;
    /// A day, as the records store it (`YYYY-MM-DD`).
    fn date(&mut self, value: chrono::NaiveDate) -> &mut Self;
    /// A whole number.
    fn int(&mut self, value: i64) -> &mut Self;
    fn end_row(&mut self);
}

/// Rows of one `COPY` in the text format: fields separated by tabs, `\N` for NULL.
#[derive(Default)]
pub(crate) struct CopyText {
    buf: String,
    fields_in_row: usize,
}

impl CopyText {
    /// A value whose text form needs no escaping (numbers, dates, timestamps).
    pub(crate) fn plain(&mut self, value: impl std::fmt::Display) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{value}");
        self
    }

    fn sep(&mut self) {
        if self.fields_in_row > 0 {
            self.buf.push('\t');
        }
        self.fields_in_row += 1;
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf.into_bytes()
    }
}

impl Row for CopyText {
    /// A text field, escaped: a backslash, tab, newline or carriage return would otherwise
    /// end the field or the row.
    fn text(&mut self, value: &str) -> &mut Self {
        self.sep();
        for c in value.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\t' => self.buf.push_str("\\t"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                c => self.buf.push(c),
            }
        }
        self
    }

    fn opt(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => {
                self.sep();
                self.buf.push_str("\\N");
                self
            }
        }
    }

    fn date(&mut self, value: chrono::NaiveDate) -> &mut Self {
        self.plain(value)
    }

    fn int(&mut self, value: i64) -> &mut Self {
        self.plain(value)
    }

    fn end_row(&mut self) {
        self.buf.push('\n');
        self.fields_in_row = 0;
    }
}

/// Rows as one JSON array of arrays, for SQLite's `json_each`: `j.value ->> 0` is the row's
/// first field, as text, integer or NULL.
#[derive(Default)]
pub(crate) struct JsonRows {
    buf: String,
    rows: usize,
    fields_in_row: usize,
}

impl JsonRows {
    fn sep(&mut self) {
        if self.fields_in_row == 0 {
            self.buf.push_str(if self.rows == 0 { "[[" } else { ",[" });
        } else {
            self.buf.push(',');
        }
        self.fields_in_row += 1;
    }

    pub(crate) fn into_string(mut self) -> String {
        if self.rows == 0 {
            return "[]".to_owned();
        }
        self.buf.push(']');
        self.buf
    }

    /// The select list that reads `n` fields of each row, for `INSERT … SELECT {list} FROM
    /// json_each($1) AS j`.
    pub(crate) fn fields(n: usize) -> String {
        (0..n).map(|i| format!("j.value ->> {i}")).collect::<Vec<_>>().join(", ")
    }
}

impl Row for JsonRows {
    /// A JSON string: a quote, a backslash and the control characters escaped.
    fn text(&mut self, value: &str) -> &mut Self {
        self.sep();
        self.buf.push('"');
        for c in value.chars() {
            match c {
                '"' => self.buf.push_str("\\\""),
                '\\' => self.buf.push_str("\\\\"),
                c if u32::from(c) < 0x20 => {
                    let _ = write!(self.buf, "\\u{:04x}", u32::from(c));
                }
                c => self.buf.push(c),
            }
        }
        self.buf.push('"');
        self
    }

    fn opt(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => {
                self.sep();
                self.buf.push_str("null");
                self
            }
        }
    }

    fn date(&mut self, value: chrono::NaiveDate) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "\"{value}\"");
        self
    }

    fn int(&mut self, value: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{value}");
        self
    }

    fn end_row(&mut self) {
        self.buf.push(']');
        self.rows += 1;
        self.fields_in_row = 0;
    }
}

/// The columns a registration writes, from `province_code` to `registered_on`, in the order
/// of [`PERSON_FIELD_COLUMNS`], with the ID number and phone as given (sealed or not).
pub(crate) fn person_fields(
    c: &mut impl Row,
    f: &crate::PersonFields,
    id_number: Option<&str>,
    phone: Option<&str>,
    registered_on: chrono::NaiveDate,
) {
    c.text(&f.province_code)
        .opt(id_number)
        .text(&f.name)
        .text(&f.name_pinyin)
        .text(&f.name_initials)
        .text(&f.gender)
        .date(f.birth_date)
        .opt(f.ethnicity.as_deref())
        .opt(f.education.as_deref())
        .opt(phone)
        .opt(f.marital_status.as_deref())
        .text(&f.hukou_area)
        .text(&f.hukou_path)
        .text(&f.hukou_address)
        .opt(f.hukou_type.as_deref())
        .text(&f.residence_area)
        .text(&f.residence_address)
        .text(&f.managing_unit)
        .text(&f.managing_path)
        .text(&f.direction)
        .date(f.moved_on)
        .opt(f.move_reason.as_deref())
        .date(registered_on);
}

/// The columns [`person_fields`] writes, and how many.
pub(crate) const PERSON_FIELD_COUNT: usize = 23;
pub(crate) const PERSON_FIELD_COLUMNS: &str = "province_code, id_number, name, name_pinyin, name_initials, gender, \
     birth_date, ethnicity, education, phone, marital_status, hukou_area, hukou_path, hukou_address, hukou_type, \
     residence_area, residence_address, managing_unit, managing_path, direction, moved_on, move_reason, registered_on";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_that_would_split_a_row_are_escaped() {
        let mut c = CopyText::default();
        c.plain(7).text("a\tb\\c\nd\re").opt(None).text("陈静");
        c.end_row();
        c.plain(8).opt(Some("")).opt(None).text("");
        c.end_row();
        assert_eq!(String::from_utf8(c.into_bytes()).unwrap(), "7\ta\\tb\\\\c\\nd\\re\t\\N\t陈静\n8\t\t\\N\t\n");
    }

    #[test]
    fn json_rows_escape_what_would_end_a_string() {
        let mut j = JsonRows::default();
        assert_eq!(JsonRows::default().into_string(), "[]");
        j.int(7).text("a\"b\\c\nd\u{1}").opt(None).text("陈静");
        j.end_row();
        j.date(chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()).opt(Some(""));
        j.end_row();
        assert_eq!(j.into_string(), r#"[[7,"a\"b\\c\u000ad\u0001",null,"陈静"],["2026-01-05",""]]"#);
    }

    #[test]
    fn a_record_has_as_many_fields_as_columns() {
        assert_eq!(PERSON_FIELD_COLUMNS.split(',').count(), PERSON_FIELD_COUNT);
    }
}
