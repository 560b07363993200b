//! The key of the list a value stands in, read backwards from the value:
//! a JSON or HCL list (`"AWS": ["arn:…", "123456789012"]`,
//! `identifiers = ["…", "…"]`, one item per line or not) or a YAML block
//! list (`AWS:` then `- '123456789012'` lines). The value's own line
//! often holds no key at all; its list's key is the context that says
//! what it is.
//!
//! Works on raw text and on JSON-escaped text alike: a `\n`, `\r` or `\t`
//! escape is a blank, `\"` a quote, and the line-number prefix of Claude
//! Code's Read tool (`     7→`) is part of the indentation.

use super::util::{is_escape_letter, run_start_back, WORD};

/// Most items walked back over before giving up.
const MAX_ITEMS: usize = 32;
/// Longest quoted item walked back over.
const MAX_ITEM: usize = 512;
/// Longest key word.
const MAX_KEY: usize = 64;

/// What the last item looked up found: where that item starts (its
/// opening quote, or its YAML dash) and its list's key. The next item of
/// the same list stops there instead of walking back to the key again,
/// so a list of any length costs one step per item.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Memo {
    item: Option<usize>,
    key: Option<(usize, usize)>,
}

/// The key (`start..end` in `text`, without quotes) of the list in which
/// the value starting at `s` is an item, if it is one. `memo` carries
/// what the previous item (earlier in `text`) found.
pub(super) fn key_of_item(text: &[u8], s: usize, memo: &mut Memo) -> Option<(usize, usize)> {
    let (item, key) = walk_back(text, s, memo);
    *memo = Memo {
        item: Some(item),
        key,
    };
    key
}

/// [`key_of_item`]'s walk: where the item at `s` starts, and its key.
fn walk_back(text: &[u8], s: usize, memo: &Memo) -> (usize, Option<(usize, usize)>) {
    let start = quote_back(text, s).unwrap_or(s);
    let mut i = start;
    for _ in 0..MAX_ITEMS {
        i = blank_back(text, i);
        let Some(j) = i.checked_sub(1) else {
            return (start, None);
        };
        match text.get(j) {
            Some(b'[') => return (start, key_before(text, j)),
            Some(b',') => match item_back(text, blank_back(text, j)) {
                Some(prev) if memo.item == Some(prev) => return (start, memo.key),
                Some(prev) => i = prev,
                None => return (start, None),
            },
            Some(b'-') if text.get(j + 1) == Some(&b' ') => return (j, yaml_key(text, j, memo)),
            _ => return (start, None),
        }
    }
    (start, None)
}

/// Where the opening quote before `i` starts (`"`, `'`, or an escaped
/// `\"`), if `text[i - 1]` is one.
fn quote_back(text: &[u8], i: usize) -> Option<usize> {
    let q = i.checked_sub(1)?;
    if !matches!(text.get(q), Some(b'"' | b'\'')) {
        return None;
    }
    Some(if q > 0 && text.get(q - 1) == Some(&b'\\') {
        q - 1
    } else {
        q
    })
}

/// `i` moved back over blanks: spaces, tabs, line breaks, their escapes,
/// and the Read tool's `N→` line prefixes.
fn blank_back(text: &[u8], mut i: usize) -> usize {
    loop {
        let Some(j) = i.checked_sub(1) else {
            return i;
        };
        match text.get(j) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => i = j,
            Some(b'n' | b'r' | b't') if is_escape_letter(text, j) => i = j - 1,
            // `→` (E2 86 92) and the line number before it.
            Some(0x92) if j >= 2 && text.get(j - 2..j) == Some(&[0xE2, 0x86]) => {
                i = j - 2;
                while i > 0 && text.get(i - 1).is_some_and(u8::is_ascii_digit) {
                    i -= 1;
                }
            }
            _ => return i,
        }
    }
}

/// The start of the quoted item that ends at `i` (its closing quote is
/// `text[i - 1]`), on one line.
fn item_back(text: &[u8], i: usize) -> Option<usize> {
    let close = i.checked_sub(1)?;
    let q = *text.get(close)?;
    if !matches!(q, b'"' | b'\'') {
        return None;
    }
    let escaped = close > 0 && text.get(close - 1) == Some(&b'\\');
    let lo = close.saturating_sub(MAX_ITEM);
    let inner = text.get(lo..close - usize::from(escaped))?;
    for at in memchr::memrchr_iter(q, inner) {
        let open = lo + at;
        let open_escaped = open > 0 && text.get(open - 1) == Some(&b'\\');
        // An inner quote of the other escaping is part of the item.
        if open_escaped == escaped {
            return Some(open - usize::from(escaped));
        }
    }
    None
}

/// The key before the `[` at `open`: `key = [`, `key: [`, `"key": [`.
fn key_before(text: &[u8], open: usize) -> Option<(usize, usize)> {
    let i = blank_back(text, open);
    let sep = i.checked_sub(1)?;
    if !matches!(text.get(sep), Some(b':' | b'=')) {
        return None;
    }
    word_back(text, blank_back(text, sep))
}

