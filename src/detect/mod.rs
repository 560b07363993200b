//! The detector catalog: finds AWS identifiers and secrets in text.
//!
//! Each family lives in its own module and reports [`Match`]es; the
//! [`Detector`] runs the enabled families, adds user patterns, drops
//! allow-listed values and resolves overlaps (the longest match wins, so an
//! ARN containing an account id is one match, not two).

mod access_keys;
mod account_ids;
mod arns;
mod ec2_ids;
mod hostnames;
mod ip_addresses;
mod kms_keys;
mod memo;
mod named_resources;
mod organizations;
mod s3_buckets;
mod secret_keys;
mod session_tokens;
mod util;

use crate::config::{AllowEntry, Config, Detectors};
use memchr::memmem::Finder;
use memo::Memo;
pub use memo::MemoStats;
use std::sync::{Arc, Mutex};

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
/// called for every string of every request. Cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct Detector {
    inner: Arc<Inner>,
}

/// Everything a detector needs, built once.
#[derive(Debug)]
struct Inner {
    on: Detectors,
    custom: Vec<(regex_lite::Regex, String)>,
    allowlist: Vec<AllowEntry>,
    needles: Needles,
    memo: Mutex<Memo>,
}

/// Pre-built substring searchers (building one per call would cost more
/// than searching a short string).
struct Needles {
    arn: Finder<'static>,
    key_slash: Finder<'static>,
    s3_scheme: Finder<'static>,
    dashdash: Finder<'static>,
    session: Vec<Finder<'static>>,
}

impl std::fmt::Debug for Needles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Needles(..)")
    }
}

fn finder(needle: &[u8]) -> Finder<'static> {
    Finder::new(needle).into_owned()
}

impl Needles {
    fn new() -> Needles {
        Needles {
            arn: finder(b"arn:"),
            key_slash: finder(b"key/"),
            s3_scheme: finder(b"s3://"),
            dashdash: finder(b"--"),
            session: session_tokens::NEEDLES
                .iter()
                .map(|(n, _)| finder(n))
                .collect(),
        }
    }
}

/// Whether the switch of `family` is on (custom patterns always are).
fn enabled(on: &Detectors, family: Family) -> bool {
    match family {
        Family::Ec2Ids => on.ec2_ids,
        Family::Arns => on.arns,
        Family::AccountIds => on.account_ids,
        Family::AccessKeys => on.access_keys,
        Family::SecretKeys => on.secret_keys,
        Family::SessionTokens => on.session_tokens,
        Family::IpAddresses => on.ip_addresses,
        Family::Hostnames => on.hostnames,
        Family::S3Buckets => on.s3_buckets,
        Family::NamedResources => on.named_resources,
        Family::Organizations => on.organizations,
        Family::KmsKeys => on.kms_keys,
        Family::Custom => true,
    }
}

impl Detector {
    /// A detector for the families, custom patterns and allowlist of
    /// `config`. `memo_key` keys the digests by which it remembers what it
    /// found in long texts (derive it from a secret: see the `memo` module).
    pub fn new(config: &Config, memo_key: [u8; 16]) -> Detector {
        Detector {
            inner: Arc::new(Inner {
                on: config.detectors.clone(),
                custom: config
                    .custom_patterns
                    .iter()
                    .map(|p| (p.regex.clone(), p.kind.clone()))
                    .collect(),
                allowlist: config.allowlist.clone(),
                needles: Needles::new(),
                memo: Mutex::new(Memo::new(memo_key, config.memo_texts)),
            }),
        }
    }

    /// How the memo of long texts has served so far (all zero when the
    /// memo is unavailable).
    pub fn memo_stats(&self) -> MemoStats {
        self.inner
            .memo
            .lock()
            .map(|m| m.stats())
            .unwrap_or_default()
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
        let inner = &*self.inner;
        if let Some(key) = key {
            if let Some(m) = named_resources::whole_value(key, text, &inner.on) {
                if !self.allowed(text) {
                    out.push(m);
                    return;
                }
            }
        }
        let base = out.len();
        self.collect(text, out);
        if out.len() == base {
            return;
        }
        resolve(out, base);
        if !inner.allowlist.is_empty() {
            let mut i = base;
            out.retain(|m| {
                let keep = i < base || !text.get(m.start..m.end).is_some_and(|v| self.allowed(v));
                i += 1;
                keep
            });
        }
    }

    /// Whether `value` is allow-listed.
    fn allowed(&self, value: &str) -> bool {
        self.inner.allowlist.iter().any(|a| a.allows(value))
    }

