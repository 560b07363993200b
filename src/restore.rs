//! Restoring: replaces the tokens an exchange issued with their originals.
//!
//! Unknown tokens (not issued by this exchange) pass through untouched. The
//! longest issued token at a position wins (tokens only grow longer on a
//! hash collision).
//!
//! ```
//! use aws_masker::restore::{restore_json, Restorer};
//! use aws_masker::token::{TokenKey, TokenMap};
//!
//! let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
//! let mut map = TokenMap::new("AWS_".to_string());
//! let t = map.issue(&key, "EC2", "i-0123456789abcdef0").to_string();
//! let r = Restorer::new(&map);
//! assert_eq!(r.restore_text(&format!("stop {t} now")), "stop i-0123456789abcdef0 now");
//! // A stream must hold back a tail that more input could turn into a token.
//! assert_eq!(r.holdback_len(&format!("stop {}", &t[..6])), 6);
//! let body = format!(r#"{{"text": "{t}", "n": 1.50}}"#);
//! let (out, n) = restore_json(&map, body.as_bytes(), false);
//! assert_eq!(n, 1);
//! assert_eq!(out.unwrap(), br#"{"text": "i-0123456789abcdef0", "n": 1.50}"#);
//! ```

use crate::json::{escape_into, splice_strings_output, Splice, StrCtx, WalkOptions};
use crate::splice::{Output, Pieces};
use crate::token::TokenMap;
use std::borrow::Cow;

/// How an original is written where its token stood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As is: plain text, or text already decoded from a JSON string.
    Raw,
    /// JSON-escaped (without quotes): the token sat inside a JSON string
    /// literal that is not decoded, e.g. a `partial_json` fragment.
    Json,
}

/// One piece of restored output, as produced by [`Restorer::scan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'m> {
    /// Input bytes `start..end`, copied as they are.
    Verbatim(usize, usize),
    /// The original of the token that stood at input bytes `start..end`,
    /// with its index in the token map.
    Original(usize, usize, u32, &'m str),
}

/// Restores tokens of one exchange's [`TokenMap`].
#[derive(Debug, Clone, Copy)]
pub struct Restorer<'m> {
    map: &'m TokenMap,
    /// Length in bytes of the longest issued token.
    max_len: usize,
    /// The prefix is non-empty printable ASCII with no character JSON
    /// escapes specially, so a quick byte scan of raw JSON can rule
    /// tokens out (see [`Restorer::json_may_need`]).
    plain_prefix: bool,
}

/// Length of the longest token in `map`.
pub(crate) fn max_token_len(map: &TokenMap) -> usize {
    map.sizes().map(|(t, _)| t).max().unwrap_or(0)
}

/// The largest factor by which restoring can grow a text, as a fraction
/// `(num, den)`: the longest original (counted as JSON-escaped, the longer
/// of the two ways it is written back) over its token's length, for the
/// token that grows the most. `(1, 1)` for an empty map.
pub fn max_growth(map: &TokenMap) -> (usize, usize) {
    let escaped_len = |s: &str| -> usize {
        s.bytes()
            .map(|b| match b {
                b'"' | b'\\' => 2,
                0..=0x1f => 6,
                _ => 1,
            })
            .sum()
    };
    map.sizes()
        .map(|(t, o)| (escaped_len(o), t.max(1)))
        .fold((1, 1), |(a, b), (c, d)| {
            if c.saturating_mul(b) > a.saturating_mul(d) {
                (c, d)
            } else {
                (a, b)
            }
        })
}

/// `bytes` grown by `growth` (a [`max_growth`] fraction): the most a
/// restore of that many bytes can write; `usize::MAX` on overflow.
pub fn grown_size(bytes: usize, (num, den): (usize, usize)) -> usize {
    bytes
        .checked_mul(num)
        .map_or(usize::MAX, |w| w / den.max(1))
}

impl<'m> Restorer<'m> {
    /// A restorer for the tokens in `map`.
    pub fn new(map: &'m TokenMap) -> Restorer<'m> {
        Restorer::with_max_len(map, max_token_len(map))
    }

    /// A restorer when the longest token length is already known (it must
    /// be [`max_token_len`] of `map`).
    pub(crate) fn with_max_len(map: &'m TokenMap, max_len: usize) -> Restorer<'m> {
        let prefix = map.prefix().as_bytes();
        let plain_prefix = !prefix.is_empty()
            && prefix
                .iter()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b'/'));
        Restorer {
            map,
            max_len,
            plain_prefix,
        }
    }

