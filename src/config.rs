//! Filter configuration: parsing and validation with errors that name the
//! field and say what is wrong.
//!
//! The configuration arrives as JSON from the host (Envoy's plugin
//! `configuration`, Kong's filter `config`). An empty document or `{}` is a
//! valid configuration with safe defaults: every detector family on, a random
//! per-process secret, a 32 MiB body limit, thinking blocks left alone.
//!
//! ```
//! use aws_masker::config::Config;
//!
//! let cfg = Config::from_json(br#"{"token_prefix": "MASK_", "detectors": {"ip_addresses": false}}"#).unwrap();
//! assert_eq!(cfg.token_prefix, "MASK_");
//! assert!(!cfg.detectors.is_on(aws_masker::Family::IpAddresses));
//!
//! let err = Config::from_json(br#"{"max_body_bytes": "big"}"#).unwrap_err();
//! assert_eq!(err.field, "max_body_bytes");
//! ```

use crate::detect::Family;
use serde_json::{Map, Value};
use std::fmt;

/// Default limit on a request body the filter buffers and masks: 32 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Upper bound accepted for `max_body_bytes`: 1 GiB.
pub const MAX_MAX_BODY_BYTES: usize = 1024 * 1024 * 1024;
/// Default number of long texts each worker remembers detection results
/// for (`memo_texts`).
pub const DEFAULT_MEMO_TEXTS: usize = 4096;
/// Upper bound accepted for `memo_texts`.
pub const MAX_MEMO_TEXTS: usize = 65_536;
/// Default token prefix: tokens look like `AWS_EC2_3f9a1c2e`.
pub const DEFAULT_TOKEN_PREFIX: &str = "AWS_";
/// Shortest accepted configured secret, in characters.
pub const MIN_SECRET_CHARS: usize = 16;
/// Default cap on the distinct values one request may have masked
/// (`max_values_per_request`). Each costs the worker's VM about 100 bytes
/// while the request is masked (its splice and its token-map entry, with
/// the slack of growing vectors; the entry, about 35 bytes, stays until the
/// answer is restored), and wasm memory never shrinks: at 100,000 the
/// densest request costs about 10 MB besides its body, well within 3 × the
/// default `max_body_bytes`, and its masking a few hundred milliseconds.
pub const DEFAULT_MAX_VALUES_PER_REQUEST: usize = 100_000;
/// Upper bound accepted for `max_values_per_request`.
pub const MAX_MAX_VALUES_PER_REQUEST: usize = 10_000_000;

/// Whose tokens are whose: the key tokens are derived under.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TokenScope {
    /// Per client credential (`x-api-key`, else `authorization`), the
    /// default: one client cannot get (and so cannot confirm guesses with)
    /// another client's tokens, and the provider cannot link one resource
    /// across clients.
    #[default]
    Credential,
    /// Per value of this request header (lower-case name), e.g. a tenant id
    /// that a gateway in front sets.
    Header(String),
    /// One key for every client of the gateway (the behaviour before token
    /// scopes existed).
    Gateway,
}

/// Whether workers share a generated secret through the host's shared data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretSharing {
    /// Only where shared data is known to be there (Envoy); never on
    /// another host, where a missing zone can trap the VM (Kong without an
    /// `shm_kv *` zone).
    #[default]
    Auto,
    /// Always, under a key without namespace (Kong 3.7+: needs
    /// `nginx_wasm_shm_kv` in kong.conf).
    SharedData,
    /// Never: each worker generates its own secret.
    None,
}

/// A configuration problem: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Path of the offending field, e.g. `custom_patterns[1].regex`; empty
    /// when the document as a whole is wrong.
    pub field: String,
    /// What is wrong, in words a gateway operator can act on.
    pub message: String,
}

