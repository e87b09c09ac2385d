use serde::{Deserialize, Serialize};
use waygate::flags::*;
use waygate::prelude::*;

#[flag(key = "new-checkout", default = false, description = "The redesigned checkout")]
pub static NEW_CHECKOUT: BoolFlag;

#[flag(key = "ui-theme", default = "light")]
static THEME: StringFlag;

const PAGE: i64 = 10;

#[flag(key = "search-page-size", default = PAGE)]
static PAGE_SIZE: IntFlag;

#[flag(key = "discount-rate", default = -0.5)]
static DISCOUNT: FloatFlag;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Config {
    sidebar: bool,
}

#[flag(key = "feature-config", default = Config { sidebar: true })]
static CONFIG: waygate::flags::JsonFlag<Config>;

fn main() {
    // Before an engine started: every read is its default.
    let ctx = EvaluationContext::new("user-1");
    assert!(!NEW_CHECKOUT.get(&ctx));
    assert_eq!(THEME.get(&ctx), "light");
    assert_eq!(PAGE_SIZE.get(&ctx), 10);
    assert_eq!(DISCOUNT.get(&ctx), -0.5);
    assert_eq!(CONFIG.get(&ctx), Config { sidebar: true });
    assert_eq!(declared_flags().len(), 5);
}
