//! The adapters' shared table (`examples/tests/support/adapter_table.rs`) against the axum
//! layer, over real HTTP on loopback.

#[path = "../../examples/tests/support/mod.rs"]
mod support;

use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use waygate::prelude::*;
use waygate::RequestOutcome;

#[path = "../../examples/tests/support/adapter_table.rs"]
mod table;

#[test]
fn the_shared_table_holds_on_axum() {
    let engine = table::engine();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let addr = runtime.block_on(async {
        engine.start().await.expect("start the engine");
        let app = Router::new()
            .merge(table::table_routes!())
            .route("/waygate/ping", get(table::ping))
            .layer(WaygateLayer::new(engine.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("its address");
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        addr
    });
    table::run(addr, &engine, |change| runtime.block_on(change));
}
