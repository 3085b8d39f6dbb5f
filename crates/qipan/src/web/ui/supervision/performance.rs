use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use domain::exchange::{Counts, FEEDBACK_TARGET, Rates};
use domain::supervision::{Quality, Registrations};
use serde::Deserialize;

use super::charts::{BarChart, BarValue, LineChart, bar_chart, line_chart};
use super::{UnitView, field, pct, per_mille};
use crate::i18n::Messages;
use crate::service::exchange::Ranking;
use crate::service::supervision::Score;
use crate::service::{Actor, App, ServiceError};
use crate::web::api::supervision::{parse_cycle, parse_threshold, parse_unit};
use crate::web::auth::SignedIn;
use crate::web::error::{message_of, render};
use crate::web::ui::{Chrome, percent_encode};
use crate::web::{Lang, PageError};

// ---- performance ------------------------------------------------------------------------------------

/// One unit's line of the performance table.
pub struct PerfLine {
    pub unit: UnitView,
    pub exchange: bool,
    pub received: u64,
    pub feedback_due: u64,
    pub answered: u64,
    pub receipt: String,
    pub feedback: String,
    pub feedback_bad: bool,
    pub timeliness: String,
    pub registered: u64,
    pub on_time: u64,
    pub registration: String,
    pub findings: u64,
    pub active: u64,
    pub quality: String,
}

fn perf_line(s: &Score, t: &Messages) -> PerfLine {
    let c = s.counts.unwrap_or_default();
    let r: Option<Rates> = s.rates;
    let q = s.quality.unwrap_or_default();
    PerfLine {
        unit: UnitView::new(&s.unit, t),
        exchange: s.counts.is_some(),
        received: c.received,
        feedback_due: c.feedback_due,
        answered: c.answered,
        receipt: pct(r.and_then(|r| r.receipt_rate)),
        feedback: pct(r.and_then(|r| r.feedback_rate)),
        feedback_bad: s.counts.is_some_and(|c| !c.meets_feedback_target()),
        timeliness: pct(r.and_then(|r| r.timeliness)),
        registered: s.registrations.registered,
        on_time: s.registrations.on_time,
        registration: pct(s.registrations.rate()),
        findings: q.findings,
        active: q.active,
        quality: per_mille(s.quality.and_then(|q| q.per_thousand())),
    }
}

pub struct TrendLine {
    pub cycle: String,
    pub receipt: String,
    pub feedback: String,
    pub timeliness: String,
    pub registration: String,
}

/// A county's line in the ranking (performance page and bulletin).
pub struct RankLine {
    pub rank: usize,
    pub code: String,
    pub name: String,
    pub received: u64,
    pub feedback_due: u64,
    pub answered: u64,
    pub feedback: String,
    pub timeliness: String,
    pub receipt: String,
    pub meets: bool,
    pub bottom: bool,
    pub flagged: bool,
}

pub(super) fn rank_lines(r: &Ranking) -> Vec<RankLine> {
    r.rows
        .iter()
        .map(|(x, name)| RankLine {
            rank: x.rank,
            code: x.unit.clone(),
            name: name.clone(),
            received: x.counts.received,
            feedback_due: x.counts.feedback_due,
            answered: x.counts.answered,
            feedback: pct(x.rates.feedback_rate),
            timeliness: pct(x.rates.timeliness),
            receipt: pct(x.rates.receipt_rate),
            meets: x.counts.meets_feedback_target(),
            bottom: x.bottom_three,
            flagged: x.flagged,
        })
        .collect()
}

pub(super) fn ranking_chart(t: &Messages, lines: &[RankLine], r: &Ranking) -> BarChart {
    let values = r
        .rows
        .iter()
        .zip(lines)
        .map(|((x, name), line)| BarValue {
            label: name.clone(),
            value: x.rates.feedback_rate,
            text: line.feedback.clone(),
            bad: !line.meets,
        })
        .collect();
    let title = t.fmt("supervision.chart_ranking", &[("quarter", &r.quarter.to_string())]);
    bar_chart("chart-ranking", title, values, 1.0, true, Some(FEEDBACK_TARGET))
}

pub struct LagLine {
    pub code: String,
    pub name: String,
    pub feedback_due: u64,
    pub answered: u64,
    pub feedback: String,
}

