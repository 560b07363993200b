//! Resource names in the paths, fragments and queries of AWS console
//! links: `…/lambda/home#/functions/orders-api`, `…/s3/buckets/my-bucket`,
//! `…/iam/home#/roles/details/deploy`, `…#table?name=carts`,
//! `…/ecs/v2/clusters/prod/services/web`, `signin…/switchrole?roleName=x`.
//! The console's own words (the service, `home`, `details`) say what the
//! next segment names; nothing else in the link does.
//!
//! Found at each `aws.amazon.com/` (in the catalog's pass over dots),
//! within the link it starts (to a blank or a quote). Percent-encoded names
//! (`prod%2Fapp%2Fdb`) are taken whole, escapes included, as they stand.

use super::named_resources::{self, Rule};
use super::{Family, Match};
use crate::config::Detectors;

/// Longest link looked at.
const MAX_LINK: usize = 4096;

/// A marker in a console link, the token kind of the segment after it and
/// the rule that segment must pass.
type Marker = (&'static [u8], &'static str, Family, Rule);

/// Markers, each followed by the resource's name.
const MARKERS: &[Marker] = &[
    (
        b"#/functions/",
        "LAMBDA",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"/s3/buckets/",
        "S3_BUCKET",
        Family::S3Buckets,
        Rule::Bucket,
    ),
    (b"/s3/object/", "S3_BUCKET", Family::S3Buckets, Rule::Bucket),
    (
        b"#/roles/details/",
        "IAM_ROLE",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"#/users/details/",
        "IAM_USER",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"#/groups/details/",
        "IAM_GROUP",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"#table?name=",
        "DYNAMODB_TABLE",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"?table=",
        "DYNAMODB_TABLE",
        Family::NamedResources,
        Rule::Name,
    ),
    (b"/clusters/", "CLUSTER", Family::NamedResources, Rule::Name),
    (b"/services/", "NAME", Family::NamedResources, Rule::Name),
    (b"/secret?name=", "NAME", Family::NamedResources, Rule::Name),
    (
        b"#database:id=",
        "RDS_DB",
        Family::NamedResources,
        Rule::Name,
    ),
    (b"/pipelines/", "NAME", Family::NamedResources, Rule::Name),
    (
        b"#alarmsV2:alarm/",
        "NAME",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"/stacks/stackinfo?stackName=",
        "CFN_STACK",
        Family::NamedResources,
        Rule::Name,
    ),
    (
        b"?roleName=",
        "IAM_ROLE",
        Family::NamedResources,
        Rule::Name,
    ),
    (b"&displayName=", "NAME", Family::NamedResources, Rule::Name),
    (
        b"/repositories/private/",
        "ECR_REPO",
        Family::NamedResources,
        Rule::Name,
    ),
    // CloudWatch writes a log group's `/` as `$252F` (`%2F`, its `%` as
    // `$25`): the whole encoded name is one value.
    (
        b"log-groups/log-group/",
        "LOG_GROUP",
        Family::NamedResources,
        Rule::LogGroup,
    ),
];

/// Appends the names in every console link of `text` (the reference
/// for [`at_dot`]).
#[cfg(test)]
pub(super) fn find(text: &[u8], on: &Detectors, out: &mut Vec<Match<'_>>) {
    for dot in memchr::memchr_iter(b'.', text) {
        at_dot(text, dot, on, out);
    }
}

/// Appends the names in the console link whose host ends at the `.` at
/// `dot`, if `dot` starts `.amazon.com/` after `aws` (the catalog calls it
/// for every `.`, in one pass shared with host names and addresses).
pub(super) fn at_dot(text: &[u8], dot: usize, on: &Detectors, out: &mut Vec<Match<'_>>) {
    if text.get(dot + 1..dot + 12) != Some(b"amazon.com/")
        || dot < 3
        || text.get(dot - 3..dot) != Some(b"aws")
    {
        return;
    }
    let at = dot - 3;
    let rest = text.get(at..).unwrap_or_default();
    let len = rest
        .iter()
        .take(MAX_LINK)
        .position(|&b| {
            b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`' | b')' | b'\\')
        })
        .unwrap_or(rest.len().min(MAX_LINK));
    if let Some(link) = rest.get(..len) {
        in_link(at, link, on, out);
    }
}

/// Appends the names after the markers of one link, `link` at `at`.
fn in_link(at: usize, link: &[u8], on: &Detectors, out: &mut Vec<Match<'_>>) {
    for &(marker, kind, family, rule) in MARKERS {
        if !on.is_on(family) {
            continue;
        }
        for m in memchr::memmem::find_iter(link, marker) {
            let s = m + marker.len();
            let n = link
                .get(s..)
                .unwrap_or_default()
                .iter()
                .position(|b| matches!(b, b'/' | b'?' | b'#' | b'&' | b';' | b','))
                .unwrap_or(link.len() - s);
            let Some(name) = link.get(s..s + n) else {
                continue;
            };
            if name.is_empty() || !accepts(rule, name) {
                continue;
            }
            out.push(Match {
                start: at + s,
                end: at + s + n,
                kind,
                family,
            });
        }
    }
}

/// Whether `name` is a valid name for `rule`, percent escapes allowed
/// (`prod%2Fapp`, as the console writes a secret's path; `$252F`, as
/// CloudWatch writes a log group's).
fn accepts(rule: Rule, name: &[u8]) -> bool {
    let plain: Vec<u8> = name
        .iter()
        .map(|&b| if matches!(b, b'%' | b'$') { b'/' } else { b })
        .collect();
    named_resources::accepts(rule, &plain)
}

#[cfg(test)]
mod tests {
    use super::super::tests::kinds_of;
    use super::*;

    fn found(input: &str) -> Vec<(&str, &str)> {
        kinds_of(input, |b, out| find(b, &Detectors::default(), out))
    }

    #[test]
    fn console_links() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/orders-api?tab=monitoring",
                &[("orders-api", "LAMBDA")],
            ),
            (
                "https://s3.console.aws.amazon.com/s3/buckets/acme-exports?region=us-east-1&prefix=cur/",
                &[("acme-exports", "S3_BUCKET")],
            ),
            (
                "see https://us-west-2.console.aws.amazon.com/ecs/v2/clusters/halcyon-prod/services/checkout-web/health?region=us-west-2 now",
                &[("halcyon-prod", "CLUSTER"), ("checkout-web", "NAME")],
            ),
            (
                "https://signin.aws.amazon.com/switchrole?roleName=HalcyonOncall&account=194650323160&displayName=halcyon-prod",
                &[("HalcyonOncall", "IAM_ROLE"), ("halcyon-prod", "NAME")],
            ),
            (
                "https://us-west-2.console.aws.amazon.com/secretsmanager/secret?name=prod%2Fhalcyon%2Fstripe&region=us-west-2",
                &[("prod%2Fhalcyon%2Fstripe", "NAME")],
            ),
            (
                "https://us-east-1.console.aws.amazon.com/rds/home?region=us-east-1#database:id=kestrel-core;is-cluster=false",
                &[("kestrel-core", "RDS_DB")],
            ),
            (
                "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fecs$252Fledger-api/log-events",
                &[("$252Fecs$252Fledger-api", "LOG_GROUP")],
            ),
            // Not a console link: the same words elsewhere stay.
            ("https://example.com/s3/buckets/not-ours #/functions/x-y", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(found(input), *want, "{input}");
        }
    }
}