    /// The token map behind this restorer.
    pub fn map(&self) -> &'m TokenMap {
        self.map
    }

    /// `text` with every issued token replaced by its original.
    pub fn restore_text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if !self.may_contain_token(text.as_bytes()) {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len() + 32);
        if self.restore_into(text, Escape::Raw, &mut out) == 0 {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(out)
        }
    }

    /// Appends `text` to `out` with issued tokens replaced (escaped as
    /// `escape` says); returns how many tokens were replaced.
    pub fn restore_into(&self, text: &str, escape: Escape, out: &mut String) -> usize {
        self.restore_str_into(text, escape, false, out).0
    }

    /// Like [`restore_into`](Self::restore_into), but when `hold` is set,
    /// stops at the first position whose rest of `text` could still grow
    /// into an issued token (a proper prefix of one). Returns the number of
    /// tokens replaced and where the held-back tail starts (`text.len()`
    /// when nothing is held). `out` receives the restored text before it.
    pub(crate) fn restore_str_into(
        &self,
        text: &str,
        escape: Escape,
        hold: bool,
        out: &mut String,
    ) -> (usize, usize) {
        self.scan(text.as_bytes(), hold, |piece| match piece {
            Piece::Verbatim(a, b) => match text.get(a..b) {
                Some(s) => out.push_str(s),
                // Unreachable: pieces end on token boundaries, which are
                // char boundaries of valid UTF-8.
                None => out.push_str(&String::from_utf8_lossy(
                    text.as_bytes().get(a..b).unwrap_or_default(),
                )),
            },
            Piece::Original(_, _, _, o) => push_original(o, escape, out),
        })
    }

    /// Byte-level [`restore_str_into`](Self::restore_str_into) for text
    /// that need not be UTF-8.
    pub(crate) fn restore_bytes_into(
        &self,
        text: &[u8],
        escape: Escape,
        hold: bool,
        out: &mut Vec<u8>,
    ) -> (usize, usize) {
        let mut esc = String::new();
        self.scan(text, hold, |piece| match piece {
            Piece::Verbatim(a, b) => out.extend_from_slice(text.get(a..b).unwrap_or_default()),
            Piece::Original(_, _, _, o) => match escape {
                Escape::Raw => out.extend_from_slice(o.as_bytes()),
                Escape::Json => {
                    esc.clear();
                    escape_into(o, &mut esc);
                    out.extend_from_slice(esc.as_bytes());
                }
            },
        })
    }

    /// Length of the tail of `text` that must be held back in a stream
    /// because more input could still complete it into an issued token.
    ///
    /// This is the longest tail that is a proper prefix of an issued token,
    /// a complete token included when a longer issued token starts with it.
    pub fn holdback_len(&self, text: &str) -> usize {
        let bytes = text.as_bytes();
        if self.map.is_empty() {
            return 0;
        }
        let n = bytes.len();
        // A proper prefix is shorter than the longest token.
        let start = n.saturating_sub(self.max_len.saturating_sub(1));
        let mut from = start;
        while from < n {
            let Some(p) = self.next_candidate(bytes, from) else {
                return 0;
            };
            if self.is_partial(bytes.get(p..).unwrap_or_default()) {
                return n - p;
            }
            from = p + 1;
        }
        0
    }

    /// The core scan: walks `text` left to right, replacing the longest
    /// issued token at each position, and reports the output as pieces.
    /// With `hold`, stops at the first position (not inside a replaced
    /// token) where the rest of `text` is a proper prefix of an issued
    /// token. Returns (tokens replaced, end of the output / start of the
    /// held tail).
    pub(crate) fn scan<F>(&self, text: &[u8], hold: bool, mut emit: F) -> (usize, usize)
    where
        F: FnMut(Piece<'m>),
    {
        let n = text.len();
        if self.map.is_empty() {
            if n > 0 {
                emit(Piece::Verbatim(0, n));
            }
            return (0, n);
        }
        let prefix = self.map.prefix().as_bytes();
        let mut last = 0;
        let mut from = 0;
        let mut count = 0;
        while from < n {
            let Some(p) = self.next_candidate(text, from) else {
                break;
            };
            let rest = text.get(p..).unwrap_or_default();
            if hold && rest.len() < self.max_len && self.is_partial(rest) {
                if p > last {
                    emit(Piece::Verbatim(last, p));
                }
                return (count, p);
            }
            if rest.starts_with(prefix) {
                if let Some((len, i)) = self.longest_at_bytes(rest) {
                    if p > last {
                        emit(Piece::Verbatim(last, p));
                    }
                    emit(Piece::Original(
                        p,
                        p + len,
                        i,
                        self.map.original_by_index(i),
                    ));
                    count += 1;
                    last = p + len;
                    from = last;
                    continue;
                }
            }
            from = p + 1;
        }
        if n > last {
            emit(Piece::Verbatim(last, n));
        }
        (count, n)
    }

    /// The next position at or after `from` where a token could start.
    fn next_candidate(&self, text: &[u8], from: usize) -> Option<usize> {
        match self.map.prefix().as_bytes().first() {
            Some(&b) => memchr::memchr(b, text.get(from..)?).map(|i| from + i),
            None => (from < text.len()).then_some(from),
        }
    }

    /// Whether `rest` (a tail of the text) is a proper prefix of an issued
    /// token.
    fn is_partial(&self, rest: &[u8]) -> bool {
        let prefix = self.map.prefix().as_bytes();
        if rest.is_empty() || rest.len() >= self.max_len {
            return false;
        }
        let shaped = if rest.len() < prefix.len() {
            prefix.starts_with(rest)
        } else {
            rest.starts_with(prefix)
        };
        if !shaped {
            return false;
        }
        match std::str::from_utf8(rest) {
            Ok(s) => self.map.is_proper_prefix(s),
            // Cut inside a multi-byte character of the prefix itself.
            Err(_) => rest.len() < prefix.len(),
        }
    }

    /// The longest issued token at the start of `rest`, and its entry.
    fn longest_at_bytes(&self, rest: &[u8]) -> Option<(usize, u32)> {
        let window = rest.get(..self.max_len).unwrap_or(rest);
        let s = match std::str::from_utf8(window) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(window.get(..e.valid_up_to())?).ok()?,
        };
        self.map.longest_index_at(s)
    }

    /// Pushes one splice (token → original) per issued token in `s`;
    /// returns how many.
    pub(crate) fn restore_splices(&self, s: &str, out: &mut Vec<Splice>) -> usize {
        self.restore_splices_in(s.as_bytes(), out)
    }

    /// [`restore_splices`](Self::restore_splices) for text that need not be
    /// UTF-8 (a whole JSON body).
    fn restore_splices_in(&self, s: &[u8], out: &mut Vec<Splice>) -> usize {
        if !self.may_contain_token(s) {
            return 0;
        }
        let (n, _) = self.scan(s, false, |piece| {
            if let Piece::Original(start, end, id, _) = piece {
                out.push(Splice { start, end, id });
            }
        });
        n
    }

    /// `s` restored (`None`: no token in it), adding the count to `count`.
    pub(crate) fn restore_str(&self, s: &str, count: &mut usize) -> Option<String> {
        if !self.may_contain_token(s.as_bytes()) {
            return None;
        }
        let mut out = String::with_capacity(s.len() + 32);
        let n = self.restore_into(s, Escape::Raw, &mut out);
        *count += n;
        (n > 0).then_some(out)
    }

    /// Whether `text` contains the token prefix at all (cheap pre-check).
    pub(crate) fn may_contain_token(&self, text: &[u8]) -> bool {
        if self.map.is_empty() {
            return false;
        }
        let prefix = self.map.prefix().as_bytes();
        prefix.is_empty() || memchr::memmem::find(text, prefix).is_some()
    }

    /// Whether restoring JSON `body` byte by byte (originals
    /// JSON-escaped) gives what restoring its literals does, so the walk
    /// can be skipped: a JSON answer is then restored at the speed of a
    /// search for the prefix (the walk stopped at every escape of the
    /// code an answer quotes, several times the cost of the rest).
    ///
    /// It does when (checked on the raw bytes, conservatively):
    /// - no literal is left alone: no literal `thinking`,
    ///   `redacted_thinking`, `base64` or `url` (a raw quote right after
    ///   `thinking`, `base64` or `"url`), so no block types whose thinking
    ///   text, signature, data or fetched URL the walk skips;
    /// - a literal's raw bytes hold the tokens its decoded text does: no
    ///   `\u00XX` escape of an ASCII byte (see [`Self::json_may_need`]),
    ///   and a prefix of letters, digits and `_` not starting with an
    ///   escape letter (`\nAWS_`: the `n` is no token's);
    /// - no token stands outside a literal: every token holds a `_`,
    ///   which valid JSON has only inside strings. Invalid JSON is
    ///   restored byte by byte by the walk's fallback too.
    pub(crate) fn json_restores_as_bytes(&self, body: &[u8]) -> bool {
        let plain = self.tokens_are_word_bytes();
        // A literal whose decoded text is `thinking`, `base64` or `url`
        // (with no `\u` escape) ends its raw bytes before a quote; a text
        // merely mentioning them (`import base64`) does not stop this.
        let marks_skipped = |q: usize| {
            let before = body.get(..q).unwrap_or_default();
            before.ends_with(b"thinking")
                || before.ends_with(b"base64")
                || before.ends_with(b"\"url")
        };
        plain && !has_ascii_escape(body) && !memchr::memchr_iter(b'"', body).any(marks_skipped)
    }

    /// Whether every token is letters, digits and `_`, and none starts
    /// with an escape letter (`\nAWS_`: the `n` is no token's): then a
    /// JSON literal's raw bytes hold the tokens its decoded text does,
    /// unless a `\u00XX` escape spells an ASCII character.
    pub(crate) fn tokens_are_word_bytes(&self) -> bool {
        let prefix = self.map.prefix().as_bytes();
        !prefix.is_empty()
            && prefix
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
            && !matches!(
                prefix.first(),
                Some(b'b' | b'f' | b'n' | b'r' | b't' | b'u')
            )
    }

    /// Whether tokens are found in a JSON literal's raw text as in its
    /// decoded one: unless a `\u` escape spells a letter of one, or the
    /// prefix starts with an escape letter (`\nAWS_` must not hide `n…`
    /// tokens).
    fn raw_safe(&self) -> bool {
        self.plain_prefix
            && !matches!(
                self.map.prefix().as_bytes().first(),
                Some(b'b' | b'f' | b'n' | b'r' | b't' | b'u')
            )
    }

    /// Whether raw JSON `data` might hold an issued token, or the start of
    /// one at the end of a string literal, in one of its decoded strings.
    /// `false` is a proof that restoring (even with hold-back) changes
    /// nothing; `true` may be a false alarm.
    pub(crate) fn json_may_need(&self, data: &[u8]) -> bool {
        if self.map.is_empty() {
            return false;
        }
        if !self.plain_prefix {
            return true;
        }
        // A `\u00XX` escape could spell an ASCII prefix character.
        if has_ascii_escape(data) {
            return true;
        }
        let prefix = self.map.prefix().as_bytes();
        let (first, tail) = match prefix.split_first() {
            Some(x) => x,
            None => return true,
        };
        'hits: for p in memchr::memchr_iter(*first, data) {
            for (k, want) in tail.iter().enumerate() {
                match data.get(p + 1 + k) {
                    Some(b) if b == want => {}
                    // End of a string (a prefix start to hold back), an
                    // escape, or the end of data: could be a token.
                    None | Some(b'"' | b'\\') => return true,
                    Some(_) => continue 'hits,
                }
            }
            return true;
        }
        false
    }
}

