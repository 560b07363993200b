//! A strict JSON walker that rewrites string literals in place.
//!
//! It visits every string literal (keys and values), decoded, and lets the
//! caller replace it; every byte outside a replaced literal stays
//! byte-identical (number formatting, key order, white space, the escape
//! style of untouched strings). Invalid JSON is an error with its byte
//! offset, never a panic.
//!
//! Some literals are never visited because they must round-trip intact (see
//! DESIGN.md): `data` of a `base64` source or of a `redacted_thinking`
//! block, `signature` of a `thinking` block, and (unless
//! [`WalkOptions::skip_thinking`] is off) the `thinking` text itself. Which
//! block a field belongs to is decided by the `type` of its object, wherever
//! that `type` stands among the object's members.
//!
//! ```
//! use aws_masker::json::{rewrite_strings, WalkOptions};
//!
//! let input = br#"{"n": 1.50, "s": "caf\u00e9 i-1", "k": ["x\/y"]}"#;
//! let out = rewrite_strings(input, WalkOptions::default(), |_ctx, s| {
//!     s.contains("i-1").then(|| s.replace("i-1", "ID"))
//! })
//! .unwrap()
//! .unwrap();
//! // The changed literal is re-encoded; every other byte is kept as it was.
//! assert_eq!(out, r#"{"n": 1.50, "s": "café ID", "k": ["x\/y"]}"#.as_bytes());
//! ```

use crate::splice::{append_sorted, sort_splices, Output};
pub use crate::splice::{Splice, SpliceTexts};
use std::borrow::Cow;
use std::fmt;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 4096;

/// Why a document is not valid JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
    /// What is wrong.
    pub reason: &'static str,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for JsonError {}

/// Where a string literal sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrCtx<'k> {
    /// The object key this value belongs to: the member name for a member
    /// value, the enclosing member name for array items; `None` at top
    /// level or for keys themselves.
    pub key: Option<&'k str>,
    /// The literal is an object key (member name).
    pub is_key: bool,
    /// The text is the literal's raw content, not decoded: it holds at
    /// least one escape, and every escape is `\n` (two bytes, where the
    /// decoded text has one newline). Offered only by [`walk_strings`],
    /// whose visitor may answer [`Visited::DecodeFirst`].
    pub raw_newlines: bool,
    /// For a member value: the member just before it in the same object,
    /// key and value, when that one is a short string (`{"name": "S3_BUCKET",
    /// "value": "…"}` says by its `name` what its `value` is).
    pub previous: Option<(&'k str, &'k str)>,
}

/// What a visitor of [`walk_strings`] did with a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visited {
    /// Done: its splices (if any) stand.
    Done,
    /// It was offered raw ([`StrCtx::raw_newlines`]) and cannot be handled
    /// so: its splices are dropped and it is visited again, decoded.
    DecodeFirst,
}

/// Walk options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkOptions {
    /// Leave the `thinking` text of `thinking` blocks unvisited (default).
    pub skip_thinking: bool,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            skip_thinking: true,
        }
    }
}

/// Visits every string literal of `input` (decoded) with `f`; where `f`
/// returns a new string, the literal is re-encoded with it.
///
/// Returns `Ok(None)` when nothing changed, so the caller can forward the
/// original bytes.
pub fn rewrite_strings<F>(
    input: &[u8],
    opts: WalkOptions,
    mut f: F,
) -> Result<Option<Vec<u8>>, JsonError>
where
    F: FnMut(StrCtx<'_>, &str) -> Option<String>,
{
    let mut texts: Vec<String> = Vec::new();
    let walked = walk(input, opts, false, Raw::Never, &mut |ctx, s, splices| {
        if let Some(new) = f(ctx, s) {
            if new != s {
                splices.push(Splice {
                    start: 0,
                    end: s.len(),
                    id: u32::try_from(texts.len()).unwrap_or(u32::MAX),
                });
                texts.push(new);
            }
        }
        Visited::Done
    })?;
    Ok(walked.finish(texts.as_slice()))
}

/// Like [`rewrite_strings`], but `f` reports replacements of parts of the
/// decoded string (sorted, not overlapping), whose texts `texts` holds.
/// Each is mapped back onto the raw literal, so the rest of the literal
/// keeps its bytes, escapes included, and an unchanged part is never
/// re-encoded.
pub fn splice_strings<F, T>(
    input: &[u8],
    opts: WalkOptions,
    f: F,
    texts: &T,
) -> Result<Option<Vec<u8>>, JsonError>
where
    F: FnMut(StrCtx<'_>, &str, &mut Vec<Splice>),
    T: SpliceTexts + ?Sized,
{
    Ok(splice_strings_output(input, opts, f, texts, false)?.map(|o| o.to_vec(texts)))
}

/// [`splice_strings`], answering an [`Output`] to write in pieces.
///
/// With `raw_safe`, a value literal whose escapes are all one-letter ones
/// (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`: no `\u`) is offered
/// raw, undecoded, and its splices are raw offsets. Only for a visitor that
/// finds the same in the raw text as in the decoded one: restoring tokens,
/// which are ASCII letters, digits and `_` (never escaped but by `\u`)
/// after a prefix that does not start with an escape letter, so no token
/// starts or ends inside an escape. Decoding a long answer of code (an
/// escape every few dozen bytes) cost half of restoring it.
pub(crate) fn splice_strings_output<'a, F, T>(
    input: &'a [u8],
    opts: WalkOptions,
    mut f: F,
    texts: &T,
    raw_safe: bool,
) -> Result<Option<Output<'a>>, JsonError>
where
    F: FnMut(StrCtx<'_>, &str, &mut Vec<Splice>),
    T: SpliceTexts + ?Sized,
{
    let raw = if raw_safe {
        Raw::SimpleEscapes
    } else {
        Raw::Never
    };
    let mut visit = |ctx: StrCtx<'_>, s: &str, splices: &mut Vec<Splice>| {
        f(ctx, s, splices);
        Visited::Done
    };
    Ok(walk(input, opts, false, raw, &mut visit)?.into_output(texts))
}

/// The splices `f` reports for the literals of `input` (decoded, as for
/// [`splice_strings`]), mapped onto `input`'s raw bytes and sorted: where
/// in the document what `f` found in its literals stands.
pub(crate) fn literal_splices<F>(
    input: &[u8],
    opts: WalkOptions,
    mut f: F,
) -> Result<Vec<Splice>, JsonError>
where
    F: FnMut(StrCtx<'_>, &str, &mut Vec<Splice>),
{
    let mut visit = |ctx: StrCtx<'_>, s: &str, splices: &mut Vec<Splice>| {
        f(ctx, s, splices);
        Visited::Done
    };
    let mut edits = walk(input, opts, false, Raw::Never, &mut visit)?.edits;
    sort_splices(&mut edits);
    Ok(edits)
}

/// Which value literals a walk offers raw, undecoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Raw {
    /// None: every literal is decoded.
    Never,
    /// Those whose escapes are all `\n` ([`StrCtx::raw_newlines`]).
    Newlines,
    /// Those whose escapes are all one-letter escapes, offered as if
    /// decoded ([`splice_strings_output`] with `raw_safe`).
    SimpleEscapes,
}

