//! systemd integration of the real binary: the notify protocol over a socket the test binds
//! (READY=1 only once the port accepts, WATCHDOG=1 keeps coming, STATUS=, STOPPING=1), and
//! the shipped unit file checked by systemd-analyze where it exists.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn notify_ready_after_the_port_accepts_then_watchdog_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let feed = common::fixture("feeds/rss20.xml");
    let config = common::write_config(
        dir.path(),
        port,
        &[("a".to_string(), format!("file://{}", feed.display()))],
        "[[feeds]]\nname = \"all\"\n",
    );
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "300000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let mut buf = [0u8; 4096];
    let mut recv = |deadline: Instant| -> Option<String> {
        while Instant::now() < deadline {
            if let Ok(n) = sock.recv(&mut buf) {
                return Some(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        None
    };
    // READY=1 is the first message, and by then the port accepts.
    let first = recv(Instant::now() + Duration::from_secs(30)).expect("no notification");
    assert!(first.contains("READY=1"), "first message: {first:?}");
    std::net::TcpStream::connect(("127.0.0.1", port))
        .expect("READY=1 was sent before the port accepted connections");
    assert!(first.contains("STATUS=1 source, "), "{first:?}");

    // Then the watchdog is fed (every 150 ms for WatchdogSec=300ms) with status lines; the
    // first fetch (spread over the first seconds after start) shows in the status.
    let mut watchdogs = 0;
    let mut last_status = String::new();
    let start = Instant::now();
    while let Some(m) = recv(start + Duration::from_secs(20)) {
        if start.elapsed() < Duration::from_millis(1500) {
            watchdogs += m.matches("WATCHDOG=1").count();
        }
        if let Some(s) = m.lines().find_map(|l| l.strip_prefix("STATUS=")) {
            last_status = s.to_string();
        }
        if start.elapsed() >= Duration::from_millis(1500) && last_status.contains("last: a") {
            break;
        }
    }
    assert!(watchdogs >= 5, "only {watchdogs} WATCHDOG=1 in 1.5 s");
    assert!(
        last_status.contains("last: a new"),
        "status after the first fetch: {last_status:?}"
    );

    // SIGTERM: STOPPING=1, then a clean exit.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut stopping = false;
    while let Some(m) = recv(Instant::now() + Duration::from_secs(10)) {
        if m.contains("STOPPING=1") {
            stopping = true;
            break;
        }
    }
    assert!(stopping, "no STOPPING=1");
    assert!(child.wait().unwrap().success());
}

/// The shipped unit, with ExecStart pointing at the binary under test (verify checks it).
fn unit_under_test(dir: &std::path::Path) -> std::path::PathBuf {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/wirefeed.service"
    ))
    .unwrap()
    .replace("/usr/local/bin/wirefeed", env!("CARGO_BIN_EXE_wirefeed"));
    let path = dir.join("wirefeed.service");
    std::fs::write(&path, unit).unwrap();
    path
}

#[test]
fn unit_file_verifies_and_is_well_confined() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("systemd-analyze is not installed here: unit checks not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_under_test(dir.path());
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(&unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let score: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for wirefeed.service:")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no exposure level in: {text}"));
    assert!(score <= 1.5, "exposure {score} > 1.5:\n{text}");
}

#[test]
fn under_the_journal_lines_carry_syslog_levels_and_no_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[(
            "gone".to_string(),
            "http://127.0.0.1:9/feed.xml".to_string(),
        )],
        "[log]\nlevel = \"warn\"\n",
    );
    let log = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("JOURNAL_STREAM", "8:12345")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // The unreachable source fails within seconds: a warning.
    let text = common::wait_for(30, "a logged warning", || {
        let t = std::fs::read_to_string(&log).unwrap_or_default();
        t.contains("fetch failed").then_some(t)
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    for line in text.lines().filter(|l| !l.is_empty()) {
        assert!(
            line.starts_with("<4>") || line.starts_with("<3>"),
            "[log] level = \"warn\" let through, or no syslog prefix: {line:?}"
        );
        assert!(
            !line[3..]
                .trim_start()
                .starts_with(|c: char| c.is_ascii_digit()),
            "timestamp under the journal: {line:?}"
        );
        assert!(
            !line.contains('\u{1b}'),
            "colour under the journal: {line:?}"
        );
    }
}