/// Whether raw JSON `data` holds a `\u00XX` escape of an ASCII byte
/// (maybe falsely: `\\u0041` is an escaped backslash). One substring
/// search: code and AWS output hold an escape every few dozen bytes, and
/// visiting each cost 3.6 instructions a byte. The searcher is built once
/// (building it per SSE event cost more than the event).
fn has_ascii_escape(data: &[u8]) -> bool {
    // A small SSE event: visiting its few backslashes costs less than
    // setting up the substring search.
    if data.len() < 512 {
        return memchr::memchr_iter(b'\\', data).any(|p| {
            data.get(p + 1..p + 4) == Some(b"u00".as_slice())
                && matches!(data.get(p + 4), Some(b'0'..=b'7'))
        });
    }
    static ASCII_ESCAPE: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    ASCII_ESCAPE
        .get_or_init(|| memchr::memmem::Finder::new(b"\\u00"))
        .find_iter(data)
        .any(|p| matches!(data.get(p + 4), Some(b'0'..=b'7')))
}

/// [`restore_bytes`] of a JSON body, originals JSON-escaped, written at
/// its exact size from one splice per token: the restored answer is
/// allocated once, never grown by doubling past the answer (a large answer
/// would otherwise hold its input and a half-empty output twice its size
/// at once, in a VM whose memory never shrinks).
fn restore_json_as_bytes(r: &Restorer<'_>, body: &[u8]) -> (Option<Vec<u8>>, usize) {
    let mut splices = Vec::new();
    let n = r.restore_splices_in(body, &mut splices);
    if n == 0 {
        return (None, 0);
    }
    let texts = r.map.original_texts();
    let out =
        crate::splice::Output::new(body, vec![splices], true, &texts).map(|o| o.to_vec(&texts));
    (out, n)
}

