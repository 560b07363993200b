//! Values in the AWS CLI's `--output text` rows. awscli's text formatter
//! prints a list of strings as `LABEL<TAB>value` lines and a structure as
//! one row of its scalar values sorted by member name, labelled with the
//! upper-cased name that holds it (`SECURITYGROUPS<TAB>sg-…<TAB>web-sg`).
//! The member names themselves are not printed, so a row is read by what
//! its label says:
//!
//! - a label that names values (`ENVIRONMENT.VARIABLES.BUCKET`,
//!   `SUBNETIDS`) followed by one value: the key-context rule of the
//!   label's key (its last dotted part, or its whole ending);
//! - `SECURITYGROUPS`: `GroupId`, then `GroupName`;
//! - `INSTANCES`: `InstanceType`, `KeyName`, `LaunchTime` sort next to
//!   each other, so the field between an instance type (`t3.medium`) and
//!   a timestamp is the key pair's name.

use super::named_resources;
use super::util::{has_shape, m};
use super::{Family, Match};
use crate::config::Detectors;

/// Longest row label.
const MAX_LABEL: usize = 64;
/// Most fields of a row looked at.
const MAX_FIELDS: usize = 64;

/// Appends the values of every labelled text-output row in `text`.
pub(super) fn find(text: &[u8], on: &Detectors, out: &mut Vec<Match<'_>>) {
    for tab in memchr::memchr_iter(b'\t', text) {
        // A label ends in an upper-case letter (or a digit) right before
        // the row's first tab.
        let Some(&last) = tab.checked_sub(1).and_then(|i| text.get(i)) else {
            continue;
        };
        if !(last.is_ascii_uppercase() || last.is_ascii_digit()) {
            continue;
        }
        let Some(label_start) = label_start(text, tab) else {
            continue;
        };
        let Some(label) = text.get(label_start..tab) else {
            continue;
        };
        row(text, label, tab, on, out);
    }
}

/// Where the label that ends at `tab` starts, if the label is all that
/// precedes it on its line: `[A-Z0-9_.]`, with a letter first.
fn label_start(text: &[u8], tab: usize) -> Option<usize> {
    let mut s = tab;
    while tab - s < MAX_LABEL
        && s > 0
        && text.get(s - 1).is_some_and(|&b| {
            b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'.'
        })
    {
        s -= 1;
    }
    let line_start = s == 0 || matches!(text.get(s - 1), Some(b'\n' | b'\r'));
    (line_start && text.get(s).is_some_and(u8::is_ascii_uppercase)).then_some(s)
}

/// Appends the values of the row labelled `label` whose first tab is at
/// `tab`.
fn row(text: &[u8], label: &[u8], tab: usize, on: &Detectors, out: &mut Vec<Match<'_>>) {
    let end = memchr::memchr2(b'\n', b'\r', text.get(tab..).unwrap_or_default())
        .map_or(text.len(), |i| tab + i);
    let mut fields: Vec<(usize, usize)> = Vec::new();
    let first = tab + 1;
    let mut s = first;
    for t in memchr::memchr_iter(b'\t', text.get(first..end).unwrap_or_default())
        .map(|i| first + i)
        .chain([end])
    {
        if fields.len() == MAX_FIELDS {
            return;
        }
        fields.push((s, t));
        s = t + 1;
    }
    let field = |i: usize| fields.get(i).and_then(|&(a, b)| text.get(a..b));
    match label {
        b"SECURITYGROUPS"
            if fields.len() == 2 && field(0).is_some_and(|id| id.starts_with(b"sg-")) =>
        {
            push_named(text, fields.get(1).copied(), "SG_NAME", on, out);
        }
        b"INSTANCES" => {
            for i in 0..fields.len().saturating_sub(2) {
                if field(i).is_some_and(is_instance_type) && field(i + 2).is_some_and(is_timestamp)
                {
                    push_named(text, fields.get(i + 1).copied(), "NAME", on, out);
                    break;
                }
            }
        }
        _ if fields.len() == 1 => {
            let (Ok(key), Some(&(vs, ve))) = (std::str::from_utf8(label), fields.first()) else {
                return;
            };
            let Ok(value) = std::str::from_utf8(text.get(vs..ve).unwrap_or_default()) else {
                return;
            };
            if let Some(found) = named_resources::labelled_value(key, value, on) {
                out.push(Match {
                    start: vs + found.start,
                    end: vs + found.end,
                    ..found
                });
            }
        }
        _ => {}
    }
}

/// Appends the field `f` as a resource name of `kind`, if it is one.
fn push_named(
    text: &[u8],
    f: Option<(usize, usize)>,
    kind: &'static str,
    on: &Detectors,
    out: &mut Vec<Match<'_>>,
) {
    let Some((s, e)) = f else {
        return;
    };
    let v = text.get(s..e).unwrap_or_default();
    let name = !v.is_empty()
        && v.len() <= 255
        && v.first().is_some_and(u8::is_ascii_alphanumeric)
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if name && on.is_on(Family::NamedResources) {
        out.push(m(s, e, kind, Family::NamedResources));
    }
}

/// Whether `v` is an EC2 instance type (`t3.medium`, `m6i.large`,
/// `c7g.xlarge`, `u-6tb1.metal`).
fn is_instance_type(v: &[u8]) -> bool {
    let Some(dot) = memchr::memchr(b'.', v) else {
        return false;
    };
    let (family, size) = (
        v.get(..dot).unwrap_or_default(),
        v.get(dot + 1..).unwrap_or_default(),
    );
    (2..=12).contains(&family.len())
        && family.first().is_some_and(u8::is_ascii_lowercase)
        && family.iter().any(u8::is_ascii_digit)
        && family
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && (4..=12).contains(&size.len())
        && size
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Whether `v` starts as an ISO 8601 timestamp (`2024-01-26T03:41:25`).
fn is_timestamp(v: &[u8]) -> bool {
    has_shape(v, 0, b"dddd-dd-ddT")
}

#[cfg(test)]
mod tests {
    use super::super::tests::kinds_of;
    use super::*;

    fn found(input: &str) -> Vec<(&str, &str)> {
        kinds_of(input, |b, out| find(b, &Detectors::default(), out))
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "SECURITYGROUPS\tsg-b0f30bde5455b98dd\twebhooks-cache-uat\n",
                &[("webhooks-cache-uat", "SG_NAME")],
            ),
            (
                "INSTANCES\t0\tx86_64\t\tFalse\tTrue\txen\tami-35592dbff558e12de\ti-660dd1fad446b3bdf\tt3.medium\tprod-checkout-fraud\t2024-01-26T03:41:25+00:00\tip-10-0-1-2.ec2.internal\n",
                &[("prod-checkout-fraud", "NAME")],
            ),
            (
                "ENVIRONMENT.VARIABLES.BUCKET\tinitech-uat-export-186\n",
                &[("initech-uat-export-186", "S3_BUCKET")],
            ),
            (
                "CREDENTIALS.SECRETACCESSKEY\twJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
                &[("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "SECRET_KEY")],
            ),
            // Not rows of text output.
            ("x SECURITYGROUPS\tsg-1\tweb\n", &[]),
            ("SECURITYGROUPS\tnot-an-sg\tweb\n", &[]),
            ("INSTANCES\tt3.medium\tmy key\t2024-01-26T03:41:25\n", &[]),
            ("NAME\tVALUE\n", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(found(input), *want, "{input}");
        }
        assert!(is_instance_type(b"m6i.large") && is_instance_type(b"u-6tb1.metal"));
        assert!(!is_instance_type(b"config.yaml") && !is_instance_type(b"v1.2"));
    }
}
