//! Who a flag is evaluated for.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Who a flag is evaluated for: a key (a user id, a session, a client address), its kind,
/// a few named attributes and any others. Rules read attributes by name: `key`, `kind`,
/// `email`, `ip`, `country`, `app_version`, then `attributes` (which win on a clash), as in
/// the Python original.
///
/// ```
/// use waygate_core::flags::EvaluationContext;
///
/// let ctx = EvaluationContext::new("user-42")
///     .email("ada@example.com")
///     .attribute("plan", "pro")
///     .attribute("seats", 12);
/// assert_eq!(ctx.key(), "user-42");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationContext {
    /// The targeting key (`anonymous` when the caller has none).
    #[serde(default = "anonymous")]
    pub key: String,
    /// What the key names (`user` by default): part of the rollout bucket.
    #[serde(default = "user")]
    pub kind: String,
    /// An email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A client address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// A country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The client's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// Any other attribute.
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

fn anonymous() -> String {
    "anonymous".to_owned()
}

fn user() -> String {
    "user".to_owned()
}

impl Default for EvaluationContext {
    fn default() -> Self {
        Self::new(anonymous())
    }
}

/// An attribute as a rule reads it: one of the named text fields, or any JSON value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Attr<'a> {
    Text(&'a str),
    Json(&'a Value),
}

impl EvaluationContext {
    /// A context for `key`, of kind `user`.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            kind: user(),
            email: None,
            ip: None,
            country: None,
            app_version: None,
            attributes: Map::new(),
        }
    }

    /// The targeting key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Sets the kind (`user`, `organization`, `device`, ...).
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = kind.into();
        self
    }

    /// Sets the email address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the client address.
    pub fn ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// Sets the country code.
    pub fn country(mut self, country: impl Into<String>) -> Self {
        self.country = Some(country.into());
        self
    }

    /// Sets the client's version.
    pub fn app_version(mut self, version: impl Into<String>) -> Self {
        self.app_version = Some(version.into());
        self
    }

    /// Sets any other attribute.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// A context from OpenFeature's flat JSON form (an OFREP request's `context`): the
    /// `targetingKey` is the key (`anonymous` without one), the string fields `kind`,
    /// `email`, `ip`, `country` and `app_version` are the named fields, and every other
    /// field is an attribute. The error names a field that is not what it must be.
    ///
    /// ```
    /// use serde_json::json;
    /// use waygate_core::flags::EvaluationContext;
    ///
    /// let fields = json!({"targetingKey": "user-42", "plan": "pro", "email": "a@b.io"});
    /// let ctx = EvaluationContext::from_openfeature(fields.as_object().unwrap()).unwrap();
    /// assert_eq!(ctx.key(), "user-42");
    /// assert_eq!(ctx.email.as_deref(), Some("a@b.io"));
    /// assert_eq!(ctx.attributes["plan"], "pro");
    /// ```
    pub fn from_openfeature(fields: &Map<String, Value>) -> Result<Self, String> {
        let mut ctx = Self::default();
        for (name, value) in fields {
            let text = || match value {
                Value::String(text) => Ok(text.clone()),
                _ => Err(format!("`{name}` must be a string")),
            };
            match name.as_str() {
                "targetingKey" => ctx.key = text()?,
                "kind" => ctx.kind = text()?,
                "email" => ctx.email = Some(text()?),
                "ip" => ctx.ip = Some(text()?),
                "country" => ctx.country = Some(text()?),
                "app_version" => ctx.app_version = Some(text()?),
                _ => {
                    ctx.attributes.insert(name.clone(), value.clone());
                }
            }
        }
        Ok(ctx)
    }

    /// The attribute `name` as rules read it (`attributes` win over the named fields).
    pub(crate) fn attr(&self, name: &str) -> Option<Attr<'_>> {
        if let Some(value) = self.attributes.get(name) {
            return Some(Attr::Json(value));
        }
        let text = match name {
            "key" => Some(&self.key),
            "kind" => Some(&self.kind),
            "email" => self.email.as_ref(),
            "ip" => self.ip.as_ref(),
            "country" => self.country.as_ref(),
            "app_version" => self.app_version.as_ref(),
            _ => None,
        };
        text.map(|text| Attr::Text(text))
    }
}