fn push_original(o: &str, escape: Escape, out: &mut String) {
    match escape {
        Escape::Raw => out.push_str(o),
        Escape::Json => escape_into(o, out),
    }
}

/// `bytes` (any bytes, not necessarily UTF-8) with every issued token
/// replaced by its original, escaped as `escape` says; `None` when nothing
/// was replaced. Tokens are ASCII, so this works on any encoding that
/// keeps ASCII as is.
pub fn restore_bytes(map: &TokenMap, bytes: &[u8], escape: Escape) -> Option<Vec<u8>> {
    restore_bytes_counted(&Restorer::new(map), bytes, escape).0
}

fn restore_bytes_counted(
    r: &Restorer<'_>,
    bytes: &[u8],
    escape: Escape,
) -> (Option<Vec<u8>>, usize) {
    if !r.may_contain_token(bytes) {
        return (None, 0);
    }
    let mut out = Vec::with_capacity(bytes.len() + 32);
    let (n, _) = r.restore_bytes_into(bytes, escape, false, &mut out);
    if n == 0 {
        (None, 0)
    } else {
        (Some(out), n)
    }
}

/// Restores tokens inside the string literals (keys included) of a JSON
/// response body, leaving every other byte as it is; `thinking` text of
/// thinking blocks stays untouched unless `restore_thinking`, and
/// signatures, base64 and redacted data always do. A body that is not
/// valid JSON is restored byte by byte, with originals JSON-escaped.
///
/// Returns the new body (`None` when nothing changed) and how many tokens
/// were restored.
pub fn restore_json(
    map: &TokenMap,
    body: &[u8],
    restore_thinking: bool,
) -> (Option<Vec<u8>>, usize) {
    restore_json_pieces(map, body, restore_thinking).map_or((None, 0), RestoredJson::into_vec)
}

/// Bytes each piece of [`json_plan_in_pieces`] shares with the one
/// before it: more than any lookahead or look-back of its checks (a
/// `\u00XX` escape, `"url`, `thinking`, a token prefix and the byte after).
const CHECK_OVERLAP: usize = 64;

/// How a JSON answer is to be restored, as [`json_plan_in_pieces`] finds
/// it without holding the answer whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonPlan {
    /// No token can be in it: it stays as it is.
    Nothing,
    /// Byte by byte, so a piece at a time (as a stream, see
    /// [`crate::stream::TextStreamRestorer`] with [`Escape::Json`]).
    Bytes,
    /// Whole ([`restore_json_pieces`]): it must be walked literal by
    /// literal.
    Whole,
}

/// [`Restorer::json_may_need`] and [`Restorer::json_restores_as_bytes`] of
/// a JSON answer of `size` bytes that the caller reads through
/// `read(start, len)` a piece of `piece` bytes at a time (overlapping a
/// little), so that it is never held whole: how to restore it; `None`
/// when a read failed.
pub fn json_plan_in_pieces(
    map: &TokenMap,
    size: usize,
    piece: usize,
    mut read: impl FnMut(usize, usize) -> Option<Vec<u8>>,
) -> Option<JsonPlan> {
    let r = Restorer::new(map);
    let piece = piece.max(CHECK_OVERLAP + 1);
    let (mut may_need, mut start) = (false, 0);
    while start < size {
        let from = start.saturating_sub(CHECK_OVERLAP);
        let data = read(from, (start + piece).min(size) - from)?;
        if data.is_empty() {
            return None;
        }
        if !r.json_restores_as_bytes(&data) {
            return Some(JsonPlan::Whole);
        }
        may_need = may_need || r.json_may_need(&data);
        start = from + data.len();
    }
    Some(if may_need {
        JsonPlan::Bytes
    } else {
        JsonPlan::Nothing
    })
}

