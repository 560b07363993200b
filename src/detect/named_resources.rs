//! Values named by their key: `"FunctionName": "x"`, `FunctionName: x`,
//! `function_name = x`, `FUNCTION_NAME=x`, `--function-name x`,
//! `--function-name=x`, and a JSON value under such a key.
//!
//! Keys are compared NORMALIZED (ASCII lower case, `_` and `-` dropped), so
//! `--db-instance-identifier`, `db_instance_identifier` and
//! `DBInstanceIdentifier` are one key. The scan is anchored on the
//! separators `:` and `=` (memchr2), looking back over an optional quote and
//! spaces to the key word, and on `--` for CLI flags followed by a space;
//! never on every word. This scanner also serves the context forms of other
//! families: secret keys, session tokens, buckets, KMS key ids, account ids.

use super::key_cache::{with_cache, KeyCache};
use super::util::{before_is, class_has, is, m, run_start_back, B64, TERMINATOR, WORD};
use super::vocabulary::{self, BEFORE_LAST, FIRSTS_BY_LEN, LENGTHS_BY_LAST};
use super::{
    access_keys, account_ids, kms_keys, s3_buckets, secret_keys, session_tokens, Family, Match,
};
use crate::config::Detectors;
#[cfg(test)]
use memchr::memmem::Finder;
use memchr::memmem::FinderRev;
use std::sync::OnceLock;

/// Longest named value (resource names are at most 256 bytes; log groups
/// 512).
const MAX_NAME: usize = 256;
/// Longest raw key word considered (and longest normalized key).
const MAX_KEY: usize = vocabulary::MAX_KEY_LEN;
/// Most blanks between a key word and its separator.
const MAX_ALIGN: usize = 40;

/// How a keyed value is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rule {
    /// A resource name, `[A-Za-z0-9._/-]`.
    Name,
    /// A log group name, also `/` and `#`.
    LogGroup,
    /// A KMS key id: UUID, `alias/…` or `mrk-…`.
    Kms,
    /// A Route 53 hosted zone id, optionally `/hostedzone/…`.
    HostedZone,
    /// A CloudFront distribution id.
    DistId,
    /// An S3 bucket name.
    Bucket,
    /// A secret access key.
    Secret,
    /// A session token.
    Session,
    /// A session token under the bare key `Token`: it must start as STS
    /// tokens do.
    StsToken,
    /// A 12-digit account id.
    Account,
    /// An access key id, of any documented length.
    AccessKey,
    /// A Cognito app client id: 26 lower-case letters and digits.
    CognitoClient,
    /// An ECS task id: 32 lower-case hex digits.
    TaskId,
    /// The value of a secret AWS keeps for the customer (a Secrets Manager
    /// `SecretString`, an SSM `SecureString`, an RDS master password, a
    /// Cognito `ClientSecret`): any text, quoted to its closing quote
    /// (escapes included) or unquoted to a blank, never a placeholder.
    SecretValue,
    /// A bearer token of an OAuth-style exchange (IAM Identity Center's
    /// `accessToken` and `refreshToken` in `~/.aws/sso/cache`): at least
    /// 20 token bytes with a digit, so a type or a name of code is none.
    Bearer,
}

/// What a key names: token kind, family, value rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Spec {
    /// Token kind.
    pub kind: &'static str,
    /// Family (and so the switch that enables it).
    pub family: Family,
    /// How the value is validated.
    pub rule: Rule,
    /// The key comes from AWS's vocabulary, not from [`KEYS`]. Such keys
    /// are ordinary words of code too (`linkname`, `appname`), so a value
    /// after one counts only in the forms of data and commands (see
    /// [`structured`]), not in an assignment of code.
    pub vocabulary: bool,
}

/// Every key word, normalized, with the kind, family and rule of its value.
const KEYS: &[(&str, &str, Family, Rule)] = {
    use Family::{
        AccessKeys, AccountIds, KmsKeys, NamedResources as N, S3Buckets, SecretKeys, SessionTokens,
    };
    use Rule::*;
    &[
        ("dbinstanceidentifier", "RDS_DB", N, Name),
        ("dbclusteridentifier", "RDS_CLUSTER", N, Name),
        ("clustername", "CLUSTER", N, Name),
        ("functionname", "LAMBDA", N, Name),
        ("rolename", "IAM_ROLE", N, Name),
        ("username", "IAM_USER", N, Name),
        ("groupname", "IAM_GROUP", N, Name),
        ("tablename", "DYNAMODB_TABLE", N, Name),
        ("queuename", "SQS_QUEUE", N, Name),
        // Application settings: `dynamodb_table = …`, `lambda_function = …`.
        ("dynamodbtable", "DYNAMODB_TABLE", N, Name),
        ("lambdafunction", "LAMBDA", N, Name),
        ("topicname", "SNS_TOPIC", N, Name),
        ("stackname", "CFN_STACK", N, Name),
        ("loggroupname", "LOG_GROUP", N, LogGroup),
        ("repositoryname", "ECR_REPO", N, Name),
        ("loadbalancername", "ELB_NAME", N, Name),
        ("targetgroupname", "TARGET_GROUP", N, Name),
        ("hostedzoneid", "HOSTED_ZONE", N, HostedZone),
        // Terraform's `zone_id` of a Route 53 record (an availability
        // zone id, `use1-az1`, is no hosted zone shape).
        ("zoneid", "HOSTED_ZONE", N, HostedZone),
        // `aws ecs … --task <id>`, `"task": "<id>"` (32 lower hex only).
        ("task", "ECS_TASK", N, TaskId),
        // Athena's `WorkGroup` (botocore's table takes only …Name/…Id
        // members); GitHub Actions' `ECR_REPOSITORY`.
        ("workgroup", "NAME", N, Name),
        ("ecrrepository", "ECR_REPO", N, Name),
        ("distributionid", "CLOUDFRONT_DIST", N, DistId),
        ("keyid", "KMS_KEY", KmsKeys, Kms),
        ("kmskeyid", "KMS_KEY", KmsKeys, Kms),
        ("bucket", "S3_BUCKET", S3Buckets, Bucket),
        ("bucketname", "S3_BUCKET", S3Buckets, Bucket),
        ("awsaccesskeyid", "ACCESS_KEY", AccessKeys, AccessKey),
        ("accesskeyid", "ACCESS_KEY", AccessKeys, AccessKey),
        ("awsaccesskey", "ACCESS_KEY", AccessKeys, AccessKey),
        ("accesskey", "ACCESS_KEY", AccessKeys, AccessKey),
        ("awssecretaccesskey", "SECRET_KEY", SecretKeys, Secret),
        ("secretaccesskey", "SECRET_KEY", SecretKeys, Secret),
        ("secretkey", "SECRET_KEY", SecretKeys, Secret),
        ("awssecretkey", "SECRET_KEY", SecretKeys, Secret),
        // Laravel's and Flysystem's S3 `'secret' => '…'` (the value must
        // still be shaped like a key: Rule::Secret).
        ("secret", "SECRET_KEY", SecretKeys, Secret),
        // Values of secrets AWS keeps: `"SecretString": "…"`,
        // `--secret-string '…'`, `--master-user-password …`, a Cognito app
        // client's `ClientSecret`, and (by its sibling `"Type"`) an SSM
        // parameter's `SecureString` value.
        ("secretstring", "SECRET_VALUE", SecretKeys, SecretValue),
        ("secretbinary", "SECRET_VALUE", SecretKeys, SecretValue),
        ("clientsecret", "SECRET_VALUE", SecretKeys, SecretValue),
        (
            "masteruserpassword",
            "SECRET_VALUE",
            SecretKeys,
            SecretValue,
        ),
        ("securestring", "SECRET_VALUE", SecretKeys, SecretValue),
        ("accesstoken", "SECRET_VALUE", SecretKeys, Bearer),
        // Settings of image pipelines: `ecr_repo = "team/api"`.
        ("ecrrepo", "ECR_REPO", N, Name),
        ("ecrrepository", "ECR_REPO", N, Name),
        ("ecrreponame", "ECR_REPO", N, Name),
        ("refreshtoken", "SECRET_VALUE", SecretKeys, Bearer),
        ("awssessiontoken", "SESSION_TOKEN", SessionTokens, Session),
        ("sessiontoken", "SESSION_TOKEN", SessionTokens, Session),
        ("awssecuritytoken", "SESSION_TOKEN", SessionTokens, Session),
        ("xamzsecuritytoken", "SESSION_TOKEN", SessionTokens, Session),
        ("securitytoken", "SESSION_TOKEN", SessionTokens, Session),
        ("token", "SESSION_TOKEN", SessionTokens, StsToken),
        ("accountid", "ACCOUNT", AccountIds, Account),
        ("awsaccountid", "ACCOUNT", AccountIds, Account),
        ("account", "ACCOUNT", AccountIds, Account),
        ("ownerid", "ACCOUNT", AccountIds, Account),
        ("owner", "ACCOUNT", AccountIds, Account),
        // `"Principal": {"AWS": "123456789012"}`; the `Id` of
        // Organizations' accounts and handshake parties. Twelve digits
        // only (Rule::Account).
        ("aws", "ACCOUNT", AccountIds, Account),
        ("id", "ACCOUNT", AccountIds, Account),
    ]
};

/// Endings of key words (normalized) that name a value of strict shape
/// whatever precedes them: `CLOUDFRONT_DISTRIBUTION_ID`,
/// `COGNITO_CLIENT_ID`, `PUBLIC_HOSTED_ZONE_ID`, `TargetBucket`,
/// `ARTIFACTS_BUCKET_NAME`, `SOURCE_ACCOUNT_ID`, `prodSecretAccessKey`.
/// Looked up only when the whole word is no key: the shapes keep a
/// `client_id` of another service (OAuth's, 20 or 32 characters) out.
const SUFFIXES: &[(&str, &str, Family, Rule)] = {
    use Family::{AccountIds, NamedResources as N, S3Buckets, SecretKeys, SessionTokens};
    use Rule::*;
    &[
        ("distributionid", "CLOUDFRONT_DIST", N, DistId),
        ("clientid", "COGNITO_CLIENT", N, CognitoClient),
        ("hostedzoneid", "HOSTED_ZONE", N, HostedZone),
        ("taskid", "ECS_TASK", N, TaskId),
        ("bucket", "S3_BUCKET", S3Buckets, Bucket),
        ("bucketname", "S3_BUCKET", S3Buckets, Bucket),
        ("accountid", "ACCOUNT", AccountIds, Account),
        ("secretaccesskey", "SECRET_KEY", SecretKeys, Secret),
        ("secretkey", "SECRET_KEY", SecretKeys, Secret),
        ("sessiontoken", "SESSION_TOKEN", SessionTokens, Session),
        // `COGNITO_CLIENT_SECRET`, `appClientSecret`.
        ("clientsecret", "SECRET_VALUE", SecretKeys, SecretValue),
        // Application settings that name an AWS resource with its
        // service's name (which keeps `MyFunctionName` of code out):
        // `orders_sqs_queue_name = …`, `ORDERS_DYNAMODB_TABLE=…`,
        // `enricher_lambda_function = …`.
        ("sqsqueuename", "SQS_QUEUE", N, Name),
        ("sqsqueue", "SQS_QUEUE", N, Name),
        ("dynamodbtable", "DYNAMODB_TABLE", N, Name),
        ("dynamodbtablename", "DYNAMODB_TABLE", N, Name),
        ("lambdafunction", "LAMBDA", N, Name),
        ("lambdafunctionname", "LAMBDA", N, Name),
        // `AWS_SECRET=`, `S3_SECRET=`, `prodSecret:` (after
        // `clientsecret`, which it would also end): the value must still
        // be shaped like a key (Rule::Secret).
        ("secret", "SECRET_KEY", SecretKeys, Secret),
    ]
};

