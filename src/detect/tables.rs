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
        // A rule (`|+-----+-----+|`, `|---|:--|`) keeps the table going.
        let rule = cells.iter().all(|&(s, e)| {
            text.get(s..e).is_some_and(|c| {
                c.iter()
                    .all(|b| matches!(b, b'+' | b'-' | b'=' | b':' | b'|'))
            })
        });
        if rule {
            if let Some(h) = header.as_mut().filter(|h| continues(text, h.end, p)) {
                h.end = end;
            }
            continue;
        }
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
        // A row of two or more key words is a header, not key | value
        // pairs (`| AllocationId | AssociationId |`).
        let keys = cells.iter().filter(|&&c| names(text, c, on)).count();
        if keys >= 2 && cells.len() <= MAX_CELLS {
            header = Some(Header { cells, end });
            continue;
        }
        let mut paired = false;
        for pair in cells.windows(2) {
            if let [k, v] = *pair {
                if distinctive(text, v) {
                    paired |= push_value(text, k, v, on, out);
                }
            }
        }
        // One key word alone heads a list (`|| TableNames ||`).
        if !paired && (1..=MAX_CELLS).contains(&cells.len()) && keys >= 1 {
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
    key_of(text, (s, e), on).is_some()
}

/// Resource nouns that head a column of names or ids in a table people
/// write (`| Role |`, `| Bucket |`, `| AWS Account |`).
const NOUNS: &[&str] = &[
    "account",
    "bucket",
    "role",
    "function",
    "table",
    "queue",
    "topic",
    "cluster",
    "stack",
    "user",
    "repository",
    "secret",
    "instance",
    "vpc",
    "subnet",
    "distribution",
    "pipeline",
    "service",
];

/// The key a header cell names values by, if it names any: the cell
/// itself (`FunctionName`), written as people title a column (`Account
/// ID`, `` `Bucket` ``), a list's plural (`TableNames`), or a resource
/// noun (`Role`: `RoleName`; `AWS Account`: `AccountId`).
pub(super) fn key_of(text: &[u8], (s, e): (usize, usize), on: &Detectors) -> Option<String> {
    let cell = std::str::from_utf8(text.get(s..e)?).ok()?;
    if cell.len() > 64 {
        return None;
    }
    let compact: String = cell
        .chars()
        .filter(|c| !matches!(c, ' ' | '`' | '*'))
        .collect();
    let noun = NOUNS
        .iter()
        .find(|n| {
            compact.len() >= n.len()
                && compact
                    .get(compact.len() - n.len()..)
                    .is_some_and(|t| t.eq_ignore_ascii_case(n))
        })
        .map(|n| compact.get(compact.len() - n.len()..).unwrap_or(n));
    let singular = compact
        .strip_suffix(['s', 'S'])
        .filter(|s| s.len() >= 4)
        .map(str::to_owned);
    [Some(compact.clone()), singular]
        .into_iter()
        .flatten()
        .chain(
            noun.into_iter()
                .flat_map(|n| [format!("{n}Name"), format!("{n}Id")]),
        )
        .find(|k| named_resources::names_values(k, on))
}

/// Appends the value cell `v` if the key cell `k` names it; whether it
/// did.
pub(super) fn push_value(
    text: &[u8],
    (ks, ke): (usize, usize),
    (vs, ve): (usize, usize),
    on: &Detectors,
    out: &mut Vec<Match<'_>>,
) -> bool {
    // `` `halcyon-user-uploads` ``: Markdown's code span.
    let (vs, ve) = match text.get(vs..ve) {
        Some([b'`', .., b'`']) if ve - vs > 2 => (vs + 1, ve - 1),
        _ => (vs, ve),
    };
    let value = std::str::from_utf8(text.get(vs..ve).unwrap_or_default()).ok();
    let (Some(key), Some(value)) = (key_of(text, (ks, ke), on), value) else {
        return false;
    };
    match named_resources::whole_value(&key, value, on) {
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
