//! AWS host names with customer-specific labels.
//!
//! Anchored on `.` (memchr) followed by a known AWS domain suffix
//! (case-insensitive): `amazonaws.com` (and `.cn`), `on.aws`,
//! `cloudfront.net`, `awsapps.com`, `elasticbeanstalk.com`,
//! `amplifyapp.com`, `amazoncognito.com` (hosted UI domains),
//! `awsapprunner.com`, `awsglobalaccelerator.com`, `api.aws`,
//! `connect.aws`, `sagemaker.aws`. The whole host is one match unless its
//! labels are a
//! public service endpoint (`sts.amazonaws.com`, `ec2.us-east-1…`,
//! `s3.dualstack.us-west-2…`, `runtime.sagemaker.us-east-1…`), which stay
//! readable. EC2 private names `ip-A-B-C-D` (bare, `.ec2.internal`,
//! `.<region>.compute.internal`) are found from an `ip-` anchor.

use super::util::{before_is, is, is_region, m, run_len, starts_with_ci, ALNUM, DIGIT, HOST, WORD};
use super::{Family, Match};
#[cfg(test)]
use memchr::memmem::Finder;

/// First labels of public multi-label endpoints: `runtime.sagemaker.<region>`.
const PUBLIC_SUBS: &[&[u8]] = &[
    b"runtime",
    b"api",
    b"data",
    b"data-ats",
    b"models",
    b"oidc",
    b"a2i-runtime",
    b"featurestore-runtime",
    b"portal",
    b"streams",
    b"control",
    b"fips",
    b"catalog",
    b"entitlement",
    b"metering",
    b"runtime-v2",
];

/// A host label, lower-cased into a fixed buffer (labels are at most 63
/// bytes; longer ones are truncated, which only matters for comparisons
/// that would fail anyway).
#[derive(Clone, Copy)]
struct Label {
    buf: [u8; 64],
    len: usize,
}

impl Label {
    fn new(raw: &[u8]) -> Label {
        let mut buf = [0u8; 64];
        let len = raw.len().min(64);
        for (d, s) in buf.iter_mut().zip(raw) {
            *d = s.to_ascii_lowercase();
        }
        Label { buf, len }
    }
    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// Whether a label places a host in a region or at S3 or EC2, as every
/// customer host under `amazonaws.com` is placed: a region, its
/// abbreviation (`use1`, `apse2`: ElastiCache), `s3…`, `compute-1`, or
/// all digits (an account, ECR).
fn is_anchor(l: &Label) -> bool {
    let b = l.bytes();
    let abbr = (4..=5).contains(&b.len())
        && b.last().is_some_and(u8::is_ascii_digit)
        && b.iter().rev().skip(1).all(u8::is_ascii_lowercase);
    is_region(b)
        || abbr
        || b.starts_with(b"s3")
        || b == b"compute-1"
        || (!b.is_empty() && b.iter().all(u8::is_ascii_digit))
}

/// Whether the labels before `amazonaws.com` name a public endpoint: a
/// known public form, or no label placing it anywhere (a service
/// principal, `delivery.logs.amazonaws.com`).
fn is_public(labels: &[Label]) -> bool {
    if !labels.iter().any(is_anchor) {
        return true;
    }
    match labels {
        [_] => true,
        [_, region] => is_region(region.bytes()),
        [sub, mid, region] => {
            is_region(region.bytes())
                && (mid.bytes() == b"dualstack" || PUBLIC_SUBS.contains(&sub.bytes()))
        }
        _ => false,
    }
}

/// The token kind of an `amazonaws.com` host, from its service label.
fn amazonaws_kind(labels: &[Label]) -> &'static str {
    for l in labels.iter().rev() {
        let b = l.bytes();
        let kind = match b {
            b"rds" => "RDS",
            b"elb" => "ELB",
            b"cache" => "ELASTICACHE",
            b"es" | b"aoss" => "ES",
            b"kafka" => "KAFKA",
            b"eks" => "EKS",
            b"ecr" => "ECR",
            b"execute-api" => "APIGW",
            b"sqs" => "SQS",
            b"vpce" => "HOST",
            b"ec2" => "EC2_HOST",
            _ if b.starts_with(b"compute") => "EC2_HOST",
            _ if b == b"s3" || b.starts_with(b"s3-") => "S3_HOST",
            _ => continue,
        };
        return kind;
    }
    "HOST"
}