/// The spec of a raw key word by its ending ([`SUFFIXES`]), compared
/// from the end without normalizing the word: most words that reach
/// this differ from every ending in their last bytes.
fn by_suffix(raw: &[u8]) -> Option<Spec> {
    if let Some(spec) = env_suffix(raw) {
        return Some(spec);
    }
    // The last two bytes of the word (separators dropped, lower case)
    // first: every ending is one of `id`, `et`, `me`, `ey`, `en`, `le`,
    // `on`.
    let mut tail = raw
        .iter()
        .rev()
        .filter(|&&b| !matches!(b, b'_' | b'-' | b'.'))
        .map(u8::to_ascii_lowercase);
    let (last, before) = (tail.next()?, tail.next()?);
    let ending = match (before, last) {
        (b'i', b'd') | (b'e', b't') | (b'm', b'e') | (b'e', b'y') | (b'e', b'n') => true,
        // `…table`, `…function` only: `le` and `on` end many words of code.
        (b'l', b'e') => tail.next() == Some(b'b'),
        (b'o', b'n') => tail.next() == Some(b'i'),
        _ => false,
    };
    if !ending {
        return None;
    }
    SUFFIXES.iter().find_map(|&(suffix, kind, family, rule)| {
        let mut want = suffix.bytes().rev();
        let mut have = raw
            .iter()
            .rev()
            .filter(|&&b| !matches!(b, b'_' | b'-' | b'.'));
        let ends = want.all(|w| have.next().is_some_and(|h| h.to_ascii_lowercase() == w));
        ends.then_some(Spec {
            kind,
            family,
            rule,
            // A bucket name is no strict shape: only in data and commands.
            vocabulary: rule == Rule::Bucket,
        })
    })
}

/// Environment variables that name a table or a queue by their ending
/// (`ORDERS_TABLE=…`, `DYNAMO_TABLE=…`, `JOBS_QUEUE=…`, Serverless'
/// convention): upper case only, since `symbol_table` and `job_queue` are
/// code's words.
fn env_suffix(raw: &[u8]) -> Option<Spec> {
    let upper = raw
        .iter()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_');
    if !upper {
        return None;
    }
    let (kind, rule) = if raw.ends_with(b"_TABLE") {
        ("DYNAMODB_TABLE", Rule::Name)
    } else if raw.ends_with(b"_QUEUE") {
        ("SQS_QUEUE", Rule::Name)
    } else {
        return None;
    };
    Some(Spec {
        kind,
        family: Family::NamedResources,
        rule,
        vocabulary: false,
    })
}

/// For each byte, the lengths (bit `n` for `n` bytes) of the [`KEYS`] that
/// end with it: a normalized word of another length or last byte names
/// nothing, without comparing it to every key. Built from `KEYS`, so the
/// two cannot disagree.
// Evaluated at compile time: an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
static KEY_SHAPES: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut k = 0;
    while k < KEYS.len() {
        let key = KEYS[k].0.as_bytes();
        let last = key[key.len() - 1] as usize;
        t[last] |= 1 << key.len();
        k += 1;
    }
    t
};

/// For each last letter of a key, the letters that come before it in the
/// [`KEYS`] (bit `b - b'a'`): `…er`, `…me`, `…id`, `…et`, `…ey`, `…en`,
/// `…nt`. Built from `KEYS`.
// Evaluated at compile time: an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
static KEY_ENDINGS: [u32; 26] = {
    let mut t = [0u32; 26];
    let mut k = 0;
    while k < KEYS.len() {
        let key = KEYS[k].0.as_bytes();
        let n = key.len();
        t[(key[n - 1] - b'a') as usize] |= 1 << (key[n - 2] - b'a');
        k += 1;
    }
    t
};

/// The bit of a byte in [`MAY_FOLLOW`]'s sets: its letter (either case),
/// or one bit for `_` and `-`, or one for every other byte.
// Evaluated at compile time: an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
static BIT_BEFORE: [u32; 256] = {
    let mut t = [OTHER_BIT; 256];
    let mut b = 0;
    while b < 256 {
        let lower = (b as u8).to_ascii_lowercase();
        if lower.is_ascii_lowercase() {
            t[b] = 1 << (lower - b'a');
        } else if b == b'_' as usize || b == b'-' as usize {
            t[b] = SEPARATOR_BIT;
        }
        b += 1;
    }
    t
};

const SEPARATOR_BIT: u32 = 1 << 30;
const OTHER_BIT: u32 = 1 << 31;

/// For each last byte of a raw key word, the [`BIT_BEFORE`] bits of the
/// bytes that may come before it: the [`KEY_ENDINGS`] of a letter; after
/// `_` or `-`, anything. `_` and `-` before any last byte are allowed too.
// Evaluated at compile time: an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
static MAY_FOLLOW: [u32; 256] = {
    let mut t = [SEPARATOR_BIT; 256];
    let mut b = 0;
    while b < 256 {
        let lower = (b as u8).to_ascii_lowercase();
        if lower.is_ascii_lowercase() {
            t[b] |= KEY_ENDINGS[(lower - b'a') as usize];
        } else if b == b'_' as usize || b == b'-' as usize {
            t[b] = u32::MAX;
        }
        b += 1;
    }
    t
};

/// Whether a raw key word whose last two bytes are `before` and `last`
/// can name something: in lower case they end a key, or one is `_` or `-`
/// (dropped by normalizing, so the word's real ending lies further back).
/// Most words before a `:` or `=` in code (`state`, `desired`) are turned
/// away here, before the word is even walked: two table lookups, as this
/// runs at nearly every separator of code.
fn may_end_key(before: u8, last: u8) -> bool {
    let follow = MAY_FOLLOW.get(usize::from(last)).copied().unwrap_or(0);
    let bit = BIT_BEFORE.get(usize::from(before)).copied().unwrap_or(0);
    follow & bit != 0 || vocabulary_may_end(before, last)
}

/// [`may_end_key`] for AWS's vocabulary: in lower case, `before` and
/// `last` end one of its keys.
fn vocabulary_may_end(before: u8, last: u8) -> bool {
    let (Some(b), Some(l)) = (
        vocabulary::class(before.to_ascii_lowercase()),
        vocabulary::class(last.to_ascii_lowercase()),
    ) else {
        return false;
    };
    let follow = BEFORE_LAST.get(l as usize).copied().unwrap_or(0);
    follow & (1u64 << b) != 0
}

/// For each normalized length, the first letters of the [`KEYS`] that
/// long (bit `b - b'a'`). With [`KEY_SHAPES`], this turns away nearly
/// every word that reaches the lookup without being a key (`event`)
/// before it is normalized and compared.
// Evaluated at compile time: an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
static KEY_FIRSTS: [u32; 64] = {
    let mut t = [0u32; 64];
    let mut k = 0;
    while k < KEYS.len() {
        let key = KEYS[k].0.as_bytes();
        t[key.len()] |= 1 << (key[0] - b'a');
        k += 1;
    }
    t
};

/// Whether some key is `len` bytes long, starts with `first` and ends with
/// `last` (normalized: lower case).
fn key_shape(len: usize, first: u8, last: u8) -> bool {
    let lengths = KEY_SHAPES.get(usize::from(last)).copied().unwrap_or(0);
    let firsts = KEY_FIRSTS.get(len).copied().unwrap_or(0);
    let ours = len < 64
        && lengths & (1u64 << len) != 0
        && first.is_ascii_lowercase()
        && firsts & (1u32 << (first - b'a')) != 0;
    ours || vocabulary_shape(len, first, last)
}

/// [`key_shape`] for AWS's vocabulary.
fn vocabulary_shape(len: usize, first: u8, last: u8) -> bool {
    let (Some(f), Some(l)) = (vocabulary::class(first), vocabulary::class(last)) else {
        return false;
    };
    let lengths = LENGTHS_BY_LAST.get(l as usize).copied().unwrap_or(0);
    let firsts = FIRSTS_BY_LEN.get(len).copied().unwrap_or(0);
    len < 64 && lengths & (1u64 << len) != 0 && firsts & (1u64 << f) != 0
}

/// The spec of a normalized key, if it names something: the hand-written
/// [`KEYS`] first (they carry the context forms of other families), then
/// AWS's own vocabulary ([`from_vocabulary`]).
pub(super) fn lookup(norm: &[u8]) -> Option<Spec> {
    KEYS.iter()
        .find(|(key, ..)| key.as_bytes() == norm)
        .map(|&(_, kind, family, rule)| Spec {
            kind,
            family,
            rule,
            vocabulary: false,
        })
        .or_else(|| from_vocabulary(norm))
}

/// The spec of a key of AWS's vocabulary (botocore's identifier members),
/// by its kind. Bare generic words (`Name`, `Id`, `Value`) are left out:
/// alone they say nothing about AWS. So are ARN keys: ARNs are found by
/// their shape, with their parts.
fn from_vocabulary(norm: &[u8]) -> Option<Spec> {
    use Family::{AccountIds, KmsKeys, NamedResources, S3Buckets};
    if !super::vocabulary_filter::may_contain(norm) {
        return None;
    }
    let (kind, flags) = vocabulary::lookup(norm)?;
    if flags & vocabulary::GENERIC != 0 {
        return None;
    }
    let (family, rule) = match kind {
        "ARN" => return None,
        "ACCOUNT" => (AccountIds, Rule::Account),
        "S3_BUCKET" => (S3Buckets, Rule::Bucket),
        "KMS_KEY" => (KmsKeys, Rule::Kms),
        "HOSTED_ZONE" => (NamedResources, Rule::HostedZone),
        "CLOUDFRONT_DIST" => (NamedResources, Rule::DistId),
        "LOG_GROUP" => (NamedResources, Rule::LogGroup),
        _ => (NamedResources, Rule::Name),
    };
    Some(Spec {
        kind,
        family,
        rule,
        vocabulary: true,
    })
}

/// Normalizes a key word into `buf`: ASCII lower case, `_` and `-` dropped.
fn normalize<'b>(raw: &[u8], buf: &'b mut [u8; MAX_KEY]) -> &'b [u8] {
    let mut n = 0;
    for &b in raw {
        if b == b'_' || b == b'-' {
            continue;
        }
        if let Some(slot) = buf.get_mut(n) {
            *slot = b.to_ascii_lowercase();
            n += 1;
        }
    }
    buf.get(..n).unwrap_or_default()
}

std::thread_local! {
    /// What raw key words named, for [`spec_for`].
    static SPECS: std::cell::RefCell<KeyCache<Option<Spec>>> =
        const { std::cell::RefCell::new(KeyCache::new()) };
}

/// The spec for a raw key word, if enabled.
fn spec_for(raw: &[u8], on: &Detectors) -> Option<Spec> {
    let spec =
        with_cache(&SPECS, |cache| cache.get_or(raw, spec_of)).unwrap_or_else(|| spec_of(raw))?;
    super::enabled(on, spec.family).then_some(spec)
}

/// The spec for a raw key word, enabled or not: [`spec_for`] without its
/// cache (the cache's oracle).
fn spec_of(raw: &[u8]) -> Option<Spec> {
    // The normalized shape first: most words are no key, and this costs
    // less than normalizing them.
    let (mut len, mut first, mut last) = (0, 0u8, 0u8);
    for &b in raw {
        if b != b'_' && b != b'-' {
            if len == 0 {
                first = b;
            }
            len += 1;
            last = b;
        }
    }
    let whole = key_shape(len, first.to_ascii_lowercase(), last.to_ascii_lowercase())
        .then(|| {
            let mut buf = [0u8; MAX_KEY];
            lookup(normalize(raw, &mut buf))
        })
        .flatten();
    whole.or_else(|| by_suffix(raw))
}

