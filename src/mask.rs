//! The masking engine: detectors + tokens + JSON walking, for one request
//! body at a time.
//!
//! Besides what the detectors find, a value that only context revealed
//! (a `FunctionName`, a secret key, an account id next to `OwnerId`) is
//! also masked wherever else it appears in the same body: a name caught
//! once must not leak from the next paragraph.

use crate::config::Config;
use crate::detect::{windows, Detector, Family, Match, WINDOW};
use crate::json::{walk_strings, JsonError, Splice, StrCtx, Visited, WalkOptions};
use crate::propagate::{Hit, KnownValues};
use crate::splice::Output;
use crate::token::{derive_key, token_len_at, Issuer, TokenKey, TokenMap};
use crate::tool_commands::ToolCommands;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// Why a body could not be masked (and so must not be forwarded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaskError {
    /// The body was declared JSON but is not valid JSON.
    InvalidJson(JsonError),
    /// The body is not valid UTF-8 text; `offset` is the first bad byte.
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The body holds more distinct values than `max_values_per_request`.
    TooManyValues {
        /// The configured limit.
        limit: usize,
    },
}

impl fmt::Display for MaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaskError::InvalidJson(e) => e.fmt(f),
            MaskError::InvalidUtf8 { offset } => {
                write!(f, "body is not valid UTF-8 (byte {offset})")
            }
            MaskError::TooManyValues { limit } => {
                write!(f, "body holds more than {limit} distinct values to mask")
            }
        }
    }
}

impl std::error::Error for MaskError {}

/// How many values one body had masked, by family and by kind. Never holds
/// an original value, so it is safe to log.
///
/// Counted in a short list, the last entry tried first: a body dense with
/// values records one per value, and a map keyed by kind name cost more
/// per value than issuing its token.
#[derive(Debug, Clone, Default)]
pub struct MaskReport {
    /// (family, kind, values masked), in first-seen order.
    counts: Vec<(Family, String, u64)>,
    /// The entry the last value went to.
    last: usize,
}

impl PartialEq for MaskReport {
    fn eq(&self, other: &MaskReport) -> bool {
        self.by_family() == other.by_family() && self.by_kind() == other.by_kind()
    }
}

impl Eq for MaskReport {}

impl MaskReport {
    /// Total number of values masked.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| c.2).sum()
    }

    /// Values masked per detector family.
    pub fn by_family(&self) -> BTreeMap<Family, u64> {
        let mut out = BTreeMap::new();
        for (family, _, n) in &self.counts {
            *out.entry(*family).or_default() += n;
        }
        out
    }

    /// Values masked per token kind (e.g. `EC2`, `ARN_IAM`).
    pub fn by_kind(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (_, kind, n) in &self.counts {
            *out.entry(kind.clone()).or_default() += n;
        }
        out
    }

    /// Adds the counts of `other`.
    fn merge(&mut self, other: MaskReport) {
        for (family, kind, n) in other.counts {
            self.add(family, &kind, n);
        }
    }

    fn record(&mut self, m: &Match<'_>) {
        self.add(m.family, m.kind, 1);
    }

    fn add(&mut self, family: Family, kind: &str, n: u64) {
        let is = |c: &(Family, String, u64)| c.0 == family && c.1 == kind;
        let at = match self.counts.get(self.last) {
            Some(c) if is(c) => Some(self.last),
            _ => self.counts.iter().position(is),
        };
        match at.and_then(|i| self.counts.get_mut(i).map(|c| (i, c))) {
            Some((i, c)) => {
                c.2 += n;
                self.last = i;
            }
            None => {
                self.last = self.counts.len();
                self.counts.push((family, kind.to_string(), n));
            }
        }
    }

    /// `kind=count` pairs, e.g. `EC2=3 IP=1`, for a log line.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .by_kind()
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        parts.join(" ")
    }
}

/// What kind of body a request carries, from its content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// JSON: masked inside string literals only.
    Json,
    /// Anything else: masked as UTF-8 text.
    Text,
    /// No content type: JSON if it parses as JSON, text otherwise.
    Unknown,
}

impl BodyKind {
    /// Classifies a request `content-type` header value.
    pub fn from_content_type(content_type: Option<&str>) -> BodyKind {
        let Some(ct) = content_type else {
            return BodyKind::Unknown;
        };
        let essence = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence.is_empty() {
            BodyKind::Unknown
        } else if essence == "application/json" || essence.ends_with("+json") {
            BodyKind::Json
        } else {
            BodyKind::Text
        }
    }
}

/// Whether a body starts (after white space) like a JSON object or array.
fn looks_like_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// Domain separation for the key of the detector's memo digests.
const MEMO_KEY_LABEL: &[u8] = b"aws-masker detection memo v1";

/// Values found by context only, to be masked wherever else they appear.
type Propagated<'k> = KnownValues<'k>;

/// The masking engine for one configuration and secret. Built once per
/// configuration (per worker); shared by all exchanges.
#[derive(Debug, Clone)]
pub struct Engine {
    config: Config,
    detector: Detector,
    key: TokenKey,
    /// Detect on raw JSON literals where that finds what decoding would.
    raw_literals: bool,
}

impl Engine {
    /// An engine for `config`, deriving tokens under `secret`.
    pub fn new(config: Config, secret: &[u8]) -> Engine {
        let detector = Detector::new(&config, derive_key(secret, MEMO_KEY_LABEL));
        Engine {
            config,
            detector,
            key: TokenKey::new(secret),
            raw_literals: true,
        }
    }

    /// Whether [`mask_json`](Self::mask_json) may detect on the raw content
    /// of a string literal whose only escapes are `\n` (on by default):
    /// same result, without copying the literal to decode it. Off, every
    /// literal is decoded first; the tests compare the two.
    pub fn with_raw_literals(mut self, on: bool) -> Engine {
        self.raw_literals = on;
        self
    }

