//! Flag evaluation telemetry: counts per flag, variation and reason in `/metrics`, when each
//! flag was last evaluated, exposures handed to a callback off the evaluating thread, and a
//! `tracing` event with OpenTelemetry's feature-flag fields.

use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt as _;
use waygate::flags::{EvaluationContext, FeatureFlag};
use waygate::metrics::WaygateMetrics;
use waygate::Engine;

fn flag() -> FeatureFlag {
    serde_json::from_value(json!({
        "key": "new-checkout", "name": "New checkout", "type": "boolean",
        "variations": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "off_variation": "off", "targets": {"on": ["ada"]}, "fallthrough": "off"
    }))
    .unwrap()
}

async fn engine() -> Engine {
    let engine = Engine::new();
    engine.start().await.unwrap();
    engine.save_flag(flag(), "test").await.unwrap();
    engine
}

#[tokio::test]
async fn evaluations_are_counted_by_variation_and_reason_in_metrics() {
    let engine = engine().await;
    let metrics = WaygateMetrics::new(engine.clone());
    for user in ["ada", "ada", "bob"] {
        engine
            .flags()
            .bool("new-checkout", &EvaluationContext::new(user), false);
    }
    let text = metrics.render();
    let line = |labels: &str| {
        text.lines()
            .find_map(|line| {
                line.strip_prefix(&format!("waygate_flag_evaluations_total{{{labels}}} "))
            })
            .map(str::to_owned)
    };
    assert_eq!(
        line(r#"flag="new-checkout",variation="on",reason="TARGET_MATCH""#).as_deref(),
        Some("2"),
        "{text}"
    );
    assert_eq!(
        line(r#"flag="new-checkout",variation="off",reason="FALLTHROUGH""#).as_deref(),
        Some("1")
    );
    // A change that keeps the variations keeps the counts; the flag is then off for all.
    engine
        .set_flag_enabled("new-checkout", false, waygate::model::Actor::new("t"))
        .await
        .unwrap();
    engine
        .flags()
        .bool("new-checkout", &EvaluationContext::new("ada"), false);
    let text = metrics.render();
    assert!(text.contains(
        r#"waygate_flag_evaluations_total{flag="new-checkout",variation="on",reason="TARGET_MATCH"} 2"#
    ));
    assert!(text.contains(
        r#"waygate_flag_evaluations_total{flag="new-checkout",variation="off",reason="OFF"} 1"#
    ));
    let seen = engine.flag_telemetry().last_evaluated(engine.now());
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "new-checkout");
    // Deleted: its counters go with it.
    engine.delete_flag("new-checkout", "t").await.unwrap();
    assert!(!metrics.render().contains("waygate_flag_evaluations_total{"));
}

#[tokio::test]
async fn exposures_reach_the_callback_off_the_evaluating_thread() {
    let engine = engine().await;
    let (sender, mut exposures) = tokio::sync::mpsc::unbounded_channel();
    engine.on_flag_exposure(move |exposure| {
        let _ = sender.send((exposure, std::thread::current().id()));
    });
    let (evaluated, evaluating) = std::thread::spawn({
        let engine = engine.clone();
        move || {
            let ctx = EvaluationContext::new("ada").kind("account");
            let served = engine.flags().bool("new-checkout", &ctx, false);
            (served, std::thread::current().id())
        }
    })
    .join()
    .unwrap();
    assert!(evaluated);
    let (exposure, called_on) = tokio::time::timeout(Duration::from_secs(10), exposures.recv())
        .await
        .expect("an exposure")
        .unwrap();
    assert_ne!(
        called_on, evaluating,
        "the callback runs off the evaluating thread"
    );
    assert_eq!(
        (
            exposure.flag.as_str(),
            exposure.variation.as_str(),
            exposure.targeting_key.as_str(),
            exposure.kind.as_str()
        ),
        ("new-checkout", "on", "ada", "account")
    );
    assert_eq!(engine.flag_telemetry().dropped_exposures(), 0);
}

/// Records the fields of `waygate::flags::evaluation` events.
#[derive(Clone, Default)]
struct Fields(Arc<Mutex<Vec<(String, String)>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Fields {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "waygate::flags::evaluation" {
            return;
        }
        struct Visit<'a>(&'a mut Vec<(String, String)>);
        impl tracing::field::Visit for Visit<'_> {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                self.0.push((field.name().to_owned(), value.to_owned()));
            }
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push((field.name().to_owned(), format!("{value:?}")));
            }
        }
        event.record(&mut Visit(&mut self.0.lock().unwrap()));
    }
}

#[tokio::test]
async fn evaluations_are_traced_with_opentelemetry_fields() {
    let engine = engine().await;
    let fields = Fields::default();
    let subscriber = tracing_subscriber::registry().with(fields.clone());
    tracing::subscriber::with_default(subscriber, || {
        engine
            .flags()
            .bool("new-checkout", &EvaluationContext::new("ada"), false);
    });
    let fields = fields.0.lock().unwrap().clone();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("feature_flag.key"), Some("new-checkout"));
    assert_eq!(field("feature_flag.result.variant"), Some("on"));
    assert_eq!(field("feature_flag.provider.name"), Some("waygate"));
    assert_eq!(field("feature_flag.result.reason"), Some("TARGET_MATCH"));
}
