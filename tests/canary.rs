//! Nothing secret ever leaves the daemon. Private sources carry canary secrets — a password
//! in userinfo, keys in `?key=` and `?token=`, a header, a cookie, a local path — and their
//! server repeats them back (its feeds name themselves with the key, link to items with it,
//! print the password in the text). Then every byte wirefeed makes is searched for them:
//! every route in every format with every archive page it links, the 401 answers, the
//! static export folder, `render`, `stories --json`, `opml export`, `fetch`'s report and the
//! daemon's log at the default level.

mod common;

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;
use std::time::Duration;

use common::private::{API_KEY, PASSWORD, PrivateServer, SESSION, USER, wirefeed};
use common::{Daemon, wait_for};

const KEY: &str = "K3Y-canary-91f3e7";
const TOKEN_PARAM: &str = "tok3n-canary-5d20aa";
const LOCAL: &str = "private-path-canary";
const READER: &str = "reader-token-0123456789abcdef";
const ADMIN: &str = "admin-token-0123456789abcdef";

/// Every canary, with the forms it takes in URLs.
fn canaries() -> Vec<String> {
    [PASSWORD, KEY, TOKEN_PARAM, API_KEY, SESSION, LOCAL]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for canary in canaries() {
        assert!(
            !text.contains(&canary),
            "{what} carries the secret {canary:?}:\n{}",
            text.chars().take(4000).collect::<String>()
        );
    }
}