impl ConfigError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "invalid aws-masker config: {}", self.message)
        } else {
            write!(
                f,
                "invalid aws-masker config: field `{}`: {}",
                self.field, self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

/// On/off switches for the built-in detector families ([`Family`]), one
/// bit each. All default to on; `Family::Custom` is always on (its
/// patterns are switched by being configured).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Detectors {
    /// The families switched off, one bit per [`Family::bit`].
    off: u16,
}

impl Detectors {
    /// Whether `family` is on.
    #[inline]
    pub fn is_on(&self, family: Family) -> bool {
        self.off & family.bit() == 0
    }

    /// Switches `family` on or off (`Family::Custom` stays on).
    pub fn set(&mut self, family: Family, on: bool) {
        if on {
            self.off &= !family.bit();
        } else {
            self.off |= family.bit();
        }
    }
}

/// Names of the built-in detector families, in config and metrics
/// spelling, in [`Family::BUILT_IN`] order.
pub const DETECTOR_FAMILIES: [&str; Family::BUILT_IN.len()] = {
    let mut names = [""; Family::BUILT_IN.len()];
    let mut i = 0;
    while i < names.len() {
        // Indexing is evaluated at compile time here: out of range fails
        // the build.
        #[allow(clippy::indexing_slicing)]
        {
            names[i] = Family::BUILT_IN[i].name();
        }
        i += 1;
    }
    names
};

/// A user-defined detector: every match of `regex` is masked as `kind`.
#[derive(Debug, Clone)]
pub struct CustomPattern {
    /// Unique name, used in logs and metrics.
    pub name: String,
    /// The compiled pattern.
    pub regex: regex_lite::Regex,
    /// Token kind, upper-case `[A-Z0-9_]`, e.g. `JIRA` gives `AWS_JIRA_…`.
    pub kind: String,
}

/// A value that is never masked, even when a detector matches it.
#[derive(Debug, Clone)]
pub enum AllowEntry {
    /// Exactly this text.
    Value(String),
    /// Any matched value this regex matches in full.
    Regex(regex_lite::Regex),
}

impl AllowEntry {
    /// Whether a detected value is allowed through unmasked.
    pub fn allows(&self, value: &str) -> bool {
        match self {
            AllowEntry::Value(v) => v == value,
            AllowEntry::Regex(re) => re
                .find(value)
                .is_some_and(|m| m.start() == 0 && m.end() == value.len()),
        }
    }
}

/// The validated filter configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Secret keying the token MAC. `None`: a random secret is generated per
    /// gateway process (tokens then differ between gateways and restarts).
    pub secret: Option<String>,
    /// Prefix of every token; `[A-Za-z][A-Za-z0-9_]*`, 1 to 16 characters.
    pub token_prefix: String,
    /// Built-in detector family switches.
    pub detectors: Detectors,
    /// User-defined detectors, added to the catalog.
    pub custom_patterns: Vec<CustomPattern>,
    /// Values never masked.
    pub allowlist: Vec<AllowEntry>,
    /// Largest request body the filter buffers; larger ones are refused (413).
    pub max_body_bytes: usize,
    /// Restore tokens inside thinking blocks too (and mask them in requests).
    /// Off by default: thinking blocks are signed and must round-trip intact.
    pub restore_thinking: bool,
    /// Long texts (256 bytes and more) whose detection results each worker
    /// remembers, so a conversation re-sent on every turn is not scanned
    /// again; 0 turns the memo off. Memory: up to about 2 × (this × 100
    /// bytes + 16 × this × 40 bytes) per worker.
    pub memo_texts: usize,
    /// Most distinct values one request may have masked; a request with
    /// more is refused (413), which bounds the work and memory one request
    /// can cost a worker.
    pub max_values_per_request: usize,
    /// Whose tokens are whose (see [`TokenScope`]).
    pub token_scope: TokenScope,
    /// Whether workers share a generated secret (see [`SecretSharing`]).
    pub secret_sharing: SecretSharing,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secret: None,
            token_prefix: DEFAULT_TOKEN_PREFIX.to_string(),
            detectors: Detectors::default(),
            custom_patterns: Vec::new(),
            allowlist: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            restore_thinking: false,
            memo_texts: DEFAULT_MEMO_TEXTS,
            max_values_per_request: DEFAULT_MAX_VALUES_PER_REQUEST,
            token_scope: TokenScope::default(),
            secret_sharing: SecretSharing::default(),
        }
    }
}

