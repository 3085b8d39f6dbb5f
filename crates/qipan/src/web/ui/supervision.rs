//! Supervision pages (监管平台): live monitoring with drill-down, the items behind a count,
//! performance with trend and ranking charts, bulk reminders, the printable quarterly bulletin,
//! and supervision orders (督办).
//!
//! Charts are SVG drawn here on the server and inlined in the page, with presentation attributes
//! only (the Content-Security-Policy forbids inline styles and scripts), each beside a table of
//! its numbers: see docs/decisions/0009-supervision.md.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use chrono::{DateTime, Utc};
use domain::clock::china_standard_time;
use domain::exchange::{Counts, FEEDBACK_TARGET, Rates};
use domain::person::mask_id;
use domain::supervision::{Quality, Registrations, SubjectKind};
use serde::Deserialize;
use store::OrgUnit;
use store::supervision::{Backlog, BacklogItems};

use super::Chrome;
use super::exchange::NotificationRow;
use super::orgs::Pager;
use crate::i18n::Messages;
use crate::service::exchange::{Ranking, status_label};
use crate::service::supervision::{OrderRequest, OrderView, Score, order_overdue};
use crate::service::{Actor, App, ServiceError};
use crate::web::api::supervision::{
    OrderListParams, parse_cycle, parse_page, parse_quarter, parse_threshold, parse_unit,
};
use crate::web::auth::SignedIn;
use crate::web::error::{message_of, render};
use crate::web::ids::PathId;
use crate::web::{Lang, PageError};
use domain::ids::{OrderId, TypedId};

/// The routes of this part: method, path, handler.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    vec![
        (Method::GET, "/supervision", get(monitor)),
        (Method::GET, "/supervision/items", get(items)),
        (Method::GET, "/supervision/performance", get(performance)),
        (Method::POST, "/supervision/reminders", post(remind)),
        (Method::GET, "/supervision/bulletin", get(bulletin)),
        (Method::GET, "/orders", get(orders)),
        (Method::GET, "/orders/new", get(new_order)),
        (Method::POST, "/orders", post(create_order)),
        (Method::GET, "/orders/{id}", get(order)),
        (Method::POST, "/orders/{id}/answer", post(answer_order)),
        (Method::POST, "/orders/{id}/close", post(close_order)),
        (Method::POST, "/orders/{id}/reopen", post(reopen_order)),
    ]
}

// ---- small helpers --------------------------------------------------------------------------------

