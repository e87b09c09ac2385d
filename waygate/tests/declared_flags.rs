//! Flags declared in code with `#[flag]`: created at engine start with their defaults
//! (stored flags win), read as their types, following changes made at runtime.

use serde::{Deserialize, Serialize};
use serde_json::json;
use waygate::flags::{
    declared_flags, BoolFlag, EvaluationContext, FeatureFlag, FloatFlag, IntFlag, JsonFlag,
    StringFlag,
};
use waygate::prelude::*;

#[flag(
    key = "new-checkout",
    default = false,
    description = "The redesigned checkout"
)]
static NEW_CHECKOUT: BoolFlag;

#[flag(key = "ui-theme", default = "light")]
pub(crate) static THEME: StringFlag;

#[flag(key = "search-page-size", default = 10)]
static PAGE_SIZE: IntFlag;

#[flag(key = "discount-rate", default = 0.0)]
static DISCOUNT: FloatFlag;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Config {
    sidebar: bool,
    max_widgets: u32,
}

#[flag(key = "feature-config", default = Config { sidebar: false, max_widgets: 5 })]
static CONFIG: JsonFlag<Config>;

mod elsewhere {
    use waygate::flags::BoolFlag;
    use waygate::prelude::*;

    /// A flag the store already holds, of the same key as a declared one.
    #[flag(key = "kept", default = true)]
    pub(crate) static KEPT: BoolFlag;
}

#[tokio::test]
async fn declared_flags_are_created_read_typed_and_follow_changes() {
    let keys: Vec<&str> = declared_flags().iter().map(|d| d.key).collect();
    assert_eq!(
        keys,
        [
            "discount-rate",
            "feature-config",
            "kept",
            "new-checkout",
            "search-page-size",
            "ui-theme"
        ]
    );
    // An operator turned `kept` off; the service restarts on the same backend: stored wins.
    let backend: std::sync::Arc<dyn waygate::backend::Backend> =
        std::sync::Arc::new(waygate::backend::MemoryBackend::new());
    let before = Engine::builder().shared_backend(backend.clone()).build();
    before.start().await.unwrap();
    let stored: FeatureFlag = serde_json::from_value(json!({
        "key": "kept", "name": "Kept", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "fallthrough": "off"
    }))
    .unwrap();
    before.save_flag(stored, "operator").await.unwrap();
    before.shutdown().await;
    let engine = Engine::builder().shared_backend(backend).build();
    engine.start().await.unwrap();
    let other = Engine::new();
    // A second engine on its own backend: everything declared is created there.
    other.start().await.unwrap();
    let flags = other.flags();
    for key in keys {
        assert!(flags.flag(key).is_some(), "{key} was created");
    }
    let created = flags.flag("new-checkout").unwrap();
    assert_eq!(created.description, "The redesigned checkout");
    assert_eq!(created.created_by, "system");
    drop(flags);

    let ctx = EvaluationContext::new("user-1");
    // `get` reads the engine started last: `other`.
    assert!(!NEW_CHECKOUT.get(&ctx));
    assert_eq!(THEME.get(&ctx), "light");
    assert_eq!(PAGE_SIZE.get(&ctx), 10);
    assert_eq!(DISCOUNT.get(&ctx), 0.0);
    assert_eq!(
        CONFIG.get(&ctx),
        Config {
            sidebar: false,
            max_widgets: 5
        }
    );
    assert!(elsewhere::KEPT.get(&ctx), "created with its default, true");
    // On the first engine, the stored flag won.
    assert!(!elsewhere::KEPT.get_in(&engine.flags(), &ctx));

    // A change made at runtime is read at once.
    let mut flag = other.flags().flag("new-checkout").unwrap().clone();
    flag.targets = vec![("on".to_owned(), vec!["user-1".to_owned()])];
    other.save_flag(flag, "operator").await.unwrap();
    assert!(NEW_CHECKOUT.get(&ctx));
    assert!(!NEW_CHECKOUT.get(&EvaluationContext::new("user-2")));
    let details = NEW_CHECKOUT.details(&ctx);
    assert_eq!(details.variation.as_deref(), Some("on"));

    // A JSON value that is not a `Config` is a type mismatch: the default.
    let mut flag = other.flags().flag("feature-config").unwrap().clone();
    flag.variations[0].value = json!({"sidebar": "yes"});
    other.save_flag(flag, "operator").await.unwrap();
    assert_eq!(CONFIG.get(&ctx).max_widgets, 5);
    let mut flag = other.flags().flag("feature-config").unwrap().clone();
    flag.variations[0].value = json!({"sidebar": true, "max_widgets": 9});
    other.save_flag(flag, "operator").await.unwrap();
    assert_eq!(
        CONFIG.get(&ctx),
        Config {
            sidebar: true,
            max_widgets: 9
        }
    );
}
