fn main() {
    for p in std::env::args().skip(1) {
        let b = std::fs::read(&p).unwrap();
        match wirefeed::parse::parse_feed(&b, None, None, Default::default()) {
            Ok(f) => println!("{p}: ok {} entries", f.entries.len()),
            Err(e) => println!("{p}: {e:?}"),
        }
        let d = wirefeed::parse::encoding::decode(&b, None);
        match feed_rs::parser::parse(wirefeed::parse::legacy::bridge(&d.text).as_bytes()) {
            Ok(_) => {}
            Err(e) => println!("   feed-rs: {e:?}"),
        }
    }
}
