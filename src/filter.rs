//! proxy-wasm glue (wasm32 only): the root context (configuration, secret,
//! metrics) and one HTTP context per exchange. Every decision that can be
//! made without a host lives in [`crate::exchange`] and the engine; this
//! file only moves bytes between the host and them.
//!
//! Host calls go through the thin wrappers in [`host`], which treat every
//! unexpected status as "not available" instead of panicking as the SDK's
//! own wrappers do: a panic traps the VM and fails every later request.
//! `get_log_level`, `done` and `resume_http_response` are never called
//! (they trap on Kong).

use crate::config::{Config, SecretSharing, DETECTOR_FAMILIES};
use crate::detect::MemoStats;
use crate::exchange::{
    body_announced_at_end_of_stream, classify_response, is_identity_encoding, restore_fits,
    scope_identity, Refusal, RefusalReason, ResponseKind, METRIC_PREFIX,
};
use crate::mask::{BodyKind, Engine, MaskReport};
use crate::restore::{restore_json, Escape};
use crate::splice::Output;
use crate::stream::{ChunkRestorer, SseRestorer, TextStreamRestorer};
use crate::token::TokenMap;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use std::rc::Rc;

/// Shared-data key of the generated secret, common to all workers.
const SECRET_KEY: &str = "aws_masker.secret";
/// Bytes of a generated secret.
const GENERATED_SECRET_BYTES: usize = 32;

