//! Two declarations of one flag key, in two modules: the engine refuses to start, naming
//! both places.

mod checkout {
    use waygate::flags::BoolFlag;
    use waygate::prelude::*;

    #[flag(key = "new-checkout", default = false)]
    pub(crate) static NEW_CHECKOUT: BoolFlag;
}

mod billing {
    use waygate::flags::BoolFlag;
    use waygate::prelude::*;

    #[flag(key = "new-checkout", default = true)]
    pub(crate) static CHECKOUT_TOO: BoolFlag;
}

#[tokio::test]
async fn two_declarations_of_one_key_fail_the_start_naming_both() {
    assert_eq!(checkout::NEW_CHECKOUT.key(), billing::CHECKOUT_TOO.key());
    let error = waygate::Engine::new()
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`new-checkout` is declared twice"),
        "{error}"
    );
    assert!(error.contains("declared_twice::checkout"), "{error}");
    assert!(error.contains("declared_twice::billing"), "{error}");
    assert!(error.contains("declared_twice.rs:"), "{error}");
}
