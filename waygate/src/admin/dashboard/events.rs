//! `GET events?service=`: live updates over SSE (upstream 5.10).
//!
//! For every route change the engine applies, `event: waygate:update:{slug}` with the
//! route's re-rendered row as `data:` lines, then `event: waygate:summary` with the counts
//! per status; global maintenance changes send
//! `event: waygate:global` with the panel. A reload of everything, or a client too slow to
//! keep up (the broadcast channel lagged), gets every row again. `: keepalive` comments
//! every 15 s keep proxies from closing the stream. Every [`CHARTS_EVERY`], when the refused
//! requests of the last hour changed (or the minute turned), `event: waygate:chart-strip`
//! and `event: waygate:charts` carry the re-rendered charts.
//!
//! The stream ends when the session's token is revoked (a logout, here or on another
//! instance) or expires.
//!
//! The page side is `static/waygate.js`: a tiny `EventSource` script (chosen over the htmx
//! SSE extension, one file less to vendor, and it swaps rows by id whatever the row's
//! markup) that listens for the update of each row shown and replaces that row.

use super::super::extract::{Caller, Params};
use super::super::AdminState;
use super::view::{slug, status_counts, Global, GlobalFragment, Row, RowFragment, SummaryFragment};
use crate::model::RouteState;
use crate::EngineEvent;
use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures_util::stream::{self, StreamExt};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often a comment is sent when nothing changes.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// How often the charts are looked at (and sent when they changed).
pub(super) const CHARTS_EVERY: Duration = Duration::from_secs(2);

/// `GET events?service=`.
pub(super) async fn events(
    State(admin): State<AdminState>,
    caller: Caller,
    params: Params,
) -> impl IntoResponse {
    let service = params.get("service").map(str::to_owned);
    let engine = admin.engine.clone();
    let receiver = admin.engine.subscribe();
    let admin_for_charts = admin.clone();
    let updates = stream::unfold(
        (admin, receiver, service),
        |(admin, mut receiver, service)| async move {
            let events = loop {
                let events = match receiver.recv().await {
                    Ok(EngineEvent::RouteChanged { key }) => admin
                        .engine
                        .state(&key)
                        .into_iter()
                        .filter_map(|state| row_event(&admin, &state, service.as_deref()))
                        .chain(summary_event(&admin, service.as_deref()))
                        .collect(),
                    Ok(EngineEvent::GlobalChanged) => global_event(&admin).into_iter().collect(),
                    // The details of a change; its RouteChanged or GlobalChanged follows.
                    Ok(EngineEvent::Applied(_)) => Vec::new(),
                    // The flag pages re-read what they show.
                    Ok(EngineEvent::FlagsChanged) => {
                        vec![Event::default().event("waygate:flags").data("changed")]
                    }
                    // Everything may have changed, or we missed changes: send every row.
                    Ok(_) | Err(RecvError::Lagged(_)) => admin
                        .engine
                        .list_states()
                        .iter()
                        .filter_map(|state| row_event(&admin, state, service.as_deref()))
                        .chain(global_event(&admin))
                        .chain(summary_event(&admin, service.as_deref()))
                        .collect(),
                    // The engine is gone: only keep-alives from now on.
                    Err(RecvError::Closed) => std::future::pending().await,
                };
                if !Vec::is_empty(&events) {
                    break events;
                }
            };
            Some((
                stream::iter(events.into_iter().map(Ok::<_, Infallible>)),
                (admin, receiver, service),
            ))
        },
    )
    .flatten();
    let charts = chart_events(admin_for_charts);
    // Nothing more once the session's token is revoked (logout) or expired.
    let updates = caller.while_token_holds(engine, stream::select(updates, charts));
    (
        [
            (header::CACHE_CONTROL, "no-cache"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Sse::new(updates).keep_alive(KeepAlive::new().interval(KEEPALIVE).text("keepalive")),
    )
}

/// The charts, each time their numbers change.
fn chart_events(
    admin: AdminState,
) -> impl futures_util::Stream<Item = Result<Event, Infallible>> + Send {
    let first = admin.engine.traffic();
    let ticks = tokio::time::interval_at(tokio::time::Instant::now() + CHARTS_EVERY, CHARTS_EVERY);
    stream::unfold(
        (admin, ticks, first),
        |(admin, mut ticks, mut last)| async move {
            loop {
                ticks.tick().await;
                let report = admin.engine.traffic();
                if report == last {
                    continue;
                }
                let (total, routes) = super::charts::charts(&report);
                last = report;
                let strip = super::charts::StripFragment {
                    chart: total.clone(),
                }
                .render();
                let body = super::charts::ChartsFragment { total, routes }.render();
                let events: Vec<_> = [("waygate:chart-strip", strip), ("waygate:charts", body)]
                    .into_iter()
                    .filter_map(|(name, html)| {
                        Some(Ok(Event::default().event(name).data(html.ok()?.trim())))
                    })
                    .collect();
                return Some((stream::iter(events), (admin, ticks, last)));
            }
        },
    )
    .flatten()
}

/// The update of one route's row, unless `service` filters it out.
fn row_event(admin: &AdminState, state: &RouteState, service: Option<&str>) -> Option<Event> {
    if service.is_some_and(|service| state.service.as_deref() != Some(service)) {
        return None;
    }
    let slug = slug(state.key());
    // An event name cannot span lines (no route key has a line break; be sure).
    if slug.contains(['\n', '\r']) {
        return None;
    }
    let html = RowFragment {
        row: Row::of(&admin.engine, state),
    }
    .render()
    .ok()?;
    Some(
        Event::default()
            .event(format!("waygate:update:{slug}"))
            .data(html.trim()),
    )
}

/// The counts per status of the routes shown (one service's, or every route).
fn summary_event(admin: &AdminState, service: Option<&str>) -> Option<Event> {
    let mut states = admin.engine.list_states();
    if let Some(service) = service {
        states.retain(|state| state.service.as_deref() == Some(service));
    }
    let html = SummaryFragment {
        counts: status_counts(&states, admin.engine.now()),
    }
    .render()
    .ok()?;
    Some(Event::default().event("waygate:summary").data(html.trim()))
}

/// The global maintenance panel.
fn global_event(admin: &AdminState) -> Option<Event> {
    let html = GlobalFragment {
        global: Global::from(admin.engine.global_maintenance()),
    }
    .render()
    .ok()?;
    Some(Event::default().event("waygate:global").data(html.trim()))
}
