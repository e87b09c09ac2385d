//! Per-engine state kept by crates built on the engine, by type.

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex};

/// A map from type to one shared value of that type.
#[derive(Default)]
pub(crate) struct Extensions {
    values: Mutex<Vec<(TypeId, Arc<dyn Any + Send + Sync>)>>,
}

impl Extensions {
    /// The value of type `T`, created with `T::default()` on first use.
    pub(crate) fn get_or_default<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        // Each insertion is one push that cannot panic half-way: a poisoned lock still
        // guards a consistent list.
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let wanted = TypeId::of::<T>();
        let value = match values.iter().find(|(id, _)| *id == wanted) {
            Some((_, value)) => Arc::clone(value),
            None => {
                let value: Arc<dyn Any + Send + Sync> = Arc::new(T::default());
                values.push((wanted, Arc::clone(&value)));
                value
            }
        };
        drop(values);
        value
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("stored under T's TypeId"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type() {
        let extensions = Extensions::default();
        let counter = extensions.get_or_default::<std::sync::atomic::AtomicU32>();
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let again = extensions.get_or_default::<std::sync::atomic::AtomicU32>();
        assert_eq!(again.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert!(extensions.get_or_default::<String>().is_empty());
    }
}