    /// The configuration this engine was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How the detector's memo of long texts has served (see
    /// [`MemoStats`](crate::detect::MemoStats)).
    pub fn memo_stats(&self) -> crate::detect::MemoStats {
        self.detector.memo_stats()
    }

    /// A fresh token map for one exchange, under the gateway-wide key and
    /// without the `max_values_per_request` limit (tests, tools).
    pub fn new_token_map(&self) -> TokenMap {
        TokenMap::new(self.config.token_prefix.clone())
    }

    /// A fresh token map for one exchange of the client `identity` (what
    /// [`crate::exchange::scope_identity`] picked from the request), holding
    /// at most `max_values_per_request` values. `None`: the gateway-wide
    /// key (`token_scope: "gateway"`).
    pub fn token_map_for(&self, identity: Option<&[u8]>) -> TokenMap {
        let key = match identity {
            Some(id) => self.key.scoped(id),
            None => self.key.clone(),
        };
        TokenMap::scoped(
            self.config.token_prefix.clone(),
            key,
            self.config.max_values_per_request,
        )
    }

    /// Masks a request body of the given kind. `Ok(None)`: nothing to mask,
    /// forward the body as it is.
    pub fn mask_body(
        &self,
        body: &[u8],
        kind: BodyKind,
        tokens: &mut TokenMap,
        report: &mut MaskReport,
    ) -> Result<Option<Vec<u8>>, MaskError> {
        let mut issuer = Issuer::new(tokens, body);
        let masked = self.mask_body_output(body, kind, &mut issuer, report)?;
        Ok(masked.map(|o| o.to_vec(&issuer.map().token_texts())))
    }

