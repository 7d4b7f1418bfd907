#![no_main]
//! Fuzz target: see `wirefeed::harness::config_text`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wirefeed::harness::config_text(data);
});
