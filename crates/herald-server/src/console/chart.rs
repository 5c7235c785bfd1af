//! Small charts drawn on the server as SVG: no script, no chart library,
//! nothing to load. Each has a text alternative for screen readers.

use maud::{Markup, html};

/// One bar: its label (a time bucket) and value; `bad` colours it.
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) value: f64,
    pub(crate) bad: bool,
}

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 140.0;
const PAD_BOTTOM: f64 = 18.0;

/// A bar chart of `bars` titled `title` (also its accessible name);
/// `unit` follows each value in the tooltips.
pub(crate) fn bars(title: &str, bars: &[Bar], unit: &str) -> Markup {
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let slot = WIDTH / bars.len().max(1) as f64;
    let plot = HEIGHT - PAD_BOTTOM;
    let summary = if bars.is_empty() || max == 0.0 {
        format!("{title}: no data yet")
    } else {
        format!(
            "{title}: {} buckets, highest {}{unit}",
            bars.len(),
            trim(max)
        )
    };
    html! {
        figure.card {
            figcaption { strong { (title) } }
            svg.chart viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(summary) {
                line.axis x1="0" y1=(plot) x2=(WIDTH) y2=(plot) {}
                @for (i, bar) in bars.iter().enumerate() {
                    @let h = if max > 0.0 { (bar.value / max) * (plot - 4.0) } else { 0.0 };
                    rect class=(if bar.bad { "bar bad" } else { "bar" })
                        x=(format!("{:.1}", i as f64 * slot + slot * 0.1))
                        y=(format!("{:.1}", plot - h))
                        width=(format!("{:.1}", slot * 0.8))
                        height=(format!("{:.1}", h)) {
                        title { (bar.label) ": " (trim(bar.value)) (unit) }
                    }
                }
                @if let (Some(first), Some(last)) = (bars.first(), bars.last()) {
                    text x="0" y=(HEIGHT - 4.0) { (first.label) }
                    text x=(WIDTH) y=(HEIGHT - 4.0) text-anchor="end" { (last.label) }
                }
            }
            @if bars.is_empty() || max == 0.0 { p.muted { "No data in this period yet." } }
        }
    }
}

/// A line of `values` (oldest first) small enough for a table cell.
pub(crate) fn sparkline(label: &str, values: &[f64]) -> Markup {
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    let step = 120.0 / (values.len().max(2) - 1) as f64;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let y = if max > 0.0 {
                22.0 - (v / max) * 20.0
            } else {
                22.0
            };
            format!("{:.1},{:.1}", i as f64 * step, y)
        })
        .collect();
    html! {
        svg.spark viewBox="0 0 120 24" role="img" aria-label=(label) {
            polyline points=(points.join(" ")) {}
        }
    }
}

fn trim(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}
