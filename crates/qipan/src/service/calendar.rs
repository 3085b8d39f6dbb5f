//! The working-day calendar (工作日历): the announced holidays and adjusted working days that
//! every deadline of the exchange, the orders and the worklist is counted in. Changed only at
//! the top of the installation (it is province-wide), read by everyone who computes a deadline.

use chrono::NaiveDate;
use domain::authz::Capability;
use domain::calendar::{CalendarDay, DayKind, WorkCalendar};
use serde_json::json;

use super::{Actor, App, ServiceError, ServiceResult};

impl App {
    /// The working-day calendar in force.
    pub async fn work_calendar(&self) -> ServiceResult<WorkCalendar> {
        let days = self.store.calendar_days().await?;
        let years = self.store.calendar_years().await?;
        Ok(WorkCalendar::with_years(days.into_iter().map(|d| (d.date, d.kind)), years))
    }

    /// The announced days, for the administrator's page.
    pub async fn calendar_days(&self, actor: &Actor) -> ServiceResult<Vec<CalendarDay>> {
        self.guard(actor, Capability::OrgAdmin).await?;
        Ok(self.store.calendar_days().await?)
    }

    /// The years whose notice the calendar holds.
    pub async fn calendar_years(&self, actor: &Actor) -> ServiceResult<Vec<i32>> {
        self.guard(actor, Capability::OrgAdmin).await?;
        Ok(self.store.calendar_years().await?)
    }

    /// Declares that the calendar holds (or no longer holds) a year's whole notice: only then
    /// are its deadlines computed without the Monday–Friday assumption.
    pub async fn set_calendar_year(&self, actor: &Actor, year: &str, announced: bool) -> ServiceResult<()> {
        self.guard_installation(actor, Capability::OrgAdmin).await?;
        let y: i32 = year
            .trim()
            .parse()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| ServiceError::invalid("field.calendar_year", "calendar.rule.year", year))?;
        let detail = json!({"year": y, "announced": announced});
        let audit = self.audit_draft(actor, "calendar.year", Some(&actor.org), Some(y.to_string()), detail);
        self.store.set_calendar_year(y, announced, &actor.name, self.clock.now(), &audit).await?;
        Ok(())
    }

    /// Sets one day (`kind` off/workday) or clears it (`kind` empty): system administrators.
    pub async fn set_calendar_day(&self, actor: &Actor, date: &str, kind: &str, holiday: &str) -> ServiceResult<()> {
        self.guard_installation(actor, Capability::OrgAdmin).await?;
        let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| ServiceError::invalid("field.calendar_date", "rule.date", date))?;
        let holiday = holiday.trim();
        if holiday.chars().count() > 40 {
            return Err(ServiceError::invalid("field.calendar_holiday", "rule.text_long", holiday));
        }
        let kind = match kind.trim() {
            "" => None,
            k => Some(
                DayKind::parse(k)
                    .ok_or_else(|| ServiceError::invalid("field.calendar_kind", "rule.code_unknown", k))?,
            ),
        };
        let detail = json!({"date": day.to_string(), "kind": kind.map(DayKind::as_str), "holiday": holiday});
        let audit = self.audit_draft(actor, "calendar.set", Some(&actor.org), Some(day.to_string()), detail);
        let now = self.clock.now();
        self.store.set_calendar_day(day, kind.map(|k| (k, holiday)), &actor.name, now, &audit).await?;
        Ok(())
    }
}