/// Whether every escape of raw literal content is a valid one-letter
/// escape (no `\u`). `backslashes` holds every escape's offset, maybe
/// with offsets inside an escape (the second `\` of `\\`), passed over.
fn simple_escapes_only(raw: &[u8], backslashes: &[usize]) -> bool {
    let mut next = 0;
    for &at in backslashes {
        if at < next {
            continue;
        }
        match raw.get(at + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => next = at + 2,
            _ => return false,
        }
    }
    true
}

/// Like [`splice_strings`], but keeps every literal so that a second pass
/// ([`Walked::splice_more`]) can add splices once the first pass has seen
/// the whole document, with no second walk and no second decoding.
///
/// With `raw_newlines`, a value literal whose only escapes are `\n` (code
/// and prose: most of a long text) is offered raw, undecoded
/// ([`StrCtx::raw_newlines`]); its splices are then raw offsets. Decoding
/// copies the whole text, and a visitor that can work on the raw text
/// saves that copy; one that cannot answers [`Visited::DecodeFirst`].
pub fn walk_strings<F>(
    input: &[u8],
    opts: WalkOptions,
    raw_newlines: bool,
    mut f: F,
) -> Result<Walked<'_>, JsonError>
where
    F: FnMut(StrCtx<'_>, &str, &mut Vec<Splice>) -> Visited,
{
    let raw = if raw_newlines {
        Raw::Newlines
    } else {
        Raw::Never
    };
    walk(input, opts, true, raw, &mut f)
}

fn walk<'a, F>(
    input: &'a [u8],
    opts: WalkOptions,
    record: bool,
    raw: Raw,
    f: &mut F,
) -> Result<Walked<'a>, JsonError>
where
    F: FnMut(StrCtx<'_>, &str, &mut Vec<Splice>) -> Visited,
{
    let text = crate::utf8::validate(input).map_err(|offset| JsonError {
        offset,
        reason: "invalid UTF-8",
    })?;
    let mut walker = Walker {
        text,
        bytes: input,
        pos: 0,
        opts,
        edits: Vec::new(),
        splices: Vec::new(),
        backslashes: Vec::new(),
        escapes: Escapes::None,
        passed_newlines: false,
        raw,
        record,
        literals: Vec::new(),
    };
    walker.walk(f)?;
    Ok(Walked {
        input,
        edits: walker.edits,
        literals: walker.literals,
    })
}

/// A walked document: its visited literals and the splices found so far.
pub struct Walked<'a> {
    input: &'a [u8],
    edits: Vec<Splice>,
    literals: Vec<Literal<'a>>,
}

impl<'a> Walked<'a> {
    /// A second pass over every visited literal: `g(text, splices so
    /// far, more)` pushes further splices (sorted, not overlapping those
    /// so far) into `more`. `text` is what the first pass was given: raw
    /// where it took the literal raw ([`StrCtx::raw_newlines`]).
    pub fn splice_more<G>(&mut self, mut g: G)
    where
        G: FnMut(&str, &[Splice], &mut Vec<Splice>),
    {
        let mut more = Vec::new();
        for lit in &mut self.literals {
            more.clear();
            g(&lit.lit.text, &lit.splices, &mut more);
            append_sorted(&mut lit.splices, &mut more);
        }
    }

    /// Whether some literal was visited raw ([`StrCtx::raw_newlines`]).
    pub fn has_raw_literals(&self) -> bool {
        self.literals.iter().any(|l| l.lit.raw_newlines)
    }

    /// The document with every splice applied, each splice's text taken
    /// from `texts`; `None` when there is no splice.
    pub fn finish<T: SpliceTexts + ?Sized>(self, texts: &T) -> Option<Vec<u8>> {
        self.into_output(texts).map(|o| o.to_vec(texts))
    }

    /// The document with every splice applied, to be written whole or in
    /// pieces ([`Output`]); `None` when there is no splice.
    ///
    /// Each literal's splices are mapped onto the input in place and its
    /// decoded copy is dropped: what is kept until the output is written
    /// is the input and one small splice per value.
    pub fn into_output<T: SpliceTexts + ?Sized>(self, texts: &T) -> Option<Output<'a>> {
        let Walked {
            input,
            mut edits,
            mut literals,
        } = self;
        literals.retain(|l| !l.splices.is_empty());
        // Deferred fields are visited after their object: back in order.
        literals.sort_by_key(|l| l.lit.start);
        let mut runs = Vec::with_capacity(literals.len() + 1);
        for Literal { lit, mut splices } in literals {
            to_raw_offsets(input, &lit, &mut splices);
            runs.push(splices);
        }
        if !edits.is_empty() {
            // The walk turned splices into edits as it went; no literal
            // was recorded.
            sort_splices(&mut edits);
            runs.push(edits);
        }
        Output::new(input, runs, true, texts)
    }
}

/// Maps the splices of one literal (decoded offsets) onto the input (raw
/// offsets), in place, dropping those that overlap an earlier one (the
/// first wins).
fn to_raw_offsets(input: &[u8], lit: &Lit<'_>, splices: &mut Vec<Splice>) {
    sort_splices(splices);
    let mut last_end = 0;
    let content = match lit.text {
        Cow::Owned(_) => input.get(lit.start..lit.end).unwrap_or_default(),
        // Decoded is raw: the offsets are the same.
        Cow::Borrowed(_) => &[],
    };
    let mut raw = RawOffsets::new(content, &lit.checkpoints);
    splices.retain_mut(|sp| {
        if sp.start < last_end || sp.end < sp.start {
            return false;
        }
        last_end = sp.end;
        let (start, end) = (lit.start + raw.at(sp.start), lit.start + raw.at(sp.end));
        sp.start = start;
        sp.end = end;
        true
    });
}

/// Where decoding stood right after one escape: the decoded length so far
/// and the raw offset (within the literal's content). Between two
/// escapes, decoded and raw bytes correspond one to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Checkpoint {
    decoded: usize,
    raw: usize,
}

/// Decoding records a [`Checkpoint`] after every this many escapes: a
/// splice's raw offset is then found from the nearest one, a few escapes
/// away, and a literal of JSON inside JSON (an escape every ten bytes)
/// does not keep a checkpoint per escape.
const CHECKPOINT_EVERY: usize = 32;

