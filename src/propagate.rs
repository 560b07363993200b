//! Finding bare repeats of values already found by context.
//!
//! A value that only context revealed (a `FunctionName`, an account id next
//! to `OwnerId`, a resource name inside an ARN) may appear again elsewhere
//! in the same body with no context at all. [`KnownValues`] collects such
//! values during the first masking pass; its [`index`](KnownValues::index)
//! then finds all their word-bounded occurrences in one pass over a text,
//! however many values there are (a dense `describe-instances` output
//! yields thousands).

use crate::detect::Family;
use crate::lanes::Bytes;
use memchr::memmem::Finder;
use std::cmp::Ordering;
use std::collections::HashMap;

/// Values to mask wherever they appear, with the kind and family they were
/// first found as.
#[derive(Debug, Clone, Default)]
pub struct KnownValues<'k> {
    values: HashMap<String, (&'k str, Family)>,
}

/// One occurrence of a known value: byte range, kind, family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit<'v> {
    /// Start of the occurrence.
    pub start: usize,
    /// End of the occurrence (exclusive).
    pub end: usize,
    /// Token kind of the value.
    pub kind: &'v str,
    /// Family that first found the value.
    pub family: Family,
}

impl<'k> KnownValues<'k> {
    /// An empty collection.
    pub fn new() -> KnownValues<'k> {
        KnownValues::default()
    }

    /// Records `value`; the first kind recorded for a value wins, so one
    /// value always gets one token within a body.
    pub fn insert(&mut self, value: &str, kind: &'k str, family: Family) {
        if !self.values.contains_key(value) {
            self.values.insert(value.to_string(), (kind, family));
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether some recorded value holds a byte for which `f` is true.
    pub fn any_byte(&self, f: impl Fn(u8) -> bool) -> bool {
        self.values.keys().any(|v| v.bytes().any(&f))
    }

    /// A search index over the recorded values.
    pub fn index(&self) -> ValueIndex<'_> {
        let mut heads = Vec::new();
        let mut odd = Vec::new();
        let mut bloom = vec![0u64; BLOOM_WORDS];
        for (value, (kind, family)) in &self.values {
            let entry = Entry {
                value: value.as_bytes(),
                kind,
                family: *family,
            };
            let alnum_start = value
                .as_bytes()
                .first()
                .is_some_and(u8::is_ascii_alphanumeric);
            match head_of(value.as_bytes()) {
                Some(h) if alnum_start => {
                    let (word, bit) = bloom_slot(h);
                    if let Some(w) = bloom.get_mut(word) {
                        *w |= bit;
                    }
                    heads.push((h, entry));
                }
                _ => odd.push((entry, Finder::new(value.as_bytes()))),
            }
        }
        // By head, then longest first, then by value: a head's group holds
        // a run per length, each sorted for binary search.
        heads.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(b.1.value.len().cmp(&a.1.value.len()))
                .then(bytes_cmp(a.1.value, b.1.value))
        });
        let mut groups: Vec<Group> = Vec::new();
        for (i, (h, e)) in heads.iter().enumerate() {
            let len = e.value.len();
            let last = last_byte_bit(e.value);
            match groups.last_mut() {
                Some(g) if g.head == *h => {
                    g.end = i + 1;
                    match g.lengths.last_mut() {
                        Some(run) if run.len == len => {
                            run.end = i + 1;
                            run.last |= last;
                        }
                        _ => g.lengths.push(Run {
                            len,
                            start: i,
                            end: i + 1,
                            last,
                        }),
                    }
                }
                _ => groups.push(Group {
                    head: *h,
                    start: i,
                    end: i + 1,
                    lengths: vec![Run {
                        len,
                        start: i,
                        end: i + 1,
                        last,
                    }],
                }),
            }
        }
        // Few distinct heads (values often share one: `deploy-1`,
        // `deploy-2`, ...): one SIMD substring search per head beats
        // visiting every word start of the text.
        let search_heads = groups.len() <= SEARCH_EACH_MAX;
        // The search for a group is for the prefix all its values share,
        // not just their head: `deploy-` does not stop at every
        // `deployment` of prose, where `depl` did.
        let prefixes = if search_heads {
            groups
                .iter()
                .map(|g| {
                    let values = heads.get(g.start..g.end).unwrap_or_default();
                    PrefixSearch::new(common_prefix(values.iter().map(|(_, e)| e.value)))
                })
                .collect()
        } else {
            Vec::new()
        };
        ValueIndex {
            heads,
            groups,
            odd,
            bloom,
            search_heads,
            prefixes,
        }
    }
}