    /// [`mask_body`](Self::mask_body), answering the masked body as an
    /// [`Output`] to write (its texts are `tokens.map().token_texts()`): a
    /// host can take it in pieces, so the VM never holds the whole masked
    /// body beside the original. An issuer whose source is `body` copies
    /// the originals only once it is dropped, after the output.
    pub fn mask_body_output<'b>(
        &self,
        body: &'b [u8],
        kind: BodyKind,
        tokens: &mut Issuer<'_, '_>,
        report: &mut MaskReport,
    ) -> Result<Option<Output<'b>>, MaskError> {
        let masked = match kind {
            BodyKind::Json => self.mask_json_output(body, tokens, report),
            // A text body that holds JSON is masked as JSON: its upstream
            // may decode it, and an escape such as `i\u002d0123…` hides an
            // id from a scan of the raw text.
            BodyKind::Text if !looks_like_json(body) => self.mask_text_bytes(body, tokens, report),
            BodyKind::Text | BodyKind::Unknown => {
                let mut json_report = MaskReport::default();
                match self.mask_json_output(body, tokens, &mut json_report) {
                    Err(MaskError::InvalidJson(_)) => self.mask_text_bytes(body, tokens, report),
                    other => {
                        report.merge(json_report);
                        other
                    }
                }
            }
        };
        match tokens.map().limit() {
            Some(limit) if tokens.map().is_full() => Err(MaskError::TooManyValues { limit }),
            _ => masked,
        }
    }

    fn mask_text_bytes<'b>(
        &self,
        body: &'b [u8],
        tokens: &mut Issuer<'_, '_>,
        report: &mut MaskReport,
    ) -> Result<Option<Output<'b>>, MaskError> {
        let text =
            crate::utf8::validate(body).map_err(|offset| MaskError::InvalidUtf8 { offset })?;
        Ok(self.mask_text_output(text, tokens, report))
    }

    /// Masks free text (a whole text body, or one decoded JSON string).
    pub fn mask_text<'t>(&self, text: &'t str, tokens: &mut TokenMap) -> Cow<'t, str> {
        self.mask_text_report(text, tokens, &mut MaskReport::default())
    }

    /// [`mask_text`](Self::mask_text), counting what was masked.
    pub fn mask_text_report<'t>(
        &self,
        text: &'t str,
        tokens: &mut TokenMap,
        report: &mut MaskReport,
    ) -> Cow<'t, str> {
        let mut issuer = Issuer::new(tokens, text.as_bytes());
        match self.mask_text_output(text, &mut issuer, report) {
            None => Cow::Borrowed(text),
            // Splices end on char boundaries and tokens are ASCII: the
            // output is UTF-8.
            Some(out) => Cow::Owned(
                String::from_utf8(out.to_vec(&issuer.map().token_texts()))
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    /// [`mask_text_report`](Self::mask_text_report), answering the masked
    /// text as an [`Output`] to write; `None` when nothing was masked.
    fn mask_text_output<'t>(
        &self,
        text: &'t str,
        tokens: &mut Issuer<'_, '_>,
        report: &mut MaskReport,
    ) -> Option<Output<'t>> {
        let mut propagated = Propagated::new();
        // In runs of fixed size, not one doubling vector: a text dense with
        // values has a splice every twenty bytes (see `crate::chunked`).
        let mut runs: Vec<Vec<Splice>> = Vec::new();
        self.mask_matches(
            Member::default(),
            text,
            false,
            tokens,
            report,
            &mut propagated,
            |start, end, id| {
                if runs.last().is_none_or(|r| r.len() == SPLICE_RUN) {
                    runs.push(Vec::with_capacity(SPLICE_RUN));
                }
                if let Some(run) = runs.last_mut() {
                    run.push(Splice { start, end, id });
                }
            },
        );
        if propagated.is_empty() {
            return Output::new(text.as_bytes(), runs, false, &tokens.map().token_texts());
        }
        // Bare repeats of context-found values, around what the first pass
        // found (which they are checked against as one list).
        let mut splices = runs.concat();
        drop(runs);
        let index = propagated.index();
        let mut more = Vec::new();
        self.propagate_matches(
            text,
            &index,
            &splices,
            tokens,
            report,
            splice_into(&mut more),
        );
        crate::splice::append_sorted(&mut splices, &mut more);
        Output::new(
            text.as_bytes(),
            vec![splices],
            false,
            &tokens.map().token_texts(),
        )
    }

    /// Masks a JSON document inside its string literals.
    pub fn mask_json(
        &self,
        body: &[u8],
        tokens: &mut TokenMap,
        report: &mut MaskReport,
    ) -> Result<Option<Vec<u8>>, MaskError> {
        let mut issuer = Issuer::new(tokens, body);
        let masked = self.mask_json_output(body, &mut issuer, report)?;
        Ok(masked.map(|o| o.to_vec(&issuer.map().token_texts())))
    }

    /// [`mask_json`](Self::mask_json), answering an [`Output`] to write.
    fn mask_json_output<'b>(
        &self,
        body: &'b [u8],
        tokens: &mut Issuer<'_, '_>,
        report: &mut MaskReport,
    ) -> Result<Option<Output<'b>>, MaskError> {
        let raw = self.raw_literals && self.detector.sees_raw_newlines();
        if raw {
            let mut raw_report = MaskReport::default();
            if let Some(out) = self.mask_json_walk(body, true, tokens, &mut raw_report)? {
                report.merge(raw_report);
                return Ok(out);
            }
        }
        self.mask_json_walk(body, false, tokens, report)
            .map(Option::flatten)
    }

    /// [`mask_json`](Self::mask_json), taking literals whose escapes are
    /// all `\n` raw when `raw_newlines` (see [`walk_strings`]). `Ok(None)`:
    /// a value found by context holds a `\` or a newline, which the raw
    /// literals could hide: mask again, decoding every literal.
    fn mask_json_walk<'b>(
        &self,
        body: &'b [u8],
        raw_newlines: bool,
        tokens: &mut Issuer<'_, '_>,
        report: &mut MaskReport,
    ) -> Result<Option<Option<Output<'b>>>, MaskError> {
        let opts = WalkOptions {
            skip_thinking: !self.config.restore_thinking,
        };
        let mut propagated = Propagated::new();
        let mut commands = ToolCommands::default();
        let mut walked = walk_strings(body, opts, raw_newlines, |ctx: StrCtx<'_>, s: &str, out| {
            let key = if ctx.is_key { None } else { ctx.key };
            // The output of a query a `tool_use` ran: its fields are
            // learned, and masked wherever they stand (here too) by the
            // second pass.
            if let Some(command) = commands.visit(key, s) {
                let mut found = Vec::new();
                self.detector.find_in_query_output(&command, s, &mut found);
                for m in &found {
                    if let Some(value) = s.get(m.start..m.end) {
                        record_propagated(m, value, &mut propagated);
                    }
                }
            }
            self.mask_matches(
                Member {
                    key,
                    previous: ctx.previous,
                },
                s,
                ctx.raw_newlines,
                tokens,
                report,
                &mut propagated,
                splice_into(out),
            )
        })
        .map_err(MaskError::InvalidJson)?;
        if walked.has_raw_literals() && propagated.any_byte(|b| b == b'\\' || b == b'\n') {
            return Ok(None);
        }
        if !propagated.is_empty() {
            // Second pass over the literals already decoded: bare repeats
            // of context-found values, around what the first pass replaced.
            let index = propagated.index();
            walked.splice_more(|s, done, more| {
                self.propagate_matches(s, &index, done, tokens, report, splice_into(more))
            });
        }
        Ok(Some(walked.into_output(&tokens.map().token_texts())))
    }

    /// Calls `emit(start, end, token)` for each value to mask in `text`, in
    /// order; records context-only values in `propagated`. With `raw`,
    /// `text` is a raw literal ([`StrCtx::raw_newlines`]), and nothing is
    /// emitted or recorded when it has to be decoded first.
    #[allow(clippy::too_many_arguments)]
    fn mask_matches<'e>(
        &'e self,
        member: Member<'_>,
        text: &str,
        raw: bool,
        tokens: &mut Issuer<'_, '_>,
        report: &mut MaskReport,
        propagated: &mut Propagated<'e>,
        mut emit: impl FnMut(usize, usize, u32),
    ) -> Visited {
        if tokens.map().is_full() {
            // The request is refused: finding more is wasted work.
            return Visited::Done;
        }
        let mut matches = Vec::new();
        let mut last = 0;
        if text.len() > WINDOW {
            // A long text, a window at a time: what the search holds stays
            // bounded however many values the text has.
            let mut counted = MaskReport::default();
            for window in windows(text) {
                matches.clear();
                if !self
                    .detector
                    .find_in_window(text, window, raw, &mut matches)
                {
                    // What earlier windows emitted is dropped with the raw
                    // literal (the walker decodes it and asks again); the
                    // tokens they issued are those the decoded text issues
                    // again.
                    return Visited::DecodeFirst;
                }
                let ctx = EmitCtx {
                    text,
                    tokens,
                    report: &mut counted,
                    propagated,
                };
                if !self.emit_matches(&matches, &mut last, ctx, &mut emit) {
                    break;
                }
            }
            report.merge(counted);
            return Visited::Done;
        }
        let Member { key, previous } = member;
        if raw {
            if !self
                .detector
                .find_in_raw_member(key, previous, text, &mut matches)
            {
                return Visited::DecodeFirst;
            }
        } else {
            self.detector
                .find_in_member(key, previous, text, &mut matches);
        }
        let ctx = EmitCtx {
            text,
            tokens,
            report,
            propagated,
        };
        self.emit_matches(&matches, &mut last, ctx, &mut emit);
        Visited::Done
    }

    /// Issues the tokens of `matches` (sorted) and emits them, skipping
    /// what overlaps an earlier match (ending at `last`) or a token.
    /// `false` once the map is full: the request is refused.
    fn emit_matches<'e>(
        &'e self,
        matches: &[Match<'e>],
        last: &mut usize,
        ctx: EmitCtx<'_, '_, 'e, '_, '_>,
        emit: &mut impl FnMut(usize, usize, u32),
    ) -> bool {
        let EmitCtx {
            text,
            tokens,
            report,
            propagated,
        } = ctx;
        let prefix = self.config.token_prefix.as_str();
        for m in matches {
            if tokens.map().is_full() {
                return false;
            }
            let Some(value) = text.get(m.start..m.end) else {
                continue;
            };
            if m.start < *last || overlaps_token(text, prefix, m.start, m.end) {
                continue;
            }
            record_propagated(m, value, propagated);
            emit(m.start, m.end, tokens.issue_index(&self.key, m.kind, value));
            report.record(m);
            *last = m.end;
        }
        !tokens.map().is_full()
    }

    /// Calls `emit(start, end, token)` for each bare occurrence of an
    /// already-found context-only value, in order.
    fn propagate_matches(
        &self,
        text: &str,
        index: &crate::propagate::ValueIndex<'_>,
        done: &[Splice],
        tokens: &mut Issuer<'_, '_>,
        report: &mut MaskReport,
        mut emit: impl FnMut(usize, usize, u32),
    ) {
        let mut hits: Vec<Hit<'_>> = Vec::new();
        index.find(text, &mut hits);
        if hits.is_empty() {
            return;
        }
        let prefix = self.config.token_prefix.as_str();
        let mut last = 0;
        for h in hits {
            if tokens.map().is_full() {
                break;
            }
            if h.start < last
                || overlaps_token(text, prefix, h.start, h.end)
                || overlaps_any(done, |d| (d.start, d.end), h.start, h.end)
            {
                continue;
            }
            let Some(value) = text.get(h.start..h.end) else {
                continue;
            };
            emit(h.start, h.end, tokens.issue_index(&self.key, h.kind, value));
            report.record(&Match {
                start: h.start,
                end: h.end,
                kind: h.kind,
                family: h.family,
            });
            last = h.end;
        }
    }
}