fn value_byte(rule: Rule, b: u8) -> bool {
    match rule {
        // Secret names and ECR repositories hold `/` (`prod/payments/db`,
        // `team/api`).
        Rule::Name => b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'),
        Rule::Bucket => b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'),
        Rule::LogGroup => {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/' | b'#')
        }
        Rule::Kms => b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-'),
        Rule::HostedZone => b.is_ascii_alphanumeric() || b == b'/',
        Rule::DistId => b.is_ascii_uppercase() || b.is_ascii_digit(),
        Rule::Secret => class_has(&B64, b) || b == b'%',
        Rule::Session | Rule::StsToken => class_has(&B64, b) || b == b'%',
        Rule::Account => b.is_ascii_digit(),
        Rule::AccessKey => b.is_ascii_uppercase() || b.is_ascii_digit(),
        Rule::CognitoClient => b.is_ascii_lowercase() || b.is_ascii_digit(),
        Rule::TaskId => b.is_ascii_hexdigit(),
        // A whole literal is the secret, whatever it holds; in text,
        // `secret_value_after` finds where it ends.
        Rule::SecretValue => true,
        Rule::Bearer => {
            b.is_ascii_alphanumeric()
                || matches!(b, b'.' | b'_' | b'~' | b'+' | b'/' | b'=' | b':' | b'-')
        }
    }
}

fn max_len(rule: Rule) -> usize {
    match rule {
        Rule::Session | Rule::StsToken => session_tokens::MAX_TOKEN,
        Rule::LogGroup => 512,
        Rule::SecretValue | Rule::Bearer => MAX_SECRET_VALUE,
        _ => MAX_NAME,
    }
}

/// Whether `v` is a valid value for `rule`; `literal`: `v` is a quoted
/// string (or a JSON string, a table cell), not a word of code that may
/// be a variable.
fn valid(rule: Rule, v: &[u8], literal: bool) -> bool {
    if !literal && is_reference(v) {
        return false;
    }
    match rule {
        Rule::Name => {
            // One character (`--function-name x`) is a placeholder. An SSM
            // parameter's name is a path (`/prod/checkout/flags`): a `/`
            // may lead when a letter or digit follows and another `/`
            // comes later; not AWS's own (`/aws/service/…`: names that
            // start with `aws` or `ssm` are reserved to AWS).
            let path = v.first() == Some(&b'/')
                && v.get(1).is_some_and(u8::is_ascii_alphanumeric)
                && v.get(2..).is_some_and(|rest| rest.contains(&b'/'))
                && !(v.starts_with(b"/aws/") || v.starts_with(b"/ssm/"));
            (2..=MAX_NAME).contains(&v.len())
                && (v.first().is_some_and(u8::is_ascii_alphanumeric) || path)
                && !matches!(
                    v.to_ascii_lowercase().as_slice(),
                    b"null" | b"true" | b"false" | b"none" | b"nil" | b"undefined"
                )
                // ECR's fixed user name (`docker login --username AWS`).
                && v != b"AWS"
        }
        Rule::LogGroup => {
            v.first()
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'/')
                && v.len() > 1
        }
        Rule::Kms => {
            kms_keys::is_uuid(v)
                || kms_keys::is_mrk(v)
                || v.strip_prefix(b"alias/").is_some_and(|a| !a.is_empty())
        }
        Rule::HostedZone => {
            let id = v.strip_prefix(b"/hostedzone/").unwrap_or(v);
            (5..=32).contains(&id.len())
                && id
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        }
        Rule::DistId => (10..=20).contains(&v.len()),
        Rule::Bucket => s3_buckets::is_bucket(v) || (literal && s3_buckets::is_legacy_bucket(v)),
        Rule::Secret => secret_keys::is_keyed_secret(v),
        Rule::Session => session_tokens::is_session_token(v),
        Rule::StsToken => session_tokens::is_sts_token(v),
        Rule::Account => account_ids::is_account(v),
        Rule::AccessKey => access_keys::is_keyed_access_key(v),
        Rule::CognitoClient => {
            v.len() == 26
                && v.iter().any(u8::is_ascii_digit)
                && v.iter().any(u8::is_ascii_lowercase)
        }
        Rule::TaskId => v.len() == 32 && !v.iter().any(u8::is_ascii_uppercase),
        Rule::SecretValue => is_secret_value(v),
        Rule::Bearer => v.len() >= 20 && v.iter().any(u8::is_ascii_digit),
    }
}

/// Whether an unquoted value is a reference to another value, not a
/// value: Terraform's `var.bucket`, `local.name`, `aws_s3_bucket.logs.id`,
/// `module.x.y`, `data.…`, `each.value`.
fn is_reference(v: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[
        b"var.", b"local.", b"module.", b"data.", b"each.", b"count.", b"path.", b"self.", b"aws_",
    ];
    PREFIXES.iter().any(|p| v.starts_with(p))
}

/// Longest unquoted secret value considered (a password, a client secret
/// on a command line or in an env file).
const MAX_UNQUOTED_SECRET_VALUE: usize = 512;

/// Longest secret value considered (Secrets Manager's limit is 64 KiB).
const MAX_SECRET_VALUE: usize = 64 * 1024;

/// Whether `v`, under a secret-value key, is a value and not a
/// placeholder: a variable (`$PW`, `${var.pw}`, `{{resolve:…}}`), a
/// `<placeholder>`, a `file://` reference, stars, or one to three
/// characters.
fn is_secret_value(v: &[u8]) -> bool {
    let placeholder = v.starts_with(b"$")
        || v.starts_with(b"{{")
        || (v.starts_with(b"<") && v.ends_with(b">"))
        || v.starts_with(b"file://")
        || v.starts_with(b"fileb://")
        || v.iter().all(|&b| b == b'*' || b == b'x' || b == b'X');
    v.len() >= 4 && !placeholder
}

/// The secret value after a separator at `i` (blanks, then a quoted or
/// unquoted value), with `cli` as for [`value_after`]. Quoted, it runs to
/// its closing quote: one not escaped by a `\`, or for a value whose
/// quote is itself escaped (`\"` in JSON-in-JSON), the next `\"` that
/// unescaping once leaves a closing quote. Unquoted, to a blank or
/// terminator; outside a command line a name of code
/// (`config.client_secret`, `os.environ`) is no value.
fn secret_value_after(text: &[u8], mut i: usize, cli: bool) -> Option<(usize, usize)> {
    let spaces = blanks(text, i);
    if cli && spaces == 0 {
        return None;
    }
    i += spaces;
    let (escaped, quote) = opening_quote(text, i);
    let s = i + usize::from(escaped) + usize::from(quote.is_some());
    let rest = text.get(s..)?;
    let limit = rest.len().min(MAX_SECRET_VALUE + 1);
    let e = match quote {
        Some(q) => {
            let mut backslashes = 0usize;
            let mut end = None;
            for (j, &b) in rest.iter().take(limit).enumerate() {
                if b == b'\n' || b == b'\r' {
                    return None;
                }
                if b == q {
                    // Unescaped once, `k` backslashes and the quote are
                    // `(k - 1) / 2` and the quote: the escaped quote
                    // closes where that leaves an even run (k = 1, 5, …).
                    let closes = if escaped {
                        backslashes % 4 == 1
                    } else {
                        backslashes.is_multiple_of(2)
                    };
                    if closes {
                        end = Some(s + j - usize::from(escaped));
                        break;
                    }
                }
                backslashes = if b == b'\\' { backslashes + 1 } else { 0 };
            }
            end?
        }
        None => {
            // Unquoted, a value ends at a blank within a few hundred bytes:
            // a longer run is no value, and scanning further from every
            // key of `K=K=K=…` would cost the square of the text.
            let n = rest
                .iter()
                .take(MAX_UNQUOTED_SECRET_VALUE + 1)
                .take_while(|&&b| !class_has(&TERMINATOR, b) && !matches!(b, b'(' | b'[' | b'{'))
                .count();
            if n > MAX_UNQUOTED_SECRET_VALUE {
                return None;
            }
            let v = rest.get(..n)?;
            // A generated secret mixes digits and both cases; a name of
            // code seldom does.
            let random = v.iter().any(u8::is_ascii_digit)
                && v.iter().any(u8::is_ascii_uppercase)
                && v.iter().any(u8::is_ascii_lowercase);
            let code_name = v
                .first()
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                && v.iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
                && !random;
            let ends = rest.get(n).is_none_or(|&b| class_has(&TERMINATOR, b));
            // On a command line a bare word is the value itself.
            if (code_name && !cli) || !ends {
                return None;
            }
            s + n
        }
    };
    (e > s && e - s <= MAX_SECRET_VALUE && text.get(s..e).is_some_and(is_secret_value))
        .then_some((s, e))
}

