//! 12-digit account ids, masked only where something says they are one:
//! an ECR registry host (`123456789012.dkr.ecr.…`), an SQS queue URL
//! (`https://sqs.<region>.amazonaws.com/123456789012/queue`, which also
//! masks the queue name as `SQS_QUEUE`), or a context word (`account`,
//! `owner`, `principal`, `"AWS":`) earlier on the same line within 40
//! bytes (in JSON-escaped text a `\n` ends a line too). ARNs are found
//! whole by `arns`; the twelve digits inside one need no context word. A
//! bare 12-digit number (an order number, a timestamp) is left alone; the
//! console's dashed form (`1234-5678-9012`) is its own context, and so is
//! a lower-case name that holds the digits after a dash, as the buckets
//! AWS makes for an account do (`cdk-hnb659fds-assets-<account>-<region>`).
//!
//! Context digits are found with a strided scan for 12-digit runs.

use super::lists;
use super::util::{
    before_is, for_each_run, is, is_escape_letter, m, run_len, ALNUM, DIGIT, HOST, WORD,
};
use super::{Family, Match};
#[cfg(test)]
use memchr::memmem::Finder;

/// How far before the digits a context word is looked for.
const WINDOW: usize = 40;

/// Context words (lower case) that make a nearby 12-digit number an
/// account id; they also cover `accountid`, `aws_account_id`, `ownerid`,
/// `owner-id`, ….
const CONTEXT: &[&[u8]] = &[b"account", b"owner", b"principal", b"\"aws\""];

/// Whether `v` is a 12-digit account id.
pub(crate) fn is_account(v: &[u8]) -> bool {
    v.len() == 12 && v.iter().all(u8::is_ascii_digit)
}

/// Whether 12 digits at `s..s+12` stand alone (no letter/digit either side).
fn bounded(text: &[u8], s: usize) -> bool {
    !before_is(&ALNUM, text, s)
        && !is(&ALNUM, text, s + 12)
        && text.get(s..s + 12).is_some_and(is_account)
}

fn has_context(text: &[u8], s: usize) -> bool {
    let mut from = s.saturating_sub(WINDOW);
    if is_escape_letter(text, from) {
        from += 1;
    }
    let Some(window) = text.get(from..s) else {
        return false;
    };
    let line = match memchr::memrchr(b'\n', window) {
        Some(nl) => window.get(nl + 1..).unwrap_or_default(),
        None => window,
    };
    // In JSON-escaped text the line ends at `\n`.
    let escape = memchr::memrchr_iter(b'\\', line).find(|&i| line.get(i + 1) == Some(&b'n'));
    let line = match escape {
        Some(escape) => line.get(escape + 2..).unwrap_or_default(),
        None => line,
    };
    // Test each context word only where its first letter occurs.
    line.iter().enumerate().any(|(i, &b)| {
        matches!(b | 0x20, b'a' | b'o' | b'p' | b'"')
            && CONTEXT.iter().any(|w| {
                line.get(i..i + w.len())
                    .is_some_and(|x| x.eq_ignore_ascii_case(w))
            })
    })
}

/// Needles this family searches for (its table tests; the catalog finds
/// them in its pass over the dots).
#[cfg(test)]
pub(super) struct Needles {
    /// `.dkr.ecr.`
    pub ecr: Finder<'static>,
    /// `.amazonaws.com/`
    pub aws_path: Finder<'static>,
}

/// Appends every account id (and SQS queue name, when `queue_names`) in
/// `text`.
#[cfg(test)]
pub(super) fn find(text: &[u8], needles: &Needles, queue_names: bool, out: &mut Vec<Match<'_>>) {
    for p in needles.ecr.find_iter(text) {
        at_dot(text, p, queue_names, out);
    }
    for p in needles.aws_path.find_iter(text) {
        at_dot(text, p, queue_names, out);
    }
    find_by_context(text, &[], out);
}

/// Appends the account id of an ECR registry host (`<id>.dkr.ecr.…`) or an
/// SQS queue URL (`…amazonaws.com/<id>/<queue>`) whose `.` is at `dot`, if
/// there is one (the catalog calls it for every `.`).
pub(super) fn at_dot(text: &[u8], dot: usize, queue_names: bool, out: &mut Vec<Match<'_>>) {
    let rest = text.get(dot..).unwrap_or_default();
    if rest.starts_with(b".dkr.ecr.") {
        if let Some(s) = dot.checked_sub(12) {
            if bounded(text, s) {
                out.push(m(s, dot, "ACCOUNT", Family::AccountIds));
            }
        }
    } else if rest.starts_with(b".amazonaws.com/") {
        sqs_at(text, dot, queue_names, out);
        if queue_names {
            ecr_repository_at(text, dot, out);
        }
    }
}

