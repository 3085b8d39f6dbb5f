//! PostgreSQL's `COPY … FROM STDIN` in its text format, for bulk loads: one round trip per
//! table instead of a statement per thousand rows, and no bind parameters to parse.

use std::fmt::Write;

/// Rows of one `COPY` in the text format: fields separated by tabs, `\N` for NULL.
#[derive(Default)]
pub(crate) struct CopyText {
    buf: String,
    fields_in_row: usize,
}

impl CopyText {
    /// A text field, escaped: a backslash, tab, newline or carriage return would otherwise
    /// end the field or the row.
    pub(crate) fn text(&mut self, value: &str) -> &mut Self {
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

    pub(crate) fn opt(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => {
                self.sep();
                self.buf.push_str("\\N");
                self
            }
        }
    }

    /// A value whose text form needs no escaping (numbers, dates, timestamps).
    pub(crate) fn plain(&mut self, value: impl std::fmt::Display) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{value}");
        self
    }

    pub(crate) fn end_row(&mut self) {
        self.buf.push('\n');
        self.fields_in_row = 0;
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

/// The columns a registration writes, from `province_code` to `registered_on`, in the order
/// of [`PERSON_FIELD_COLUMNS`], with the ID number and phone as given (sealed or not).
pub(crate) fn person_fields(
    c: &mut CopyText,
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
        .plain(f.birth_date)
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
        .plain(f.moved_on)
        .opt(f.move_reason.as_deref())
        .plain(registered_on);
}

/// The same columns as [`person_fields`], bound as one row of a multi-row `INSERT` (SQLite's
/// bulk path).
pub(crate) fn bind_person_fields<'args>(
    b: &mut sqlx::query_builder::Separated<'_, 'args, sqlx::Sqlite, &'static str>,
    f: &'args crate::PersonFields,
    id_number: Option<&'args str>,
    phone: Option<&'args str>,
    registered_on: chrono::NaiveDate,
) {
    b.push_bind(&f.province_code)
        .push_bind(id_number)
        .push_bind(&f.name)
        .push_bind(&f.name_pinyin)
        .push_bind(&f.name_initials)
        .push_bind(&f.gender)
        .push_bind(f.birth_date)
        .push_bind(&f.ethnicity)
        .push_bind(&f.education)
        .push_bind(phone)
        .push_bind(&f.marital_status)
        .push_bind(&f.hukou_area)
        .push_bind(&f.hukou_path)
        .push_bind(&f.hukou_address)
        .push_bind(&f.hukou_type)
        .push_bind(&f.residence_area)
        .push_bind(&f.residence_address)
        .push_bind(&f.managing_unit)
        .push_bind(&f.managing_path)
        .push_bind(&f.direction)
        .push_bind(f.moved_on)
        .push_bind(&f.move_reason)
        .push_bind(registered_on);
}

/// The columns [`person_fields`] writes.
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
}