/// How many blanks (spaces, tabs; at most 8) stand at `i`: what may part a
/// key's separator, a command's words or a flag from its value.
fn blanks(text: &[u8], i: usize) -> usize {
    text.get(i..)
        .unwrap_or_default()
        .iter()
        .take(8)
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

/// The quote a value opens with at `i`, and whether it is escaped
/// (`\"` in JSON-escaped text): `(false, None)` for an unquoted value.
fn opening_quote(text: &[u8], i: usize) -> (bool, Option<u8>) {
    match (text.get(i), text.get(i + 1)) {
        (Some(b'\\'), Some(&q @ (b'"' | b'\''))) => (true, Some(q)),
        (Some(&q @ (b'"' | b'\'')), _) => (false, Some(q)),
        _ => (false, None),
    }
}

/// The value after a separator at `i` (spaces, optional quote, value,
/// closing quote or terminator), if valid for `rule`.
fn value_after(text: &[u8], mut i: usize, rule: Rule, cli: bool) -> Option<(usize, usize)> {
    if rule == Rule::SecretValue {
        return secret_value_after(text, i, cli);
    }
    let spaces = blanks(text, i);
    if cli && spaces == 0 {
        return None;
    }
    i += spaces;
    // Go's SDK wraps every string: `TableName: aws.String("orders")`.
    if !cli && text.get(i..i + 11) == Some(b"aws.String(") {
        i += 11;
    }
    let (escaped, quote) = opening_quote(text, i);
    i += usize::from(escaped) + usize::from(quote.is_some());
    if cli && text.get(i) == Some(&b'-') {
        return None;
    }
    let max = max_len(rule);
    let s = i;
    let rest = text.get(s..).unwrap_or_default();
    let mut e = s + snapshot_prefix(rule, rest);
    let body = e;
    let colon = colon_in_name(rule, rest);
    while e - s <= max
        && text
            .get(e)
            .is_some_and(|&b| value_byte(rule, b) || (colon && b == b':'))
    {
        e += 1;
    }
    if e - s > max || e == body {
        return None;
    }
    let closed = match quote {
        Some(q) if escaped => text.get(e) == Some(&b'\\') && text.get(e + 1) == Some(&q),
        Some(q) => text.get(e) == Some(&q),
        // In a URI a secret ends at the `:` or `@` after it
        // (`secret_access_key=…:bucket`, `user:secret@host`).
        None => {
            text.get(e).is_none_or(|&b| {
                class_has(&TERMINATOR, b) || (rule == Rule::Secret && matches!(b, b':' | b'@'))
            }) || (rule == Rule::Name && revision_after(text, e))
        }
    };
    (closed
        && text
            .get(s..e)
            .is_some_and(|v| valid(rule, v, quote.is_some())))
    .then_some((s, e))
}

/// Appends every keyed value in `text` for the enabled families; `dashdash`
/// finds `--`.
#[cfg(test)]
pub(super) fn find(
    text: &[u8],
    on: &Detectors,
    dashdash: &Finder<'static>,
    out: &mut Vec<Match<'_>>,
) {
    let mut memo = ContextMemo::default();
    for p in memchr::memchr2_iter(b':', b'=', text) {
        at_separator(text, p, on, &mut memo, out);
    }
    find_flags(text, on, dashdash, out);
}

/// Whether a `:` or `=` between the bytes `prev` and `next` (0 at an
/// edge) is part of an operator of code (`::`, `==`, `:=`, `=>`, `=~`,
/// `!=`, `<=`, `>=`), not a key/value separator.
fn is_operator(prev: u8, next: u8) -> bool {
    matches!(next, b':' | b'=' | b'>' | b'~') || matches!(prev, b':' | b'=' | b'!' | b'<' | b'>')
}

/// Appends the value of a `key: value` or `key=value` pair whose separator
/// is at `p`, if the key names an enabled family. The catalog calls it for
/// every `:` and `=`, in one pass shared with IPv6 addresses.
pub(super) fn at_separator(
    text: &[u8],
    p: usize,
    on: &Detectors,
    memo: &mut ContextMemo,
    out: &mut Vec<Match<'_>>,
) {
    let (prev, next) = super::neighbours(text, p);
    // PHP and Ruby hashes: `'bucket' => 'name'` (the key quoted, below).
    let arrow = text.get(p) == Some(&b'=') && next == b'>' && !is_operator(prev, 0);
    if !arrow && is_operator(prev, next) {
        return;
    }
    let mut k = p;
    // Up to [`MAX_ALIGN`] blanks before the separator: HCL and YAML align
    // their `=` and `:` in columns (`key_name               = "x"`).
    while p - k < MAX_ALIGN
        && matches!(
            k.checked_sub(1).and_then(|j| text.get(j)),
            Some(b' ' | b'\t')
        )
    {
        k -= 1;
    }
    let quoted = matches!(
        k.checked_sub(1).and_then(|j| text.get(j)),
        Some(b'"' | b'\'')
    );
    if quoted {
        k -= 1;
        if k.checked_sub(1).and_then(|j| text.get(j)) == Some(&b'\\') {
            k -= 1;
        }
    } else if arrow {
        return;
    }
    let byte_at = |j: Option<usize>| j.and_then(|j| text.get(j)).copied().unwrap_or(0);
    let last = byte_at(k.checked_sub(1));
    // A spaced label ends in `key`, `ID` or a `[…]` default (`AWS Access
    // Key ID [None]:`): the bytes before the separator say so cheaply.
    let spaced = match last {
        b']' => true,
        b'y' | b'Y' => {
            byte_at(k.checked_sub(2)) | 0x20 == b'e' && byte_at(k.checked_sub(3)) | 0x20 == b'k'
        }
        b'd' | b'D' => {
            byte_at(k.checked_sub(2)) | 0x20 == b'i' && byte_at(k.checked_sub(3)) == b' '
        }
        _ => false,
    };
    if spaced {
        if let Some(spec) = spaced_label(text, k).filter(|s| super::enabled(on, s.family)) {
            if let Some((s, e)) = value_after(text, p + 1, spec.rule, false) {
                out.push(m(s, e, spec.kind, spec.family));
            }
            return;
        }
    }
    if !may_end_key(byte_at(k.checked_sub(2)), last) {
        return;
    }
    let ks = run_start_back(&WORD, text, k, MAX_KEY);
    if ks == k || (k - ks == MAX_KEY && ks > 0 && is(&WORD, text, ks - 1)) {
        return;
    }
    let spec = text
        .get(ks..k)
        .and_then(|raw| spec_for(raw, on))
        .or_else(|| dotted_spec(text, ks, k, on))
        .or_else(|| sibling_spec(text, ks, k, on))
        .or_else(|| rare_spec(text, ks, k, on, memo));
    let Some(spec) = spec else {
        return;
    };
    let value_at = p + 1 + usize::from(arrow);
    if let Some((s, e)) = value_after(text, value_at, spec.rule, false) {
        // Outside data and commands a bare word after a name key is code
        // (`username = password`); a name with `-`, `.`, `/` or a digit
        // is none of code's identifiers.
        let named = spec.rule != Rule::Name
            || text.get(s..e).is_some_and(|v| {
                v.iter()
                    .any(|b| matches!(b, b'-' | b'.' | b'/') || b.is_ascii_digit())
            });
        if (!spec.vocabulary && named) || structured(text, (ks, k), p, (s, e)) {
            out.push(m(s, e, spec.kind, spec.family));
        }
    }
}

/// `aws configure set <name> <value>`: the CLI writes a setting, a
/// credential too, with its name and value apart by blanks, not by `=`
/// or `:` (`aws configure set aws_secret_access_key …`,
/// `aws configure set profile.dev.aws_access_key_id …`). The name's last
/// dotted part is the key word.
pub(super) fn configure_set(text: &[u8], on: &Detectors, out: &mut Vec<Match<'_>>) {
    for p in memchr::memmem::find_iter(text, b"configure") {
        let mut ks = p + b"configure".len();
        let n = blanks(text, ks);
        if n == 0 || text.get(ks + n..ks + n + 3) != Some(b"set") {
            continue;
        }
        ks += n + 3;
        let n = blanks(text, ks);
        if n == 0 {
            continue;
        }
        ks += n;
        // Profile names hold dashes: `profile.acme-dev.aws_secret_access_key`.
        let ke = ks
            + text
                .get(ks..)
                .unwrap_or_default()
                .iter()
                .take(128)
                .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                .count();
        let Some(name) = text.get(ks..ke) else {
            continue;
        };
        let word = name.rsplit(|&b| b == b'.').next().unwrap_or(name);
        let Some(spec) = spec_for(word, on) else {
            continue;
        };
        if let Some((s, e)) = value_after(text, ke, spec.rule, true) {
            out.push(m(s, e, spec.kind, spec.family));
        }
    }
}

/// Value keys whose key is given by a sibling member of their object,
/// and that sibling's key: CloudFormation's outputs and parameters, tags
/// (`{"Key": "Name", "Value": "web-1"}`), an SSM parameter's type, and the
/// environment variables of ECS task definitions and Kubernetes pods
/// (`{"name": "AWS_SECRET_ACCESS_KEY", "value": "…"}`, and in YAML
/// `- name: S3_BUCKET` then `value: …`).
const SIBLING_KEYS: &[(&[u8], &[u8])] = &[
    (b"OutputValue", b"OutputKey"),
    (b"ParameterValue", b"ParameterKey"),
    (b"Value", b"Key"),
    // An SSM parameter: `"Type": "SecureString"` makes its `Value` a secret.
    (b"Value", b"Type"),
    (b"value", b"name"),
];

/// The spec of a value key (`OutputValue`, `Value`) by the key its object
/// names before it (`"OutputKey": "AssetsBucketName"`), within the same
/// object; a tag whose key is `Name` names a resource.
fn sibling_spec(text: &[u8], ks: usize, k: usize, on: &Detectors) -> Option<Spec> {
    let raw = text.get(ks..k)?;
    SIBLING_KEYS
        .iter()
        .filter(|(key, _)| *key == raw)
        .find_map(|&(_, sibling)| spec_by_sibling(text, ks, sibling, on))
}

/// The spec the member `sibling` of the object around `ks` gives by its
/// value: a JSON member (`"sibling": "v"`) of the same object, or a YAML
/// key (`sibling: v`) on a line just before.
fn spec_by_sibling(text: &[u8], ks: usize, sibling: &[u8], on: &Detectors) -> Option<Spec> {
    let from = ks.saturating_sub(300);
    let window = text.get(from..ks)?;
    let quoted = ks.checked_sub(1).and_then(|j| text.get(j)) == Some(&b'"');
    let name = if quoted {
        // Not past the object's start or another object's end.
        let open = memchr::memrchr2(b'{', b'}', window).map_or(0, |i| i + 1);
        let inner = window.get(open..)?;
        // The sibling as a quoted key: `"Key"`.
        let at = memchr::memmem::rfind_iter(inner, sibling).find(|&at| {
            at.checked_sub(1).and_then(|j| inner.get(j)) == Some(&b'"')
                && inner.get(at + sibling.len()) == Some(&b'"')
        })?;
        let mut i = from + open + at + sibling.len() + 1;
        while matches!(text.get(i), Some(b' ' | b':')) {
            i += 1;
        }
        if text.get(i) != Some(&b'"') {
            return None;
        }
        let s = i + 1;
        let n = text
            .get(s..)?
            .iter()
            .take(MAX_KEY + 1)
            .position(|&b| b == b'"')?;
        text.get(s..s + n)?
    } else {
        yaml_sibling_value(window, sibling)?
    };
    spec_named_by(name, on)
}

/// The spec of the value a sibling member names: a tag whose key is
/// `Name` names a resource; other names are key words.
fn spec_named_by(name: &[u8], on: &Detectors) -> Option<Spec> {
    if name == b"Name" {
        return super::enabled(on, Family::NamedResources).then_some(Spec {
            kind: "NAME",
            family: Family::NamedResources,
            rule: Rule::Name,
            vocabulary: false,
        });
    }
    spec_for(name, on)
}

/// The value of the YAML key `sibling` on one of the two lines before the
/// end of `window` (a list item's `- name: X` above its `value:`), unquoted
/// or quoted.
fn yaml_sibling_value<'t>(window: &'t [u8], sibling: &[u8]) -> Option<&'t [u8]> {
    // The line of the value key itself, then the two before it. A line
    // ends at a newline or, in a raw JSON literal, at its `\n` escape.
    let mut end = window.len();
    for _ in 0..3 {
        let start = line_start(window.get(..end)?);
        let body = after_read_prefix(window.get(start..end)?);
        let body = body.strip_prefix(b"- ").unwrap_or(body).trim_ascii_start();
        if let Some(rest) = body
            .strip_prefix(sibling)
            .and_then(|r| r.strip_prefix(b":"))
        {
            let v = rest.trim_ascii();
            let v = match (v.first(), v.last()) {
                (Some(b'"'), Some(b'"')) | (Some(b'\''), Some(b'\'')) if v.len() >= 2 => {
                    v.get(1..v.len() - 1)?
                }
                _ => v,
            };
            return (!v.is_empty() && v.len() <= MAX_KEY).then_some(v);
        }
        end = start.checked_sub(1)?;
        // Back over the escape's `\` as well.
        if window.get(end) == Some(&b'n') && window.get(end.wrapping_sub(1)) == Some(&b'\\') {
            end -= 1;
        }
    }
    None
}

/// The spec of the rare keys that no table names: a `--flag=value` on an
/// `aws` line ([`command_flag`]) and a [`CONTEXT_KEYS`] key. Nearly every
/// word of code that gets here is neither, and one byte says so.
#[inline]
fn rare_spec(
    text: &[u8],
    ks: usize,
    k: usize,
    on: &Detectors,
    memo: &mut ContextMemo,
) -> Option<Spec> {
    let flag = text.get(ks) == Some(&b'-') && text.get(ks + 1) == Some(&b'-');
    if flag {
        return command_flag(text, ks, text.get(ks + 2..k)?, on);
    }
    // Every context key ends in `name`.
    if matches!(text.get(k.checked_sub(1)?), Some(b'e' | b'E')) {
        return context_spec(text, ks, k, on, memo);
    }
    None
}

/// The whole `value` of a JSON member as one match when the member just
/// before it in its object says what it is (see [`SIBLING_KEYS`]):
/// `{"name": "AWS_SECRET_ACCESS_KEY", "value": "…"}`, `{"Key": "Name",
/// "Value": "web-1"}`, `{"Type": "SecureString", "Value": "…"}`.
pub(super) fn whole_by_sibling(
    key: &str,
    previous: (&str, &str),
    value: &str,
    on: &Detectors,
) -> Option<Match<'static>> {
    let (sibling, name) = previous;
    SIBLING_KEYS
        .iter()
        .any(|&(k, s)| k == key.as_bytes() && s == sibling.as_bytes())
        .then_some(())?;
    whole_for(spec_named_by(name.as_bytes(), on)?, value)
}

