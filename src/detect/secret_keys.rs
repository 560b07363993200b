//! Secret access keys: 40 characters of `[A-Za-z0-9/+=]` when bare,
//! 30 to 60 (or their percent-encoded form) under a secret-key key word.
//!
//! Forty base64 characters are too common to mask blindly, so a secret key
//! is masked only in context: after a key word such as
//! `aws_secret_access_key` (found by the key-context scanner in
//! `named_resources`, which calls [`is_keyed_secret`]), or as a mixed-case
//! run of exactly 40 within 200 bytes after an access key id (credentials
//! CSV, `aws configure list` style output). A pure hex string (a git SHA)
//! is never a secret key. In JSON-escaped text, `\n` counts as the one
//! newline it stands for.

use super::util::{class_has, is_escape_letter, m, percent_b64_len, B64};
use super::{Family, Match};

/// How far after an access key id a bare secret key is looked for.
const NEAR: usize = 200;

/// Whether `v` can be a secret access key (in context).
fn is_secret_key(v: &[u8]) -> bool {
    v.len() == 40 && v.iter().all(|&b| class_has(&B64, b)) && !super::util::is_pure_hex(v)
}

/// Whether `v`, found right after an explicit secret-key key word
/// (`aws_secret_access_key = …`), is a secret: there any length from 30 to
/// 60 counts (AWS's own documentation placeholders have 41), and so does
/// the percent-encoded form of a connection URI (`%2F`, `%2B`, `%3D`),
/// whose raw text is what gets masked and restored. Pure hex is a digest,
/// not a key; a value with no digit, `/` or `+` and one case only is a
/// placeholder word, not a key.
pub(super) fn is_keyed_secret(v: &[u8]) -> bool {
    let Some(decoded) = percent_b64_len(v) else {
        return false;
    };
    (30..=60).contains(&decoded)
        && !super::util::is_pure_hex(v)
        && (v
            .iter()
            .any(|b| b.is_ascii_digit() || matches!(b, b'/' | b'+' | b'%'))
            || (v.iter().any(u8::is_ascii_uppercase) && v.iter().any(u8::is_ascii_lowercase)))
}

/// Whether `v` looks like a secret key without any key word: upper and
/// lower case and a digit, `/` or `+`.
fn looks_random(v: &[u8]) -> bool {
    is_secret_key(v)
        && v.iter().any(u8::is_ascii_uppercase)
        && v.iter().any(u8::is_ascii_lowercase)
        && v.iter()
            .any(|b| b.is_ascii_digit() || *b == b'/' || *b == b'+')
}

/// Appends every secret key found near an access key id in `text`.
#[cfg(test)]
pub(super) fn find_near_access_keys(text: &[u8], out: &mut Vec<Match<'_>>) {
    find_near(text, &super::access_keys::spans(text), out)
}

/// The secret of a URI's `user:secret@` whose user is the access key id
/// ending at `key_end` (`s3://AKIA…:secret@host`, SQLAlchemy's
/// `awsathena+rest://AKIA…:secret@athena…`): any keyed-secret shape,
/// percent-encoded too.
fn uri_secret(text: &[u8], key_end: usize) -> Option<(usize, usize)> {
    if text.get(key_end) != Some(&b':') {
        return None;
    }
    let s = key_end + 1;
    let n = text
        .get(s..)?
        .iter()
        .take(181)
        .take_while(|&&b| class_has(&B64, b) || b == b'%')
        .count();
    let e = s + n;
    (text.get(e) == Some(&b'@') && is_keyed_secret(text.get(s..e)?)).then_some((s, e))
}

/// [`find_near_access_keys`] with the access key ids already found.
pub(super) fn find_near(text: &[u8], keys: &[(usize, usize)], out: &mut Vec<Match<'_>>) {
    let mut from = 0;
    for &(_, key_end) in keys {
        if let Some((s, e)) = uri_secret(text, key_end) {
            out.push(m(s, e, "SECRET_KEY", Family::SecretKeys));
            from = e;
            continue;
        }
        let mut i = key_end.max(from);
        let limit = reach(text, key_end, NEAR);
        while i < limit {
            let b = text.get(i).copied().unwrap_or_default();
            if !class_has(&B64, b) || is_escape_letter(text, i) {
                i += 1;
                continue;
            }
            let mut s = i;
            while text.get(i).is_some_and(|&b| class_has(&B64, b)) {
                i += 1;
            }
            // `Password=<key>` (a JDBC URL's `User=AKIA…;Password=…`): a
            // key holds no `=`, so what follows the last one inside the
            // run is the value.
            let run = text.get(s..i).unwrap_or_default();
            if let Some(eq) = run.iter().rposition(|&b| b == b'=') {
                if eq + 1 < run.len() {
                    s += eq + 1;
                }
            }
            if text.get(s..i).is_some_and(looks_random) {
                out.push(m(s, i, "SECRET_KEY", Family::SecretKeys));
            }
        }
        from = i;
    }
}

