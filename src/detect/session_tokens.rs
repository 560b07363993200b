//! STS session tokens: long base64 strings. In context (after
//! `aws_session_token`, `x-amz-security-token`, …: the key-context scanner
//! calls [`is_session_token`]) any value of 16 or more base64 characters;
//! anywhere, a run that starts with a known STS token prefix and is at
//! least 100 characters long.

use super::util::{before_is, for_each_run, m, run_len, B64, B64_NO_PAD};
use super::{Family, Match};
use memchr::memmem::Finder;

/// Shortest token accepted by prefix alone.
const MIN_BARE: usize = 100;
/// Longest token considered (real ones are well under 4 KiB).
pub(super) const MAX_TOKEN: usize = 8192;

/// Known token prefixes and how many bytes of them precede the searched
/// needle.
pub(super) const NEEDLES: &[(&[u8], &[&[u8]])] = &[
    (b"IQoJb3JpZ2luX2Vj", &[b""]),
    (b"GZXIvYXdzE", &[b"Fwo", b"FQo"]),
    (b"AQoDYXdzE", &[b""]),
    (b"AQoEXAMPLE", &[b""]),
];

/// Whether `v` can be a session token (in context).
pub(super) fn is_session_token(v: &[u8]) -> bool {
    (16..=MAX_TOKEN).contains(&v.len()) && v.iter().all(|&b| super::util::class_has(&B64, b))
}

/// Appends every session token found by its prefix; `finders` are the
/// [`NEEDLES`] in order.
///
/// A token is a base64 run of at least [`MIN_BARE`] bytes, so the prefixes
/// are searched only inside such runs (found by a strided scan), which
/// ordinary text rarely has: most strings cost one probe every 100 bytes.
pub(super) fn find(text: &[u8], finders: &[Finder<'static>], out: &mut Vec<Match<'_>>) {
    for_each_run(text, MIN_BARE, &B64, |rs, re| {
        let run = text.get(rs..re).unwrap_or_default();
        for (finder, (_, heads)) in finders.iter().zip(NEEDLES) {
            for p in finder.find_iter(run).map(|p| rs + p) {
                for head in *heads {
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
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(input: &str) -> Vec<&str> {
        let finders: Vec<Finder<'static>> = NEEDLES
            .iter()
            .map(|(n, _)| Finder::new(n).into_owned())
            .collect();
        let mut out = Vec::new();
        find(input.as_bytes(), &finders, &mut out);
        out.iter().map(|m| &input[m.start..m.end]).collect()
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