proxy_wasm::main! {{
    // Installs the SDK's panic hook, so a panic (a bug) is at least logged.
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

/// Raw proxy-wasm ABI 0.2.1 host calls, never panicking.
mod host {
    use std::ptr::{null, null_mut};

    const OK: u32 = 0;

    pub const BUFFER_REQUEST_BODY: u32 = 0;
    pub const BUFFER_RESPONSE_BODY: u32 = 1;
    pub const BUFFER_PLUGIN_CONFIGURATION: u32 = 7;

    pub const MAP_REQUEST_HEADERS: u32 = 0;
    pub const MAP_RESPONSE_HEADERS: u32 = 2;

    const METRIC_COUNTER: u32 = 0;

    pub const LOG_INFO: u32 = 2;
    pub const LOG_WARN: u32 = 3;
    pub const LOG_ERROR: u32 = 4;

    #[allow(clashing_extern_declarations)]
    #[link(wasm_import_module = "env")]
    extern "C" {
        fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
        fn proxy_get_buffer_bytes(
            buffer_type: u32,
            start: usize,
            max_size: usize,
            return_buffer_data: *mut *mut u8,
            return_buffer_size: *mut usize,
        ) -> u32;
        fn proxy_set_buffer_bytes(
            buffer_type: u32,
            start: usize,
            size: usize,
            buffer_data: *const u8,
            buffer_size: usize,
        ) -> u32;
        fn proxy_get_header_map_value(
            map_type: u32,
            key_data: *const u8,
            key_size: usize,
            return_value_data: *mut *mut u8,
            return_value_size: *mut usize,
        ) -> u32;
        fn proxy_replace_header_map_value(
            map_type: u32,
            key_data: *const u8,
            key_size: usize,
            value_data: *const u8,
            value_size: usize,
        ) -> u32;
        fn proxy_remove_header_map_value(
            map_type: u32,
            key_data: *const u8,
            key_size: usize,
        ) -> u32;
        fn proxy_get_shared_data(
            key_data: *const u8,
            key_size: usize,
            return_value_data: *mut *mut u8,
            return_value_size: *mut usize,
            return_cas: *mut u32,
        ) -> u32;
        fn proxy_set_shared_data(
            key_data: *const u8,
            key_size: usize,
            value_data: *const u8,
            value_size: usize,
            cas: u32,
        ) -> u32;
        fn proxy_send_local_response(
            status_code: u32,
            status_code_details_data: *const u8,
            status_code_details_size: usize,
            body_data: *const u8,
            body_size: usize,
            headers_data: *const u8,
            headers_size: usize,
            grpc_status: i32,
        ) -> u32;
        fn proxy_define_metric(
            metric_type: u32,
            name_data: *const u8,
            name_size: usize,
            return_id: *mut u32,
        ) -> u32;
        fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
        fn proxy_get_property(
            path_data: *const u8,
            path_size: usize,
            return_value_data: *mut *mut u8,
            return_value_size: *mut usize,
        ) -> u32;
    }

    /// Takes ownership of memory the host allocated through
    /// `proxy_on_memory_allocate` (a boxed slice of exactly `len` bytes).
    fn owned(data: *mut u8, len: usize) -> Vec<u8> {
        if data.is_null() {
            return Vec::new();
        }
        // SAFETY: the host filled `len` bytes it allocated with the SDK's
        // `proxy_on_memory_allocate`, whose allocation has capacity `len`.
        unsafe { Vec::from_raw_parts(data, len, len) }
    }

    pub fn log(level: u32, message: &str) {
        // SAFETY: pointer and length of a live &str.
        let _ = unsafe { proxy_log(level, message.as_ptr(), message.len()) };
    }

    /// `None`: the host has no such buffer or could not deliver it.
    pub fn get_buffer(buffer_type: u32, start: usize, max_size: usize) -> Option<Vec<u8>> {
        let mut data: *mut u8 = null_mut();
        let mut len: usize = 0;
        // SAFETY: out-pointers to live locals.
        let status =
            unsafe { proxy_get_buffer_bytes(buffer_type, start, max_size, &mut data, &mut len) };
        let bytes = owned(data, len);
        (status == OK && !data.is_null()).then_some(bytes)
    }

    pub fn set_buffer(buffer_type: u32, start: usize, size: usize, value: &[u8]) -> bool {
        // SAFETY: pointer and length of a live slice.
        let status = unsafe {
            proxy_set_buffer_bytes(buffer_type, start, size, value.as_ptr(), value.len())
        };
        status == OK
    }

    /// A header value (lossy UTF-8), `None` when absent.
    pub fn get_header(map_type: u32, name: &str) -> Option<String> {
        let mut data: *mut u8 = null_mut();
        let mut len: usize = 0;
        // SAFETY: key is a live &str; out-pointers to live locals.
        let status = unsafe {
            proxy_get_header_map_value(map_type, name.as_ptr(), name.len(), &mut data, &mut len)
        };
        let bytes = owned(data, len);
        (status == OK).then(|| String::from_utf8_lossy(&bytes).into_owned())
    }

    pub fn set_header(map_type: u32, name: &str, value: &str) {
        // SAFETY: live &strs.
        let _ = unsafe {
            proxy_replace_header_map_value(
                map_type,
                name.as_ptr(),
                name.len(),
                value.as_ptr(),
                value.len(),
            )
        };
    }

    pub fn remove_header(map_type: u32, name: &str) {
        // SAFETY: live &str.
        let _ = unsafe { proxy_remove_header_map_value(map_type, name.as_ptr(), name.len()) };
    }

    /// The value and CAS of a shared-data key; `(None, 0)` when absent or
    /// when the host has no shared data.
    pub fn get_shared_data(key: &str) -> (Option<Vec<u8>>, u32) {
        let mut data: *mut u8 = null_mut();
        let mut len: usize = 0;
        let mut cas: u32 = 0;
        // SAFETY: key is a live &str; out-pointers to live locals.
        let status = unsafe {
            proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut len, &mut cas)
        };
        let bytes = owned(data, len);
        if status == OK && !data.is_null() {
            (Some(bytes), cas)
        } else {
            (None, if status == OK { cas } else { 0 })
        }
    }

    pub fn set_shared_data(key: &str, value: &[u8], cas: u32) -> bool {
        // SAFETY: live slices.
        let status = unsafe {
            proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas)
        };
        status == OK
    }

    /// Sends a local reply; the exchange goes no further upstream.
    pub fn send_response(status: u32, headers: &[(&str, &str)], body: &[u8]) -> bool {
        let mut map = Vec::new();
        map.extend_from_slice(&(headers.len() as u32).to_le_bytes());
        for (k, v) in headers {
            map.extend_from_slice(&(k.len() as u32).to_le_bytes());
            map.extend_from_slice(&(v.len() as u32).to_le_bytes());
        }
        for (k, v) in headers {
            map.extend_from_slice(k.as_bytes());
            map.push(0);
            map.extend_from_slice(v.as_bytes());
            map.push(0);
        }
        // SAFETY: pointers and lengths of live buffers.
        let status = unsafe {
            proxy_send_local_response(
                status,
                null(),
                0,
                body.as_ptr(),
                body.len(),
                map.as_ptr(),
                map.len(),
                -1,
            )
        };
        status == OK
    }

    /// A host property by its path (elements joined by NUL); `None` when
    /// the host does not know it.
    pub fn get_property(path: &str) -> Option<Vec<u8>> {
        let mut data: *mut u8 = null_mut();
        let mut len: usize = 0;
        // SAFETY: path is a live &str; out-pointers to live locals.
        let status = unsafe { proxy_get_property(path.as_ptr(), path.len(), &mut data, &mut len) };
        let bytes = owned(data, len);
        (status == OK && !data.is_null()).then_some(bytes)
    }

    pub fn define_counter(name: &str) -> Option<u32> {
        let mut id: u32 = 0;
        // SAFETY: live &str; out-pointer to a live local.
        let status =
            unsafe { proxy_define_metric(METRIC_COUNTER, name.as_ptr(), name.len(), &mut id) };
        (status == OK).then_some(id)
    }

    pub fn increment(id: u32, by: u64) {
        let by = i64::try_from(by).unwrap_or(i64::MAX);
        // SAFETY: plain values.
        let _ = unsafe { proxy_increment_metric(id, by) };
    }

    /// Fills `buf` with random bytes (WASI `random_get`).
    pub fn random(buf: &mut [u8]) -> bool {
        getrandom::getrandom(buf).is_ok()
    }
}

