//! Amazon Cognito pool ids, found by shape: a user pool id is a region, `_`
//! and nine letters and digits (`us-east-1_AbC123xyZ`); an identity pool id
//! is a region, `:` and a UUID (`eu-west-1:2f4b3dbd-74f7-407a-985c-7a684acdaa37`).
//! The region makes them distinctive: a bare UUID is not masked, a
//! region-qualified one is an identity pool.
//!
//! Both are anchored on the last `-` of the region (before its digit),
//! which the catalog's pass over dashes already visits.

use super::util::{before_is, class_has, is, m, ALNUM, WORD};
use super::{Family, Match};

/// Letters and digits after `_` in a user pool id.
const POOL_SUFFIX: usize = 9;

/// Appends the Cognito pool id whose region's last `-` is at `p`, if
/// there is one: `p + 1` is the region's digit and `p + 2` the `_` or `:`.
pub(super) fn at_dash(b: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    let Some(start) = region_start(b, p) else {
        return;
    };
    let sep = p + 2;
    match b.get(sep) {
        Some(b'_') => {
            let s = sep + 1;
            let end = s + POOL_SUFFIX;
            let suffix = b.get(s..end).unwrap_or_default();
            if suffix.len() == POOL_SUFFIX
                && suffix.iter().all(|&c| class_has(&ALNUM, c))
                && !is(&WORD, b, end)
            {
                out.push(m(start, end, "COGNITO_POOL", Family::NamedResources));
            }
        }
        Some(b':') => {
            let s = sep + 1;
            if b.get(s..s + 36).is_some_and(is_uuid)
                && !b.get(s + 36).is_some_and(|&c| class_has(&WORD, c))
            {
                out.push(m(
                    start,
                    s + 36,
                    "COGNITO_IDENTITY_POOL",
                    Family::NamedResources,
                ));
            }
        }
        _ => {}
    }
}

/// The start of the region that ends with `-<digit>` at `p`: two
/// lower-case letters, then `-word` groups (`us-east`, `us-gov-west`,
/// `ap-southeast`), at a word boundary.
fn region_start(b: &[u8], p: usize) -> Option<usize> {
    if !b.get(p + 1)?.is_ascii_digit() {
        return None;
    }
    let mut i = p;
    let mut groups = 0;
    loop {
        let word_end = i;
        while i > 0 && b.get(i - 1).is_some_and(u8::is_ascii_lowercase) {
            i -= 1;
        }
        if i == word_end || word_end - i > 10 {
            return None;
        }
        groups += 1;
        if i > 0 && b.get(i - 1) == Some(&b'-') && groups < 4 {
            i -= 1;
            continue;
        }
        break;
    }
    let first_len = b
        .get(i..)
        .unwrap_or_default()
        .iter()
        .take_while(|c| c.is_ascii_lowercase())
        .count();
    (groups >= 2 && first_len == 2 && !before_is(&WORD, b, i)).then_some(i)
}

/// Whether `s` is a UUID in its 8-4-4-4-12 hex form.
fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::super::tests::kinds_of;
    use super::*;

    fn found(input: &str) -> Vec<(&str, &str)> {
        kinds_of(input, |b, out| {
            for p in memchr::memchr_iter(b'-', b) {
                at_dash(b, p, out);
            }
        })
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "--user-pool-id us-east-1_AbC123xyZ\n",
                &[("us-east-1_AbC123xyZ", "COGNITO_POOL")],
            ),
            (
                "COGNITO_USER_POOL_ID=ap-southeast-2_1q4LfVAzW",
                &[("ap-southeast-2_1q4LfVAzW", "COGNITO_POOL")],
            ),
            (
                "\"UserPoolId\": \"us-gov-west-1_bgB4GIn2i\"",
                &[("us-gov-west-1_bgB4GIn2i", "COGNITO_POOL")],
            ),
            (
                "identity pool eu-north-1:82319bfd-cc49-4f61-bc17-da3b0703c226,",
                &[(
                    "eu-north-1:82319bfd-cc49-4f61-bc17-da3b0703c226",
                    "COGNITO_IDENTITY_POOL",
                )],
            ),
            // Near misses.
            ("us-east-1_short", &[]),
            ("us-east-1_AbC123xyZtoolong", &[]),
            ("version-1_AbC123xyZ", &[]),
            ("xus-east-1_AbC123xyZ", &[]),
            ("82319bfd-cc49-4f61-bc17-da3b0703c226", &[]),
            ("us-east-1:82319bfd-cc49", &[]),
            ("a-b-c-d-e-1_AbC123xyZ", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(found(input), *want, "{input}");
        }
    }
}
