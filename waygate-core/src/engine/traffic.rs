//! Refused requests per minute over the last hour, per route: what the dashboard charts.
//!
//! Each route has a ring of 60 one-minute slots of two counters (blocked by route state,
//! refused by a rate limit). Counting is a relaxed atomic add, and opening a new minute a
//! compare-and-swap; a request counted in the instant its slot is recycled may be lost,
//! which a chart does not show. Only refused requests are counted: an allowed request
//! never touches this. Counts are this engine's own (each instance charts its traffic).

use super::Engine;
pub use crate::counters::{RefusalKind, TRAFFIC_MINUTES};
use crate::counters::{RouteCounters, RouteTraffic};
use arc_swap::ArcSwap;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// The route name under which refused requests that matched no route are counted.
pub const UNMATCHED_ROUTE: &str = "__unmatched__";

/// The refused requests of every route, by minute.
#[derive(Default)]
pub(super) struct Traffic {
    routes: ArcSwap<FxHashMap<Box<str>, Arc<RouteTraffic>>>,
}

impl Traffic {
    /// The series of `route`, created on its first refusal.
    fn route(&self, route: &str) -> Arc<RouteTraffic> {
        if let Some(traffic) = self.routes.load().get(route) {
            return Arc::clone(traffic);
        }
        let mut added = None;
        self.routes.rcu(|routes| {
            let mut routes = FxHashMap::clone(routes);
            added = Some(Arc::clone(routes.entry(route.into()).or_default()));
            routes
        });
        added.unwrap_or_default()
    }
}

impl std::fmt::Debug for Traffic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Traffic")
            .field("routes", &self.routes.load().len())
            .finish()
    }
}

/// One route's refused requests per minute over the last hour, oldest minute first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteTrafficSeries {
    /// The route key ([`UNMATCHED_ROUTE`] for requests that matched none).
    pub route: String,
    /// Requests blocked by route state, per minute.
    pub blocked: Vec<u64>,
    /// Requests refused by a rate limit, per minute.
    pub rate_limited: Vec<u64>,
}

/// The last hour of refused requests, as the dashboard charts it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrafficReport {
    /// The start of the last (current) minute of the series.
    pub until: chrono::DateTime<chrono::Utc>,
    /// The routes that had any refused request in the hour, by key.
    pub routes: Vec<RouteTrafficSeries>,
}

impl TrafficReport {
    /// Every route's series added up.
    pub fn total(&self) -> RouteTrafficSeries {
        let mut total = RouteTrafficSeries {
            route: "total".to_owned(),
            blocked: vec![0; TRAFFIC_MINUTES],
            rate_limited: vec![0; TRAFFIC_MINUTES],
        };
        for route in &self.routes {
            for (sum, n) in total.blocked.iter_mut().zip(&route.blocked) {
                *sum += n;
            }
            for (sum, n) in total.rate_limited.iter_mut().zip(&route.rate_limited) {
                *sum += n;
            }
        }
        total
    }
}

impl Engine {
    /// Counts a refused request to `route` (a route key, or [`UNMATCHED_ROUTE`]) in the
    /// current minute, for the dashboard's charts. Called by adapters for refused requests
    /// only.
    pub fn note_refused(&self, route: &str, refused: RefusalKind) {
        let minute = self.inner.clock.unix_minute();
        self.inner.traffic.route(route).add(minute, refused);
    }

    /// [`note_refused`](Self::note_refused) for the route whose counters are `counters`:
    /// after its first refusal, no lookup (the counters keep the route's series).
    pub(crate) fn note_refused_by(
        &self,
        counters: &RouteCounters,
        route: &str,
        refused: RefusalKind,
    ) {
        let minute = self.inner.clock.unix_minute();
        counters
            .traffic
            .get_or_init(|| self.inner.traffic.route(route))
            .add(minute, refused);
    }

    /// Refused requests per minute over the last hour, per route (those with any).
    pub fn traffic(&self) -> TrafficReport {
        let now = self.now();
        let minute = now.timestamp().div_euclid(60);
        let mut routes: Vec<RouteTrafficSeries> = self
            .inner
            .traffic
            .routes
            .load()
            .iter()
            .map(|(route, traffic)| {
                let (blocked, rate_limited) = traffic.series(minute);
                RouteTrafficSeries {
                    route: route.to_string(),
                    blocked,
                    rate_limited,
                }
            })
            .filter(|s| s.blocked.iter().chain(&s.rate_limited).any(|n| *n > 0))
            .collect();
        routes.sort_by(|a, b| a.route.cmp(&b.route));
        TrafficReport {
            until: chrono::DateTime::from_timestamp(minute * 60, 0).unwrap_or(now),
            routes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn counts_land_in_their_minute_and_age_out_after_an_hour() {
        let engine = Engine::new();
        engine.note_refused("GET:/a", RefusalKind::Blocked);
        engine.note_refused("GET:/a", RefusalKind::Blocked);
        engine.note_refused("GET:/a", RefusalKind::RateLimited);
        tokio::time::advance(Duration::from_secs(60)).await;
        engine.note_refused("GET:/a", RefusalKind::RateLimited);
        engine.note_refused("GET:/b", RefusalKind::Blocked);

        let report = engine.traffic();
        assert_eq!(report.routes.len(), 2);
        let a = &report.routes[0];
        assert_eq!(a.route, "GET:/a");
        assert_eq!(a.blocked.len(), TRAFFIC_MINUTES);
        assert_eq!(a.blocked[58..], [2, 0]);
        assert_eq!(a.rate_limited[58..], [1, 1]);
        let total = report.total();
        assert_eq!(total.blocked[58..], [2, 1]);
        assert_eq!(total.rate_limited[58..], [1, 1]);

        tokio::time::advance(Duration::from_secs(59 * 60)).await;
        let report = engine.traffic();
        assert_eq!(
            report.routes[0].rate_limited[0], 1,
            "59 minutes ago: still shown"
        );
        assert_eq!(
            report.routes[0].blocked.iter().sum::<u64>(),
            0,
            "an hour ago: gone"
        );
        tokio::time::advance(Duration::from_secs(60)).await;
        engine.note_refused("GET:/a", RefusalKind::Blocked);
        let report = engine.traffic();
        assert_eq!(
            report.routes.len(),
            1,
            "routes with nothing in the hour are left out"
        );
        assert_eq!(
            report.routes[0].blocked[59], 1,
            "a recycled slot starts from zero"
        );
        assert_eq!(report.routes[0].rate_limited.iter().sum::<u64>(), 0);
    }
}
