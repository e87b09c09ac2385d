//! Route metadata built by hand, as the attribute macros generate it, for the core's tests
//! (the core cannot use the macros: they name the `waygate` crate).

/// Declares a route as `#[route]` and its lifecycle attributes would: a `META` beside the
/// handler's name, registered at link time.
macro_rules! declare {
    ($handler:ident: $method:literal $path:literal, $initial:expr, force_active = $force:expr) => {
        mod $handler {
            #[allow(unused_imports)]
            use super::*;
            use waygate_core::__private::RouteMeta;
            pub(crate) const META: &RouteMeta = &RouteMeta::__new(
                $method,
                $path,
                concat!($method, ":", $path),
                stringify!($handler),
                module_path!(),
                $initial,
                $force,
                None,
                None,
            );
        }
        waygate_core::__waygate_submit_route! { $handler::META }
    };
}