/// The whole `value` of a JSON member whose key is a [`CONTEXT_KEYS`] key
/// when the member just before it in its object is one of that key's
/// context words (`{"ApplicationName": "web", "EnvironmentName": "…"}`):
/// a JSON body's member is read without the text before it, so the
/// sibling is the context there.
pub(super) fn whole_by_context_sibling(
    key: &str,
    previous: (&str, &str),
    value: &str,
    on: &Detectors,
) -> Option<Match<'static>> {
    let (_, (_, words)) = context_key(key.as_bytes())?;
    words.contains(&previous.0.as_bytes()).then_some(())?;
    super::enabled(on, Family::NamedResources).then_some(())?;
    whole_for(CONTEXT_SPEC, value)
}

/// What a [`CONTEXT_KEYS`] key names, once its context says it is AWS's.
const CONTEXT_SPEC: Spec = Spec {
    kind: "NAME",
    family: Family::NamedResources,
    rule: Rule::Name,
    vocabulary: true,
};

/// The [`CONTEXT_KEYS`] entry of a raw key word (its index, its
/// normalized key and its context words), if it is one.
fn context_key(raw: &[u8]) -> Option<(usize, ContextKey)> {
    if raw.len() > MAX_KEY {
        return None;
    }
    let mut buf = [0u8; MAX_KEY];
    let norm = normalize(raw, &mut buf);
    CONTEXT_KEYS
        .iter()
        .enumerate()
        .find(|(_, (key, _))| *key == norm)
        .map(|(i, &entry)| (i, entry))
}

/// Keys that other platforms use as much as AWS does, kept out of the
/// vocabulary (scripts/vocabulary/generate.py), and the words that say,
/// when they stand shortly before the key, that it is AWS's: Elastic
/// Beanstalk's `EnvironmentName` (Azure's `"environmentName":
/// "AzureCloud"` is the other one) next to its `ApplicationName` or
/// after `elasticbeanstalk` (the CLI command, the boto3 client).
/// Each key ends in `name` ([`rare_spec`] relies on it: it asks
/// [`context_spec`] only for words that end in `e`).
const CONTEXT_KEYS: &[ContextKey] = &[
    (
        b"environmentname",
        &[b"elasticbeanstalk", b"ApplicationName"],
    ),
    // Terraform's `name = "…"` in a block of an AWS resource or data
    // source (`resource "aws_sqs_queue" "jobs" {`), where it is the
    // resource's name; elsewhere `name` is any name at all.
    (b"name", &[b"resource \"aws_", b"data \"aws_"]),
];

/// The searchers of each [`CONTEXT_KEYS`] key's words, built once: a
/// searcher built per key cost more than the search.
fn context_finders() -> &'static [Vec<FinderRev<'static>>] {
    static FINDERS: OnceLock<Vec<Vec<FinderRev<'static>>>> = OnceLock::new();
    FINDERS.get_or_init(|| {
        CONTEXT_KEYS
            .iter()
            .map(|(_, words)| words.iter().map(|w| FinderRev::new(*w)).collect())
            .collect()
    })
}

/// A [`CONTEXT_KEYS`] key (normalized) and its context words.
type ContextKey = (&'static [u8], &'static [&'static [u8]]);

/// How far before such a key its context words are looked for.
const CONTEXT_REACH: usize = 1024;

/// What the searches for each [`CONTEXT_KEYS`] key's words found so far
/// in one text, so that a text of many such keys (a list of Beanstalk
/// environments, or an adversary's) searches each byte about once, not
/// once per key within [`CONTEXT_REACH`].
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ContextMemo([Seen; CONTEXT_KEYS.len()]);

/// What the searches for one key's context words saw: text before
/// `searched` was looked at, and `found` is where the last word seen in
/// it starts.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    searched: usize,
    found: Option<usize>,
}

impl Seen {
    /// Whether one of `words` stands in the [`CONTEXT_REACH`] bytes
    /// before `ks`. Keys come in text order; a key before the text
    /// already searched is searched for alone, without the memo.
    fn near(&mut self, text: &[u8], ks: usize, words: &[FinderRev<'static>]) -> bool {
        let lo = ks.saturating_sub(CONTEXT_REACH);
        let last_in = |from: usize| {
            let window = text.get(from..ks).unwrap_or_default();
            words
                .iter()
                .filter_map(|w| w.rfind(window))
                .max()
                .map(|at| from + at)
        };
        if ks < self.searched {
            return last_in(lo).is_some();
        }
        if self.found.is_some_and(|at| at >= lo) {
            return true;
        }
        // The last word seen is out of reach, so none stands between
        // `lo` and `searched` but for one cut by `searched`: look again
        // from a word's length before it.
        let longest = words.iter().map(|w| w.needle().len()).max().unwrap_or(0);
        let from = lo.max(self.searched.saturating_sub(longest));
        if let Some(at) = last_in(from) {
            self.found = Some(at);
        }
        self.searched = ks;
        self.found.is_some_and(|at| at >= lo)
    }
}

/// The spec of a [`CONTEXT_KEYS`] key `text[ks..k]` when one of its
/// context words stands in the [`CONTEXT_REACH`] bytes before it. Read
/// only for that key: the search costs nothing elsewhere.
fn context_spec(
    text: &[u8],
    ks: usize,
    k: usize,
    on: &Detectors,
    memo: &mut ContextMemo,
) -> Option<Spec> {
    let raw = text.get(ks..k)?;
    let (index, (key, words)) = context_key(raw)?;
    // Terraform's `name` is followed by `=`; JSON's `"name":` (every
    // tool_use of a conversation) is not looked at further.
    let terraform = key == b"name";
    if terraform {
        let after = text.get(k..).unwrap_or_default();
        let sep = after.iter().find(|&&b| !matches!(b, b' ' | b'\t' | b'"'));
        if sep != Some(&b'=') {
            return None;
        }
    }
    let finders = context_finders().get(index)?;
    let aws = memo.0.get_mut(index).is_some_and(|seen| {
        seen.near(text, ks, finders)
            // Terraform: and the block it opens has not ended (a `}` at
            // the start of a line) before the key.
            && (!terraform || in_open_block(text, ks, words))
    });
    (aws && super::enabled(on, Family::NamedResources)).then_some(CONTEXT_SPEC)
}

/// Whether the last of `words` in the [`CONTEXT_REACH`] bytes before
/// `ks` opens a block that no `}` at the start of a line has closed
/// before `ks`. Asked only where [`Seen::near`] found a word.
fn in_open_block(text: &[u8], ks: usize, words: &[&[u8]]) -> bool {
    let from = ks.saturating_sub(CONTEXT_REACH);
    let window = text.get(from..ks).unwrap_or_default();
    words
        .iter()
        .filter_map(|w| memchr::memmem::rfind(window, w))
        .max()
        .is_some_and(|at| {
            let block = window.get(at..).unwrap_or_default();
            // A raw JSON literal writes the line break as `\n`.
            memchr::memmem::find(block, b"\n}").is_none()
                && memchr::memmem::find(block, b"\\n}").is_none()
        })
}

/// Labels of several words, as `aws configure` prompts for keys and
/// people write them in notes (lower case).
const SPACED_LABELS: &[(&[u8], &str, Family, Rule)] = &[
    (
        b"secret access key",
        "SECRET_KEY",
        Family::SecretKeys,
        Rule::Secret,
    ),
    // `Secret Key: …`, `AWS secret key = …` in notes and READMEs.
    (
        b"secret key",
        "SECRET_KEY",
        Family::SecretKeys,
        Rule::Secret,
    ),
    (
        b"access key id",
        "ACCESS_KEY",
        Family::AccessKeys,
        Rule::AccessKey,
    ),
];

/// The spec of the spaced label before `k`, if there is one:
/// `AWS Secret Access Key [None]:`, `AWS Access Key ID
/// [****************MPLE]:` (`aws configure`), `Secret access key:`.
fn spaced_label(text: &[u8], k: usize) -> Option<Spec> {
    let mut e = k;
    if text.get(e.wrapping_sub(1)) == Some(&b']') {
        let from = e.saturating_sub(48);
        let open = text
            .get(from..e)
            .and_then(|w| memchr::memrchr(b'[', w))
            .map(|o| from + o)?;
        e = open;
        while e > 0 && text.get(e - 1) == Some(&b' ') {
            e -= 1;
        }
    }
    SPACED_LABELS
        .iter()
        .find_map(|&(label, kind, family, rule)| {
            let s = e.checked_sub(label.len())?;
            let found = text
                .get(s..e)
                .is_some_and(|w| w.eq_ignore_ascii_case(label))
                && !before_is(&WORD, text, s);
            found.then_some(Spec {
                kind,
                family,
                rule,
                vocabulary: false,
            })
        })
}

/// The spec of a dotted key whose last part `text[ks..k]` names nothing
/// alone, by the whole key's ending: Hadoop's `fs.s3a.secret.key`,
/// `--output text`'s `CREDENTIALS.SECRETACCESSKEY`.
fn dotted_spec(text: &[u8], ks: usize, k: usize, on: &Detectors) -> Option<Spec> {
    if ks == 0 || text.get(ks - 1) != Some(&b'.') {
        return None;
    }
    let mut s = ks;
    while k - s < MAX_KEY
        && s > 0
        && text
            .get(s - 1)
            .is_some_and(|&b| class_has(&WORD, b) || b == b'.')
    {
        s -= 1;
    }
    let spec = by_suffix(text.get(s..k)?)?;
    super::enabled(on, spec.family).then_some(spec)
}

/// Whether the pair whose key is `text[ks..k]`, separator at `p` and
/// value `text[s..e]` has a form of data or config, not of code: the value
/// is quoted (JSON, YAML, HCL, a string literal), or the key is upper case
/// (`ENV_VAR=value`, `--output text` labels), or the key is a command's
/// `--flag=value`, or the separator is `:` and the value ends its line
/// (YAML). `linkname = tarinfo.linkname` and
/// `"linkname": self.linkname,` are none of these.
fn structured(text: &[u8], (ks, k): (usize, usize), p: usize, (s, e): (usize, usize)) -> bool {
    let quoted = s > 0 && matches!(text.get(s - 1), Some(b'"' | b'\''));
    let upper = text
        .get(ks..k)
        .is_some_and(|key| key.iter().all(|b| !b.is_ascii_lowercase()));
    let mut j = e;
    while matches!(text.get(j), Some(b' ' | b'\t')) {
        j += 1;
    }
    // A `\n` or `\r` escape ends the line of JSON-escaped text.
    let line_ends = matches!(text.get(j), None | Some(b'\n' | b'\r' | b'#'))
        || (text.get(j) == Some(&b'\\') && matches!(text.get(j + 1), Some(b'n' | b'r')));
    let flag = text.get(ks..ks + 2) == Some(b"--");
    let cdk = text.get(p) == Some(&b'=') && line_ends && cdk_output_key(text, ks, (s, e));
    quoted || upper || flag || cdk || (text.get(p) == Some(&b':') && line_ends)
}

/// Whether the key at `ks` is the output of a CDK stack as `cdk deploy`
/// prints it, `Stack.OutputName = value` on a line of its own: a
/// capitalized stack name starts the line (code's `self.x = y` does not),
/// and the value holds a `-` or a digit, as no variable of code does.
fn cdk_output_key(text: &[u8], ks: usize, (s, e): (usize, usize)) -> bool {
    if ks < 2 || text.get(ks - 1) != Some(&b'.') {
        return false;
    }
    let stack_start = run_start_back(&WORD, text, ks - 1, MAX_KEY);
    let at_line_start = stack_start == 0
        || matches!(text.get(stack_start - 1), Some(b'\n'))
        || (stack_start >= 2 && text.get(stack_start - 2..stack_start) == Some(b"\\n"));
    at_line_start
        && stack_start < ks - 1
        && text.get(stack_start).is_some_and(u8::is_ascii_uppercase)
        && text
            .get(s..e)
            .is_some_and(|v| v.iter().any(|&b| b == b'-' || b.is_ascii_digit()))
}

/// Appends the value of every `--flag value` whose flag names an enabled
/// family; `dashdash` finds `--` (the reference for [`Flags`]).
#[cfg(test)]
fn find_flags(text: &[u8], on: &Detectors, dashdash: &Finder<'static>, out: &mut Vec<Match<'_>>) {
    for p in dashdash.find_iter(text) {
        flag_at(text, p, on, out);
    }
}

/// The `--flag value` scanner, fed every `-` of a text in order (the
/// catalog shares one pass over the dashes with other families).
#[derive(Debug, Default)]
pub(super) struct Flags {
    /// Where the next `--` may start: `---` holds one flag, not two.
    next: usize,
}

impl Flags {
    /// Appends the value of the `--flag value` whose `--` starts at the
    /// `-` at `dash`, if the flag names an enabled family.
    pub(super) fn at_dash(
        &mut self,
        text: &[u8],
        dash: usize,
        on: &Detectors,
        out: &mut Vec<Match<'_>>,
    ) {
        if dash < self.next || text.get(dash + 1) != Some(&b'-') {
            return;
        }
        self.next = dash + 2;
        flag_at(text, dash, on, out);
    }
}

/// Appends the value of the `--flag value` whose `--` starts at `p`, if
/// the flag names an enabled family.
fn flag_at(text: &[u8], p: usize, on: &Detectors, out: &mut Vec<Match<'_>>) {
    if before_is(&WORD, text, p) {
        return;
    }
    let fs = p + 2;
    let mut fe = fs;
    while fe - fs < MAX_KEY
        && text
            .get(fe)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'-')
    {
        fe += 1;
    }
    if fe == fs || !matches!(text.get(fe), Some(b' ' | b'\t')) {
        return;
    }
    if text.get(fs..fe) == Some(b"query")
        && invokes_aws(command_before(text, p).unwrap_or_default())
    {
        super::query_output::find(text, fe, on, out);
        return;
    }
    let spec = text
        .get(fs..fe)
        .and_then(|raw| spec_for(raw, on).or_else(|| command_flag(text, p, raw, on)));
    let Some(spec) = spec else {
        return;
    };
    if let Some((s, e)) = value_after(text, fe, spec.rule, true) {
        out.push(m(s, e, spec.kind, spec.family));
    }
}

/// Flags too generic to name anything alone (`--name`, `--cluster`,
/// `--service`) that name the command's resource in an `aws …` or
/// `eksctl …` command line: `aws eks describe-cluster --name x`,
/// `aws ecs list-tasks --cluster x`.
/// So are the flags of keys that the vocabulary leaves out because other
/// clouds share them (GCP's project, Azure's environment): on an `aws`
/// line they are AWS's (CodeBuild's `--project-name`, Elastic
/// Beanstalk's `--environment-name`).
const COMMAND_FLAGS: &[(&[u8], &str)] = &[
    (b"name", "NAME"),
    (b"cluster", "CLUSTER"),
    (b"service", "NAME"),
    (b"project-name", "NAME"),
    (b"environment-name", "NAME"),
    (b"services", "NAME"),
    (b"names", "NAME"),
    (b"rule", "NAME"),
    (b"task-definition", "NAME"),
];

/// The spec of the generic flag `raw` (its `--` at `p`) when its line is
/// an `aws` or `eksctl` command.
fn command_flag(text: &[u8], p: usize, raw: &[u8], on: &Detectors) -> Option<Spec> {
    if raw == b"value" {
        return secure_parameter_value(text, p, on);
    }
    let &(_, kind) = COMMAND_FLAGS.iter().find(|(f, _)| *f == raw)?;
    let ours = invokes_aws(command_before(text, p)?);
    (ours && super::enabled(on, Family::NamedResources)).then_some(Spec {
        kind,
        family: Family::NamedResources,
        rule: Rule::Name,
        vocabulary: false,
    })
}

/// `--value` of `aws ssm put-parameter … --type SecureString`: the secret
/// the parameter will hold (the type may come before or after it).
fn secure_parameter_value(text: &[u8], p: usize, on: &Detectors) -> Option<Spec> {
    let cmd = command_before(text, p)?;
    let rest = text.get(p..)?;
    let line_end = memchr::memchr(b'\n', rest).unwrap_or(rest.len()).min(4096);
    let line = [cmd, rest.get(..line_end)?];
    let secure = line
        .iter()
        .any(|part| memchr::memmem::find(part, b"SecureString").is_some());
    let put = invokes_aws(cmd) && memchr::memmem::find(cmd, b"ssm put-parameter").is_some();
    (put && secure && super::enabled(on, Family::SecretKeys)).then_some(Spec {
        kind: "SECRET_VALUE",
        family: Family::SecretKeys,
        rule: Rule::SecretValue,
        vocabulary: false,
    })
}

/// Whether the command line `cmd` runs `aws` or `eksctl`: as its first
/// word, or as a word after what may stand before it (`sudo aws`,
/// `AWS_PROFILE=x aws`, a shell history's number, Markdown's backtick,
/// `RUN aws` in a Dockerfile, `- run: aws` in a workflow, `$(aws …)`).
pub(super) fn invokes_aws(cmd: &[u8]) -> bool {
    [&b"aws "[..], b"eksctl "].iter().any(|word| {
        memchr::memmem::find_iter(cmd, word).any(|at| {
            at == 0
                || cmd.get(at - 1).is_some_and(|b| {
                    matches!(
                        b,
                        b' ' | b'\t' | b'`' | b'(' | b';' | b'|' | b'&' | b'"' | b'\''
                    )
                })
        })
    })
}

/// The command on the line before `p`: from the line's start (a line
/// break, its escape, a shell prompt, Claude Code's `N→` prefix).
fn command_before(text: &[u8], p: usize) -> Option<&[u8]> {
    let from = p.saturating_sub(512);
    let line = text.get(from..p)?;
    // The line's start: after a line break, its escape, or a shell prompt.
    let mut cmd = after_read_prefix(line.get(line_start(line)..)?);
    for prompt in [&b"$ "[..], b"% ", b"> "] {
        if let Some(rest) = cmd.strip_prefix(prompt) {
            cmd = rest;
        }
    }
    Some(cmd)
}

/// Where the last line of `head` starts: after its last line break, or
/// after the last `\n` escape of a raw JSON literal.
pub(super) fn line_start(head: &[u8]) -> usize {
    memchr::memrchr(b'\n', head)
        .map(|i| i + 1)
        .into_iter()
        .chain(memchr::memmem::rfind(head, b"\\n").map(|i| i + 2))
        .max()
        .unwrap_or(0)
}

/// A line without its leading blanks and the `N→` that Claude Code's Read
/// tool numbers lines with.
fn after_read_prefix(line: &[u8]) -> &[u8] {
    let line = line.trim_ascii_start();
    let digits = line.iter().take_while(|b| b.is_ascii_digit()).count();
    match line
        .get(digits..)
        .and_then(|r| r.strip_prefix("→".as_bytes()))
    {
        Some(rest) => rest.trim_ascii_start(),
        None => line,
    }
}

/// Whether the key word `key` names values of an enabled family.
pub(super) fn names_values(key: &str, on: &Detectors) -> bool {
    spec_for(key.as_bytes(), on).is_some()
}

/// The whole `value` as one match when `key` names something enabled and
/// the value is valid for it (one line, not empty, not too long).
pub(super) fn whole_value(key: &str, value: &str, on: &Detectors) -> Option<Match<'static>> {
    whole_for(spec_for(key.as_bytes(), on)?, value)
}