/// The longest prefix all of `values` share (empty for none).
fn common_prefix<'v>(mut values: impl Iterator<Item = &'v [u8]>) -> &'v [u8] {
    let Some(first) = values.next() else {
        return &[];
    };
    let len = values.fold(first.len(), |len, v| {
        first
            .iter()
            .zip(v)
            .take(len)
            .take_while(|(a, b)| a == b)
            .count()
    });
    first.get(..len).unwrap_or(first)
}

/// Finds every occurrence of one needle, overlapping ones included (a
/// value may start inside another occurrence of the prefix: `ab-ab-1` in
/// `ab-ab-ab-1`).
///
/// Resource names mostly hold a `-`, `_`, `.`, `/` or a digit, and in
/// prose and code those bytes are rare: memchr on such a byte of the
/// needle, checking the needle at each, costs a fraction of a substring
/// search (whose loop V8 runs with spilled registers, about 1.3
/// instructions per byte). Where that byte turns out frequent (dense tool
/// output: dates, ids), the search switches to the substring search for
/// the rest of the text, so it never costs much more than that search.
#[derive(Debug, Clone)]
struct PrefixSearch<'v> {
    needle: &'v [u8],
    finder: Finder<'v>,
    /// A byte of the needle likely rare in text, and its offset.
    anchor: Option<(usize, u8)>,
}

impl<'v> PrefixSearch<'v> {
    fn new(needle: &'v [u8]) -> PrefixSearch<'v> {
        let punctuation = needle.iter().position(|b| !b.is_ascii_alphanumeric());
        let digit = needle.iter().position(u8::is_ascii_digit);
        let anchor = punctuation
            .or(digit)
            .and_then(|i| needle.get(i).map(|&b| (i, b)));
        PrefixSearch {
            needle,
            finder: Finder::new(needle),
            anchor,
        }
    }

    /// Calls `f(start)` for every occurrence in `hay`, in order.
    fn for_each(&self, hay: &[u8], mut f: impl FnMut(usize)) {
        // Starts below `from` have been checked.
        let mut from = 0;
        if let Some((offset, byte)) = self.anchor {
            let mut seen = 0usize;
            let mut switched = false;
            for q in memchr::memchr_iter(byte, hay) {
                let Some(p) = q.checked_sub(offset) else {
                    continue;
                };
                // The first byte before the whole needle: most hits are a
                // `-` of prose or code, not of a name.
                if hay.get(p) == self.needle.first()
                    && hay
                        .get(p..p + self.needle.len())
                        .is_some_and(|at| bytes_cmp(at, self.needle).is_eq())
                {
                    f(p);
                }
                from = p + 1;
                seen += 1;
                // More than one anchor byte in 32: leave the rest to the
                // substring search.
                if seen > 64 && seen * 32 > q {
                    switched = true;
                    break;
                }
            }
            if !switched {
                return;
            }
        }
        while let Some(p) = hay.get(from..).and_then(|rest| self.finder.find(rest)) {
            f(from + p);
            from += p + 1;
        }
    }
}

/// `a.cmp(b)`, eight bytes at a time: the values are short (names, ids),
/// and in the `.wasm` a call to `memcmp` per comparison cost more than the
/// comparison.
#[inline]
fn bytes_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let whole = a.len().min(b.len()) / 8 * 8;
    let (a_words, a_rest) = a.split_at(whole);
    let (b_words, b_rest) = b.split_at(whole);
    for (x, y) in a_words.chunks_exact(8).zip(b_words.chunks_exact(8)) {
        let word = |w: &[u8]| <[u8; 8]>::try_from(w).map_or(0, u64::from_be_bytes);
        let (x, y) = (word(x), word(y));
        if x != y {
            return x.cmp(&y);
        }
    }
    a_rest.iter().cmp(b_rest.iter())
}