fn config(dir: &Path, server: &PrivateServer, port: u16) -> std::path::PathBuf {
    let local = dir.join(LOCAL);
    std::fs::create_dir(&local).unwrap();
    // A local feed that does not name itself: it can only be cited by its source's name.
    std::fs::write(
        local.join("local.xml"),
        "<rss version=\"2.0\"><channel><title>Local</title><link>http://local.example/</link>\
         <description>d</description><item><guid>l1</guid><title>Local story</title>\
         <link>http://local.example/1</link><description>A local story, told here.</description>\
         </item></channel></rss>",
    )
    .unwrap();
    // One that does: it is cited by its own address.
    std::fs::copy(common::fixture("feeds/rss20.xml"), local.join("named.xml")).unwrap();
    let addr = server.addr;
    let text = format!(
        r#"[server]
listen = "127.0.0.1:{port}"
base_url = "http://127.0.0.1:{port}/"
token = "{READER}"
admin_token = "{ADMIN}"

[storage]
database = "wirefeed.db"

[fetch]
timeout = "5s"
allow_hosts = ["127.0.0.1"]

[publish]
dir = "public"

[[sources]]
name = "userinfo"
url = "http://{USER}:{PASSWORD}@{addr}/basic/feed?key={KEY}&section=world"

[[sources]]
name = "keyed"
url = "http://{addr}/open/feed?token={TOKEN_PARAM}&api_key={KEY}"

[[sources]]
name = "moved"
url = "http://{addr}/away/feed?key={KEY}"

[[sources]]
name = "header"
url = "http://{addr}/header/feed"
headers = {{ "X-Api-Key" = "{API_KEY}" }}

[[sources]]
name = "cookie"
url = "http://{addr}/cookie/feed"
cookie = "session={SESSION}"

[[sources]]
name = "local"
url = "file:{LOCAL}/local.xml"

[[sources]]
name = "unauthorised"
url = "http://nobody:{PASSWORD}@{addr}/header/other?key={KEY}"

[[sources]]
name = "refused"
url = "http://{USER}:{PASSWORD}@127.0.0.2:{p}/feed?key={KEY}"

[[sources]]
name = "unreachable"
url = "http://{USER}:{PASSWORD}@127.0.0.1:1/feed?key={KEY}"

[[sources]]
name = "named"
url = "file:{LOCAL}/named.xml"

[[sources]]
name = "missing-file"
url = "file:{LOCAL}/missing.xml"

[[feeds]]
name = "all"
limit = 4

[[feeds]]
name = "everything"
limit = 500

[[feeds]]
name = "local"
sources = ["local", "named"]
"#,
        p = addr.port()
    );
    let path = dir.join("wirefeed.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// GETs `url` with the reader token in the query or the header.
async fn get(client: &reqwest::Client, url: &str, bearer: Option<&str>) -> reqwest::Response {
    let mut req = client.get(url);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// Every URL into this server's feeds that a document links (href="…" and JSON strings).
fn feed_links(body: &str, base: &str) -> Vec<String> {
    let needle = format!("{base}/feeds/");
    body.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &body[i..];
            let end = rest.find(['"', '<', ' '])?;
            Some(rest[..end].replace("&amp;", "&"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_secrets_never_appear_in_anything_wirefeed_serves_writes_prints_or_logs() {
    let server = PrivateServer::start(Some(format!("/open/moved?key={KEY}"))).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let path = config(dir.path(), &server, port);
    let mut daemon = Daemon::start_with_env(&path, port, &[("RUST_LOG", None)]);
    let base = daemon.base.clone();
    let client = common::client();

    // Wait until the private sources are in and archive pages are frozen.
    let c = client.clone();
    let b = base.clone();
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Handle::current();
        wait_for(
            60,
            "stories from every private source and an archive page",
            || {
                let atom = rt.block_on(async {
                    get(&c, &format!("{b}/feeds/all/archive/2.atom"), Some(READER))
                        .await
                        .status()
                });
                let status = rt.block_on(async {
                    get(&c, &format!("{b}/"), Some(ADMIN))
                        .await
                        .text()
                        .await
                        .unwrap()
                });
                (atom.is_success() && status.matches("not fetched yet").count() == 0).then_some(())
            },
        )
    })
    .await
    .unwrap();

    let mut seen: Vec<(String, Vec<u8>)> = Vec::new();
    // The admin pages, with the admin token; the open routes without.
    for (route, token) in [
        ("/", Some(ADMIN)),
        ("/opml", Some(ADMIN)),
        ("/metrics", Some(ADMIN)),
        ("/healthz", None),
    ] {
        let r = get(&client, &format!("{base}{route}"), token).await;
        assert!(r.status().is_success(), "{route}: {}", r.status());
        seen.push((route.into(), r.bytes().await.unwrap().to_vec()));
    }
    // Every feed in every format, and every document they link, by header and by query.
    let mut documents = BTreeSet::new();
    for by_query in [false, true] {
        let mut queue: VecDeque<String> = ["all", "everything", "local"]
            .iter()
            .flat_map(|f| {
                ["atom", "rss", "json", "html"].map(|ext| format!("{base}/feeds/{f}.{ext}"))
            })
            .collect();
        let mut done = BTreeSet::new();
        while let Some(url) = queue.pop_front() {
            let url = url.split('?').next().unwrap().to_string();
            if !done.insert(url.clone()) {
                continue;
            }
            let r = if by_query {
                get(&client, &format!("{url}?token={READER}"), None).await
            } else {
                get(&client, &url, Some(READER)).await
            };
            assert!(r.status().is_success(), "{url}: {}", r.status());
            let body = r.text().await.unwrap();
            queue.extend(feed_links(&body, &base));
            documents.insert(url.clone());
            seen.push((url, body.into_bytes()));
        }
    }
    assert!(
        documents.iter().filter(|d| d.contains("/archive/")).count() >= 6,
        "archive pages crawled: {documents:?}"
    );
    // A browser's view of a feed, and what a stranger is told.
    let page = client
        .get(format!("{base}/feeds/all.atom?token={READER}"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    seen.push(("browser view".into(), page.bytes().await.unwrap().to_vec()));
    let page = client
        .get(format!("{base}/feeds/all/archive/1.atom?token={READER}"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    seen.push((
        "browser view of an archive page".into(),
        page.bytes().await.unwrap().to_vec(),
    ));
    for route in ["/", "/opml", "/feeds/all.atom", "/feeds/all/archive/1.rss"] {
        let r = get(&client, &format!("{base}{route}"), None).await;
        assert_eq!(r.status(), 401, "{route} without a token");
        seen.push((format!("{route} (401)"), r.bytes().await.unwrap().to_vec()));
    }

    // Provenance still works: the publisher's own self link, without the key it echoed.
    let all = String::from_utf8_lossy(
        &seen
            .iter()
            .find(|(u, _)| u.ends_with("/feeds/all.atom"))
            .unwrap()
            .1,
    )
    .into_owned();
    assert!(all.contains("<source>"), "{all}");
    // Enclosures are published, their URLs scrubbed like the links beside them.
    assert!(
        all.contains("rel=\"enclosure\"") && all.contains("/audio-1"),
        "{all}"
    );
    let local_feed = &seen
        .iter()
        .find(|(u, _)| u.ends_with("/feeds/local.atom"))
        .unwrap()
        .1;
    let local_feed = String::from_utf8_lossy(local_feed);
    assert!(
        local_feed.contains(&format!("<id>{base}/#source-local</id>")),
        "a local source is named: {local_feed}"
    );
    assert!(
        local_feed.contains("<id>https://harbour-herald.example/world/rss</id>"),
        "a local feed that names itself is cited by its own address: {local_feed}"
    );
    let status = String::from_utf8_lossy(&seen[0].1).into_owned();
    assert!(
        status.contains(&format!("http://{}/open/feed", server.addr)),
        "the status page shows the redacted address: {status}"
    );

    // The server's echoes reached the published text, scrubbed.
    let everything: String = seen
        .iter()
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(
        everything.contains("your password is redacted"),
        "the echoed password was published, scrubbed"
    );
    for (what, bytes) in &seen {
        assert_clean(what, bytes);
    }

    // The static export folder.
    let public = dir.path().join("public");
    let c = public.clone();
    let files = wait_for(30, "the static export", move || {
        let files = walk(&c);
        (files
            .iter()
            .filter(|f| f.to_string_lossy().contains("archive"))
            .count()
            >= 6)
            .then_some(files)
    });
    for f in &files {
        assert_clean(&f.display().to_string(), &std::fs::read(f).unwrap());
    }

    // The command line.
    let p = path.clone();
    let outputs = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for args in [
            vec!["render", "all"],
            vec!["render", "all", "--format", "rss"],
            vec!["render", "all", "--format", "json"],
            vec!["render", "local"],
            vec!["render", "everything", "--format", "json"],
            vec!["stories", "--json"],
            vec!["stories"],
            vec!["boilerplate", "--all"],
            vec!["opml", "export"],
            vec!["fetch"],
            vec!["check"],
        ] {
            let o = wirefeed(&p, &args, &[]);
            assert!(
                o.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            out.push((format!("{args:?}"), o.stdout, o.stderr));
        }
        out
    })
    .await
    .unwrap();
    for (what, stdout, stderr) in &outputs {
        assert_clean(&format!("{what} stdout"), stdout);
        assert_clean(&format!("{what} stderr"), stderr);
    }
    // The canaries are real: the private backup carries them.
    let backup = wirefeed(&path, &["opml", "export", "--with-secrets"], &[]);
    let backup = String::from_utf8_lossy(&backup.stdout);
    assert!(backup.contains(PASSWORD) && backup.contains(KEY) && backup.contains(LOCAL));

    // The daemon's log, at the default level, after a reload too.
    std::process::Command::new("kill")
        .args(["-HUP", &daemon.child.id().to_string()])
        .status()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    daemon.stop();
    let log = daemon.log();
    assert!(
        log.contains("fetch failed"),
        "the log reports failures: {log}"
    );
    assert_clean("the daemon's log", log.as_bytes());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
