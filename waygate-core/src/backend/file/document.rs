//! The state file's document: the Python original's `{"states": .., "audit": [..]}`, plus
//! the sections waygate does not use, kept as they are; encoded and decoded here.

use super::AUDIT_CAPACITY;
use crate::model::{AuditEntry, RouteState};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::hash::Hasher;
use std::sync::Arc;

/// The state file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Document {
    pub(super) states: BTreeMap<String, RouteState>,
    /// Oldest first.
    pub(super) audit: VecDeque<Arc<Audited>>,
    /// Top-level sections waygate does not use, written back unchanged.
    pub(super) other: serde_json::Map<String, serde_json::Value>,
}

/// An audit entry with its JSON, encoded once: the log is rewritten with every change, and
/// copying the stored text is much cheaper than encoding a thousand entries each time.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Audited {
    pub(super) entry: AuditEntry,
    pub(super) json: String,
}

impl Audited {
    pub(super) fn new(entry: AuditEntry) -> Result<Self, serde_json::Error> {
        let json = serde_json::to_string(&entry)?;
        Ok(Self { entry, json })
    }
}

const STATES: &str = "states";
const AUDIT: &str = "audit";

/// Encodes the document as compact JSON (as the Python original writes it).
pub(super) fn encode(doc: &Document) -> Result<Vec<u8>, serde_json::Error> {
    let audit_len: usize = doc.audit.iter().map(|a| a.json.len() + 1).sum();
    let mut out = Vec::with_capacity(audit_len + 256 * (doc.states.len() + 1));
    out.extend_from_slice(b"{\"states\":");
    serde_json::to_writer(&mut out, &doc.states)?;
    out.extend_from_slice(b",\"audit\":[");
    for (i, audited) in doc.audit.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(audited.json.as_bytes());
    }
    out.push(b']');
    for (key, value) in doc
        .other
        .iter()
        .filter(|(k, _)| *k != STATES && *k != AUDIT)
    {
        out.push(b',');
        serde_json::to_writer(&mut out, key)?;
        out.push(b':');
        serde_json::to_writer(&mut out, value)?;
    }
    out.push(b'}');
    Ok(out)
}

// Hand-written rather than `#[serde(flatten)]`: flattening buffers the whole document, and
// errors would then point at its end instead of at the bad value.
impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DocumentVisitor;

        impl<'de> Visitor<'de> for DocumentVisitor {
            type Value = Document;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object with `states` and `audit`")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
                let mut doc = Document::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        STATES => doc.states = map.next_value()?,
                        AUDIT => {
                            let entries: Vec<AuditEntry> = map.next_value()?;
                            let keep = entries.len().saturating_sub(AUDIT_CAPACITY);
                            doc.audit = entries
                                .into_iter()
                                .skip(keep)
                                .map(|entry| Audited::new(entry).map(Arc::new))
                                .collect::<Result<_, _>>()
                                .map_err(de::Error::custom)?;
                        }
                        _ => {
                            let value = map.next_value()?;
                            doc.other.insert(key, value);
                        }
                    }
                }
                Ok(doc)
            }
        }

        deserializer.deserialize_map(DocumentVisitor)
    }
}

/// Decodes the file's bytes; an empty (or blank) file is an empty document.
pub(super) fn parse(bytes: &[u8]) -> Result<Document, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Document::default());
    }
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

pub(super) fn digest(bytes: &[u8]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(bytes);
    hasher.finish()
}
