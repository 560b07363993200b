//! The detector catalog: finds AWS identifiers and secrets in text.
//!
//! Each family lives in its own module and reports [`Match`]es; the
//! [`Detector`] runs the enabled families, adds user patterns, drops
//! allow-listed values and resolves overlaps (the longest match wins, so an
//! ARN containing an account id is one match, not two).

mod access_keys;
mod account_ids;
mod arns;
mod cognito;
mod console_urls;
mod csv_rows;
mod ec2_ids;
mod escaped_views;
mod hostnames;
mod ip_addresses;
mod key_cache;
mod kms_keys;
mod lists;
mod memo;
mod named_resources;
mod organizations;
mod prose;
mod query_output;
mod resource_ids;
mod s3_buckets;
mod sdk_calls;
mod secret_keys;
mod service_credentials;
mod session_tokens;
mod tables;
mod text_output;
mod util;
// Its keys feed named_resources; its id prefixes are not wired in yet.
#[allow(dead_code)]
pub(crate) mod vocabulary;
mod vocabulary_filter;
mod window;

use crate::config::{AllowEntry, Config, Detectors};
pub(crate) use account_ids::is_account;
use memo::Memo;
pub use memo::MemoStats;
pub(crate) use s3_buckets::is_bucket;
use std::sync::{Arc, Mutex, OnceLock};
pub(crate) use util::is_region;
pub use window::{windows, WINDOW};

/// Mixed into a text's digest for the memo entry of the text read as
/// JSON (its scan as text has the digest itself).
const WALKED_TAG: u128 = 0x6a73_6f6e_2d77_616c_6b65_6400_0000_0001;

/// `kind` as a `&'static str` for the memo, which outlives any one
/// search. Only the built-in families' kinds get here (texts with custom
/// patterns are not remembered so), a few hundred at most: each is
/// allocated once.
fn intern_kind(kind: &str) -> &'static str {
    static KINDS: OnceLock<Mutex<std::collections::HashSet<&'static str>>> = OnceLock::new();
    let mut kinds = KINDS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(&known) = kinds.get(kind) {
        return known;
    }
    let interned: &'static str = Box::leak(kind.to_owned().into_boxed_str());
    kinds.insert(interned);
    interned
}

/// Searchers for a line that starts with `}` and with `]`, built once.
fn closing_finders() -> &'static (
    memchr::memmem::Finder<'static>,
    memchr::memmem::Finder<'static>,
) {
    static FINDERS: std::sync::OnceLock<(
        memchr::memmem::Finder<'static>,
        memchr::memmem::Finder<'static>,
    )> = std::sync::OnceLock::new();
    FINDERS.get_or_init(|| {
        (
            memchr::memmem::Finder::new(b"\n}").into_owned(),
            memchr::memmem::Finder::new(b"\n]").into_owned(),
        )
    })
}

/// How many JSON documents deep, each the text of a literal of the one
/// around it, texts are read as JSON (ECR's `imageManifest` is a document
/// in a tool's output in a request).
const MAX_EMBEDDED_DEPTH: u8 = 2;

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
    /// The built-in families, in config order: what the `detectors`
    /// switches, the metric names and the documentation list.
    pub const BUILT_IN: [Family; 12] = [
        Family::Ec2Ids,
        Family::Arns,
        Family::AccountIds,
        Family::AccessKeys,
        Family::SecretKeys,
        Family::SessionTokens,
        Family::IpAddresses,
        Family::Hostnames,
        Family::S3Buckets,
        Family::NamedResources,
        Family::Organizations,
        Family::KmsKeys,
    ];

    /// The built-in family of a config name (`ec2_ids`), if there is one.
    pub fn from_name(name: &str) -> Option<Family> {
        Family::BUILT_IN.into_iter().find(|f| f.name() == name)
    }

    /// The family's bit in [`Detectors`]' switches (`Custom` has none: it
    /// is never off).
    pub const fn bit(self) -> u16 {
        match self {
            Family::Custom => 0,
            f => 1 << f as u16,
        }
    }

    /// The family's config and metrics name, e.g. `ec2_ids`.
    pub const fn name(self) -> &'static str {
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
    memo: Mutex<Memo>,
}

/// Whether the switch of `family` is on (custom patterns always are).
fn enabled(on: &Detectors, family: Family) -> bool {
    on.is_on(family)
}

