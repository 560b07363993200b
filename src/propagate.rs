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

    /// A search index over the recorded values.
    pub fn index(&self) -> ValueIndex<'_> {
        let mut heads = Vec::new();
        let mut odd = Vec::new();
        let mut bloom = vec![0u64; BLOOM_WORDS];
        // A few values: one SIMD substring search each beats visiting
        // every word start of the text.
        let search_each = self.values.len() <= SEARCH_EACH_MAX;
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
                Some(h) if alnum_start && !search_each => {
                    let (word, bit) = bloom_slot(h);
                    if let Some(w) = bloom.get_mut(word) {
                        *w |= bit;
                    }
                    heads.push((h, entry));
                }
                _ => odd.push(entry),
            }
        }
        // By head, then longest first: the longest value at a place wins.
        heads.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.value.len().cmp(&a.1.value.len())));
        ValueIndex { heads, odd, bloom }
    }
}

const BLOOM_WORDS: usize = 1024; // 65,536 bits
/// Up to this many values are searched one by one (memmem).
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
    /// Values searched one by one: all of them when there are few, else
    /// those shorter than 4 bytes or starting with a non-alphanumeric byte
    /// (a secret key may start with `/`).
    odd: Vec<Entry<'v>>,
    bloom: Vec<u64>,
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
fn bounded(b: &[u8], start: usize, end: usize) -> bool {
    let alnum_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphanumeric);
    let open_start = !alnum_at(start) || !start.checked_sub(1).is_some_and(|i| is_word_byte(b, i));
    let open_end = !end.checked_sub(1).is_some_and(alnum_at) || !alnum_at(end);
    open_start && open_end
}

impl<'v> ValueIndex<'v> {
    /// Appends every word-bounded occurrence in `text`, sorted by start and
    /// non-overlapping (the longest value wins at a place).
    pub fn find(&self, text: &str, out: &mut Vec<Hit<'v>>) {
        let b = text.as_bytes();
        let first = out.len();
        if !self.heads.is_empty() {
            self.find_heads(b, out);
        }
        if self.odd.is_empty() {
            return;
        }
        for e in &self.odd {
            for start in memchr::memmem::find_iter(b, e.value) {
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
        // Merge the two sources: sort, then drop overlaps (longest first).
        let tail = out.get_mut(first..).unwrap_or_default();
        tail.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
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

    fn find_heads(&self, b: &[u8], out: &mut Vec<Hit<'v>>) {
        let mut i = 0;
        loop {
            // To the next alphanumeric byte: a word start, unless it is the
            // letter of a `\n`, `\r` or `\t` escape (then the word starts
            // after it).
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
                    if let Some(hit) = self.longest_at(b, i, h) {
                        next = hit.end;
                        out.push(hit);
                    }
                }
            }
            // Skip the rest of this word: values start at word starts only.
            // (A backslash ends a word, so escapes need no care here.)
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

    fn longest_at(&self, b: &[u8], i: usize, head: u32) -> Option<Hit<'v>> {
        let from = self.heads.partition_point(|(h, _)| *h < head);
        self.heads
            .get(from..)?
            .iter()
            .take_while(|(h, _)| *h == head)
            .find_map(|(_, e)| {
                let end = i + e.value.len();
                (b.get(i..end) == Some(e.value) && bounded(b, i, end)).then_some(Hit {
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

    #[test]
    fn table() {
        let cases: &[(&[&str], &str, &[&str])] = &[
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

    /// The index agrees with a naive search on many values and texts.
    #[test]
    fn agrees_with_naive_search() {
        let values: Vec<String> = (0..500).map(|i| format!("name-{i:04}")).collect();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let text: String = (0..2000)
            .map(|i| format!("x name-{:04} y{} ", (i * 7) % 900, i))
            .collect();
        let got = hits(&refs, &text);
        let want: Vec<String> = (0..2000)
            .map(|i| format!("name-{:04}", (i * 7) % 900))
            .filter(|v| values.contains(v))
            .collect();
        assert_eq!(got, want);
    }
}