/// Maps decoded offsets of one literal onto raw ones, for targets in
/// increasing order (the splices of a literal, sorted): a cursor that
/// jumps to the last checkpoint at or before a target, then walks the raw
/// content from escape to escape.
struct RawOffsets<'r> {
    /// The literal's raw content, escapes included (empty when decoding
    /// changed nothing: offsets are then the same).
    raw: &'r [u8],
    checkpoints: &'r [Checkpoint],
    /// Checkpoints before this index are at or before the cursor.
    next_checkpoint: usize,
    /// Raw and decoded offsets of the cursor.
    raw_at: usize,
    decoded_at: usize,
    /// The next escape at or after `raw_at` (`raw.len()`: none).
    next_escape: usize,
}

impl<'r> RawOffsets<'r> {
    fn new(raw: &'r [u8], checkpoints: &'r [Checkpoint]) -> RawOffsets<'r> {
        RawOffsets {
            raw,
            checkpoints,
            next_checkpoint: 0,
            raw_at: 0,
            decoded_at: 0,
            next_escape: memchr::memchr(b'\\', raw).unwrap_or(raw.len()),
        }
    }

    /// The raw offset of decoded offset `target` (a char boundary, so
    /// never inside what one escape decodes to; not below the last one).
    fn at(&mut self, target: usize) -> usize {
        let mut jumped = false;
        while let Some(c) = self
            .checkpoints
            .get(self.next_checkpoint)
            .filter(|c| c.decoded <= target)
        {
            if c.decoded > self.decoded_at {
                (self.raw_at, self.decoded_at) = (c.raw, c.decoded);
                jumped = true;
            }
            self.next_checkpoint += 1;
        }
        if jumped {
            self.next_escape = self.escape_from(self.raw_at);
        }
        loop {
            let plain = self.next_escape - self.raw_at;
            if target <= self.decoded_at + plain || self.next_escape >= self.raw.len() {
                return self.raw_at + target.saturating_sub(self.decoded_at);
            }
            // Past the escape: step over it.
            let (raw_len, decoded_len) = escape_lengths(self.raw, self.next_escape);
            self.decoded_at += plain + decoded_len;
            self.raw_at = self.next_escape + raw_len;
            self.next_escape = self.escape_from(self.raw_at);
        }
    }

    /// The first escape at or after raw offset `from` (`raw.len()`: none).
    fn escape_from(&self, from: usize) -> usize {
        self.raw
            .get(from..)
            .and_then(|rest| memchr::memchr(b'\\', rest))
            .map_or(self.raw.len(), |i| from + i)
    }
}

/// The raw and decoded lengths of the escape at `raw[at]` (a `\`) of a
/// literal that decoded: `\uD83D\uDE00` is one escape of 12 raw bytes that
/// decodes to 4.
fn escape_lengths(raw: &[u8], at: usize) -> (usize, usize) {
    if raw.get(at + 1) != Some(&b'u') {
        return (2, 1);
    }
    let code = raw
        .get(at + 2..at + 6)
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .unwrap_or(0);
    match code {
        0xD800..=0xDBFF => (12, 4),
        0..=0x7F => (6, 1),
        0x80..=0x7FF => (6, 2),
        _ => (6, 3),
    }
}

/// Appends `s` JSON-escaped (without surrounding quotes) to `out`: `"`,
/// `\` and control characters are escaped, everything else is kept as
/// UTF-8.
pub fn escape_into(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let code = ESCAPES.get(usize::from(b)).copied().unwrap_or(0);
        if code == 0 {
            continue;
        }
        // Escaped bytes are ASCII, so `start..i` is on char boundaries.
        out.push_str(s.get(start..i).unwrap_or_default());
        out.push('\\');
        if code == b'u' {
            out.push_str("u00");
            out.push(hex_lower(b >> 4));
            out.push(hex_lower(b & 0xf));
        } else {
            out.push(char::from(code));
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
}

/// For each byte, the letter of its JSON escape (`u` for `\u00XX`), or 0
/// when the byte is written as is.
// Indexing is evaluated at compile time here: out of range fails the build.
#[allow(clippy::indexing_slicing)]
static ESCAPES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Whether `b` is written escaped in a JSON string.
/// The length of `s` once [`escape_into`] escaped it.
pub(crate) fn escaped_len(s: &str) -> usize {
    s.bytes()
        .map(
            |b| match ESCAPES.get(usize::from(b)).copied().unwrap_or(0) {
                0 => 1,
                b'u' => 6,
                _ => 2,
            },
        )
        .sum()
}

pub(crate) fn needs_escape(b: u8) -> bool {
    ESCAPES.get(usize::from(b)).is_some_and(|&code| code != 0)
}

fn hex_lower(n: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { b'a' + n - 10 })
}

/// Decodes the raw content of a JSON string literal (between the quotes,
/// already checked by the walker). Borrowed when it has no escapes.
pub fn decode_literal(raw: &str) -> Result<Cow<'_, str>, &'static str> {
    let backslashes: Vec<usize> = memchr::memchr_iter(b'\\', raw.as_bytes()).collect();
    decode_escapes(raw, &backslashes, &mut Vec::new())
}

/// Decodes raw literal content whose only escapes are `\n`, recording a
/// [`Checkpoint`] every [`CHECKPOINT_EVERY`] escapes; cannot fail.
fn decode_newlines(raw: &str, checkpoints: &mut Vec<Checkpoint>) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    for (n, at) in memchr::memchr_iter(b'\\', raw.as_bytes()).enumerate() {
        // `\` is ASCII, so `i..at` is on char boundaries.
        out.push_str(raw.get(i..at).unwrap_or_default());
        out.push('\n');
        i = at + 2;
        if (n + 1).is_multiple_of(CHECKPOINT_EVERY) {
            checkpoints.push(Checkpoint {
                decoded: out.len(),
                raw: i,
            });
        }
    }
    out.push_str(raw.get(i..).unwrap_or_default());
    out
}

/// The byte a one-letter escape stands for (`\n` → newline), 0 for `u`
/// and for letters that are not escapes.
// Indexing is evaluated at compile time here: out of range fails the build.
#[allow(clippy::indexing_slicing)]
static SIMPLE_ESCAPES: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'/' as usize] = b'/';
    t[b'b' as usize] = 0x08;
    t[b'f' as usize] = 0x0c;
    t[b'n' as usize] = b'\n';
    t[b'r' as usize] = b'\r';
    t[b't' as usize] = b'\t';
    t
};