const BLOOM_WORDS: usize = 1024; // 65,536 bits
/// Up to this many distinct value heads are searched one by one (memmem).
const SEARCH_EACH_MAX: usize = 16;

fn bloom_slot(head: u32) -> (usize, u64) {
    let h = (head.wrapping_mul(0x9E37_79B1) >> 16) as usize;
    (h / 64, 1u64 << (h % 64))
}

fn head_of(bytes: &[u8]) -> Option<u32> {
    let four: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    Some(u32::from_le_bytes(four))
}

#[derive(Debug, Clone, Copy)]
struct Entry<'v> {
    value: &'v [u8],
    kind: &'v str,
    family: Family,
}

/// Finds occurrences of [`KnownValues`] in texts.
#[derive(Debug, Clone)]
pub struct ValueIndex<'v> {
    heads: Vec<(u32, Entry<'v>)>,
    /// Values shorter than 4 bytes or starting with a non-alphanumeric
    /// byte (a secret key may start with `/`): searched one by one, each
    /// with its searcher built once (built per text, they cost more than
    /// the search).
    odd: Vec<(Entry<'v>, Finder<'v>)>,
    bloom: Vec<u64>,
    /// The values of each head, sorted by head.
    groups: Vec<Group>,
    /// Few enough heads to search for each instead of scanning word starts.
    search_heads: bool,
    /// When `search_heads`: for each group, a searcher for the prefix its
    /// values share.
    prefixes: Vec<PrefixSearch<'v>>,
}

/// The values sharing a head: `heads[start..end]`, as one run per
/// length, longest first. Finding the longest value at a place costs one
/// binary search per length whose last bytes may match, however many
/// values share the head (thousands of `prod-db-NNNN` must not make it
/// quadratic).
#[derive(Debug, Clone)]
struct Group {
    head: u32,
    start: usize,
    end: usize,
    lengths: Vec<Run>,
}

/// The values of a group with one length: `heads[start..end]`, sorted by
/// value; `last` has bit `b % 64` for each last byte `b` among them, so
/// most lengths are passed over without a search (an ARN's head has many
/// lengths, most ending inside a word of the text).
#[derive(Debug, Clone)]
struct Run {
    len: usize,
    start: usize,
    end: usize,
    last: u64,
}

/// The bit of `value`'s last byte in [`Run::last`].
fn last_byte_bit(value: &[u8]) -> u64 {
    value.last().map_or(0, |&b| 1u64 << (b % 64))
}

/// Whether the byte at `i` is alphanumeric and not the letter of a `\n`,
/// `\r` or `\t` escape (escaped text must not hide a value).
fn is_word_byte(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_alphanumeric)
        && !(matches!(b.get(i), Some(b'n' | b'r' | b't'))
            && i.checked_sub(1).and_then(|k| b.get(k)) == Some(&b'\\'))
}

/// Whether `start..end` is not part of a longer word: like a regex `\b`,
/// a boundary is needed only at an edge of the value that is itself
/// alphanumeric (a secret starting with `/` stands alone after any byte).
/// A value never starts at the letter of an escape (the `n` of `\n`), as
/// it never does in the search by word starts: that letter stands for a
/// newline.
fn bounded(b: &[u8], start: usize, end: usize) -> bool {
    open_start(b, start) && open_end(b, end)
}

/// The start half of [`bounded`]: a value starting at `start` is not the
/// tail of a word.
fn open_start(b: &[u8], start: usize) -> bool {
    !b.get(start).is_some_and(u8::is_ascii_alphanumeric)
        || (is_word_byte(b, start) && !start.checked_sub(1).is_some_and(|i| is_word_byte(b, i)))
}

/// The end half of [`bounded`]: a value ending at `end` is not the head of
/// a word.
fn open_end(b: &[u8], end: usize) -> bool {
    let alnum_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphanumeric);
    !end.checked_sub(1).is_some_and(alnum_at) || !alnum_at(end)
}