const TOP_LEVEL_FIELDS: &str =
    "secret, token_prefix, detectors, custom_patterns, allowlist, max_body_bytes, restore_thinking, memo_texts, max_values_per_request, token_scope, token_scope_header, secret_sharing";

impl Config {
    /// Parses and validates a configuration document. Empty input (or only
    /// white space) and `{}` give the defaults.
    pub fn from_json(bytes: &[u8]) -> Result<Config, ConfigError> {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Config::default());
        }
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| ConfigError::new("", format!("not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(ConfigError::new(
                "",
                format!("expected a JSON object, got {}", type_name(&value)),
            ));
        };
        Config::from_map(&map)
    }

    fn from_map(map: &Map<String, Value>) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        let mut scope_header: Option<String> = None;
        for (key, value) in map {
            match key.as_str() {
                "secret" => cfg.secret = parse_secret(value)?,
                "token_prefix" => cfg.token_prefix = parse_prefix(value)?,
                "detectors" => cfg.detectors = parse_detectors(value)?,
                "custom_patterns" => cfg.custom_patterns = parse_custom_patterns(value)?,
                "allowlist" => cfg.allowlist = parse_allowlist(value)?,
                "max_body_bytes" => {
                    cfg.max_body_bytes =
                        parse_count("max_body_bytes", value, 1, MAX_MAX_BODY_BYTES)?
                }
                "memo_texts" => {
                    cfg.memo_texts = parse_count("memo_texts", value, 0, MAX_MEMO_TEXTS)?
                }
                "max_values_per_request" => {
                    cfg.max_values_per_request = parse_count(
                        "max_values_per_request",
                        value,
                        1,
                        MAX_MAX_VALUES_PER_REQUEST,
                    )?
                }
                "token_scope" => {
                    cfg.token_scope = match expect_str("token_scope", value)? {
                        "credential" => TokenScope::Credential,
                        "header" => TokenScope::Header(String::new()),
                        "gateway" => TokenScope::Gateway,
                        other => {
                            return Err(ConfigError::new(
                                "token_scope",
                                format!(
                                "{other:?} is not one of \"credential\", \"header\", \"gateway\""
                            ),
                            ))
                        }
                    }
                }
                "token_scope_header" if value.is_null() => {}
                "token_scope_header" => {
                    scope_header = Some(parse_header_name(value)?);
                }
                "secret_sharing" => {
                    cfg.secret_sharing = match expect_str("secret_sharing", value)? {
                        "auto" => SecretSharing::Auto,
                        "shared_data" => SecretSharing::SharedData,
                        "none" => SecretSharing::None,
                        other => {
                            return Err(ConfigError::new(
                                "secret_sharing",
                                format!(
                                    "{other:?} is not one of \"auto\", \"shared_data\", \"none\""
                                ),
                            ))
                        }
                    }
                }
                "restore_thinking" => {
                    cfg.restore_thinking = value.as_bool().ok_or_else(|| {
                        ConfigError::new(
                            "restore_thinking",
                            format!("expected true or false, got {}", type_name(value)),
                        )
                    })?
                }
                other => {
                    return Err(ConfigError::new(
                        other,
                        format!("unknown field; known fields: {TOP_LEVEL_FIELDS}"),
                    ))
                }
            }
        }
        match (&mut cfg.token_scope, scope_header) {
            (TokenScope::Header(name), Some(h)) => *name = h,
            (TokenScope::Header(_), None) => {
                return Err(ConfigError::new(
                    "token_scope_header",
                    "missing: `token_scope: \"header\"` needs the header's name here",
                ))
            }
            (_, Some(_)) => {
                return Err(ConfigError::new(
                    "token_scope_header",
                    "only valid with `token_scope: \"header\"`",
                ))
            }
            (_, None) => {}
        }
        Ok(cfg)
    }
}

