//! KMS key ids: a UUID right after `key/` (in or out of an ARN), and
//! multi-Region key ids `mrk-` + 32 hex digits anywhere. A UUID in `KeyId`
//! context is found by the key-context scanner (`named_resources`).

use super::util::{before_is, is, m, run_len, ALNUM, HEX_LOWER, WORD};
use super::{Family, Match};
#[cfg(test)]
use memchr::memmem::Finder;

/// Whether `v` is a UUID, 8-4-4-4-12 hex digits (either case).
pub(super) fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Whether `v` is a multi-Region key id, `mrk-` + 32 lower-case hex.
pub(super) fn is_mrk(v: &[u8]) -> bool {
    v.len() == 36
        && v.starts_with(b"mrk-")
        && v.iter()
            .skip(4)
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Appends every KMS key id in `text`.
#[cfg(test)]
pub(super) fn find(
    text: &[u8],
    key_slash: &Finder<'static>,
    mrk: &Finder<'static>,
    out: &mut Vec<Match<'_>>,
) {
    find_key_ids(text, key_slash, out);
    for p in mrk.find_iter(text) {
        mrk_at_dash(text, p + 3, out);
    }
}

/// Appends every key id after `key/` (`key_slash` finds it; the reference
/// for [`key_id_at_dash`]).
#[cfg(test)]
fn find_key_ids(text: &[u8], key_slash: &Finder<'static>, out: &mut Vec<Match<'_>>) {
    for p in key_slash.find_iter(text) {
        key_id_at_dash(text, p + 12, out);
    }
}

/// Appends the key id after `key/` whose first dash (a UUID's, 8 hex
/// digits in) is at `dash`, if there is one (the catalog calls it for
/// every `-`).
pub(super) fn key_id_at_dash(text: &[u8], dash: usize, out: &mut Vec<Match<'_>>) {
    // Byte comparisons, not a slice comparison: this runs at every dash.
    let Some(p) = dash.checked_sub(12) else {
        return;
    };
    if !matches!(text.get(p..p + 4), Some([b'k', b'e', b'y', b'/'])) {
        return;
    }
    let s = p + 4;
    if let Some(v) = text.get(s..s + 36) {
        if is_uuid(v) && !is(&ALNUM, text, s + 36) && text.get(s + 36) != Some(&b'-') {
            out.push(m(s, s + 36, "KMS_KEY", Family::KmsKeys));
        }
    }
}

/// Appends the multi-Region key id `mrk-…` whose dash is at `dash`, if
/// there is one (the catalog calls it for every `-`).
pub(super) fn mrk_at_dash(text: &[u8], dash: usize, out: &mut Vec<Match<'_>>) {
    let Some(p) = dash.checked_sub(3) else {
        return;
    };
    if text.get(p..dash) != Some(b"mrk") || before_is(&WORD, text, p) {
        return;
    }
    let n = run_len(&HEX_LOWER, text, p + 4, 33);
    if n == 32 && !is(&ALNUM, text, p + 36) {
        out.push(m(p, p + 36, "KMS_KEY", Family::KmsKeys));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(input: &str) -> Vec<&str> {
        let mut out = Vec::new();
        find(
            input.as_bytes(),
            &Finder::new(b"key/").into_owned(),
            &Finder::new(b"mrk-").into_owned(),
            &mut out,
        );
        out.iter().map(|m| &input[m.start..m.end]).collect()
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            (
                "key/1234abcd-12ab-34cd-56ef-1234567890ab",
                &["1234abcd-12ab-34cd-56ef-1234567890ab"],
            ),
            (
                "use mrk-1234abcd12ab34cd56ef1234567890ab.",
                &["mrk-1234abcd12ab34cd56ef1234567890ab"],
            ),
            // Near misses.
            ("key/value pairs", &[]),
            ("UUID 550e8400-e29b-41d4-a716-446655440000", &[]),
            ("key/1234abcd-12ab-34cd-56ef-1234567890abc", &[]),
            ("xmrk-1234abcd12ab34cd56ef1234567890ab", &[]),
            ("mrk-1234abcd12ab34cd56ef1234567890", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(values(input), *want, "{input}");
        }
    }
}
