use waygate::flags::BoolFlag;
use waygate::prelude::*;

#[flag(key = "new-checkout", default = false)]
static NEW_CHECKOUT: BoolFlag;

mod flags {
    use waygate::flags::BoolFlag;
    use waygate::prelude::*;

    #[flag(key = "beta", default = true)]
    pub static BETA: BoolFlag;
}

#[route(GET, "/checkout/v2")]
#[feature_flag(NEW_CHECKOUT)]
async fn checkout_v2() -> &'static str {
    "v2"
}

#[feature_flag(flags::BETA, response = |_: waygate::Blocked| "later")]
#[route(GET, "/beta")]
#[rollout(percent = 50)]
async fn beta() -> &'static str {
    "beta"
}

#[route(GET, "/search")]
#[feature_flag("beta-search")]
#[maintenance(reason = "reindex")]
async fn search() -> &'static str {
    "search"
}

fn main() {
    let _: axum::Router = axum::Router::new().merge(routes![checkout_v2, beta, search]);
    assert_eq!(checkout_v2::META.feature_flag.map(|f| f.key), Some("new-checkout"));
    assert_eq!(beta::META.feature_flag.map(|f| f.key), Some("beta"));
    assert_eq!(search::META.feature_flag.map(|f| f.key), Some("beta-search"));
}