/// A request header name (RFC 9110 token characters), lower-cased as the
/// hosts hand headers to the filter.
fn parse_header_name(v: &Value) -> Result<String, ConfigError> {
    let s = expect_str("token_scope_header", v)?;
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !ok {
        return Err(ConfigError::new(
            "token_scope_header",
            format!("{s:?} is not a header name (1 to 64 token characters, e.g. \"x-tenant-id\")"),
        ));
    }
    Ok(s.to_ascii_lowercase())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn expect_str<'a>(field: &str, v: &'a Value) -> Result<&'a str, ConfigError> {
    v.as_str()
        .ok_or_else(|| ConfigError::new(field, format!("expected a string, got {}", type_name(v))))
}

fn parse_secret(v: &Value) -> Result<Option<String>, ConfigError> {
    if v.is_null() {
        return Ok(None);
    }
    let s = expect_str("secret", v)?;
    // Characters, not bytes: the same rule as `minLength` in Kong's schema.
    let chars = s.chars().count();
    if chars < MIN_SECRET_CHARS {
        return Err(ConfigError::new(
            "secret",
            format!(
                "too short ({chars} characters); use at least {MIN_SECRET_CHARS}, e.g. `openssl rand -hex 32`"
            ),
        ));
    }
    Ok(Some(s.to_string()))
}

fn parse_prefix(v: &Value) -> Result<String, ConfigError> {
    let s = expect_str("token_prefix", v)?;
    let valid_chars = s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let starts_alpha = s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    if !(1..=16).contains(&s.len()) || !valid_chars || !starts_alpha {
        return Err(ConfigError::new(
            "token_prefix",
            format!("{s:?} is not 1 to 16 characters of [A-Za-z0-9_] starting with a letter"),
        ));
    }
    Ok(s.to_string())
}

fn parse_detectors(v: &Value) -> Result<Detectors, ConfigError> {
    let Value::Object(map) = v else {
        return Err(ConfigError::new(
            "detectors",
            format!(
                "expected an object of family: boolean, got {}",
                type_name(v)
            ),
        ));
    };
    let mut d = Detectors::default();
    for (name, on) in map {
        let field = format!("detectors.{name}");
        let Some(family) = Family::from_name(name) else {
            return Err(ConfigError::new(
                field,
                format!(
                    "unknown detector family; known: {}",
                    DETECTOR_FAMILIES.join(", ")
                ),
            ));
        };
        let on = on.as_bool().ok_or_else(|| {
            ConfigError::new(
                field.clone(),
                format!("expected true or false, got {}", type_name(on)),
            )
        })?;
        d.set(family, on);
    }
    Ok(d)
}

fn compile_regex(field: &str, pattern: &str) -> Result<regex_lite::Regex, ConfigError> {
    if pattern.is_empty() {
        return Err(ConfigError::new(field, "empty regex"));
    }
    let re = regex_lite::Regex::new(pattern)
        .map_err(|e| ConfigError::new(field, format!("invalid regex {pattern:?}: {e}")))?;
    if re.is_match("") {
        return Err(ConfigError::new(
            field,
            format!("regex {pattern:?} matches the empty string"),
        ));
    }
    Ok(re)
}

/// Most `custom_patterns` a config takes: each may add a token kind, and a
/// token map tells 4,096 kinds apart (with the built-in ones and those
/// `aws-masker restore --map` may bring).
const MAX_CUSTOM_PATTERNS: usize = 1000;