/// A JSON answer being restored, to be written a piece at a time
/// ([`RestoredJson::write_pieces`]): a host takes it so, and the VM never
/// holds the restored answer whole beside the answer. Where the answer can
/// be restored byte by byte (the usual case, see
/// [`Restorer::json_restores_as_bytes`]) nothing is kept at all, not even
/// a splice per token: the answer is scanned again as it is written.
#[derive(Debug)]
pub struct RestoredJson<'b, 'm> {
    r: Restorer<'m>,
    body: &'b [u8],
    /// The walk's splices, for an answer restored literal by literal, and
    /// how many tokens they restore; `None`: byte by byte.
    walked: Option<(Output<'b>, usize)>,
}

/// `body` (a JSON answer) with every issued token restored, to be written
/// in pieces; `None` when no token of `map` is in it. As [`restore_json`]
/// does it.
pub fn restore_json_pieces<'b, 'm>(
    map: &'m TokenMap,
    body: &'b [u8],
    restore_thinking: bool,
) -> Option<RestoredJson<'b, 'm>> {
    let r = Restorer::new(map);
    if !r.json_may_need(body) {
        return None;
    }
    let by_bytes = RestoredJson {
        r,
        body,
        walked: None,
    };
    if r.json_restores_as_bytes(body) {
        return Some(by_bytes);
    }
    match restore_json_output(&r, body, restore_thinking) {
        Ok(Some(walked)) => Some(RestoredJson {
            walked: Some(walked),
            ..by_bytes
        }),
        Ok(None) => None,
        // Not JSON: byte by byte, originals JSON-escaped.
        Err(_) => Some(by_bytes),
    }
}

impl RestoredJson<'_, '_> {
    /// The restored answer's length in bytes (byte by byte: one scan of
    /// the answer, writing nothing).
    pub fn len(&self) -> usize {
        if let Some((out, _)) = &self.walked {
            return out.len();
        }
        let mut len = 0usize;
        let mut esc = String::new();
        self.r.scan(self.body, false, |piece| {
            len += match piece {
                Piece::Verbatim(a, b) => b - a,
                Piece::Original(_, _, _, o) => {
                    esc.clear();
                    escape_into(o, &mut esc);
                    esc.len()
                }
            };
        });
        len
    }

    /// The restored answer whole, at its exact size, and how many tokens
    /// it restores; `None` when no token was in it after all.
    pub fn into_vec(self) -> (Option<Vec<u8>>, usize) {
        match self.walked {
            Some((out, n)) => (Some(out.to_vec(&self.r.map.original_texts())), n),
            None => restore_json_as_bytes(&self.r, self.body),
        }
    }

    /// Whether the answer restores to nothing at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// At most how long the restored answer is, without scanning it.
    pub fn len_bound(&self) -> usize {
        match &self.walked {
            Some((out, _)) => out.len(),
            None => grown_size(self.body.len(), max_growth(self.r.map)),
        }
    }

    /// Hands the restored answer to `sink` in pieces of at most `max`
    /// bytes, in order. How many tokens were restored; `None` once `sink`
    /// refused a piece (and no more was handed to it).
    pub fn write_pieces(&self, max: usize, mut sink: impl FnMut(&[u8]) -> bool) -> Option<usize> {
        let texts = self.r.map.original_texts();
        if let Some((out, n)) = &self.walked {
            return out.write_pieces(&texts, max, sink).then_some(*n);
        }
        let mut pieces = Pieces::new(max, self.len_bound(), &mut sink);
        let mut esc = String::new();
        let (n, _) = self.r.scan(self.body, false, |p| match p {
            Piece::Verbatim(a, b) => pieces.put(self.body.get(a..b).unwrap_or_default()),
            Piece::Original(_, _, _, o) => {
                esc.clear();
                escape_into(o, &mut esc);
                pieces.put(esc.as_bytes());
            }
        });
        let ok = pieces.finish();
        ok.then_some(n)
    }
}

/// [`restore_json_strings`], answering the walk's [`Output`] and how many
/// tokens it restores.
fn restore_json_output<'b>(
    r: &Restorer<'_>,
    body: &'b [u8],
    restore_thinking: bool,
) -> Result<Option<(Output<'b>, usize)>, crate::json::JsonError> {
    let mut count = 0;
    let opts = WalkOptions {
        skip_thinking: !restore_thinking,
    };
    let visit = |_ctx: StrCtx<'_>, s: &str, splices: &mut Vec<Splice>| {
        count += r.restore_splices(s, splices);
    };
    let out = splice_strings_output(body, opts, visit, &r.map.original_texts(), r.raw_safe())?;
    Ok(out.map(|o| (o, count)))
}

