//! Flags declared in code: `#[flag(..)] static NAME: BoolFlag;` (the adapters re-export the
//! attribute) registers a [`FlagDeclaration`] at link time, as `#[route]` registers routes,
//! and gives a typed handle whose reads cannot name a wrong key or a wrong type.
//!
//! At [`Engine::start`](crate::Engine::start) the declarations are checked (one key declared
//! twice fails the start, naming both places), a declared flag the store does not hold is
//! created with its default (stored flags win), and the engine becomes the one the handles
//! read: [`BoolFlag::get`] reads the flags of the engine started last in the process (an app
//! has one); with several, read one explicitly with [`get_in`](BoolFlag::get_in).

use super::context::EvaluationContext;
use super::model::{FeatureFlag, FlagType};
use super::set::FlagSet;
use super::typed::Details;
use arc_swap::ArcSwapOption;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A flag as code declares it: what `#[flag(..)]` registers.
#[derive(Debug)]
pub struct FlagDeclaration {
    /// The flag's key.
    pub key: &'static str,
    /// What the code serves when the flag cannot be evaluated, and the value a flag created
    /// from this declaration serves.
    pub default: DeclaredDefault,
    /// What it is for (the created flag's description).
    pub description: &'static str,
    /// The module that declares it (`module_path!()`).
    pub module: &'static str,
    /// Where: `file!()`.
    pub file: &'static str,
    /// Where: `line!()`.
    pub line: u32,
}

/// A declared flag's default value, by type.
#[derive(Debug, Clone, Copy)]
pub enum DeclaredDefault {
    /// A boolean flag.
    Bool(bool),
    /// A string flag.
    String(&'static str),
    /// An integer flag.
    Int(i64),
    /// A float flag.
    Float(f64),
    /// A JSON flag: its default, serialised.
    Json(fn() -> Value),
}

impl FlagDeclaration {
    /// The flag's type.
    pub fn flag_type(&self) -> FlagType {
        match self.default {
            DeclaredDefault::Bool(_) => FlagType::Boolean,
            DeclaredDefault::String(_) => FlagType::String,
            DeclaredDefault::Int(_) => FlagType::Integer,
            DeclaredDefault::Float(_) => FlagType::Float,
            DeclaredDefault::Json(_) => FlagType::Json,
        }
    }

    /// The default as JSON.
    pub fn default_value(&self) -> Value {
        match self.default {
            DeclaredDefault::Bool(value) => json!(value),
            DeclaredDefault::String(value) => json!(value),
            DeclaredDefault::Int(value) => json!(value),
            DeclaredDefault::Float(value) => json!(value),
            DeclaredDefault::Json(value) => value(),
        }
    }

    /// Where it is declared: `module (file:line)`.
    pub fn location(&self) -> String {
        format!("{} ({}:{})", self.module, self.file, self.line)
    }

    /// The flag created for it when the store has none (see [`RegisteredFlag::to_flag`]).
    pub fn to_flag(&self) -> FeatureFlag {
        self.registered().to_flag()
    }

    /// What a service sends its server about it when it registers.
    pub fn registered(&self) -> RegisteredFlag {
        RegisteredFlag {
            key: self.key.to_owned(),
            flag_type: self.flag_type(),
            default: self.default_value(),
            description: self.description.to_owned(),
        }
    }
}

/// A declared flag as a service registers it with its server (`POST api/sdk/register`,
/// field `flags`): the server creates it when it has no flag of that key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredFlag {
    /// The flag's key.
    pub key: String,
    /// Its type.
    #[serde(rename = "type")]
    pub flag_type: FlagType,
    /// The value it serves when created.
    pub default: Value,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

impl RegisteredFlag {
    /// `Err` saying why when the default is not a value of the flag's type (a boolean, a
    /// string, an integer, a number, or a JSON object or array).
    pub fn check(&self) -> Result<(), String> {
        let fits = match self.flag_type {
            FlagType::Boolean => self.default.is_boolean(),
            FlagType::String => self.default.is_string(),
            FlagType::Integer => self.default.is_i64(),
            FlagType::Float => self.default.is_number(),
            FlagType::Json => self.default.is_object() || self.default.is_array(),
        };
        match fits {
            true => Ok(()),
            false => Err(format!(
                "the default {} is not a {} value",
                self.default,
                self.flag_type.as_str()
            )),
        }
    }