fn log_info(msg: &str) {
    host::log(host::LOG_INFO, msg);
}

fn log_warn(msg: &str) {
    host::log(host::LOG_WARN, msg);
}

fn log_error(msg: &str) {
    host::log(host::LOG_ERROR, msg);
}

/// The size of the pieces a masked request body is handed to the host in.
const BODY_PIECE_BYTES: usize = 64 * 1024;

/// Replaces the request body the host holds (`body_size` bytes) with
/// `masked`, a piece at a time: the first piece replaces the whole body,
/// each next one is appended at the end, which both hosts take (Envoy
/// drains `size` bytes at start 0 and appends at or past the end; Kong
/// cuts the body at `start` and appends). The VM then never holds the
/// masked body whole beside the original. `false` when the host refused a
/// piece: the request must then be refused, not forwarded half written.
fn write_request_body(masked: &Output<'_>, tokens: &TokenMap, body_size: usize) -> bool {
    if masked.is_empty() {
        return host::set_buffer(host::BUFFER_REQUEST_BODY, 0, body_size, &[]);
    }
    let mut written = 0usize;
    masked.write_pieces(&tokens.token_texts(), BODY_PIECE_BYTES, |piece| {
        let (start, size) = if written == 0 {
            (0, body_size.max(piece.len()))
        } else {
            (written, piece.len())
        };
        written += piece.len();
        host::set_buffer(host::BUFFER_REQUEST_BODY, start, size, piece)
    })
}