/// The whole `value` as one match when the `--output text` row label
/// `label` names it: by its last dotted part (`ENVIRONMENT.VARIABLES.BUCKET`),
/// else by the whole label's ending (`CREDENTIALS.SECRETACCESSKEY`).
pub(super) fn labelled_value(label: &str, value: &str, on: &Detectors) -> Option<Match<'static>> {
    let last = label.rsplit('.').next().unwrap_or(label);
    // A list's label is its plural (`CLUSTERS`, `TABLENAMES`).
    let singular = last.strip_suffix(['S', 's']).filter(|s| s.len() >= 4);
    let spec = spec_for(last.as_bytes(), on)
        .or_else(|| singular.and_then(|s| spec_for(s.as_bytes(), on)))
        // A list of names is labelled by what they name (`CLUSTERS`).
        .or_else(|| singular.and_then(|s| spec_for(format!("{s}NAME").as_bytes(), on)))
        .or_else(|| by_suffix(label.as_bytes()).filter(|spec| super::enabled(on, spec.family)))?;
    whole_for(spec, value)
}

/// The whole `value` as one match of `spec`, if valid for it.
fn whole_for(spec: Spec, value: &str) -> Option<Match<'static>> {
    whole_bytes(spec, value.as_bytes())
}

/// [`whole_for`] on bytes.
fn whole_bytes(spec: Spec, v: &[u8]) -> Option<Match<'static>> {
    accepts(spec.rule, v).then_some(m(0, v.len(), spec.kind, spec.family))
}

/// The whole `v` as one match of `kind`, when `family` is on and `v` is
/// valid for `rule`: a value that its place names where no key does (a
/// `--query` column's `Name`, a CSV export's `Name` beside AWS columns).
pub(super) fn whole_as(
    v: &[u8],
    rule: Rule,
    kind: &'static str,
    family: Family,
    on: &Detectors,
) -> Option<Match<'static>> {
    let spec = Spec {
        kind,
        family,
        rule,
        vocabulary: false,
    };
    super::enabled(on, family)
        .then(|| whole_bytes(spec, v))
        .flatten()
}

/// Whether the whole of `v` is a value for `rule`: not empty, not too
/// long, only its bytes, valid. Its callers hand it literals (JSON
/// strings, table cells, quoted SDK arguments, `--output text` values).
pub(super) fn accepts(rule: Rule, v: &[u8]) -> bool {
    let body = v.get(snapshot_prefix(rule, v)..).unwrap_or_default();
    let colon = colon_in_name(rule, v);
    !body.is_empty()
        && v.len() <= max_len(rule)
        && body
            .iter()
            .all(|&b| value_byte(rule, b) || (colon && b == b':'))
        && valid(rule, v, true)
}

