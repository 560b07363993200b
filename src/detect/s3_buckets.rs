//! S3 bucket names: after `s3://`, in path-style URLs
//! (`https://s3.<region>.amazonaws.com/bucket/key`), and in key context
//! (`--bucket b`, `"Bucket": "b"`, `bucket_name = b`: found by the
//! key-context scanner, which calls [`is_bucket`]), and in the lines of
//! `aws s3 ls`. Only the bucket is
//! masked, never the key path after it. Virtual-hosted URLs
//! (`bucket.s3.amazonaws.com`) are masked whole by `hostnames`.

use super::util::{before_is, has_shape, is, is_region, m, run_len, ALNUM, BUCKET, HOST, WORD};
use super::{Family, Match};
#[cfg(test)]
use memchr::memmem::Finder;

/// Whether `v` follows the S3 bucket naming rules: 3-63 bytes of
/// `[a-z0-9.-]`, starting and ending with a letter or digit, no `..`, not
/// an IPv4 address.
pub(crate) fn is_bucket(v: &[u8]) -> bool {
    (3..=63).contains(&v.len())
        && v.iter().all(|&b| super::util::class_has(&BUCKET, b))
        && v.first().is_some_and(u8::is_ascii_alphanumeric)
        && v.last().is_some_and(u8::is_ascii_alphanumeric)
        && !v.windows(2).any(|w| w == b"..")
        && !(v.iter().all(|b| b.is_ascii_digit() || *b == b'.')
            && v.iter().filter(|&&b| b == b'.').count() == 3)
}

/// Whether `v` is a bucket of S3's legacy naming rules (buckets made in
/// us-east-1 before March 2018 may hold upper case: `MyBucket`, as
/// AWS's own examples spell them): 3-63 bytes of `[A-Za-z0-9.-]`, a
/// letter or digit at both ends, no `..`, and both cases, so neither a
/// constant (`BUCKET`) nor a lower-case word that the current rules
/// already judge. Only for a value that is a string literal under a
/// bucket key: an unquoted `Bucket=BucketName` in code is a variable.
pub(super) fn is_legacy_bucket(v: &[u8]) -> bool {
    (3..=63).contains(&v.len())
        && v.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && v.first().is_some_and(u8::is_ascii_alphanumeric)
        && v.last().is_some_and(u8::is_ascii_alphanumeric)
        && !v.windows(2).any(|w| w == b"..")
        && v.iter().any(u8::is_ascii_uppercase)
        && v.iter().any(u8::is_ascii_lowercase)
}

/// The bucket at `s` if it is one and ends at a path/URL boundary.
fn bucket_at(text: &[u8], s: usize) -> Option<usize> {
    let n = run_len(&BUCKET, text, s, 64);
    let e = s + n;
    let ends = match text.get(e) {
        None => true,
        Some(&b) => !(b.is_ascii_alphanumeric() || b == b'_'),
    };
    (ends && text.get(s..e).is_some_and(is_bucket)).then_some(e)
}

/// Whether the labels of `host` (before `.amazonaws.com`) are a public S3
/// endpoint that takes the bucket in the path.
fn is_s3_path_host(host: &[u8]) -> bool {
    let labels: [Option<&[u8]>; 4] = {
        let mut it = host.split(|&b| b == b'.');
        [it.next(), it.next(), it.next(), it.next()]
    };
    match labels {
        [Some(b"s3"), None, ..] | [Some(b"s3-external-1"), None, ..] => true,
        [Some(s), None, ..] => s.strip_prefix(b"s3-").is_some_and(is_region),
        [Some(b"s3" | b"s3-fips"), Some(r), None, _] => is_region(r),
        [Some(b"s3" | b"s3-fips"), Some(b"dualstack"), Some(r), None] => is_region(r),
        _ => false,
    }
}

/// Appends every bucket after `s3://`, in a path-style S3 URL or in an
/// rclone remote; `scheme` finds `s3://`, `aws_path` finds
/// `.amazonaws.com/`.
#[cfg(test)]
pub(super) fn find(
    text: &[u8],
    scheme: &Finder<'static>,
    aws_path: &Finder<'static>,
    out: &mut Vec<Match<'_>>,
) {
    find_after_scheme(text, scheme, out);
    for p in aws_path.find_iter(text) {
        path_at_dot(text, p, out);
    }
    for p in memchr::memmem::find_iter(text, b":s3,") {
        rclone_remote_at_colon(text, p, out);
    }
}