/// Calls `f(i)` for every word start of `b`, in order: an alphanumeric
/// byte after a byte that is not, where the letter of a `\n`, `\r` or
/// `\t` escape counts as no alphanumeric byte (the word starts after it).
///
/// Sixteen bytes at a time ([`Bytes`]): a mask of the alphanumeric bytes,
/// less the escape letters (looked at one by one after each backslash:
/// few per block), and the starts by a shift of the word bytes. Checked
/// against a byte walk in the tests.
fn word_starts(b: &[u8], mut f: impl FnMut(usize)) {
    // Bit 15 of the previous block's backslashes and word bytes.
    let (mut backslash_in, mut word_in) = (0u16, 0u16);
    for (k, block) in b.chunks(16).enumerate() {
        // `Bytes::load` takes whole words: the last block goes padded.
        let mut padded = [0u8; 16];
        let v = if block.len() == 16 {
            Bytes::load(block)
        } else {
            padded
                .iter_mut()
                .zip(block)
                .for_each(|(p, &byte)| *p = byte);
            Bytes::load(&padded)
        };
        let backslash = v.eq(b'\\').bits();
        let mut word = v.alnum().bits();
        let mut after = (backslash << 1) | backslash_in;
        while after != 0 {
            let at = after.trailing_zeros();
            if matches!(block.get(at as usize), Some(b'n' | b'r' | b't')) {
                word &= !(1 << at);
            }
            after &= after - 1;
        }
        let mut starts = word & !((word << 1) | word_in);
        backslash_in = backslash >> 15;
        word_in = word >> 15;
        while starts != 0 {
            f(k * 16 + starts.trailing_zeros() as usize);
            starts &= starts - 1;
        }
    }
}