/// Where a text stands in a JSON document: the key it is the value of, and
/// the member just before it in its object (see [`StrCtx::previous`]).
#[derive(Debug, Clone, Copy, Default)]
struct Member<'k> {
    key: Option<&'k str>,
    previous: Option<(&'k str, &'k str)>,
}

/// What [`Engine::emit_matches`] works on: the text searched, the
/// exchange's tokens, its report and the values to propagate.
struct EmitCtx<'c, 't, 'e, 'm, 'b> {
    text: &'t str,
    tokens: &'c mut Issuer<'m, 'b>,
    report: &'c mut MaskReport,
    propagated: &'c mut Propagated<'e>,
}

/// Splices per run of a masked text's output.
const SPLICE_RUN: usize = 4096;

/// An `emit` callback that records each replacement as a [`Splice`].
fn splice_into(out: &mut Vec<Splice>) -> impl FnMut(usize, usize, u32) + '_ {
    |start, end, id| out.push(Splice { start, end, id })
}

/// Token kind of a resource name derived from an ARN or a hostname.
pub const DERIVED_NAME_KIND: &str = "NAME";

/// Records the values of `m` to mask wherever else they appear in the body:
/// values only context revealed (a `FunctionName`, a secret, an account id
/// next to `OwnerId`), and the customer's resource name inside an ARN
/// (`prod-db` in `arn:aws:rds:…:db:prod-db`) or a hostname (`prod-db` in
/// `prod-db.abc.us-east-1.rds.amazonaws.com`), which may also stand alone
/// under a key no detector knows (`"identifier": "prod-db"`).
fn record_propagated<'k>(m: &Match<'k>, value: &str, propagated: &mut Propagated<'k>) {
    // `derived`: a part of an ARN or a hostname, not a value a key named.
    let mut add = |v: &str, kind: &'k str, family: Family, derived: bool| {
        let named = !derived && matches!(family, Family::NamedResources | Family::S3Buckets);
        // A region is AWS's, not the customer's: one in an ARN's path
        // (`role/aws-reserved/sso.amazonaws.com/eu-west-1/…`) would mask
        // every region of the body.
        if crate::detect::is_region(v.as_bytes()) {
            return;
        }
        let spread = if derived {
            is_distinctive(v) && is_resource_name(v)
        } else {
            is_distinctive(v) || (named && is_plain_name(v))
        };
        if spread {
            propagated.insert(v, kind, family);
        }
    };
    match m.family {
        Family::NamedResources | Family::SecretKeys | Family::S3Buckets | Family::AccountIds => {
            add(value, m.kind, m.family, false)
        }
        Family::Arns => {
            // arn:partition:service:region:account:resource. The account
            // also stands alone elsewhere (`get-caller-identity --output
            // text`, `"FederatedUserId": "123456789012:Bob"`), and so does
            // an account that is the resource (Organizations'
            // `account/o-…/123456789012`).
            if let Some(account) = arn_account(value) {
                add(account, ACCOUNT_KIND, Family::AccountIds, false);
            }
            if let Some(name) = arn_resource_name(value) {
                if crate::detect::is_account(name.as_bytes()) {
                    add(name, ACCOUNT_KIND, Family::AccountIds, false);
                } else {
                    add(name, DERIVED_NAME_KIND, m.family, true);
                }
            }
            // The parts between the resource type and the name: an ECS
            // task's cluster, an Organizations handshake's or account's
            // organization (`account/o-a1b2c3d4e5/123456789012`).
            for part in arn_inner_parts(value) {
                add(part, DERIVED_NAME_KIND, m.family, true);
            }
            // An S3 ARN's bucket, the first part of its resource
            // (`arn:aws:s3:::my-bucket/logs/*`): it stands alone in the
            // `--bucket` and `s3://` forms of the same text.
            if let Some(bucket) = s3_arn_bucket(value) {
                add(bucket, S3_BUCKET_KIND, Family::S3Buckets, false);
            }
        }
        Family::Hostnames => {
            if let Some(label) = value.split('.').next() {
                if label.len() < value.len() {
                    add(label, DERIVED_NAME_KIND, m.family, true);
                }
            }
        }
        _ => {}
    }
}