impl Detector {
    /// A detector for the families, custom patterns and allowlist of
    /// `config`. `memo_key` keys the digests by which it remembers what it
    /// found in long texts (derive it from a secret: see the `memo` module).
    pub fn new(config: &Config, memo_key: [u8; 16]) -> Detector {
        Detector {
            inner: Arc::new(Inner {
                on: config.detectors,
                custom: config
                    .custom_patterns
                    .iter()
                    .map(|p| (p.regex.clone(), p.kind.clone()))
                    .collect(),
                allowlist: config.allowlist.clone(),
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
    #[cfg(test)]
    pub fn find<'a>(&'a self, text: &str, out: &mut Vec<Match<'a>>) {
        self.find_in_value(None, text, out)
    }

    /// Like [`find`](Self::find), for a JSON string value whose object key
    /// is `key`: a named-resource key (e.g. `FunctionName`, `Bucket`,
    /// `KeyId`) makes the whole value a match of that kind, as its text
    /// form `"FunctionName": "x"` would.
    pub fn find_in_value<'a>(&'a self, key: Option<&str>, text: &str, out: &mut Vec<Match<'a>>) {
        self.find_in_member(key, None, text, out);
    }

    /// [`find_in_value`](Self::find_in_value) for a member of a JSON
    /// object, also told the member just before it (`previous`: key and
    /// value), which can make the whole value a match of its kind
    /// (`{"name": "S3_BUCKET", "value": "…"}`).
    pub fn find_in_member<'a>(
        &'a self,
        key: Option<&str>,
        previous: Option<(&str, &str)>,
        text: &str,
        out: &mut Vec<Match<'a>>,
    ) {
        self.find_in_member_at(key, previous, text, 0, out);
    }

    /// [`find_in_member`](Self::find_in_member) for a text `depth` JSON
    /// documents deep inside the body's own.
    fn find_in_member_at<'a>(
        &'a self,
        key: Option<&str>,
        previous: Option<(&str, &str)>,
        text: &str,
        depth: u8,
        out: &mut Vec<Match<'a>>,
    ) {
        let inner = &*self.inner;
        if let Some(m) = self.whole_by_sibling(key, previous, text) {
            out.push(m);
            return;
        }
        if let Some(key) = key {
            if let Some(m) = named_resources::whole_value(key, text, &inner.on) {
                if !self.allowed(text) {
                    out.push(m);
                    return;
                }
            }
        }
        if let Some(m) = self.whole_by_member_shape(key, text) {
            out.push(m);
            return;
        }
        // What follows depends on the text alone: a long text read as
        // JSON is remembered whole (its scan as text, by `collect`).
        let digest = (depth == 0 && inner.custom.is_empty() && text.len() >= memo::MIN_LEN)
            .then(|| self.memo_digest(text.as_bytes()))
            .flatten();
        let base = out.len();
        if let Some(d) = digest {
            if self.recall_walked(d, out) {
                return;
            }
        }
        if depth < MAX_EMBEDDED_DEPTH && self.find_in_embedded_json(text, depth, out) {
            self.remember_walked(digest, out.get(base..).unwrap_or_default());
            return;
        }
        let walked = depth < MAX_EMBEDDED_DEPTH && self.find_in_json_blocks(text, depth, out);
        if !walked {
            self.collect_digested(text, digest, out);
        }
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
        if walked {
            self.remember_walked(digest, out.get(base..).unwrap_or_default());
        }
    }

    /// Appends the values of `output`, the text an `aws … --query …
    /// --output text` command (`command`, run elsewhere in the body: a
    /// `tool_use` block's) printed, with offsets in `output`. Nothing when
    /// `command` is no such command.
    pub fn find_in_query_output(&self, command: &str, output: &str, out: &mut Vec<Match<'static>>) {
        query_output::find_in_output(command.as_bytes(), output.as_bytes(), &self.inner.on, out);
    }

    /// The memo's digest of `b`, when the memo is on.
    fn memo_digest(&self, b: &[u8]) -> Option<u128> {
        match self.inner.memo.lock() {
            Ok(memo) if memo.is_on() => Some(memo.digest(b)),
            _ => None,
        }
    }

