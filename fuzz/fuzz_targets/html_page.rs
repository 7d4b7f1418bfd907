#![no_main]
//! Fuzz target: see `wirefeed::harness::html_page`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wirefeed::harness::html_page(data);
});
