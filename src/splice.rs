//! Replacements of byte ranges by texts held elsewhere, and the output
//! they make.
//!
//! Masking and restoring both turn a body into a list of splices: "bytes
//! `start..end` become text `id`". A splice keeps an id, not its text: on a
//! body dense with values there is a splice every twenty bytes, and a copy
//! of each token or original cost several times the body, while the texts
//! are in the token map already ([`SpliceTexts`]). The output is written
//! from the input and the splices only when asked for, whole
//! ([`Output::to_vec`]) or piece by piece ([`Output::write_pieces`]), so a
//! host can take the masked body without the VM ever holding all of it.
//!
//! ```
//! use aws_masker::splice::{Output, Splice};
//!
//! let input = b"stop i-1 and i-2";
//! let runs = vec![vec![
//!     Splice { start: 5, end: 8, id: 0 },
//!     Splice { start: 13, end: 16, id: 1 },
//! ]];
//! let texts = ["AWS_EC2_a", "AWS_EC2_b"];
//! let out = Output::new(input, runs, false, &texts[..]).unwrap();
//! assert_eq!(out.len(), "stop AWS_EC2_a and AWS_EC2_b".len());
//! assert_eq!(out.to_vec(&texts[..]), b"stop AWS_EC2_a and AWS_EC2_b");
//! ```

use crate::json::{escape_into, escaped_len, needs_escape};

/// A replacement of the byte range `start..end` by the text the caller's
/// table holds under `id`, resolved only when the output is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Splice {
    /// Start, a char boundary.
    pub start: usize,
    /// End (exclusive), a char boundary.
    pub end: usize,
    /// The replacement's id in the caller's table (for masking a token's
    /// index in the token map, for restoring an original's).
    pub id: u32,
}

/// The texts splices stand for, by id.
pub trait SpliceTexts {
    /// The text of `id`: borrowed from `self`, or spelled into `scratch`.
    fn text<'a>(&'a self, id: u32, scratch: &'a mut String) -> &'a str;

    /// The length of the text of `id` as written: JSON-escaped if
    /// `escape`. A table whose texts never need escaping can answer
    /// without spelling them.
    fn written_len(&self, id: u32, escape: bool, scratch: &mut String) -> usize {
        let text = self.text(id, scratch);
        if escape {
            escaped_len(text)
        } else {
            text.len()
        }
    }
}

impl SpliceTexts for [String] {
    fn text<'a>(&'a self, id: u32, _scratch: &'a mut String) -> &'a str {
        self.get(id as usize).map_or("", String::as_str)
    }
}

impl SpliceTexts for [&str] {
    fn text<'a>(&'a self, id: u32, _scratch: &'a mut String) -> &'a str {
        self.get(id as usize).copied().unwrap_or_default()
    }
}

/// Sorts splices by start, keeping the order of those that start at the
/// same place (the first of overlapping splices wins). One function for
/// every caller: each sort call site would otherwise carry its own copy of
/// the sort in the `.wasm`.
///
/// Splices almost always arrive sorted (a visitor emits them in order):
/// they are then left as they are, since a stable sort takes scratch room
/// as large as the list, which on a body dense with values is more than
/// half the body again.
pub(crate) fn sort_splices(splices: &mut [Splice]) {
    if !splices.is_sorted_by_key(|s| s.start) {
        splices.sort_by_key(|s| s.start);
    }
}

/// Adds the splices of a second pass (`more`, emptied) to `splices`, in
/// start order again (each sorted already; of two that start at the same
/// place, the one from `splices` first). Merged in place from the back,
/// without the scratch room a sort would take.
pub(crate) fn append_sorted(splices: &mut Vec<Splice>, more: &mut Vec<Splice>) {
    if more.is_empty() {
        return;
    }
    if !splices.is_sorted_by_key(|s| s.start) || !more.is_sorted_by_key(|s| s.start) {
        splices.append(more);
        sort_splices(splices);
        return;
    }
    let mut a = splices.len();
    let mut b = more.len();
    splices.resize(
        a + b,
        Splice {
            start: 0,
            end: 0,
            id: 0,
        },
    );
    let mut w = a + b;
    while b > 0 {
        w -= 1;
        let take_a = match (a.checked_sub(1), b.checked_sub(1)) {
            (Some(i), Some(j)) => match (splices.get(i), more.get(j)) {
                (Some(x), Some(y)) => x.start > y.start,
                _ => false,
            },
            _ => false,
        };
        let next = if take_a {
            a -= 1;
            splices.get(a).copied()
        } else {
            b -= 1;
            more.get(b).copied()
        };
        if let (Some(sp), Some(slot)) = (next, splices.get_mut(w)) {
            *slot = sp;
        }
    }
    more.clear();
}

