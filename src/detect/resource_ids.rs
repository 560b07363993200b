//! Resource ids that AWS spells in a fixed shape at a fixed place, found
//! by the shape and the place together:
//!
//! - RDS resource ids: `db-` or `cluster-` and 26 upper-case letters and
//!   digits (`db-ABCDEFGHIJKLMNOPQRSTU1VW2X`, the `DbiResourceId` of IAM
//!   database authentication and Performance Insights), anchored on
//!   their dash, and the instance name a Performance Insights link puts
//!   after one (`/resourceName/<name>`);
//! - EKS OIDC issuer ids: 32 hex digits after
//!   `oidc.eks.<region>.amazonaws.com/id/`, anchored on the dot before
//!   `amazonaws.com`;
//! - Route 53 hosted zone ids in their path form, `/hostedzone/Z…`,
//!   right after a key/value separator (`"Id": "/hostedzone/Z…"`, where
//!   the key `Id` says nothing); the id is masked, the path stays;
//! - the IAM role of an instance's metadata credentials path
//!   (`/latest/meta-data/iam/security-credentials/<role>`), anchored on
//!   the dash of `security-credentials`;
//! - ECS task ids: 32 lower-case hex digits in an awslogs stream name
//!   (`ecs/<container>/<id>`).

use super::util::{
    before_is, class_has, is, is_escape_letter, m, run_len, ALNUM, HEX_LOWER, UPPER_DIGIT, WORD,
};
use super::{Family, Match};
use memchr::memmem::Finder;
use std::sync::OnceLock;

/// Letters and digits after `db-` or `cluster-` in an RDS resource id.
const RDS_ID_LEN: usize = 26;
/// Hex digits of an EKS OIDC issuer id and of an ECS task id.
const HEX_ID_LEN: usize = 32;

/// Appends the RDS resource id whose dash is at `p` (`db-…`,
/// `cluster-…`), if there is one.
pub(super) fn rds_at_dash(b: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    let prefix_len = if p >= 2 && b.get(p - 2..p) == Some(b"db") {
        2
    } else if p >= 7 && b.get(p - 7..p) == Some(b"cluster") {
        7
    } else {
        return;
    };
    let s = p - prefix_len;
    let e = p + 1 + RDS_ID_LEN;
    let id = b.get(p + 1..e).unwrap_or_default();
    if id.len() == RDS_ID_LEN
        && id
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && !before_is(&WORD, b, s)
        && !is(&WORD, b, e)
    {
        out.push(m(s, e, "RDS_RESOURCE", Family::NamedResources));
        // Performance Insights links name the instance after its id.
        const NAME: &[u8] = b"/resourceName/";
        if b.get(e..e + NAME.len()) == Some(NAME) {
            let ns = e + NAME.len();
            let n = run_len(&WORD, b, ns, 64);
            if n > 0 {
                out.push(m(ns, ns + n, "RDS_DB", Family::NamedResources));
            }
        }
    }
}

/// Appends the role name of an instance metadata credentials path
/// (`/latest/meta-data/iam/security-credentials/<role>`) whose
/// `security-` dash is at `p`.
pub(super) fn imds_role_at_dash(b: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    const BEFORE: &[u8] = b"iam/security";
    const AFTER: &[u8] = b"-credentials/";
    let Some(s0) = p.checked_sub(BEFORE.len()) else {
        return;
    };
    if b.get(s0..p) != Some(BEFORE) || b.get(p..p + AFTER.len()) != Some(AFTER) {
        return;
    }
    let s = p + AFTER.len();
    // IAM role names: letters, digits and `+=,.@_-`, at most 64.
    let n = b
        .get(s..)
        .unwrap_or_default()
        .iter()
        .take(65)
        .take_while(|&&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'+' | b'=' | b',' | b'.' | b'@' | b'_' | b'-')
        })
        .count();
    if (1..=64).contains(&n) && !is(&ALNUM, b, s + n) {
        out.push(m(s, s + n, "IAM_ROLE", Family::NamedResources));
    }
}

