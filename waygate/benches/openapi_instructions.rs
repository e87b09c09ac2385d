//! A driver for counting the instructions of serving `/openapi.json` (the `openapi` bench's
//! document of 1,000 routes, 10% of them changed): `static` serves the same bytes from a plain
//! handler, `filtered` from `WaygateOpenApi` between changes. It serves `N` requests (default
//! 1,000); `scripts/bench-instructions` runs it under callgrind beside the layer's driver.

use tower::ServiceExt;

// Each bench uses part of the fixture.
#[allow(dead_code)]
#[path = "support/openapi_fixture.rs"]
mod openapi_fixture;
use openapi_fixture::{fixture, request};

// The openapi driver sends its own request.
#[allow(dead_code)]
#[path = "support/driver.rs"]
mod driver;
use driver::variant_and_n;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let openapi_fixture::Fixture {
        filtered, fixed, ..
    } = fixture(&runtime);
    let (variant, n) = variant_and_n("filtered");
    let app = match variant.as_str() {
        "static" => fixed,
        "filtered" => filtered,
        other => panic!("unknown variant {other}: static or filtered"),
    };
    runtime.block_on(async {
        for _ in 0..n {
            let response = app.clone().oneshot(request()).await.unwrap();
            assert_eq!(response.status(), http::StatusCode::OK);
        }
    });
}
