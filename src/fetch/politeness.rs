//! How many requests may be in flight: at most `concurrency` overall and `per_host` to any
//! one host, keyed on the host actually contacted (a source that moved is counted at its new
//! host). Semaphores rather than a worker pool: one slow source holds one permit while every
//! other source keeps going.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

/// The shared limits; cloned cheaply, and kept across config reloads that leave them alone.
#[derive(Clone, Debug)]
pub struct Politeness {
    global: Arc<Semaphore>,
    per_host: usize,
    concurrency: usize,
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

/// Permission to make one request; dropping it frees both slots.
pub struct Permit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl Politeness {
    pub fn new(concurrency: usize, per_host: usize) -> Politeness {
        Politeness {
            global: Arc::new(Semaphore::new(concurrency.max(1))),
            per_host: per_host.max(1),
            concurrency: concurrency.max(1),
            hosts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The global limit.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Whether these are the limits `concurrency`/`per_host` ask for.
    pub fn matches(&self, concurrency: usize, per_host: usize) -> bool {
        self.concurrency == concurrency.max(1) && self.per_host == per_host.max(1)
    }

    /// Waits for a slot at `url`'s host, then for a global slot, so that sources queued
    /// behind a busy host do not hold global slots while they wait.
    pub async fn acquire(&self, url: &Url) -> Permit {
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let sem = self
            .hosts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone();
        let host = sem.acquire_owned().await.expect("semaphore never closed");
        let global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        Permit {
            _host: host,
            _global: global,
        }
    }
}
