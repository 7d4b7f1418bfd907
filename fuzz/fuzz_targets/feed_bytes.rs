#![no_main]
//! Fuzz target: see `wirefeed::harness::feed_bytes`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wirefeed::harness::feed_bytes(data);
});