    /// Appends what was remembered of a text read as JSON whose digest is
    /// `digest`; `false` when nothing was. Its entry is the text's digest
    /// with [`WALKED_TAG`] mixed in, apart from the text's scan.
    fn recall_walked<'a>(&'a self, digest: u128, out: &mut Vec<Match<'a>>) -> bool {
        let Ok(mut memo) = self.inner.memo.lock() else {
            return false;
        };
        match memo.recall_quietly(digest ^ WALKED_TAG) {
            Some(found) => {
                out.extend_from_slice(found);
                true
            }
            None => false,
        }
    }

    /// Remembers `found` for a text read as JSON (see
    /// [`recall_walked`](Self::recall_walked)).
    fn remember_walked(&self, digest: Option<u128>, found: &[Match<'_>]) {
        let (Some(digest), Ok(mut memo)) = (digest, self.inner.memo.lock()) else {
            return;
        };
        // The lookup before the walk missed: counted now that the text
        // was read (a text read as text counts its own miss).
        memo.count_miss();
        let found = found
            .iter()
            .map(|m| Match {
                kind: intern_kind(m.kind),
                ..*m
            })
            .collect();
        memo.remember(digest ^ WALKED_TAG, found);
    }

    /// The whole of a member's `text` as one match where the text around
    /// a value would have said what it is, and a literal read alone lacks
    /// it: twelve digits under a key that says `account`
    /// (`"awsAccountNumber": "123456789012"`), a hosted zone's path under
    /// any key (`"Id": "/hostedzone/Z…"`).
    fn whole_by_member_shape(&self, key: Option<&str>, text: &str) -> Option<Match<'static>> {
        let on = &self.inner.on;
        let b = text.as_bytes();
        let m = if let Some(zone) = resource_ids::hosted_zone_in_value(b) {
            on.is_on(Family::NamedResources).then_some(zone)?
        } else {
            let account_key = key.is_some_and(|k| {
                k.len() <= 64
                    && k.as_bytes()
                        .windows(7)
                        .any(|w| w.eq_ignore_ascii_case(b"account"))
            });
            let account = Match {
                start: 0,
                end: b.len(),
                kind: "ACCOUNT",
                family: Family::AccountIds,
            };
            (account_key && on.is_on(Family::AccountIds) && account_ids::is_account(b))
                .then_some(account)?
        };
        (!self.allowed(text)).then_some(m)
    }

    /// When `text` is a JSON document (a tool's JSON output, quoted as
    /// the text of a tool result), appends what its literals hold, found
    /// as in a JSON body (each value by its key, its list's key, the member
    /// before it), with offsets in `text`; `false`, appending nothing, when
    /// it is not one.
    fn find_in_embedded_json<'a>(
        &'a self,
        text: &str,
        depth: u8,
        out: &mut Vec<Match<'a>>,
    ) -> bool {
        let b = text.as_bytes();
        let first = b.iter().position(|c| !c.is_ascii_whitespace());
        let last = b.iter().rposition(|c| !c.is_ascii_whitespace());
        let (Some(first), Some(last)) = (first, last) else {
            return false;
        };
        let (Some(&open), Some(&close)) = (b.get(first), b.get(last)) else {
            return false;
        };
        if !matches!((open, close), (b'{', b'}') | (b'[', b']')) || text.len() > WINDOW {
            return false;
        }
        self.find_in_json_doc(text, 0, depth, out)
    }

    /// Appends what [`find_in_embedded_json`](Self::find_in_embedded_json)
    /// finds in every JSON document of `text` that stands on lines of its
    /// own (a line that is just `{` or `[` to the next that is just `}` or
    /// `]`: a tool's pretty-printed output after the command that printed
    /// it, `$ aws dynamodb list-tables` then `{ "TableNames": [...] }`),
    /// and what [`collect`](Self::collect) finds in the text between them;
    /// `false`, appending nothing, when there is no such document.
    fn find_in_json_blocks<'a>(&'a self, text: &str, depth: u8, out: &mut Vec<Match<'a>>) -> bool {
        let b = text.as_bytes();
        // Most literals are short and hold no bracket: one byte search
        // says so before any line is looked at.
        if b.len() < 16 || b.len() > WINDOW || memchr::memchr2(b'{', b'[', b).is_none() {
            return false;
        }
        let line_is = |at: usize, c: u8| {
            b.get(at) == Some(&c)
                && b.get(at + 1..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|&&x| x != b'\n')
                    .all(u8::is_ascii_whitespace)
        };
        // Where a line starts with `{` or `[`, from the brackets (fewer
        // than line breaks in most text).
        let next_line = |from: usize| -> Option<usize> {
            let mut at = from;
            loop {
                let k = memchr::memchr2(b'{', b'[', b.get(at..)?)?;
                let p = at + k;
                if p == 0 || b.get(p - 1) == Some(&b'\n') {
                    return Some(p);
                }
                at = p + 1;
            }
        };
        let base = out.len();
        // The end of the last document walked: text from there on is
        // still to be scanned as text.
        let mut scanned = 0;
        let mut from = 0;
        while let Some(start) = next_line(from) {
            from = start + 1;
            let close = match b.get(start) {
                Some(b'{') => b'}',
                Some(b'[') => b']',
                _ => continue,
            };
            if !line_is(start, b.get(start).copied().unwrap_or_default()) {
                continue;
            }
            // The document ends at the first line that is just its
            // closing bracket.
            let (braces, brackets) = closing_finders();
            let closing = if close == b'}' { braces } else { brackets };
            let mut end = None;
            let mut at = start;
            while let Some(k) = b.get(at..).and_then(|rest| closing.find(rest)) {
                let line = at + k + 1;
                if line_is(line, close) {
                    end = Some(line + 1);
                    break;
                }
                at = line;
            }
            let Some(end) = end else {
                break;
            };
            let mut walked = Vec::new();
            let json = text
                .get(start..end)
                .is_some_and(|doc| self.find_in_json_doc(doc, start, depth, &mut walked));
            if json {
                self.collect_at(text, scanned, start, out);
                out.append(&mut walked);
                scanned = end;
            }
            from = end;
        }
        if scanned == 0 {
            out.truncate(base);
            return false;
        }
        self.collect_at(text, scanned, text.len(), out);
        true
    }

    /// [`collect`](Self::collect) on `text[from..to]` (whole lines), with
    /// offsets in `text`.
    fn collect_at<'a>(&'a self, text: &str, from: usize, to: usize, out: &mut Vec<Match<'a>>) {
        let Some(part) = text.get(from..to) else {
            return;
        };
        let base = out.len();
        self.collect(part, out);
        for m in out.iter_mut().skip(base) {
            m.start += from;
            m.end += from;
        }
    }

    /// Appends what the literals of `doc`, a JSON document standing at
    /// `offset` in the text, hold (see
    /// [`find_in_embedded_json`](Self::find_in_embedded_json)); `false`
    /// when `doc` is not JSON.
    fn find_in_json_doc<'a>(
        &'a self,
        doc: &str,
        offset: usize,
        depth: u8,
        out: &mut Vec<Match<'a>>,
    ) -> bool {
        let mut found: Vec<Match<'a>> = Vec::new();
        let mut literal = Vec::new();
        let opts = crate::json::WalkOptions {
            skip_thinking: false,
        };
        let splices = crate::json::literal_splices(doc.as_bytes(), opts, |ctx, s, splices| {
            literal.clear();
            let key = if ctx.is_key { None } else { ctx.key };
            self.find_in_member_at(key, ctx.previous, s, depth + 1, &mut literal);
            for m in &literal {
                let Ok(id) = u32::try_from(found.len()) else {
                    continue;
                };
                splices.push(crate::json::Splice {
                    start: m.start,
                    end: m.end,
                    id,
                });
                found.push(*m);
            }
        });
        let Ok(splices) = splices else {
            return false;
        };
        for sp in splices {
            if let Some(m) = usize::try_from(sp.id).ok().and_then(|i| found.get(i)) {
                out.push(Match {
                    start: offset + sp.start,
                    end: offset + sp.end,
                    ..*m
                });
            }
        }
        true
    }

    /// The matches of a long text that start inside `window` (one of
    /// [`windows`]), as [`find`](Self::find) would find them in the whole
    /// text, with offsets into it. Searching a long text a window at a
    /// time bounds what one search holds. With `raw`, `text` is a raw
    /// literal as for [`find_in_raw_member`](Self::find_in_raw_member), and
    /// `false` says it must be decoded first.
    pub fn find_in_window<'a>(
        &'a self,
        text: &str,
        window: std::ops::Range<usize>,
        raw: bool,
        out: &mut Vec<Match<'a>>,
    ) -> bool {
        if raw && !self.sees_raw_newlines() {
            return false;
        }
        let searched = window::searched(text, &window);
        let base = out.len();
        self.find_in_value(None, text.get(searched.clone()).unwrap_or_default(), out);
        let mut i = 0;
        out.retain_mut(|m| {
            let keep = i < base || {
                m.start += searched.start;
                m.end += searched.start;
                window.contains(&m.start)
            };
            i += 1;
            keep
        });
        !raw || raw_clean(text.as_bytes(), out.get(base..).unwrap_or_default())
    }

    /// [`find_in_member`](Self::find_in_member) on the raw content of a JSON
    /// string literal whose only escapes are `\n` (see
    /// [`StrCtx::raw_newlines`](crate::json::StrCtx::raw_newlines)), with
    /// raw offsets. The built-in detectors take the letter of a `\n` for
    /// no part of a word and a `\` for the end of a value, as they take a
    /// newline, so they find the values of the decoded text.
    ///
    /// Returns `false`, with `out` as it was, where that is not assured and
    /// the text must be decoded first: custom patterns (regexes written
    /// for decoded text), a value its key would make one whole match, a
    /// match that starts at the letter of an escape or holds a `\`.
    pub fn find_in_raw_member<'a>(
        &'a self,
        key: Option<&str>,
        previous: Option<(&str, &str)>,
        text: &str,
        out: &mut Vec<Match<'a>>,
    ) -> bool {
        if !self.sees_raw_newlines() || self.whole_by_sibling(key, previous, text).is_some() {
            return false;
        }
        if let Some(key) = key {
            if named_resources::whole_value(key, text, &self.inner.on).is_some() {
                return false;
            }
        }
        let base = out.len();
        self.find_in_value(None, text, out);
        let clean = raw_clean(text.as_bytes(), out.get(base..).unwrap_or_default());
        if !clean {
            out.truncate(base);
        }
        clean
    }

    /// Whether [`find_in_raw_member`](Self::find_in_raw_member) can serve at
    /// all: not with custom patterns.
    pub fn sees_raw_newlines(&self) -> bool {
        self.inner.custom.is_empty()
    }

    /// The whole of `text`, a member's value, as one match when the member
    /// before it names it, unless allow-listed.
    fn whole_by_sibling(
        &self,
        key: Option<&str>,
        previous: Option<(&str, &str)>,
        text: &str,
    ) -> Option<Match<'static>> {
        let (key, previous) = (key?, previous?);
        let on = &self.inner.on;
        let m = named_resources::whole_by_sibling(key, previous, text, on)
            .or_else(|| named_resources::whole_by_context_sibling(key, previous, text, on))?;
        (!self.allowed(text)).then_some(m)
    }

    /// Whether `value` is allow-listed.
    fn allowed(&self, value: &str) -> bool {
        self.inner.allowlist.iter().any(|a| a.allows(value))
    }

    /// Appends every candidate of every enabled family (unsorted, possibly
    /// overlapping).
    fn collect<'a>(&'a self, text: &str, out: &mut Vec<Match<'a>>) {
        self.collect_digested(text, None, out);
    }

    /// [`collect`](Self::collect), given the memo's digest of `text` when
    /// it was taken already.
    fn collect_digested<'a>(&'a self, text: &str, digest: Option<u128>, out: &mut Vec<Match<'a>>) {
        let inner = &*self.inner;
        let on = &inner.on;
        let b = text.as_bytes();
        if could_hold_builtin(b) {
            if b.len() < memo::MIN_LEN {
                Self::collect_builtin(on, b, out);
            } else {
                self.collect_builtin_memoized(b, digest, out);
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
    fn collect_builtin_memoized(&self, b: &[u8], known: Option<u128>, out: &mut Vec<Match<'_>>) {
        let inner = &*self.inner;
        let digest = match inner.memo.lock() {
            Ok(memo) if !memo.is_on() => None,
            Ok(mut memo) => {
                let digest = known.unwrap_or_else(|| memo.digest(b));
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
        Self::collect_builtin(&inner.on, b, &mut found);
        out.extend_from_slice(&found);
        if let (Some(digest), Ok(mut memo)) = (digest, inner.memo.lock()) {
            memo.remember(digest, found);
        }
    }

    /// Appends the candidates of the enabled built-in families, in the
    /// text as it stands and in its decoded views (percent-encoding, `\u`
    /// escapes).
    fn collect_builtin(on: &Detectors, b: &[u8], out: &mut Vec<Match<'_>>) {
        Self::collect_plain(on, b, out);
        // Its one pass over `%` and `\\` finds whether there is a view.
        escaped_views::find_decoded(b, out, |view, found| Self::collect_plain(on, view, found));
    }

    /// [`collect_builtin`](Self::collect_builtin) on the text as it
    /// stands.
    fn collect_plain(on: &Detectors, b: &[u8], out: &mut Vec<Match<'_>>) {
        let mut anchored = Anchored::default();
        anchored.scan(on, b);
        let Anchored {
            mut arns,
            mut dash,
            mut key_ids,
            mut dot,
            mut v6,
            mut s3_scheme,
            mut keyed,
            mut flags,
            ..
        } = anchored;
        if on.is_on(Family::AccountIds) {
            // With the dots' matches (the order below), after the ARNs,
            // which are context for the account ids inside them.
            account_ids::find_by_context(b, &arns, &mut dot);
        }
        // Families keep their order (it decides ties: see `resolve`).
        out.append(&mut arns);
        out.append(&mut dash);
        out.append(&mut key_ids);
        out.append(&mut dot);
        if on.is_on(Family::AccessKeys) || on.is_on(Family::SecretKeys) {
            let keys = access_keys::spans(b);
            if on.is_on(Family::AccessKeys) {
                access_keys::push(&keys, out);
            }
            if on.is_on(Family::NamedResources) {
                access_keys::push_session_names(b, &keys, out);
            }
            if on.is_on(Family::SecretKeys) {
                secret_keys::find_near(b, &keys, out);
            }
        }
        if on.is_on(Family::SessionTokens) {
            session_tokens::find(b, out);
        }
        named_resources::configure_set(b, on, out);
        if on.is_on(Family::NamedResources) {
            resource_ids::find_task_ids(b, out);
            resource_ids::find_log_groups(b, out);
            resource_ids::find_elb_ids(b, out);
            prose::find(b, out);
        }
        out.append(&mut v6);
        out.append(&mut s3_scheme);
        out.append(&mut keyed);
        out.append(&mut flags);
        tables::find(b, on, out);
        csv_rows::find(b, on, out);
        text_output::find(b, on, out);
    }
}

/// What the passes over a text's anchor bytes found, family by family, and
/// the scanners that keep state between anchors.
///
/// Every built-in family but a few (found by runs of digits or base64) is
/// anchored on a `-`, `.`, `:` or `=` inside or right after its values:
/// `i-…`, `mrk-…`, `key/…-`, `--flag`; `10.0.…`, `….amazonaws.com`;
/// `arn:`, `s3://`, IPv6, `key: value`, `key=value`. One memchr pass per
/// anchor byte serves every family, instead of a substring search per
/// family: in code and prose these bytes come every few dozen bytes, and
/// what costs is the work at each one.
#[derive(Default)]
struct Anchored<'a> {
    arns: Vec<Match<'a>>,
    /// EC2 ids, Organizations ids, KMS `mrk-` ids and EC2 private DNS
    /// names, at the dashes.
    dash: Vec<Match<'a>>,
    /// KMS key ids after `key/`.
    key_ids: Vec<Match<'a>>,
    /// IPv4 addresses, AWS host names, ECR and SQS account ids and
    /// path-style S3 buckets, at the dots.
    dot: Vec<Match<'a>>,
    v6: Vec<Match<'a>>,
    s3_scheme: Vec<Match<'a>>,
    /// The key-context scanner's matches (several families).
    keyed: Vec<Match<'a>>,
    /// `--flag value` matches.
    flags: Vec<Match<'a>>,
    v4_state: ip_addresses::V4,
    v6_state: ip_addresses::V6,
    flags_state: named_resources::Flags,
    context_memo: named_resources::ContextMemo,
}

impl Anchored<'_> {
    /// Runs every enabled anchored check at every anchor of `b`.
    fn scan(&mut self, on: &Detectors, b: &[u8]) {
        for p in memchr::memchr_iter(b'-', b) {
            self.at_dash(on, b, p);
        }
        if on.is_on(Family::IpAddresses)
            || on.is_on(Family::Hostnames)
            || on.is_on(Family::AccountIds)
            || on.is_on(Family::S3Buckets)
            || on.is_on(Family::NamedResources)
        {
            for p in memchr::memchr_iter(b'.', b) {
                self.at_dot(on, b, p);
            }
        }
        self.scan_separators(on, b);
    }

    /// Runs the separator checks at every `:` and `=` of `b`.
    fn scan_separators(&mut self, on: &Detectors, b: &[u8]) {
        let mut from = 0;
        while let Some(i) = memchr::memchr2(b':', b'=', b.get(from..).unwrap_or_default()) {
            let p = from + i;
            self.at_separator(on, b, p);
            // The second of `::`, `:=`, `==` or `=:` is passed over: every
            // check at a separator needs a byte other than `:` and `=`
            // before it (`arn:`, a hex digit, `s3:`, a key), so it would
            // find nothing there. Rust and C++ paths are full of `::`.
            from = p + 1 + usize::from(matches!(b.get(p + 1), Some(b':' | b'=')));
        }
    }

    // The dispatchers below look at the bytes around the anchor first and
    // call only the checks those bytes allow: nearly every anchor of code
    // and prose (`a.b`, `x - y`, `key: value`) then costs a few byte
    // comparisons, where each check would load, bound and compare on its
    // own. Each guard is a byte every match of that check has there.

    fn at_dash(&mut self, on: &Detectors, b: &[u8], p: usize) {
        let (prev, next) = neighbours(b, p);
        let out = &mut self.dash;
        // `i-0123…`: lower-case hex follows.
        if on.is_on(Family::Ec2Ids) && matches!(next, b'0'..=b'9' | b'a'..=b'f') {
            ec2_ids::at_dash(b, p, out);
        }
        // `o-…`, `ou-…`, `r-…`.
        if on.is_on(Family::Organizations) && matches!(prev, b'o' | b'u' | b'r') {
            organizations::at_dash(b, p, out);
        }
        if on.is_on(Family::KmsKeys) {
            // `mrk-…`.
            if prev == b'k' {
                kms_keys::mrk_at_dash(b, p, out);
            }
            // `key/1234abcd-…`: the `/` nine bytes back.
            if p.checked_sub(9).and_then(|i| b.get(i)) == Some(&b'/') {
                kms_keys::key_id_at_dash(b, p, &mut self.key_ids);
            }
        }
        // `us-east-1_AbC123xyZ`, `us-east-1:<uuid>`: Cognito pools.
        if on.is_on(Family::NamedResources)
            && next.is_ascii_digit()
            && matches!(b.get(p + 2), Some(b'_' | b':'))
        {
            cognito::at_dash(b, p, out);
        }
        // `iam/security-credentials/<role>`: the instance metadata path.
        if on.is_on(Family::NamedResources) && prev == b'y' && next == b'c' {
            resource_ids::imds_role_at_dash(b, p, out);
        }
        // `db-…`, `cluster-…`: RDS resource ids.
        if on.is_on(Family::NamedResources)
            && matches!(prev, b'b' | b'r')
            && (next.is_ascii_uppercase() || next.is_ascii_digit())
        {
            resource_ids::rds_at_dash(b, p, out);
        }
        if prev.is_ascii_digit() && next.is_ascii_digit() {
            // `1234-5678-9012`: an account id as the console shows it.
            if on.is_on(Family::AccountIds) {
                account_ids::dashed_at_dash(b, p, out);
            }
            // `2024-03-16 10:05:00 bucket`: an `aws s3 ls` line.
            if on.is_on(Family::S3Buckets) {
                s3_buckets::ls_line_at_dash(b, p, out);
            }
        }
        // `da2-…`: AppSync API keys.
        if on.is_on(Family::SecretKeys) && prev == b'2' {
            service_credentials::appsync_key_at_dash(b, p, out);
        }
        // `k8s-aws-v1.…`: EKS bearer tokens.
        if on.is_on(Family::SessionTokens) && prev == b's' && next == b'a' {
            service_credentials::eks_token_at_dash(b, p, out);
        }
        // `ip-10-…`.
        if on.is_on(Family::Hostnames) && prev == b'p' {
            hostnames::ip_name_at_dash(b, p, out);
        }
        // `--flag value`.
        if next == b'-' {
            self.flags_state.at_dash(b, p, on, &mut self.flags);
        }
    }

    fn at_dot(&mut self, on: &Detectors, b: &[u8], p: usize) {
        let (_, next) = neighbours(b, p);
        let out = &mut self.dot;
        // `10.0.…`: a digit follows.
        if on.is_on(Family::IpAddresses) && next.is_ascii_digit() {
            self.v4_state.at_dot(b, p, out);
        }
        let lower = next | 0x20;
        // `.amazonaws.com`, `.amplifyapp.com`, `.awsapps.com`, `.on.aws`,
        // `.cloudfront.net`, `.elasticbeanstalk.com`, `.sagemaker.aws`, …
        // (any case).
        if on.is_on(Family::Hostnames) && matches!(lower, b'a' | b'o' | b'c' | b'e' | b's') {
            hostnames::domain_at_dot(b, p, out);
        }
        // `aws.amazon.com/`: a console link.
        if next == b'a' {
            console_urls::at_dot(b, p, on, out);
        }
        // `.dkr.ecr.`, `.amazonaws.com/`.
        if on.is_on(Family::AccountIds) && matches!(next, b'd' | b'a') {
            account_ids::at_dot(b, p, on.is_on(Family::NamedResources), out);
        }
        // `.amazonaws.com/`.
        if on.is_on(Family::S3Buckets) && next == b'a' {
            s3_buckets::path_at_dot(b, p, out);
        }
        // `oidc.eks.<region>.amazonaws.com/id/…`.
        if on.is_on(Family::NamedResources) && next == b'a' {
            resource_ids::eks_oidc_at_dot(b, p, out);
        }
        // `.Table("…")`, `.bucket("…")`, `.upload_file(…)`, Pulumi's `.get(…)`: SDK calls.
        if matches!(
            next,
            b'T' | b't' | b'f' | b'B' | b'b' | b'O' | b'u' | b'd' | b'g' | b'p' | b'l'
        ) {
            sdk_calls::at_dot(b, p, |family| enabled(on, family), out);
        }
    }

    fn at_separator(&mut self, on: &Detectors, b: &[u8], p: usize) {
        let (prev, next) = neighbours(b, p);
        if b.get(p) == Some(&b':') {
            // `arn:`.
            if on.is_on(Family::Arns) && prev == b'n' {
                arns::at_colon(b, p, &mut self.arns);
            }
            // A masked IPv6 address starts with a hex group (`2…`, `3…`,
            // `fc…`, `fd…`), so the first colon of one has a hex digit
            // before it; later colons of the address are covered by it.
            if on.is_on(Family::IpAddresses) && prev.is_ascii_hexdigit() {
                self.v6_state.at_colon(b, p, &mut self.v6);
            }
            // `s3://`.
            if on.is_on(Family::S3Buckets) && next == b'/' {
                s3_buckets::scheme_at_colon(b, p, &mut self.s3_scheme);
            }
            // rclone's `:s3,…:bucket`.
            if on.is_on(Family::S3Buckets) && next == b's' {
                s3_buckets::rclone_remote_at_colon(b, p, &mut self.s3_scheme);
            }
            // A CDK environment, `aws://123456789012/us-east-1`.
            if on.is_on(Family::AccountIds) && prev == b's' && next == b'/' {
                account_ids::cdk_environment_at_colon(b, p, &mut self.dot);
            }
        }
        named_resources::at_separator(b, p, on, &mut self.context_memo, &mut self.keyed);
        // `"Id": "/hostedzone/Z…"`.
        if on.is_on(Family::NamedResources) && matches!(next, b' ' | b'"' | b'\'' | b'/' | b'\\') {
            resource_ids::hosted_zone_after(b, p, &mut self.keyed);
        }
    }
}

/// Whether the matches found in the raw literal `b` are those of its
/// decoded text: none starts at the letter of an escape or holds a `\\`.
fn raw_clean(b: &[u8], matches: &[Match<'_>]) -> bool {
    matches.iter().all(|m| {
        m.start
            .checked_sub(1)
            .is_none_or(|i| b.get(i) != Some(&b'\\'))
            && b.get(m.start..m.end)
                .is_some_and(|v| memchr::memchr(b'\\', v).is_none())
    })
}

/// The bytes before and after the anchor at `p` (0 at an edge of `b`).
fn neighbours(b: &[u8], p: usize) -> (u8, u8) {
    let prev = p.checked_sub(1).and_then(|i| b.get(i)).copied();
    (prev.unwrap_or(0), b.get(p + 1).copied().unwrap_or(0))
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