/// The key of the YAML block list whose item's `-` is at `dash`: the
/// lines above it are items too, up to the `key:` line.
fn yaml_key(text: &[u8], dash: usize, memo: &Memo) -> Option<(usize, usize)> {
    let mut at = dash;
    for _ in 0..MAX_ITEMS {
        // The end of the line above (its last non-blank byte + 1).
        let start = line_start(text, at)?;
        let end = blank_back(text, start);
        let above = line_start(text, end).unwrap_or(0);
        let first = first_non_blank(text, above, end);
        if text.get(end.checked_sub(1)?) == Some(&b':') {
            return word_back(text, end - 1);
        }
        if text.get(first) != Some(&b'-') {
            return None;
        }
        if memo.item == Some(first) {
            return memo.key;
        }
        at = first;
    }
    None
}

/// The start of the line holding `i`: after a line break or its escape.
fn line_start(text: &[u8], i: usize) -> Option<usize> {
    let lo = i.saturating_sub(4096);
    let line = text.get(lo..i)?;
    let raw = memchr::memrchr(b'\n', line).map(|n| lo + n + 1);
    // An escape only after the raw line break counts: the search stays
    // within the line (a long list walks many lines).
    let from = raw.unwrap_or(lo);
    let escaped = memchr::memmem::rfind(text.get(from..i)?, b"\\n").map(|n| from + n + 2);
    escaped.or(raw)
}

/// The first byte in `from..to` that is no blank and no Read-tool
/// prefix (`to` when there is none).
fn first_non_blank(text: &[u8], from: usize, to: usize) -> usize {
    let mut i = from;
    while i < to {
        match text.get(i) {
            Some(b' ' | b'\t' | b'\r') => i += 1,
            Some(b'0'..=b'9') => i += 1,
            Some(0xE2) if text.get(i + 1..i + 3) == Some(&[0x86, 0x92]) => i += 3,
            _ => break,
        }
    }
    i
}

/// The key word that ends at `i`, past an optional closing quote.
fn word_back(text: &[u8], mut i: usize) -> Option<(usize, usize)> {
    if i > 0 && matches!(text.get(i - 1), Some(b'"' | b'\'')) {
        i -= 1;
        if i > 0 && text.get(i - 1) == Some(&b'\\') {
            i -= 1;
        }
    }
    // As the key scanner reads key words: the letter of a `\n` escape
    // before the key is none of it.
    let s = run_start_back(&WORD, text, i, MAX_KEY);
    (s < i).then_some((s, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key of the list holding `item` (its first occurrence after
    /// `@`), as text.
    fn key(input: &str) -> Option<&str> {
        let at = input.find('@').unwrap();
        let text = input.replace('@', " ");
        let s = text[at..].find("1234").unwrap() + at;
        key_of_item(text.as_bytes(), s, &mut Memo::default()).map(|(a, b)| &input[a..b])
    }

    /// Items looked up in order reach their key however long the list:
    /// each stops at the item before it.
    #[test]
    fn long_lists_through_the_memo() {
        for (head, item) in [
            ("\"AWS\": [\n", "  \"1234567890{:02}\",\n"),
            ("AWS:\n", "  - '1234567890{:02}'\n"),
        ] {
            let mut text = head.to_string();
            let mut starts = Vec::new();
            for n in 0..80 {
                starts.push(text.len() + item.find('1').unwrap());
                text.push_str(&item.replace("{:02}", &format!("{n:02}")));
            }
            let mut memo = Memo::default();
            for s in starts {
                let key = key_of_item(text.as_bytes(), s, &mut memo);
                assert_eq!(
                    key.map(|(a, b)| &text[a..b]),
                    Some("AWS"),
                    "{head:?} at {s}"
                );
            }
            // Without the memo the walk stops after MAX_ITEMS items.
            let last = text.rfind("123456789079").unwrap();
            assert_eq!(
                key_of_item(text.as_bytes(), last, &mut Memo::default()),
                None
            );
        }
    }

    #[test]
    fn table() {
        let cases: &[(&str, Option<&str>)] = &[
            (r#""AWS": [@"123456789012"]"#, Some("AWS")),
            (
                r#""AWS": ["arn:aws:iam::1:root", @"123456789012"]"#,
                Some("AWS"),
            ),
            (
                "\"AWS\": [\n  \"arn:x\",\n  \"2\",\n  @\"123456789012\"\n]",
                Some("AWS"),
            ),
            (
                r#"identifiers = ["arn:aws:iam::1:root", @"123456789012"]"#,
                Some("identifiers"),
            ),
            (
                r#"\"AWS\": [\n     7→    \"arn:x\",\n     8→    @\"123456789012\""#,
                Some("AWS"),
            ),
            (
                "Principal:\n  AWS:\n    - 'arn:x'\n    @- '123456789012'",
                Some("AWS"),
            ),
            (
                "AWS:\n    - !Sub 'arn:${AWS::Partition}'\n    @- \"123456789012\"",
                Some("AWS"),
            ),
            (r"AWS:\n     8→    @- '123456789012'", Some("AWS")),
            (r"x\nAWS:\n  @- '123456789012'", Some("AWS")),
            // Not items of a list.
            ("order @123456789012", None),
            ("x = [f(1), @\"123456789012\"]", None),
            ("notes:\n  some prose\n  @- '123456789012'", None),
            ("@- 123456789012 at the start", None),
        ];
        for (input, want) in cases {
            assert_eq!(key(input), *want, "{input}");
        }
    }
}
