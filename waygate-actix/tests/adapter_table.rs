//! The adapters' shared table (`examples/tests/support/adapter_table.rs`) against the
//! actix-web middleware, over real HTTP on loopback.

mod harness;
#[path = "../../examples/tests/support/mod.rs"]
mod support;

use actix_web::web;
use waygate_actix::prelude::*;
use waygate_actix::RequestOutcome;

#[path = "../../examples/tests/support/adapter_table.rs"]
mod table;

#[test]
fn the_shared_table_holds_on_actix_web() {
    let engine = table::engine();
    let routes = table::table_routes!();
    let config_engine = engine.clone();
    let server = harness::serve(&engine, Some(Waygate::new(engine.clone())), move |cfg| {
        routes.config(&config_engine)(cfg);
        cfg.route("/waygate/ping", web::get().to(table::ping));
    });
    table::run(server.addr, &engine, harness::block);
}
