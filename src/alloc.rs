//! Giving memory back to the system after a burst of work.
//!
//! The binary allocates through jemalloc (see `main.rs`), whose background thread returns
//! free pages after they stay unused for its decay time (ten seconds). After a burst of
//! ingest the daemon asks for them at once instead ([`release_free_memory`]): the idle
//! footprint drops when the work ends, not over the following minutes.

/// jemalloc's `MALLCTL_ARENAS_ALL`: `arena.4096.*` applies to every arena.
const PURGE_ALL_ARENAS: &std::ffi::CStr = c"arena.4096.purge";

/// Returns every free page of every jemalloc arena to the system now. Harmless where the
/// process allocates with another allocator (tests): jemalloc then holds next to nothing.
/// Returns whether jemalloc accepted the request.
pub fn release_free_memory() -> bool {
    // SAFETY: `arena.<i>.purge` reads and writes nothing; jemalloc requires all four of
    // oldp, oldlenp, newp and newlen to be null/zero for it, as passed here, and the name is
    // a NUL-terminated C string that outlives the call.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            PURGE_ALL_ARENAS.as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        tracing::debug!(code = rc, "jemalloc purge refused");
    }
    rc == 0
}

/// This process's resident memory in MiB (Linux `/proc/self/statm`), for logs; 0 elsewhere.
pub fn resident_mib() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * 4096.0 / 1_048_576.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn purging_is_accepted() {
        assert!(super::release_free_memory());
    }
}