/// [`decode_literal`]: the content of a literal with its escapes decoded,
/// borrowed when it has none.
///
/// `backslashes` holds, in order, offsets of `raw` that include the start
/// of every escape (the scan found them); offsets inside an escape already
/// decoded (the second `\` of `\\`, the second half of a surrogate pair)
/// are skipped: every backslash of `raw` will do. Code has an escape every
/// few dozen bytes (`\n`, `\"`): the work per escape is a copy and a
/// table lookup.
fn decode_escapes<'r>(
    raw: &'r str,
    backslashes: &[usize],
    checkpoints: &mut Vec<Checkpoint>,
) -> Result<Cow<'r, str>, &'static str> {
    if backslashes.is_empty() {
        return Ok(Cow::Borrowed(raw));
    }
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    let mut decoded = 0usize;
    for &at in backslashes {
        if at < i {
            continue;
        }
        // `\` is ASCII, so `i..at` is on char boundaries.
        out.push_str(raw.get(i..at).unwrap_or_default());
        let letter = bytes.get(at + 1).copied().ok_or("unterminated escape")?;
        let simple = SIMPLE_ESCAPES
            .get(usize::from(letter))
            .copied()
            .unwrap_or(0);
        if simple != 0 {
            out.push(char::from(simple));
            i = at + 2;
        } else if letter == b'u' {
            let hi = hex4(raw, at + 2)?;
            i = at + 6;
            let code = if (0xD800..0xDC00).contains(&hi) {
                // A high surrogate must be followed by \uDC00-\uDFFF.
                if raw.get(i..i + 2) != Some("\\u") {
                    return Err("unpaired surrogate in \\u escape");
                }
                let lo = hex4(raw, i + 2)?;
                if !(0xDC00..0xE000).contains(&lo) {
                    return Err("unpaired surrogate in \\u escape");
                }
                i += 6;
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            } else if (0xDC00..0xE000).contains(&hi) {
                return Err("unpaired surrogate in \\u escape");
            } else {
                hi
            };
            out.push(char::from_u32(code).ok_or("invalid \\u escape")?);
        } else {
            return Err("invalid escape");
        }
        decoded += 1;
        if decoded.is_multiple_of(CHECKPOINT_EVERY) {
            checkpoints.push(Checkpoint {
                decoded: out.len(),
                raw: i,
            });
        }
    }
    out.push_str(raw.get(i..).unwrap_or_default());
    Ok(Cow::Owned(out))
}

fn hex4(raw: &str, at: usize) -> Result<u32, &'static str> {
    let digits = raw.get(at..at + 4).ok_or("truncated \\u escape")?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("invalid \\u escape");
    }
    u32::from_str_radix(digits, 16).map_err(|_| "invalid \\u escape")
}

/// A string literal whose fate depends on its object's `type`.
struct Deferred<'a> {
    key: Cow<'a, str>,
    lit: Lit<'a>,
}

enum Frame<'a> {
    Object {
        key: Option<Cow<'a, str>>,
        /// Key of the member this object is the value of.
        parent_key: Option<Cow<'a, str>>,
        type_value: Option<Cow<'a, str>>,
        deferred: Vec<Deferred<'a>>,
        /// The last member, if it is a short string: key and value.
        last: Option<Member<'a>>,
        /// The member before the current one (`last` when its key came).
        before: Option<Member<'a>>,
    },
    Array {
        parent_key: Option<Cow<'a, str>>,
    },
}

/// A member of an object: key and string value.
type Member<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Longest key and value a member keeps for [`StrCtx::previous`]: keys and
/// names, not texts.
const MAX_PREVIOUS_KEY: usize = 32;
const MAX_PREVIOUS_VALUE: usize = 256;

/// Fields whose visit waits for the object's `type`.
fn is_deferred_key(key: &str) -> bool {
    matches!(key, "data" | "signature" | "thinking" | "url")
}

struct Walker<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    opts: WalkOptions,
    edits: Vec<Splice>,
    /// Reused buffer for the visitor's splices.
    splices: Vec<Splice>,
    /// The offsets of the escapes of the literal just scanned (from its
    /// first content byte), for decoding it without searching them again;
    /// all of them unless `passed_newlines` and they are all `\n`.
    backslashes: Vec<usize>,
    /// What escapes the literal just scanned holds.
    escapes: Escapes,
    /// The scan passed over `\n` escapes without recording them (the
    /// `.wasm` does while the escapes are all `\n`).
    passed_newlines: bool,
    /// Which value literals are offered raw.
    raw: Raw,
    /// Record every visited literal (for a second pass) instead of turning
    /// splices into edits at once.
    record: bool,
    literals: Vec<Literal<'a>>,
}

/// Above this many escape offsets kept for decoding, the walker frees them
/// once the literal is decoded instead of keeping them for the next one.
const RELEASED_OFFSETS: usize = 16 * 1024;

/// Whether a literal's escapes, once they must all be recorded, are found
/// by [`crate::string_scan::scan_escapes`] (128-bit SIMD blocks) rather
/// than by stopping at each: in the `.wasm` only, where the scan's restart
/// per escape cost more; natively the SWAR blocks cost more than the
/// restarts (code resent: 11.4M -> 14.5M instructions).
const SCAN_ESCAPES_IN_BLOCKS: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// Which escapes a scanned literal holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escapes {
    None,
    NewlinesOnly,
    Other,
}

/// A decoded string literal and where it came from.
struct Lit<'a> {
    text: Cow<'a, str>,
    /// `text` is the raw content, whose escapes are all `\n`
    /// ([`StrCtx::raw_newlines`]).
    raw_newlines: bool,
    /// The raw content (after the opening quote, before the closing one)
    /// in the input. Where `text` is owned (decoded), a splice's offsets
    /// are mapped onto it by [`RawOffsets`]; where it is borrowed, they
    /// are offsets of this range already.
    start: usize,
    end: usize,
    /// Decoding's sparse checkpoints, for [`RawOffsets`].
    checkpoints: Vec<Checkpoint>,
}

/// A visited string literal, kept for a second pass.
struct Literal<'a> {
    lit: Lit<'a>,
    splices: Vec<Splice>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Value,
    KeyOrEnd,
    Key,
    Colon,
    CommaOrObjEnd,
    ValueOrArrEnd,
    CommaOrArrEnd,
}