/// Counter ids, defined once per VM.
#[derive(Debug, Default)]
struct Metrics {
    requests_masked: Option<u32>,
    values_masked: Vec<(&'static str, u32)>,
    values_restored: Option<u32>,
    refusals: Vec<(&'static str, u32)>,
    responses_passthrough: Option<u32>,
    responses_compressed: Option<u32>,
    responses_too_large: Option<u32>,
    responses_aborted: Option<u32>,
    responses_incomplete: Option<u32>,
    memo_hits: Option<u32>,
    memo_misses: Option<u32>,
}

impl Metrics {
    fn define() -> Metrics {
        let counter = |name: &str| host::define_counter(&format!("{METRIC_PREFIX}{name}"));
        let mut families: Vec<&'static str> = DETECTOR_FAMILIES.to_vec();
        families.push("custom");
        Metrics {
            requests_masked: counter("requests_masked"),
            values_masked: families
                .into_iter()
                .filter_map(|f| Some((f, counter(&format!("values_masked.{f}"))?)))
                .collect(),
            values_restored: counter("values_restored"),
            refusals: RefusalReason::ALL
                .iter()
                .filter_map(|r| Some((r.name(), counter(&format!("refusals.{}", r.name()))?)))
                .collect(),
            responses_passthrough: counter("responses_passthrough"),
            responses_compressed: counter("responses_compressed"),
            responses_too_large: counter("responses_too_large"),
            responses_aborted: counter("responses_aborted"),
            responses_incomplete: counter("responses_incomplete"),
            memo_hits: counter("memo.hits"),
            memo_misses: counter("memo.misses"),
        }
    }

    fn bump(id: Option<u32>, by: u64) {
        if let (Some(id), true) = (id, by > 0) {
            host::increment(id, by);
        }
    }

    fn bump_named(list: &[(&'static str, u32)], name: &str, by: u64) {
        if let Some((_, id)) = list.iter().find(|(n, _)| *n == name) {
            Metrics::bump(Some(*id), by);
        }
    }

    /// Counts the memo lookups between two readings of its stats.
    fn memo(&self, before: MemoStats, after: MemoStats) {
        Metrics::bump(self.memo_hits, after.hits.saturating_sub(before.hits));
        Metrics::bump(self.memo_misses, after.misses.saturating_sub(before.misses));
    }

    fn masked(&self, report: &MaskReport) {
        Metrics::bump(self.requests_masked, 1);
        for (family, n) in &report.by_family() {
            Metrics::bump_named(&self.values_masked, family.name(), *n);
        }
    }
}

/// What the root context hands every HTTP context.
struct Shared {
    engine: Engine,
    /// The host is Envoy (it knows `plugin_vm_id`), asked once.
    envoy: bool,
}

#[derive(Default)]
struct Root {
    shared: Option<Rc<Shared>>,
    metrics: Option<Rc<Metrics>>,
}

impl Root {
    fn metrics(&mut self) -> Rc<Metrics> {
        match &self.metrics {
            Some(m) => Rc::clone(m),
            None => {
                let m = Rc::new(Metrics::define());
                self.metrics = Some(Rc::clone(&m));
                m
            }
        }
    }
}

/// Whether the host is Envoy, whose shared data is always there (per
/// `vm_id`). Kong's engine traps on shared data without an `shm_kv` zone,
/// and does not know this property.
fn host_is_envoy() -> bool {
    host::get_property("plugin_vm_id").is_some()
}

/// A random secret for this worker.
fn random_secret() -> Option<Vec<u8>> {
    let mut mine = vec![0u8; GENERATED_SECRET_BYTES];
    host::random(&mut mine).then_some(mine)
}

/// The generated secret, shared with the other workers through shared
/// data.
fn shared_secret() -> Option<Vec<u8>> {
    let (existing, cas) = host::get_shared_data(SECRET_KEY);
    if let Some(s) = existing.filter(|s| s.len() >= GENERATED_SECRET_BYTES) {
        return Some(s);
    }
    let mine = random_secret()?;
    // Another worker may win the race: whatever is stored is the secret.
    let _ = host::set_shared_data(SECRET_KEY, &mine, cas);
    match host::get_shared_data(SECRET_KEY).0 {
        Some(stored) if stored.len() >= GENERATED_SECRET_BYTES => Some(stored),
        _ => Some(mine),
    }
}

/// A generated secret as `sharing` allows, and whether it is shared.
fn generated_secret(sharing: SecretSharing) -> Option<(Vec<u8>, bool)> {
    let share = match sharing {
        SecretSharing::Auto => host_is_envoy(),
        SecretSharing::SharedData => true,
        SecretSharing::None => false,
    };
    if share {
        shared_secret().map(|s| (s, true))
    } else {
        random_secret().map(|s| (s, false))
    }
}

impl Context for Root {}

impl RootContext for Root {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        let _ = self.metrics();
        true
    }

    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let _ = self.metrics();
        let raw =
            host::get_buffer(host::BUFFER_PLUGIN_CONFIGURATION, 0, usize::MAX).unwrap_or_default();
        let config = match Config::from_json(&raw) {
            Ok(c) => c,
            Err(e) => {
                log_error(&format!("aws-masker: {e}"));
                return false;
            }
        };
        let secret = match &config.secret {
            Some(s) => s.as_bytes().to_vec(),
            None => match generated_secret(config.secret_sharing) {
                Some((s, shared)) => {
                    log_warn(if shared {
                        "aws-masker: no `secret` configured: tokens are keyed by a random secret shared by this gateway's workers and stable only until it restarts; configure `secret` for tokens stable across restarts and gateways"
                    } else {
                        "aws-masker: no `secret` configured: tokens are keyed by a random secret of this worker only (no shared data used; see `secret_sharing`); configure `secret` for tokens stable across workers, restarts and gateways"
                    });
                    s
                }
                None => {
                    log_error(
                        "aws-masker: no `secret` configured and no random bytes available to generate one",
                    );
                    return false;
                }
            },
        };
        let engine = Engine::new(config, &secret);
        self.shared = Some(Rc::new(Shared {
            engine,
            envoy: host_is_envoy(),
        }));
        true
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Exchange {
            id: context_id,
            shared: self.shared.clone(),
            metrics: self.metrics.clone().unwrap_or_default(),
            request: Request::Idle,
            tokens: None,
            response: Response::Pass,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// Request side state.
enum Request {
    /// Not processed (no body, or a method without one), or done.
    Idle,
    /// Buffering the body to its end (end of stream, or trailers).
    Buffering {
        kind: BodyKind,
        /// The exchange's token map, made for its client scope.
        tokens: TokenMap,
        /// Body bytes the host holds so far.
        size: usize,
    },
    /// Refused with a local reply: nothing more is forwarded.
    Refused,
}

/// Response side state.
enum Response {
    /// Passed through untouched.
    Pass,
    /// SSE or text (or a JSON body too large to buffer), restored chunk by
    /// chunk as it streams.
    Stream {
        restorer: Box<dyn ChunkRestorer>,
        /// Bytes at the front of the host's buffer that are restored
        /// output already: chunks kept (paused) while the restorer held a
        /// tail, see [`Exchange::stream_chunk`]. 0 after a release.
        kept: usize,
    },
    /// JSON, buffered to the end; `size` bytes held so far.
    Json { size: usize },
}

impl Response {
    /// A response restored as it streams, nothing kept yet.
    fn stream(restorer: impl ChunkRestorer + 'static) -> Response {
        Response::Stream {
            restorer: Box::new(restorer),
            kept: 0,
        }
    }
}

/// The most restored output kept (paused) on the host while the restorer
/// holds a tail (and at most a quarter of `max_body_bytes`); past it the
/// chunk is released. Only a stream that ends nearly every chunk in a
/// possible token prefix gets there.
const MAX_KEPT_BYTES: usize = 1 << 20;

struct Exchange {
    id: u32,
    shared: Option<Rc<Shared>>,
    metrics: Rc<Metrics>,
    request: Request,
    /// Tokens issued for this exchange's request; `None` when none was.
    tokens: Option<TokenMap>,
    response: Response,
}

impl Exchange {
    fn refuse(&mut self, refusal: &Refusal) -> Action {
        log_warn(&format!(
            "aws-masker: refused request (context {}): {} {}",
            self.id,
            refusal.status,
            refusal.reason.name()
        ));
        Metrics::bump_named(&self.metrics.refusals, refusal.reason.name(), 1);
        self.request = Request::Refused;
        host::send_response(
            refusal.status,
            &[("content-type", "application/json")],
            &refusal.body(),
        );
        Action::Pause
    }

    /// Whether to keep a chunk while the restorer holds a tail: the host is
    /// Envoy, which takes no body writes at trailers after a release (see
    /// [`Exchange::stream_chunk`]).
    fn keep_tails(&self) -> bool {
        self.shared.as_ref().is_some_and(|s| s.envoy)
    }

    /// The largest body the filter buffers, and the largest it ever hands
    /// the host in one buffer: the gateway's own limits are set above it.
    fn max_body_bytes(&self) -> usize {
        self.shared
            .as_ref()
            .map_or(crate::config::DEFAULT_MAX_BODY_BYTES, |s| {
                s.engine.config().max_body_bytes
            })
    }

    fn restore_thinking(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|s| s.engine.config().restore_thinking)
    }

    /// Masks the complete request body (`body_size` bytes the host holds).
    fn mask_request(&mut self, kind: BodyKind, mut tokens: TokenMap, body_size: usize) -> Action {
        let Some(shared) = self.shared.clone() else {
            return self.refuse(&Refusal::not_configured());
        };
        if body_size == 0 {
            self.request = Request::Idle;
            return Action::Continue;
        }
        let body = match host::get_buffer(host::BUFFER_REQUEST_BODY, 0, body_size) {
            Some(b) if b.len() == body_size => b,
            _ => return self.refuse(&Refusal::unreadable_body(body_size)),
        };
        let mut report = MaskReport::default();
        let memo_before = shared.engine.memo_stats();
        let masked = shared
            .engine
            .mask_body_output(&body, kind, &mut tokens, &mut report);
        self.metrics.memo(memo_before, shared.engine.memo_stats());
        let limit = self.max_body_bytes();
        match masked {
            Err(e) => self.refuse(&Refusal::from_mask_error(&e)),
            Ok(Some(new)) if new.len() > limit => self.refuse(&Refusal::masked_too_large(limit)),
            Ok(masked) => {
                if let Some(new) = masked {
                    if !write_request_body(&new, &tokens, body_size) {
                        return self.refuse(&Refusal::unreadable_body(body_size));
                    }
                }
                drop(body);
                if report.total() > 0 {
                    self.metrics.masked(&report);
                    log_info(&format!(
                        "aws-masker: masked {} values in request (context {}): {}",
                        report.total(),
                        self.id,
                        report.summary()
                    ));
                }
                if !tokens.is_empty() {
                    // Kept until the response is restored: without the
                    // room its growth left over.
                    tokens.shrink_to_fit();
                    self.tokens = Some(tokens);
                }
                self.request = Request::Idle;
                Action::Continue
            }
        }
    }

    /// Masks the buffered body now, if the request is still buffering: at
    /// its end of stream, or when trailers end it (HTTP/2).
    fn end_request(&mut self) -> Action {
        match std::mem::replace(&mut self.request, Request::Idle) {
            Request::Buffering { kind, tokens, size } => self.mask_request(kind, tokens, size),
            Request::Refused => {
                self.request = Request::Refused;
                Action::Pause
            }
            Request::Idle => Action::Continue,
        }
    }

    fn count_restored(&self, n: u64) {
        Metrics::bump(self.metrics.values_restored, n);
    }

    /// Replaces the current response chunk (`body_size` bytes) with `new`.
    fn replace_response_chunk(body_size: usize, new: &[u8]) -> bool {
        if body_size == 0 && new.is_empty() {
            return true;
        }
        host::set_buffer(host::BUFFER_RESPONSE_BODY, 0, body_size.max(new.len()), new)
    }

    /// Gives up restoring a response whose restored form would not fit the
    /// host's buffer: what is held back is released, the rest of the
    /// response passes with its tokens in place (nothing leaks, and the
    /// gateway keeps serving).
    fn response_too_large(&mut self, what: &str) {
        log_warn(&format!(
            "aws-masker: {what} response (context {}) would restore to more than {} bytes (max_body_bytes); the rest passes with its tokens unrestored",
            self.id,
            self.max_body_bytes()
        ));
        Metrics::bump(self.metrics.responses_too_large, 1);
        self.response = Response::Pass;
    }

    /// Restores the new part of the response body in place; nothing is
    /// held back but what the restorer must hold (a possible token tail,
    /// an incomplete event).
    ///
    /// On Envoy, while the restorer holds something, the chunk is kept
    /// (`Pause`): Envoy takes no more body once a chunk is released, so a
    /// stream that ends with trailers would otherwise lose the held bytes.
    /// The next call then sees the kept output and the new bytes in one
    /// buffer.
    fn stream_chunk(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let limit = self.max_body_bytes();
        let keep_tails = self.keep_tails();
        let Response::Stream { restorer: r, kept } = &mut self.response else {
            return Action::Continue;
        };
        let done = (*kept).min(body_size);
        let fresh = body_size - done;
        let chunk = if fresh > 0 {
            host::get_buffer(host::BUFFER_RESPONSE_BODY, done, fresh).unwrap_or_default()
        } else {
            Vec::new()
        };
        // Envoy replaces a buffer only from its start: the kept output is
        // written again in front of the new.
        let mut out = if done > 0 {
            host::get_buffer(host::BUFFER_RESPONSE_BODY, 0, done).unwrap_or_default()
        } else {
            Vec::with_capacity(chunk.len() + 64)
        };
        if chunk.len() != fresh || out.len() != done {
            *kept = 0;
            return Action::Continue;
        }
        if done.saturating_add(r.worst_case(chunk.len())) > limit {
            // Restored, this chunk could outgrow what the host holds:
            // release what was held back before it, restored, and the
            // chunk as it came.
            r.finish(&mut out);
            out.extend_from_slice(&chunk);
            Exchange::replace_response_chunk(body_size, &out);
            self.response_too_large("streamed");
            return Action::Continue;
        }
        let (before, was_aborted) = (r.restored(), r.aborted());
        r.push(&chunk, &mut out);
        if end_of_stream {
            r.finish(&mut out);
        }
        let (n, aborted) = (r.restored().saturating_sub(before), r.aborted());
        Exchange::replace_response_chunk(body_size, &out);
        // Kept output counts against the next chunk's room under `limit`:
        // a quarter of it at most, so a chunk that fits alone still fits.
        let keep =
            keep_tails && !end_of_stream && r.holds() && out.len() <= MAX_KEPT_BYTES.min(limit / 4);
        *kept = if keep { out.len() } else { 0 };
        self.count_restored(n);
        if aborted && !was_aborted {
            self.stream_aborted();
        }
        if keep {
            Action::Pause
        } else {
            Action::Continue
        }
    }

    /// Counts and logs a stream the restorer ended with an error event.
    fn stream_aborted(&self) {
        log_warn(&format!(
            "aws-masker: response stream (context {}) holds an event over the size cap; ended it with an error event",
            self.id
        ));
        // The restorer stays: it drops the rest of the stream.
        Metrics::bump(self.metrics.responses_aborted, 1);
    }

    /// Restores the buffered JSON response (`body_size` bytes) in place.
    fn restore_buffered_json(&mut self, body_size: usize) -> Action {
        let Some(tokens) = self.tokens.take() else {
            return Action::Continue;
        };
        self.response = Response::Pass;
        if body_size == 0 {
            return Action::Continue;
        }
        let Some(body) = host::get_buffer(host::BUFFER_RESPONSE_BODY, 0, body_size) else {
            log_warn(&format!(
                "aws-masker: JSON response (context {}) could not be read; passed through",
                self.id
            ));
            return Action::Continue;
        };
        let (restored, n) = restore_json(&tokens, &body, self.restore_thinking());
        drop(body);
        if let Some(new) = restored {
            if new.len() > self.max_body_bytes() {
                self.response_too_large("JSON");
                return Action::Continue;
            }
            Exchange::replace_response_chunk(body_size, &new);
        }
        self.count_restored(n as u64);
        Action::Continue
    }

    /// Ends the response at its trailers: restores a buffered JSON body,
    /// or releases what a stream restorer still holds.
    fn end_response(&mut self) -> Action {
        match &mut self.response {
            Response::Pass => Action::Continue,
            Response::Json { size } => {
                let size = *size;
                self.restore_buffered_json(size)
            }
            Response::Stream { restorer: r, kept } => {
                let (before, kept) = (r.restored(), *kept);
                let mut out = Vec::new();
                r.finish(&mut out);
                let n = r.restored().saturating_sub(before);
                self.response = Response::Pass;
                // What was held back goes after the kept output: Envoy
                // appends at or past the end, Kong cuts to `kept` and
                // appends. Without kept output, the body before the
                // trailers is on its way already, and the host may take no
                // more (Envoy does not).
                let appended = out.is_empty()
                    || match kept {
                        0 => host::set_buffer(host::BUFFER_RESPONSE_BODY, 0, 0, &out),
                        _ => host::set_buffer(host::BUFFER_RESPONSE_BODY, kept, out.len(), &out),
                    };
                if !appended {
                    log_error(&format!(
                        "aws-masker: response (context {}) ended with trailers while {} restored bytes were held back, and the host took no more body: the response is incomplete",
                        self.id,
                        out.len()
                    ));
                    Metrics::bump(self.metrics.responses_incomplete, 1);
                    return Action::Continue;
                }
                self.count_restored(n);
                Action::Continue
            }
        }
    }
}

impl Context for Exchange {}

impl HttpContext for Exchange {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        // Whether a body follows decides, not the method: a GET that does
        // carry a body is masked like any other.
        if end_of_stream {
            // No body follows, the host says. One that still announces a
            // body (Kong 3.4 and 3.5's ngx_wasm_module 0.1 says end of
            // stream on every request) would reach the upstream unseen.
            let length = host::get_header(host::MAP_REQUEST_HEADERS, "content-length");
            return match body_announced_at_end_of_stream(length.as_deref()) {
                Some(size) => self.refuse(&Refusal::unreadable_body(size)),
                None => Action::Continue,
            };
        }
        let encoding = host::get_header(host::MAP_REQUEST_HEADERS, "content-encoding");
        if !is_identity_encoding(encoding.as_deref()) {
            return self.refuse(&Refusal::compressed(
                encoding.as_deref().unwrap_or_default(),
            ));
        }
        host::remove_header(host::MAP_REQUEST_HEADERS, "content-length");
        host::set_header(host::MAP_REQUEST_HEADERS, "accept-encoding", "identity");
        let content_type = host::get_header(host::MAP_REQUEST_HEADERS, "content-type");
        let tokens = match &self.shared {
            Some(shared) => {
                let identity = scope_identity(&shared.engine.config().token_scope, |name| {
                    host::get_header(host::MAP_REQUEST_HEADERS, name)
                });
                shared.engine.token_map_for(identity.as_deref())
            }
            None => TokenMap::default(),
        };
        self.request = Request::Buffering {
            kind: BodyKind::from_content_type(content_type.as_deref()),
            tokens,
            size: 0,
        };
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let limit = self.max_body_bytes();
        match &mut self.request {
            Request::Idle => Action::Continue,
            Request::Refused => Action::Pause,
            Request::Buffering { size, .. } => {
                *size = body_size;
                if body_size > limit {
                    return self.refuse(&Refusal::too_large(limit));
                }
                if !end_of_stream {
                    return Action::Pause;
                }
                self.end_request()
            }
        }
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // HTTP/2 (and chunked HTTP/1.1) bodies may end with trailers, not
        // with an end-of-stream body call: the buffered body is masked now,
        // or it would be released unmasked.
        self.end_request()
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(tokens) = self.tokens.take() else {
            return Action::Continue;
        };
        let content_type = host::get_header(host::MAP_RESPONSE_HEADERS, "content-type");
        let encoding = host::get_header(host::MAP_RESPONSE_HEADERS, "content-encoding");
        let kind = classify_response(content_type.as_deref(), encoding.as_deref());
        if kind == ResponseKind::Compressed {
            // The request asked for `identity`; an upstream that compresses
            // anyway sends tokens the filter cannot restore (no leak: the
            // client sees tokens, not originals).
            log_warn(&format!(
                "aws-masker: response (context {}) is compressed despite accept-encoding: identity; passed through with its tokens unrestored",
                self.id
            ));
            Metrics::bump(self.metrics.responses_compressed, 1);
            return Action::Continue;
        }
        if kind.is_passthrough() {
            Metrics::bump(self.metrics.responses_passthrough, 1);
            return Action::Continue;
        }
        host::remove_header(host::MAP_RESPONSE_HEADERS, "content-length");
        self.response = match kind {
            ResponseKind::Sse => {
                Response::stream(SseRestorer::new(tokens, self.restore_thinking()))
            }
            ResponseKind::Json => {
                self.tokens = Some(tokens);
                Response::Json { size: 0 }
            }
            _ => Response::stream(TextStreamRestorer::new(tokens, Escape::Raw)),
        };
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match &mut self.response {
            Response::Pass => Action::Continue,
            Response::Stream { .. } => self.stream_chunk(body_size, end_of_stream),
            Response::Json { size } => {
                *size = body_size;
                if end_of_stream {
                    return self.restore_buffered_json(body_size);
                }
                // Half the limit: the chunk that crosses it must still fit
                // once restored as the first piece of a stream.
                let limit = self.max_body_bytes();
                let fits = self
                    .tokens
                    .as_ref()
                    .is_some_and(|t| restore_fits(t, body_size, limit / 2));
                if fits {
                    return Action::Pause;
                }
                // Restored whole, this body could outgrow what the host
                // holds: restore it as a stream from here on.
                log_info(&format!(
                    "aws-masker: JSON response (context {}) could restore to more than {limit} bytes; restoring it as a stream",
                    self.id
                ));
                let tokens = self.tokens.take().unwrap_or_default();
                self.response = Response::stream(TextStreamRestorer::new(tokens, Escape::Json));
                self.stream_chunk(body_size, end_of_stream)
            }
        }
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        self.end_response()
    }
}
