//! Charts of refused requests: blocked by route state and refused by rate limits, per
//! minute over the last hour ([`Engine::traffic`](crate::Engine::traffic)), for every
//! route and in total. Server-rendered SVG (no script, no chart library): the path data is
//! numbers only, and every text (route keys) goes through askama's escaping. Colours come
//! from the style sheet's variables, so the charts follow light and dark mode. The live
//! stream re-sends them when the numbers change ([`super::events`]).

use super::super::AdminState;
use super::context::Ctx;
use super::view::{render, slug};
use crate::{RouteTrafficSeries, TrafficReport, TRAFFIC_MINUTES};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use std::fmt::Write as _;

/// The plot's coordinate space (the SVG scales to its box).
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 100.0;

/// One chart: two series over the hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Chart {
    /// `total`, or the route key (escaped by the template).
    pub(super) title: String,
    pub(super) slug: String,
    /// SVG path data of the blocked series' line and area (numbers and `M L Z` only).
    pub(super) blocked_line: String,
    pub(super) blocked_area: String,
    /// Likewise for `429`s.
    pub(super) limited_line: String,
    pub(super) limited_area: String,
    /// The busiest minute, the top of the scale.
    pub(super) max: u64,
    pub(super) blocked_total: u64,
    pub(super) limited_total: u64,
    /// `14:05`, the current minute (UTC).
    pub(super) until: String,
    /// `13:06`, the first minute shown (UTC).
    pub(super) since: String,
}

impl Chart {
    fn new(series: &RouteTrafficSeries, title: &str, report: &TrafficReport) -> Self {
        let max = series
            .blocked
            .iter()
            .chain(&series.rate_limited)
            .copied()
            .max()
            .unwrap_or(0);
        let since = report.until - chrono::TimeDelta::minutes(TRAFFIC_MINUTES as i64 - 1);
        Self {
            title: title.to_owned(),
            slug: slug(title),
            blocked_line: line(&series.blocked, max),
            blocked_area: area(&series.blocked, max),
            limited_line: line(&series.rate_limited, max),
            limited_area: area(&series.rate_limited, max),
            max,
            blocked_total: series.blocked.iter().sum(),
            limited_total: series.rate_limited.iter().sum(),
            until: report.until.format("%H:%M").to_string(),
            since: since.format("%H:%M").to_string(),
        }
    }
}

/// The points of a series, scaled so that `max` touches the top (a flat line at the
/// bottom when everything is zero).
fn points(values: &[u64], max: u64) -> impl Iterator<Item = (f64, f64)> + '_ {
    let step = WIDTH / (values.len().max(2) - 1) as f64;
    let scale = if max == 0 { 0.0 } else { HEIGHT / max as f64 };
    values
        .iter()
        .enumerate()
        .map(move |(i, v)| (i as f64 * step, HEIGHT - *v as f64 * scale))
}

fn line(values: &[u64], max: u64) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points(values, max).enumerate() {
        let _ = write!(d, "{}{x:.1} {y:.1}", if i == 0 { "M" } else { " L" });
    }
    d
}

fn area(values: &[u64], max: u64) -> String {
    let line = line(values, max);
    if line.is_empty() {
        return line;
    }
    format!("{line} L{WIDTH:.1} {HEIGHT:.1} L0.0 {HEIGHT:.1} Z")
}

/// The total, then each route with refused requests in the hour.
pub(super) fn charts(report: &TrafficReport) -> (Chart, Vec<Chart>) {
    let total = Chart::new(&report.total(), "total", report);
    let routes = report
        .routes
        .iter()
        .map(|series| Chart::new(series, &series.route, report))
        .collect();
    (total, routes)
}

/// The strip above the routes table: the total only.
#[derive(Template)]
#[template(path = "chart_strip.html")]
pub(super) struct StripFragment {
    pub(super) chart: Chart,
}

/// The charts of the traffic page (total and per route), without the page around them.
#[derive(Template)]
#[template(path = "charts_body.html")]
pub(super) struct ChartsFragment {
    pub(super) total: Chart,
    pub(super) routes: Vec<Chart>,
}

#[derive(Template)]
#[template(path = "charts.html")]
pub(super) struct ChartsPage {
    pub(super) ctx: Ctx,
    pub(super) total: Chart,
    pub(super) routes: Vec<Chart>,
}

/// `GET traffic`: the charts page.
pub(super) async fn page(State(admin): State<AdminState>, ctx: Ctx) -> Response {
    let (total, routes) = charts(&admin.engine.traffic());
    render(&ChartsPage { ctx, total, routes })
}

/// The strip for the routes page, rendered.
pub(super) fn strip(admin: &AdminState) -> StripFragment {
    StripFragment {
        chart: charts(&admin.engine.traffic()).0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_numbers_scaled_to_the_busiest_minute() {
        assert_eq!(line(&[0, 5, 10], 10), "M0.0 100.0 L300.0 50.0 L600.0 0.0");
        assert_eq!(line(&[0, 0], 0), "M0.0 100.0 L600.0 100.0");
        assert_eq!(
            area(&[1, 1], 2),
            "M0.0 50.0 L600.0 50.0 L600.0 100.0 L0.0 100.0 Z"
        );
        assert!(line(&[u64::MAX, 1], u64::MAX)
            .chars()
            .all(|c| c.is_ascii_digit() || " .ML-".contains(c)));
    }
}
