//! Values in CSV exports (the console's "Download CSV", Cost Explorer,
//! Athena results, `Organizations` account lists): a header row of column
//! titles, then rows of as many fields. A field counts only under a
//! title that names values (`LinkedAccount`, `Instance ID`, `Id` of a list
//! of accounts is not enough alone: see [`tables::key_of`]), and only if
//! it is valid for it.
//!
//! A header is looked for where a table starts: the text's first line
//! and the first line of each paragraph. It is one when it looks like one
//! (two or more commas, short titles at the margin, no brackets, `=` or
//! `;` of code).

use super::named_resources::{self, Rule};
use super::tables;
use super::util::line_at;
use super::{Family, Match};
use crate::config::Detectors;
use memchr::memmem::Finder;
use std::sync::OnceLock;

/// Longest line read as a row.
const MAX_LINE: usize = 4096;
/// Most columns of a header.
const MAX_COLUMNS: usize = 64;
/// How far into a text a table is looked for after a blank line.
const PARAGRAPHS_WITHIN: usize = 16 * 1024;
/// Most rows read under one header.
const MAX_ROWS: usize = 100_000;

/// Appends the values of every CSV table in `text`.
pub(super) fn find(text: &[u8], on: &Detectors, out: &mut Vec<Match<'_>>) {
    let mut next = 0;
    let mut at_line = |start: usize| {
        if start < next || !may_head(text, start) {
            return;
        }
        let (end, after) = line_at(text, start);
        if let Some(header) = header_at(text, start, end, on) {
            next = rows(text, after, &header, on, out);
        }
    };
    // A table starts a text (a file read, a command's output) or a
    // paragraph: only those lines are looked at, not every line of code.
    at_line(0);
    // Paragraphs are looked for only near the start of a text: a pasted
    // table follows a sentence or two, and a file a tool read starts with
    // its header. Searching every blank line of a long file of code cost
    // more in the .wasm than every other detector added with this one.
    let text = text
        .get(..text.len().min(PARAGRAPHS_WITHIN))
        .unwrap_or_default();
    let (raw, escaped) = blank_lines();
    // A raw JSON literal holds its line breaks as `\n` escapes, and has
    // no other.
    if memchr::memchr(b'\n', text).is_some() {
        raw.find_iter(text).for_each(|i| at_line(i + 2));
    } else {
        escaped.find_iter(text).for_each(|i| at_line(i + 4));
    }
}

/// The searchers for a blank line, as it stands and as a raw JSON
/// literal holds it (`\n\n`), built once.
fn blank_lines() -> &'static (Finder<'static>, Finder<'static>) {
    static FINDERS: OnceLock<(Finder<'static>, Finder<'static>)> = OnceLock::new();
    FINDERS.get_or_init(|| (Finder::new(b"\n\n"), Finder::new(b"\\n\\n")))
}

/// Whether the line at `start` may be a header, by its first bytes
/// alone (most lines of code and prose fail here): it starts with a
/// letter or a quote, and a comma ends its first title within 64 bytes.
fn may_head(text: &[u8], start: usize) -> bool {
    // The first byte first: indented code, comments and blank lines stop
    // here.
    if !text
        .get(start)
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'"')
    {
        return false;
    }
    let window = text
        .get(start..(start + 66).min(text.len()))
        .unwrap_or_default();
    let Some(comma) = memchr::memchr(b',', window) else {
        return false;
    };
    window.get(..comma).is_some_and(|title| {
        title.iter().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'-' | b'"' | b'.' | b'/')
        })
    })
}

/// The header's columns, when the line `text[start..end]`, which
/// [`may_head`] let through, is a CSV header at least one of whose titles
/// names values.
fn header_at(text: &[u8], start: usize, end: usize, on: &Detectors) -> Option<Vec<(usize, usize)>> {
    let line = text.get(start..end)?;
    // `may_head` saw a letter or a quote at the margin (prose wrapped in a
    // docstring or a comment is indented) and a comma.
    if line.len() > MAX_LINE
        || line.iter().any(|b| {
            matches!(
                b,
                b'(' | b')' | b'{' | b'}' | b'=' | b';' | b'[' | b'<' | b'|' | b'\t'
            )
        })
    {
        return None;
    }
    let cells = fields(text, start, end);
    // A title is a few words, not a clause of a sentence.
    let title = |&(s, e): &(usize, usize)| {
        let words = text
            .get(s..e)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| b == b' ')
            .count()
            + 1;
        e > s && e - s <= 64 && words <= 4
    };
    if !(3..=MAX_COLUMNS).contains(&cells.len()) || !cells.iter().all(title) {
        return None;
    }
    cells
        .iter()
        .any(|&c| tables::key_of(text, c, on).is_some())
        .then_some(cells)
}

