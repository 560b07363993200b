//! Credentials that AWS services issue besides the STS ones, found by the
//! shape AWS gives them:
//!
//! - AppSync API keys: `da2-` and 26 lower-case letters and digits;
//! - EKS bearer tokens (`aws eks get-token`, kubeconfig exec output):
//!   `k8s-aws-v1.` and a base64url presigned STS URL;
//! - ECR's `get-login-password` tokens and CodeArtifact's
//!   `get-authorization-token` tokens: base64 of a JSON header AWS always
//!   writes the same way (`{"payload":"`, `{"ver":1,"isu":`), so their
//!   first characters are fixed, and at least [`MIN_TOKEN`] long.
//!
//! They are secrets: whoever holds one can call the API (AppSync), push and
//! pull images (ECR) or packages (CodeArtifact) as the customer.

use super::util::{
    before_is, class_has, is, m, run_len, B64, B64_NO_PAD, LOWER_ALNUM, TOKEN, WORD,
};
use super::{Family, Match};
use memchr::memmem::Finder;
use std::sync::OnceLock;

/// Characters of an AppSync API key after `da2-`.
const APPSYNC_KEY_LEN: usize = 26;
/// Shortest service token accepted (real ones are hundreds to thousands
/// of characters).
const MIN_TOKEN: usize = 100;
/// Longest service token considered.
const MAX_TOKEN: usize = 8192;

/// The fixed starts of service tokens, the offset of their first `X` (the
/// anchor letter they share with the STS token prefixes, see
/// `session_tokens`), and their kinds.
pub(super) const TOKEN_STARTS: &[(&[u8], usize, &str)] = &[
    // base64 of `{"payload":"`
    (b"eyJwYXlsb2FkIjoi", 5, "ECR_TOKEN"),
    // base64 of `{"ver":1,"isu":`
    (b"eyJ2ZXIiOjEsImlzdSI6", 5, "CODEARTIFACT_TOKEN"),
];

/// base64 of `AWS:` and the start of an ECR token: the `auth` of a Docker
/// `config.json` after `docker login` to ECR (no `X` to anchor it).
const DOCKER_AUTH_START: &[u8] = b"QVdTOmV5SndZWGxzYjJGa0lq";

/// Appends every ECR token in Docker's `auth` form (`AWS:<token>`, base64).
pub(super) fn docker_auths(b: &[u8], out: &mut Vec<Match<'_>>) {
    static START: OnceLock<Finder<'static>> = OnceLock::new();
    let start = START.get_or_init(|| Finder::new(DOCKER_AUTH_START));
    for s in start.find_iter(b) {
        if before_is(&B64_NO_PAD, b, s) {
            continue;
        }
        let n = run_len(&B64, b, s, MAX_TOKEN + 1);
        if (MIN_TOKEN..=MAX_TOKEN).contains(&n) {
            out.push(m(s, s + n, "ECR_TOKEN", Family::SessionTokens));
        }
    }
}

/// Appends the AppSync API key whose `-` is at `p` (`da2-…`), if any.
pub(super) fn appsync_key_at_dash(b: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    let Some(s) = p.checked_sub(3) else {
        return;
    };
    if b.get(s..p) != Some(b"da2") || before_is(&WORD, b, s) {
        return;
    }
    let n = run_len(&LOWER_ALNUM, b, p + 1, APPSYNC_KEY_LEN + 1);
    let e = p + 1 + n;
    if n == APPSYNC_KEY_LEN && !is(&WORD, b, e) {
        out.push(m(s, e, "APPSYNC_KEY", Family::SecretKeys));
    }
}

/// The fixed start of an EKS token.
const EKS_TOKEN_START: &[u8] = b"k8s-aws-v1.";

/// Appends the EKS token whose first `-` is at `p` (`k8s-aws-v1.…`): a
/// presigned `GetCallerIdentity` URL in base64url, which lets whoever holds
/// it call the cluster's API as the customer's role until it expires.
pub(super) fn eks_token_at_dash(b: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    let Some(s) = p.checked_sub(3) else {
        return;
    };
    // In a run of `k8s-aws-v1.k8s-aws-v1.…` only the first start is looked
    // at, so the runs measured stay linear in the text.
    if b.get(s..s + EKS_TOKEN_START.len()) != Some(EKS_TOKEN_START) || glued(b, s) {
        return;
    }
    let body = s + EKS_TOKEN_START.len();
    let mut n = run_len(&TOKEN, b, body, MAX_TOKEN + 1);
    // base64url has no `.`: one ending the run ends a sentence.
    while n > 0 && b.get(body + n - 1) == Some(&b'.') {
        n -= 1;
    }
    if (MIN_TOKEN..=MAX_TOKEN).contains(&n) {
        out.push(m(s, body + n, "EKS_TOKEN", Family::SessionTokens));
    }
}

