//! AWS Organizations ids: organization `o-…`, organizational unit
//! `ou-…-…` and root `r-…`.
//!
//! Anchored on `-`. `o-` and `r-` ids must contain a digit so that words
//! such as `o-ring` or `r-value` never match (an `o-` id as a path segment,
//! `organization/o-exampleorgid`, need not); all ids need a non-word byte
//! before them and a non-alphanumeric, non-dash byte after.

use super::util::{before_is, is, m, run_len, ALNUM, LOWER_ALNUM, WORD};
use super::{Family, Match};

fn has_digit(v: &[u8]) -> bool {
    v.iter().any(u8::is_ascii_digit)
}

/// Whether the id ending at `end` is followed by a boundary.
fn ends_clean(text: &[u8], end: usize) -> bool {
    !is(&ALNUM, text, end) && text.get(end) != Some(&b'-')
}

/// Appends every Organizations id in `text`.
#[cfg(test)]
pub(super) fn find(text: &[u8], out: &mut Vec<Match<'_>>) {
    for dash in memchr::memchr_iter(b'-', text) {
        at_dash(text, dash, out);
    }
}

/// Appends the id whose (first) dash is at `dash`, if there is one. The
/// catalog calls it for every `-`, in one pass shared with other families.
pub(super) fn at_dash(text: &[u8], dash: usize, out: &mut Vec<Match<'_>>) {
    let Some(before) = text.get(..dash) else {
        return;
    };
    let (start, prefix) = if before.ends_with(b"ou") {
        (dash - 2, &b"ou"[..])
    } else if before.ends_with(b"o") {
        (dash - 1, &b"o"[..])
    } else if before.ends_with(b"r") {
        (dash - 1, &b"r"[..])
    } else {
        return;
    };
    if before_is(&WORD, text, start) {
        return;
    }
    let a = dash + 1;
    let n = run_len(&LOWER_ALNUM, text, a, 33);
    let Some(part) = text.get(a..a + n) else {
        return;
    };
    match prefix {
        b"ou" => {
            if !(4..=32).contains(&n) || text.get(a + n) != Some(&b'-') {
                return;
            }
            let b = a + n + 1;
            let n2 = run_len(&LOWER_ALNUM, text, b, 33);
            if (8..=32).contains(&n2) && ends_clean(text, b + n2) {
                out.push(m(start, b + n2, "ORG_OU", Family::Organizations));
            }
        }
        b"o" => {
            // A path segment (`organization/o-exampleorgid`,
            // `AwsTagPolicies/o-…/`) is an id without a digit too.
            let segment = start > 0 && text.get(start - 1) == Some(&b'/');
            if (10..=32).contains(&n) && (segment || has_digit(part)) && ends_clean(text, a + n) {
                out.push(m(start, a + n, "ORG", Family::Organizations));
            }
        }
        _ => {
            if (4..=32).contains(&n) && has_digit(part) && ends_clean(text, a + n) {
                out.push(m(start, a + n, "ORG_ROOT", Family::Organizations));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::values_of;
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("org o-a1b2c3d4e5 here", &["o-a1b2c3d4e5"]),
            ("\"o-exampleorgid1\"", &["o-exampleorgid1"]),
            ("ou-ab12-cdef3456", &["ou-ab12-cdef3456"]),
            ("root r-ab12.", &["r-ab12"]),
            ("Id: r-0a1b", &["r-0a1b"]),
            // Near misses.
            ("o-rings and o-ringsets and r-value", &[]),
            ("o-abcdefghij", &[]),
            (
                "organizations::123456789012:organization/o-exampleorgid ",
                &["o-exampleorgid"],
            ),
            ("see /o-rings and /o-ringsets", &[]),
            ("o-a1b2c3", &[]),
            ("foo-o-a1b2c3d4e5", &[]),
            ("vector-ab12", &[]),
            ("r-ab1", &[]),
            ("r-ab12-x", &[]),
            ("ou-ab12-cdef345", &[]),
            ("ou-ab12-cdef3456X", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(values_of(find, input), *want, "{input}");
        }
    }
}