/// Up to 8 labels of `host` (more is never a public endpoint).
fn split_labels(host: &[u8], labels: &mut [Label; 8]) -> usize {
    let mut n = 0;
    for (slot, raw) in labels.iter_mut().zip(host.split(|&b| b == b'.')) {
        *slot = Label::new(raw);
        n += 1;
    }
    if host.split(|&b| b == b'.').nth(8).is_some() {
        n = 9;
    }
    n
}

/// Whether a host ending at `e` stops there: no more host bytes, except a
/// sentence-ending dot.
fn host_ends(text: &[u8], e: usize) -> bool {
    match text.get(e) {
        Some(b'.') => !is(&ALNUM, text, e + 1),
        Some(&b) => !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        None => true,
    }
}

/// Appends every customer host name under an AWS domain in `text`.
#[cfg(test)]
fn find_domains(text: &[u8], out: &mut Vec<Match<'_>>) {
    for dot in memchr::memchr_iter(b'.', text) {
        domain_at_dot(text, dot, out);
    }
}

/// Appends the host name whose AWS domain suffix starts after the `.` at
/// `dot`, if there is one. The catalog calls it for every `.`, in one pass
/// shared with IPv4 addresses.
pub(super) fn domain_at_dot(text: &[u8], dot: usize, out: &mut Vec<Match<'_>>) {
    let Some(first) = text.get(dot + 1) else {
        return;
    };
    // Dispatch on the first two bytes so that the `.append`, `.com`,
    // `.exe` of ordinary text cost one comparison.
    let second = text.get(dot + 2).map_or(0, |b| b | 0x20);
    let suffix: &[u8] = match (first | 0x20, second) {
        (b'a', b'm') if starts_with_ci(text, dot + 1, b"amazonaws.com") => b"amazonaws.com",
        (b'a', b'm') if starts_with_ci(text, dot + 1, b"amplifyapp.com") => b"amplifyapp.com",
        (b'a', b'm') if starts_with_ci(text, dot + 1, b"amazoncognito.com") => b"amazoncognito.com",
        (b'a', b'w') if starts_with_ci(text, dot + 1, b"awsapps.com") => b"awsapps.com",
        (b'a', b'w') if starts_with_ci(text, dot + 1, b"awsapprunner.com") => b"awsapprunner.com",
        (b'a', b'w') if starts_with_ci(text, dot + 1, b"awsglobalaccelerator.com") => {
            b"awsglobalaccelerator.com"
        }
        (b'a', b'p') if starts_with_ci(text, dot + 1, b"api.aws") => b"api.aws",
        (b'c', b'o') if starts_with_ci(text, dot + 1, b"connect.aws") => b"connect.aws",
        (b's', b'a') if starts_with_ci(text, dot + 1, b"sagemaker.aws") => b"sagemaker.aws",
        (b'o', b'n') if starts_with_ci(text, dot + 1, b"on.aws") => b"on.aws",
        (b'c', b'l') if starts_with_ci(text, dot + 1, b"cloudfront.net") => b"cloudfront.net",
        (b'e', b'l') if starts_with_ci(text, dot + 1, b"elasticbeanstalk.com") => {
            b"elasticbeanstalk.com"
        }
        _ => return,
    };
    let mut e = dot + 1 + suffix.len();
    if suffix == b"amazonaws.com" && starts_with_ci(text, e, b".cn") && host_ends(text, e + 3) {
        e += 3;
    }
    if !host_ends(text, e) {
        return;
    }
    let mut s = dot;
    while dot - s < 253 && before_is(&HOST, text, s) {
        s -= 1;
    }
    while s < dot && !is(&ALNUM, text, s) {
        s += 1;
    }
    // A first label with `_` (`orders_db.cluster-….rds.amazonaws.com`):
    // not a valid host name, but a customer's name all the same.
    while dot - s < 253 && s > 0 && before_is(&WORD, text, s) {
        s -= 1;
    }
    if s >= dot || before_is(&WORD, text, s) {
        return;
    }
    let Some(host) = text.get(s..dot) else {
        return;
    };
    let mut labels = [Label::new(b""); 8];
    let n = split_labels(host, &mut labels);
    let labels = labels.get(..n).unwrap_or(labels.as_slice());
    let kind = match suffix {
        // `api.aws` holds the dual-stack public endpoints
        // (`ec2.us-east-1.api.aws`) next to customer ones
        // (`<id>.execute-api.<region>.api.aws`).
        b"amazonaws.com" | b"api.aws" => {
            if n <= 8 && is_public(labels) {
                return;
            }
            amazonaws_kind(labels)
        }
        b"awsapprunner.com" => "APPRUNNER",
        b"awsglobalaccelerator.com" => "GLOBAL_ACCELERATOR",
        b"connect.aws" => "CONNECT",
        b"sagemaker.aws" => "SAGEMAKER",
        b"cloudfront.net" => "CLOUDFRONT",
        b"amazoncognito.com" => "COGNITO_DOMAIN",
        b"on.aws" if labels.iter().any(|l| l.bytes() == b"lambda-url") => "LAMBDA_URL",
        _ => "HOST",
    };
    out.push(m(s, e, kind, Family::Hostnames));
}