/// Whether a revision number stands at `e` after a name, and ends there
/// (`quarry-etl:7`: an ECS task definition's family and revision, a
/// Lambda function's version).
fn revision_after(text: &[u8], e: usize) -> bool {
    let digits = text
        .get(e + 1..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    text.get(e) == Some(&b':')
        && (1..=6).contains(&digits)
        && text
            .get(e + 1 + digits)
            .is_none_or(|&b| class_has(&TERMINATOR, b))
}

/// Whether the name starting `v` may hold `:`: an iSCSI qualified name
/// (`iqn.1991-05.com.microsoft:host.corp.example.com`, Storage Gateway's
/// initiators and targets), whose `:` separates the naming authority
/// from the customer's host.
fn colon_in_name(rule: Rule, v: &[u8]) -> bool {
    rule == Rule::Name && v.starts_with(b"iqn.")
}

/// Prefixes AWS puts before the names of the snapshots it takes itself:
/// RDS's automated snapshots (`rds:mydb-2024-04-22-08-15`) and AWS
/// Backup's (`awsbackup:job-…`). The name after one is the customer's.
const SNAPSHOT_PREFIXES: &[&[u8]] = &[b"rds:", b"awsbackup:"];

/// Length of the [`SNAPSHOT_PREFIXES`] entry `v` starts with, for a name
/// (0 for any other rule or none).
fn snapshot_prefix(rule: Rule, v: &[u8]) -> usize {
    if rule != Rule::Name {
        return 0;
    }
    SNAPSHOT_PREFIXES
        .iter()
        .find(|p| v.starts_with(p))
        .map_or(0, |p| p.len())
}

#[cfg(test)]
mod tests {
    use super::super::tests::kinds_of;
    use super::*;

    /// The tables of `may_end_key` agree with its rule, for every pair of
    /// bytes.
    #[test]
    fn may_end_key_tables_follow_the_rule() {
        fn rule(before: u8, last: u8) -> bool {
            if matches!(before, b'_' | b'-') || matches!(last, b'_' | b'-') {
                return true;
            }
            let (before, last) = (before.to_ascii_lowercase(), last.to_ascii_lowercase());
            before.is_ascii_lowercase()
                && last.is_ascii_lowercase()
                && KEY_ENDINGS[usize::from(last - b'a')] & (1 << (before - b'a')) != 0
                || vocabulary_may_end(before, last)
        }
        for before in 0..=255u8 {
            for last in 0..=255u8 {
                assert_eq!(
                    may_end_key(before, last),
                    rule(before, last),
                    "{before} {last}"
                );
            }
        }
        assert!(may_end_key(b'm', b'E') && !may_end_key(b't', b'e'));
    }

    /// Every key of the front-coded vocabulary decodes, is found again by
    /// lookup, and passes the shape filters; near words are not found.
    #[test]
    fn every_vocabulary_key_passes_the_filters() {
        let mut n = 0;
        vocabulary::for_each(|key, kind, flags| {
            n += 1;
            assert_eq!(vocabulary::lookup(key), Some((kind, flags)));
            let (first, before, last) = (key[0], key[key.len() - 2], key[key.len() - 1]);
            assert!(key_shape(key.len(), first, last), "{key:?}");
            assert!(may_end_key(before, last), "{key:?}");
            let upper = (before.to_ascii_uppercase(), last.to_ascii_uppercase());
            assert!(may_end_key(upper.0, upper.1), "{key:?}");
        });
        assert_eq!(n, vocabulary::LEN);
        for word in [
            &b"secretid"[..],
            b"autoscalinggroupname",
            b"statemachinearn",
        ] {
            assert!(vocabulary::lookup(word).is_some(), "{word:?}");
        }
        for word in [&b"secretidx"[..], b"a", b"", b"zzzzzz", b"state"] {
            assert_eq!(vocabulary::lookup(word), None, "{word:?}");
        }
    }

    /// The cache in front of the lookup changes no answer: every key of
    /// both tables, in several spellings, words near them and words of
    /// code, asked in an order that makes slots collide and evict, get
    /// what the uncached lookup gives.
    #[test]
    fn the_spec_cache_answers_as_the_lookup() {
        let mut words: Vec<Vec<u8>> = Vec::new();
        vocabulary::for_each(|key, _, _| words.push(key.to_vec()));
        words.extend(KEYS.iter().map(|k| k.0.as_bytes().to_vec()));
        let mut spelled = Vec::new();
        for w in &words {
            spelled.push(w.to_ascii_uppercase());
            let mut near = w.clone();
            near.push(b's');
            spelled.push(near);
            spelled.push([&b"x_"[..], w].concat());
            spelled.push(w.get(1..).unwrap_or_default().to_vec());
        }
        words.extend(spelled);
        words.extend(
            [
                "state",
                "self",
                "value",
                "name",
                "id",
                "bucket_name",
                "MyBucket",
                "token",
            ]
            .map(|w| w.as_bytes().to_vec()),
        );
        let mut off = Detectors::default();
        off.set(Family::NamedResources, false);
        for on in [Detectors::default(), off] {
            for round in 0..2 {
                for w in words.iter().skip(round).step_by(1 + round) {
                    let want = spec_of(w).filter(|s| super::super::enabled(&on, s.family));
                    assert_eq!(spec_for(w, &on), want, "{}", String::from_utf8_lossy(w));
                }
            }
        }
    }

    /// The shape tables built from `KEYS` let every key through, in every
    /// raw spelling the scanner normalizes.
    #[test]
    fn every_key_is_looked_up() {
        let on = Detectors::default();
        for &(key, kind, family, _) in KEYS {
            assert!(key.bytes().all(|b| b.is_ascii_lowercase()), "{key}");
            let spec = lookup(key.as_bytes()).unwrap();
            assert_eq!((spec.kind, spec.family), (kind, family), "{key}");
            let upper = key.to_ascii_uppercase();
            let snake = format!("{}_{}", &key[..2], &key[2..]);
            let kebab = format!("-{}-{}-", &key[..1], &key[1..]);
            for raw in [key, upper.as_str(), snake.as_str(), kebab.as_str()] {
                assert_eq!(
                    spec_for(raw.as_bytes(), &on).map(|s| s.kind),
                    Some(kind),
                    "{raw}"
                );
            }
        }
        for word in [
            "desired",
            "state",
            "event",
            "owners",
            "keys",
            "account_x",
            "",
        ] {
            assert!(spec_for(word.as_bytes(), &on).is_none(), "{word}");
        }
        // The ending filter lets every key's raw spellings through.
        for &(key, ..) in KEYS {
            let b = key.as_bytes();
            let (before, last) = (b[b.len() - 2], b[b.len() - 1]);
            assert!(may_end_key(before, last), "{key}");
            let upper = (before.to_ascii_uppercase(), last.to_ascii_uppercase());
            assert!(may_end_key(upper.0, upper.1), "{key}");
            assert!(
                may_end_key(before, b'_') && may_end_key(b'-', last),
                "{key}"
            );
        }
        assert!(!may_end_key(b't', b'e') && !may_end_key(b'e', b'd'));
    }

    fn found(input: &str) -> Vec<(&str, &str)> {
        let dashdash = Finder::new(b"--").into_owned();
        kinds_of(input, |b, out| {
            find(b, &Detectors::default(), &dashdash, out)
        })
    }

    #[test]
    fn table() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let cases: &[(&str, &[(&str, &str)])] = &[
            // AWS's vocabulary, in every form.
            (
                "\"SecretId\": \"prod/payments/db\"",
                &[("prod/payments/db", "ID")],
            ),
            (
                "  key_name               = \"deploy-key\"",
                &[("deploy-key", "NAME")],
            ),
            (
                "aws glue start-crawler --crawler-name=nightly-ingest",
                &[("nightly-ingest", "NAME")],
            ),
            (
                "\"AutoScalingGroupName\": \"web-asg\"",
                &[("web-asg", "NAME")],
            ),
            ("auto_scaling_group_name: web-asg\n", &[("web-asg", "NAME")]),
            (
                "auto_scaling_group_name: web-asg\\nx: 1",
                &[("web-asg", "NAME")],
            ),
            (
                "auto_scaling_group_name = \"web-asg\"",
                &[("web-asg", "NAME")],
            ),
            ("AUTO_SCALING_GROUP_NAME=web-asg", &[("web-asg", "NAME")]),
            ("--auto-scaling-group-name web-asg", &[("web-asg", "NAME")]),
            ("\"StateMachineArn\": \"x\"", &[]),
            ("\"Name\": \"web-asg\"", &[]),
            (
                "\"FunctionName\": \"settle-payments-v2\",",
                &[("settle-payments-v2", "LAMBDA")],
            ),
            (
                "FunctionName: settle-payments-v2\n",
                &[("settle-payments-v2", "LAMBDA")],
            ),
            (
                "function_name = settle-payments-v2",
                &[("settle-payments-v2", "LAMBDA")],
            ),
            (
                "FUNCTION_NAME=settle-payments-v2",
                &[("settle-payments-v2", "LAMBDA")],
            ),
            (
                "aws lambda invoke --function-name settle-payments-v2 out.json",
                &[("settle-payments-v2", "LAMBDA")],
            ),
            (
                "--function-name=settle-payments-v2",
                &[("settle-payments-v2", "LAMBDA")],
            ),
            (
                "--function-name \"settle-payments-v2\"",
                &[("settle-payments-v2", "LAMBDA")],
            ),
            (
                "{\\\"FunctionName\\\": \\\"settle-payments-v2\\\"}",
                &[("settle-payments-v2", "LAMBDA")],
            ),
            (
                "--db-instance-identifier prod-payments-db",
                &[("prod-payments-db", "RDS_DB")],
            ),
            (
                "'DBClusterIdentifier': 'payments-aurora-prod'",
                &[("payments-aurora-prod", "RDS_CLUSTER")],
            ),
            (
                "\"RoleName\": \"OrganizationAccountAccessRole\"",
                &[("OrganizationAccountAccessRole", "IAM_ROLE")],
            ),
            (
                "\"LogGroupName\": \"/aws/lambda/settle-payments-v2\"",
                &[("/aws/lambda/settle-payments-v2", "LOG_GROUP")],
            ),
            (
                "\"GroupName\": \"payments-web-sg\"",
                &[("payments-web-sg", "IAM_GROUP")],
            ),
            (
                "--key-id 1234abcd-12ab-34cd-56ef-1234567890ab",
                &[("1234abcd-12ab-34cd-56ef-1234567890ab", "KMS_KEY")],
            ),
            ("KeyId: alias/payments", &[("alias/payments", "KMS_KEY")]),
            (
                "\"HostedZoneId\": \"/hostedzone/Z1D633PJN98FT9\"",
                &[("/hostedzone/Z1D633PJN98FT9", "HOSTED_ZONE")],
            ),
            (
                "\"DistributionId\": \"E2QWRUHAPOMQZL\"",
                &[("E2QWRUHAPOMQZL", "CLOUDFRONT_DIST")],
            ),
            (
                "--bucket acme-payments-logs-prod",
                &[("acme-payments-logs-prod", "S3_BUCKET")],
            ),
            (
                "\"Bucket\": \"acme-payments-logs-prod\"",
                &[("acme-payments-logs-prod", "S3_BUCKET")],
            ),
            // Flags other clouds share, on an `aws` line.
            (
                "$ aws codebuild start-build --project-name=fraud-billing-v2 --region eu-west-3",
                &[("fraud-billing-v2", "NAME")],
            ),
            (
                "aws elasticbeanstalk rebuild-environment --environment-name web-prod",
                &[("web-prod", "NAME")],
            ),
            (
                "gcloud builds list --project-name=my-proj\naz webapp up --environment-name dev-1",
                &[],
            ),
            // Elastic Beanstalk's environment, by its context.
            (
                "client = boto3.client('elasticbeanstalk')\nclient.rebuild_environment(EnvironmentName='my-env')",
                &[("my-env", "NAME")],
            ),
            (
                "{'ApplicationName': 'web-v9', 'EnvironmentName': 'dev-media-pricing'}",
                &[("web-v9", "NAME"), ("dev-media-pricing", "NAME")],
            ),
            // Azure's, or one without AWS context, stays readable.
            (
                "{\"environmentName\": \"AzureCloud\", \"tenantId\": \"x\"} EnvironmentName='my-env'",
                &[],
            ),
            // iSCSI names hold a `:`.
            (
                "\"InitiatorName\": \"iqn.1991-05.com.microsoft:computername.domain.example.com\"",
                &[(
                    "iqn.1991-05.com.microsoft:computername.domain.example.com",
                    "NAME",
                )],
            ),
            ("\"InitiatorName\": \"host:1\"", &[]),
            // Automated snapshots: the name after AWS's prefix.
            (
                "\"DBSnapshotIdentifier\": \"rds:mysqldb-2014-04-22-08-15\"",
                &[("rds:mysqldb-2014-04-22-08-15", "ID")],
            ),
            (
                "--db-cluster-snapshot-identifier rds:sample-cluster-2016-09-14",
                &[("rds:sample-cluster-2016-09-14", "ID")],
            ),
            ("\"DBSnapshotIdentifier\": \"rds:\" FunctionName: rds:", &[]),
            // A legacy bucket with upper case, when it is a literal.
            (
                "{'S3Action': {'BucketName': 'MyBucket'}} \\\"TargetBucket\\\": \\\"Logs2017\\\"",
                &[("MyBucket", "S3_BUCKET"), ("Logs2017", "S3_BUCKET")],
            ),
            // Not as a word of code (a variable), nor a constant.
            (
                "put_object(Bucket=BucketName, Key=k) bucket: MyBucket \"Bucket\": \"BUCKET\"",
                &[],
            ),
            (
                "bucket_name = acme-payments-logs-prod",
                &[("acme-payments-logs-prod", "S3_BUCKET")],
            ),
            (
                &format!("aws_secret_access_key = {secret}\n"),
                &[(secret, "SECRET_KEY")],
            ),
            (
                &format!("export AWS_SECRET_ACCESS_KEY={secret}"),
                &[(secret, "SECRET_KEY")],
            ),
            (
                &format!("\"SecretAccessKey\": \"{secret}\""),
                &[(secret, "SECRET_KEY")],
            ),
            (&format!("--secret-key {secret}"), &[(secret, "SECRET_KEY")]),
            (
                "aws_session_token = IQoJb3JpZ2luX2VjEJr//////////wEaCXVz",
                &[("IQoJb3JpZ2luX2VjEJr//////////wEaCXVz", "SESSION_TOKEN")],
            ),
            (
                "X-Amz-Security-Token: FwoGZXIvYXdzEBYaDabcdef==",
                &[("FwoGZXIvYXdzEBYaDabcdef==", "SESSION_TOKEN")],
            ),
            (
                "\"OwnerId\": \"123456789012\"",
                &[("123456789012", "ACCOUNT")],
            ),
            ("\"AWS\": \"123456789012\"", &[("123456789012", "ACCOUNT")]),
            (
                "    'bucket' => 'acme-billing-logs',",
                &[("acme-billing-logs", "S3_BUCKET")],
            ),
            (
                &format!("'secret' => '{secret}',"),
                &[(secret, "SECRET_KEY")],
            ),
            ("bucket => 'acme-billing-logs'", &[]),
            ("'bucket' == 'acme-billing-logs'", &[]),
            ("'secret' => 'changeme'", &[]),
            (
                &format!("spark.hadoop.fs.s3a.secret.key={secret}\n"),
                &[(secret, "SECRET_KEY")],
            ),
            (
                "access_key_id=AKIAIOSFODNN7EXAMPLE,secret_access_key=9EWdHe9rkP%2Bx7N3L11hvRA%2BJf5jq0WDo7qK%2F1fW4:logs",
                &[
                    ("AKIAIOSFODNN7EXAMPLE", "ACCESS_KEY"),
                    ("9EWdHe9rkP%2Bx7N3L11hvRA%2BJf5jq0WDo7qK%2F1fW4", "SECRET_KEY"),
                ],
            ),
            ("fs.s3a.endpoint.key=x", &[]),
            (
                &format!("AWS Secret Access Key [None]: {secret}\n"),
                &[(secret, "SECRET_KEY")],
            ),
            (
                &format!("AWS Secret Access Key [****************EKEY]: {secret}\n"),
                &[(secret, "SECRET_KEY")],
            ),
            (
                &format!("Secret access key: {secret}\n"),
                &[(secret, "SECRET_KEY")],
            ),
            ("Secret access key: see the vault\n", &[]),
            (
                "AWS Access Key ID [None]: AKIAI5NIJM7T6HIEXAMPLE\n",
                &[("AKIAI5NIJM7T6HIEXAMPLE", "ACCESS_KEY")],
            ),
            (
                "aws_access_key_id = AKIAMGSBD3O6DFG3PGG\n",
                &[("AKIAMGSBD3O6DFG3PGG", "ACCESS_KEY")],
            ),
            ("aws_access_key_id = NOTAKEY12345678901\n", &[]),
            (
                "{\"OutputKey\": \"AssetsBucketName\",\n  \"OutputValue\": \"acme-assets-prod\"}",
                &[("acme-assets-prod", "S3_BUCKET")],
            ),
            (
                "\"Tags\": [{\"Key\": \"Name\", \"Value\": \"web-prod-1\"}, {\"Key\": \"Env\", \"Value\": \"prod\"}]",
                &[("web-prod-1", "NAME")],
            ),
            ("{\"Key\": \"Name\"}, {\"Value\": \"elsewhere\"}", &[]),
            ("    username = password = None", &[]),
            (
                "$ aws eks describe-cluster --name PaymentsApiQa --query cluster.identity",
                &[("PaymentsApiQa", "NAME")],
            ),
            (
                "x\n     1→$ aws ecs list-tasks --cluster etl_export_staging\n",
                &[("etl_export_staging", "CLUSTER")],
            ),
            (
                "eksctl utils associate-iam-oidc-provider --cluster AuditApiUat --approve",
                &[("AuditApiUat", "CLUSTER")],
            ),
            ("git commit --name foo", &[]),
            ("kubectl config set-cluster --cluster prod", &[]),
            ("WORK_GROUP=recs_analytics_sandbox\n", &[("recs_analytics_sandbox", "NAME")]),
            ("  ECR_REPOSITORY: telemetry-api\n", &[("telemetry-api", "ECR_REPO")]),
            (
                "\tTableName: aws.String(\"SearchEventsQa\"),",
                &[("SearchEventsQa", "DYNAMODB_TABLE")],
            ),
            (
                "X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr%2F%2F%2F%2FwEaCXVz&X-Amz-Signature=ab",
                &[("IQoJb3JpZ2luX2VjEJr%2F%2F%2F%2FwEaCXVz", "SESSION_TOKEN")],
            ),
            (
                "\"Token\": \"AgoJb3JpZ2luX2VjEvEzrb0hQhlCyFisqiVfg0llffMkUpf\",",
                &[("AgoJb3JpZ2luX2VjEvEzrb0hQhlCyFisqiVfg0llffMkUpf", "SESSION_TOKEN")],
            ),
            ("\"Token\": \"abcdefghijklmnopqrstuvwxyz\",", &[]),
            ("My secret access key [None]: no", &[]),
            // Keys by their ending.
            (
                "CLOUDFRONT_DISTRIBUTION_ID=E0VM7WGVOMHATF\n",
                &[("E0VM7WGVOMHATF", "CLOUDFRONT_DIST")],
            ),
            (
                "COGNITO_CLIENT_ID=jglo1co6v3pk1katm9vuxkfp2m\n",
                &[("jglo1co6v3pk1katm9vuxkfp2m", "COGNITO_CLIENT")],
            ),
            (
                "\"publicHostedZoneId\": \"Z18FFGXI7WAJY1\"",
                &[("Z18FFGXI7WAJY1", "HOSTED_ZONE")],
            ),
            (
                "aws ecs stop-task --task ae84294286021176cb31f62258230c0f",
                &[("ae84294286021176cb31f62258230c0f", "ECS_TASK")],
            ),
            (
                "ECS_TASK_ID=ae84294286021176cb31f62258230c0f",
                &[("ae84294286021176cb31f62258230c0f", "ECS_TASK")],
            ),
            (
                "ARTIFACTS_BUCKET=acme-build-artifacts",
                &[("acme-build-artifacts", "S3_BUCKET")],
            ),
            (
                "\"TargetBucket\": \"acme-access-logs\"",
                &[("acme-access-logs", "S3_BUCKET")],
            ),
            (
                "SOURCE_ACCOUNT_ID=123456789012",
                &[("123456789012", "ACCOUNT")],
            ),
            ("GOOGLE_CLIENT_ID=1234-abc.apps.googleusercontent.com", &[]),
            ("OKTA_CLIENT_ID=0oa1b2c3d4e5f6g7h8i9", &[]),
            ("target_bucket = get_bucket()", &[]),
            ("RUN_TASK_ID=AE84294286021176CB31F62258230C0F", &[]),
            ("\"Id\": \"123456789012\",", &[("123456789012", "ACCOUNT")]),
            // Near misses.
            ("\"Id\": \"1234567890123\"", &[]),
            ("\"AWS\": \"12345678901\"", &[]),
            ("\"FunctionName\": {\"Ref\": \"Fn\"}", &[]),
            ("\"FunctionName\": [\"a\"]", &[]),
            ("\"FunctionName\": \"\"", &[]),
            ("\"FunctionName\": null, \"RoleName\": true", &[]),
            ("FunctionName: $FN and FunctionName=${FN}", &[]),
            ("\"FunctionName\": \"has space\"", &[]),
            ("MyFunctionName: foo", &[]),
            ("--function-name --role-name", &[]),
            ("std::FunctionName::x FunctionName == x", &[]),
            (
                "aws_secret_access_key = 3f9a1c2e7b4d5a6f8e9d0c1b2a3f4e5d6c7b8a9f",
                &[],
            ),
            ("aws_secret_access_key = tooShort", &[]),
            ("\"Bucket\": \"Not_A_Bucket\"", &[]),
            ("\"KeyId\": \"not-a-key\"", &[]),
            ("arn: a note", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(found(input), *want, "{input}");
        }
    }

    /// The memo of context searches agrees with searching the whole
    /// reach before every key, on texts of many keys and a few context
    /// words at random places, near and beyond the reach.
    #[test]
    fn context_memo_agrees_with_a_plain_search() {
        let words: &[&[u8]] = &[b"elasticbeanstalk", b"ApplicationName"];
        let finders: Vec<FinderRev<'static>> = words
            .iter()
            .map(|w| FinderRev::new(*w).into_owned())
            .collect();
        let mut rng = crate::test_rng::XorShift(0x2545_f491_4f6c_dd1d);
        let mut next = |n: u64| rng.below(n);
        for _ in 0..200 {
            let mut text = Vec::new();
            let mut keys = Vec::new();
            for _ in 0..60 {
                match next(10) {
                    0 => text.extend_from_slice(b"elasticbeanstalk "),
                    1 => text.extend_from_slice(b"ApplicationName"),
                    2..=5 => {
                        keys.push(text.len());
                        text.extend_from_slice(b"EnvironmentName: x\n");
                    }
                    _ => text.extend(std::iter::repeat_n(b'.', next(400) as usize)),
                }
            }
            let mut seen = Seen::default();
            for &ks in &keys {
                let lo = ks.saturating_sub(CONTEXT_REACH);
                let window = &text[lo..ks];
                let plain = words
                    .iter()
                    .any(|w| memchr::memmem::find(window, w).is_some());
                assert_eq!(seen.near(&text, ks, &finders), plain, "key at {ks}");
            }
        }
    }

    #[test]
    fn whole_values() {
        let on = Detectors::default();
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("FunctionName", "settle-payments-v2", Some("LAMBDA")),
            ("function_name", "settle-payments-v2", Some("LAMBDA")),
            (
                "--db-instance-identifier",
                "prod-payments-db",
                Some("RDS_DB"),
            ),
            ("Bucket", "acme-payments-logs-prod", Some("S3_BUCKET")),
            (
                "KeyId",
                "1234abcd-12ab-34cd-56ef-1234567890ab",
                Some("KMS_KEY"),
            ),
            ("FunctionName", "", None),
            ("FunctionName", "two words", None),
            ("FunctionName", "a\nb", None),
            ("FunctionName", &"x".repeat(300), None),
            ("Description", "settle-payments-v2", None),
            ("Bucket", "Bad_Bucket", None),
        ];
        for (key, value, want) in cases {
            assert_eq!(
                whole_value(key, value, &on).map(|m| m.kind),
                *want,
                "{key}={value}"
            );
        }
        let mut off = Detectors::default();
        off.set(Family::NamedResources, false);
        assert!(whole_value("FunctionName", "x1", &off).is_none());
    }
}
