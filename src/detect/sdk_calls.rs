//! Resource names passed positionally to the SDKs' best-known calls,
//! where no key names them: boto3's `dynamodb.Table("orders")`,
//! `s3.Bucket("b")`, `s3.Object("b", "k")`, `s3.upload_file("f", "b",
//! "k")`, `s3.download_file("b", "k", "f")`; the Java and Rust builders'
//! `.bucket("b")`, `.tableName("t")`, `.functionName("f")`; CDK's
//! `Bucket.fromBucketName(this, "Id", "b")`; Pulumi's lookups of an
//! existing resource, `aws.iam.Role.get("deploy", "name")`.
//!
//! Anchored on the `.` before the method (the catalog's pass over dots),
//! dispatched on the method's first letter: a method not in [`CALLS`]
//! costs a comparison or two.

use super::named_resources::{accepts, Rule};
use super::util::m;
use super::{Family, Match};

/// A known call: method name, the argument (0-based) that holds the
/// name, its token kind, family and rule.
type Call = (&'static [u8], usize, &'static str, Family, Rule);

/// The calls, by method name.
const CALLS: &[Call] = &[
    (
        b"Table",
        0,
        "DYNAMODB_TABLE",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"tableName",
        0,
        "DYNAMODB_TABLE",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"functionName",
        0,
        "LAMBDA",
        Family::NamedResources,
        Rule::Name,
    ),
    (b"Bucket", 0, "S3_BUCKET", Family::S3Buckets, Rule::Bucket),
    (b"bucket", 0, "S3_BUCKET", Family::S3Buckets, Rule::Bucket),
    (b"Object", 0, "S3_BUCKET", Family::S3Buckets, Rule::Bucket),
    (
        b"upload_file",
        1,
        "S3_BUCKET",
        Family::S3Buckets,
        Rule::Bucket,
    ),
    (
        b"download_file",
        0,
        "S3_BUCKET",
        Family::S3Buckets,
        Rule::Bucket,
    ),
    (
        b"fromBucketName",
        2,
        "S3_BUCKET",
        Family::S3Buckets,
        Rule::Bucket,
    ),
    // CDK's other lookups of an existing resource, in TypeScript and
    // Python: `Table.fromTableName(this, "Id", "t")`.
    (
        b"from_bucket_name",
        2,
        "S3_BUCKET",
        Family::S3Buckets,
        Rule::Bucket,
    ),
    (
        b"fromTableName",
        2,
        "DYNAMODB_TABLE",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"from_table_name",
        2,
        "DYNAMODB_TABLE",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"fromFunctionName",
        2,
        "LAMBDA",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"from_function_name",
        2,
        "LAMBDA",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"fromRoleName",
        2,
        "IAM_ROLE",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"from_role_name",
        2,
        "IAM_ROLE",
        Family::NamedResources,
        Rule::Name,
    ),
    // The Java SDK v1's `s3.putObject("bucket", key, file)`.
    (
        b"putObject",
        0,
        "S3_BUCKET",
        Family::S3Buckets,
        Rule::Bucket,
    ),
    (
        b"getObject",
        0,
        "S3_BUCKET",
        Family::S3Buckets,
        Rule::Bucket,
    ),
];

/// boto3's SSM calls whose `Name=` is a parameter's name
/// (`ssm.get_parameter(Name='/app/prod/db', WithDecryption=True)`).
const SSM_CALLS: &[&[u8]] = &[
    b"get_parameter(",
    b"put_parameter(",
    b"delete_parameter(",
    b"get_parameter_history(",
    b"label_parameter_version(",
];