fn parse_custom_patterns(v: &Value) -> Result<Vec<CustomPattern>, ConfigError> {
    let Value::Array(items) = v else {
        return Err(ConfigError::new(
            "custom_patterns",
            format!("expected an array, got {}", type_name(v)),
        ));
    };
    if items.len() > MAX_CUSTOM_PATTERNS {
        return Err(ConfigError::new(
            "custom_patterns",
            format!(
                "{} patterns; at most {MAX_CUSTOM_PATTERNS} are accepted",
                items.len()
            ),
        ));
    }
    let mut out: Vec<CustomPattern> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("custom_patterns[{i}]");
        let Value::Object(map) = item else {
            return Err(ConfigError::new(
                at,
                format!(
                    "expected an object with name, regex and kind, got {}",
                    type_name(item)
                ),
            ));
        };
        for key in map.keys() {
            if !matches!(key.as_str(), "name" | "regex" | "kind") {
                return Err(ConfigError::new(
                    format!("{at}.{key}"),
                    "unknown field; known fields: name, regex, kind",
                ));
            }
        }
        let get = |k: &str| -> Result<&str, ConfigError> {
            let field = format!("{at}.{k}");
            match map.get(k) {
                Some(v) => expect_str(&field, v),
                None => Err(ConfigError::new(field, "missing")),
            }
        };
        let name = get("name")?;
        if name.is_empty() {
            return Err(ConfigError::new(format!("{at}.name"), "empty name"));
        }
        if out.iter().any(|p| p.name == name) {
            return Err(ConfigError::new(
                format!("{at}.name"),
                format!("duplicate name {name:?}"),
            ));
        }
        let regex = compile_regex(&format!("{at}.regex"), get("regex")?)?;
        let kind = get("kind")?;
        let kind_ok = (1..=24).contains(&kind.len())
            && kind
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && kind.bytes().next().is_some_and(|b| b.is_ascii_uppercase());
        if !kind_ok {
            return Err(ConfigError::new(
                format!("{at}.kind"),
                format!("{kind:?} is not 1 to 24 characters of [A-Z0-9_] starting with a letter"),
            ));
        }
        out.push(CustomPattern {
            name: name.to_string(),
            regex,
            kind: kind.to_string(),
        });
    }
    Ok(out)
}

