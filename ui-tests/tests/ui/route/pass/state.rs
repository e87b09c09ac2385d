// Handlers taking `State<S>` and a `FromRef` sub-state: `routes![..]` infers `S` where the
// routes are merged.
use axum::extract::{FromRef, State};
use axum::Router;
use waygate::prelude::*;

#[derive(Clone, Default)]
struct AppState {
    db: Db,
}

#[derive(Clone, Default)]
struct Db;

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

#[route(GET, "/users")]
#[rate_limit("100/minute")]
async fn users(State(_state): State<AppState>) -> &'static str {
    "users"
}

#[route(GET, "/orders")]
#[disabled(reason = "migrating")]
async fn orders(State(_db): State<Db>) -> &'static str {
    "orders"
}

fn main() {
    let app: Router<AppState> = Router::new().merge(routes![users, orders]);
    let _app: Router = app.with_state(AppState::default());
    assert_eq!(orders::KEY, "GET:/orders");
}