/// Appends the EKS OIDC issuer id after the `.` at `dot`, when it starts
/// `.amazonaws.com/id/` in the host `oidc.eks.<region>.amazonaws.com`.
pub(super) fn eks_oidc_at_dot(b: &[u8], dot: usize, out: &mut Vec<Match<'_>>) {
    const PATH: &[u8] = b".amazonaws.com/id/";
    if b.get(dot..dot + PATH.len()) != Some(PATH) {
        return;
    }
    // `oidc.eks.` and a region (at most 20 bytes) before the dot.
    let host = b.get(dot.saturating_sub(30)..dot).unwrap_or_default();
    if memchr::memmem::find(host, b"oidc.eks.").is_none() {
        return;
    }
    let s = dot + PATH.len();
    let e = s + HEX_ID_LEN;
    let id = b.get(s..e).unwrap_or_default();
    if id.len() == HEX_ID_LEN && id.iter().all(u8::is_ascii_hexdigit) && !is(&ALNUM, b, e) {
        out.push(m(s, e, "EKS_OIDC", Family::NamedResources));
    }
}

/// Appends the hosted zone id of a `/hostedzone/Z…` value right after
/// the separator at `p` (blanks and an opening quote between them).
pub(super) fn hosted_zone_after(b: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    const PATH: &[u8] = b"/hostedzone/";
    let mut i = p + 1;
    while matches!(b.get(i), Some(b' ' | b'\t')) && i - p <= 8 {
        i += 1;
    }
    if b.get(i) == Some(&b'\\') {
        i += 1;
    }
    if matches!(b.get(i), Some(b'"' | b'\'')) {
        i += 1;
    }
    // The first byte before the slice compare: this runs at most
    // separators of code (`x = 1`, `key: value`).
    if b.get(i) != Some(&b'/') || b.get(i..i + PATH.len()) != Some(PATH) {
        return;
    }
    let s = i + PATH.len();
    let n = run_len(&UPPER_DIGIT, b, s, 33);
    if (5..=32).contains(&n) && !is(&ALNUM, b, s + n) {
        out.push(m(s, s + n, "HOSTED_ZONE", Family::NamedResources));
    }
}

/// The hosted zone id of a value that is a hosted zone's path
/// (`/hostedzone/Z…`, a JSON literal under a key such as `Id` that says
/// nothing): the id is the match, the path stays.
pub(super) fn hosted_zone_in_value(b: &[u8]) -> Option<Match<'static>> {
    const PATH: &[u8] = b"/hostedzone/";
    let id = b.strip_prefix(PATH)?;
    let valid = (5..=32).contains(&id.len()) && id.iter().all(|&c| class_has(&UPPER_DIGIT, c));
    valid.then(|| m(PATH.len(), b.len(), "HOSTED_ZONE", Family::NamedResources))
}

/// Appends the ECS task id of every awslogs stream name in `b`
/// (`ecs/<container>/<task id>`): `ecs/` found by one substring search,
/// which costs far less than looking at every run of hex digits (code
/// is full of `a`…`f`). `--task`, `task:` and `taskId` keys are the
/// key-context scanner's.
pub(super) fn find_task_ids(b: &[u8], out: &mut Vec<Match<'_>>) {
    static ECS: OnceLock<Finder<'static>> = OnceLock::new();
    let ecs = ECS.get_or_init(|| Finder::new(b"ecs/"));
    for p in ecs.find_iter(b) {
        if before_is(&WORD, b, p) {
            continue;
        }
        let c = p + 4;
        let name = run_len(&WORD, b, c, 256);
        let s = c + name + 1;
        let e = s + HEX_ID_LEN;
        let id = b.get(s..e).unwrap_or_default();
        if name > 0
            && b.get(c + name) == Some(&b'/')
            && id.len() == HEX_ID_LEN
            && id.iter().all(|&x| class_has(&HEX_LOWER, x))
            && !is(&ALNUM, b, e)
        {
            out.push(m(s, e, "ECS_TASK", Family::NamedResources));
        } else if p > 0 && b.get(p - 1) == Some(&b'/') {
            log_group_at(b, p - 1, 5, out);
        }
    }
}

/// Appends every log group named by AWS's conventions: `/aws/<service>/…`
/// (Lambda's `/aws/lambda/<function>`, `/aws/eks/<cluster>/cluster`,
/// `/aws/apigateway/…`) and the ECS console's `/ecs/<family>` (found by
/// [`find_task_ids`]' search). Only where a path starts: not inside a
/// longer path or a URL. AWS's public parameters (`/aws/service/…`) are
/// AWS's, not the customer's.
pub(super) fn find_log_groups(b: &[u8], out: &mut Vec<Match<'_>>) {
    static AWS: OnceLock<Finder<'static>> = OnceLock::new();
    let aws = AWS.get_or_init(|| Finder::new(b"/aws/"));
    for p in aws.find_iter(b) {
        let service = run_len(&WORD, b, p + 5, 64);
        if service == 0
            || b.get(p + 5 + service) != Some(&b'/')
            || b.get(p + 5..p + 5 + service) == Some(b"service")
        {
            continue;
        }
        log_group_at(b, p, 5 + service + 1, out);
    }
}

