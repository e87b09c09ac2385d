//! What crosses the process boundary between a Waygate Server and its services: the frames
//! of the SDK stream (`GET api/sdk/events`), one type for the server that writes them and the
//! SDK that reads them.
//!
//! The wire is the Python original's (its SDK reads ours and ours reads its server): one
//! Server-Sent Event per frame, `data: <one-line JSON>`, tagged by `type`.
//!
//! ```
//! use waygate_core::wire::StreamFrame;
//! use waygate_core::RouteState;
//!
//! let frame = StreamFrame::State { payload: RouteState::active("GET:/x") };
//! let text = frame.to_json();
//! assert!(text.starts_with(r#"{"type":"state","payload":{"#));
//! assert_eq!(StreamFrame::from_json(&text).unwrap(), frame);
//! // Frames of a newer server are read as `Unknown`, not as errors.
//! assert_eq!(StreamFrame::from_json(r#"{"type":"cohort_updated","key":"x"}"#).unwrap(), StreamFrame::Unknown);
//! ```

use crate::flags::{FeatureFlag, Segment};
use crate::model::RouteState;
use crate::rate_limit::RateLimitPolicy;
use serde::{Deserialize, Serialize};

/// One frame of the SDK stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum StreamFrame {
    /// `{"type": "state", "payload": RouteState}`: a route's state, or one of waygate's own
    /// records as its [`Sentinel`](crate::stored::Sentinel) state (an empty `reason`: the
    /// record was removed).
    #[serde(rename = "state")]
    State {
        /// The state.
        payload: RouteState,
    },
    /// `{"type": "rl_policy", "action": "set" | "delete", "key": "METHOD:path", "policy"}`:
    /// a per-route rate-limit policy set or removed.
    #[serde(rename = "rl_policy")]
    RateLimitPolicy {
        /// Set or removed.
        action: PolicyAction,
        /// `METHOD:path`, the policy's method and path.
        key: String,
        /// The policy (with `set`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy: Option<RateLimitPolicy>,
        /// The service whose own paths the policy is written in (`/path` rather than
        /// `svc:/path`): waygate for Rust says so; the Python SDK ignores the field.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
    },
    /// `{"type": "flag_updated", "key", "flag"}`: a feature flag created or changed (the
    /// whole flag, as `GET api/flags/{key}` answers).
    #[serde(rename = "flag_updated")]
    FlagUpdated {
        /// The flag's key.
        key: String,
        /// The flag.
        flag: Box<FeatureFlag>,
    },
    /// `{"type": "flag_deleted", "key"}`: a feature flag deleted.
    #[serde(rename = "flag_deleted")]
    FlagDeleted {
        /// The flag's key.
        key: String,
    },
    /// `{"type": "segment_updated", "key", "segment"}`: a segment created or changed.
    #[serde(rename = "segment_updated")]
    SegmentUpdated {
        /// The segment's key.
        key: String,
        /// The segment.
        segment: Box<Segment>,
    },
    /// `{"type": "segment_deleted", "key"}`: a segment deleted.
    #[serde(rename = "segment_deleted")]
    SegmentDeleted {
        /// The segment's key.
        key: String,
    },
    /// A frame this version does not know (a newer server's): read and ignored.
    #[serde(other)]
    Unknown,
}

/// What happened to a rate-limit policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyAction {
    /// Set or changed.
    Set,
    /// Removed.
    Delete,
}

impl StreamFrame {
    /// A policy set: `key` is `METHOD:path` of the policy as sent.
    pub fn policy_set(policy: RateLimitPolicy, service: Option<&str>) -> Self {
        Self::RateLimitPolicy {
            action: PolicyAction::Set,
            key: format!("{}:{}", policy.method, policy.path),
            policy: Some(policy),
            service: service.map(str::to_owned),
        }
    }

    /// A policy removed: `method` and `path` as [`policy_set`](Self::policy_set) sent them.
    pub fn policy_removed(method: &str, path: &str, service: Option<&str>) -> Self {
        Self::RateLimitPolicy {
            action: PolicyAction::Delete,
            key: format!("{method}:{path}"),
            policy: None,
            service: service.map(str::to_owned),
        }
    }

    /// A flag created or changed.
    pub fn flag_updated(flag: FeatureFlag) -> Self {
        Self::FlagUpdated {
            key: flag.key.clone(),
            flag: Box::new(flag),
        }
    }

    /// A segment created or changed.
    pub fn segment_updated(segment: Segment) -> Self {
        Self::SegmentUpdated {
            key: segment.key.clone(),
            segment: Box::new(segment),
        }
    }

