//! Access key ids and IAM unique ids: a known four-letter prefix (`AKIA`,
//! `ASIA`, `AROA`, …) + 16 or 17 of `[A-Z0-9]` (access keys are 20 long,
//! role/user/group unique ids 21), with alphanumeric boundaries.
//!
//! Found as runs of `[A-Z0-9]` 20 or 21 long (probing one byte in 20, as
//! such runs are rare in text), each checked in full. An `A` anchor would
//! stop at every capital `A` of prose and code.

use super::util::{before_is, for_each_run, is, m, ALNUM, UPPER_DIGIT};
use super::{Family, Match};

const PREFIXES: &[&[u8; 4]] = &[
    b"AKIA", b"ASIA", b"ABIA", b"ACCA", b"AGPA", b"AIDA", b"AIPA", b"ANPA", b"ANVA", b"APKA",
    b"AROA", b"ASCA",
];

/// Whether `v` is an access key id or IAM unique id.
pub(super) fn is_access_key(v: &[u8]) -> bool {
    (v.len() == 20 || v.len() == 21)
        && v.get(..4)
            .is_some_and(|p| PREFIXES.iter().any(|k| &k[..] == p))
        && v.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Whether `v`, found right after an access-key key word
/// (`aws_access_key_id = …`), is an access key id: any length from 16 to
/// 32 there (AWS's documentation placeholders are 19 to 22 long, as
/// `ASIAV3ZUEFP6EXAMPLE`), with a known prefix.
pub(super) fn is_keyed_access_key(v: &[u8]) -> bool {
    (16..=32).contains(&v.len())
        && v.get(..4)
            .is_some_and(|p| PREFIXES.iter().any(|k| &k[..] == p))
        && v.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Calls `f(start, end)` for every access key id in `text`.
pub(super) fn for_each(text: &[u8], mut f: impl FnMut(usize, usize)) {
    for_each_run(text, 20, &UPPER_DIGIT, |s, e| {
        if e - s <= 21
            && !before_is(&ALNUM, text, s)
            && !is(&ALNUM, text, e)
            && text.get(s..e).is_some_and(is_access_key)
        {
            f(s, e);
        }
    });
}

/// Every access key id in `text`, as `(start, end)`: found once, used by
/// both the access key and the secret key families.
pub(super) fn spans(text: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    for_each(text, |s, e| spans.push((s, e)));
    spans
}

/// Appends every access key id in `text`.
#[cfg(test)]
pub(super) fn find(text: &[u8], out: &mut Vec<Match<'_>>) {
    push(&spans(text), out);
}

/// Appends the access key ids at `spans`.
pub(super) fn push(spans: &[(usize, usize)], out: &mut Vec<Match<'_>>) {
    for &(s, e) in spans {
        out.push(m(s, e, "ACCESS_KEY", Family::AccessKeys));
    }
}

/// Whether `b` may stand in a role session name (`[\w+=,.@-]`).
fn session_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'=' | b',' | b'.' | b'@' | b'-')
}

/// Appends the role session name after every assumed role's unique id in
/// `spans`: STS prints an assumed role's user id as `AROA…:session`
/// (`get-caller-identity`'s `UserId`, `AssumedRoleId`, CloudTrail's
/// `principalId`), and the session is often the person (`jane@corp.com`)
/// or the app that assumed it. 2 to 64 of `[\w+=,.@-]`, a trailing `.`
/// or `,` being punctuation.
pub(super) fn push_session_names(text: &[u8], spans: &[(usize, usize)], out: &mut Vec<Match<'_>>) {
    for &(s, e) in spans {
        if text.get(s..s + 4) != Some(b"AROA") || text.get(e) != Some(&b':') {
            continue;
        }
        let from = e + 1;
        let mut end = from;
        while end - from <= 64 && text.get(end).copied().is_some_and(session_byte) {
            end += 1;
        }
        if end - from > 64 {
            continue;
        }
        while end > from && matches!(text.get(end - 1), Some(b'.' | b',')) {
            end -= 1;
        }
        if (2..=64).contains(&(end - from)) {
            out.push(m(from, end, "ROLE_SESSION", Family::NamedResources));
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
            ("key AKIAIOSFODNN7EXAMPLE.", &["AKIAIOSFODNN7EXAMPLE"]),
            ("\"ASIAY34FZKBOKMUTVV7A\"", &["ASIAY34FZKBOKMUTVV7A"]),
            (
                "AROAJQABLZS4A3QDU576Q,AIPAJQABLZS4A3QDU576Q",
                &["AROAJQABLZS4A3QDU576Q", "AIPAJQABLZS4A3QDU576Q"],
            ),
            ("id=AKIAIOSFODNN7EXAMPLE_x", &["AKIAIOSFODNN7EXAMPLE"]),
            // Near misses.
            ("AKIA is a prefix", &[]),
            ("XAKIAIOSFODNN7EXAMPLE", &[]),
            ("AKIAIOSFODNN7EXAMPL", &[]),
            ("AKIAIOSFODNN7EXAMPLEXY", &[]),
            ("AKIAiosfodnn7example", &[]),
            ("ABCDIOSFODNN7EXAMPLE", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(values_of(find, input), *want, "{input}");
        }
    }

    #[test]
    fn session_names() {
        fn sessions(text: &str) -> Vec<&str> {
            let mut out = Vec::new();
            push_session_names(text.as_bytes(), &spans(text.as_bytes()), &mut out);
            out.iter().map(|m| &text[m.start..m.end]).collect()
        }
        let cases: &[(&str, &[&str])] = &[
            (
                "\"AssumedRoleId\": \"AROACLKWSDQRAOEXAMPLE:app1\"",
                &["app1"],
            ),
            (
                "AROA3XFRBF535PLBIFPI4:jane.doe@example.com.",
                &["jane.doe@example.com"],
            ),
            (
                "USERID\tAROA3XFRBF535PLBIFPI4:botocore-session-1712345678\n",
                &["botocore-session-1712345678"],
            ),
            // No session: a user's id, a colon with nothing after, a word
            // too long to be one.
            ("AIDAJQABLZS4A3QDU576Q:app1 AROACLKWSDQRAOEXAMPLE: x", &[]),
            ("AROACLKWSDQRAOEXAMPLE:x", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(sessions(input), *want, "{input}");
        }
        let long = format!("AROACLKWSDQRAOEXAMPLE:{}", "a".repeat(65));
        assert_eq!(sessions(&long), Vec::<&str>::new());
    }
}