/// Whether a token starting at `s` is glued to a longer token before it:
/// a token byte other than `=` (which ends base64 only: `TOKEN=eyJ…`).
fn glued(b: &[u8], s: usize) -> bool {
    s.checked_sub(1)
        .and_then(|j| b.get(j))
        .is_some_and(|&c| c != b'=' && class_has(&TOKEN, c))
}

/// Appends the service token whose anchor letter (`X`) is at `q`, if any:
/// a run of base64 (or base64url and `.`, as CodeArtifact's JWE) that
/// starts with one of [`TOKEN_STARTS`], not glued to a longer word.
pub(super) fn token_at_anchor(b: &[u8], q: usize, out: &mut Vec<Match<'_>>) {
    for &(start, anchor, kind) in TOKEN_STARTS {
        let Some(s) = q.checked_sub(anchor) else {
            continue;
        };
        if b.get(s..s + start.len()) != Some(start) || glued(b, s) {
            continue;
        }
        let n = run_len(&TOKEN, b, s, MAX_TOKEN + 1);
        if (MIN_TOKEN..=MAX_TOKEN).contains(&n) {
            out.push(m(s, s + n, kind, Family::SessionTokens));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::kinds_of;
    use super::*;

    fn found(input: &str) -> Vec<(&str, &str)> {
        kinds_of(input, |b, out| {
            for p in memchr::memchr_iter(b'-', b) {
                appsync_key_at_dash(b, p, out);
                eks_token_at_dash(b, p, out);
            }
            for q in memchr::memchr_iter(b'X', b) {
                token_at_anchor(b, q, out);
            }
            docker_auths(b, out);
        })
    }

    #[test]
    fn table() {
        let key = "da2-rf1lhaxen8puiu9351qylnhtft";
        let ecr = format!("eyJwYXlsb2FkIjoi{}", "NjBVSVhldjFWaGQ0/+Nw==".repeat(8));
        let docker = format!(
            "QVdTOmV5SndZWGxzYjJGa0lqb2{}",
            "lja0pHWVdOVlVsUllWRXhNTDBR".repeat(5)
        );
        let ca = format!(
            "eyJ2ZXIiOjEsImlzdSI6MTc5NjcxNjg0MywiZW5j{}.XmtdC4iKy_RR9n17.dF7j-fnvP",
            "IjoiQTEyOEdDTSIsInRhZyI6".repeat(3)
        );
        let eks = format!(
            "k8s-aws-v1.{}",
            "aHR0cHM6Ly9zdHMudXMtd2VzdC0yLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTU"
        );
        let cases: Vec<(String, Vec<(&str, &str)>)> = vec![
            (format!("apiKey: {key}\n"), vec![(key, "APPSYNC_KEY")]),
            (
                format!("{{\"status\": {{\"token\": \"{eks}\"}}}}"),
                vec![(&eks, "EKS_TOKEN")],
            ),
            (format!("token {eks}. Next"), vec![(&eks, "EKS_TOKEN")]),
            (format!("x{eks}"), vec![]),
            ("k8s-aws-v1.aHR0cHM6Ly9zdHM".to_string(), vec![]),
            (
                format!("\"x-api-key\":\"{key}\""),
                vec![(key, "APPSYNC_KEY")],
            ),
            (
                format!("docker login --password {ecr} x"),
                vec![(&ecr, "ECR_TOKEN")],
            ),
            (
                format!("{{\"auths\":{{\"x\":{{\"auth\":\"{docker}\"}}}}}}"),
                vec![(&docker, "ECR_TOKEN")],
            ),
            (
                format!("export CODEARTIFACT_AUTH_TOKEN={ca}"),
                vec![(&ca, "CODEARTIFACT_TOKEN")],
            ),
            // Near misses: a key one character short or long, glued to a
            // word, upper case; a token too short or glued.
            ("da2-rf1lhaxen8puiu9351qylnhtf".into(), vec![]),
            ("da2-rf1lhaxen8puiu9351qylnhtftx".into(), vec![]),
            ("xda2-rf1lhaxen8puiu9351qylnhtft".into(), vec![]),
            ("da2-RF1LHAXEN8PUIU9351QYLNHTFT".into(), vec![]),
            ("eyJwYXlsb2FkIjoiNjBVSVhl".into(), vec![]),
            (format!("a{ecr}"), vec![]),
        ];
        for (input, want) in &cases {
            assert_eq!(found(input), *want, "{input}");
        }
    }

    #[test]
    fn every_start_is_anchored_at_its_first_x() {
        for &(start, anchor, _) in TOKEN_STARTS {
            assert_eq!(start.iter().position(|&b| b == b'X'), Some(anchor));
        }
    }
}