fn parse_allowlist(v: &Value) -> Result<Vec<AllowEntry>, ConfigError> {
    let Value::Array(items) = v else {
        return Err(ConfigError::new(
            "allowlist",
            format!("expected an array, got {}", type_name(v)),
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("allowlist[{i}]");
        let Value::Object(map) = item else {
            return Err(ConfigError::new(
                at,
                format!(
                    "expected an object {{\"value\": …}} or {{\"regex\": …}}, got {}",
                    type_name(item)
                ),
            ));
        };
        let entry = match (map.len(), map.get("value"), map.get("regex")) {
            (1, Some(v), None) => {
                let s = expect_str(&format!("{at}.value"), v)?;
                if s.is_empty() {
                    return Err(ConfigError::new(format!("{at}.value"), "empty value"));
                }
                AllowEntry::Value(s.to_string())
            }
            (1, None, Some(r)) => {
                let field = format!("{at}.regex");
                AllowEntry::Regex(compile_regex(&field, expect_str(&field, r)?)?)
            }
            _ => {
                return Err(ConfigError::new(
                    at,
                    "expected exactly one of the fields `value` or `regex`",
                ))
            }
        };
        out.push(entry);
    }
    Ok(out)
}

/// An integer field that must lie in `min..=max`.
fn parse_count(field: &str, v: &Value, min: usize, max: usize) -> Result<usize, ConfigError> {
    let n = v.as_u64().ok_or_else(|| {
        let what = if min > 0 {
            "a positive"
        } else {
            "a non-negative"
        };
        ConfigError::new(
            field,
            format!("expected {what} integer, got {}", type_name(v)),
        )
    })?;
    match usize::try_from(n) {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError::new(
            field,
            format!("{n} is out of range {min}..={max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_braces_are_defaults() {
        for doc in [&b""[..], b"  \n", b"{}"] {
            let c = Config::from_json(doc).unwrap();
            assert_eq!(c.token_prefix, "AWS_");
            assert_eq!(c.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
            assert_eq!(c.detectors, Detectors::default());
            assert!(c.secret.is_none());
            assert!(!c.restore_thinking);
            assert_eq!(c.memo_texts, DEFAULT_MEMO_TEXTS);
            assert_eq!(c.max_values_per_request, DEFAULT_MAX_VALUES_PER_REQUEST);
            assert_eq!(c.token_scope, TokenScope::Credential);
            assert_eq!(c.secret_sharing, SecretSharing::Auto);
        }
    }

    #[test]
    fn scopes_and_sharing_parse() {
        let c = Config::from_json(
            br#"{"token_scope": "header", "token_scope_header": "X-Tenant-Id", "secret_sharing": "shared_data", "max_values_per_request": 7}"#,
        )
        .unwrap();
        assert_eq!(c.token_scope, TokenScope::Header("x-tenant-id".into()));
        assert_eq!(c.secret_sharing, SecretSharing::SharedData);
        assert_eq!(c.max_values_per_request, 7);
        let c =
            Config::from_json(br#"{"token_scope": "gateway", "secret_sharing": "none"}"#).unwrap();
        assert_eq!(c.token_scope, TokenScope::Gateway);
        assert_eq!(c.secret_sharing, SecretSharing::None);
    }

    #[test]
    fn full_config_parses() {
        let c = Config::from_json(
            br#"{
              "secret": "0123456789abcdef0123",
              "token_prefix": "MASK_",
              "detectors": {"ip_addresses": false, "arns": true},
              "custom_patterns": [{"name": "jira", "regex": "PAY-[0-9]+", "kind": "JIRA"}],
              "allowlist": [{"value": "10.0.0.1"}, {"regex": "sg-0+"}],
              "max_body_bytes": 1048576,
              "restore_thinking": true,
              "memo_texts": 0
            }"#,
        )
        .unwrap();
        assert_eq!(c.secret.as_deref(), Some("0123456789abcdef0123"));
        assert!(!c.detectors.is_on(Family::IpAddresses) && c.detectors.is_on(Family::Arns));
        assert_eq!(c.custom_patterns[0].kind, "JIRA");
        assert!(c.allowlist[0].allows("10.0.0.1"));
        assert!(c.allowlist[1].allows("sg-00000000"));
        assert!(
            !c.allowlist[1].allows("xsg-00000000"),
            "regex must match in full"
        );
        assert_eq!(c.max_body_bytes, 1 << 20);
        assert!(c.restore_thinking);
        assert_eq!(c.memo_texts, 0);
    }

    /// Each invalid document names the field at fault and says something
    /// specific about it.
    #[test]
    fn invalid_configs_name_the_field() {
        let cases: &[(&str, &str, &str)] = &[
            ("[]", "", "expected a JSON object"),
            ("{", "", "not valid JSON"),
            (r#"{"colour": 1}"#, "colour", "unknown field"),
            (r#"{"secret": "short"}"#, "secret", "too short"),
            (
                r#"{"secret": "ééééééééé"}"#,
                "secret",
                "too short (9 characters)",
            ),
            (r#"{"secret": 7}"#, "secret", "expected a string"),
            (r#"{"token_prefix": ""}"#, "token_prefix", "1 to 16"),
            (r#"{"token_prefix": "a-b"}"#, "token_prefix", "[A-Za-z0-9_]"),
            (
                r#"{"detectors": {"ipv9": true}}"#,
                "detectors.ipv9",
                "unknown detector family",
            ),
            (
                r#"{"detectors": {"arns": "yes"}}"#,
                "detectors.arns",
                "true or false",
            ),
            (r#"{"detectors": []}"#, "detectors", "expected an object"),
            (
                r#"{"custom_patterns": [{"name": "x", "regex": "(", "kind": "X"}]}"#,
                "custom_patterns[0].regex",
                "invalid regex \"(\"",
            ),
            (
                r#"{"custom_patterns": [{"name": "x", "regex": "a*", "kind": "X"}]}"#,
                "custom_patterns[0].regex",
                "empty string",
            ),
            (
                r#"{"custom_patterns": [{"name": "x", "regex": "a", "kind": "lower"}]}"#,
                "custom_patterns[0].kind",
                "[A-Z0-9_]",
            ),
            (
                r#"{"custom_patterns": [{"name": "x", "kind": "X"}]}"#,
                "custom_patterns[0].regex",
                "missing",
            ),
            (
                r#"{"custom_patterns": [{"name": "x", "regex": "a", "kind": "X", "flags": 1}]}"#,
                "custom_patterns[0].flags",
                "unknown field",
            ),
            (
                r#"{"custom_patterns": [{"name": "x", "regex": "a", "kind": "X"}, {"name": "x", "regex": "b", "kind": "Y"}]}"#,
                "custom_patterns[1].name",
                "duplicate",
            ),
            (
                r#"{"allowlist": ["10.0.0.1"]}"#,
                "allowlist[0]",
                "expected an object",
            ),
            (
                r#"{"allowlist": [{"value": "a", "regex": "b"}]}"#,
                "allowlist[0]",
                "exactly one",
            ),
            (
                r#"{"allowlist": [{"regex": "["}]}"#,
                "allowlist[0].regex",
                "invalid regex",
            ),
            (r#"{"max_body_bytes": 0}"#, "max_body_bytes", "out of range"),
            (
                r#"{"max_body_bytes": -5}"#,
                "max_body_bytes",
                "positive integer",
            ),
            (
                r#"{"max_body_bytes": 1.5}"#,
                "max_body_bytes",
                "positive integer",
            ),
            (
                r#"{"restore_thinking": "no"}"#,
                "restore_thinking",
                "true or false",
            ),
            (
                r#"{"memo_texts": -1}"#,
                "memo_texts",
                "non-negative integer",
            ),
            (
                r#"{"memo_texts": 65537}"#,
                "memo_texts",
                "out of range 0..=65536",
            ),
            (
                r#"{"memo_texts": "4096"}"#,
                "memo_texts",
                "non-negative integer",
            ),
            (
                r#"{"max_values_per_request": 0}"#,
                "max_values_per_request",
                "out of range",
            ),
            (r#"{"token_scope": "user"}"#, "token_scope", "is not one of"),
            (
                r#"{"token_scope": "header"}"#,
                "token_scope_header",
                "missing",
            ),
            (
                r#"{"token_scope_header": "x-tenant"}"#,
                "token_scope_header",
                "only valid with",
            ),
            (
                r#"{"token_scope": "header", "token_scope_header": "bad header"}"#,
                "token_scope_header",
                "is not a header name",
            ),
            (
                r#"{"secret_sharing": true}"#,
                "secret_sharing",
                "expected a string",
            ),
            (
                r#"{"secret_sharing": "redis"}"#,
                "secret_sharing",
                "is not one of",
            ),
        ];
        for (doc, field, needle) in cases {
            let err = Config::from_json(doc.as_bytes()).unwrap_err();
            assert_eq!(err.field, *field, "doc {doc}: {err}");
            assert!(err.message.contains(needle), "doc {doc}: {err}");
            assert!(err.to_string().starts_with("invalid aws-masker config"));
        }
    }

    /// A config with more custom patterns than a token map tells kinds
    /// apart is refused, naming the limit; one at the limit is taken.
    #[test]
    fn too_many_custom_patterns_are_refused() {
        let config = |n: usize| {
            let patterns: Vec<String> = (0..n)
                .map(|i| format!(r#"{{"name": "p{i}", "regex": "Q{i}Q", "kind": "K{i}"}}"#))
                .collect();
            format!(r#"{{"custom_patterns": [{}]}}"#, patterns.join(","))
        };
        let e = Config::from_json(config(MAX_CUSTOM_PATTERNS + 1).as_bytes()).unwrap_err();
        assert_eq!(e.field, "custom_patterns");
        assert!(e.message.contains("at most 1000"), "{}", e.message);
        let ok = Config::from_json(config(MAX_CUSTOM_PATTERNS).as_bytes()).unwrap();
        assert_eq!(ok.custom_patterns.len(), MAX_CUSTOM_PATTERNS);
    }
}