/// Token kind of an account id learned from an ARN (the kind the account
/// detectors give it).
const ACCOUNT_KIND: &str = "ACCOUNT";

/// Token kind of a bucket learned from an S3 ARN (the bucket detectors').
const S3_BUCKET_KIND: &str = "S3_BUCKET";

/// The bucket of an S3 ARN (`arn:<partition>:s3:::<bucket>[/key]`), when
/// it is shaped as one (not a `*` or a `${…}` placeholder).
fn s3_arn_bucket(arn: &str) -> Option<&str> {
    let mut fields = arn.splitn(6, ':');
    let (service, region, account) = (fields.nth(2)?, fields.next()?, fields.next()?);
    let resource = fields.next()?;
    if service != "s3" || !region.is_empty() || !account.is_empty() {
        return None;
    }
    let bucket = resource.split('/').next()?;
    crate::detect::is_bucket(bucket.as_bytes()).then_some(bucket)
}

/// The account of an ARN (its fifth field), when it is one: not empty
/// (S3), not a placeholder (`${AWS::AccountId}`), not `aws` (managed
/// policies).
fn arn_account(arn: &str) -> Option<&str> {
    let mut colons = memchr::memchr_iter(b':', arn.as_bytes());
    let third = colons.nth(3)?;
    let fourth = colons.next()?;
    arn.get(third + 1..fourth)
        .filter(|a| crate::detect::is_account(a.as_bytes()))
}

/// Path words of IAM and friends that stand between a resource type and
/// its name and name nothing of the customer's.
const ARN_PATH_WORDS: &[&str] = &[
    "service-role",
    "aws-service-role",
    "job-function",
    "aws-reserved",
];

/// The `/`-separated parts of an ARN's resource between its first part
/// (the resource type) and its last (the name), minus IAM's path words.
fn arn_inner_parts(arn: &str) -> impl Iterator<Item = &str> {
    let resource = memchr::memchr_iter(b':', arn.as_bytes())
        .nth(4)
        .and_then(|fifth| arn.get(fifth + 1..))
        .unwrap_or_default();
    // Counted first: no allocation per ARN.
    let n = resource.split('/').count();
    resource
        .split('/')
        .take(n.saturating_sub(1))
        .skip(1)
        .filter(|p| !p.is_empty() && !ARN_PATH_WORDS.contains(p))
}

/// The last non-empty `/`- or `:`-separated part of an ARN's resource
/// (after its fifth `:`): `role/deploy-1` → `deploy-1`. Byte searches, not
/// `str::split` with a char set, which costs about ten times more per ARN
/// in the `.wasm`.
fn arn_resource_name(arn: &str) -> Option<&str> {
    let fifth = memchr::memchr_iter(b':', arn.as_bytes()).nth(4)?;
    let mut resource = arn.get(fifth + 1..)?;
    loop {
        let cut = resource.bytes().rposition(|b| b == b'/' || b == b':');
        let name = cut.map_or(resource, |c| resource.get(c + 1..).unwrap_or_default());
        // A qualifier after the name: a Lambda function's version or
        // alias `$LATEST` (`function:f:12`), a log group's `:*`.
        let colon = cut.is_some_and(|c| resource.as_bytes().get(c) == Some(&b':'));
        let qualifier = colon
            && (name == "*"
                || name == "$LATEST"
                || (!name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())));
        if !name.is_empty() && !qualifier {
            return Some(name);
        }
        // `/` and `:` are ASCII: `c` is a char boundary.
        resource = resource.get(..cut?)?;
    }
}

/// A value distinctive enough to mask wherever it appears: not a common
/// word like `default` or `prod` that merely happened to be a name.
fn is_distinctive(value: &str) -> bool {
    (value.len() >= 5 && value.bytes().any(|b| !b.is_ascii_alphabetic())) || is_camel_case(value)
}

/// Lower-case words that name resources as often as they are words of
/// code, config and prose (`default`, `prod`, `api`): learned under a key,
/// they are masked there, in ARNs and in every distinctive form, but not
/// wherever the word stands, where masking would hide every `default:` and
/// `api.get` of the code in a conversation. A name spelled otherwise
/// (`Test`, `Music`, `ubuntu`) is the customer's choice and spreads.
const GENERIC_NAMES: &[&str] = &[
    "admin",
    "alpha",
    "api",
    "app",
    "apps",
    "archive",
    "assets",
    "backend",
    "backup",
    "backups",
    "beta",
    "blue",
    "build",
    "cache",
    "canary",
    "ci",
    "client",
    "cluster",
    "common",
    "config",
    "core",
    "data",
    "database",
    "db",
    "debug",
    "default",
    "demo",
    "deploy",
    "dev",
    "develop",
    "development",
    "docs",
    "example",
    "examples",
    "files",
    "frontend",
    "global",
    "green",
    "images",
    "infra",
    "internal",
    "lambda",
    "latest",
    "live",
    "local",
    "logs",
    "main",
    "master",
    "media",
    "new",
    "old",
    "ops",
    "preprod",
    "primary",
    "private",
    "prod",
    "production",
    "public",
    "qa",
    "release",
    "replica",
    "root",
    "sample",
    "sandbox",
    "secondary",
    "server",
    "service",
    "services",
    "shared",
    "stable",
    "stage",
    "staging",
    "static",
    "temp",
    "test",
    "testing",
    "tests",
    "tmp",
    "uat",
    "uploads",
    "user",
    "users",
    "web",
    "worker",
    "www",
];

/// A name learned under a key that spreads though it is not distinctive
/// ([`is_distinctive`]): three characters or more, a resource name's
/// bytes, and not one of [`GENERIC_NAMES`].
fn is_plain_name(value: &str) -> bool {
    value.len() >= 3 && is_resource_name(value) && GENERIC_NAMES.binary_search(&value).is_err()
}