fn local(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.with_timezone(&china_standard_time()).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

fn field(body: &[u8], name: &str) -> String {
    url::form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// A rate as the tables and charts print it.
pub fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".to_owned())
}

/// A data-quality score (findings per 1,000 records) as printed.
pub fn per_mille(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".to_owned())
}

/// Shortens a label for a chart (the table beside it keeps the full name).
fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        let mut s: String = label.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// A unit as the pages name it.
pub struct UnitView {
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub has_children: bool,
}

impl UnitView {
    fn new(u: &OrgUnit, t: &Messages) -> Self {
        UnitView {
            code: u.code.to_string(),
            name: u.name.clone(),
            level: t.level(u.level),
            has_children: u.child_count > 0,
        }
    }
}

// ---- charts ---------------------------------------------------------------------------------------

/// Width of every chart's drawing (the SVG scales to its box).
const CHART_WIDTH: u32 = 640;
const BAR_LEFT: u32 = 170;
const BAR_SPAN: u32 = 380;
const BAR_ROW: u32 = 22;
const BAR_TOP: u32 = 22;
/// Bars drawn at most; the table beside the chart lists every unit.
const MAX_BARS: usize = 40;

pub struct Tick {
    pub at: u32,
    pub label: String,
}

pub struct Bar {
    pub label: String,
    pub y: u32,
    pub text_y: u32,
    pub width: u32,
    pub value: String,
    pub value_x: u32,
    pub bad: bool,
}

/// A horizontal bar chart (rankings).
pub struct BarChart {
    pub id: &'static str,
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub axis_bottom: u32,
    pub left: u32,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    /// The target line (95% feedback).
    pub target: Option<Tick>,
    /// Units left out of the drawing.
    pub more: usize,
}

/// One bar's data: label, value (`None`: no figure), its printed form, drawn as a failure.
pub struct BarValue {
    pub label: String,
    pub value: Option<f64>,
    pub text: String,
    pub bad: bool,
}

fn bar_chart(
    id: &'static str,
    title: String,
    values: Vec<BarValue>,
    max: f64,
    percent: bool,
    target: Option<f64>,
) -> BarChart {
    let more = values.len().saturating_sub(MAX_BARS);
    let max = if max > 0.0 { max } else { 1.0 };
    let x_of = |v: f64| BAR_LEFT + ((v / max).clamp(0.0, 1.0) * f64::from(BAR_SPAN)).round() as u32;
    let bars: Vec<Bar> = values
        .into_iter()
        .take(MAX_BARS)
        .enumerate()
        .map(|(i, v)| {
            let y = BAR_TOP + i as u32 * BAR_ROW;
            let width = v.value.map_or(0, |x| x_of(x) - BAR_LEFT);
            Bar {
                label: short(&v.label, 12),
                y,
                text_y: y + 12,
                width,
                value_x: BAR_LEFT + width + 6,
                value: v.text,
                bad: v.bad,
            }
        })
        .collect();
    let height = BAR_TOP + bars.len().max(1) as u32 * BAR_ROW + 8;
    let ticks = (0..=4)
        .map(|i| {
            let v = max * f64::from(i) / 4.0;
            Tick { at: x_of(v), label: if percent { format!("{:.0}%", v * 100.0) } else { format!("{v:.0}") } }
        })
        .collect();
    BarChart {
        id,
        title,
        width: CHART_WIDTH,
        height,
        axis_bottom: height - 4,
        left: BAR_LEFT,
        bars,
        ticks,
        target: target.map(|v| Tick { at: x_of(v), label: pct(Some(v)) }),
        more,
    }
}

const LINE_LEFT: u32 = 48;
const LINE_RIGHT: u32 = 500;
const LINE_TOP: u32 = 16;
const LINE_BOTTOM: u32 = 216;

pub struct Point {
    pub x: u32,
    pub y: u32,
    pub label_y: u32,
    pub value: String,
}

pub struct Series {
    pub name: String,
    pub color: &'static str,
    /// `points` attributes of polylines: a gap where a cycle has no figure.
    pub lines: Vec<String>,
    pub points: Vec<Point>,
    /// Whether each point's value is written beside it (one series, so labels do not collide).
    pub labelled: bool,
    pub legend_y: u32,
}

/// A line chart of rates over cycles (trends), 0–100%.
pub struct LineChart {
    pub id: &'static str,
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub left: u32,
    pub right: u32,
    pub bottom: u32,
    pub legend_x: u32,
    pub x_labels: Vec<Tick>,
    pub grid: Vec<Tick>,
    pub target: Option<Tick>,
    pub series: Vec<Series>,
}

fn line_chart(
    id: &'static str,
    title: String,
    cycles: &[String],
    series: Vec<(String, &'static str, Vec<Option<f64>>)>,
) -> LineChart {
    let n = cycles.len().max(2) as u32;
    let x_of = |i: usize| LINE_LEFT + (i as u32) * (LINE_RIGHT - LINE_LEFT) / (n - 1);
    let y_of = |v: f64| LINE_BOTTOM - (v.clamp(0.0, 1.0) * f64::from(LINE_BOTTOM - LINE_TOP)).round() as u32;
    let series = series
        .into_iter()
        .enumerate()
        .map(|(k, (name, color, values))| {
            let mut lines = Vec::new();
            let mut current: Vec<String> = Vec::new();
            let mut points = Vec::new();
            for (i, v) in values.iter().enumerate() {
                match v {
                    Some(v) => {
                        let (x, y) = (x_of(i), y_of(*v));
                        current.push(format!("{x},{y}"));
                        points.push(Point { x, y, label_y: y.saturating_sub(6).max(10), value: pct(Some(*v)) });
                    }
                    None => {
                        if current.len() > 1 {
                            lines.push(current.join(" "));
                        }
                        current.clear();
                    }
                }
            }
            if current.len() > 1 {
                lines.push(current.join(" "));
            }
            Series { name, color, lines, points, labelled: k == 0, legend_y: LINE_TOP + 8 + k as u32 * 18 }
        })
        .collect();
    LineChart {
        id,
        title,
        width: CHART_WIDTH,
        height: LINE_BOTTOM + 30,
        left: LINE_LEFT,
        right: LINE_RIGHT,
        bottom: LINE_BOTTOM,
        legend_x: LINE_RIGHT + 24,
        x_labels: cycles.iter().enumerate().map(|(i, c)| Tick { at: x_of(i), label: c.clone() }).collect(),
        grid: [0.0, 0.25, 0.5, 0.75, 1.0].into_iter().map(|v| Tick { at: y_of(v), label: pct(Some(v)) }).collect(),
        target: Some(Tick { at: y_of(FEEDBACK_TARGET), label: pct(Some(FEEDBACK_TARGET)) }),
        series,
    }
}

// ---- monitoring -------------------------------------------------------------------------------------

pub struct MonitorLine {
    pub unit: UnitView,
    pub b: Backlog,
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct MonitorPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    unit: UnitView,
    trail: Vec<UnitView>,
    rows: Vec<MonitorLine>,
    own: Backlog,
    show_own: bool,
    total: Backlog,
    today: String,
    can_order: bool,
}

#[derive(Deserialize)]
pub struct UnitParams {
    unit: Option<String>,
}

async fn monitor(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<UnitParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let unit = parse_unit(p.unit.as_deref())?;
        app.monitoring(&actor, unit.as_ref()).await
    }
    .await;
    let m = match result {
        Ok(m) => m,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let page = MonitorPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/supervision", &uri),
        tab: "monitor",
        unit: UnitView::new(&m.unit, &t),
        trail: m.trail.iter().map(|u| UnitView::new(u, &t)).collect(),
        rows: m.rows.iter().map(|r| MonitorLine { unit: UnitView::new(&r.unit, &t), b: r.backlog }).collect(),
        show_own: m.own != Backlog::default(),
        own: m.own,
        total: m.total,
        today: m.today.to_string(),
        can_order: actor.can(domain::authz::Capability::Supervise)
            || actor.can(domain::authz::Capability::ExchangeAnswer),
    };
    render(&page, t)
}

pub struct ItemLine {
    pub id: i64,
    pub kind: &'static str,
    pub person: String,
    pub id_number: String,
    pub from_unit: String,
    pub to_unit: String,
    pub status_key: String,
    pub overdue: bool,
    pub due: String,
}

#[derive(Template)]
#[template(path = "supervision_items.html")]
struct ItemsPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    unit: UnitView,
    part: &'static str,
    rows: Vec<ItemLine>,
    pager: Pager,
}

