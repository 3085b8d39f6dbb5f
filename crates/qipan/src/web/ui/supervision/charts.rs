use domain::exchange::FEEDBACK_TARGET;

use super::pct;

// ---- charts ---------------------------------------------------------------------------------------

/// Width of every chart's drawing (the SVG scales to its box).
const CHART_WIDTH: u32 = 640;
const BAR_LEFT: u32 = 170;
const BAR_SPAN: u32 = 380;
const BAR_ROW: u32 = 22;
const BAR_TOP: u32 = 22;
/// Bars drawn at most; the table beside the chart lists every unit.
const MAX_BARS: usize = 40;

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

pub(super) fn bar_chart(
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

pub(super) fn line_chart(
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
