//! Remembers what the built-in detectors found in long texts, so that a text
//! seen before is not scanned again.
//!
//! Claude Code (like most chat clients) re-sends the whole conversation on
//! every turn: all but the newest message were masked before, by the same
//! worker. Detection is a pure function of the text (and of the
//! configuration, fixed per [`Detector`](super::Detector)), so its result can
//! be reused; tokens are issued afresh for every exchange from the reused
//! matches, so nothing about one exchange leaks into another.
//!
//! Texts are identified by a keyed 128-bit SipHash-1-3 of their bytes under a
//! key derived from the token secret: a sender who does not know the secret
//! cannot craft a text that collides with one already remembered (a
//! collision would apply another text's matches, the one way a memo could
//! let a value through). Memory is bounded: two generations of at most
//! `texts` texts (the `memo_texts` setting) and [`MATCHES_PER_TEXT`] times as
//! many matches each; when the current generation is full it becomes the
//! previous one and the oldest is dropped, and a text found in the previous
//! generation moves to the current one.

use super::Match;
use siphasher::sip128::{Hasher128, SipHasher13};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::token::PrfKeyHasher;

/// Texts shorter than this are scanned every time: scanning them costs
/// about as much as hashing and looking them up, and they are many.
pub const MIN_LEN: usize = 256;
/// Matches remembered per generation (about 40 bytes each), per text
/// remembered: an average text holds far fewer.
pub const MATCHES_PER_TEXT: usize = 16;

/// How a memo has served: lookups that found a text (`hits`) or not
/// (`misses`, each followed by a scan), and texts remembered now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoStats {
    /// Lookups that found the text: a scan saved.
    pub hits: u64,
    /// Lookups that did not: the text was scanned.
    pub misses: u64,
    /// Texts remembered now.
    pub texts: usize,
}

type Generation = HashMap<u128, Vec<Match<'static>>, BuildHasherDefault<PrfKeyHasher>>;

/// The memo of one detector: keyed digests of texts and what the built-in
/// families found in them.
pub struct Memo {
    key: [u8; 16],
    max_texts: usize,
    max_matches: usize,
    stats: MemoStats,
    current: Generation,
    current_matches: usize,
    previous: Generation,
}

impl Memo {
    /// An empty memo whose digests are keyed by `key`, remembering up to
    /// `texts` texts per generation (0: nothing, the memo is off).
    pub fn new(key: [u8; 16], texts: usize) -> Memo {
        Memo {
            key,
            max_texts: texts,
            max_matches: texts.saturating_mul(MATCHES_PER_TEXT),
            stats: MemoStats::default(),
            current: Generation::default(),
            current_matches: 0,
            previous: Generation::default(),
        }
    }

    /// The digest identifying `text`. Not inlined: inlined into the
    /// detector its loop competes for registers (V8 then spills in it).
    #[inline(never)]
    pub fn digest(&self, text: &[u8]) -> u128 {
        let mut h = SipHasher13::new_with_key(&self.key);
        h.write(text);
        h.finish128().as_u128()
    }

    /// The matches remembered for `digest`; `None` when the text was not
    /// seen, or was forgotten.
    pub fn recall(&mut self, digest: u128) -> Option<&[Match<'static>]> {
        if !self.current.contains_key(&digest) {
            let Some(found) = self.previous.remove(&digest) else {
                self.stats.misses += 1;
                return None;
            };
            self.remember(digest, found);
        }
        self.stats.hits += 1;
        self.current.get(&digest).map(Vec::as_slice)
    }

    /// Counts a miss of [`recall_quietly`](Self::recall_quietly) that was
    /// followed by a scan after all.
    pub fn count_miss(&mut self) {
        self.stats.misses += 1;
    }

    /// The matches remembered for `digest`, counted as a hit when found
    /// and not counted when not: for a second kind of entry looked up
    /// before the first, whose miss [`recall`](Self::recall) counts (or,
    /// where the first is not looked up, [`count_miss`](Self::count_miss)).
    pub fn recall_quietly(&mut self, digest: u128) -> Option<&[Match<'static>]> {
        let known = self.current.contains_key(&digest) || self.previous.contains_key(&digest);
        if !known {
            return None;
        }
        self.recall(digest)
    }

