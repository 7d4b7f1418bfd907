//! A private server: with `[server] token`, feeds and archive pages answer 401 (with a
//! `WWW-Authenticate: Bearer` challenge) unless the request presents the token, in the query
//! or as a Bearer header; conditional GET and compression work as before; `admin_token`
//! guards the status page, `/opml` and `/metrics`; `/healthz` stays open. Real readers
//! (feedparser, newsboat) subscribe with `?token=` in the URL, and a reader walking the
//! archive from such a URL never meets a 401. HTML pages carry a strict CSP.

mod common;

use std::collections::HashMap;

use common::readers::{feedparser_entries, newsboat_entries};
use common::{Daemon, FeedServer, Served, wait_for};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, ETAG, IF_NONE_MATCH,
    REFERRER_POLICY, WWW_AUTHENTICATE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};

const READER: &str = "r3ader+token/0123456789";
const ADMIN: &str = "adm1n-token-0123456789";

/// READER as it goes in a query.
fn q() -> String {
    format!("token={}", READER.replace('+', "%2B").replace('/', "%2F"))
}

fn rss(items: usize) -> Served {
    let items: String = (0..items)
        .map(|i| {
            format!(
                "<item><guid>g{i}</guid><title>Story number {i}</title>\
                 <link>http://outlet.example/{i}</link>\
                 <description>Text of story {i}, all of its own.</description></item>"
            )
        })
        .collect();
    Served {
        body: format!(
            "<rss version=\"2.0\"><channel><title>Outlet</title><link>http://outlet.example/</link>\
             <description>d</description>{items}</channel></rss>"
        )
        .into(),
        content_type: "application/rss+xml".into(),
        etag: Some("\"v1\"".into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_protected_server_serves_only_token_holders_and_real_readers_subscribe_with_it() {
    let server = FeedServer::start(HashMap::from([("feed.xml".to_string(), rss(9))])).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[("outlet".into(), server.url("feed.xml"))],
        "[[feeds]]\nname = \"all\"\nlimit = 3\n",
    );
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "[server]\n",
        &format!("[server]\ntoken = \"{READER}\"\nadmin_token = \"{ADMIN}\"\n"),
        1,
    );
    std::fs::write(&config, text).unwrap();
    let daemon = Daemon::start(&config, port);
    let base = daemon.base.clone();
    let client = common::client();
    let feed = format!("{base}/feeds/all.atom");

    // Wait for the stories and the archive pages (9 stories, 3 a page).
    let (c, f) = (client.clone(), feed.clone());
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Handle::current();
        wait_for(60, "archive pages", || {
            let body = rt.block_on(async {
                c.get(format!("{f}?{}", q()))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            });
            body.contains("prev-archive").then_some(())
        })
    })
    .await
    .unwrap();

    // Without a token: 401 and a Bearer challenge, for GET and HEAD, feeds and archives.
    for url in [
        feed.clone(),
        format!("{base}/feeds/all.json"),
        format!("{base}/feeds/all/archive/1.rss"),
    ] {
        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{url}");
        let challenge = r.headers()[WWW_AUTHENTICATE].to_str().unwrap().to_string();
        assert!(
            challenge.starts_with("Bearer realm=\"wirefeed\""),
            "{challenge}"
        );
        assert!(!r.text().await.unwrap().contains("<entry>"));
        let r = client.head(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "HEAD {url}");
    }
    let wrong = client
        .get(format!("{feed}?token=guess"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    // With it: 200 by query and by header, the same document.
    let by_header = client.get(&feed).bearer_auth(READER).send().await.unwrap();
    assert_eq!(by_header.status(), StatusCode::OK);
    assert!(
        by_header.headers()[CACHE_CONTROL]
            .to_str()
            .unwrap()
            .starts_with("private")
    );
    let etag = by_header.headers()[ETAG].clone();
    let plain = by_header.text().await.unwrap();
    let by_query = client.get(format!("{feed}?{}", q())).send().await.unwrap();
    assert_eq!(by_query.status(), StatusCode::OK);
    let query_etag = by_query.headers()[ETAG].clone();
    let tokenized = by_query.text().await.unwrap();
    // Header readers get plain links; query readers links that carry their token. Ids stay.
    assert!(
        plain.contains(&format!("href=\"{feed}\" rel=\"self\"")),
        "{plain}"
    );
    assert!(
        tokenized.contains(&format!("href=\"{feed}?{}\" rel=\"self\"", q())),
        "{tokenized}"
    );
    assert!(tokenized.contains(&format!("<id>{feed}</id>")));

    // 304 with the token, either way, and compression as before.
    for (req, tag) in [
        (client.get(&feed).bearer_auth(READER), etag.clone()),
        (client.get(format!("{feed}?{}", q())), query_etag.clone()),
    ] {
        let r = req.header(IF_NONE_MATCH, tag).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    }
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    let gz = raw
        .get(format!("{feed}?{}", q()))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.status(), StatusCode::OK);
    assert_eq!(gz.headers()[CONTENT_ENCODING], "gzip");

    // Walking the archive from a ?token= subscription: every link carries the token and
    // answers 200, down to the oldest page.
    let mut url = format!("{feed}?{}", q());
    let mut pages = 0;
    loop {
        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        let body = r.text().await.unwrap();
        let Some(prev) = body
            .split("<link ")
            .find(|l| l.contains("rel=\"prev-archive\""))
            .and_then(|l| l.split("href=\"").nth(1))
            .and_then(|l| l.split('"').next())
        else {
            break;
        };
        let prev = prev.replace("&amp;", "&");
        assert!(prev.ends_with(&format!("?{}", q())), "{prev}");
        url = prev;
        pages += 1;
    }
    assert!(pages >= 2, "walked {pages} archive pages");
    // JSON Feed's paging too.
    let json: serde_json::Value = serde_json::from_str(
        &client
            .get(format!("{base}/feeds/all.json?{}", q()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let next = json["next_url"].as_str().unwrap();
    assert!(next.ends_with(&format!("?{}", q())), "{next}");
    assert_eq!(
        client.get(next).send().await.unwrap().status(),
        StatusCode::OK
    );

    // The admin pages need the admin token; the reader's is not enough. /healthz is open.
    for route in ["/", "/opml", "/metrics"] {
        let url = format!("{base}{route}");
        assert_eq!(
            client.get(&url).send().await.unwrap().status(),
            401,
            "{route}"
        );
        let r = client.get(&url).bearer_auth(READER).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{route} with the reader token"
        );
        assert!(
            r.headers()[WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains("insufficient_scope")
        );
        let r = client.get(&url).bearer_auth(ADMIN).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{route} with the admin token");
        let r = client
            .get(format!("{url}?token={ADMIN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{route}?token=admin");
    }
    // The admin token reads feeds too.
    assert_eq!(
        client
            .get(&feed)
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // The status page: strict headers, and subscribe links that work when followed.
    let page = client
        .get(format!("{base}/"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let h = page.headers().clone();
    let csp = h[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "no script may run: {csp}");
    assert_eq!(h[X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[X_FRAME_OPTIONS], "DENY");
    assert_eq!(h[REFERRER_POLICY], "no-referrer");
    let html = page.text().await.unwrap();
    let subscribe = format!("{feed}?{}", q());
    assert!(html.contains(&format!("href=\"{subscribe}\"")), "{html}");
    assert!(!html.contains("<script"));
    // Feeds are not sniffed either.
    let r = client.get(&feed).bearer_auth(READER).send().await.unwrap();
    assert_eq!(r.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");

    // Real readers subscribe with the token in the URL.
    let rss_url = format!("{base}/feeds/all.rss?{}", q());
    let (u, d) = (rss_url.clone(), dir.path().to_path_buf());
    let (fp, nb) = tokio::task::spawn_blocking(move || {
        (feedparser_entries(&u), newsboat_entries(&d, &u, "token"))
    })
    .await
    .unwrap();
    assert_eq!(fp.0, "rss20");
    assert_eq!(fp.1.len(), 3, "feedparser read {:?}", fp.1);
    assert_eq!(nb.len(), 3, "newsboat stored {nb:?}");
    let atom_url = format!("{feed}?{}", q());
    let a = atom_url.clone();
    let fp = tokio::task::spawn_blocking(move || feedparser_entries(&a))
        .await
        .unwrap();
    assert_eq!((fp.0.as_str(), fp.1.len()), ("atom10", 3));
}