/// Appends every bucket after `s3://`, `s3a://` or `s3n://` (`scheme`
/// finds `://`; the reference for [`scheme_at_colon`]).
#[cfg(test)]
fn find_after_scheme(text: &[u8], scheme: &Finder<'static>, out: &mut Vec<Match<'_>>) {
    for p in scheme.find_iter(text) {
        scheme_at_colon(text, p, out);
    }
}

/// Appends the bucket after an `s3://` (or Hadoop's `s3a://` and
/// `s3n://`) whose `:` is at `colon`, if there is one (the catalog calls
/// it for every `:` followed by `/`).
pub(super) fn scheme_at_colon(text: &[u8], colon: usize, out: &mut Vec<Match<'_>>) {
    // Byte comparisons, not a slice comparison: this runs at every colon.
    if !matches!(text.get(colon..colon + 3), Some([b':', b'/', b'/'])) {
        return;
    }
    let hadoop = colon.checked_sub(3).and_then(|p| text.get(p..colon));
    let p = if matches!(hadoop, Some([b's', b'3', b'a' | b'n'])) {
        colon - 3
    } else if colon >= 2 && text.get(colon - 2..colon) == Some(b"s3") {
        colon - 2
    } else {
        return;
    };
    if before_is(&WORD, text, p) {
        return;
    }
    let s = colon + 3;
    if let Some(e) = bucket_at(text, s) {
        out.push(m(s, e, "S3_BUCKET", Family::S3Buckets));
    }
}

/// Longest parameter list of an rclone remote walked over.
const MAX_REMOTE: usize = 1024;

/// Appends the bucket of an rclone on-the-fly S3 remote whose leading `:`
/// is at `colon`: `':s3,provider=AWS,access_key_id=…,secret_access_key=…:bucket/path'`.
/// The parameters end at the next `:`, and the bucket follows it. The
/// catalog calls it at every `:` followed by `s`.
pub(super) fn rclone_remote_at_colon(text: &[u8], colon: usize, out: &mut Vec<Match<'_>>) {
    if text.get(colon + 1..colon + 4) != Some(b"s3,") || before_is(&WORD, text, colon) {
        return;
    }
    let from = colon + 4;
    let params = text
        .get(from..text.len().min(from + MAX_REMOTE))
        .unwrap_or_default();
    let Some(end) = params.iter().position(|b| {
        matches!(
            b,
            b':' | b' ' | b'\t' | b'\n' | b'\r' | b'\'' | b'"' | b'\\'
        )
    }) else {
        return;
    };
    // Parameters are `key=value` pairs: a remote, not prose ("s3, ec2").
    if params.get(end) != Some(&b':') || !params.get(..end).is_some_and(|p| p.contains(&b'=')) {
        return;
    }
    let s = from + end + 1;
    if let Some(e) = bucket_at(text, s) {
        out.push(m(s, e, "S3_BUCKET", Family::S3Buckets));
    }
}

/// Appends the bucket of a path-style S3 URL whose `.amazonaws.com/`
/// starts at `p`, if there is one (the catalog calls it for every `.`).
pub(super) fn path_at_dot(text: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    if !text
        .get(p..)
        .is_some_and(|rest| rest.starts_with(b".amazonaws.com/"))
    {
        return;
    }
    let mut h = p;
    while p - h < 64 && before_is(&HOST, text, h) {
        h -= 1;
    }
    if before_is(&WORD, text, h) || !text.get(h..p).is_some_and(is_s3_path_host) {
        return;
    }
    let s = p + ".amazonaws.com/".len();
    if let Some(e) = bucket_at(text, s) {
        if !is(&ALNUM, text, e) {
            out.push(m(s, e, "S3_BUCKET", Family::S3Buckets));
        }
    }
}

