//! Values in the tables that `--output table` and Markdown print: a
//! key cell and the value cell after it on one row (`||  KeyName   |
//! my-key  ||`, `| FunctionName | pay-v2 |`, CloudFormation's outputs
//! `| Bucket for assets | AssetsBucket | acme-assets |`), or a header row
//! of keys and the rows under it (`| DBInstanceIdentifier | Status |`
//! then `| prod-db | available |`).
//! A cell counts as a value only under a key that names something
//! (the key-context scanner's keys), and only if it is valid for it.
//!
//! Rows are found at the `|` that starts a line (after blanks, a line
//! break, its `\n` escape, or the Read tool's `N→` prefix).

use super::named_resources;
use super::Match;
use crate::config::Detectors;

/// Longest table row looked at.
const MAX_ROW: usize = 4096;
/// Most cells in a header that is remembered.
const MAX_CELLS: usize = 32;

/// A header row: its cells' text spans, for the rows under it.
#[derive(Default)]
struct Header {
    cells: Vec<(usize, usize)>,
    /// Where the last row of the table (header, rule or data) ended.
    end: usize,
}

/// Appends the values in every table row of `text`.
pub(super) fn find(text: &[u8], on: &Detectors, out: &mut Vec<Match<'_>>) {
    let mut header: Option<Header> = None;
    let mut next = 0;
    for p in memchr::memchr_iter(b'|', text) {
        if p < next || !at_line_start(text, p) {
            continue;
        }
        let end = row_end(text, p);
        next = end;
        let cells = cells(text, p, end);
        if let Some(h) = header.as_ref().filter(|h| continues(text, h.end, p)) {
            if cells.len() == h.cells.len() {
                for (&(ks, ke), &(vs, ve)) in h.cells.iter().zip(&cells) {
                    push_value(text, (ks, ke), (vs, ve), on, out);
                }
                if let Some(h) = header.as_mut() {
                    h.end = end;
                }
                continue;
            }
        }
        header = None;
        let mut paired = false;
        for pair in cells.windows(2) {
            if let [k, v] = *pair {
                if distinctive(text, v) {
                    paired |= push_value(text, k, v, on, out);
                }
            }
        }
        if !paired
            && (2..=MAX_CELLS).contains(&cells.len())
            && cells.iter().any(|&c| names(text, c, on))
        {
            header = Some(Header { cells, end });
        }
    }
}

/// Whether a cell next to a key cell looks like a value, not like the
/// next column's title (`| FunctionName | Runtime |`): it has a byte
/// other than a letter, or is CamelCase (`PaymentsWorkerPrd`).
fn distinctive(text: &[u8], (s, e): (usize, usize)) -> bool {
    let v = text.get(s..e).unwrap_or_default();
    v.iter().any(|b| !b.is_ascii_alphabetic())
        || v.windows(2)
            .any(|w| matches!(w, [l, u] if l.is_ascii_lowercase() && u.is_ascii_uppercase()))
}

/// Whether the `|` at `p` starts its line.
fn at_line_start(text: &[u8], p: usize) -> bool {
    let mut i = p;
    while i > 0 && matches!(text.get(i - 1), Some(b' ' | b'\t')) {
        i -= 1;
    }
    if i == 0 || text.get(i - 1) == Some(&b'\n') {
        return true;
    }
    if i >= 2 && text.get(i - 2..i) == Some(b"\\n") {
        return true;
    }
    // `     7→|…`
    i >= 3 && text.get(i - 3..i) == Some("→".as_bytes())
}

/// The end of the row that starts at `p`: its line break or `\n` escape.
fn row_end(text: &[u8], p: usize) -> usize {
    let limit = (p + MAX_ROW).min(text.len());
    let line = text.get(p..limit).unwrap_or_default();
    let raw = memchr::memchr2(b'\n', b'\r', line);
    let escaped = memchr::memmem::find(line, b"\\n");
    p + raw.into_iter().chain(escaped).min().unwrap_or(line.len())
}

/// The non-empty cells of the row `text[from..to]`, trimmed (a nested
/// table's `||` makes empty ones).
fn cells(text: &[u8], from: usize, to: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut s = from;
    let row = text.get(from..to).unwrap_or_default();
    for bar in memchr::memchr_iter(b'|', row).map(|i| from + i).chain([to]) {
        let (mut a, mut b) = (s, bar);
        while a < b && matches!(text.get(a), Some(b' ' | b'\t' | b'|')) {
            a += 1;
        }
        while b > a && matches!(text.get(b - 1), Some(b' ' | b'\t')) {
            b -= 1;
        }
        if a < b {
            out.push((a, b));
        }
        s = bar + 1;
    }
    out
}

/// Whether the text between the end of a table row and the row at `p`
/// is only line breaks, blanks and rule lines (`+----+`), so `p`'s row
/// is in the same table.
fn continues(text: &[u8], end: usize, p: usize) -> bool {
    p >= end
        && p - end <= 512
        && text.get(end..p).is_some_and(|gap| {
            gap.iter().all(|&b| {
                matches!(
                    b,
                    b'\n' | b'\r' | b' ' | b'\t' | b'+' | b'-' | b'|' | b'\\' | b'n'
                ) || b.is_ascii_digit()
                    || b >= 0x80
            })
        })
}

/// Whether the cell `text[s..e]` is a key word that names something.
fn names(text: &[u8], (s, e): (usize, usize), on: &Detectors) -> bool {
    std::str::from_utf8(text.get(s..e).unwrap_or_default())
        .is_ok_and(|key| named_resources::names_values(key, on))
}

/// Appends the value cell `v` if the key cell `k` names it; whether it
/// did.
fn push_value(
    text: &[u8],
    (ks, ke): (usize, usize),
    (vs, ve): (usize, usize),
    on: &Detectors,
    out: &mut Vec<Match<'_>>,
) -> bool {
    let as_str = |s: usize, e: usize| std::str::from_utf8(text.get(s..e).unwrap_or_default()).ok();
    let (Some(key), Some(value)) = (as_str(ks, ke), as_str(vs, ve)) else {
        return false;
    };
    match named_resources::whole_value(key, value, on) {
        Some(m) => {
            out.push(Match {
                start: vs + m.start,
                end: vs + m.end,
                kind: m.kind,
                family: m.family,
            });
            true
        }
        None => false,
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
    fn table() {
        let rds = "\
+----------------------+------------+
| DBInstanceIdentifier |   Status   |
+----------------------+------------+
| RecsBillingUat       | available  |
| sync_auth_prd        | creating   |
+----------------------+------------+
";
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                rds,
                &[("RecsBillingUat", "RDS_DB"), ("sync_auth_prd", "RDS_DB")],
            ),
            (
                "||  KeyName         |  stark-notify-staging   ||\n",
                &[("stark-notify-staging", "NAME")],
            ),
            (
                "| Bucket for static assets | AssetsBucket | qa-umbrella-logs |\n",
                &[("qa-umbrella-logs", "S3_BUCKET")],
            ),
            ("| FunctionName | Runtime |\n", &[]),
            (
                "| FunctionName | settle-payments |\\n| Runtime | python3.12 |\\n",
                &[("settle-payments", "LAMBDA")],
            ),
            // Not a table of AWS keys; a header without rows under it.
            ("| Name | Value |\n| x | y |\n", &[]),
            (
                "| FunctionName | Memory |\nsome prose\n| pay-v2 | 128 |\n",
                &[],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(found(input), *want, "{input}");
        }
    }
}
