//! Resources named in prose: "the IAM user named Bob", "a table named
//! `orders`", "the vault named examplevault", "an environment called
//! my-env". A name follows `named` or `called` right after a noun that is
//! an AWS resource; "a file named x" or "a variable called y" stay.
//!
//! Found with one substring search for `named ` and one for `called `,
//! which ordinary text seldom holds.

use super::util::{is, m, run_len, ALNUM, LOWER_ALNUM};
use super::{Family, Match};
use memchr::memmem::Finder;
use std::sync::OnceLock;

/// A resource noun, the qualifiers it needs (none: it stands alone), and
/// the token kind of the name after it.
type Noun = (&'static [u8], &'static [&'static [u8]], &'static str);

/// Resource nouns (lower case), the words one of which must stand right
/// before a noun too generic alone (`capture group named x`, `a function
/// called f`: code's vocabulary), and the token kind of the name after them.
const NOUNS: &[Noun] = &[
    (b"user", &[], "IAM_USER"),
    (b"role", &[], "IAM_ROLE"),
    (
        b"group",
        &[
            b"iam",
            b"security",
            b"log",
            b"resource",
            b"scaling",
            b"target",
        ],
        "IAM_GROUP",
    ),
    (b"profile", &[b"instance"], "NAME"),
    (
        b"policy",
        &[b"iam", b"managed", b"inline", b"bucket", b"key"],
        "NAME",
    ),
    (b"table", &[], "DYNAMODB_TABLE"),
    (b"vault", &[], "NAME"),
    (b"environment", &[], "NAME"),
    (b"repository", &[], "ECR_REPO"),
    (b"function", &[b"lambda"], "LAMBDA"),
    (b"queue", &[], "SQS_QUEUE"),
    (b"topic", &[], "SNS_TOPIC"),
    (b"stack", &[], "CFN_STACK"),
    (b"cluster", &[], "CLUSTER"),
    (b"bucket", &[], "S3_BUCKET"),
    (b"report", &[b"usage"], "NAME"),
];

/// Words of the sentence that follow `named`/`called` and name nothing
/// ("a function called to run it", "the user named by the admin").
const STOP_WORDS: &[&[u8]] = &[
    b"after",
    b"by",
    b"in",
    b"for",
    b"with",
    b"the",
    b"a",
    b"an",
    b"as",
    b"and",
    b"or",
    b"to",
    b"from",
    b"on",
    b"at",
    b"is",
    b"it",
    b"if",
    b"when",
    b"that",
    b"this",
    b"which",
    b"its",
    b"their",
    b"so",
    b"once",
    b"only",
    b"first",
    b"last",
    b"later",
    b"before",
    b"like",
    b"something",
    b"whatever",
];

/// Longest name taken.
const MAX_NAME: usize = 128;

/// Appends the app client id of every `User pool client <id>` (Cognito's
/// own error message: "User pool client 1h57kf5cpq17m0eml12EXAMPLE does
/// not exist"): 26 lower-case letters and digits.
fn pool_clients(text: &[u8], out: &mut Vec<Match<'_>>) {
    static POOL_CLIENT: OnceLock<Finder<'static>> = OnceLock::new();
    let finder = POOL_CLIENT.get_or_init(|| Finder::new(b"pool client "));
    for p in finder.find_iter(text) {
        let s = p + "pool client ".len();
        let n = run_len(&LOWER_ALNUM, text, s, 27);
        let id = text.get(s..s + n).unwrap_or_default();
        if n == 26 && id.iter().any(u8::is_ascii_digit) && !is(&ALNUM, text, s + n) {
            out.push(m(s, s + n, "COGNITO_CLIENT", Family::NamedResources));
        }
    }
}

/// Verbs of the AWS provider's errors: `Error: creating DynamoDB Table
/// (name): …`.
const TERRAFORM_VERBS: &[&[u8]] = &[
    b"creating ",
    b"deleting ",
    b"updating ",
    b"reading ",
    b"modifying ",
    b"waiting for ",
];

/// Appends the name of every resource Terraform's AWS provider names in
/// an error (`Error: creating SQS Queue (orders-dlq): …`,
/// `Error: creating S3 Bucket (assets-prd): BucketAlreadyExists`): one to
/// five capitalized words of the resource's type, then its name in
/// parentheses.
fn terraform_errors(text: &[u8], out: &mut Vec<Match<'_>>) {
    static ERROR: OnceLock<Finder<'static>> = OnceLock::new();
    let finder = ERROR.get_or_init(|| Finder::new(b"Error: "));
    for p in finder.find_iter(text) {
        let after = p + "Error: ".len();
        let Some(verb) = TERRAFORM_VERBS
            .iter()
            .find(|v| text.get(after..after + v.len()) == Some(**v))
        else {
            continue;
        };
        // The type: capitalized words (`DynamoDB Table`, `S3 Bucket`,
        // `IAM Role Policy Attachment`).
        let mut i = after + verb.len();
        let mut words = 0;
        while words < 5 && text.get(i).is_some_and(u8::is_ascii_uppercase) {
            i += run_len(&ALNUM, text, i, 32);
            words += 1;
            if text.get(i) != Some(&b' ') {
                break;
            }
            i += 1;
        }
        if words == 0 || text.get(i) != Some(&b'(') {
            continue;
        }
        let s = i + 1;
        let n = text
            .get(s..)
            .unwrap_or_default()
            .iter()
            .take(MAX_NAME + 1)
            .take_while(|&&c| {
                c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/' | b':')
            })
            .count();
        if (2..=MAX_NAME).contains(&n) && text.get(s + n) == Some(&b')') {
            let bucket = text.get(i.saturating_sub(10)..i) == Some(b"S3 Bucket ".as_slice());
            let (kind, family) = if bucket {
                ("S3_BUCKET", Family::S3Buckets)
            } else {
                ("NAME", Family::NamedResources)
            };
            out.push(m(s, s + n, kind, family));
        }
    }
}

/// Appends every name that follows a resource noun and `named`/`called`,
/// every Cognito app client a `User pool client` message names, and every
/// resource Terraform's AWS provider names in an error.
pub(super) fn find(text: &[u8], out: &mut Vec<Match<'_>>) {
    pool_clients(text, out);
    terraform_errors(text, out);
    deployed_stacks(text, out);
    static NAMED: OnceLock<Finder<'static>> = OnceLock::new();
    static CALLED: OnceLock<Finder<'static>> = OnceLock::new();
    for (finder, word) in [
        (NAMED.get_or_init(|| Finder::new(b" named ")), 7),
        (CALLED.get_or_init(|| Finder::new(b" called ")), 8),
    ] {
        for p in finder.find_iter(text) {
            let Some(kind) = noun_before(text, p) else {
                continue;
            };
            if let Some((s, e)) = name_at(text, p + word) {
                out.push(m(s, e, kind, Family::NamedResources));
            }
        }
    }
}

/// Appends the stack that a deploy tool names in its output:
/// Serverless' `Service deployed to stack NAME (94s)`, SAM's
/// `Successfully created/updated stack - NAME in us-west-2` and its
/// `Stack name                   : NAME`. One search for `tack `.
fn deployed_stacks(text: &[u8], out: &mut Vec<Match<'_>>) {
    static STACK: OnceLock<Finder<'static>> = OnceLock::new();
    let finder = STACK.get_or_init(|| Finder::new(b"tack "));
    for p in finder.find_iter(text) {
        let Some(s) = p.checked_sub(1) else {
            continue;
        };
        let after = p + "tack ".len();
        let head = text.get(s.saturating_sub(16)..s).unwrap_or_default();
        let name_at = match text.get(s) {
            Some(b's') if head.ends_with(b"deployed to ") => Some(after),
            Some(b's')
                if head.ends_with(b"updated ") && text.get(after..after + 2) == Some(b"- ") =>
            {
                Some(after + 2)
            }
            Some(b'S') if text.get(after..after + 4) == Some(b"name") => {
                let rest = text.get(after + 4..).unwrap_or_default();
                let blanks = rest.iter().take(64).take_while(|&&b| b == b' ').count();
                (rest.get(blanks..blanks + 2) == Some(b": ")).then_some(after + 4 + blanks + 2)
            }
            _ => None,
        };
        if let Some((s, e)) = name_at.and_then(|i| name_at_stack(text, i)) {
            out.push(m(s, e, "CFN_STACK", Family::NamedResources));
        }
    }
}

/// A CloudFormation stack's name at `i`: a letter, then letters, digits
/// and `-`, at least two bytes, ending at a blank, a line's end or `(`.
fn name_at_stack(text: &[u8], i: usize) -> Option<(usize, usize)> {
    let n = text
        .get(i..)?
        .iter()
        .take(129)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
        .count();
    let ends = text
        .get(i + n)
        .is_none_or(|b| b.is_ascii_whitespace() || matches!(b, b'(' | b'\\' | b'"'));
    (text.get(i).is_some_and(u8::is_ascii_alphabetic) && (2..=128).contains(&n) && ends)
        .then_some((i, i + n))
}

/// The word that ends at `end` (at most 12 letters), lower case, and
/// where it starts.
fn word_before(text: &[u8], end: usize) -> Option<(Vec<u8>, usize)> {
    let from = end.saturating_sub(12);
    let before = text.get(from..end)?;
    let start = before
        .iter()
        .rposition(|b| !b.is_ascii_alphabetic())
        .map_or(from, |i| from + i + 1);
    Some((text.get(start..end)?.to_ascii_lowercase(), start))
}

/// The kind named by the resource noun that ends at `end`, if it is one
/// (with its qualifier before it, where it needs one).
fn noun_before(text: &[u8], end: usize) -> Option<&'static str> {
    let (word, start) = word_before(text, end)?;
    let &(_, qualifiers, kind) = NOUNS.iter().find(|(noun, ..)| *noun == word.as_slice())?;
    if qualifiers.is_empty() {
        return Some(kind);
    }
    let space = start
        .checked_sub(1)
        .filter(|&i| text.get(i) == Some(&b' '))?;
    let (qualifier, _) = word_before(text, space)?;
    qualifiers.contains(&qualifier.as_slice()).then_some(kind)
}

