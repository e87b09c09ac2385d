//! Compile-pass and compile-fail cases for every attribute: `tests/ui/<attribute>/pass/*.rs`
//! must build and run, `tests/ui/<attribute>/fail/*.rs` must fail with the `.stderr` beside
//! them. Refresh those with `TRYBUILD=overwrite cargo test -p waygate-ui-tests` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/*/pass/*.rs");
    t.compile_fail("tests/ui/*/fail/*.rs");
}
