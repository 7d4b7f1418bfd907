//! Which anchor keys may have postings in the main candidate index: a one-bit-per-slot
//! filter in front of the index probes.
//!
//! Why: a new entry probes the index with each of its ~30 anchor keys, and nearly all of
//! them miss (most stories are printed once). On a 10,000-source store each miss was a
//! B-tree descent through a 100 MB index that the page cache does not hold, the largest
//! single cost left in the writer. A key whose slot is clear has no posting for sure, and
//! its probe is skipped; a set slot (a posting, or another key hashing there) probes as
//! before. Slots are never cleared, so expiry only makes the filter a little less useful
//! until it is next rebuilt, never wrong.
//!
//! The filter covers postings moved into the main index by this connection (it reads the
//! staging table as it moves it, so other processes' staged postings count too) and what
//! was there when it was loaded. Postings another process moves in later are missed until
//! the next load, like the rest of that process's staged postings (see `anchors`): a missed
//! merge, never a wrong one.

use rusqlite::Connection;

/// Slots per key the filter aims for: at 16, about 6% of misses still probe.
const SLOTS_PER_KEY: usize = 16;

/// Fewest slots (8 KiB): a small store's filter stays small.
const MIN_SLOTS: usize = 1 << 16;

/// The filter: `bits.len() * 64` slots, a power of two.
#[derive(Debug)]
pub(super) struct KeyFilter {
    bits: Vec<u64>,
    /// Keys added since the filter was sized (with repeats): past `slots / SLOTS_PER_KEY`
    /// it is too full and is rebuilt larger.
    added: usize,
}

impl KeyFilter {
    fn with_keys(expected: usize) -> KeyFilter {
        let slots = (expected.max(1) * SLOTS_PER_KEY)
            .next_power_of_two()
            .max(MIN_SLOTS);
        KeyFilter {
            bits: vec![0; slots / 64],
            added: 0,
        }
    }

    fn slot(&self, key: u32) -> (usize, u64) {
        // Keys are hashes already; the low bits are as good as any.
        let i = key as usize & (self.bits.len() * 64 - 1);
        (i / 64, 1 << (i % 64))
    }

    /// Whether the main index may hold postings under `key`.
    pub(super) fn may_hold(&self, key: u32) -> bool {
        let (w, b) = self.slot(key);
        self.bits[w] & b != 0
    }

    /// Records that the main index holds postings under `key`.
    pub(super) fn add(&mut self, key: u32) {
        let (w, b) = self.slot(key);
        self.bits[w] |= b;
        self.added += 1;
    }

    /// Whether the filter has taken more keys than it was sized for.
    pub(super) fn overfull(&self) -> bool {
        self.added > self.bits.len() * 64 / SLOTS_PER_KEY
    }

    /// Builds the filter from every key in the main index.
    pub(super) fn load(conn: &Connection) -> rusqlite::Result<KeyFilter> {
        let distinct: i64 = conn.query_row(
            "SELECT count(*) FROM (SELECT DISTINCT key FROM dedup_anchors)",
            [],
            |r| r.get(0),
        )?;
        let mut f = KeyFilter::with_keys(usize::try_from(distinct).unwrap_or(0) * 2);
        let mut stmt = conn.prepare("SELECT DISTINCT key FROM dedup_anchors")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f.add(r.get(0)?);
        }
        f.added = usize::try_from(distinct).unwrap_or(0);
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_keys_are_always_held_and_most_others_are_not() {
        let mut f = KeyFilter::with_keys(10_000);
        let mut x: u32 = 12345;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let added: Vec<u32> = (0..10_000).map(|_| next()).collect();
        added.iter().for_each(|&k| f.add(k));
        assert!(added.iter().all(|&k| f.may_hold(k)), "no false negative");
        let false_hits = (0..100_000).filter(|_| f.may_hold(next())).count();
        assert!(
            false_hits < 10_000,
            "{false_hits} of 100,000 misses would still probe"
        );
        assert!(!f.overfull());
        (0..20_000).for_each(|_| f.add(next()));
        assert!(f.overfull(), "three times the keys it was sized for");
    }
}