    /// Appends every candidate of every enabled family (unsorted, possibly
    /// overlapping).
    fn collect<'a>(&'a self, text: &str, out: &mut Vec<Match<'a>>) {
        let inner = &*self.inner;
        let on = &inner.on;
        let nd = &inner.needles;
        let b = text.as_bytes();
        if could_hold_builtin(b) {
            if b.len() < memo::MIN_LEN {
                Self::collect_builtin(on, nd, b, out);
            } else {
                self.collect_builtin_memoized(b, out);
            }
        }
        for (re, kind) in &inner.custom {
            for found in re.find_iter(text) {
                if found.start() < found.end() {
                    out.push(Match {
                        start: found.start(),
                        end: found.end(),
                        kind: kind.as_str(),
                        family: Family::Custom,
                    });
                }
            }
        }
    }

    /// [`collect_builtin`](Self::collect_builtin) through the memo: a text
    /// seen before is not scanned again.
    fn collect_builtin_memoized(&self, b: &[u8], out: &mut Vec<Match<'_>>) {
        let inner = &*self.inner;
        let digest = match inner.memo.lock() {
            Ok(memo) if !memo.is_on() => None,
            Ok(mut memo) => {
                let digest = memo.digest(b);
                if let Some(found) = memo.recall(digest) {
                    out.extend_from_slice(found);
                    return;
                }
                Some(digest)
            }
            // Poisoned (a panic elsewhere, natively): scan without it.
            Err(_) => None,
        };
        let mut found = Vec::new();
        Self::collect_builtin(&inner.on, &inner.needles, b, &mut found);
        out.extend_from_slice(&found);
        if let (Some(digest), Ok(mut memo)) = (digest, inner.memo.lock()) {
            memo.remember(digest, found);
        }
    }

    /// Appends the candidates of the enabled built-in families.
    fn collect_builtin(on: &Detectors, nd: &Needles, b: &[u8], out: &mut Vec<Match<'_>>) {
        if on.arns {
            arns::find(b, &nd.arn, out);
        }
        // One pass over the dashes, one over the dots, for every family
        // anchored on them: in code either comes every few dozen bytes, so
        // a search per family cost as much as the checks.
        if on.ec2_ids || on.organizations || on.kms_keys || on.hostnames {
            for dash in memchr::memchr_iter(b'-', b) {
                if on.ec2_ids {
                    ec2_ids::at_dash(b, dash, out);
                }
                if on.organizations {
                    organizations::at_dash(b, dash, out);
                }
                if on.kms_keys {
                    kms_keys::mrk_at_dash(b, dash, out);
                }
                if on.hostnames {
                    hostnames::ip_name_at_dash(b, dash, out);
                }
            }
        }
        if on.kms_keys {
            kms_keys::find_key_ids(b, &nd.key_slash, out);
        }
        let by_dot = on.ip_addresses || on.hostnames || on.account_ids || on.s3_buckets;
        if by_dot {
            let mut v4 = ip_addresses::V4::default();
            for dot in memchr::memchr_iter(b'.', b) {
                if on.ip_addresses {
                    v4.at_dot(b, dot, out);
                }
                if on.hostnames {
                    hostnames::domain_at_dot(b, dot, out);
                }
                if on.account_ids {
                    account_ids::at_dot(b, dot, on.named_resources, out);
                }
                if on.s3_buckets {
                    s3_buckets::path_at_dot(b, dot, out);
                }
            }
        }
        if on.account_ids {
            account_ids::find_by_context(b, out);
        }
        if on.access_keys || on.secret_keys {
            let keys = access_keys::spans(b);
            if on.access_keys {
                access_keys::push(&keys, out);
            }
            if on.secret_keys {
                secret_keys::find_near(b, &keys, out);
            }
        }
        if on.session_tokens {
            session_tokens::find(b, &nd.session, out);
        }
        // One pass over the colons (and equal signs) for IPv6 addresses and
        // the key-context scanner, which serves several families and checks
        // each key's family switch itself. Its matches are held back so that
        // the families keep their order (it decides ties: see `resolve`).
        let mut keyed = Vec::new();
        let mut v6 = ip_addresses::V6::default();
        for p in memchr::memchr2_iter(b':', b'=', b) {
            if on.ip_addresses && b.get(p) == Some(&b':') {
                v6.at_colon(b, p, out);
            }
            named_resources::at_separator(b, p, on, &mut keyed);
        }
        if on.s3_buckets {
            s3_buckets::find_after_scheme(b, &nd.s3_scheme, out);
        }
        out.append(&mut keyed);
        named_resources::find_flags(b, on, &nd.dashdash, out);
    }
}

/// Whether `b` could hold a value of a built-in family. Every built-in
/// value contains a digit or one of `-:./=@+`, or else (an access key id
/// of letters only) at least 16 upper-case letters. Most short JSON strings
/// (`"role"`, `"user"`, `"text"`) have none and skip every scanner; text
/// that has one usually has it early, so the check is cheap either way.
fn could_hold_builtin(b: &[u8]) -> bool {
    let mut upper = 0usize;
    for &c in b {
        if c.is_ascii_digit() || matches!(c, b'-' | b':' | b'.' | b'/' | b'=' | b'@' | b'+') {
            return true;
        }
        upper += usize::from(c.is_ascii_uppercase());
    }
    upper >= 16
}

/// Sorts `out[base..]` by start and removes overlaps: of two overlapping
/// candidates the longer wins (on a tie, the one found first: families run
/// in priority order, ARNs first).
fn resolve(out: &mut Vec<Match<'_>>, base: usize) {
    let Some(tail) = out.get_mut(base..) else {
        return;
    };
    // Stable: equal (start, end) keep family priority order.
    tail.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut w = base;
    for r in base..out.len() {
        let Some(&cur) = out.get(r) else {
            break;
        };
        if w > base {
            if let Some(last) = out.get_mut(w - 1) {
                if cur.start < last.end {
                    if cur.end - cur.start > last.end - last.start {
                        *last = cur;
                    }
                    continue;
                }
            }
        }
        if let Some(slot) = out.get_mut(w) {
            *slot = cur;
        }
        w += 1;
    }
    out.truncate(w);
}

#[cfg(test)]
pub(crate) mod tests;