/// Appends the bucket of an `aws s3 ls` line (`2024-03-16 10:05:00 name`,
/// the bucket right after the time and alone up to the line's end, with a
/// dash, dot or digit in it) whose
/// date's first dash is at `p`. A listing of objects has a size column
/// between the time and the key, and so no match.
pub(super) fn ls_line_at_dash(text: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    const SHAPE: &[u8] = b"dddd-dd-dd dd:dd:dd ";
    let Some(s0) = p.checked_sub(4) else {
        return;
    };
    if !has_shape(text, s0, SHAPE) || before_is(&ALNUM, text, s0) {
        return;
    }
    let s = s0 + SHAPE.len();
    let n = run_len(&BUCKET, text, s, 64);
    let e = s + n;
    let line_ends = match text.get(e) {
        None | Some(b'\n' | b'\r') => true,
        Some(b'\\') => matches!(text.get(e + 1), Some(b'n' | b'r')),
        _ => false,
    };
    // A log line of one word (`… 10:05:00 starting`) is no listing: the
    // name needs a dash, dot or digit, as nearly every bucket name has.
    let named = text
        .get(s..e)
        .is_some_and(|v| is_bucket(v) && v.iter().any(|b| !b.is_ascii_lowercase()));
    if line_ends && named {
        out.push(m(s, e, "S3_BUCKET", Family::S3Buckets));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(input: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for p in memchr::memchr_iter(b'-', input.as_bytes()) {
            ls_line_at_dash(input.as_bytes(), p, &mut out);
        }
        find(
            input.as_bytes(),
            &Finder::new(b"://").into_owned(),
            &Finder::new(b".amazonaws.com/").into_owned(),
            &mut out,
        );
        out.iter().map(|m| &input[m.start..m.end]).collect()
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            (
                "$ aws s3 ls\n2024-03-16 10:05:00 400747481565-terraform-state\n2024-06-10 18:32:49 soylent.media.stg",
                &["400747481565-terraform-state", "soylent.media.stg"],
            ),
            (
                "2024-03-16 10:05:00 acme-logs\\n2024-03-16 10:05:00 acme-data\\n",
                &["acme-logs", "acme-data"],
            ),
            ("2024-03-16 10:05:00       1234 report.csv\n", &[]),
            ("2024-03-16 10:05:00 Started the job\n", &[]),
            ("2024-03-16 10:05:00 starting\n", &[]),
            ("2024-03-16 10:05:00 acme-logs and more\n", &[]),
            (
                "aws s3 cp s3://acme-payments-logs-prod/2026/x.gz .",
                &["acme-payments-logs-prod"],
            ),
            ("\"s3://my.bucket.name\"", &["my.bucket.name"]),
            (
                "https://s3.us-east-1.amazonaws.com/my-bucket/key.txt",
                &["my-bucket"],
            ),
            ("https://s3.amazonaws.com/my-bucket", &["my-bucket"]),
            (
                "https://s3.dualstack.us-west-2.amazonaws.com/my-bucket?x=1",
                &["my-bucket"],
            ),
            (
                "https://s3-us-west-2.amazonaws.com/my-bucket/",
                &["my-bucket"],
            ),
            // rclone's on-the-fly remote: the bucket after its parameters.
            (
                "rclone lsd ':s3,provider=AWS,access_key_id=AKIAX,secret_access_key=a%2Bb:stark.audit.dev'",
                &["stark.audit.dev"],
            ),
            (
                "rclone copy x \":s3,env_auth=true,region=eu-west-1:acme-logs/2026/\"",
                &["acme-logs"],
            ),
            // Near misses.
            ("services: s3, ec2:x and a:s3,b:c", &[]),
            ("rclone lsd :s3,provider=AWS :acme-logs", &[]),
            ("s3://ab/x", &[]),
            ("s3://My-Bucket/x", &[]),
            ("s3://bad..name", &[]),
            ("s3://192.168.1.1/x", &[]),
            ("xs3://my-bucket", &[]),
            ("s3a://margie-events-curated/x", &["margie-events-curated"]),
            ("spark.read.parquet(\"s3n://adatum-archive/2019/\")", &["adatum-archive"]),
            ("s3x://my-bucket", &[]),
            ("as3a://my-bucket", &[]),
            ("https://sqs.us-east-1.amazonaws.com/123456789012/q", &[]),
            ("https://ec2.amazonaws.com/my-bucket", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(values(input), *want, "{input}");
        }
        assert!(is_bucket(b"my-bucket"));
        for legacy in ["MyBucket", "Acme.Logs-2017", "DataLake01"] {
            assert!(is_legacy_bucket(legacy.as_bytes()), "{legacy}");
        }
        for not in [
            "BUCKET",
            "mybucket",
            "My_Bucket",
            "-MyBucket",
            "My..Bucket",
            "Ab",
        ] {
            assert!(!is_legacy_bucket(not.as_bytes()), "{not}");
        }
        for bad in ["-bucket", "bucket-", "ab", "a_b_c", "10.0.0.1"] {
            assert!(!is_bucket(bad.as_bytes()), "{bad}");
        }
    }
}