    /// The flag created for it: it serves the default to everyone. A boolean gets both
    /// variations (`on`, `off`), the default as fallthrough and off variation, so that
    /// turning it on for someone is one targeting change; other types get one variation,
    /// `default`, to which operators add theirs. Tagged `declared`.
    pub fn to_flag(&self) -> FeatureFlag {
        let (variations, chosen) = match (self.flag_type, &self.default) {
            (FlagType::Boolean, Value::Bool(value)) => (
                json!([{"name": "on", "value": true}, {"name": "off", "value": false}]),
                if *value { "on" } else { "off" },
            ),
            _ => (
                json!([{"name": "default", "value": self.default}]),
                "default",
            ),
        };
        let flag = json!({
            "key": self.key,
            "name": self.key,
            "description": self.description,
            "type": self.flag_type,
            "variations": variations,
            "off_variation": chosen,
            "fallthrough": chosen,
            "tags": ["declared"],
        });
        // Every field is ours and well-formed; `check_flag` checks the rest on save.
        serde_json::from_value(flag).expect("a registered flag is a flag")
    }
}

// ---------------------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------------------

/// What `#[flag]` submits to the `inventory` registry.
#[cfg(not(feature = "linkme"))]
#[doc(hidden)]
#[derive(Debug)]
pub struct FlagRegistration(pub &'static FlagDeclaration);

#[cfg(not(feature = "linkme"))]
inventory::collect!(FlagRegistration);

/// The `linkme` registry: one element per `#[flag]`.
#[cfg(feature = "linkme")]
#[doc(hidden)]
#[linkme::distributed_slice]
pub static WAYGATE_FLAGS: [&'static FlagDeclaration];

/// Registers one declared flag: what `#[flag]` expands to.
#[cfg(not(feature = "linkme"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __waygate_submit_flag {
    ($declaration:expr) => {
        $crate::__private::inventory::submit! { $crate::__private::FlagRegistration($declaration) }
    };
}

/// Registers one declared flag: what `#[flag]` expands to.
#[cfg(feature = "linkme")]
#[doc(hidden)]
#[macro_export]
macro_rules! __waygate_submit_flag {
    ($declaration:expr) => {
        const _: () = {
            #[$crate::__private::linkme::distributed_slice($crate::__private::WAYGATE_FLAGS)]
            #[linkme(crate = $crate::__private::linkme)]
            static FLAG: &'static $crate::__private::FlagDeclaration = $declaration;
        };
    };
}

/// Every flag declared with `#[flag]` in this binary, sorted by key.
pub fn declared_flags() -> Vec<&'static FlagDeclaration> {
    #[cfg(not(feature = "linkme"))]
    let all = inventory::iter::<FlagRegistration>.into_iter().map(|r| r.0);
    #[cfg(feature = "linkme")]
    let all = WAYGATE_FLAGS.iter().copied();
    let mut all: Vec<_> = all.collect();
    all.sort_by(|a, b| a.key.cmp(b.key).then(a.module.cmp(b.module)));
    all
}

/// `Err` naming both places when two declarations share a key (across modules or crates).
pub fn check_declarations(declared: &[&FlagDeclaration]) -> Result<(), String> {
    let mut seen: HashMap<&str, &FlagDeclaration> = HashMap::new();
    for declaration in declared {
        if let Some(first) = seen.insert(declaration.key, declaration) {
            return Err(format!(
                "flag `{}` is declared twice, in {} and in {}; a key may be declared once",
                declaration.key,
                first.location(),
                declaration.location()
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The flags the handles read
// ---------------------------------------------------------------------------------------------

/// The flags of the engine started last: its current set, republished with each change.
static CURRENT: ArcSwapOption<FlagSet> = ArcSwapOption::const_empty();
/// Which engine that is (the address of its shared state).
static OWNER: AtomicUsize = AtomicUsize::new(0);

/// Makes engine `owner`'s `flags` the set the handles' [`get`](BoolFlag::get) read.
pub(crate) fn install(owner: usize, flags: Arc<FlagSet>) {
    OWNER.store(owner, Ordering::Release);
    CURRENT.store(Some(flags));
}

/// Engine `owner`'s new set: read by the handles if that engine is the one installed.
pub(crate) fn publish(owner: usize, flags: &Arc<FlagSet>) {
    if OWNER.load(Ordering::Acquire) == owner {
        CURRENT.store(Some(Arc::clone(flags)));
    }
}

/// Reads the flags the handles read (pending before any engine started): one atomic load.
fn with_current<R>(read: impl FnOnce(&FlagSet) -> R) -> R {
    let current = CURRENT.load();
    match current.as_deref() {
        Some(flags) => read(flags),
        None => read(&PENDING),
    }
}

/// What the handles read before an engine started: nothing loaded yet.
static PENDING: std::sync::LazyLock<FlagSet> = std::sync::LazyLock::new(FlagSet::pending);

// ---------------------------------------------------------------------------------------------
// The typed handles
// ---------------------------------------------------------------------------------------------

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident, $value:ty, $default:ty, $read:ident, $to_default:expr, $to_value:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            declaration: &'static FlagDeclaration,
            default: $default,
        }

        impl $name {
            #[doc(hidden)]
            pub const fn __declare(declaration: &'static FlagDeclaration, default: $default) -> Self {
                Self { declaration, default }
            }

            /// The flag's key.
            pub const fn key(&self) -> &'static str {
                self.declaration.key
            }

            /// The declaration: key, default, description, where.
            pub const fn declaration(&self) -> &'static FlagDeclaration {
                self.declaration
            }

            /// The flag for `ctx`, from the flags of the engine started last (the default
            /// before one started, or when the flag cannot be evaluated).
            pub fn get(&self, ctx: &EvaluationContext) -> $value {
                with_current(|flags| self.get_in(flags, ctx))
            }

            /// The flag for `ctx`, from `flags` (`engine.flags()`).
            pub fn get_in(&self, flags: &FlagSet, ctx: &EvaluationContext) -> $value {
                flags.$read(self.declaration.key, ctx, $to_default(&self.default))
            }

            /// [`get`](Self::get) with the variation and the reason.
            pub fn details(&self, ctx: &EvaluationContext) -> Details<$value> {
                with_current(|flags| {
                    flags.details(self.declaration.key, ctx, $to_value(&self.default))
                })
            }
        }
    };
}

handle!(
    /// A boolean flag declared in code: `#[flag(key = "..", default = false)] static NAME:
    /// BoolFlag;`. Reading it allocates nothing.
    BoolFlag, bool, bool, bool, |d: &bool| *d, |d: &bool| *d
);
handle!(
    /// A string flag declared in code.
    StringFlag, String, &'static str, string, |d: &&'static str| *d, |d: &&'static str| (*d).to_owned()
);
handle!(
    /// An integer flag declared in code.
    IntFlag, i64, i64, int, |d: &i64| *d, |d: &i64| *d
);
handle!(
    /// A float flag declared in code.
    FloatFlag, f64, f64, float, |d: &f64| *d, |d: &f64| *d
);

/// A JSON flag declared in code, read as `T` (any serde type): `#[flag(key = "..", default =
/// Config { .. })] static NAME: JsonFlag<Config>;`. A value that does not deserialise as `T`
/// is a type mismatch: the default is served.
pub struct JsonFlag<T> {
    declaration: &'static FlagDeclaration,
    default: fn() -> T,
    _value: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for JsonFlag<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonFlag")
            .field("declaration", &self.declaration)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> JsonFlag<T> {
    #[doc(hidden)]
    pub const fn __declare(declaration: &'static FlagDeclaration, default: fn() -> T) -> Self {
        Self {
            declaration,
            default,
            _value: PhantomData,
        }
    }

    /// The flag's key.
    pub const fn key(&self) -> &'static str {
        self.declaration.key
    }

    /// The declaration.
    pub const fn declaration(&self) -> &'static FlagDeclaration {
        self.declaration
    }

    /// The flag for `ctx`, from the flags of the engine started last.
    pub fn get(&self, ctx: &EvaluationContext) -> T {
        with_current(|flags| self.get_in(flags, ctx))
    }

    /// The flag for `ctx`, from `flags`.
    pub fn get_in(&self, flags: &FlagSet, ctx: &EvaluationContext) -> T {
        flags
            .evaluate(self.declaration.key, ctx)
            .and_then(|resolution| T::deserialize(resolution.value).ok())
            .unwrap_or_else(self.default)
    }
}