/// A CamelCase name of at least two words and eight letters
/// (`PaymentsWorkerPrd`, as CloudFormation and CDK name resources): as
/// distinctive as a name with a dash.
fn is_camel_case(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() >= 8
        && b.iter().all(u8::is_ascii_alphabetic)
        && b.windows(2)
            .any(|w| matches!(w, [l, u] if l.is_ascii_lowercase() && u.is_ascii_uppercase()))
}

/// A name as customers spell resource names (`prod-db-2`, `logs_bucket`):
/// not a version qualifier like `$LATEST`, a wildcard or a bare number.
fn is_resource_name(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && value.bytes().any(|b| b.is_ascii_alphabetic())
}

/// How far before a match token-shaped text is looked for: longer than
/// any token the engine issues (prefix up to 16, kind up to 27, `_`, hash
/// up to 32), so every token it issued is found.
const TOKEN_REACH: usize = 128;

/// Whether `start..end` of `text` overlaps token-shaped text starting at
/// most [`TOKEN_REACH`] bytes before it (tokens are never masked again).
/// Looked for around each match only: scanning whole texts for the prefix
/// (twice, for detection and propagation) cost 9% of masking a resent body.
fn overlaps_token(text: &str, prefix: &str, start: usize, end: usize) -> bool {
    if prefix.is_empty() {
        return false;
    }
    // A token overlapping the match starts before `end` (one right after
    // it, `123456789012<TAB>AWS_ARN_…`, does not overlap).
    let lo = start.saturating_sub(TOKEN_REACH);
    let hi = end.min(text.len());
    let Some(window) = text.as_bytes().get(lo..hi) else {
        return false;
    };
    let first = prefix.as_bytes().first().copied().unwrap_or_default();
    memchr::memchr_iter(first, window).any(|at| {
        let at = lo + at;
        // The prefix is ASCII, so `at` is a char boundary.
        text.get(at..)
            .and_then(|t| token_len_at(prefix, t))
            .is_some_and(|len| at + len > start)
    })
}