#[derive(Deserialize)]
pub struct ItemsParams {
    unit: Option<String>,
    part: Option<String>,
    page: Option<String>,
}

async fn items(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<ItemsParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let unit = parse_unit(p.unit.as_deref())?.unwrap_or_else(|| actor.org.clone());
        let raw = p.part.as_deref().unwrap_or("waiting");
        let part =
            BacklogItems::parse(raw).ok_or_else(|| ServiceError::invalid("field.part", "rule.code_unknown", raw))?;
        let page = parse_page(p.page.as_deref(), None)?;
        let (unit, listing) = app.backlog_items(&actor, &unit, part, page).await?;
        Ok::<_, ServiceError>((unit, part, listing))
    }
    .await;
    let (unit, part, listing) = match result {
        Ok(x) => x,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let today = app.clock.today();
    let rows = listing
        .items
        .iter()
        .map(|i| {
            let status = status_label(i).to_owned();
            ItemLine {
                id: i.id,
                kind: t.get(match i.kind.as_str() {
                    "verification" => "exchange.kind.verification",
                    "notification" => "exchange.kind.notification",
                    _ => "exchange.kind.service_info",
                }),
                person: i.person_name.clone(),
                id_number: i.person_id_number.as_deref().map(mask_id).unwrap_or_default(),
                from_unit: i.from_unit.clone(),
                to_unit: i.to_unit.clone(),
                overdue: status == "overdue"
                    || i.due_on.is_some_and(|d| today > d && i.status != "draft")
                    || (i.status == "draft" && i.send_due_on.is_some_and(|d| today > d)),
                status_key: format!("exchange.status.{status}"),
                due: i.due_on.or(i.send_due_on).map(|d| d.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    let code = unit.code.to_string();
    let pager = Pager::new(&listing, "/supervision/items", &[("unit", Some(&code)), ("part", Some(part.as_str()))]);
    let page = ItemsPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/supervision", &uri),
        tab: "monitor",
        unit: UnitView::new(&unit, &t),
        part: match part {
            BacklogItems::Waiting => "supervision.waiting",
            BacklogItems::Overdue => "supervision.overdue",
            BacklogItems::Drafts => "supervision.drafts",
            BacklogItems::DraftsLate => "supervision.drafts_late",
        },
        rows,
        pager,
    };
    render(&page, t)
}

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

fn rank_lines(r: &Ranking) -> Vec<RankLine> {
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

fn ranking_chart(t: &Messages, lines: &[RankLine], r: &Ranking) -> BarChart {
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

async fn performance(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<PerfParams>,
) -> Response {
    let sent = p.sent.clone().map(|s| (s, p.skipped.clone().unwrap_or_else(|| "0".to_owned())));
    performance_page(&app, lang, &actor, &uri, &p, sent, None).await
}

async fn remind(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn, body: Bytes) -> Response {
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
                super::percent_encode(unit.trim()),
                super::percent_encode(cycle.trim()),
                super::percent_encode(threshold.trim()),
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

// ---- bulletin ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "supervision_bulletin.html")]
struct BulletinPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    province: String,
    province_name: String,
    quarter: String,
    generated: String,
    summary: Vec<String>,
    rows: Vec<RankLine>,
    bars: BarChart,
    target: String,
}

#[derive(Deserialize)]
pub struct BulletinParams {
    quarter: Option<String>,
    province: Option<String>,
}

/// Names of some counties of a ranking, joined for a sentence.
fn names_of(codes: &[String], r: &Ranking, t: &Messages) -> String {
    // The catalogue trims values: an ASCII separator gets its space back here.
    let sep = t.get("supervision.list_separator");
    let sep = if sep.is_ascii() { format!("{sep} ") } else { sep.to_owned() };
    codes
        .iter()
        .map(|c| r.rows.iter().find(|(x, _)| &x.unit == c).map(|(_, n)| n.clone()).unwrap_or_else(|| c.clone()))
        .collect::<Vec<_>>()
        .join(&sep)
}

async fn bulletin(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<BulletinParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let province = parse_unit(p.province.as_deref())?;
        let quarter = parse_quarter(p.quarter.as_deref(), &app)?;
        app.bulletin(&actor, province.as_ref(), quarter).await
    }
    .await;
    let b = match result {
        Ok(b) => b,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let r = &b.ranking;
    let f = &b.facts;
    let target = pct(Some(FEEDBACK_TARGET));
    let mut summary = Vec::new();
    if f.ranked == 0 {
        summary.push(t.fmt("supervision.bulletin_none", &[("quarter", &r.quarter.to_string())]));
    } else {
        summary.push(t.fmt(
            "supervision.bulletin_summary",
            &[
                ("quarter", &r.quarter.to_string()),
                ("province", &b.province_name),
                ("ranked", &f.ranked.to_string()),
                ("meeting", &f.meeting_target.to_string()),
                ("target", &target),
                ("rate", &pct(f.feedback_rate)),
            ],
        ));
        if !f.below_target.is_empty() {
            summary.push(t.fmt("supervision.bulletin_below", &[("list", &names_of(&f.below_target, r, &t))]));
        }
        if f.bottom_three.is_empty() {
            summary.push(t.get("supervision.bulletin_few").to_owned());
        } else {
            summary.push(t.fmt("supervision.bulletin_bottom", &[("list", &names_of(&f.bottom_three, r, &t))]));
        }
        if f.flagged.is_empty() {
            summary.push(t.get("supervision.bulletin_no_flagged").to_owned());
        } else {
            summary.push(t.fmt("supervision.bulletin_flagged", &[("list", &names_of(&f.flagged, r, &t))]));
        }
    }
    let rows = rank_lines(r);
    let bars = ranking_chart(&t, &rows, r);
    let page = BulletinPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/supervision", &uri),
        tab: "bulletin",
        province: r.province.to_string(),
        province_name: b.province_name.clone(),
        quarter: r.quarter.to_string(),
        generated: local(Some(app.clock.now())),
        summary,
        rows,
        bars,
        target,
    };
    render(&page, t)
}

// ---- orders -----------------------------------------------------------------------------------------

pub struct OrderLine {
    pub id: i64,
    pub title: String,
    pub kind_key: String,
    pub target: String,
    pub target_name: String,
    pub issuer: String,
    pub issuer_name: String,
    pub due: String,
    pub status_key: String,
    pub status: String,
    pub overdue: bool,
    pub created: String,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    rows: Vec<OrderLine>,
    pager: Pager,
    mailbox: String,
    status: String,
    can_open: bool,
}

async fn orders(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<OrderListParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let q = p.to_query()?;
        app.supervision_orders(&actor, &q).await
    }
    .await;
    let list = match result {
        Ok(l) => l,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let name = |c: &str| list.names.get(c).cloned().unwrap_or_default();
    let rows = list
        .listing
        .items
        .iter()
        .map(|o| OrderLine {
            id: o.id,
            title: o.title.clone(),
            kind_key: format!("order.kind.{}", o.subject_kind),
            target: o.target_unit.clone(),
            target_name: name(&o.target_unit),
            issuer: o.issuer_unit.clone(),
            issuer_name: name(&o.issuer_unit),
            due: o.due_on.to_string(),
            status_key: format!("order.status.{}", o.status),
            status: o.status.clone(),
            overdue: order_overdue(o, list.today),
            created: local(Some(o.created_at)),
        })
        .collect();
    let mailbox = p.mailbox.clone().unwrap_or_default();
    let status = p.status.clone().unwrap_or_default();
    let pager = Pager::new(&list.listing, "/orders", &[("box", Some(&mailbox)), ("status", Some(&status))]);
    let page = OrdersPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/supervision", &uri),
        tab: "orders",
        rows,
        pager,
        mailbox,
        status,
        can_open: actor.can(domain::authz::Capability::Supervise)
            || actor.can(domain::authz::Capability::ExchangeAnswer),
    };
    render(&page, t)
}

#[derive(Template)]
#[template(path = "order_new.html")]
struct NewOrderPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    error: Option<String>,
    target: String,
    kinds: Vec<(&'static str, String, bool)>,
    subject_ref: String,
    title: String,
    body: String,
    due_on: String,
}

#[derive(Deserialize)]
pub struct NewOrderParams {
    target: Option<String>,
    kind: Option<String>,
    #[serde(rename = "ref")]
    subject_ref: Option<String>,
}

fn new_order_page(
    app: &App,
    t: Messages,
    actor: &Actor,
    uri: &Uri,
    req: &OrderRequest,
    error: Option<String>,
) -> NewOrderPage {
    let kind = if req.subject_kind.is_empty() { "free" } else { req.subject_kind.as_str() };
    NewOrderPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/supervision", uri),
        tab: "orders",
        error,
        target: req.target.clone(),
        kinds: SubjectKind::ALL
            .into_iter()
            .filter(|k| k.opened_by_hand())
            .map(|k| (k.as_str(), format!("order.kind.{}", k.as_str()), k.as_str() == kind))
            .collect(),
        subject_ref: req.subject_ref.clone(),
        title: req.title.clone(),
        body: req.body.clone(),
        due_on: if req.due_on.is_empty() {
            (app.clock.today() + chrono::Duration::days(domain::supervision::REMINDER_DAYS)).to_string()
        } else {
            req.due_on.clone()
        },
    }
}

async fn new_order(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<NewOrderParams>,
) -> Response {
    use domain::authz::Capability;
    if let Err(e) = app.guard_any(&actor, &[Capability::Supervise, Capability::ExchangeAnswer]).await {
        return PageError::new(lang, e).into_response();
    }
    let req = OrderRequest {
        target: p.target.unwrap_or_default(),
        subject_kind: p.kind.unwrap_or_default(),
        subject_ref: p.subject_ref.unwrap_or_default(),
        ..Default::default()
    };
    render(&new_order_page(&app, lang.0, &actor, &uri, &req, None), lang.0)
}

async fn create_order(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    body: Bytes,
) -> Response {
    let t = lang.0;
    let req = OrderRequest {
        target: field(&body, "target"),
        subject_kind: field(&body, "kind"),
        subject_ref: field(&body, "ref"),
        title: field(&body, "title"),
        body: field(&body, "body"),
        due_on: field(&body, "due_on"),
    };
    match app.open_order(&actor, &req).await {
        Ok(id) => Redirect::to(&format!("/orders/{id}?done=1")).into_response(),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict { .. })) => {
            let (status, message) = message_of(&e, &t);
            let mut response = render(&new_order_page(&app, t, &actor, &uri, &req, Some(message)), t);
            *response.status_mut() = status;
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

pub struct EventLine {
    pub at: String,
    pub label_key: String,
    pub actor: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    done: bool,
    error: Option<String>,
    v: OrderView,
    kind_key: String,
    status_key: String,
    subject_link: Option<String>,
    created: String,
    answered: String,
    closed: String,
    events: Vec<EventLine>,
    notifications: Vec<NotificationRow>,
}

async fn order_page(
    app: &App,
    lang: Lang,
    actor: &Actor,
    uri: &Uri,
    id: i64,
    done: bool,
    error: Option<String>,
) -> Response {
    let t = lang.0;
    let v = match app.supervision_order(actor, id).await {
        Ok(v) => v,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let o = &v.order;
    let subject_link = match o.subject_kind.as_str() {
        "item" => Some(format!("/exchange/{}", o.subject_ref)),
        "finding" => Some(format!("/persons/{}", o.subject_ref)),
        "reminder" => o.cycle.as_ref().map(|c| format!("/exchange?cycle={c}")),
        _ => None,
    };
    let page = OrderPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/supervision", uri),
        tab: "orders",
        done,
        error,
        kind_key: format!("order.kind.{}", o.subject_kind),
        status_key: format!("order.status.{}", o.status),
        subject_link,
        created: local(Some(o.created_at)),
        answered: local(o.answered_at),
        closed: local(o.closed_at),
        events: v
            .events
            .iter()
            .map(|e| EventLine {
                at: local(Some(e.at)),
                label_key: format!("order.event.{}", e.event),
                actor: if e.actor_unit.is_empty() {
                    e.actor_name.clone()
                } else {
                    format!("{} · {}", e.actor_name, e.actor_unit)
                },
                note: e.note.clone(),
            })
            .collect(),
        notifications: v
            .notifications
            .iter()
            .map(|n| NotificationRow {
                recipient: if n.recipient_name.is_empty() {
                    n.recipient.clone()
                } else {
                    format!("{} ({})", n.recipient_name, n.recipient)
                },
                unit: n.unit.clone(),
                channel: n.channel.clone(),
                state: n.state.clone(),
                state_key: format!("exchange.delivery.{}", n.state),
                attempts: n.attempts,
                error: n.last_error.clone().unwrap_or_default(),
                at: local(n.sent_at.or(Some(n.next_attempt_at))),
                message: n.message.clone(),
            })
            .collect(),
        v,
    };
    render(&page, t)
}

#[derive(Deserialize)]
pub struct DoneParam {
    done: Option<String>,
}

async fn order(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    PathId(id): PathId<OrderId>,
    Query(d): Query<DoneParam>,
) -> Response {
    let id = id.get();
    order_page(&app, lang, &actor, &uri, id, d.done.is_some(), None).await
}

#[derive(Debug, Clone, Copy)]
enum Act {
    Answer,
    Close,
    Reopen,
}

async fn act(app: &App, lang: Lang, uri: &Uri, actor: &Actor, id: OrderId, body: &[u8], what: Act) -> Response {
    let id = id.get();
    let result = match what {
        Act::Answer => app.answer_order(actor, id, &field(body, "answer")).await,
        Act::Close => app.close_order(actor, id, &field(body, "note")).await,
        Act::Reopen => app.reopen_order(actor, id, &field(body, "note"), &field(body, "due_on")).await,
    };
    match result {
        Ok(()) => Redirect::to(&format!("/orders/{id}?done=1")).into_response(),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict { .. })) => {
            let (status, message) = message_of(&e, &lang.0);
            let mut response = order_page(app, lang, actor, uri, id, false, Some(message)).await;
            *response.status_mut() = status;
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

macro_rules! order_action {
    ($name:ident, $act:expr) => {
        async fn $name(
            State(app): State<App>,
            lang: Lang,
            uri: Uri,
            SignedIn(actor): SignedIn,
            PathId(id): PathId<OrderId>,
            body: Bytes,
        ) -> Response {
            act(&app, lang, &uri, &actor, id, &body, $act).await
        }
    };
}

order_action!(answer_order, Act::Answer);
order_action!(close_order, Act::Close);
order_action!(reopen_order, Act::Reopen);