/// The name at `i`: a word of `[A-Za-z0-9._/-]`, maybe quoted, without
/// the sentence's closing `.`; at least two bytes, and not a common word
/// of the sentence (`after`, `by`).
fn name_at(text: &[u8], mut i: usize) -> Option<(usize, usize)> {
    let quote = matches!(text.get(i), Some(b'\'' | b'"' | b'`'));
    i += usize::from(quote);
    let s = i;
    let mut e = s;
    while e - s < MAX_NAME
        && text
            .get(e)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
    {
        e += 1;
    }
    while e > s && matches!(text.get(e - 1), Some(b'.' | b'-' | b'/')) {
        e -= 1;
    }
    let name = text.get(s..e)?;
    let stop = STOP_WORDS.contains(&name.to_ascii_lowercase().as_slice());
    (e - s >= 2 && !stop && name.first().is_some_and(u8::is_ascii_alphanumeric)).then_some((s, e))
}

#[cfg(test)]
mod tests {
    use super::super::tests::kinds_of;
    use super::*;

    fn found(input: &str) -> Vec<(&str, &str)> {
        kinds_of(input, find)
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("creates an IAM user named Bob.", &[("Bob", "IAM_USER")]),
            (
                "This example describes the table named Music.",
                &[("Music", "DYNAMODB_TABLE")],
            ),
            ("for an environment named my-env:", &[("my-env", "NAME")]),
            (
                "the vault named 'examplevault'.",
                &[("examplevault", "NAME")],
            ),
            ("a repository called team/api", &[("team/api", "ECR_REPO")]),
            ("to the IAM group named Admins.", &[("Admins", "IAM_GROUP")]),
            ("a capture group named `1a` here", &[]),
            ("the Lambda function called pay-v2", &[("pay-v2", "LAMBDA")]),
            ("a function called cleanup", &[]),
            (
                "User pool client h1k0uhbotzipmawlyft63giqbz does not exist.",
                &[("h1k0uhbotzipmawlyft63giqbz", "COGNITO_CLIENT")],
            ),
            (
                "User pool client settingsforthewebappnow does not exist.",
                &[],
            ),
            (
                "✔ Service deployed to stack orbitly-notifications-prod (94s)",
                &[("orbitly-notifications-prod", "CFN_STACK")],
            ),
            (
                "Successfully created/updated stack - bluefin-scoring in us-west-2",
                &[("bluefin-scoring", "CFN_STACK")],
            ),
            (
                "\tStack name                   : lumen-media-api\n",
                &[("lumen-media-api", "CFN_STACK")],
            ),
            ("the call stack - see above; a stack name: x", &[]),
            // Not a resource noun, or no name after it.
            ("a file named notes.txt", &[]),
            ("a variable called x", &[]),
            ("a user named by the admin", &[]),
            ("the function called to clean up", &[]),
            ("the group named", &[]),
            (
                "│ Error: creating DynamoDB Table (loyalty-points-ledger): operation error",
                &[("loyalty-points-ledger", "NAME")],
            ),
            (
                "Error: creating S3 Bucket (blueyonder-static-prd): BucketAlreadyExists",
                &[("blueyonder-static-prd", "S3_BUCKET")],
            ),
            (
                "Error: deleting IAM Role Policy Attachment (deploy-role/arn): x",
                &[("deploy-role/arn", "NAME")],
            ),
            ("Error: creating the file (x): denied", &[]),
            ("Error: reading config (a b): no", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(found(input), *want, "{input}");
        }
    }
}
