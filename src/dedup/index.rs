//! Candidate index: anchor key → recent stories.
//!
//! Why a trait: the daemon keeps this table in SQLite as
//! `(anchor_key, story_id, seen_at)` rows; the harness and tests use
//! [`MemIndex`]. Both must give lookups whose cost does not depend on how
//! many stories are stored, so every key keeps at most `per_key_cap` of its
//! most recent stories (a key shared by more stories than that is a common
//! phrase or clutter and carries no identifying power anyway).

use std::collections::{HashMap, VecDeque};

/// Stable identifier of a story (the store's primary key).
pub type StoryId = u64;

/// Storage backend for anchor postings.
pub trait CandidateIndex {
    /// Records that `story` carries anchor `key`, seen at unix time `at`.
    fn insert(&mut self, key: u64, story: StoryId, at: i64);
    /// Appends the stories posted under `key` and seen at or after `since`.
    fn lookup(&self, key: u64, since: i64, out: &mut Vec<StoryId>);
    /// Forgets every posting older than `before` (window expiry).
    fn expire(&mut self, before: i64);
    /// Number of postings held (for benchmarks and metrics).
    fn len(&self) -> usize;
    /// True when the index is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Postings of one key. The first posting is stored inline because most
/// keys (a story's distinctive phrases) have exactly one story: a lookup
/// then costs one memory access, not two, which matters once the table is
/// far larger than the CPU caches.
#[derive(Debug, Clone)]
struct Slot {
    first: (StoryId, i64),
    rest: Vec<(StoryId, i64)>,
}

impl Slot {
    fn iter(&self) -> impl Iterator<Item = &(StoryId, i64)> {
        std::iter::once(&self.first).chain(self.rest.iter())
    }
    fn len(&self) -> usize {
        1 + self.rest.len()
    }
    /// Removes postings older than `before`; returns how many were removed
    /// and whether the slot is now empty.
    fn retain_since(&mut self, before: i64) -> (usize, bool) {
        let n = self.len();
        let mut all: Vec<(StoryId, i64)> = self.iter().copied().filter(|p| p.1 >= before).collect();
        let removed = n - all.len();
        if all.is_empty() {
            return (removed, true);
        }
        self.first = all.remove(0);
        self.rest = all;
        (removed, false)
    }
}

/// In-memory [`CandidateIndex`] with a per-key cap and time-ordered expiry.
#[derive(Debug, Default)]
pub struct MemIndex {
    per_key_cap: usize,
    postings: HashMap<u64, Slot>,
    log: VecDeque<(i64, u64)>,
    count: usize,
}

impl MemIndex {
    /// Creates an index keeping at most `per_key_cap` stories per key.
    pub fn new(per_key_cap: usize) -> Self {
        Self {
            per_key_cap: per_key_cap.max(1),
            ..Self::default()
        }
    }

    /// Number of distinct keys (for benchmarks).
    pub fn keys(&self) -> usize {
        self.postings.len()
    }
}

impl CandidateIndex for MemIndex {
    fn insert(&mut self, key: u64, story: StoryId, at: i64) {
        let slot = match self.postings.entry(key) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(Slot {
                    first: (story, at),
                    rest: Vec::new(),
                });
                self.count += 1;
                self.log.push_back((at, key));
                return;
            }
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
        };
        if slot.first.0 == story {
            slot.first.1 = slot.first.1.max(at);
            return;
        }
        if let Some(p) = slot.rest.iter_mut().find(|(s, _)| *s == story) {
            p.1 = p.1.max(at);
            return;
        }
        if slot.len() >= self.per_key_cap {
            // replace the oldest posting: the newest stories are the likely matches
            let oldest = slot
                .iter()
                .enumerate()
                .min_by_key(|(_, p)| p.1)
                .map(|(i, _)| i)
                .expect("non-empty");
            if oldest == 0 {
                slot.first = (story, at);
            } else {
                slot.rest[oldest - 1] = (story, at);
            }
        } else {
            slot.rest.push((story, at));
            self.count += 1;
        }
        self.log.push_back((at, key));
    }

    fn lookup(&self, key: u64, since: i64, out: &mut Vec<StoryId>) {
        if let Some(slot) = self.postings.get(&key) {
            out.extend(slot.iter().filter(|p| p.1 >= since).map(|p| p.0));
        }
    }

    fn expire(&mut self, before: i64) {
        while let Some(&(at, key)) = self.log.front() {
            if at >= before {
                break;
            }
            self.log.pop_front();
            if let Some(slot) = self.postings.get_mut(&key) {
                let (removed, empty) = slot.retain_since(before);
                self.count -= removed;
                if empty {
                    self.postings.remove(&key);
                }
            }
        }
    }

    fn len(&self) -> usize {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_keeps_newest_and_expiry_drops_old() {
        let mut ix = MemIndex::new(2);
        ix.insert(1, 10, 100);
        ix.insert(1, 11, 200);
        ix.insert(1, 12, 300);
        let mut out = Vec::new();
        ix.lookup(1, 0, &mut out);
        out.sort();
        assert_eq!(out, vec![11, 12]);
        ix.expire(250);
        out.clear();
        ix.lookup(1, 0, &mut out);
        assert_eq!(out, vec![12]);
        assert_eq!(ix.len(), 1);
    }
}