/// Whether `start..end` overlaps one of `items`, whose `range`s are sorted
/// and do not overlap (token spans, splices already made).
fn overlaps_any<T>(
    items: &[T],
    range: impl Fn(&T) -> (usize, usize),
    start: usize,
    end: usize,
) -> bool {
    let i = items.partition_point(|t| range(t).1 <= start);
    items.get(i).is_some_and(|t| range(t).0 < end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a token that covers part of a match stops it; one right
    /// before or after it does not.
    #[test]
    fn overlapping_tokens() {
        let t = "123456789012\tAWS_ARN_IAM_8e516479 AWS_EC2_3f9a1c2e";
        let tok = t.find("AWS_EC2").unwrap();
        let cases = [
            (0, 12, false),
            (13, 20, true),
            (tok + 4, tok + 7, true),
            (tok + 16, t.len(), false),
        ];
        for (s, e, want) in cases {
            assert_eq!(overlaps_token(t, "AWS_", s, e), want, "{s}..{e}");
        }
    }

    #[test]
    fn arn_inner_parts_skip_type_name_and_path_words() {
        let cases: &[(&str, &[&str])] = &[
            (
                "arn:aws:organizations::111111111111:handshake/o-exampleorgid/invite/h-x",
                &["o-exampleorgid", "invite"],
            ),
            (
                "arn:aws:ecs:us-east-1:1:task/prod-cluster/abc",
                &["prod-cluster"],
            ),
            ("arn:aws:iam::1:role/service-role/MyRole", &[]),
            ("arn:aws:iam::1:role/x", &[]),
            ("arn:aws:s3:::bucket", &[]),
        ];
        for (arn, want) in cases {
            assert_eq!(arn_inner_parts(arn).collect::<Vec<_>>(), *want, "{arn}");
        }
    }

    #[test]
    fn arn_accounts() {
        let cases = [
            ("arn:aws:iam::123456789012:role/x", Some("123456789012")),
            ("arn:aws:sqs:us-east-1:123456789012:q", Some("123456789012")),
            ("arn:aws:s3:::bucket", None),
            ("arn:aws:iam::aws:policy/ReadOnlyAccess", None),
            ("arn:aws:iam::${AWS::AccountId}:role/x", None),
            ("arn:aws:iam::12345678901:role/x", None),
            ("arn:aws:iam::123456789012", None),
        ];
        for (arn, want) in cases {
            assert_eq!(arn_account(arn), want, "{arn}");
        }
    }

    #[test]
    fn s3_arn_buckets() {
        let cases = [
            (
                "arn:aws:s3:::acme-prod-logs/AWSLogs/*",
                Some("acme-prod-logs"),
            ),
            ("arn:aws:s3:::acme-prod-logs", Some("acme-prod-logs")),
            ("arn:aws-cn:s3:::acme.cn.logs/x", Some("acme.cn.logs")),
            ("arn:aws:s3:::*", None),
            ("arn:aws:s3:::${BucketName}/*", None),
            ("arn:aws:s3:us-east-1:123456789012:accesspoint/ap", None),
            ("arn:aws:iam::123456789012:role/acme-prod-logs", None),
        ];
        for (arn, want) in cases {
            assert_eq!(s3_arn_bucket(arn), want, "{arn}");
        }
    }

    #[test]
    fn arn_resource_names() {
        let cases = [
            ("arn:aws:iam::123456789012:role/deploy-1", Some("deploy-1")),
            (
                "arn:aws:iam::123456789012:role/path/to/app-role",
                Some("app-role"),
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:my-fn",
                Some("my-fn"),
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:my-fn:",
                Some("my-fn"),
            ),
            ("arn:aws:s3:::bucket-1//", Some("bucket-1")),
            ("arn:aws:sns:us-east-1:123456789012:topic", Some("topic")),
            ("arn:aws:s3:::", None),
            ("arn:aws:s3:::/:/", None),
            ("arn:aws:iam::12", None),
        ];
        let qualified = [
            (
                "arn:aws:lambda:eu-central-1:722026593455:function:imports-dev-csvIngest:12",
                Some("imports-dev-csvIngest"),
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST",
                Some("my-fn"),
            ),
            (
                "arn:aws:logs:us-east-1:362293031823:log-group:/custom/quarry-etl:*",
                Some("quarry-etl"),
            ),
            ("arn:aws:sns:us-east-1:123456789012:topic:7", Some("topic")),
        ];
        for (arn, want) in qualified {
            assert_eq!(arn_resource_name(arn), want, "{arn}");
        }
        for (arn, want) in cases {
            assert_eq!(arn_resource_name(arn), want, "{arn}");
            // The rule it replaces, spelled with str::split.
            let old = arn
                .splitn(6, ':')
                .nth(5)
                .and_then(|r| r.rsplit(['/', ':']).find(|s| !s.is_empty()));
            assert_eq!(arn_resource_name(arn), old, "{arn}");
        }
    }

    #[test]
    fn body_kinds() {
        let cases = [
            (Some("application/json"), BodyKind::Json),
            (Some("application/json; charset=utf-8"), BodyKind::Json),
            (Some("Application/JSON"), BodyKind::Json),
            (Some("application/vnd.api+json"), BodyKind::Json),
            (Some("text/plain"), BodyKind::Text),
            (Some("application/x-www-form-urlencoded"), BodyKind::Text),
            (Some(""), BodyKind::Unknown),
            (None, BodyKind::Unknown),
        ];
        for (ct, want) in cases {
            assert_eq!(BodyKind::from_content_type(ct), want, "{ct:?}");
        }
    }

    /// A Claude-Code-like request whose tool result is long enough to be
    /// remembered, holding values of context-only and shape families.
    fn resent_conversation() -> Vec<u8> {
        let output = "Reservations:\n  InstanceId: i-0123456789abcdef0\n  OwnerId: 123456789012\n  Arn: arn:aws:rds:us-east-1:123456789012:db:prod-payments-db\n  DBInstanceIdentifier: prod-payments-db\n".repeat(4);
        serde_json::to_vec(&serde_json::json!({
            "model": "claude-sonnet-4-5",
            "messages": [
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": output}]},
                {"role": "user", "content": format!("{} and prod-payments-db again", "why? ".repeat(60))}
            ]
        }))
        .unwrap()
    }

    /// A tool result that holds a JSON document (after the command that
    /// printed it) is read as JSON, and resent it is served by the memo,
    /// to the same bytes and tokens as a scan and as an engine without a
    /// memo.
    #[test]
    fn remembered_json_texts_mask_exactly_as_walked_ones() {
        let output = format!(
            "$ aws dynamodb list-tables\n{{\n    \"TableNames\": [\n{}        \"contoso-carts\"\n    ]\n}}\n",
            "        \"orders-v2-table\",\n".repeat(12)
        );
        let body = serde_json::to_vec(&serde_json::json!({
            "messages": [{"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": output}
            ]}]
        }))
        .unwrap();
        let mask = |engine: &Engine| {
            let mut tokens = engine.new_token_map();
            let out = engine
                .mask_json(&body, &mut tokens, &mut MaskReport::default())
                .unwrap()
                .unwrap();
            String::from_utf8(out).unwrap()
        };
        let engine = Engine::new(Config::default(), b"memo test secret, 16+ bytes");
        let first = mask(&engine);
        assert!(
            !first.contains("contoso-carts") && !first.contains("orders-v2-table"),
            "{first}"
        );
        let hits = engine.memo_stats().hits;
        assert_eq!(mask(&engine), first);
        assert!(engine.memo_stats().hits > hits, "{:?}", engine.memo_stats());
        let off = Config::from_json(br#"{"memo_texts": 0}"#).unwrap();
        assert_eq!(
            mask(&Engine::new(off, b"memo test secret, 16+ bytes")),
            first
        );
    }

    #[test]
    fn remembered_texts_mask_exactly_as_scanned_ones() {
        let body = resent_conversation();
        let engine = Engine::new(Config::default(), b"memo test secret, 16+ bytes");
        let mask = |engine: &Engine| {
            let mut tokens = engine.new_token_map();
            let mut report = MaskReport::default();
            let out = engine
                .mask_json(&body, &mut tokens, &mut report)
                .unwrap()
                .unwrap();
            let mut pairs: Vec<(String, String)> = tokens
                .iter()
                .map(|(t, o)| (t.to_string(), o.to_string()))
                .collect();
            pairs.sort();
            (out, pairs, report.summary())
        };
        let first = mask(&engine);
        let after_first = engine.memo_stats();
        assert_eq!(
            (after_first.hits, after_first.misses),
            (0, 2),
            "{after_first:?}"
        );
        let second = mask(&engine);
        let after_second = engine.memo_stats();
        assert_eq!(
            (after_second.hits, after_second.misses),
            (2, 2),
            "{after_second:?}"
        );
        assert_eq!(second, first);
        // And both equal what an engine with an empty memo produces.
        let fresh = Engine::new(Config::default(), b"memo test secret, 16+ bytes");
        assert_eq!(mask(&fresh), first);
        // With the memo off every text is scanned, to the same result.
        let off = Config::from_json(br#"{"memo_texts": 0}"#).unwrap();
        let off = Engine::new(off, b"memo test secret, 16+ bytes");
        assert_eq!(mask(&off), first);
        assert_eq!(mask(&off), first);
        assert_eq!(off.memo_stats(), crate::detect::MemoStats::default());
        let masked = String::from_utf8(first.0).unwrap();
        for original in ["i-0123456789abcdef0", "123456789012", "prod-payments-db"] {
            assert!(!masked.contains(original), "{original} leaked: {masked}");
        }
    }

    /// In a JSON body, a member's value is masked by what the member
    /// before it names: an environment variable's `name`, a tag's `Key`, an
    /// SSM parameter's `Type`, Beanstalk's `ApplicationName` before its
    /// `EnvironmentName`.
    #[test]
    fn a_member_is_masked_by_the_member_before_it() {
        let engine = Engine::new(Config::default(), b"a-test-secret-of-some-length");
        let key = "Wk3v9QpL2mN8xR4tY7uW1sE6aB0cD5fG9hJ2kL4u";
        let body = format!(
            r#"{{"environment": [{{"name": "AWS_SECRET_ACCESS_KEY", "value": "{key}"}},
                {{"name": "LOG_LEVEL", "value": "debug-verbose-1"}}],
              "Tags": [{{"Key": "Name", "Value": "web-1"}}],
              "Parameter": {{"Name": "/p", "Type": "SecureString", "Value": "tok_9f8e7d6c5b4a"}},
              "Other": {{"Type": "String", "Value": "plain-value-2"}},
              "Beanstalk": {{"ApplicationName": "web-app-3", "EnvironmentName": "blue-env-3"}},
              "Azure": {{"environmentName": "AzureCloud", "tenantId": "t"}}}}"#
        );
        let mut tokens = engine.new_token_map();
        let masked = engine
            .mask_json(body.as_bytes(), &mut tokens, &mut MaskReport::default())
            .unwrap()
            .unwrap();
        let masked = String::from_utf8(masked).unwrap();
        for gone in [key, "web-1", "tok_9f8e7d6c5b4a", "blue-env-3"] {
            assert!(!masked.contains(gone), "{gone} in {masked}");
        }
        for kept in [
            "debug-verbose-1",
            "plain-value-2",
            "AWS_SECRET_ACCESS_KEY",
            "AzureCloud",
        ] {
            assert!(masked.contains(kept), "{kept} masked: {masked}");
        }
    }

    /// Token-shaped text in a request (a token the model echoed, a pasted
    /// one) is never masked again, by a key's context, a custom pattern
    /// matching inside it, or propagation; what sits next to it still is.
    #[test]
    fn tokens_in_requests_are_not_masked_again() {
        let config = Config::from_json(
            br#"{"custom_patterns": [{"name": "hex", "regex": "_[0-9a-f]{8}", "kind": "HEX"}]}"#,
        )
        .unwrap();
        let engine = Engine::new(config, b"token test secret, 16+ bytes");
        let tokens_seen = [
            "AWS_NAME_0badc0de",
            "AWS_EC2_0badc0de0badc0de",
            "AWS_S3_BUCKET_12345678",
        ];
        let body = serde_json::to_vec(&serde_json::json!({
            "FunctionName": tokens_seen[0],
            "note": format!("{} next to i-0123456789abcdef0 and _deadbeef", tokens_seen[1]),
            "Bucket": format!("{}", tokens_seen[2]),
            "text": format!("{}{}", "x".repeat(300), tokens_seen[1]),
        }))
        .unwrap();
        let mut tokens = engine.new_token_map();
        let out = engine
            .mask_json(&body, &mut tokens, &mut MaskReport::default())
            .unwrap()
            .unwrap();
        let out = String::from_utf8(out).unwrap();
        for t in tokens_seen {
            assert!(out.contains(t), "{t} was masked again: {out}");
        }
        assert!(!out.contains("i-0123456789abcdef0"), "{out}");
        assert!(!out.contains("_deadbeef"), "{out}");
        for (token, _) in tokens.iter() {
            assert!(
                !tokens_seen.contains(&token.as_str()),
                "{token} issued anew"
            );
        }
    }

    #[test]
    fn plain_names() {
        assert!(
            GENERIC_NAMES.windows(2).all(|w| w[0] < w[1]),
            "sorted, once each"
        );
        assert!(GENERIC_NAMES
            .iter()
            .all(|w| !w.bytes().any(|b| b.is_ascii_uppercase())));
        for v in [
            "Bob",
            "Music",
            "ubuntu",
            "GPGPU",
            "examplebucket",
            "Test",
            "Default",
        ] {
            assert!(is_plain_name(v), "{v}");
        }
        for v in [
            "ab", "default", "prod", "api", "test", "a b", "$LATEST", "2024",
        ] {
            assert!(!is_plain_name(v), "{v}");
        }
    }

    /// A name a key gave spreads to its bare repeats, even a plain word
    /// (`Music`), unless it is a lower-case generic word (`default`);
    /// a plain word that is only the last part of an ARN does not spread.
    #[test]
    fn names_learned_under_keys_spread_unless_generic() {
        let engine = Engine::new(Config::default(), b"a-test-secret-of-some-length");
        let text = "describe the Music table: {\"TableName\": \"Music\"}\n\
            the group default: {\"GroupName\": \"default\"}\n\
            arn:aws:iam::123456789012:role/Deployer and Deployer again\n";
        let masked = engine.mask_text(text, &mut engine.new_token_map());
        assert!(!masked.contains("Music"), "{masked}");
        assert!(masked.contains("the group default:"), "{masked}");
        assert!(!masked.contains(r#""default""#), "{masked}");
        assert!(masked.contains("Deployer again"), "{masked}");
    }

    #[test]
    fn distinctive_values() {
        for v in [
            "prod-db",
            "payments2",
            "my_table",
            "123456789012",
            "PaymentsWorkerPrd",
            "webHooks",
        ] {
            assert!(is_distinctive(v), "{v}");
        }
        for v in [
            "prod",
            "default",
            "payments",
            "Payments",
            "PAYMENTS",
            "PayRun",
            "Paymentsworker",
        ] {
            assert!(!is_distinctive(v), "{v}");
        }
        for v in ["prod-db", "logs_bucket2", "ec2-54-1-2-3"] {
            assert!(is_resource_name(v), "{v}");
        }
        for v in ["$LATEST", "20261121", "*", "a/b"] {
            assert!(!is_resource_name(v), "{v}");
        }
    }
}