/// Parses `A-B-C-D` (decimal octets) at `i`: the end index.
fn dashed_ipv4(text: &[u8], mut i: usize) -> Option<usize> {
    for k in 0..4 {
        if k > 0 {
            if text.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
        let n = run_len(&DIGIT, text, i, 4);
        let v = text
            .get(i..i + n)?
            .iter()
            .fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
        if n == 0 || n > 3 || v > 255 {
            return None;
        }
        i += n;
    }
    Some(i)
}

/// Appends every `ip-A-B-C-D` host name (EC2's private DNS names) in
/// `text`; `ip` finds `ip-`.
#[cfg(test)]
fn find_ip_names(text: &[u8], ip: &Finder<'static>, out: &mut Vec<Match<'_>>) {
    for p in ip.find_iter(text) {
        ip_name_at_dash(text, p + 2, out);
    }
}

/// Appends the `ip-A-B-C-D` host name whose first dash is at `dash`, if
/// there is one (the catalog calls it for every `-`).
pub(super) fn ip_name_at_dash(text: &[u8], dash: usize, out: &mut Vec<Match<'_>>) {
    let Some(p) = dash.checked_sub(2) else {
        return;
    };
    if text.get(p..dash) != Some(b"ip") {
        return;
    }
    {
        if before_is(&WORD, text, p) || before_is(&HOST, text, p) {
            return;
        }
        let Some(mut e) = dashed_ipv4(text, p + 3) else {
            return;
        };
        if starts_with_ci(text, e, b".ec2.internal") {
            e += 13;
        } else if text.get(e) == Some(&b'.') {
            let r = e + 1;
            let n = run_len(&HOST, text, r, 30);
            let region_end = text
                .get(r..r + n)
                .and_then(|x| x.iter().position(|&b| b == b'.'))
                .map(|k| r + k);
            if let Some(re) = region_end {
                if text.get(r..re).is_some_and(is_region)
                    && starts_with_ci(text, re, b".compute.internal")
                {
                    e = re + 17;
                }
            }
        }
        if host_ends(text, e) || text.get(e) == Some(&b'.') {
            if text
                .get(e)
                .is_some_and(|&b| b == b'-' || b == b'_' || b.is_ascii_alphanumeric())
            {
                return;
            }
            out.push(m(p, e, "EC2_HOST", Family::Hostnames));
        }
    }
}

/// Appends every customer-specific AWS host name in `text`; `ip` finds
/// `ip-`.
#[cfg(test)]
pub(super) fn find(text: &[u8], ip: &Finder<'static>, out: &mut Vec<Match<'_>>) {
    find_domains(text, out);
    find_ip_names(text, ip, out);
}

#[cfg(test)]
mod tests {
    use super::super::tests::kinds_of;
    use super::*;

    fn found(input: &str) -> Vec<(&str, &str)> {
        let ip = Finder::new(b"ip-").into_owned();
        kinds_of(input, |b, out| find(b, &ip, out))
    }

    #[test]
    fn masked() {
        let cases: &[(&str, &str)] = &[
            ("mydb.c9akciq32.us-east-1.rds.amazonaws.com", "RDS"),
            (
                "orders_db.cluster-c9akciq32.us-east-1.rds.amazonaws.com",
                "RDS",
            ),
            ("my-alb-1234567890.us-east-1.elb.amazonaws.com", "ELB"),
            ("ec2-54-1-2-3.compute-1.amazonaws.com", "EC2_HOST"),
            (
                "ec2-54-201-33-7.us-west-2.compute.amazonaws.com",
                "EC2_HOST",
            ),
            ("ip-10-0-1-23.ec2.internal", "EC2_HOST"),
            ("ip-10-0-0-1.us-west-2.compute.internal", "EC2_HOST"),
            ("ip-10-0-1-23", "EC2_HOST"),
            ("abcdef1234.execute-api.eu-west-1.amazonaws.com", "APIGW"),
            ("abcdefghij.lambda-url.us-east-1.on.aws", "LAMBDA_URL"),
            ("ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com", "EKS"),
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "ECR"),
            ("my-bucket.s3.us-east-1.amazonaws.com", "S3_HOST"),
            ("my-bucket.s3.amazonaws.com", "S3_HOST"),
            ("my-bucket.s3-website-us-east-1.amazonaws.com", "S3_HOST"),
            ("d111111abcdef8.cloudfront.net", "CLOUDFRONT"),
            (
                "fabrikam-dev.auth.eu-south-2.amazoncognito.com",
                "COGNITO_DOMAIN",
            ),
            ("h1ptrrqw27.us-west-2.awsapprunner.com", "APPRUNNER"),
            (
                "a1234567890abcdef.awsglobalaccelerator.com",
                "GLOBAL_ACCELERATOR",
            ),
            (
                "a1234567890abcdef.dualstack.awsglobalaccelerator.com",
                "GLOBAL_ACCELERATOR",
            ),
            ("7lz7wrkkha.execute-api.ap-southeast-2.api.aws", "APIGW"),
            ("globex-ingest.my.connect.aws", "CONNECT"),
            (
                "prd-audit.notebook.ap-southeast-1.sagemaker.aws",
                "SAGEMAKER",
            ),
            ("search-my-domain-abc123.us-east-1.es.amazonaws.com", "ES"),
            (
                "b-1.mycluster.abc123.c2.kafka.us-east-1.amazonaws.com",
                "KAFKA",
            ),
            (
                "my-cache.abc123.ng.0001.use1.cache.amazonaws.com",
                "ELASTICACHE",
            ),
            (
                "vpce-0123456789abcdef0-abcdefgh.ec2.us-east-1.vpce.amazonaws.com",
                "HOST",
            ),
            ("d-1234567890.awsapps.com", "HOST"),
            ("myenv.us-east-1.elasticbeanstalk.com", "HOST"),
            ("main.d1a2b3c4.amplifyapp.com", "HOST"),
            ("mydb.abc.cn-north-1.rds.amazonaws.com.cn", "RDS"),
            ("MYDB.C9AKCIQ32.US-EAST-1.RDS.AMAZONAWS.COM", "RDS"),
        ];
        for (host, kind) in cases {
            for wrap in ["{}", "https://{}/path", "\"{}\".", "x {}:5432"] {
                let input = wrap.replace("{}", host);
                assert_eq!(found(&input), vec![(*host, *kind)], "{input}");
            }
        }
    }

    #[test]
    fn public() {
        let cases: &[&str] = &[
            "ec2.us-east-1.amazonaws.com",
            "ec2.us-east-1.api.aws",
            "delivery.logs.amazonaws.com",
            "vpc-flow-logs.amazonaws.com",
            "procurement-insights.marketplace.amazonaws.com",
            "sts.us-west-2.api.aws",
            "sts.amazonaws.com",
            "s3.amazonaws.com",
            "s3.dualstack.us-west-2.amazonaws.com",
            "dynamodb.us-east-1.amazonaws.com",
            "runtime.sagemaker.us-east-1.amazonaws.com",
            "sqs.us-east-1.amazonaws.com",
            "bedrock-runtime.us-east-1.amazonaws.com",
            "s3-fips.us-gov-west-1.amazonaws.com",
            "s3-website-us-east-1.amazonaws.com",
            "s3-website.us-east-1.amazonaws.com",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
            "amazonaws.com",
            "cloudfront.net",
            "myamazonaws.com",
            "x.amazonaws.community",
            "ip-address",
            "ip-10-0-1",
            "ship-10-0-1-23",
            "ip-10-0-1-256",
            "ip-10-0-1-23-x",
        ];
        for input in cases {
            assert_eq!(found(input), vec![], "{input}");
        }
    }
}