/// The repository after an ECR registry's host, whose `.amazonaws.com/`
/// is at `p`: `<account>.dkr.ecr.<region>.amazonaws.com/team/api:tag`
/// (an image URI in a Dockerfile, a task definition, a manifest). The
/// tag or digest after it stays.
fn ecr_repository_at(text: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    let mut h = p;
    while p - h < 128 && before_is(&HOST, text, h) {
        h -= 1;
    }
    let host = text.get(h..p).unwrap_or_default();
    if memchr::memmem::find(host, b".dkr.ecr.").is_none() {
        return;
    }
    let s = p + ".amazonaws.com/".len();
    let n = text
        .get(s..)
        .unwrap_or_default()
        .iter()
        .take(257)
        .take_while(|&&b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-' | b'/')
        })
        .count();
    let mut e = s + n;
    while e > s && matches!(text.get(e - 1), Some(b'/' | b'.' | b'-' | b'_')) {
        e -= 1;
    }
    let starts = text.get(s).is_some_and(|b| b.is_ascii_alphanumeric());
    if starts && e - s >= 2 && e - s <= 256 && !is(&ALNUM, text, e) {
        out.push(m(s, e, "ECR_REPO", Family::NamedResources));
    }
}

/// The SQS queue URL case of [`at_dot`]: `p` is at `.amazonaws.com/`.
fn sqs_at(text: &[u8], p: usize, queue_names: bool, out: &mut Vec<Match<'_>>) {
    {
        let s = p + ".amazonaws.com/".len();
        if !bounded(text, s) || text.get(s + 12) != Some(&b'/') {
            return;
        }
        let mut h = p;
        while p - h < 64 && before_is(&HOST, text, h) {
            h -= 1;
        }
        let host = text.get(h..p).unwrap_or_default();
        let sqs = host
            .split(|&b| b == b'.')
            .any(|l| l == b"sqs" || l == b"queue")
            || host == b"queue";
        if !sqs {
            return;
        }
        out.push(m(s, s + 12, "ACCOUNT", Family::AccountIds));
        let q = s + 13;
        let n = text
            .get(q..)
            .unwrap_or_default()
            .iter()
            .take(81)
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
            .count();
        let mut e = q + n;
        if text.get(e..e + 5) == Some(b".fifo") {
            e += 5;
        }
        if queue_names && (1..=80).contains(&n) && !is(&ALNUM, text, e) {
            out.push(m(q, e, "SQS_QUEUE", Family::NamedResources));
        }
    }
}

/// Appends the account of a CDK environment whose `:` is at `p`:
/// `aws://123456789012/us-east-1` (`cdk bootstrap`, `cdk.json`, the
/// toolkit's messages), `aws://123456789012` alone too.
pub(super) fn cdk_environment_at_colon(text: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    let Some(s) = p.checked_sub(3) else {
        return;
    };
    if text.get(s..p) != Some(b"aws")
        || before_is(&WORD, text, s)
        || text.get(p..p + 3) != Some(b"://")
    {
        return;
    }
    let a = p + 3;
    let n = run_len(&DIGIT, text, a, 13);
    if n == 12 && !is(&ALNUM, text, a + n) {
        out.push(m(a, a + n, "ACCOUNT", Family::AccountIds));
    }
}