/// Hex digits that end a load balancer's or a target group's id.
const ELB_HEX_LEN: usize = 16;

/// Appends every load balancer and target group id in `b`: what
/// CloudWatch's dimensions, ALB access logs and the end of their ARNs
/// write as `app/<name>/<16 hex>` (`net/`, `gwy/` for NLBs and GWLBs) and
/// `targetgroup/<name>/<16 hex>`. Found from the `/` before the hex
/// digits: the shape is rare, and checking it at each `/` costs little.
pub(super) fn find_elb_ids(b: &[u8], out: &mut Vec<Match<'_>>) {
    for p in memchr::memchr_iter(b'/', b) {
        let hex = b.get(p + 1..p + 1 + ELB_HEX_LEN).unwrap_or_default();
        if hex.len() != ELB_HEX_LEN
            || !hex.iter().all(|&x| class_has(&HEX_LOWER, x))
            || is(&ALNUM, b, p + 1 + ELB_HEX_LEN)
        {
            continue;
        }
        // The name: letters, digits and `-`, up to 32 (AWS's limit).
        let name = b
            .get(p.saturating_sub(32)..p)
            .unwrap_or_default()
            .iter()
            .rev()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'-')
            .count();
        let Some(slash) = p.checked_sub(name + 1) else {
            continue;
        };
        if name == 0 || b.get(slash) != Some(&b'/') {
            continue;
        }
        let kind = [&b"app"[..], b"net", b"gwy", b"targetgroup"]
            .into_iter()
            .find(|k| slash >= k.len() && b.get(slash - k.len()..slash) == Some(*k));
        let Some(kind) = kind else {
            continue;
        };
        // Not inside a path (`src/app/…`); an ARN's `loadbalancer/app/…`
        // is the ARN's.
        let s = slash - kind.len();
        if !before_is(&WORD, b, s) && s.checked_sub(1).and_then(|i| b.get(i)) != Some(&b'/') {
            out.push(m(s, p + 1 + ELB_HEX_LEN, "ELB", Family::NamedResources));
        }
    }
}

