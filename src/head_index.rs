//! The token map's index: entries by the head of their keyed digest.
//!
//! Heads are outputs of the keyed PRF, evenly spread and not chosen by a
//! sender who lacks the secret, so an open-addressing table of entry
//! numbers, probed linearly from `head`'s low bits, needs no hashing of
//! its own. A slot is 4 bytes, a quarter of the 9 a `HashMap<u32, u32>`
//! bucket takes with its control byte and its `u32` head, and entries that
//! share a head (a collision, or one value under two kinds) are simply
//! further along the probe: no overflow list.

/// Slots are doubled past this many sixteenths filled (0.81): a dense body
/// of 52,000 values then fits 65,536 slots (256 KiB), and an unsuccessful
/// probe still reads a dozen slots at most on average.
const MAX_LOAD_SIXTEENTHS: usize = 13;

/// Entry numbers by head. The entries themselves (and so their heads) are
/// the caller's: each call that needs a head is given a way to read one.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeadIndex {
    /// Entry number + 1; 0 is an empty slot. Length a power of two.
    slots: Vec<u32>,
    len: usize,
}

impl HeadIndex {
    /// The home slot of `head` and the mask of slot numbers.
    fn home(&self, head: u32) -> (usize, usize) {
        let mask = self.slots.len().wrapping_sub(1);
        (head as usize & mask, mask)
    }

    /// The first entry with `head` for which `is` holds, in insertion
    /// order among those that share a home slot.
    pub(crate) fn find(
        &self,
        head: u32,
        head_of: impl Fn(u32) -> u32,
        mut is: impl FnMut(u32) -> bool,
    ) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let (mut at, mask) = self.home(head);
        loop {
            let entry = self.slots.get(at).copied()?.checked_sub(1)?;
            if head_of(entry) == head && is(entry) {
                return Some(entry);
            }
            at = (at + 1) & mask;
        }
    }

    /// Whether some entry has `head`.
    pub(crate) fn contains(&self, head: u32, head_of: impl Fn(u32) -> u32) -> bool {
        self.find(head, head_of, |_| true).is_some()
    }

    /// Records `entry`, whose head is `head`.
    pub(crate) fn insert(&mut self, head: u32, entry: u32, head_of: impl Fn(u32) -> u32) {
        if self.is_over_loaded(self.len + 1) {
            self.grow(&head_of);
        }
        self.place(head, entry);
        self.len += 1;
    }

    fn is_over_loaded(&self, len: usize) -> bool {
        len * 16 > self.slots.len() * MAX_LOAD_SIXTEENTHS
    }

    /// Puts `entry` in the first free slot from `head`'s home.
    fn place(&mut self, head: u32, entry: u32) {
        let (mut at, mask) = self.home(head);
        while let Some(slot) = self.slots.get_mut(at) {
            if *slot == 0 {
                *slot = entry.saturating_add(1);
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// Doubles the slots (16 at first) and places every entry again. The
    /// entries are numbered 0..len (the map numbers them so) and placed in
    /// that order, so those that share a head keep their order.
    fn grow(&mut self, head_of: &impl Fn(u32) -> u32) {
        let slots = (self.slots.len() * 2).max(16);
        // The old slots go first: the new ones can take their room.
        self.slots = Vec::new();
        self.slots = vec![0; slots];
        for entry in 0..u32::try_from(self.len).unwrap_or(u32::MAX) {
            self.place(head_of(entry), entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Against a `HashMap` from head to entries (the naive oracle), with
    /// heads drawn from a small range so that many are shared.
    #[test]
    fn finds_what_a_hash_map_finds() {
        let mut heads: Vec<u32> = Vec::new();
        let mut index = HeadIndex::default();
        let mut oracle: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut rng = crate::test_rng::XorShift(0x2545_f491_4f6c_dd1d);
        for i in 0..20_000u32 {
            let seed = rng.next();
            let head = if i % 3 == 0 {
                (seed % 500) as u32
            } else {
                seed as u32
            };
            heads.push(head);
            index.insert(head, i, |e| heads[e as usize]);
            oracle.entry(head).or_default().push(i);
        }
        let head_of = |e: u32| heads[e as usize];
        for (head, entries) in &oracle {
            let mut found = Vec::new();
            index.find(*head, head_of, |e| {
                found.push(e);
                false
            });
            assert_eq!(&found, entries, "head {head}");
            assert_eq!(
                index.find(*head, head_of, |_| true),
                entries.first().copied()
            );
            assert!(index.contains(*head, head_of));
        }
        assert!(!index.contains(4_000_000_000, head_of) || oracle.contains_key(&4_000_000_000));
        assert!(index.slots.len() * 13 >= index.len * 16);
    }
}