/// Appends the account id in the console's dashed form (`1234-5678-9012`,
/// as the AWS console's account menu shows it) whose first dash is at `p`.
/// The shape is its own context: four, four and four digits, with no
/// letter, digit or further dash-and-digits either side (a card number's
/// `1234-5678-9012-3456` is not one).
pub(super) fn dashed_at_dash(text: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    let digits = |a: usize, b: usize| {
        text.get(a..b)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let Some(s) = p.checked_sub(4) else {
        return;
    };
    let e = p + 10;
    let dash_digit = |i: usize, j: usize| {
        text.get(i) == Some(&b'-') && text.get(j).is_some_and(u8::is_ascii_digit)
    };
    let glued_before =
        before_is(&ALNUM, text, s) || s.checked_sub(2).is_some_and(|j| dash_digit(j + 1, j));
    let glued_after = is(&ALNUM, text, e) || dash_digit(e, e + 1);
    if digits(s, p)
        && digits(p + 1, p + 5)
        && text.get(p + 5) == Some(&b'-')
        && digits(p + 6, e)
        && !glued_before
        && !glued_after
    {
        out.push(m(s, e, "ACCOUNT", Family::AccountIds));
    }
}

/// Whether the 12 digits at `s` are a dash-joined part of a lower-case
/// name: AWS names the buckets and stacks it makes for an account so
/// (`cdk-hnb659fds-assets-<account>-<region>`,
/// `sagemaker-<region>-<account>`, `config-bucket-<account>`,
/// `aws-glue-assets-<account>-<region>`).
fn in_name(text: &[u8], s: usize) -> bool {
    // After a dash, in a lower-case name with a letter before it: the
    // account never starts these names, and a number that starts one
    // (GCP's `<project number>-compute@…`) is not an AWS account.
    if s.checked_sub(1).and_then(|i| text.get(i)) != Some(&b'-') {
        return false;
    }
    // A UUID's last group (`…-a716-446655440000`) is not an account.
    let uuid = s >= 6
        && text.get(s - 6) == Some(&b'-')
        && text
            .get(s - 5..s - 1)
            .is_some_and(|g| g.iter().all(u8::is_ascii_hexdigit));
    if uuid {
        return false;
    }
    // The name, back from the dash; the letter of a `\n` escape (raw
    // JSON text) ends it, as the line break it stands for would.
    for j in (s.saturating_sub(63)..s - 1).rev() {
        let Some(&b) = text.get(j) else {
            return false;
        };
        if !(b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
            || is_escape_letter(text, j)
        {
            return false;
        }
        if b.is_ascii_lowercase() {
            return true;
        }
    }
    false
}

/// Whether the 12 digits at `s` are an item of a list whose key names
/// accounts: `"AWS": [...]` and `AWS:` block lists in policies, HCL's
/// `identifiers = [...]`, `AccountIds`, `accounts`.
fn in_account_list(text: &[u8], s: usize, memo: &mut lists::Memo) -> bool {
    let Some((ks, ke)) = lists::key_of_item(text, s, memo) else {
        return false;
    };
    let key = text.get(ks..ke).unwrap_or_default().to_ascii_lowercase();
    key == b"aws" || key == b"identifiers" || memchr::memmem::find(&key, b"account").is_some()
}

/// Whether what stands right around the 12 digits at `s..e` says they
/// are an account: a console sign-in host (`https://<account>.signin.aws.amazon.com`),
/// a partial Lambda ARN (`<account>:function:name`), a VPC flow log
/// record (`2 <account> eni-…`) or the `RESERVATIONS` row of
/// `describe-instances --output text`, whose first column is the owner.
fn has_shape_context(text: &[u8], s: usize, e: usize) -> bool {
    let after = text.get(e..).unwrap_or_default();
    let before = text.get(..s).unwrap_or_default();
    after.starts_with(b".signin.aws.amazon.com")
        || after.starts_with(b":function:")
        || (after.starts_with(b" eni-") && before.ends_with(b" "))
        || before.ends_with(b"RESERVATIONS\t")
        || before.ends_with(b"RESERVATIONS\\t")
}

/// Appends every 12-digit number that a context word earlier on its line
/// makes an account id, and every one inside one of `arns` (sorted by
/// start), whose context is the ARN: that one is masked with the ARN,
/// which wins over any match inside it, and looking for a context word
/// there cost more than the rest of the search.
pub(super) fn find_by_context(text: &[u8], arns: &[Match<'_>], out: &mut Vec<Match<'_>>) {
    let mut arns = arns.iter().peekable();
    let mut memo = lists::Memo::default();
    for_each_run(text, 12, &DIGIT, |s, e| {
        while arns.next_if(|a| a.end <= s).is_some() {}
        let in_arn = arns.peek().is_some_and(|a| a.start <= s && e <= a.end);
        if e - s == 12
            && bounded(text, s)
            && (in_arn
                || in_name(text, s)
                || has_context(text, s)
                || in_account_list(text, s, &mut memo)
                || has_shape_context(text, s, e))
        {
            out.push(m(s, e, "ACCOUNT", Family::AccountIds));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(input: &str) -> Vec<&str> {
        let needles = Needles {
            ecr: Finder::new(b".dkr.ecr.").into_owned(),
            aws_path: Finder::new(b".amazonaws.com/").into_owned(),
        };
        let mut out = Vec::new();
        find(input.as_bytes(), &needles, true, &mut out);
        out.sort_by_key(|m| m.start);
        out.iter().map(|m| &input[m.start..m.end]).collect()
    }

    /// Inside an ARN, twelve digits are an account id without a context
    /// word (the ARN is theirs); elsewhere on the line they still need one.
    #[test]
    fn an_arn_is_context_for_its_account_id() {
        let text = b"see arn:aws:iam::123456789012:role/x and 210987654321";
        let arn = m(4, 36, "ARN_IAM", Family::Arns);
        let mut out = Vec::new();
        find_by_context(text, &[arn], &mut out);
        let found: Vec<&[u8]> = out.iter().map(|m| &text[m.start..m.end]).collect();
        assert_eq!(found, [b"123456789012"]);
        out.clear();
        find_by_context(text, &[], &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
                &["123456789012", "app"],
            ),
            (
                "image: 722026593455.dkr.ecr.eu-central-1.amazonaws.com/pinewood/checkout:2024.06.18-3",
                &["722026593455", "pinewood/checkout"],
            ),
            (
                "https://sqs.us-east-1.amazonaws.com/123456789012/payments-settlement-dlq",
                &["123456789012", "payments-settlement-dlq"],
            ),
            (
                "https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo\"",
                &["123456789012", "jobs.fifo"],
            ),
            (
                "https://queue.amazonaws.com/123456789012/q1",
                &["123456789012", "q1"],
            ),
            ("Account: 123456789012", &["123456789012"]),
            ("\"OwnerId\": \"210987654321\",", &["210987654321"]),
            ("aws_account_id = 123456789012", &["123456789012"]),
            ("the owner-id is 123456789012.", &["123456789012"]),
            (
                "\"Principal\": {\"AWS\": [\"123456789012\", \"210987654321\"]}",
                &["123456789012", "210987654321"],
            ),
            ("ACCOUNTID=123456789012", &["123456789012"]),
            (
                "identifiers = [\"arn:aws:iam::111122223333:root\", \"123456789012\"]",
                &["123456789012"],
            ),
            (
                "Principal:\n  AWS:\n    - 'arn:x'\n    - '123456789012'\n",
                &["123456789012"],
            ),
            (
                "Sign in at https://123456789012.signin.aws.amazon.com/console",
                &["123456789012"],
            ),
            (
                "aws lambda invoke --function-name 123456789012:function:f out",
                &["123456789012"],
            ),
            (
                "version account-id interface-id\n2 123456789012 eni-0a1b2c3d 10.0.0.1",
                &["123456789012"],
            ),
            (
                "RESERVATIONS\t123456789012\tr-0a1b2c3d4e5f67890",
                &["123456789012"],
            ),
            ("\"orders\": [\"123456789012\"]", &[]),
            ("order 123456789012 eni-0a1b2c3d", &["123456789012"]),
            // Near misses.
            ("Order number 123456789012 was paid", &[]),
            ("account\n123456789012", &[]),
            (
                "the account page is long, very long, and it is far away: 123456789012",
                &[],
            ),
            ("account 1234567890123 or 12345678901 or x123456789012", &[]),
            ("https://ec2.us-east-1.amazonaws.com/123456789012/x", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(values(input), *want, "{input}");
        }
    }
}

#[cfg(test)]
mod dashed_tests {
    use super::*;

    fn dashed(input: &str) -> Vec<&str> {
        let b = input.as_bytes();
        let mut out = Vec::new();
        for p in memchr::memchr_iter(b'-', b) {
            dashed_at_dash(b, p, &mut out);
        }
        out.iter().map(|m| &input[m.start..m.end]).collect()
    }

    #[test]
    fn the_console_form() {
        let cases: &[(&str, &[&str])] = &[
            (
                "| prod | 6951-5230-6733 | aws+x@acme.com |",
                &["6951-5230-6733"],
            ),
            ("Account 2396-2270-2847\\n", &["2396-2270-2847"]),
            ("(4076-9573-8461)", &["4076-9573-8461"]),
            // Near misses: a card number, longer or shorter groups, glued.
            ("4111-1111-1111-1111", &[]),
            ("12345-6789-0123", &[]),
            ("1234-5678-901", &[]),
            ("x1234-5678-9012", &[]),
            ("1234-5678-9012a", &[]),
            ("9-1234-5678-9012", &[]),
            ("2024-01-15", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(dashed(input), *want, "{input}");
        }
    }

    /// The names AWS makes for an account hold its id after a dash.
    #[test]
    fn account_inside_aws_made_names() {
        let found = |input: &str| {
            let mut out = Vec::new();
            find_by_context(input.as_bytes(), &[], &mut out);
            out.iter()
                .map(|m| input[m.start..m.end].to_string())
                .collect::<Vec<_>>()
        };
        for name in [
            "cdk-hnb659fds-assets-104669420921-eu-west-3",
            "sagemaker-ap-southeast-1-207084948178",
            "config-bucket-515273219400",
        ] {
            assert_eq!(
                found(&format!("s3://{name}/x")),
                ["104669420921", "207084948178", "515273219400"]
                    .iter()
                    .filter(|a| name.contains(*a))
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>(),
                "{name}"
            );
        }
        // A number that starts a name, or glued to capitals, is not one.
        assert!(found("164459876063-compute@developer.gserviceaccount.com").is_empty());
        assert!(found("ORDER-123456789012").is_empty());
        assert!(found("order 123456789012").is_empty());
        assert!(found("line\\n-123456789012").is_empty());
        assert!(found("550e8400-e29b-41d4-a716-446655440000").is_empty());
    }
}
