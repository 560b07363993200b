//! STS session tokens: long base64 strings. In context (after
//! `aws_session_token`, `x-amz-security-token`, …: the key-context scanner
//! calls [`is_session_token`]) any value of 16 or more base64 characters;
//! anywhere, a run that starts with a known STS token prefix and is at
//! least 100 characters long.

use super::util::{before_is, m, percent_b64_len, run_len, B64, B64_NO_PAD};
use super::{Family, Match};

/// Shortest token accepted by prefix alone.
const MIN_BARE: usize = 100;
/// Longest token considered (real ones are well under 4 KiB).
pub(super) const MAX_TOKEN: usize = 8192;

/// A known token prefix: a needle, the bytes that may precede it in the
/// token, and the offset in the needle of its anchor, its first `X`:
/// every prefix has one, and the letter is rare in prose, code and tool
/// output, so one memchr pass finds every candidate.
pub(super) type Prefix = (&'static [u8], &'static [&'static [u8]], usize);

/// The letter every prefix is found at.
const ANCHOR: u8 = b'X';

/// The known token prefixes.
pub(super) const NEEDLES: &[Prefix] = &[
    (b"IQoJb3JpZ2luX2Vj", &[b""], 12),
    (b"GZXIvYXdzE", &[b"Fwo", b"FQo"], 2),
    (b"AQoDYXdzE", &[b""], 5),
    (b"AQoEXAMPLE", &[b""], 4),
];

/// Whether `v` can be a session token (in context): 16 or more base64
/// characters, some maybe percent-encoded (a presigned URL's
/// `X-Amz-Security-Token=IQoJ…%2F%2F…`).
pub(super) fn is_session_token(v: &[u8]) -> bool {
    v.len() <= MAX_TOKEN && percent_b64_len(v).is_some_and(|n| n >= 16)
}

/// Starts of STS session tokens, older generations included, that make a
/// value under the bare key `Token` (IMDS and `aws configure export-credentials`
/// output) a session token.
const STS_STARTS: &[&[u8]] = &[
    b"IQoJ", b"FwoG", b"FQoG", b"FQoD", b"AgoJ", b"AQoD", b"AQoE",
];

/// Whether `v`, under a bare `Token` key, is an STS session token.
pub(super) fn is_sts_token(v: &[u8]) -> bool {
    STS_STARTS.iter().any(|p| v.starts_with(p)) && is_session_token(v)
}

/// Appends every session token found by its prefix: a base64 run of at
/// least [`MIN_BARE`] bytes, not glued to a longer base64 word, that
/// starts with a known prefix.
///
/// Found at the anchor letter of the prefixes (`X`), which ordinary text
/// rarely has: most strings cost one memchr pass and nothing more.
/// A prefix has no border (no proper prefix equal to a suffix), so its
/// occurrences never overlap and each is found once, at its anchor.
///
/// The other services' tokens (`service_credentials`: ECR, CodeArtifact)
/// are found in the same pass, and ECR's Docker form after it.
pub(super) fn find(text: &[u8], out: &mut Vec<Match<'_>>) {
    for q in memchr::memchr_iter(ANCHOR, text) {
        super::service_credentials::token_at_anchor(text, q, out);
        for &(needle, heads, anchor) in NEEDLES {
            let Some(p) = q.checked_sub(anchor) else {
                continue;
            };
            if text.get(p..p + needle.len()) != Some(needle) {
                continue;
            }
            for head in heads {
                let Some(s) = p.checked_sub(head.len()) else {
                    continue;
                };
                if text.get(s..p) != Some(head) || before_is(&B64_NO_PAD, text, s) {
                    continue;
                }
                let n = run_len(&B64, text, s, MAX_TOKEN + 1);
                if (MIN_BARE..=MAX_TOKEN).contains(&n) {
                    out.push(m(s, s + n, "SESSION_TOKEN", Family::SessionTokens));
                }
            }
        }
    }
    super::service_credentials::docker_auths(text, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(input: &str) -> Vec<&str> {
        let mut out = Vec::new();
        find(input.as_bytes(), &mut out);
        out.iter().map(|m| &input[m.start..m.end]).collect()
    }

    /// The search this module did before the anchor letters: each prefix
    /// searched inside every base64 run of at least [`MIN_BARE`] bytes.
    fn in_long_runs(text: &[u8]) -> Vec<Match<'static>> {
        let mut out = Vec::new();
        super::super::util::for_each_run(text, MIN_BARE, &B64, |rs, re| {
            let run = &text[rs..re];
            for &(needle, heads, _) in NEEDLES {
                let finder = memchr::memmem::Finder::new(needle);
                for p in finder.find_iter(run).map(|p| rs + p) {
                    for head in heads {
                        let Some(s) = p.checked_sub(head.len()) else {
                            continue;
                        };
                        if text.get(s..p) != Some(*head) || before_is(&B64_NO_PAD, text, s) {
                            continue;
                        }
                        let n = run_len(&B64, text, s, MAX_TOKEN + 1);
                        if (MIN_BARE..=MAX_TOKEN).contains(&n) {
                            out.push(m(s, s + n, "SESSION_TOKEN", Family::SessionTokens));
                        }
                    }
                }
            }
        });
        out.sort_by_key(|m| m.start);
        out
    }

    #[test]
    fn the_anchor_letter_finds_what_a_search_in_long_runs_finds() {
        let token = |prefix: &str, len: usize| {
            let mut t = prefix.to_string();
            while t.len() < len {
                t.push_str("Zq9/QzA+");
            }
            t.truncate(len);
            t
        };
        let mut rng = crate::test_rng::XorShift(0x243f_6a88_85a3_08d3);
        let mut next = || rng.next();
        let pieces = [
            "IQoJb3JpZ2luX2Vj",
            "FwoGZXIvYXdzE",
            "FQoGZXIvYXdzE",
            "AQoDYXdzE",
            "AQoEXAMPLE",
            "GZXIvYXdzE",
            "X",
            "XX",
            " ",
            "\\n",
            "=",
            "x",
            "QZX",
            "/",
            "\n",
        ];
        let mut found = 0;
        for round in 0..400 {
            let mut text = String::new();
            for _ in 0..(next() % 12) {
                match next() % 4 {
                    0 => {
                        let len =
                            [99, 100, 101, 60 + (next() % 120) as usize][(next() % 4) as usize];
                        text.push_str(&token(pieces[(next() % 5) as usize], len));
                    }
                    1 => text.push_str(&"AbC1".repeat((next() % 40) as usize)),
                    _ => text.push_str(pieces[(next() % pieces.len() as u64) as usize]),
                }
            }
            let mut got = Vec::new();
            find(text.as_bytes(), &mut got);
            got.sort_by_key(|m| m.start);
            let want = in_long_runs(text.as_bytes());
            found += want.len();
            assert_eq!(got, want, "round {round}: {text}");
        }
        assert!(found > 100, "the rounds found only {found} tokens");
    }

    #[test]
    fn every_needle_is_anchored_at_its_first_x_and_has_no_border() {
        for &(needle, _, anchor) in NEEDLES {
            let first = needle.iter().position(|&b| b == ANCHOR);
            assert_eq!(first, Some(anchor), "{}", String::from_utf8_lossy(needle));
            for k in 1..needle.len() {
                assert_ne!(
                    needle[..k],
                    needle[needle.len() - k..],
                    "border in {needle:?}"
                );
            }
        }
    }

    #[test]
    fn table() {
        let long = format!("IQoJb3JpZ2luX2VjEJr{}", "A1b2/C3d+".repeat(12));
        let fwo = format!("FwoGZXIvYXdzEBYaD{}==", "x9Y8z7".repeat(16));
        let example = format!("AQoEXAMPLEH4aoAH0gNCAPy{}", "abc".repeat(30));
        let short = format!("IQoJb3JpZ2luX2VjEJr{}", "A".repeat(40));
        let glued = format!("xIQoJb3JpZ2luX2VjEJr{}", "A".repeat(100));
        let cases: Vec<(String, Vec<&str>)> = vec![
            (format!("token: {long}\n"), vec![long.as_str()]),
            (format!("t={fwo}"), vec![fwo.as_str()]),
            (format!("\"{example}\""), vec![example.as_str()]),
            // Near misses: too short, glued to a word.
            (short.clone(), vec![]),
            (glued.clone(), vec![]),
        ];
        for (input, want) in &cases {
            assert_eq!(values(input), *want, "{input}");
        }
        assert!(is_session_token(b"FwoGZXIvYXdzEBYaDabcdef"));
        assert!(!is_session_token(b"short"));
        assert!(!is_session_token(b"has space in it ok?"));
    }
}