/// [`restore_json`] without the fallback: an error when `body` is not JSON.
pub(crate) fn restore_json_strings(
    r: &Restorer<'_>,
    body: &[u8],
    restore_thinking: bool,
) -> Result<(Option<Vec<u8>>, usize), crate::json::JsonError> {
    let texts = r.map.original_texts();
    Ok(match restore_json_output(r, body, restore_thinking)? {
        Some((out, n)) => (Some(out.to_vec(&texts)), n),
        None => (None, 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::splice_strings;
    use crate::token::TokenKey;

    fn key() -> TokenKey {
        TokenKey::new(b"restore test secret, 32 bytes...")
    }

    /// Restoring a JSON response touches only the tokens: the rest of each
    /// literal keeps the upstream's bytes, escapes included.
    #[test]
    fn json_restore_keeps_escapes_around_tokens() {
        let mut m = TokenMap::new("AWS_".into());
        let t = m.issue(&key(), "SECRET_KEY", "a\"b/c").to_string();
        let body = format!(r#"{{"text":"caf\u00e9 {t} \/x\n","n":1.50}}"#);
        let (out, n) = restore_json(&m, body.as_bytes(), false);
        assert_eq!(n, 1);
        assert_eq!(
            String::from_utf8(out.unwrap()).unwrap(),
            r#"{"text":"caf\u00e9 a\"b/c \/x\n","n":1.50}"#
        );
    }

    fn map_with(values: &[(&str, &str)]) -> (TokenMap, Vec<String>) {
        let mut m = TokenMap::new("AWS_".into());
        let tokens = values
            .iter()
            .map(|(kind, v)| m.issue(&key(), kind, v).to_string())
            .collect();
        (m, tokens)
    }

    #[test]
    fn restore_text_replaces_tokens_and_borrows_otherwise() {
        let (m, t) = map_with(&[("EC2", "i-0123456789abcdef0"), ("IP", "10.0.0.1")]);
        let r = Restorer::new(&m);
        let text = format!("{} and {}, {}{}", t[0], t[1], t[1], t[0]);
        assert_eq!(
            r.restore_text(&text),
            "i-0123456789abcdef0 and 10.0.0.1, 10.0.0.1i-0123456789abcdef0"
        );
        assert!(matches!(r.restore_text("no tokens here"), Cow::Borrowed(_)));
        assert!(matches!(
            r.restore_text("AWS_ but AWS_EC2_00000000"),
            Cow::Borrowed(_)
        ));
        // Unknown tokens and cut tokens pass through.
        let cut = &t[0][..t[0].len() - 1];
        let text = format!("AWS_EC2_deadbeef {cut} x");
        assert_eq!(r.restore_text(&text), text);
    }

    #[test]
    fn restore_into_escapes_and_counts() {
        let (m, t) = map_with(&[("NAME", "a\"b\\c\nd")]);
        let r = Restorer::new(&m);
        let mut out = String::new();
        let n = r.restore_into(&format!("[{}|{}]", t[0], t[0]), Escape::Json, &mut out);
        assert_eq!(n, 2);
        assert_eq!(out, r#"[a\"b\\c\nd|a\"b\\c\nd]"#);
        out.clear();
        assert_eq!(r.restore_into(&t[0], Escape::Raw, &mut out), 1);
        assert_eq!(out, "a\"b\\c\nd");
    }

    /// A map where one token is a proper prefix of another (as after a
    /// hash collision): the kind of the second spells the first's hash.
    pub(crate) fn nested_map() -> (TokenMap, String, String) {
        let mut m = TokenMap::new("AWS_".into());
        let short = m.issue(&key(), "X", "short").to_string();
        let hash = short.trim_start_matches("AWS_X_").to_string();
        let long = m.issue(&key(), &format!("X_{hash}"), "long").to_string();
        assert!(long.starts_with(&short) && long.len() > short.len());
        (m, short, long)
    }

    #[test]
    fn longest_token_wins_on_collision() {
        let (m, short, long) = nested_map();
        let r = Restorer::new(&m);
        assert_eq!(r.restore_text(&format!("<{long}>")), "<long>");
        assert_eq!(r.restore_text(&format!("<{short}>")), "<short>");
        // A complete short token at the end may still become the long one.
        assert_eq!(r.holdback_len(&format!("x {short}")), short.len());
        assert_eq!(r.holdback_len(&format!("x {short}_")), short.len() + 1);
        assert_eq!(r.holdback_len(&format!("x {long}")), 0);
        let mut out = String::new();
        let (n, from) = r.restore_str_into(&format!("x {short}"), Escape::Raw, true, &mut out);
        assert_eq!((n, from, out.as_str()), (0, 2, "x "));
    }

    #[test]
    fn holdback_covers_every_proper_prefix() {
        let (m, t) = map_with(&[("EC2", "i-0123456789abcdef0")]);
        let r = Restorer::new(&m);
        let tok = &t[0];
        for cut in 1..tok.len() {
            let text = format!("before {}", &tok[..cut]);
            assert_eq!(r.holdback_len(&text), cut, "{text}");
        }
        assert_eq!(r.holdback_len(&format!("before {tok}")), 0);
        assert_eq!(r.holdback_len("before AWS_X"), 0);
        assert_eq!(r.holdback_len("ABC"), 0);
        assert_eq!(r.holdback_len(""), 0);
        assert_eq!(r.holdback_len("é A"), 1);
        let empty = TokenMap::new("AWS_".into());
        assert_eq!(Restorer::new(&empty).holdback_len("AWS"), 0);
    }

    #[test]
    fn held_scan_stops_at_partial_tail() {
        let (m, t) = map_with(&[("EC2", "i-0123456789abcdef0")]);
        let r = Restorer::new(&m);
        let text = format!("{} then {}", t[0], &t[0][..5]);
        let mut out = String::new();
        let (n, from) = r.restore_str_into(&text, Escape::Raw, true, &mut out);
        assert_eq!(n, 1);
        assert_eq!(out, "i-0123456789abcdef0 then ");
        assert_eq!(&text[from..], &t[0][..5]);
    }

    #[test]
    fn restore_json_walks_strings_and_keeps_protected_fields() {
        let (m, t) = map_with(&[("EC2", "i-0123456789abcdef0"), ("Q", "say \"hi\"")]);
        let tok = &t[0];
        let q = &t[1];
        let body = format!(
            r#"{{"content":[{{"type":"thinking","thinking":"{tok}","signature":"{tok}"}},{{"type":"text","text":"{tok} {q}"}},{{"type":"redacted_thinking","data":"{tok}"}}], "{tok}": 1.0e0 }}"#
        );
        let (out, n) = restore_json(&m, body.as_bytes(), false);
        let out = String::from_utf8(out.unwrap()).unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            out,
            format!(
                r#"{{"content":[{{"type":"thinking","thinking":"{tok}","signature":"{tok}"}},{{"type":"text","text":"i-0123456789abcdef0 say \"hi\""}},{{"type":"redacted_thinking","data":"{tok}"}}], "i-0123456789abcdef0": 1.0e0 }}"#
            )
        );
        let (out, n) = restore_json(&m, body.as_bytes(), true);
        assert_eq!(n, 4);
        assert!(String::from_utf8(out.unwrap())
            .unwrap()
            .contains(r#""thinking":"i-0123456789abcdef0","signature":"AWS_"#));
        // Nothing to do: None, and no count.
        assert_eq!(
            restore_json(&m, br#"{"a":"AWS_EC2_deadbeef"}"#, false),
            (None, 0)
        );
    }

    #[test]
    fn restore_json_falls_back_on_invalid_json() {
        let (m, t) = map_with(&[("Q", "a\"b")]);
        let body = format!(r#"{{"text": "{}" "#, t[0]);
        let (out, n) = restore_json(&m, body.as_bytes(), false);
        assert_eq!(n, 1);
        assert_eq!(out.unwrap(), br#"{"text": "a\"b" "#);
        let mut bytes = b"\xff\xfe ".to_vec();
        bytes.extend_from_slice(t[0].as_bytes());
        bytes.push(0x80);
        let out = restore_bytes(&m, &bytes, Escape::Raw).unwrap();
        assert_eq!(out, b"\xff\xfe a\"b\x80");
        assert_eq!(restore_bytes(&m, b"\xff AWS_", Escape::Raw), None);
    }

    #[test]
    fn json_precheck_is_conservative() {
        let (m, t) = map_with(&[("EC2", "i-0123456789abcdef0")]);
        let r = Restorer::new(&m);
        assert!(!r.json_may_need(br#"{"text":"Amazon AWS rocks, \u00e9"}"#));
        assert!(r.json_may_need(br#"{"text":"ends with A"}"#));
        assert!(r.json_may_need(br#"{"text":"ends with AWS"}"#));
        assert!(r.json_may_need(br#"{"text":"\u0041WS_"}"#));
        assert!(r.json_may_need(br#"{"text":"AW\u0053_"}"#));
        assert!(r.json_may_need(format!(r#"{{"t":"{}"}}"#, t[0]).as_bytes()));
        assert!(r.json_may_need(b"AW"));
    }

    /// The restore of decoded literals (the walk before literals were
    /// restored raw): the oracle of the raw one.
    fn restore_json_decoded(r: &Restorer<'_>, body: &[u8]) -> Option<(Option<Vec<u8>>, usize)> {
        let mut count = 0;
        let out = splice_strings(
            body,
            WalkOptions::default(),
            |_ctx, s, splices| count += r.restore_splices(s, splices),
            &r.map.original_texts(),
        )
        .ok()?;
        Some((out, count))
    }

    proptest::proptest! {
        /// Restoring literals raw gives what restoring them decoded gives,
        /// whatever escapes sit around, before, after and inside tokens.
        #[test]
        fn raw_literals_restore_as_decoded_ones(
            pieces in proptest::collection::vec(0usize..16, 0..40),
            prefix in proptest::sample::select(vec!["AWS_", "nAWS_", "tok_"]),
        ) {
            let mut m = TokenMap::new(prefix.to_string());
            let t1 = m.issue(&key(), "EC2", "i-0123456789abcdef0").to_string();
            let t2 = m.issue(&key(), "SECRET_KEY", "a\"b\\c\nd/é").to_string();
            let (a, b) = t1.split_at(5);
            let (b1, b2) = (b.get(..1).unwrap_or(""), b.get(1..).unwrap_or(""));
            let escaped_a: String = a.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
            let table: [String; 16] = [
                t1.clone(), t2.clone(), "\\n".into(), "\\\"".into(), "\\\\".into(),
                "\\t".into(), "\\u00e9".into(), format!("{escaped_a}{b}"),
                format!("{a}\\n{b}"), format!("{a}{b1}\\/{b2}"), "x".into(), " ".into(),
                // After a backslash: an escaped one, or the escape letter
                // `n` of a prefix that starts with one.
                format!("\\\\{t1}"), "n".into(), prefix.to_string(), "é".into(),
            ];
            let mut text: String = pieces.iter().map(|&i| table[i].as_str()).collect();
            if prefix.starts_with('n') {
                text.push('\\');
                text.push_str(&t1);
            }
            let body = format!(r#"{{"content":[{{"type":"text","text":"{text}"}}],"k{text}":1}}"#);
            let r = Restorer::new(&m);
            let want = restore_json_decoded(&r, body.as_bytes());
            let got = restore_json_strings(&r, body.as_bytes(), false).ok();
            proptest::prop_assert!(want.is_some(), "{}", body);
            proptest::prop_assert_eq!(got, want, "{}", body);
        }
    }

    /// `restore_json` as it was before bodies were restored byte by byte:
    /// the walk over decoded literals, byte by byte only for invalid JSON.
    fn restore_json_walked(
        m: &TokenMap,
        body: &[u8],
        restore_thinking: bool,
    ) -> (Option<Vec<u8>>, usize) {
        let r = Restorer::new(m);
        if !r.json_may_need(body) {
            return (None, 0);
        }
        let mut count = 0;
        let walked = splice_strings(
            body,
            WalkOptions {
                skip_thinking: !restore_thinking,
            },
            |_ctx, s, splices| count += r.restore_splices(s, splices),
            &r.map.original_texts(),
        );
        match walked {
            Ok(out) => (out, count),
            Err(_) => restore_bytes_counted(&r, body, Escape::Json),
        }
    }

    proptest::proptest! {
        /// Whole answers, restored byte by byte where that is the same,
        /// give what the walk over decoded literals gives: thinking blocks,
        /// signatures, URLs, keys, numbers, `\u` escapes, invalid JSON.
        #[test]
        fn answers_restore_as_by_the_walk(
            blocks in proptest::collection::vec((0usize..6, proptest::collection::vec(0usize..14, 0..12)), 0..8),
            prefix in proptest::sample::select(vec!["AWS_", "nAWS_", "MASK_", "A1_"]),
            restore_thinking in proptest::bool::ANY,
        ) {
            let mut m = TokenMap::new(prefix.to_string());
            let t1 = m.issue(&key(), "EC2", "i-0123456789abcdef0").to_string();
            let t2 = m.issue(&key(), "SECRET_KEY", "a\"b\\c\nd/é").to_string();
            let (a, b) = t1.split_at(3);
            let escaped_a: String = a.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
            let table: [String; 14] = [
                t1.clone(), t2.clone(), "\\n".into(), "\\\"".into(), "\\\\".into(),
                "\\u00e9".into(), format!("{escaped_a}{b}"), format!("{a}\\n{b}"),
                " thinking ".into(), "url".into(), "x".into(), prefix.to_string(),
                format!("\\\\{t1}"), "é".into(),
            ];
            let text = |pieces: &[usize]| -> String { pieces.iter().map(|&i| table[i].as_str()).collect() };
            let body: Vec<String> = blocks
                .iter()
                .map(|(shape, pieces)| {
                    let t = text(pieces);
                    match shape {
                        0 => format!(r#"{{"type":"text","text":"{t}"}}"#),
                        1 => format!(r#"{{"type":"thinking","thinking":"{t}","signature":"{t}"}}"#),
                        2 => format!(r#"{{"type":"image","source":{{"type":"url","url":"{t}"}}}}"#),
                        3 => format!(r#"{{"{t}":[1,2.5e3,true,null,"{t}"]}}"#),
                        4 => format!(r#"{{"type":"tool_use","input":{{"command":"{t}"}}}}"#),
                        _ => format!(r#"{{"text":"{t}"#),
                    }
                })
                .collect();
            let body = format!(r#"{{"content":[{}],"stop_reason":"end_turn"}}"#, body.join(","));
            let want = restore_json_walked(&m, body.as_bytes(), restore_thinking);
            let got = restore_json(&m, body.as_bytes(), restore_thinking);
            proptest::prop_assert_eq!(got, want, "{}", body);
        }
    }

    /// The escape check of `json_may_need` by substring search finds what
    /// visiting every backslash finds.
    #[test]
    fn ascii_escape_search_agrees_with_visiting_every_backslash() {
        let visit = |data: &[u8]| {
            memchr::memchr_iter(b'\\', data).any(|p| {
                data.get(p + 1..p + 4) == Some(b"u00".as_slice())
                    && matches!(data.get(p + 4), Some(b'0'..=b'7'))
            })
        };
        let (m, _) = map_with(&[("EC2", "i-0123456789abcdef0")]);
        let r = Restorer::new(&m);
        let pieces: [&[u8]; 9] = [b"\\", b"u", b"00", b"0", b"7", b"8", b"e9", b"x ", b"\\n"];
        let mut rng = crate::test_rng::XorShift(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let mut data = b"{\"t\":\"".to_vec();
            for _ in 0..(rng.0 % 9) {
                data.extend_from_slice(pieces[rng.below(9) as usize]);
            }
            // Long data too (the substring search), the escapes at the end.
            if rng.0.is_multiple_of(2) {
                data.splice(6..6, std::iter::repeat_n(b'x', 600));
            }
            data.extend_from_slice(b"\"}");
            // No prefix byte: only the escape check can say yes.
            assert_eq!(
                r.json_may_need(&data),
                visit(&data),
                "{:?}",
                String::from_utf8_lossy(&data)
            );
        }
    }

    /// Restoring a JSON answer in pieces (checked a piece at a time, and
    /// written in pieces) gives exactly what restoring it whole gives (the
    /// oracle), for answers restored byte by byte and walked, whatever the
    /// piece size; and the piecewise check agrees with the whole-body one.
    #[test]
    fn json_in_pieces_is_json_whole() {
        let (map, tokens) = map_with(&[
            ("EC2", "i-0123456789abcdef0"),
            ("IP", "10.0.0.1"),
            ("NAME", "quote\"and\\back"),
        ]);
        let [a, b, c] = [&tokens[0], &tokens[1], &tokens[2]];
        let mut bodies = vec![
            format!(r#"{{"content":[{{"type":"text","text":"{a} and {b}, {c}"}}]}}"#),
            format!(r#"{{"t":"{a}\u0041 escaped", "u": "{b}"}}"#),
            format!(r#"{{"type":"thinking","thinking":"{a}","signature":"x"}} {b}"#),
            format!(r#"not json {a} {c}"#),
            r#"{"nothing": "here"}"#.to_string(),
        ];
        bodies.push(format!(
            r#"{{"long":"{}"}}"#,
            format!("{a} x {b} y ").repeat(400)
        ));
        let r = Restorer::new(&map);
        for body in &bodies {
            let body = body.as_bytes();
            let (whole, n) = restore_json(&map, body, false);
            let pieces = restore_json_pieces(&map, body, false);
            assert_eq!(pieces.is_some(), whole.is_some(), "{body:?}");
            if let Some(p) = pieces {
                let want = whole.clone().unwrap();
                assert_eq!(p.len(), want.len());
                assert!(p.len_bound() >= want.len());
                for max in [1, 7, 64, 1 << 20] {
                    let mut got = Vec::new();
                    let count = p.write_pieces(max, |piece| {
                        assert!(piece.len() <= max);
                        got.extend_from_slice(piece);
                        true
                    });
                    assert_eq!(count, Some(n));
                    assert_eq!(got, want, "pieces of {max}");
                }
            }
            let want = match (r.json_restores_as_bytes(body), r.json_may_need(body)) {
                (false, _) => JsonPlan::Whole,
                (true, true) => JsonPlan::Bytes,
                (true, false) => JsonPlan::Nothing,
            };
            for piece in [65, 100, 1000, 1 << 20] {
                let read = |at: usize, len: usize| body.get(at..at + len).map(<[u8]>::to_vec);
                assert_eq!(
                    json_plan_in_pieces(&map, body.len(), piece, read),
                    Some(want),
                    "{piece}: {:?}",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }
}
