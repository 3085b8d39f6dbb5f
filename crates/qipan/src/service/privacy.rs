//! The projection of personal data per [`Disclosure`], applied to every kind of row the service
//! returns that carries it: records, their history and sections, exchange items and their
//! timelines and texts, orders, audit entries. Use cases call [`Project::project`] on what they
//! return; the pages, the API and the exports render what they are given.

use domain::privacy::Disclosure;
use domain::sections::Value;
use store::supervision::Order;
use store::{CaseEvent, GlassGrant, Item, Notification, Person, PersonChange, SectionRow, StoredAudit};

/// Orders, their timelines and the audit log are no place for a whole ID or phone number: anyone
/// who reads them sees numbers typed into them masked.
pub const TEXT_DISCLOSURE: Disclosure = Disclosure::Masked;

/// Lists show every record masked, also to those who may write them: a list is for finding a
/// person, the record for reading one (and that read is audited).
pub const LIST_DISCLOSURE: Disclosure = Disclosure::Masked;

pub trait Project {
    /// Hides what `disclosure` does not show; a full disclosure changes nothing.
    fn project(&mut self, disclosure: Disclosure);
}

impl<T: Project> Project for Vec<T> {
    fn project(&mut self, disclosure: Disclosure) {
        for row in self {
            row.project(disclosure);
        }
    }
}

impl<T: Project> Project for Option<T> {
    fn project(&mut self, disclosure: Disclosure) {
        if let Some(row) = self {
            row.project(disclosure);
        }
    }
}

fn text(s: &mut String, d: Disclosure) {
    if !d.is_full() {
        *s = d.text(s);
    }
}

fn opt_text(s: &mut Option<String>, d: Disclosure) {
    if let Some(s) = s {
        text(s, d);
    }
}

impl Project for Person {
    fn project(&mut self, d: Disclosure) {
        if d.is_full() {
            return;
        }
        self.id_number = self.id_number.as_deref().map(|i| d.id_number(i));
        self.phone = self.phone.as_deref().map(|p| d.phone(p));
        self.hukou_area = d.area(&self.hukou_area);
        text(&mut self.hukou_address, d);
        text(&mut self.residence_address, d);
        opt_text(&mut self.end_note, d);
    }
}

impl Project for PersonChange {
    fn project(&mut self, d: Disclosure) {
        if d.is_full() {
            return;
        }
        // `{"field": {"before": …, "after": …}}`: a birth date and an area are cut as on the
        // record itself; numbers anywhere (also inside section entries) are hidden.
        if let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str::<serde_json::Value>(&self.changes) {
            for (field, change) in fields.iter_mut() {
                let cut: Option<fn(&str) -> String> = match field.as_str() {
                    "birth_date" => Some(|s| s.chars().take(4).collect()),
                    "hukou_area" => Some(|s| s.chars().take(6).collect()),
                    _ => None,
                };
                if let (Some(cut), serde_json::Value::Object(sides)) = (cut, change) {
                    for side in sides.values_mut() {
                        if let serde_json::Value::String(s) = side {
                            *s = cut(s);
                        }
                    }
                }
            }
            self.changes = serde_json::Value::Object(fields).to_string();
        }
        self.changes = d.text(&self.changes);
    }
}

impl Project for SectionRow {
    fn project(&mut self, d: Disclosure) {
        if d.is_full() {
            return;
        }
        for value in self.values.values_mut() {
            if let Value::Text(Some(s)) = value {
                *s = d.text(s);
            }
        }
    }
}

impl Project for Item {
    fn project(&mut self, d: Disclosure) {
        if d.is_full() {
            return;
        }
        self.person_id_number = self.person_id_number.as_deref().map(|i| d.id_number(i));
        self.origin_area = d.area(&self.origin_area);
        text(&mut self.origin_address, d);
        text(&mut self.remarks, d);
        opt_text(&mut self.answer_remarks, d);
        opt_text(&mut self.facts, d);
        opt_text(&mut self.reason, d);
    }
}

impl Project for CaseEvent {
    fn project(&mut self, d: Disclosure) {
        text(&mut self.note, d);
    }
}

impl Project for Notification {
    fn project(&mut self, d: Disclosure) {
        if d.is_full() {
            return;
        }
        text(&mut self.recipient, d);
        text(&mut self.message, d);
        opt_text(&mut self.last_error, d);
    }
}

impl Project for StoredAudit {
    fn project(&mut self, d: Disclosure) {
        text(&mut self.entry.detail, d);
        opt_text(&mut self.entry.target, d);
    }
}

impl Project for Order {
    fn project(&mut self, d: Disclosure) {
        text(&mut self.title, d);
        text(&mut self.body, d);
        opt_text(&mut self.answer, d);
    }
}

impl Project for GlassGrant {
    fn project(&mut self, d: Disclosure) {
        text(&mut self.reason, d);
    }
}