/// The parameter name of an SSM call at `s` (its method's first byte),
/// if the call passes one as a string literal under `Name=`.
fn ssm_name(text: &[u8], s: usize) -> Option<(usize, usize)> {
    let call = SSM_CALLS
        .iter()
        .find(|c| text.get(s..s + c.len()) == Some(**c))?;
    let args = s + call.len();
    let end = (args + MAX_ARGS).min(text.len());
    let window = text.get(args..end)?;
    let close = memchr::memchr(b')', window).unwrap_or(window.len());
    let at = memchr::memmem::find(window.get(..close)?, b"Name=")?;
    let before = at.checked_sub(1).and_then(|i| window.get(i));
    if before.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_') {
        return None;
    }
    let q = *window.get(at + 5)?;
    if !matches!(q, b'"' | b'\'') {
        return None;
    }
    let vs = args + at + 6;
    let ve = vs + memchr::memchr(q, text.get(vs..end)?)?;
    Some((vs, ve))
}

/// Longest argument list looked at.
const MAX_ARGS: usize = 512;

/// Appends the name passed to the known call whose method follows the
/// `.` at `dot`, if there is one and its family is on (`on`).
pub(super) fn at_dot(
    text: &[u8],
    dot: usize,
    on: impl Fn(Family) -> bool,
    out: &mut Vec<Match<'_>>,
) {
    let s = dot + 1;
    let Some(&first) = text.get(s) else {
        return;
    };
    if first == b'g' && text.get(s..s + 4) == Some(b"get(") {
        // Only on a Pulumi resource class: `dict.get("a", "b")` is no call
        // of an SDK.
        if pulumi_class_before(text, dot) && on(Family::NamedResources) {
            if let Some((vs, ve)) = string_arg(text, s + 4, 1) {
                if text.get(vs..ve).is_some_and(|v| accepts(Rule::Name, v)) {
                    out.push(m(vs, ve, "NAME", Family::NamedResources));
                }
            }
        }
        return;
    }
    if matches!(first, b'g' | b'p' | b'd' | b'l') && on(Family::NamedResources) {
        if let Some((vs, ve)) = ssm_name(text, s) {
            if text.get(vs..ve).is_some_and(|v| accepts(Rule::Name, v)) {
                out.push(m(vs, ve, "NAME", Family::NamedResources));
            }
            return;
        }
    }
    for &(method, arg, kind, family, rule) in CALLS {
        if method.first() != Some(&first) {
            continue;
        }
        let e = s + method.len();
        // `(` first: most methods of code (`.to_string()`) differ there.
        if text.get(e) != Some(&b'(') || text.get(s..e) != Some(method) || !on(family) {
            continue;
        }
        if let Some((vs, ve)) = string_arg(text, e + 1, arg) {
            if text.get(vs..ve).is_some_and(|v| accepts(rule, v)) {
                out.push(m(vs, ve, kind, family));
            }
        }
        return;
    }
}

