//! Long texts are searched a window at a time, so that what a search holds
//! at once (the candidates of every family, their sorting, the memo's
//! copy) is bounded by the window, not by the text: a body of 30 MB of
//! addresses has millions of matches, and wasm memory never shrinks.
//!
//! Each window is searched with some text on either side of it: before it
//! for the context of a value at its start (`"SecretAccessKey": "…"`, an
//! access key id a few lines up), after it for a value that starts inside
//! and ends past it. Only matches that start inside the window are kept,
//! so every match belongs to exactly one window, found with the context
//! a search of the whole text would give it.

use std::ops::Range;

/// Texts up to this length are searched whole.
pub const WINDOW: usize = 128 * 1024;
/// Text searched before a window: more than any context a detector looks
/// back for (keys of at most a few hundred bytes, secrets within 200 bytes
/// of their access key id).
const BEFORE: usize = 1024;
/// Text searched after a window: more than the longest value a detector
/// matches but a quoted secret's (session tokens, up to 8 KiB).
const AFTER: usize = 16 * 1024;
/// Text searched after a window where a quoted value may still be open at
/// its end: more than the longest quoted secret value (64 KiB, Secrets
/// Manager's limit), so that one cut by the window is found whole.
const LONG_AFTER: usize = 65 * 1024;

/// The windows of a text of `len` bytes, in order, covering it; one when
/// the text is no longer than [`WINDOW`]. Window edges are char boundaries.
pub fn windows(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() && !(start == 0 && text.is_empty()) {
            return None;
        }
        let end = ceil_boundary(text, start.saturating_add(WINDOW));
        let w = start..end;
        start = if end == start { usize::MAX } else { end };
        Some(w)
    })
}

/// The range searched for `window`: the window with [`BEFORE`] and
/// [`AFTER`] bytes around it, at char boundaries, within the text; with
/// [`LONG_AFTER`] after it where a quoted value may be open at its end.
pub fn searched(text: &str, window: &Range<usize>) -> Range<usize> {
    let start = floor_boundary(text, window.start.saturating_sub(BEFORE));
    let end = ceil_boundary(text, window.end.saturating_add(AFTER));
    if end < text.len() && may_run_past(text.as_bytes(), window.end, end) {
        return start..ceil_boundary(text, window.end.saturating_add(LONG_AFTER));
    }
    start..end
}

/// Whether a quoted value that starts before `window_end` may run past
/// `end`: a quote within a long value's reach before the window's end, and
/// none from there to `end`. Text with quotes every so often (code, JSON,
/// prose) never pays for the longer search; a text of one long secret
/// value does, once.
fn may_run_past(bytes: &[u8], window_end: usize, end: usize) -> bool {
    let quotes = |b: &[u8]| memchr::memchr2(b'"', b'\'', b).is_some();
    let after = bytes.get(window_end..end).unwrap_or_default();
    let before = bytes
        .get(end.saturating_sub(LONG_AFTER)..window_end)
        .unwrap_or_default();
    !quotes(after) && quotes(before)
}

/// The first char boundary at or after `i` (the text's length past it).
fn ceil_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The last char boundary at or before `i`.
fn floor_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_text_in_order_at_char_boundaries() {
        for text in [
            String::new(),
            "short".to_string(),
            "é".repeat(WINDOW),
            "a".repeat(WINDOW * 2 + 3),
            "a".repeat(WINDOW),
        ] {
            let ws: Vec<_> = windows(&text).collect();
            assert_eq!(ws.first().map(|w| w.start), Some(0));
            assert_eq!(ws.last().map(|w| w.end), Some(text.len()));
            for pair in ws.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
            }
            for w in &ws {
                assert!(text.is_char_boundary(w.start) && text.is_char_boundary(w.end));
                let s = searched(&text, w);
                assert!(s.start <= w.start && w.end <= s.end && s.end <= text.len());
                assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
            }
            assert_eq!(ws.len(), text.len().div_ceil(WINDOW).max(1));
        }
    }
}
