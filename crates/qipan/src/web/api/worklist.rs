//! `/api/v1/worklist`: the day's work of the actor's unit, and marking a task done or snoozed.

use super::extract::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::service::App;
use crate::web::ApiError;
use crate::web::auth::ApiActor;

#[derive(Serialize)]
struct TaskJson {
    category: &'static str,
    key: String,
    subject: String,
    due_on: String,
    overdue: bool,
    urgent: bool,
    href: String,
    unit: String,
}

#[derive(Serialize)]
pub struct WorklistJson {
    today: String,
    next_duty_day: String,
    items: Vec<TaskJson>,
    counts: std::collections::BTreeMap<&'static str, usize>,
    overdue: usize,
    hidden: usize,
    total: usize,
    capped: Vec<&'static str>,
    waiting: u64,
}

pub async fn list(State(app): State<App>, ApiActor(actor): ApiActor) -> Result<Json<WorklistJson>, ApiError> {
    let w = app.worklist(&actor).await?;
    Ok(Json(WorklistJson {
        today: w.today.to_string(),
        next_duty_day: w.next_duty_day.to_string(),
        overdue: w.overdue(),
        hidden: w.hidden,
        total: w.total(),
        capped: w.capped.iter().map(|c| c.as_str()).collect(),
        waiting: w.waiting,
        counts: w.counts.iter().map(|(c, n)| (c.as_str(), *n)).collect(),
        items: w
            .tasks
            .into_iter()
            .map(|t| TaskJson {
                category: t.category.as_str(),
                key: t.key,
                subject: t.subject,
                due_on: t.due_on.to_string(),
                overdue: t.overdue,
                urgent: t.urgent,
                href: t.href,
                unit: t.unit,
            })
            .collect(),
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MarkBody {
    key: String,
    /// `YYYY-MM-DD`: snooze until that day (with a reason); absent: done.
    until: Option<String>,
    reason: String,
}

pub async fn mark(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Json(b): Json<MarkBody>,
) -> Result<StatusCode, ApiError> {
    app.mark_task(&actor, &b.key, b.until.as_deref(), &b.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
