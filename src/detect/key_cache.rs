//! A small cache of what key words name, for the key-context scanner.
//!
//! AWS output repeats a few dozen keys thousands of times (`InstanceId`,
//! `SubnetId`, `VpcId` on every instance), and each is a key of AWS's
//! vocabulary, so the Bloom filter in front of the vocabulary lets it
//! through to the front-coded table's lookup (about 1,900 instructions),
//! after a linear pass over the hand-written keys. On 1 MB of realistic
//! AWS output that was a fifth of all the time spent masking.
//!
//! The cache is direct-mapped, keyed by the raw word's bytes compared in
//! full, so a hit returns exactly what the lookup returned for that word:
//! it changes no result, only the cost (the tests hold it to the uncached
//! lookup as the oracle). It is per thread (a proxy-wasm VM has one) and
//! lives as long as the thread, so the keys of one request serve the next.

use std::cell::RefCell;

/// Slots in the cache: enough for the keys of a few kinds of output at
/// once; a colliding word evicts the one before it.
const SLOTS: usize = 256;
/// Longest word cached; longer ones are looked up every time (keys that
/// long are rare).
const MAX_CACHED: usize = 40;

/// One remembered word and what it named.
#[derive(Clone, Copy)]
struct Slot<V: Copy> {
    len: u8,
    word: [u8; MAX_CACHED],
    value: V,
}

/// A direct-mapped cache from short words to a `Copy` value.
pub(super) struct KeyCache<V: Copy> {
    slots: Vec<Option<Slot<V>>>,
}

impl<V: Copy> KeyCache<V> {
    /// An empty cache (its slots are allocated at the first insert).
    pub(super) const fn new() -> KeyCache<V> {
        KeyCache { slots: Vec::new() }
    }

    /// What `compute(word)` returns, from the cache when `word` was
    /// computed before and not evicted since.
    pub(super) fn get_or(&mut self, word: &[u8], compute: impl FnOnce(&[u8]) -> V) -> V {
        if word.len() > MAX_CACHED {
            return compute(word);
        }
        let at = slot_of(word);
        if let Some(Some(slot)) = self.slots.get(at) {
            if word.len() == usize::from(slot.len) && slot.word.get(..word.len()) == Some(word) {
                return slot.value;
            }
        }
        let value = compute(word);
        if self.slots.is_empty() {
            self.slots.resize(SLOTS, None);
        }
        if let Some(s) = self.slots.get_mut(at) {
            let mut bytes = [0u8; MAX_CACHED];
            if let Some(dst) = bytes.get_mut(..word.len()) {
                dst.copy_from_slice(word);
            }
            *s = Some(Slot {
                len: u8::try_from(word.len()).unwrap_or(u8::MAX),
                word: bytes,
                value,
            });
        }
        value
    }
}

/// The slot of `word`: FNV-1a over its bytes, folded to [`SLOTS`].
fn slot_of(word: &[u8]) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    for &b in word {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h ^ (h >> 16)) as usize % SLOTS
}

/// Runs `f` with this thread's cache of type `V`, or returns `None` when
/// the cache is in use already (a lookup inside a lookup), for the
/// caller to compute without it.
pub(super) fn with_cache<V: Copy + 'static, R>(
    cell: &'static std::thread::LocalKey<RefCell<KeyCache<V>>>,
    f: impl FnOnce(&mut KeyCache<V>) -> R,
) -> Option<R> {
    cell.try_with(|c| c.try_borrow_mut().ok().map(|mut c| f(&mut c)))
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_returns_what_was_computed_for_that_exact_word() {
        let mut cache = KeyCache::new();
        let calls = std::cell::Cell::new(0);
        let get = |cache: &mut KeyCache<usize>, w: &[u8]| {
            cache.get_or(w, |w| {
                calls.set(calls.get() + 1);
                w.len() * 7 + usize::from(w.first().copied().unwrap_or(0))
            })
        };
        assert_eq!(get(&mut cache, b"InstanceId"), 10 * 7 + usize::from(b'I'));
        assert_eq!(get(&mut cache, b"InstanceId"), 10 * 7 + usize::from(b'I'));
        // Same length, same slot or not: compared in full.
        assert_eq!(get(&mut cache, b"InstanceIe"), 10 * 7 + usize::from(b'I'));
        assert_eq!(get(&mut cache, b"xnstanceId"), 10 * 7 + usize::from(b'x'));
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn colliding_and_long_words_are_computed_again_not_confused() {
        // Find two words of one slot.
        let words: Vec<String> = (0..2000).map(|i| format!("key{i}")).collect();
        let first = words.first().map(String::as_str).unwrap_or_default();
        let twin = words
            .iter()
            .skip(1)
            .find(|w| slot_of(w.as_bytes()) == slot_of(first.as_bytes()))
            .map(String::as_str)
            .unwrap_or_default();
        assert!(!twin.is_empty());
        let mut cache = KeyCache::new();
        for _ in 0..3 {
            for w in [first, twin] {
                assert_eq!(cache.get_or(w.as_bytes(), |w| w.to_vec().len()), w.len());
                assert_eq!(
                    cache.get_or(w.as_bytes(), |w| u32::from(*w.last().unwrap_or(&0))
                        as usize),
                    w.len(),
                    "{w} was cached"
                );
            }
        }
        let long = [b'a'; MAX_CACHED + 1];
        assert_eq!(cache.get_or(&long, |_| 1), 1);
        assert_eq!(cache.get_or(&long, |_| 2), 2, "too long to cache");
    }
}
