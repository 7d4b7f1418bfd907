#![no_main]
//! Fuzz target: see `wirefeed::harness::http_request`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wirefeed::harness::http_request(data);
});
