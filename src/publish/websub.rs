//! WebSub (W3C Recommendation) publisher side: feeds name the configured hub
//! (`rel="hub"`), and the hub is told which feed URLs changed (`hub.mode=publish`), so that
//! subscribers get new stories pushed instead of polling.

use std::time::Duration;

use url::Url;

/// The HTTP client for hub notifications; `None` if one cannot be built (then WebSub is off
/// and says so in the log).
pub fn client() -> Option<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent(concat!(
            "wirefeed/",
            env!("CARGO_PKG_VERSION"),
            " (WebSub publisher)"
        ))
        .build()
        .map_err(
            |e| tracing::error!(error = %e, "cannot build the WebSub client; hub pings are off"),
        )
        .ok()
}

/// Tells the hub that these topic URLs changed: one form-encoded POST with every
/// `hub.url` (hubs accept several). Failures are logged, never fatal: subscribers still
/// poll, and the next change pings again.
pub async fn ping(client: &reqwest::Client, hub: &Url, topics: &[String]) {
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("hub.mode", "publish");
        for t in topics {
            form.append_pair("hub.url", t);
        }
        form.finish()
    };
    let result = client
        .post(hub.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await;
    match result {
        Ok(r) if r.status().is_success() => {
            tracing::info!(hub = %hub, topics = topics.len(), status = r.status().as_u16(), "hub notified")
        }
        Ok(r) => {
            tracing::warn!(hub = %hub, status = r.status().as_u16(), "hub refused the notification")
        }
        Err(e) => tracing::warn!(hub = %hub, error = %e, "cannot notify the hub"),
    }
}