/// The end of the `n` bytes of `text` from `from` on, where the two bytes
/// of an escape (`\n`) count as the one byte they stand for.
fn reach(text: &[u8], from: usize, n: usize) -> usize {
    let mut end = (from + n).min(text.len());
    let mut counted = from;
    loop {
        let escapes = text
            .get(counted..end)
            .map_or(0, |t| memchr::memchr_iter(b'\\', t).count());
        if escapes == 0 {
            return end;
        }
        counted = end;
        end = (end + escapes).min(text.len());
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::values_of;
    use super::*;

    #[test]
    fn near_access_keys() {
        let cases: &[(&str, &[&str])] = &[
            (
                "User,AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
                &["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
            ),
            (
                "access_key ****************MPLE shared-credentials-file\nAKIAIOSFODNN7EXAMPLE  je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
                &["je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"],
            ),
            (
                "s3://AKIAIOSFODNN7EXAMPLE:HJHefV65ctyHHVfWnfBrej7qUVRX6log%2FlB8VEF5@s3.amazonaws.com/b",
                &["HJHefV65ctyHHVfWnfBrej7qUVRX6log%2FlB8VEF5"],
            ),
            ("s3://AKIAIOSFODNN7EXAMPLE:short@host", &[]),
            // Near misses: no access key, a git SHA, lower case only, 41 chars.
            ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &[]),
            ("AKIAIOSFODNN7EXAMPLE 3f9a1c2e7b4d5a6f8e9d0c1b2a3f4e5d6c7b8a9f", &[]),
            ("AKIAIOSFODNN7EXAMPLE abcdefghijklmnopqrstuvwxyzabcdefghijklmn", &[]),
            ("AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYX", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(values_of(find_near_access_keys, input), *want, "{input}");
        }
        assert!(is_secret_key(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(!is_secret_key(b"3f9a1c2e7b4d5a6f8e9d0c1b2a3f4e5d6c7b8a9f"));
        assert!(!is_secret_key(b"short"));
    }

    #[test]
    fn keyed_secrets_of_other_lengths_and_percent_encoded() {
        let cases: &[(&str, bool)] = &[
            ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY", true),
            ("Cx4vbwh0bM+9/5Y9uUbJu4V3NgIJP8v8aKEXAMPLE", true),
            ("I1E2%2Bika9IrzmCYDZYMCYP7mHBoU5y4PN1hb%2Fokw", true),
            ("uZw9Fazr8S%2BCf8HKjsu%2Bsud56FlS%2BHv4hnfttvn%2B", true),
            ("I1E2%2Bika9IrzmCYDZYMCYP7mHBoU5y4PN1hb%2Gokw", false),
            ("I1E2%2", false),
            ("changeme", false),
            ("0123456789abcdef0123456789abcdef01234567", false),
            ("YOURSECRETACCESSKEYGOESHEREPLEASEOK", false),
        ];
        assert!(!is_keyed_secret("a1".repeat(31).as_bytes()));
        for (v, want) in cases {
            assert_eq!(is_keyed_secret(v.as_bytes()), *want, "{v}");
        }
    }

    /// The reach after an access key counts the two bytes of a `\n` as
    /// the one newline they stand for, so JSON-escaped text reaches as far
    /// as its decoded form.
    #[test]
    fn reach_counts_an_escape_as_one_byte() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        for (lines, found) in [(60, true), (80, false)] {
            // Each line decodes to 2 bytes (`x` and a newline), 3 raw.
            let gap = format!(" {}{}", "x\\n".repeat(lines), " ".repeat(49));
            let decoded = gap.replace("\\n", "\n");
            for text in [&gap, &decoded] {
                let input = format!("AKIAIOSFODNN7EXAMPLE{text}{secret}");
                let want: &[&str] = if found { &[secret] } else { &[] };
                assert_eq!(
                    values_of(find_near_access_keys, &input),
                    want,
                    "{lines} lines"
                );
            }
        }
        assert_eq!(reach(b"ab\\ncd", 0, 4), 5);
        assert_eq!(reach(b"ab", 0, 4), 2);
    }
}