/// Reads the rows under a header from `start` (the line after it);
/// returns where the table ends.
fn rows(
    text: &[u8],
    mut start: usize,
    header: &[(usize, usize)],
    on: &Detectors,
    out: &mut Vec<Match<'_>>,
) -> usize {
    for _ in 0..MAX_ROWS {
        if start >= text.len() {
            return text.len();
        }
        let (end, next) = line_at(text, start);
        let row = fields(text, start, end);
        if end - start > MAX_LINE || row.len() != header.len() {
            return start;
        }
        for (&k, &v) in header.iter().zip(&row) {
            if v.1 <= v.0 {
                continue;
            }
            // Beside columns of AWS values, `Name` is the resource's name
            // (an instance's `Name` tag, an account's name).
            let pushed = tables::push_value(text, k, v, on, out);
            if !pushed
                && text
                    .get(k.0..k.1)
                    .is_some_and(|t| t.eq_ignore_ascii_case(b"name"))
            {
                let value = text.get(v.0..v.1).unwrap_or_default();
                let name = named_resources::whole_as(
                    value,
                    Rule::Name,
                    "NAME",
                    Family::NamedResources,
                    on,
                );
                if let Some(name) = name {
                    out.push(Match {
                        start: v.0 + name.start,
                        end: v.0 + name.end,
                        ..name
                    });
                }
            }
        }
        start = next;
    }
    start
}

/// The fields of the line `text[start..end]`, split at commas outside
/// double quotes, each without its quotes and blanks.
fn fields(text: &[u8], start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut s = start;
    let mut quoted = false;
    let end = if text.get(end.wrapping_sub(1)) == Some(&b'\r') && end > start {
        end - 1
    } else {
        end
    };
    for i in start..=end {
        let b = text.get(i).copied();
        match b {
            Some(b'"') => quoted = !quoted,
            Some(b',') | None if !quoted => {
                out.push(trim(text, s, i));
                s = i + 1;
            }
            _ if i == end && !quoted => {
                out.push(trim(text, s, i));
            }
            _ => {}
        }
    }
    out
}

/// `text[s..e]` without blanks and one pair of double quotes around it.
fn trim(text: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e && matches!(text.get(s), Some(b' ')) {
        s += 1;
    }
    while e > s && matches!(text.get(e - 1), Some(b' ')) {
        e -= 1;
    }
    if e >= s + 2 && text.get(s) == Some(&b'"') && text.get(e - 1) == Some(&b'"') {
        (s + 1, e - 1)
    } else {
        (s, e)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::kinds_of;
    use super::*;

    fn found(input: &str) -> Vec<(&str, &str)> {
        kinds_of(input, |b, out| find(b, &Detectors::default(), out))
    }

    #[test]
    fn csv_tables() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "Service,LinkedAccount,LinkedAccountName,UsageType\nAWS Lambda,729563178897,bluefin-dev,USE1-Lambda\n",
                &[("729563178897", "NAME"), ("bluefin-dev", "NAME")],
            ),
            (
                "Here it is:\\n\\nService,LinkedAccount,UsageType\\nAWS Lambda,729563178897,USE1-Lambda\\n",
                &[("729563178897", "NAME")],
            ),
            (
                "The export:\n\nService,LinkedAccount,UsageType\nAWS Lambda,729563178897,USE1-Lambda\n",
                &[("729563178897", "NAME")],
            ),
            // A raw JSON literal's lines end at `\n` escapes.
            (
                "Service,LinkedAccount,UsageType\\nAWS Lambda,729563178897,USE1-Lambda\\n",
                &[("729563178897", "NAME")],
            ),
            (
                "\"Name\",\"Instance ID\",\"Instance type\"\n\"web-prod-a\",\"i-0c36098b2cc2bd818\",\"m6i.large\"\n",
                &[("web-prod-a", "NAME"), ("i-0c36098b2cc2bd818", "ID")],
            ),
            // Code with commas is no header.
            ("def f(account_id, bucket, role):\n    return 1,2,3\n", &[]),
            ("a,b,c\n1,2,3\n", &[]),
            (
                "        archive name, compiling if necessary.  For example, given\n        /python/lib/string, return (/python/lib/string.pyc, string).\n",
                &[],
            ),
            (
                "Given an archive name, compile it if it is necessary, for example, given\n/python/lib/string, x, y, z\n",
                &[],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(found(input), *want, "{input}");
        }
    }
}