    /// The frame's one-line JSON (the `data` of its event).
    pub fn to_json(&self) -> String {
        // Route states and policies are plain data with string keys: serialising them
        // cannot fail.
        serde_json::to_string(self).expect("a stream frame serialises")
    }

    /// Reads a frame. A bare route state (no `type`, as some servers send) is read as a
    /// [`State`](Self::State) frame; unknown frame types and extra fields are ignored.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text).or_else(|error| {
            serde_json::from_str::<RouteState>(text)
                .map(|payload| Self::State { payload })
                .map_err(|_| error)
        })
    }

    /// `(method, path)` of a policy frame's `key`.
    pub fn policy_key(key: &str) -> Option<(&str, &str)> {
        key.split_once(':')
    }
}

/// `text` as one segment of an admin API path (`api/flags/{key}`): every byte but the
/// unreserved characters percent-encoded, so a key holding `?`, `#`, `%` or a space stays one
/// segment.
///
/// ```
/// assert_eq!(waygate_core::wire::path_segment("a b?c"), "a%20b%3Fc");
/// ```
pub fn path_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                encoded.push(char::from(byte));
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn value(frame: &StreamFrame) -> Value {
        serde_json::from_str(&frame.to_json()).unwrap()
    }

    #[test]
    fn frames_are_the_python_original_s() {
        let policy = RateLimitPolicy::new("/x", "GET", "5/minute");
        let set = StreamFrame::policy_set(policy, Some("pay"));
        let sent = value(&set);
        assert_eq!(sent["type"], "rl_policy");
        assert_eq!(sent["action"], "set");
        assert_eq!(sent["key"], "GET:/x");
        assert_eq!(sent["service"], "pay");
        assert_eq!(sent["policy"]["limit"], "5/minute");
        let removed = value(&StreamFrame::policy_removed("GET", "pay:/x", None));
        assert_eq!(
            removed,
            json!({"type": "rl_policy", "action": "delete", "key": "GET:pay:/x"})
        );
        assert_eq!(StreamFrame::from_json(&set.to_json()).unwrap(), set);
    }

    #[test]
    fn extra_fields_bare_states_and_unknown_types_are_read() {
        let state = RouteState::active("GET:/x");
        let mut with_extra = serde_json::to_value(StreamFrame::State {
            payload: state.clone(),
        })
        .unwrap();
        with_extra["sent_at"] = json!("2030-01-01T00:00:00Z");
        let read = StreamFrame::from_json(&with_extra.to_string()).unwrap();
        assert_eq!(
            read,
            StreamFrame::State {
                payload: state.clone()
            }
        );
        let bare = serde_json::to_string(&state).unwrap();
        assert_eq!(
            StreamFrame::from_json(&bare).unwrap(),
            StreamFrame::State { payload: state }
        );
        assert_eq!(
            StreamFrame::from_json(r#"{"type":"cohort_deleted","key":"f"}"#).unwrap(),
            StreamFrame::Unknown
        );
        assert!(StreamFrame::from_json("{").is_err());
        assert!(StreamFrame::from_json(r#"{"type":"state"}"#).is_err());
    }

    #[test]
    fn flag_frames_are_the_ones_the_python_sdk_reads() {
        let flag: FeatureFlag = serde_json::from_value(json!({
            "key": "new-checkout", "name": "New checkout", "type": "boolean",
            "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
            "off_variation": "off", "fallthrough": "on"
        }))
        .unwrap();
        let updated = StreamFrame::flag_updated(flag);
        let sent = value(&updated);
        assert_eq!(sent["type"], "flag_updated");
        assert_eq!(sent["key"], "new-checkout");
        assert_eq!(sent["flag"]["off_variation"], "off");
        assert_eq!(StreamFrame::from_json(&updated.to_json()).unwrap(), updated);
        let deleted = StreamFrame::FlagDeleted {
            key: "new-checkout".into(),
        };
        assert_eq!(
            value(&deleted),
            json!({"type": "flag_deleted", "key": "new-checkout"})
        );
        let segment: Segment =
            serde_json::from_value(json!({"key": "beta", "name": "Beta", "included": ["u1"]}))
                .unwrap();
        let sent = value(&StreamFrame::segment_updated(segment));
        assert_eq!(
            (
                sent["type"].as_str(),
                sent["segment"]["included"][0].as_str()
            ),
            (Some("segment_updated"), Some("u1"))
        );
        let gone = StreamFrame::from_json(r#"{"type":"segment_deleted","key":"beta"}"#).unwrap();
        assert_eq!(gone, StreamFrame::SegmentDeleted { key: "beta".into() });
    }
}