impl<'a> Walker<'a> {
    fn err(&self, reason: &'static str) -> JsonError {
        JsonError {
            offset: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Scans a string literal starting at the opening quote; returns the
    /// raw content range.
    fn scan_string(&mut self) -> Result<(usize, usize), JsonError> {
        self.pos += 1;
        let start = self.pos;
        self.escapes = Escapes::None;
        self.backslashes.clear();
        self.passed_newlines = false;
        loop {
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            let pass = self.escapes != Escapes::Other;
            let (stop, passed) = crate::string_scan::first_stop(rest, pass);
            self.passed_newlines |= passed;
            if passed && self.escapes == Escapes::None {
                self.escapes = Escapes::NewlinesOnly;
            }
            let Some(i) = stop else {
                self.pos = self.bytes.len();
                return Err(self.err("unterminated string"));
            };
            self.pos += i;
            match self.peek() {
                Some(b'"') => {
                    let end = self.pos;
                    self.pos += 1;
                    return Ok((start, end));
                }
                Some(b'\\') => self.note_escape(start),
                _ => return Err(self.err("control character in string")),
            }
            // Backslash: the next byte is escaped (validated when decoding;
            // a quote or backslash after it must not end the scan).
            self.pos += 2;
            if self.pos > self.bytes.len() {
                self.pos = self.bytes.len();
                return Err(self.err("unterminated string"));
            }
            if SCAN_ESCAPES_IN_BLOCKS && self.escapes == Escapes::Other {
                // Every escape from here on is recorded: the rest of the
                // literal in one scan that handles them in its blocks.
                let rest = self.bytes.get(self.pos..).unwrap_or_default();
                let base = self.pos - start;
                let Some(i) = crate::string_scan::scan_escapes(rest, base, &mut self.backslashes)
                else {
                    self.pos = self.bytes.len();
                    return Err(self.err("unterminated string"));
                };
                self.pos += i;
                if self.peek() != Some(b'"') {
                    return Err(self.err("control character in string"));
                }
                let end = self.pos;
                self.pos += 1;
                return Ok((start, end));
            }
        }
    }

    /// Records the escape at `self.pos` of the literal whose content
    /// starts at `start`: its kind and its offset.
    fn note_escape(&mut self, start: usize) {
        let newline = self.bytes.get(self.pos + 1) == Some(&b'n');
        if self.escapes != Escapes::Other {
            if newline {
                self.escapes = Escapes::NewlinesOnly;
            } else {
                if self.passed_newlines {
                    // The scan passed over the `\n` escapes before this
                    // one: find them. From here on it stops at every one.
                    let before = self.bytes.get(start..self.pos).unwrap_or_default();
                    self.backslashes.clear();
                    self.backslashes.extend(memchr::memchr_iter(b'\\', before));
                }
                self.escapes = Escapes::Other;
            }
        }
        self.backslashes.push(self.pos - start);
    }

    /// Decodes the literal [`scan_string`](Self::scan_string) just found at
    /// `start..end`; with `may_stay_raw` (a value literal), one whose
    /// escapes are all `\n` is kept raw when the walk offers such.
    fn decode(
        &mut self,
        start: usize,
        end: usize,
        may_stay_raw: bool,
    ) -> Result<Lit<'a>, JsonError> {
        let raw = self.text.get(start..end).unwrap_or_default();
        let mut checkpoints = Vec::new();
        let newlines_only = self.escapes == Escapes::NewlinesOnly;
        let raw_newlines = newlines_only && may_stay_raw && self.raw == Raw::Newlines;
        // Offered as if decoded: `raw_newlines` stays false.
        let raw_simple = may_stay_raw
            && self.raw == Raw::SimpleEscapes
            && (newlines_only || simple_escapes_only(raw.as_bytes(), &self.backslashes));
        let text = if raw_newlines || raw_simple || self.escapes == Escapes::None {
            Cow::Borrowed(raw)
        } else if newlines_only {
            Cow::Owned(decode_newlines(raw, &mut checkpoints))
        } else {
            decode_escapes(raw, &self.backslashes, &mut checkpoints).map_err(|reason| {
                JsonError {
                    offset: start,
                    reason,
                }
            })?
        };
        if self.backslashes.capacity() > RELEASED_OFFSETS {
            // A literal with a great many escapes (JSON inside JSON): give
            // the offsets back before its text is searched.
            self.backslashes = Vec::new();
        }
        Ok(Lit {
            text,
            raw_newlines,
            start,
            end,
            checkpoints,
        })
    }

    fn scan_number(&mut self) -> Result<(), JsonError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            self.digits();
        }
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &'static str) -> Result<(), JsonError> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn visit<F>(&mut self, f: &mut F, ctx: StrCtx<'_>, mut lit: Lit<'a>)
    where
        F: FnMut(StrCtx<'_>, &str, &mut Vec<Splice>) -> Visited,
    {
        let mut splices = std::mem::take(&mut self.splices);
        splices.clear();
        let ctx = StrCtx {
            raw_newlines: lit.raw_newlines,
            ..ctx
        };
        if f(ctx, &lit.text, &mut splices) == Visited::DecodeFirst && lit.raw_newlines {
            splices.clear();
            lit.text = Cow::Owned(decode_newlines(&lit.text, &mut lit.checkpoints));
            lit.raw_newlines = false;
            let ctx = StrCtx {
                raw_newlines: false,
                ..ctx
            };
            f(ctx, &lit.text, &mut splices);
        }
        if self.record {
            self.literals.push(Literal {
                lit,
                splices: std::mem::take(&mut splices),
            });
        } else if !splices.is_empty() {
            to_raw_offsets(self.bytes, &lit, &mut splices);
            self.edits.append(&mut splices);
        }
        self.splices = splices;
    }

    /// Whether a deferred field is left alone given its object's `type`.
    fn skipped(&self, key: &str, type_value: Option<&str>) -> bool {
        match (key, type_value) {
            ("data", Some("base64" | "redacted_thinking")) => true,
            ("signature", Some("thinking")) => true,
            // An image or document the provider fetches itself
            // (`"source": {"type": "url", "url": …}`): a token there
            // would make the request fail.
            ("url", Some("url")) => true,
            ("thinking", Some("thinking")) => self.opts.skip_thinking,
            _ => false,
        }
    }

    fn walk<F>(&mut self, f: &mut F) -> Result<(), JsonError>
    where
        F: FnMut(StrCtx<'_>, &str, &mut Vec<Splice>) -> Visited,
    {
        let mut stack: Vec<Frame<'a>> = Vec::new();
        let mut expect = Expect::Value;
        loop {
            self.skip_ws();
            let Some(b) = self.peek() else {
                return Err(self.err("unexpected end of input"));
            };
            match expect {
                Expect::Value | Expect::ValueOrArrEnd => {
                    if expect == Expect::ValueOrArrEnd && b == b']' {
                        self.pos += 1;
                        stack.pop();
                    } else {
                        match b {
                            b'{' | b'[' => {
                                if stack.len() >= MAX_DEPTH {
                                    return Err(self.err("nesting too deep"));
                                }
                                self.pos += 1;
                                let parent_key = current_key(&stack);
                                if b == b'{' {
                                    stack.push(Frame::Object {
                                        key: None,
                                        parent_key,
                                        type_value: None,
                                        deferred: Vec::new(),
                                        last: None,
                                        before: None,
                                    });
                                    expect = Expect::KeyOrEnd;
                                } else {
                                    stack.push(Frame::Array { parent_key });
                                    expect = Expect::ValueOrArrEnd;
                                }
                                continue;
                            }
                            b'"' => {
                                let (start, end) = self.scan_string()?;
                                let value = self.decode(start, end, true)?;
                                self.string_value(&mut stack, f, value);
                            }
                            b'-' | b'0'..=b'9' => self.scan_number()?,
                            b't' => self.literal("true")?,
                            b'f' => self.literal("false")?,
                            b'n' => self.literal("null")?,
                            _ => return Err(self.err("expected a value")),
                        }
                    }
                }
                Expect::KeyOrEnd | Expect::Key => {
                    if expect == Expect::KeyOrEnd && b == b'}' {
                        self.pos += 1;
                        self.close_object(&mut stack, f);
                    } else if b == b'"' {
                        let (start, end) = self.scan_string()?;
                        let key = self.decode(start, end, false)?;
                        let name = key.text.clone();
                        let parent = match stack.last() {
                            Some(Frame::Object { parent_key, .. }) => parent_key.clone(),
                            _ => None,
                        };
                        let ctx = StrCtx {
                            key: parent.as_deref(),
                            is_key: true,
                            raw_newlines: false,
                            previous: None,
                        };
                        self.visit(f, ctx, key);
                        if let Some(Frame::Object {
                            key: k,
                            last,
                            before,
                            ..
                        }) = stack.last_mut()
                        {
                            *k = Some(name);
                            *before = last.take();
                        }
                        expect = Expect::Colon;
                        continue;
                    } else {
                        return Err(self.err("expected a string key"));
                    }
                }
                Expect::Colon => {
                    if b != b':' {
                        return Err(self.err("expected ':'"));
                    }
                    self.pos += 1;
                    expect = Expect::Value;
                    continue;
                }
                Expect::CommaOrObjEnd => {
                    self.pos += 1;
                    match b {
                        b',' => {
                            expect = Expect::Key;
                            continue;
                        }
                        b'}' => self.close_object(&mut stack, f),
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("expected ',' or '}'"));
                        }
                    }
                }
                Expect::CommaOrArrEnd => {
                    self.pos += 1;
                    match b {
                        b',' => {
                            expect = Expect::Value;
                            continue;
                        }
                        b']' => {
                            stack.pop();
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("expected ',' or ']'"));
                        }
                    }
                }
            }
            // A value just ended: what may follow depends on the container.
            expect = match stack.last() {
                None => {
                    self.skip_ws();
                    if self.pos != self.bytes.len() {
                        return Err(self.err("trailing characters after JSON value"));
                    }
                    return Ok(());
                }
                Some(Frame::Object { .. }) => Expect::CommaOrObjEnd,
                Some(Frame::Array { .. }) => Expect::CommaOrArrEnd,
            };
        }
    }

    fn string_value<F>(&mut self, stack: &mut [Frame<'a>], f: &mut F, value: Lit<'a>)
    where
        F: FnMut(StrCtx<'_>, &str, &mut Vec<Splice>) -> Visited,
    {
        match stack.last_mut() {
            Some(Frame::Object {
                key: Some(key),
                type_value,
                deferred,
                last,
                before,
                ..
            }) => {
                if key.as_ref() == "type" {
                    *type_value = Some(value.text.clone());
                }
                if is_deferred_key(key) {
                    deferred.push(Deferred {
                        key: key.clone(),
                        lit: value,
                    });
                    return;
                }
                let key = key.clone();
                let previous = before.take();
                *last = (key.len() <= MAX_PREVIOUS_KEY && value.text.len() <= MAX_PREVIOUS_VALUE)
                    .then(|| (key.clone(), value.text.clone()));
                let ctx = StrCtx {
                    key: Some(&key),
                    is_key: false,
                    raw_newlines: false,
                    previous: previous.as_ref().map(|(k, v)| (k.as_ref(), v.as_ref())),
                };
                self.visit(f, ctx, value);
            }
            Some(Frame::Array { parent_key }) => {
                let key = parent_key.clone();
                let ctx = StrCtx {
                    key: key.as_deref(),
                    is_key: false,
                    raw_newlines: false,
                    previous: None,
                };
                self.visit(f, ctx, value);
            }
            _ => {
                let ctx = StrCtx {
                    key: None,
                    is_key: false,
                    raw_newlines: false,
                    previous: None,
                };
                self.visit(f, ctx, value);
            }
        }
    }

    fn close_object<F>(&mut self, stack: &mut Vec<Frame<'a>>, f: &mut F)
    where
        F: FnMut(StrCtx<'_>, &str, &mut Vec<Splice>) -> Visited,
    {
        if let Some(Frame::Object {
            type_value,
            deferred,
            ..
        }) = stack.pop()
        {
            for d in deferred {
                if self.skipped(&d.key, type_value.as_deref()) {
                    continue;
                }
                let ctx = StrCtx {
                    key: Some(&d.key),
                    is_key: false,
                    raw_newlines: false,
                    previous: None,
                };
                self.visit(f, ctx, d.lit);
            }
        }
    }
}

fn current_key<'a>(stack: &[Frame<'a>]) -> Option<Cow<'a, str>> {
    match stack.last()? {
        Frame::Object { key, .. } => key.clone(),
        Frame::Array { parent_key } => parent_key.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size `Walked::finish` reserves is the size `escape_into` writes.
    #[test]
    fn escaped_len_is_what_escape_into_writes() {
        let all: String = (0u8..128).map(char::from).collect();
        for s in [
            "",
            "AWS_EC2_0123abcd",
            "a\"b\\c\n\u{1}",
            "é\u{7f}",
            all.as_str(),
        ] {
            let mut out = String::new();
            escape_into(s, &mut out);
            assert_eq!(escaped_len(s), out.len(), "{s:?}");
        }
    }

    /// Upper-cases every string of a document (text or bytes).
    fn upper_all(input: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, JsonError> {
        rewrite_strings(input.as_ref(), WalkOptions::default(), |_, s| {
            Some(s.to_uppercase())
        })
    }

    fn visited(input: &str, opts: WalkOptions) -> Vec<(Option<String>, bool, String)> {
        let mut seen = Vec::new();
        rewrite_strings(input.as_bytes(), opts, |ctx, s| {
            seen.push((ctx.key.map(str::to_string), ctx.is_key, s.to_string()));
            None
        })
        .unwrap();
        seen
    }

    #[test]
    fn untouched_bytes_stay_identical() {
        let input = "{ \"a\" :\t[1.0e+2, -0, true,false , null, \"x\\/y\"] ,\n\"b\":{}}";
        assert_eq!(
            rewrite_strings(input.as_bytes(), WalkOptions::default(), |_, _| None).unwrap(),
            None
        );
        let out = String::from_utf8(upper_all(input).unwrap().unwrap()).unwrap();
        assert_eq!(
            out,
            "{ \"A\" :\t[1.0e+2, -0, true,false , null, \"X/Y\"] ,\n\"B\":{}}"
        );
    }

    #[test]
    fn escapes_are_decoded_before_visiting() {
        let seen = visited(
            r#"["\u0041\u004bIA", "\ud83d\ude00", "a\"b\\c\n"]"#,
            WalkOptions::default(),
        );
        let values: Vec<&str> = seen.iter().map(|s| s.2.as_str()).collect();
        assert_eq!(values, ["AKIA", "😀", "a\"b\\c\n"]);
    }

    #[test]
    fn replacements_are_escaped() {
        let out = rewrite_strings(br#"{"k":"v"}"#, WalkOptions::default(), |ctx, _| {
            (!ctx.is_key).then(|| "q\"\\\n\u{1}é".to_string())
        })
        .unwrap()
        .unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            r#"{"k":"q\"\\\n\u0001é"}"#
        );
        let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(back["k"], "q\"\\\n\u{1}é");
    }

    /// Splices land on the right raw bytes whatever escapes precede them,
    /// and every other byte of the literal, escapes included, is kept.
    /// Literals with far more escapes than one checkpoint's worth, of
    /// every width (`\n`, `\u00e9`, a surrogate pair), with splices
    /// before, between and after them: each lands on the raw bytes it
    /// replaces, whether the walk decodes the literal or takes it raw.
    /// Pushes a splice (text id 0) for each occurrence of `needle` in `s`.
    fn push_each(s: &str, needle: &str, out: &mut Vec<Splice>) {
        for (i, _) in s.match_indices(needle) {
            out.push(Splice {
                start: i,
                end: i + needle.len(),
                id: 0,
            });
        }
    }

    #[test]
    fn splices_map_through_many_escapes() {
        let escapes = [
            r"\n",
            r#"\""#,
            r"\\",
            r"\u00e9",
            r"\ud83d\ude00",
            r"\t",
            r"\u2028",
        ];
        for only_newlines in [false, true] {
            let mut raw = String::new();
            for i in 0..700 {
                let e = if only_newlines {
                    r"\n"
                } else {
                    escapes[i % escapes.len()]
                };
                raw.push_str(e);
                if i % 11 == 0 {
                    raw.push_str("ID");
                }
                if i % 5 == 0 {
                    raw.push_str("ab");
                }
            }
            let input = format!(r#"["{raw}"]"#);
            let want = input.replace("ID", "<T>");
            for raw_newlines in [false, true] {
                let walked = walk_strings(
                    input.as_bytes(),
                    WalkOptions::default(),
                    raw_newlines,
                    |_, s, out| {
                        push_each(s, "ID", out);
                        Visited::Done
                    },
                )
                .unwrap();
                let out = walked.finish(&["<T>"][..]).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    want,
                    "{only_newlines} {raw_newlines}"
                );
            }
        }
    }

    #[test]
    fn splices_map_onto_raw_literals() {
        let cases: &[(&str, &str, &str)] = &[
            (r#"["ab ID cd"]"#, "ID", r#"["ab <T> cd"]"#),
            (r#"["a\nb ID\t"]"#, "ID", r#"["a\nb <T>\t"]"#),
            (
                r#"["\u00e9\ud83d\ude00 ID \/"]"#,
                "ID",
                r#"["\u00e9\ud83d\ude00 <T> \/"]"#,
            ),
            (r#"["\u0049D"]"#, "ID", r#"["<T>"]"#),
            (r#"["x \"ID\" y"]"#, "ID", r#"["x \"<T>\" y"]"#),
            (r#"["ID"]"#, "ID", r#"["<T>"]"#),
            (r#"["ID\\\\ ID"]"#, "ID", r#"["<T>\\\\ <T>"]"#),
            (r#"["\nID\n"]"#, "ID", r#"["\n<T>\n"]"#),
            (
                r#"{"a\tID": "\u00e9ID\r\nID"}"#,
                "ID",
                r#"{"a\t<T>": "\u00e9<T>\r\n<T>"}"#,
            ),
            // `\n` escapes first, then others: all found.
            (
                r#"["a\nID\nb\tID\u0049D\nID"]"#,
                "ID",
                r#"["a\n<T>\nb\t<T><T>\n<T>"]"#,
            ),
        ];
        for (input, needle, want) in cases {
            let out = splice_strings(
                input.as_bytes(),
                WalkOptions::default(),
                |_, s, out| {
                    push_each(s, needle, out);
                },
                &["<T>"][..],
            )
            .unwrap()
            .unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), *want, "{input}");
        }
    }

    /// `walk_strings` offers a value whose escapes are all `\n` raw, and
    /// decodes it when the visitor asks; keys, and values with other
    /// escapes, are always decoded. Splices land at the same place either
    /// way.
    #[test]
    fn newline_only_values_are_offered_raw() {
        let input = r#"{"k\ney": ["a\nID\n", "b\tID", "plain ID"], "x": "\nID"}"#;
        for decode_first in [false, true] {
            let mut seen = Vec::new();
            let mut walked = walk_strings(
                input.as_bytes(),
                WalkOptions::default(),
                true,
                |ctx, s, out| {
                    seen.push((ctx.is_key, ctx.raw_newlines, s.to_string()));
                    if ctx.raw_newlines && decode_first {
                        return Visited::DecodeFirst;
                    }
                    push_each(s, "ID", out);
                    Visited::Done
                },
            )
            .unwrap();
            assert_eq!(walked.has_raw_literals(), !decode_first);
            walked.splice_more(|s, _, more| {
                if let Some(i) = s.find("plain") {
                    more.push(Splice {
                        start: i,
                        end: i + 5,
                        id: 1,
                    });
                }
            });
            let out = String::from_utf8(walked.finish(&["<T>", "P"][..]).unwrap()).unwrap();
            assert_eq!(
                out,
                r#"{"k\ney": ["a\n<T>\n", "b\t<T>", "P <T>"], "x": "\n<T>"}"#
            );
            let raw = |s: &str| (false, true, s.to_string());
            let decoded = |s: &str| (false, false, s.to_string());
            let mut want = vec![(true, false, "k\ney".to_string())];
            for (r, d) in [
                (r"a\nID\n", "a\nID\n"),
                (r"b\tID", "b\tID"),
                ("plain ID", "plain ID"),
            ] {
                if r.contains("\\n") {
                    want.push(raw(r));
                    if decode_first {
                        want.push(decoded(d));
                    }
                } else {
                    want.push(decoded(d));
                }
            }
            want.push((true, false, "x".to_string()));
            want.push(raw(r"\nID"));
            if decode_first {
                want.push(decoded("\nID"));
            }
            assert_eq!(seen, want, "decode_first: {decode_first}");
        }
    }

    #[test]
    fn key_context_is_reported() {
        let seen = visited(
            r#"{"a": "1", "b": ["2", {"c": "3"}]}"#,
            WalkOptions::default(),
        );
        let want = [
            (None, true, "a"),
            (Some("a"), false, "1"),
            (None, true, "b"),
            (Some("b"), false, "2"),
            (Some("b"), true, "c"),
            (Some("c"), false, "3"),
        ];
        let got: Vec<(Option<&str>, bool, &str)> = seen
            .iter()
            .map(|(k, is_key, v)| (k.as_deref(), *is_key, v.as_str()))
            .collect();
        assert_eq!(got, want);
    }

    /// A member value is told the member just before it in its object,
    /// when that one is a short string; any other member in between, an
    /// object's start, or an array item breaks the chain.
    #[test]
    fn the_member_before_is_reported() {
        let input = r#"{"name": "S3_BUCKET", "value": "b", "n": 1, "value": "c",
            "list": ["d"], "o": {"value": "e"}, "k": "x", "v": {"a": "f"}}"#;
        let mut seen: Vec<(String, Option<(String, String)>)> = Vec::new();
        walk_strings(
            input.as_bytes(),
            WalkOptions::default(),
            false,
            |ctx, s, _| {
                if !ctx.is_key {
                    let prev = ctx.previous.map(|(k, v)| (k.to_string(), v.to_string()));
                    seen.push((s.to_string(), prev));
                }
                Visited::Done
            },
        )
        .unwrap();
        let pair = |k: &str, v: &str| Some((k.to_string(), v.to_string()));
        let want = vec![
            ("S3_BUCKET".to_string(), None),
            ("b".to_string(), pair("name", "S3_BUCKET")),
            ("c".to_string(), None),
            ("d".to_string(), None),
            ("e".to_string(), None),
            ("x".to_string(), None),
            ("f".to_string(), None),
        ];
        assert_eq!(seen, want);
    }

    #[test]
    fn protected_fields_are_skipped_whatever_the_member_order() {
        let input = r#"[
          {"signature": "SIG", "thinking": "THINK", "type": "thinking"},
          {"data": "REDACTED", "type": "redacted_thinking"},
          {"type": "image", "source": {"data": "B64", "media_type": "image/png", "type": "base64"}},
          {"type": "document", "source": {"type": "text", "data": "plain doc"}},
          {"type": "image", "source": {"url": "https://b.s3.amazonaws.com/x.png", "type": "url"}},
          {"type": "text", "text": "see", "url": "https://kept.example/a"},
          {"type": "tool_use", "input": {"signature": "user sig", "data": "user data", "thinking": "user thought"}}
        ]"#;
        let values: Vec<String> = visited(input, WalkOptions::default())
            .into_iter()
            .filter(|v| !v.1)
            .map(|v| v.2)
            .collect();
        for skipped in [
            "SIG",
            "THINK",
            "REDACTED",
            "B64",
            "https://b.s3.amazonaws.com/x.png",
        ] {
            assert!(!values.iter().any(|v| v == skipped), "{skipped} visited");
        }
        for kept in [
            "plain doc",
            "user sig",
            "user data",
            "user thought",
            "image/png",
            "https://kept.example/a",
        ] {
            assert!(values.iter().any(|v| v == kept), "{kept} not visited");
        }
        let with_thinking = visited(
            input,
            WalkOptions {
                skip_thinking: false,
            },
        );
        assert!(with_thinking.iter().any(|v| v.2 == "THINK"));
        assert!(!with_thinking.iter().any(|v| v.2 == "SIG"));
    }

    /// Table of invalid documents: each is an error at the given offset.
    #[test]
    fn invalid_json_is_an_error_with_offset() {
        let cases: &[(&[u8], usize, &str)] = &[
            (b"", 0, "unexpected end"),
            (b"{", 1, "unexpected end"),
            (b"{\"a\" 1}", 5, "expected ':'"),
            (b"{\"a\":1,}", 7, "expected a string key"),
            (b"[1,]", 3, "expected a value"),
            (b"[1 2]", 3, "expected ',' or ']'"),
            (b"{\"a\":1 \"b\"}", 7, "expected ',' or '}'"),
            (b"\"abc", 4, "unterminated string"),
            (b"\"a\x01\"", 2, "control character"),
            (
                b"\"0123456789012345678901234567890123456789\x1f\"",
                41,
                "control character",
            ),
            (
                b"\"0123456789012345678901234567890123456789012345678901234567890123\x00\"",
                65,
                "control character",
            ),
            (b"\"\\x\"", 1, "invalid escape"),
            (b"\"\\ud800\"", 1, "unpaired surrogate"),
            (b"\"\\udc00x\"", 1, "unpaired surrogate"),
            (b"\"\\u12\"", 1, "u escape"),
            (b"01", 1, "trailing characters"),
            (b"1.", 2, "invalid number"),
            (b"-", 1, "invalid number"),
            (b"1e", 2, "invalid number"),
            (b"tru", 0, "invalid literal"),
            (b"{} {}", 3, "trailing characters"),
            (b"[\"\xff\"]", 2, "invalid UTF-8"),
            (b"\"\\", 2, "unterminated string"),
        ];
        for (input, offset, reason) in cases {
            let err = upper_all(input).unwrap_err();
            assert!(
                err.reason.contains(reason),
                "{:?}: {err}",
                String::from_utf8_lossy(input)
            );
            assert_eq!(
                err.offset,
                *offset,
                "{:?}: {err}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn depth_is_limited_without_recursion() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        let err = upper_all(&deep).unwrap_err();
        assert_eq!(err.reason, "nesting too deep");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(upper_all(&ok).unwrap(), None);
    }

    #[test]
    fn agrees_with_serde_json_on_validity() {
        let docs = [
            "{}",
            "[]",
            "\"\"",
            "0",
            "-0.5e-3",
            "[[[]]]",
            "{\"a\":{\"b\":[null]}}",
            "[1,2",
            "{\"a\":}",
            "[.5]",
            "[+1]",
            "[1.5e]",
            "{\"a\" : \"\\uD83D\\uDE00\"}",
            "[\"\\t\"]",
            " [ ] ",
            "[00]",
            "nul",
            "\"\\/\"",
        ];
        for d in docs {
            let ours = upper_all(d).is_ok();
            let theirs = serde_json::from_str::<serde_json::Value>(d).is_ok();
            assert_eq!(ours, theirs, "{d}");
        }
    }
}