/// Whether the text before the `.` at `dot` is a Pulumi AWS resource
/// class, `aws.<service>.<Type>` (`aws.iam.Role`, `aws.s3.BucketV2`).
fn pulumi_class_before(text: &[u8], dot: usize) -> bool {
    let back = |end: usize, ok: fn(&u8) -> bool| {
        let mut i = end;
        while i > 0 && text.get(i - 1).is_some_and(ok) {
            i -= 1;
        }
        i
    };
    let ty = back(dot, |b| b.is_ascii_alphanumeric());
    if ty == dot || !text.get(ty).is_some_and(u8::is_ascii_uppercase) || ty == 0 {
        return false;
    }
    let Some(svc_end) = ty.checked_sub(1).filter(|&i| text.get(i) == Some(&b'.')) else {
        return false;
    };
    let svc = back(svc_end, |b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if svc == svc_end || svc < 4 || text.get(svc - 4..svc) != Some(b"aws.") {
        return false;
    }
    !(svc > 4
        && text
            .get(svc - 5)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_'))
}

/// The contents of argument `n` of the call whose arguments start at
/// `i`, if it is a string literal (`"…"` or `'…'`, also as JSON-escaped
/// `\"…\"`). The arguments before it may be anything without a `,` or
/// `)` inside.
fn string_arg(text: &[u8], mut i: usize, n: usize) -> Option<(usize, usize)> {
    let limit = (i + MAX_ARGS).min(text.len());
    for k in 0..=n {
        while matches!(text.get(i), Some(b' ' | b'\t' | b'\n')) {
            i += 1;
        }
        let escaped = text.get(i) == Some(&b'\\');
        let q = *text.get(i + usize::from(escaped))?;
        if matches!(q, b'"' | b'\'') {
            let s = i + usize::from(escaped) + 1;
            let close = memchr::memchr(q, text.get(s..limit)?)? + s;
            let e = close - usize::from(escaped);
            if k == n {
                return Some((s, e));
            }
            i = close + 1;
        } else {
            if k == n {
                return None;
            }
            while !matches!(text.get(i), Some(b',' | b')') | None) && i < limit {
                i += 1;
            }
        }
        while matches!(text.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if text.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::tests::kinds_of;
    use super::*;

    fn found(input: &str) -> Vec<(&str, &str)> {
        kinds_of(input, |b, out| {
            for p in memchr::memchr_iter(b'.', b) {
                at_dot(b, p, |_| true, out);
            }
        })
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "ssm.get_parameter(Name='/kestrel/prod/db-password', WithDecryption=True)",
                &[("/kestrel/prod/db-password", "NAME")],
            ),
            ("client.get_parameter(ParamName='x-y-z')", &[]),
            (
                "dynamodb.Table.fromTableName(this, 'Runs', 'kestrel-report-runs');",
                &[("kestrel-report-runs", "DYNAMODB_TABLE")],
            ),
            (
                "s3.Bucket.from_bucket_name(self, \"Logs\", \"ferncrest-staging-alb-logs\")",
                &[("ferncrest-staging-alb-logs", "S3_BUCKET")],
            ),
            (
                "legacy.putObject(\"orbitly-invoices-archive\", key, file);",
                &[("orbitly-invoices-archive", "S3_BUCKET")],
            ),
            (
                "table = dynamodb.Table(\"FraudReportsStg\")",
                &[("FraudReportsStg", "DYNAMODB_TABLE")],
            ),
            (
                "bucket = boto3.resource(\"s3\").Bucket(\"bluth-catalog-artifacts\")",
                &[("bluth-catalog-artifacts", "S3_BUCKET")],
            ),
            (
                "s3.upload_file(\"report.csv\", \"initech.billing.qa\", \"sync/x.csv\")",
                &[("initech.billing.qa", "S3_BUCKET")],
            ),
            (
                "GetObjectRequest.builder()\n        .bucket(\"export-uat-l089vy\")",
                &[("export-uat-l089vy", "S3_BUCKET")],
            ),
            (
                "s3.Bucket.fromBucketName(this, 'Assets', 'globex.gateway.stg');",
                &[("globex.gateway.stg", "S3_BUCKET")],
            ),
            (
                "client.get_object().bucket(\\\"umbrella-search-dev\\\").key(\\\"k\\\")",
                &[("umbrella-search-dev", "S3_BUCKET")],
            ),
            // Not a name: a variable, an invalid bucket, another method.
            ("s3.Bucket(name)", &[]),
            ("s3.Bucket(\"Not_A_Bucket\")", &[]),
            ("s3.Buckets(\"acme-logs\")", &[]),
            (
                "s3.upload_file(path, \"acme-logs\", key)",
                &[("acme-logs", "S3_BUCKET")],
            ),
            ("s3.upload_file(\"a\", bucket, \"k\")", &[]),
            // Pulumi: the second argument of a lookup is the resource's name.
            (
                "role = aws.iam.Role.get(\"deploy\", \"stark-reports-dev\")",
                &[("stark-reports-dev", "NAME")],
            ),
            (
                "const t = aws.dynamodb.Table.get('orders', 'OrdersProd');",
                &[("OrdersProd", "NAME")],
            ),
            // Not Pulumi: a dict, a class of another module.
            ("cfg.get(\"region\", \"us-east-1\")", &[]),
            ("x = boto.iam.Role.get(\"a\", \"b-c\")", &[]),
            ("x = myaws.iam.Role.get(\"a\", \"b-c\")", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(found(input), *want, "{input}");
        }
    }
}