impl<'v> ValueIndex<'v> {
    /// Appends every word-bounded occurrence in `text`, sorted by start and
    /// non-overlapping (the longest value wins at a place).
    pub fn find(&self, text: &str, out: &mut Vec<Hit<'v>>) {
        let b = text.as_bytes();
        let first = out.len();
        if self.search_heads {
            for (g, prefix) in self.groups.iter().zip(&self.prefixes) {
                // Overlapping occurrences too: a value may start inside
                // another occurrence of the prefix (`ab-ab-1` in
                // `ab-ab-ab-1`).
                prefix.for_each(b, |p| {
                    if let Some(hit) = self.longest_in(g, b, p) {
                        out.push(hit);
                    }
                });
            }
        } else if !self.heads.is_empty() {
            self.find_heads(b, out);
        }
        for (e, finder) in &self.odd {
            for start in finder.find_iter(b) {
                let end = start + e.value.len();
                if bounded(b, start, end) {
                    out.push(Hit {
                        start,
                        end,
                        kind: e.kind,
                        family: e.family,
                    });
                }
            }
        }
        if out.len() - first <= 1 {
            return;
        }
        // Merge the searches: sort, then drop overlaps (longest first).
        let tail = out.get_mut(first..).unwrap_or_default();
        // Unstable (no scratch buffer of half the hits), with a full order
        // so the result does not depend on the order of the searches.
        tail.sort_unstable_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then(b.end.cmp(&a.end))
                .then_with(|| a.kind.cmp(b.kind))
        });
        let mut kept = first;
        let mut last_end = 0;
        for i in first..out.len() {
            let Some(h) = out.get(i).copied() else { break };
            if i > first && h.start < last_end {
                continue;
            }
            if let Some(slot) = out.get_mut(kept) {
                *slot = h;
            }
            kept += 1;
            last_end = h.end;
        }
        out.truncate(kept);
    }

    /// The search by word starts, for many distinct heads: every start
    /// whose head is in the bloom filter is looked up. The word starts
    /// come from [`word_starts`], sixteen bytes at a time.
    fn find_heads(&self, b: &[u8], out: &mut Vec<Hit<'v>>) {
        // Starts below `next` are inside a hit, or inside the word a hit
        // ended in.
        let mut next = 0;
        word_starts(b, |i| {
            if i < next {
                return;
            }
            let Some(h) = b.get(i..).and_then(head_of) else {
                return;
            };
            let (word, bit) = bloom_slot(h);
            if self.bloom.get(word).is_none_or(|w| w & bit == 0) {
                return;
            }
            if let Some(hit) = self.longest_at(b, i, h) {
                // Values start at word starts only: the rest of the word
                // the hit ends in is passed over, as by a word walk.
                next = hit.end
                    + b.get(hit.end..).map_or(0, |r| {
                        r.iter().take_while(|c| c.is_ascii_alphanumeric()).count()
                    });
                out.push(hit);
            }
        });
    }

    fn longest_at(&self, b: &[u8], i: usize, head: u32) -> Option<Hit<'v>> {
        let g = self
            .groups
            .binary_search_by_key(&head, |g| g.head)
            .ok()
            .and_then(|k| self.groups.get(k))?;
        self.longest_in(g, b, i)
    }

    /// The longest value of group `g` standing word-bounded at `i`.
    /// The start boundary is the same for every length: checked once.
    fn longest_in(&self, g: &Group, b: &[u8], i: usize) -> Option<Hit<'v>> {
        if !open_start(b, i) {
            return None;
        }
        g.lengths.iter().find_map(|run| {
            let end = i + run.len;
            let candidate = b.get(i..end)?;
            if run.last & last_byte_bit(candidate) == 0 || !open_end(b, end) {
                return None;
            }
            let entries = self.heads.get(run.start..run.end)?;
            let k = entries
                .binary_search_by(|(_, e)| bytes_cmp(e.value, candidate))
                .ok()?;
            let (_, e) = entries.get(k)?;
            Some(Hit {
                start: i,
                end,
                kind: e.kind,
                family: e.family,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every start of `needle` in `hay`, overlapping ones included.
    fn naive(hay: &[u8], needle: &[u8]) -> Vec<usize> {
        (0..hay.len())
            .filter(|&i| hay[i..].starts_with(needle))
            .collect()
    }

    #[test]
    fn prefix_search_finds_every_occurrence_whatever_the_anchor_density() {
        let needles: &[&[u8]] = &[
            b"deploy-",
            b"ab-ab-",
            b"prod_db",
            b"node12",
            b"plainword",
            b"a-",
            b"-x-",
            b"--",
        ];
        // From no anchor byte at all to one every other byte, so the search
        // switches to the substring search at some point in the dense ones.
        let fillers: &[&[u8]] = &[
            b"the service rolls ",
            b"a-b c-d ",
            b"--",
            b"2024-01-01 ",
            b"1 2 3 ",
        ];
        for needle in needles {
            let search = PrefixSearch::new(needle);
            for filler in fillers {
                for every in [1usize, 3, 50] {
                    let mut hay = Vec::new();
                    for k in 0..400 {
                        hay.extend_from_slice(filler);
                        if k % every == 0 {
                            hay.extend_from_slice(needle);
                            hay.extend_from_slice(needle);
                        }
                    }
                    let mut got = Vec::new();
                    search.for_each(&hay, |p| got.push(p));
                    let want = naive(&hay, needle);
                    assert!(!want.is_empty());
                    assert_eq!(
                        got,
                        want,
                        "{:?} in {:?} every {every}",
                        String::from_utf8_lossy(needle),
                        String::from_utf8_lossy(filler)
                    );
                }
            }
        }
    }

    fn hits(values: &[&str], text: &str) -> Vec<String> {
        let mut known = KnownValues::new();
        for v in values {
            known.insert(v, "NAME", Family::NamedResources);
        }
        let mut out = Vec::new();
        known.index().find(text, &mut out);
        out.iter()
            .map(|h| text[h.start..h.end].to_string())
            .collect()
    }

    /// `bytes_cmp` orders byte strings as slices do.
    #[test]
    fn bytes_cmp_agrees_with_slice_order() {
        let words: Vec<&[u8]> = vec![
            b"",
            b"a",
            b"ab",
            b"abcdefgh",
            b"abcdefgi",
            b"abcdefgh0",
            b"abcdefghabcdefgh",
            b"abcdefghabcdefgg",
            b"abcdefghabcdefgh\xff",
            b"\xffabcdefg",
            b"abcdefg\xff",
        ];
        for a in &words {
            for b in &words {
                assert_eq!(bytes_cmp(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn table() {
        let cases: &[(&[&str], &str, &[&str])] = &[
            // A group is searched by its shared prefix; prose sharing only
            // the head (`depl`) is no hit, an occurrence starting inside
            // another occurrence of the prefix is.
            (
                &["deploy-1", "deploy-12"],
                "deployment of deploy-12, deploy-1 and deploy-2",
                &["deploy-12", "deploy-1"],
            ),
            (&["ab-ab-1"], "x ab-ab-ab-1 y", &["ab-ab-1"]),
            (&["ab-ab-1", "ab-ab-2"], "ab-ab-ab-2", &["ab-ab-2"]),
            (
                &["prod-db"],
                "use prod-db, not prod-db2 or xprod-db",
                &["prod-db"],
            ),
            (
                &["prod-db", "prod-db-2"],
                "prod-db-2 and prod-db",
                &["prod-db-2", "prod-db"],
            ),
            (
                &["123456789012"],
                "acct 123456789012; 1234567890123",
                &["123456789012"],
            ),
            (&["123456789012"], r"\n123456789012\n", &["123456789012"]),
            // A value never starts at the letter of an escape: that letter
            // is a newline, whichever search finds the value.
            (&["nfoo-1"], r"\nfoo-1 x nfoo-1", &["nfoo-1"]),
            (&["nfoo-1", "foo-1"], r"\nfoo-1", &["foo-1"]),
            (&["nfoo"], r"a\nfoo", &[]),
            (
                &["/abc+def=="],
                "k=/abc+def== x/abc+def==",
                &["/abc+def==", "/abc+def=="],
            ),
            (&["prod-db"], "prod-db-replica", &["prod-db"]),
            (&["prod-db"], "", &[]),
            (&["prod-db"], "prod-", &[]),
        ];
        for (values, text, want) in cases {
            assert_eq!(hits(values, text), *want, "{text}");
        }
    }

    /// Values sharing a head are found by one search per head, the longest
    /// at each place, overlaps dropped.
    #[test]
    fn shared_heads() {
        let values = ["deploy-1", "deploy-12", "deploy-2", "abab-abab"];
        let text = "deploy-12 deploy-1,deploy-2 deploy-3 abab-abab-abab";
        assert_eq!(
            hits(&values, text),
            ["deploy-12", "deploy-1", "deploy-2", "abab-abab"]
        );
    }

    /// Thousands of values sharing one head and differing in length: each
    /// place costs a binary search per length, and the longest wins.
    #[test]
    fn many_values_one_head() {
        let values: Vec<String> = (0..3000).map(|i| format!("prod-{i}")).collect();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let text = "prod-2999 prod-3000 prod-7, prod-12x prod-100";
        assert_eq!(hits(&refs, text), ["prod-2999", "prod-7", "prod-100"]);
    }

    /// The word walk `find_heads` did before it took sixteen bytes at a
    /// time: the oracle of [`word_starts`] and of the search by word
    /// starts.
    impl<'v> ValueIndex<'v> {
        fn find_heads_walk(&self, b: &[u8], out: &mut Vec<Hit<'v>>) {
            let mut i = 0;
            loop {
                let Some(k) = b
                    .get(i..)
                    .and_then(|r| r.iter().position(u8::is_ascii_alphanumeric))
                else {
                    return;
                };
                i += k;
                if !is_word_byte(b, i) {
                    i += 1;
                    continue;
                }
                let mut next = i + 1;
                if let Some(h) = b.get(i..).and_then(head_of) {
                    let (word, bit) = bloom_slot(h);
                    if self.bloom.get(word).is_some_and(|w| w & bit != 0) {
                        if let Some(hit) = self.longest_at_naive(b, i, h) {
                            next = hit.end;
                            out.push(hit);
                        }
                    }
                }
                i = next;
                match b
                    .get(i..)
                    .and_then(|r| r.iter().position(|c| !c.is_ascii_alphanumeric()))
                {
                    Some(k) => i += k,
                    None => return,
                }
            }
        }

        /// The longest value of the head at `i`, every value compared.
        fn longest_at_naive(&self, b: &[u8], i: usize, head: u32) -> Option<Hit<'v>> {
            self.heads
                .iter()
                .filter(|(h, e)| *h == head && b[i..].starts_with(e.value))
                .filter(|(_, e)| bounded(b, i, i + e.value.len()))
                .max_by_key(|(_, e)| e.value.len())
                .map(|(_, e)| Hit {
                    start: i,
                    end: i + e.value.len(),
                    kind: e.kind,
                    family: e.family,
                })
        }
    }

    /// Word starts by a byte walk.
    fn word_starts_naive(b: &[u8]) -> Vec<usize> {
        (0..b.len())
            .filter(|&i| is_word_byte(b, i) && !(i > 0 && is_word_byte(b, i - 1)))
            .collect()
    }

    /// Bytes that make words, escapes and boundaries likely.
    fn texty() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let byte = prop::sample::select(b"abnrt019AZ-_.\\ \n:/=\xc3\xa9\xff\x00".to_vec());
        prop::collection::vec(byte, 0..200)
    }

    proptest::proptest! {
        /// The sixteen-byte word starts agree with a byte walk, at every
        /// length and alignment.
        #[test]
        fn word_starts_agree_with_a_byte_walk(b in texty()) {
            let mut got = Vec::new();
            word_starts(&b, |i| got.push(i));
            proptest::prop_assert_eq!(got, word_starts_naive(&b));
        }

        /// The search by word starts (many heads) finds what the word walk
        /// with every value compared finds.
        #[test]
        fn search_by_word_starts_agrees_with_the_walk(
            text in texty(),
            picks in proptest::collection::vec((0usize..200, 1usize..12), 1..40),
        ) {
            let mut known = KnownValues::new();
            for (at, len) in &picks {
                // Values cut from the text, so they occur.
                if let Some(v) = text.get(*at..at + len).and_then(|v| std::str::from_utf8(v).ok()) {
                    known.insert(v, "NAME", Family::NamedResources);
                }
            }
            // Enough other heads that the index searches by word starts.
            let fillers: Vec<String> = (0..SEARCH_EACH_MAX + 1).map(|i| format!("zq{i:02}-x")).collect();
            for v in &fillers {
                known.insert(v, "NAME", Family::NamedResources);
            }
            let index = known.index();
            proptest::prop_assert!(!index.search_heads);
            let (mut got, mut want) = (Vec::new(), Vec::new());
            index.find_heads(&text, &mut got);
            index.find_heads_walk(&text, &mut want);
            proptest::prop_assert_eq!(got, want);
        }
    }

    proptest::proptest! {
        /// The longest value at each place, by the runs of lengths and
        /// their last bytes, is the one comparing every value finds.
        #[test]
        fn longest_value_agrees_with_comparing_every_value(
            text in texty(),
            picks in proptest::collection::vec((0usize..200, 4usize..40), 1..60),
        ) {
            let mut known = KnownValues::new();
            for (at, len) in &picks {
                if let Some(v) = text.get(*at..at + len).and_then(|v| std::str::from_utf8(v).ok()) {
                    known.insert(v, "NAME", Family::NamedResources);
                }
            }
            let index = known.index();
            for i in 0..text.len() {
                if let Some(h) = head_of(&text[i..]) {
                    proptest::prop_assert_eq!(
                        index.longest_at(&text, i, h),
                        index.longest_at_naive(&text, i, h),
                        "at {}", i
                    );
                }
            }
        }
    }

    /// The index agrees with a naive search on many values and texts.
    #[test]
    fn agrees_with_naive_search() {
        let values: Vec<String> = (0..500).map(|i| format!("name-{i:04}")).collect();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let text: String = (0..2000)
            .map(|i| format!("x name-{:04} y{} ", (i * 7) % 900, i))
            .collect();
        let got = hits(&refs, &text);
        // Escaped newlines: the word after one is a value, the letter of
        // the escape is no part of it.
        let escaped = text.replace("x name-", r"\nname-");
        assert_eq!(hits(&refs, &escaped), got);
        let want: Vec<String> = (0..2000)
            .map(|i| format!("name-{:04}", (i * 7) % 900))
            .filter(|v| values.contains(v))
            .collect();
        assert_eq!(got, want);
    }
}
