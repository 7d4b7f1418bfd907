//! Private sources through the real binary: basic auth, a header token and a cookie, each
//! from its own config options; credentials that never follow a redirect to another port;
//! secrets read from files and from the environment; an explicit proxy the SSRF guard still
//! checks; and `check`'s warnings about exposing them.

mod common;

use std::collections::HashMap;

use common::private::{
    API_KEY, ForwardProxy, PASSWORD, PrivateServer, SESSION, USER, fetch_outcomes, wirefeed,
};
use common::{FeedServer, fixture_file};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn config(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    let path = dir.join("wirefeed.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = \"127.0.0.1:{}\"\n\n[fetch]\ntimeout = \"10s\"\n\
             allow_hosts = [\"127.0.0.1\"]\n{body}",
            common::free_port()
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_header_token_and_cookie_sources_each_fetch_with_their_own_options() {
    let server = PrivateServer::start(None).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &format!(
            r#"
[[sources]]
name = "basic"
url = "{basic}"
username = "{USER}"
password = "{PASSWORD}"

[[sources]]
name = "header"
url = "{header}"
headers = {{ "X-Api-Key" = "{API_KEY}" }}
user_agent = "special-reader/2.0"

[[sources]]
name = "cookie"
url = "{cookie}"
cookie = "theme=dark; session={SESSION}"

[[sources]]
name = "no-credentials"
url = "{basic}"
"#,
            basic = server.url("basic/feed"),
            header = server.url("header/feed"),
            cookie = server.url("cookie/feed"),
        ),
    );
    let out = tokio::task::spawn_blocking(move || wirefeed(&path, &["fetch"], &[]))
        .await
        .unwrap();
    assert!(out.status.success());
    let outcomes = fetch_outcomes(&out);
    assert_eq!(outcomes["basic"], "new", "{outcomes:?}");
    assert_eq!(outcomes["header"], "new", "{outcomes:?}");
    assert_eq!(outcomes["cookie"], "new", "{outcomes:?}");
    assert_eq!(
        outcomes["no-credentials"], "error: HTTP 401",
        "{outcomes:?}"
    );

    // Each source sent its own credentials and nothing else's.
    let header = &server.requests("/header/feed")[0].headers;
    assert_eq!(header["x-api-key"], API_KEY);
    assert!(header.get("authorization").is_none() && header.get("cookie").is_none());
    assert_eq!(header["user-agent"], "special-reader/2.0");
    let cookie = &server.requests("/cookie/feed")[0].headers;
    assert!(cookie.get("authorization").is_none() && cookie.get("x-api-key").is_none());
    // The default User-Agent names the software only.
    assert_eq!(cookie["user-agent"], format!("wirefeed/{VERSION}").as_str());
    let basic = server.requests("/basic/feed");
    assert_eq!(basic.len(), 2);
    assert!(
        basic
            .iter()
            .any(|r| r.headers.get("authorization").is_none())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_follow_a_redirect_to_another_port_but_do_to_the_same_origin() {
    // The landing server is open: it serves the feed to anyone, and records what it got.
    let landing = PrivateServer::start(None).await;
    let server = PrivateServer::start(Some(landing.url("open/feed"))).await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &format!(
            r#"
[[sources]]
name = "away"
url = "{away}"
username = "{USER}"
password = "{PASSWORD}"
headers = {{ "X-Api-Key" = "{API_KEY}" }}
cookie = "session={SESSION}"

[[sources]]
name = "same"
url = "{same}"
username = "{USER}"
password = "{PASSWORD}"
"#,
            away = server.url("away/feed"),
            same = server.url("same/feed"),
        ),
    );
    let out = tokio::task::spawn_blocking(move || wirefeed(&path, &["fetch"], &[]))
        .await
        .unwrap();
    let outcomes = fetch_outcomes(&out);
    assert_eq!(outcomes["away"], "new", "{outcomes:?}");
    assert_eq!(outcomes["same"], "new", "{outcomes:?}");

    // The first hop had them all.
    let first = &server.requests("/away/feed")[0].headers;
    assert!(first.get("authorization").is_some());
    assert_eq!(first["x-api-key"], API_KEY);
    // The other port got none of them.
    let landed = landing.requests("/open/feed");
    assert_eq!(landed.len(), 1);
    let h = &landed[0].headers;
    for name in ["authorization", "cookie", "x-api-key"] {
        assert!(
            h.get(name).is_none(),
            "{name} was sent to another port: {h:?}"
        );
    }
    // A redirect on the same origin keeps basic auth (the feed there demands it).
    assert!(
        server.requests("/basic/feed")[0]
            .headers
            .get("authorization")
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_come_from_their_own_files_and_from_the_environment() {
    let server = PrivateServer::start(None).await;
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(creds.join("feed-password"), format!("{PASSWORD}\n")).unwrap();
    std::fs::write(
        creds.join("feed-headers"),
        format!("# the paid feed's key\nX-Api-Key: {API_KEY}\n"),
    )
    .unwrap();
    let path = config(
        dir.path(),
        &format!(
            r#"
[[sources]]
name = "from-file"
url = "{basic}"
username = "{USER}"
password_file = "${{CREDENTIALS_DIRECTORY}}/feed-password"

[[sources]]
name = "from-headers-file"
url = "{header}"
headers_file = "credentials/feed-headers"

[[sources]]
name = "from-env"
url = "{cookie}"
cookie = "session=${{WIREFEED_TEST_SESSION}}"
"#,
            basic = server.url("basic/feed"),
            header = server.url("header/feed"),
            cookie = server.url("cookie/feed"),
        ),
    );
    let creds_dir = creds.display().to_string();
    let p = path.clone();
    let out = tokio::task::spawn_blocking(move || {
        wirefeed(
            &p,
            &["fetch"],
            &[
                ("CREDENTIALS_DIRECTORY", Some(&creds_dir)),
                ("WIREFEED_TEST_SESSION", Some(SESSION)),
            ],
        )
    })
    .await
    .unwrap();
    let outcomes = fetch_outcomes(&out);
    for name in ["from-file", "from-headers-file", "from-env"] {
        assert_eq!(outcomes[name], "new", "{name}: {outcomes:?}");
    }

    // Without the variable, `check` names it and where it is used, and exits 2.
    let out = wirefeed(
        &path,
        &["check"],
        &[
            ("CREDENTIALS_DIRECTORY", Some(&creds.display().to_string())),
            ("WIREFEED_TEST_SESSION", None),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("WIREFEED_TEST_SESSION"))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!(
            "{}:{line}:19: environment variable WIREFEED_TEST_SESSION is not set",
            path.display()
        )),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_proxy_carries_requests_and_the_guard_still_checks_every_target() {
    let feeds = FeedServer::start(HashMap::from([(
        "feed.xml".to_string(),
        fixture_file("rss20.xml"),
    )]))
    .await;
    let proxy = ForwardProxy::start().await;
    let env_proxy = ForwardProxy::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &format!(
            r#"proxy = "{proxy}"

[[sources]]
name = "proxied"
url = "{feed}"

[[sources]]
name = "loopback-by-name"
url = "http://localhost:{port}/feed.xml"

[[sources]]
name = "direct"
url = "{feed}"
proxy = "none"
"#,
            proxy = proxy.url(),
            feed = feeds.url("feed.xml"),
            port = feeds.addr.port(),
        ),
    );
    let env_url = env_proxy.url();
    let out = tokio::task::spawn_blocking(move || {
        wirefeed(
            &path,
            &["fetch"],
            &[
                ("HTTP_PROXY", Some(&env_url)),
                ("http_proxy", Some(&env_url)),
                ("ALL_PROXY", Some(&env_url)),
            ],
        )
    })
    .await
    .unwrap();
    let outcomes = fetch_outcomes(&out);
    assert_eq!(outcomes["proxied"], "new", "{outcomes:?}");
    assert_eq!(outcomes["direct"], "new", "{outcomes:?}");
    // "localhost" is loopback and not allowed by that name: refused before the proxy is
    // asked, though the proxy could have reached it.
    let refused = &outcomes["loopback-by-name"];
    assert!(
        refused.contains("refused to connect to localhost"),
        "{refused}"
    );
    let targets = proxy.targets.lock().unwrap().clone();
    assert_eq!(
        targets,
        vec![feeds.url("feed.xml")],
        "the proxy carried: {targets:?}"
    );
    assert!(
        env_proxy.targets.lock().unwrap().is_empty(),
        "a proxy from the environment was used"
    );
}

#[test]
fn check_warns_about_private_sources_on_the_network_and_a_readable_file_with_credentials() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wirefeed.toml");
    let text = format!(
        "[server]\nlisten = \"0.0.0.0:{}\"\n\n[[sources]]\nname = \"paid\"\n\
         url = \"https://paid.example/feed\"\nusername = \"me\"\npassword = \"hunter2-long\"\n\
         [[feeds]]\nname = \"all\"\n",
        common::free_port()
    );
    std::fs::write(&path, &text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = wirefeed(&path, &["check"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    let p = path.display();
    assert!(
        err.contains(&format!("{p}:2:10: warning: listen 0.0.0.0:")),
        "{err}"
    );
    assert!(err.contains("[server] token is not set"), "{err}");
    assert!(
        err.contains(&format!(
            "{p}:1:1: warning: this file holds credentials (password of source paid)"
        )),
        "{err}"
    );
    assert!(
        !err.contains("hunter2-long"),
        "the warning repeats the secret: {err}"
    );

    // A token, a private file: nothing to warn about.
    std::fs::write(
        &path,
        format!("{text}\n").replacen(
            "[server]\n",
            "[server]\ntoken = \"a-reader-token-of-some-length\"\n",
            1,
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = wirefeed(&path, &["check"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
