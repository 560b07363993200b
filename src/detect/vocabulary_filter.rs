//! A Bloom filter over AWS's vocabulary keys (`vocabulary`). Most words
//! that reach a vocabulary lookup (a word before a `:` or `=` whose length
//! and end bytes some key has) are no key at all, and the filter turns
//! them away in a few dozen instructions, where the front-coded table's
//! lookup costs about 1,900 (a binary search over block heads, then one
//! block decoded): on 2 MB of Python, a fifth of the time spent masking.
//!
//! Built once, at first use, from the table itself, so the two cannot
//! disagree: a key of the table is never turned away (tested against
//! every key); a word it lets through is looked up as before.

use std::sync::OnceLock;

/// Bits in the filter: 8 KiB, about 11 bits per key, three probes (about
/// one word in a hundred that is no key gets through).
const BITS: usize = 1 << 16;

/// The filter's bits.
struct KeyFilter {
    words: Vec<u64>,
}

/// FNV-1a, then a final mix so that the three probes taken from the
/// hash's 16-bit parts are independent enough.
fn hash(norm: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in norm {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 29)
}

/// The filter's three bit positions for `norm`.
fn probes(norm: &[u8]) -> [usize; 3] {
    let h = hash(norm);
    let bit = |shift: u32| (h >> shift) as usize & (BITS - 1);
    [bit(0), bit(21), bit(42)]
}

impl KeyFilter {
    fn build() -> KeyFilter {
        let mut words = vec![0u64; BITS / 64];
        super::vocabulary::for_each(|key, _, _| {
            for p in probes(key) {
                if let Some(w) = words.get_mut(p / 64) {
                    *w |= 1 << (p % 64);
                }
            }
        });
        KeyFilter { words }
    }

    fn may_contain(&self, norm: &[u8]) -> bool {
        probes(norm).iter().all(|&p| {
            self.words
                .get(p / 64)
                .is_some_and(|w| w & (1 << (p % 64)) != 0)
        })
    }
}

/// Whether the normalized word `norm` may be a key of AWS's vocabulary
/// (`false`: it surely is none).
pub(super) fn may_contain(norm: &[u8]) -> bool {
    static FILTER: OnceLock<KeyFilter> = OnceLock::new();
    FILTER.get_or_init(KeyFilter::build).may_contain(norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_passes() {
        let mut n = 0;
        super::super::vocabulary::for_each(|key, _, _| {
            assert!(may_contain(key), "{}", String::from_utf8_lossy(key));
            n += 1;
        });
        assert_eq!(n, super::super::vocabulary::LEN);
    }

    /// Words that are no key mostly do not pass (the filter earns its
    /// place only if it turns them away).
    #[test]
    fn most_other_words_do_not_pass() {
        let mut rng = crate::test_rng::XorShift(0x1234_5678_9abc_def1);
        let (mut tried, mut passed) = (0, 0);
        while tried < 20_000 {
            let seed = rng.next();
            let len = 4 + (seed % 12) as usize;
            let word: Vec<u8> = (0..len)
                .map(|i| b'a' + (seed.rotate_left(i as u32 * 5) % 26) as u8)
                .collect();
            if super::super::vocabulary::lookup(&word).is_some() {
                continue;
            }
            tried += 1;
            passed += usize::from(may_contain(&word));
        }
        assert!(passed * 100 < tried * 3, "{passed} of {tried} passed");
    }
}