    /// Whether the memo remembers anything at all (`texts` > 0).
    pub fn is_on(&self) -> bool {
        self.max_texts > 0
    }

    /// Remembers `matches` for `digest`.
    pub fn remember(&mut self, digest: u128, matches: Vec<Match<'static>>) {
        if !self.is_on() || matches.len() > self.max_matches {
            return;
        }
        if self.current.len() >= self.max_texts
            || self.current_matches + matches.len() > self.max_matches
        {
            self.previous = std::mem::take(&mut self.current);
            self.current_matches = 0;
        }
        self.current_matches += matches.len();
        self.current.insert(digest, matches);
    }

    /// Texts remembered, both generations.
    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// Lookups so far and what is remembered now.
    pub fn stats(&self) -> MemoStats {
        MemoStats {
            texts: self.len(),
            ..self.stats
        }
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("texts", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Family;

    fn m(start: usize) -> Match<'static> {
        Match {
            start,
            end: start + 1,
            kind: "EC2",
            family: Family::Ec2Ids,
        }
    }

    #[test]
    fn recalls_what_it_remembered() {
        let mut memo = Memo::new([7; 16], 4096);
        let d = memo.digest(b"some text");
        assert_eq!(memo.recall(d), None);
        memo.remember(d, vec![m(1), m(5)]);
        assert_eq!(memo.recall(d), Some(&[m(1), m(5)][..]));
        // An empty result is remembered too.
        let e = memo.digest(b"other text");
        memo.remember(e, Vec::new());
        assert_eq!(memo.recall(e), Some(&[][..]));
    }

    #[test]
    fn zero_texts_is_off() {
        let mut memo = Memo::new([5; 16], 0);
        assert!(!memo.is_on());
        let d = memo.digest(b"text");
        memo.remember(d, vec![m(1)]);
        assert_eq!(memo.recall(d), None);
        assert_eq!(memo.stats().texts, 0);
    }

    #[test]
    fn digests_depend_on_text_and_key() {
        let memo = Memo::new([1; 16], 4096);
        let other = Memo::new([2; 16], 4096);
        assert_eq!(memo.digest(b"abc"), memo.digest(b"abc"));
        assert_ne!(memo.digest(b"abc"), memo.digest(b"abd"));
        assert_ne!(memo.digest(b"abc"), memo.digest(b"abc\0"));
        assert_ne!(memo.digest(b"abc"), other.digest(b"abc"));
    }

    #[test]
    fn stays_bounded_and_keeps_recent_texts() {
        const TEXTS: usize = 100;
        let mut memo = Memo::new([3; 16], TEXTS);
        let digests: Vec<u128> = (0..3 * TEXTS as u32)
            .map(|i| memo.digest(&i.to_le_bytes()))
            .collect();
        // A text used all along is promoted and survives generations.
        let kept = memo.digest(b"kept");
        memo.remember(kept, vec![m(9)]);
        for (i, &d) in digests.iter().enumerate() {
            memo.remember(d, vec![m(i)]);
            assert!(memo.recall(kept).is_some(), "forgot the text in use at {i}");
            assert!(memo.len() <= 2 * TEXTS);
        }
        assert!(
            memo.recall(digests[0]).is_none(),
            "the oldest text is dropped"
        );
        assert!(memo.recall(digests[digests.len() - 1]).is_some());
    }

    #[test]
    fn bounds_matches_too() {
        const TEXTS: usize = 100;
        let max_matches = TEXTS * MATCHES_PER_TEXT;
        let mut memo = Memo::new([4; 16], TEXTS);
        let many: Vec<Match<'static>> = (0..max_matches / 2 + 1).map(m).collect();
        for i in 0..4u8 {
            memo.remember(memo.digest(&[i]), many.clone());
            assert!(memo.current_matches <= max_matches);
        }
        assert!(memo.recall(memo.digest(&[0])).is_none());
        assert!(memo.recall(memo.digest(&[3])).is_some());
        // More matches than a generation holds are not remembered at all.
        let huge: Vec<Match<'static>> = (0..max_matches + 1).map(m).collect();
        let d = memo.digest(b"huge");
        memo.remember(d, huge);
        assert!(memo.recall(d).is_none());
    }
}