/// An input with splices to apply: runs of splices on the input's raw
/// bytes, each run sorted, the runs in input order, none overlapping.
#[derive(Debug)]
pub struct Output<'a> {
    input: &'a [u8],
    runs: Vec<Vec<Splice>>,
    /// JSON-escape the texts that need it (inside string literals).
    escape: bool,
    len: usize,
}

impl<'a> Output<'a> {
    /// The output of `runs` on `input`, with texts from `texts`
    /// (JSON-escaped if `escape`); `None` when there is no splice.
    pub fn new<T: SpliceTexts + ?Sized>(
        input: &'a [u8],
        mut runs: Vec<Vec<Splice>>,
        escape: bool,
        texts: &T,
    ) -> Option<Output<'a>> {
        runs.retain(|r| !r.is_empty());
        if runs.is_empty() {
            return None;
        }
        let mut len = input.len();
        let mut scratch = String::new();
        for sp in runs.iter().flatten() {
            let written = texts.written_len(sp.id, escape, &mut scratch);
            len = len
                .saturating_sub(sp.end.saturating_sub(sp.start))
                .saturating_add(written);
        }
        Some(Output {
            input,
            runs,
            escape,
            len,
        })
    }

    /// The output's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the output is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The splices, in input order: where each replaced range of the input
    /// is, for tools that report what would change ([`crate::Masker::find`]).
    pub(crate) fn splices(&self) -> impl Iterator<Item = &Splice> {
        self.runs.iter().flatten()
    }

    /// Calls `part` with each part of the output in order: runs of input
    /// bytes and splice texts.
    fn for_each_part<T: SpliceTexts + ?Sized>(&self, texts: &T, mut part: impl FnMut(&[u8])) {
        let mut last = 0;
        let mut scratch = String::new();
        let mut escaped = String::new();
        for sp in self.runs.iter().flatten() {
            part(self.input.get(last..sp.start).unwrap_or_default());
            let text = texts.text(sp.id, &mut scratch);
            if self.escape && text.bytes().any(needs_escape) {
                escaped.clear();
                escape_into(text, &mut escaped);
                part(escaped.as_bytes());
            } else {
                part(text.as_bytes());
            }
            last = sp.end;
        }
        part(self.input.get(last..).unwrap_or_default());
    }

    /// The whole output, at its exact size.
    pub fn to_vec<T: SpliceTexts + ?Sized>(&self, texts: &T) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        self.for_each_part(texts, |p| out.extend_from_slice(p));
        out
    }

    /// Hands the output to `sink` in pieces of `max` bytes (the last one
    /// shorter), in order, so the whole of it is never in memory at once;
    /// stops at the first piece `sink` refuses (`false`). Returns whether
    /// every piece was taken.
    pub fn write_pieces<T: SpliceTexts + ?Sized>(
        &self,
        texts: &T,
        max: usize,
        mut sink: impl FnMut(&[u8]) -> bool,
    ) -> bool {
        let mut pieces = Pieces::new(max, self.len, &mut sink);
        self.for_each_part(texts, |part| pieces.put(part));
        pieces.finish()
    }
}

/// Cuts bytes written one part after another into pieces of `max` bytes
/// (the last one shorter) for `sink`; stops at the first piece `sink`
/// refuses.
pub(crate) struct Pieces<S> {
    piece: Vec<u8>,
    max: usize,
    sink: S,
    ok: bool,
}

