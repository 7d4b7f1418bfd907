//! Order independence on real coverage: the dev set's 20 outlets (`$WIREFEED_DATA/
//! neardup-dev`; skipped where absent) fetched by the real binary into fresh databases, 20
//! times, each time with the sources in another order (fetched one at a time, so that the
//! order is the arrival order) and each feed's items shuffled. Every run must give the same
//! partition into stories.
//!
//! `PERMUTATIONS` sets the number of runs (default 20).

mod common;

use std::collections::BTreeSet;
use std::process::Command;

/// A small deterministic generator, so that a failing permutation can be replayed.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// The document with its items (RSS `<item>` or Atom `<entry>`) in another order.
fn shuffle_items(xml: &str, rng: &mut Lcg) -> String {
    for (open, close) in [
        ("<item>", "</item>"),
        ("<item ", "</item>"),
        ("<entry>", "</entry>"),
        ("<entry ", "</entry>"),
    ] {
        let Some(first) = xml.find(open) else {
            continue;
        };
        let Some(last) = xml.rfind(close) else {
            continue;
        };
        let end = last + close.len();
        let mut items: Vec<String> = xml[first..end]
            .split_inclusive(close)
            .map(str::to_string)
            .collect();
        if items
            .iter()
            .any(|i| !i.trim_start().starts_with(open.trim_end()))
        {
            // Something between the items: leave the document as it is.
            return xml.to_string();
        }
        rng.shuffle(&mut items);
        return format!("{}{}{}", &xml[..first], items.concat(), &xml[end..]);
    }
    xml.to_string()
}

fn partition(
    dir: &std::path::Path,
    files: &[std::path::PathBuf],
    rng: &mut Lcg,
) -> BTreeSet<BTreeSet<String>> {
    let mut order: Vec<&std::path::PathBuf> = files.iter().collect();
    rng.shuffle(&mut order);
    let mut toml = String::from("[storage]\ndatabase = \"p.db\"\n\n[fetch]\nconcurrency = 1\n\n");
    for f in order {
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let xml = String::from_utf8_lossy(&std::fs::read(f).unwrap()).to_string();
        let copy = dir.join(format!("{name}.xml"));
        std::fs::write(&copy, shuffle_items(&xml, rng)).unwrap();
        toml.push_str(&format!(
            "[[sources]]\nname = \"{name}\"\nurl = \"file://{}\"\n\n",
            copy.display()
        ));
    }
    toml.push_str("[[feeds]]\nname = \"all\"\nlimit = 1000\n");
    let config = dir.join("wirefeed.toml");
    std::fs::write(&config, toml).unwrap();
    for args in [&["fetch"][..], &["stories", "--json"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if args[0] == "stories" {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            return v
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    s["entries"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| {
                            format!(
                                "{} {}",
                                e["source"].as_str().unwrap(),
                                e["guid"].as_str().unwrap()
                            )
                        })
                        .collect()
                })
                .collect();
        }
    }
    unreachable!()
}

#[test]
fn twenty_orders_of_sources_and_items_give_one_partition() {
    let Some(data) = common::real_data("neardup-dev", "neardup-dev") else {
        return;
    };
    let runs: usize = std::env::var("PERMUTATIONS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let mut files: Vec<_> = std::fs::read_dir(data.join("feeds"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut rng = Lcg(0x18);
    let mut first: Option<BTreeSet<BTreeSet<String>>> = None;
    for run in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let got = partition(dir.path(), &files, &mut rng);
        match &first {
            None => {
                eprintln!("run 0: {} stories", got.len());
                first = Some(got);
            }
            Some(want) => {
                let only_here: Vec<_> = got.difference(want).take(3).collect();
                let only_there: Vec<_> = want.difference(&got).take(3).collect();
                assert!(
                    only_here.is_empty() && only_there.is_empty(),
                    "run {run}: {} stories against {}; here {only_here:?}, first run {only_there:?}",
                    got.len(),
                    want.len()
                );
            }
        }
    }
    eprintln!("{runs} orders, one partition");
}