/// Appends the log group starting at `s` (its leading `/`) whose
/// customer's part starts `fixed` bytes in, if a path starts there and
/// that part is not empty.
fn log_group_at(b: &[u8], s: usize, fixed: usize, out: &mut Vec<Match<'_>>) {
    // The letter of a `\n` escape (a raw JSON literal) is a line break.
    let starts_path = s == 0
        || is_escape_letter(b, s - 1)
        || b.get(s - 1).is_some_and(|&c| {
            !(c.is_ascii_alphanumeric() || matches!(c, b'/' | b'.' | b'_' | b'-' | b'~' | b'$'))
        });
    if !starts_path {
        return;
    }
    let name = b
        .get(s + fixed..)
        .unwrap_or_default()
        .iter()
        .take(512)
        .take_while(|&&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'/' | b'#')
        })
        .count();
    // A trailing `/` or `.` ends the sentence or the path, not the name.
    let mut e = s + fixed + name;
    while e > s + fixed && matches!(b.get(e - 1), Some(b'/' | b'.')) {
        e -= 1;
    }
    // One character (`/aws/lambda/x`) is a placeholder, as for any name.
    if e >= s + fixed + 2 {
        out.push(m(s, e, "LOG_GROUP", Family::NamedResources));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::kinds_of;
    use super::*;

    fn found(input: &str) -> Vec<(&str, &str)> {
        kinds_of(input, |b, out| {
            for p in memchr::memchr_iter(b'-', b) {
                rds_at_dash(b, p, out);
                imds_role_at_dash(b, p, out);
            }
            for p in memchr::memchr_iter(b'.', b) {
                eks_oidc_at_dot(b, p, out);
            }
            for p in memchr::memchr2_iter(b':', b'=', b) {
                hosted_zone_after(b, p, out);
            }
            find_task_ids(b, out);
            find_log_groups(b, out);
            find_elb_ids(b, out);
        })
    }

    #[test]
    fn table() {
        let task = "ae84294286021176cb31f62258230c0f";
        let cases: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                "specify db-ABCDEFGHIJKLMNOPQRSTU1VW2X.".into(),
                vec![("db-ABCDEFGHIJKLMNOPQRSTU1VW2X", "RDS_RESOURCE")],
            ),
            (
                "/resourceId/db-9C09CEA67594BVE3OLMLDY0QWQ/resourceName/x".into(),
                vec![
                    ("db-9C09CEA67594BVE3OLMLDY0QWQ", "RDS_RESOURCE"),
                    ("x", "RDS_DB"),
                ],
            ),
            (
                "DbClusterResourceId cluster-3K5OVF6VIK7IQ7HHZGKKJUBU81\n".into(),
                vec![("cluster-3K5OVF6VIK7IQ7HHZGKKJUBU81", "RDS_RESOURCE")],
            ),
            (
                "https://oidc.eks.us-east-1.amazonaws.com/id/139EFF71A0BAA39119401A278D74EF66\n"
                    .into(),
                vec![("139EFF71A0BAA39119401A278D74EF66", "EKS_OIDC")],
            ),
            (
                "\"Id\": \"/hostedzone/Z18FFGXI7WAJY1\",".into(),
                vec![("Z18FFGXI7WAJY1", "HOSTED_ZONE")],
            ),
            (
                "'Id': '/hostedzone/Z3M3LMPEXAMPLE'".into(),
                vec![("Z3M3LMPEXAMPLE", "HOSTED_ZONE")],
            ),
            (
                format!("2024-06-17T00:39:38 ecs/app/{task} ERROR"),
                vec![(task, "ECS_TASK")],
            ),
            (
                "curl http://169.254.169.254/latest/meta-data/iam/security-credentials/qa-telemetry-gateway\n"
                    .into(),
                vec![("qa-telemetry-gateway", "IAM_ROLE")],
            ),
            // Near misses.
            (
                "curl http://169.254.169.254/latest/meta-data/iam/security-credentials/\n".into(),
                vec![],
            ),
            ("mydb-ABCDEFGHIJKLMNOPQRSTU1VW2X".into(), vec![]),
            ("db-ABCDEFGHIJKLMNOPQRSTU1VW2".into(), vec![]),
            ("db-ABCDEFGHIJKLMNOPQRSTU1VW2XY".into(), vec![]),
            ("db-abcdefghijklmnopqrstu1vw2x".into(), vec![]),
            (
                "https://example.amazonaws.com/id/139EFF71A0BAA39119401A278D74EF66".into(),
                vec![],
            ),
            ("\"Id\": \"/hostedzone/\"".into(), vec![]),
            (format!("md5 {task}"), vec![]),
            (format!("commit/{task}"), vec![]),
            (format!("specs/app/{task}"), vec![]),
            (format!("ecs/app/{task}0"), vec![]),
            (format!("ecs//{task}"), vec![]),
            (
                "aws logs tail /ecs/relecloud-booking-api --follow".into(),
                vec![("/ecs/relecloud-booking-api", "LOG_GROUP")],
            ),
            (
                "\"awslogs-group\": \"/ecs/checkout-web-prd\",".into(),
                vec![("/ecs/checkout-web-prd", "LOG_GROUP")],
            ),
            (
                "/aws/lambda/claims-intake.\nsee /aws/eks/prod-1/cluster and /aws/apigateway/welcome".into(),
                vec![
                    ("/aws/lambda/claims-intake", "LOG_GROUP"),
                    ("/aws/eks/prod-1/cluster", "LOG_GROUP"),
                    ("/aws/apigateway/welcome", "LOG_GROUP"),
                ],
            ),
            ("/aws/service/ami-amazon-linux-latest/al2023".into(), vec![]),
            ("/usr/share/aws/lambda/x https://h.com/aws/lambda/xy /aws/lambda/ /ecs/".into(), vec![]),
            ("aws logs tail /aws/lambda/x --since 1h".into(), vec![]),
            (
                "h2 2024-06-11T10:00:00Z app/shop-prod-alb/cb0bd3d4fa182cd9 10.0.0.1:443".into(),
                vec![("app/shop-prod-alb/cb0bd3d4fa182cd9", "ELB")],
            ),
            (
                "{\"Name\": \"TargetGroup\", \"Value\": \"targetgroup/storefront-web/943f017f100becff\"}".into(),
                vec![("targetgroup/storefront-web/943f017f100becff", "ELB")],
            ),
            ("src/app/models/0123456789abcdef and webapp/x/0123456789abcdef0".into(), vec![]),
        ];
        for (input, want) in &cases {
            assert_eq!(found(input), *want, "{input}");
        }
    }
}