impl<S: FnMut(&[u8]) -> bool> Pieces<S> {
    /// Pieces of `max` bytes for `sink`, of an output of about `len`.
    pub(crate) fn new(max: usize, len: usize, sink: S) -> Pieces<S> {
        let max = max.max(1);
        Pieces {
            piece: Vec::with_capacity(max.min(len)),
            max,
            sink,
            ok: true,
        }
    }

    /// Writes `part` next.
    pub(crate) fn put(&mut self, mut part: &[u8]) {
        while self.ok && !part.is_empty() {
            let room = self.max - self.piece.len();
            let (now, rest) = part.split_at(room.min(part.len()));
            self.piece.extend_from_slice(now);
            part = rest;
            if self.piece.len() == self.max {
                self.ok = (self.sink)(&self.piece);
                self.piece.clear();
            }
        }
    }

    /// Hands over the last piece; whether every piece was taken.
    pub(crate) fn finish(mut self) -> bool {
        if self.ok && !self.piece.is_empty() {
            self.ok = (self.sink)(&self.piece);
        }
        self.ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output<'a>(input: &'a str, runs: Vec<Vec<Splice>>, texts: &[&str]) -> Option<Output<'a>> {
        Output::new(input.as_bytes(), runs, true, texts)
    }

    /// Pieces of every size concatenate to the whole output, and each is
    /// at most the size asked for.
    #[test]
    fn pieces_make_the_whole() {
        let texts = ["<one>", "\"two\"", ""];
        let input = "a-b-c-d-e-f";
        let runs = vec![
            vec![Splice {
                start: 0,
                end: 1,
                id: 0,
            }],
            vec![
                Splice {
                    start: 4,
                    end: 5,
                    id: 1,
                },
                Splice {
                    start: 8,
                    end: 9,
                    id: 2,
                },
            ],
        ];
        let out = output(input, runs, &texts).unwrap();
        let whole = out.to_vec(&texts[..]);
        assert_eq!(whole, br#"<one>-b-\"two\"-d--f"#);
        assert_eq!(out.len(), whole.len());
        for max in 1..=whole.len() + 1 {
            let mut got = Vec::new();
            assert!(out.write_pieces(&texts[..], max, |p| {
                assert!(!p.is_empty() && p.len() <= max, "{max}: {p:?}");
                got.extend_from_slice(p);
                true
            }));
            assert_eq!(got, whole, "pieces of {max}");
        }
    }

    /// A refused piece stops the writing.
    #[test]
    fn a_refused_piece_stops() {
        let texts = ["XYZ"];
        let out = output(
            "0123456789",
            vec![vec![Splice {
                start: 2,
                end: 3,
                id: 0,
            }]],
            &texts,
        )
        .unwrap();
        let mut calls = 0;
        assert!(!out.write_pieces(&texts[..], 4, |_| {
            calls += 1;
            calls < 2
        }));
        assert_eq!(calls, 2);
    }

    #[test]
    fn no_splice_is_no_output() {
        assert!(output("abc", vec![vec![], vec![]], &[]).is_none());
    }

    /// The in-place merge is the stable sort of both lists together (the
    /// naive oracle; nothing is sorted when there is nothing to add),
    /// sorted or not, with ties, on lists of every small length.
    #[test]
    fn appending_sorted_is_a_stable_sort_of_both() {
        let mut rng = crate::test_rng::XorShift(0x9e37_79b9_7f4a_7c15);
        let mut next = move |n: u64| rng.below(n) as usize;
        let mut list = |len: usize, from: u32, sorted: bool| {
            let mut v: Vec<Splice> = (0..len)
                .map(|i| {
                    let start = next(12);
                    Splice {
                        start,
                        end: start + 1,
                        id: from + i as u32,
                    }
                })
                .collect();
            if sorted {
                v.sort_by_key(|s| s.start);
            }
            v
        };
        for round in 0..2000 {
            let sorted = round % 5 != 0;
            let mut a = list(round % 9, 0, sorted);
            let mut b = list(round / 9 % 9, 100, true);
            let mut want = a.clone();
            if !b.is_empty() {
                want.extend_from_slice(&b);
                want.sort_by_key(|s| s.start);
            }
            append_sorted(&mut a, &mut b);
            assert_eq!(a, want, "round {round}");
            assert!(b.is_empty());
        }
    }
}
