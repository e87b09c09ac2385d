//! The Segments pages: the list (with create) and a segment's page (name, description,
//! included and excluded keys, rules, delete), each change through the engine and answered
//! with the re-rendered list or page body.

use super::super::body::capped;
use super::super::AdminState;
use super::context::Ctx;
use super::flag_view::{segment_rows, SegmentBody, SegmentPage, SegmentRowsFragment, SegmentsPage};
use super::flags::{gone, key_list, RuleFields};
use super::view::render;
use crate::flags::{Segment, SegmentRule};
use crate::model::Actor;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

/// `GET segments`.
pub(super) async fn page(State(admin): State<AdminState>, ctx: Ctx) -> Response {
    render(&SegmentsPage {
        ctx,
        rows: segment_rows(&admin.engine.flags()),
        error: String::new(),
    })
}

/// `GET segments/rows`: the table, for live updates.
pub(super) async fn rows(State(admin): State<AdminState>) -> Response {
    rows_fragment(&admin, String::new())
}

fn rows_fragment(admin: &AdminState, error: String) -> Response {
    render(&SegmentRowsFragment {
        rows: segment_rows(&admin.engine.flags()),
        error,
    })
}

/// The create and save forms' fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SegmentFields {
    key: String,
    name: String,
    description: String,
    included: String,
    excluded: String,
}

/// `POST segments/create`: an empty segment; answers the table.
pub(super) async fn create(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Form(fields): Form<SegmentFields>,
) -> Response {
    let result = async {
        for (field, value) in [("key", &fields.key), ("name", &fields.name), ("description", &fields.description)] {
            capped(field, value).map_err(|e| e.message().to_owned())?;
        }
        if admin.engine.flags().segment(fields.key.trim()).is_some() {
            return Err(format!("a segment {} exists already", fields.key.trim()));
        }
        let segment: Segment = serde_json::from_value(json!({
            "key": fields.key.trim(), "name": fields.name.trim(), "description": fields.description.trim()
        }))
        .map_err(|e| format!("invalid segment: {e}"))?;
        admin
            .engine
            .save_segment(segment, ctx.actor.clone())
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    rows_fragment(&admin, result.err().unwrap_or_default())
}

/// `GET segments/{key}`.
pub(super) async fn detail(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
) -> Response {
    let set = admin.engine.flags();
    match set.segment(&key) {
        Some(segment) => render(&SegmentPage {
            ctx,
            body: SegmentBody::new(segment, &set),
        }),
        None => super::missing(
            ctx,
            &format!("No segment {key}."),
            "segments",
            "Back to the segments",
        ),
    }
}

/// `GET segments/{key}/body`: the page body, for live updates.
pub(super) async fn body(State(admin): State<AdminState>, Path(key): Path<String>) -> Response {
    answer(&admin, &key, Ok(String::new()))
}

fn answer(admin: &AdminState, key: &str, outcome: Result<String, String>) -> Response {
    let set = admin.engine.flags();
    let Some(segment) = set.segment(key) else {
        return gone(
            &format!("Segment {key} does not exist (any more)."),
            "segments",
            "Back to the segments",
        );
    };
    let mut body = SegmentBody::new(segment, &set);
    match outcome {
        Ok(notice) => body.notice = notice,
        Err(error) => body.error = error,
    }
    render(&body)
}

async fn change_segment(
    admin: &AdminState,
    actor: Actor,
    key: &str,
    notice: &str,
    change: impl FnOnce(&mut Segment) -> Result<(), String>,
) -> Response {
    let Some(mut segment) = admin.engine.flags().segment(key).cloned() else {
        return answer(admin, key, Err(String::new()));
    };
    let outcome = match change(&mut segment) {
        Ok(()) => admin
            .engine
            .save_segment(segment, actor)
            .await
            .map(|_| notice.to_owned())
            .map_err(|e| e.to_string()),
        Err(error) => Err(error),
    };
    answer(admin, key, outcome)
}

/// `POST segments/{key}/save`: name, description, included and excluded keys.
pub(super) async fn save(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Form(fields): Form<SegmentFields>,
) -> Response {
    change_segment(&admin, ctx.actor, &key, "Segment saved.", |segment| {
        for (field, value) in [("name", &fields.name), ("description", &fields.description)] {
            capped(field, value).map_err(|e| e.message().to_owned())?;
        }
        segment.name = fields.name.trim().to_owned();
        segment.description = fields.description.trim().to_owned();
        segment.included = key_list("included", &fields.included)?;
        segment.excluded = key_list("excluded", &fields.excluded)?;
        Ok(())
    })
    .await
}

/// `POST segments/{key}/rules`: appends a rule of one clause.
pub(super) async fn add_rule(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Form(fields): Form<RuleFields>,
) -> Response {
    change_segment(&admin, ctx.actor, &key, "Rule added.", |segment| {
        let rule: SegmentRule = serde_json::from_value(json!({
            "description": fields.description.trim(),
            "clauses": [fields.clause()?],
        }))
        .map_err(|e| format!("invalid rule: {e}"))?;
        segment.rules.push(rule);
        Ok(())
    })
    .await
}

/// `POST segments/{key}/rules/{id}/delete`.
pub(super) async fn delete_rule(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path((key, id)): Path<(String, String)>,
) -> Response {
    change_segment(&admin, ctx.actor, &key, "Rule removed.", |segment| {
        let before = segment.rules.len();
        segment.rules.retain(|rule| rule.id != id);
        match segment.rules.len() < before {
            true => Ok(()),
            false => Err(format!("no rule {id}")),
        }
    })
    .await
}

/// `POST segments/{key}/delete`.
pub(super) async fn delete(
    State(admin): State<AdminState>,
    ctx: Ctx,
    Path(key): Path<String>,
) -> Response {
    match admin.engine.delete_segment(&key, ctx.actor).await {
        Ok(()) => gone(
            &format!("Segment {key} deleted."),
            "segments",
            "Back to the segments",
        ),
        Err(error) => answer(&admin, &key, Err(error.to_string())),
    }
}