#[derive(Template)]
#[template(path = "supervision_performance.html")]
struct PerformancePage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    unit: UnitView,
    trail: Vec<UnitView>,
    cycle: String,
    closed: bool,
    threshold: String,
    rows: Vec<PerfLine>,
    total: PerfLine,
    any_exchange: bool,
    quality_known: bool,
    trend_rows: Vec<TrendLine>,
    trend: LineChart,
    feedback_bars: BarChart,
    registration_bars: BarChart,
    quality_bars: Option<BarChart>,
    quarter: String,
    ranking_rows: Vec<RankLine>,
    ranking_bars: BarChart,
    lagging: Vec<LagLine>,
    can_remind: bool,
    due_on: String,
    sent: Option<String>,
    reminders_lead: String,
    reminders_confirm: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct PerfParams {
    unit: Option<String>,
    cycle: Option<String>,
    threshold: Option<String>,
    sent: Option<String>,
    skipped: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn performance_page(
    app: &App,
    lang: Lang,
    actor: &Actor,
    uri: &Uri,
    p: &PerfParams,
    sent: Option<(String, String)>,
    error: Option<String>,
) -> Response {
    let t = lang.0;
    let result = async {
        let unit = parse_unit(p.unit.as_deref())?;
        let cycle = parse_cycle(p.cycle.as_deref(), app)?;
        let threshold = parse_threshold(p.threshold.as_deref())?;
        Ok::<_, ServiceError>((app.performance(actor, unit.as_ref(), cycle, threshold).await?, threshold))
    }
    .await;
    let (perf, threshold) = match result {
        Ok(x) => x,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let rows: Vec<PerfLine> = perf.rows.iter().map(|s| perf_line(s, &t)).collect();
    let mut by_feedback: Vec<(&Score, &PerfLine)> =
        perf.rows.iter().zip(&rows).filter(|(s, _)| s.counts.is_some()).collect();
    by_feedback.sort_by(|(a, _), (b, _)| {
        let key = |s: &Score| s.rates.and_then(|r| r.feedback_rate).unwrap_or(-1.0);
        key(b).total_cmp(&key(a))
    });
    let feedback_bars = bar_chart(
        "chart-feedback",
        t.fmt("supervision.chart_feedback", &[("cycle", &perf.cycle.to_string())]),
        by_feedback
            .iter()
            .map(|(s, l)| BarValue {
                label: s.unit.name.clone(),
                value: s.rates.and_then(|r| r.feedback_rate),
                text: l.feedback.clone(),
                bad: l.feedback_bad,
            })
            .collect(),
        1.0,
        true,
        Some(FEEDBACK_TARGET),
    );
    let mut by_registration: Vec<(&Score, &PerfLine)> = perf.rows.iter().zip(&rows).collect();
    by_registration.sort_by(|(a, _), (b, _)| {
        let key = |s: &Score| s.registrations.rate().unwrap_or(-1.0);
        key(b).total_cmp(&key(a))
    });
    let registration_bars = bar_chart(
        "chart-registration",
        t.fmt("supervision.chart_registration", &[("cycle", &perf.cycle.to_string())]),
        by_registration
            .iter()
            .map(|(s, l)| BarValue {
                label: s.unit.name.clone(),
                value: s.registrations.rate(),
                text: l.registration.clone(),
                bad: false,
            })
            .collect(),
        1.0,
        true,
        None,
    );
    let quality_known = perf.total.quality.is_some();
    let quality_bars = quality_known.then(|| {
        let mut by_quality: Vec<(&Score, &PerfLine)> = perf.rows.iter().zip(&rows).collect();
        let key = |s: &Score| s.quality.and_then(|q: Quality| q.per_thousand()).unwrap_or(-1.0);
        by_quality.sort_by(|(a, _), (b, _)| key(b).total_cmp(&key(a)));
        let max = by_quality.iter().map(|(s, _)| key(s)).fold(0.0, f64::max);
        bar_chart(
            "chart-quality",
            t.get("supervision.chart_quality").to_owned(),
            by_quality
                .iter()
                .map(|(s, l)| BarValue {
                    label: s.unit.name.clone(),
                    value: s.quality.and_then(|q| q.per_thousand()),
                    text: l.quality.clone(),
                    bad: false,
                })
                .collect(),
            max,
            false,
            None,
        )
    });
    let cycles: Vec<String> = perf.trend.iter().map(|p| p.cycle.to_string()).collect();
    let rate = |f: fn(&Rates) -> Option<f64>| -> Vec<Option<f64>> {
        perf.trend.iter().map(|p| p.rates.as_ref().and_then(f)).collect()
    };
    let mut series = Vec::new();
    if perf.trend.iter().any(|p| p.rates.is_some()) {
        series.push((t.get("exchange.feedback_rate").to_owned(), "#9b1c1c", rate(|r| r.feedback_rate)));
        series.push((t.get("exchange.receipt_rate").to_owned(), "#1f5fa6", rate(|r| r.receipt_rate)));
        series.push((t.get("exchange.timeliness").to_owned(), "#0e7c4a", rate(|r| r.timeliness)));
    }
    let registrations: Vec<Option<f64>> = perf.trend.iter().map(|p| Registrations::rate(&p.registrations)).collect();
    series.push((t.get("supervision.registration_timeliness").to_owned(), "#b7791f", registrations));
    let trend =
        line_chart("chart-trend", t.fmt("supervision.chart_trend", &[("unit", &perf.unit.name)]), &cycles, series);
    let trend_rows = perf
        .trend
        .iter()
        .map(|p| TrendLine {
            cycle: p.cycle.to_string(),
            receipt: pct(p.rates.and_then(|r| r.receipt_rate)),
            feedback: pct(p.rates.and_then(|r| r.feedback_rate)),
            timeliness: pct(p.rates.and_then(|r| r.timeliness)),
            registration: pct(p.registrations.rate()),
        })
        .collect();
    let ranking_rows = rank_lines(&perf.ranking);
    let ranking_bars = ranking_chart(&t, &ranking_rows, &perf.ranking);
    let lagging = perf
        .lagging
        .iter()
        .map(|l: &crate::service::supervision::Lagging| {
            let c: Counts = l.counts;
            LagLine {
                code: l.unit.clone(),
                name: l.name.clone(),
                feedback_due: c.feedback_due,
                answered: c.answered,
                feedback: pct(c.rates().feedback_rate),
            }
        })
        .collect();
    let threshold_text = format!("{}", (threshold * 1000.0).round() / 10.0);
    let cycle_text = perf.cycle.to_string();
    let lagging_count = perf.lagging.len();
    let page = PerformancePage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/supervision", uri),
        tab: "performance",
        unit: UnitView::new(&perf.unit, &t),
        trail: perf.trail.iter().map(|u| UnitView::new(u, &t)).collect(),
        cycle: perf.cycle.to_string(),
        closed: perf.closed,
        threshold: threshold_text.clone(),
        any_exchange: rows.iter().any(|r| r.exchange),
        rows,
        total: perf_line(&perf.total, &t),
        quality_known,
        trend_rows,
        trend,
        feedback_bars,
        registration_bars,
        quality_bars,
        quarter: perf.ranking.quarter.to_string(),
        ranking_rows,
        ranking_bars,
        lagging,
        can_remind: perf.can_remind,
        due_on: (app.clock.today() + chrono::Duration::days(domain::supervision::REMINDER_DAYS)).to_string(),
        sent: sent.map(|(n, skipped)| t.fmt("supervision.reminders_sent", &[("n", &n), ("skipped", &skipped)])),
        reminders_lead: t.fmt("supervision.reminders_lead", &[("threshold", &threshold_text), ("cycle", &cycle_text)]),
        reminders_confirm: t.fmt("supervision.reminders_confirm", &[("n", &lagging_count.to_string())]),
        error,
    };
    render(&page, t)
}

pub(super) async fn performance(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<PerfParams>,
) -> Response {
    let sent = p.sent.clone().map(|s| (s, p.skipped.clone().unwrap_or_else(|| "0".to_owned())));
    performance_page(&app, lang, &actor, &uri, &p, sent, None).await
}

pub(super) async fn remind(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    body: Bytes,
) -> Response {
    let (unit, cycle, threshold, due) =
        (field(&body, "unit"), field(&body, "cycle"), field(&body, "threshold"), field(&body, "due_on"));
    let result = async {
        let code = parse_unit(Some(&unit))?.unwrap_or_else(|| actor.org.clone());
        let c = parse_cycle(Some(&cycle), &app)?;
        let th = parse_threshold(Some(&threshold))?;
        let due_on = match due.trim() {
            "" => None,
            raw => Some(
                chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map_err(|_| ServiceError::invalid("field.due_on", "rule.date", raw))?,
            ),
        };
        app.send_reminders(&actor, &code, c, th, due_on).await
    }
    .await;
    let params = PerfParams {
        unit: Some(unit.clone()),
        cycle: Some(cycle.clone()),
        threshold: Some(threshold.clone()),
        sent: None,
        skipped: None,
    };
    match result {
        Ok(done) => {
            let to = format!(
                "/supervision/performance?unit={}&cycle={}&threshold={}&sent={}&skipped={}",
                percent_encode(unit.trim()),
                percent_encode(cycle.trim()),
                percent_encode(threshold.trim()),
                done.orders.len(),
                done.skipped.len()
            );
            Redirect::to(&to).into_response()
        }
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict { .. })) => {
            let (status, message) = message_of(&e, &lang.0);
            let mut response = performance_page(&app, lang, &actor, &uri, &params, None, Some(message)).await;
            *response.status_mut() = status;
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}
