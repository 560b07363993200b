//! The filter's behaviour, host-agnostic: what it decides at start-up
//! ([`configure`]) and at each callback of one HTTP exchange
//! ([`Exchange`]), talking to the host only through [`Host`].
//!
//! `filter.rs` maps the proxy-wasm callbacks onto these methods one to one
//! and [`Verdict`] onto the SDK's `Action`; everything else is here and
//! tested natively with a fake host (`tests.rs` beside this file).

use std::rc::Rc;

use super::host::{BodyBuffer, Counter, HeaderMap, Host, Level};
use super::{
    body_announced_at_end_of_stream, classify_response, is_identity_encoding, restore_fits,
    scope_identity, Refusal, ResponseKind,
};
use crate::config::{Config, SecretSharing};
use crate::mask::{BodyKind, Engine, MaskReport};
use crate::restore::{json_plan_in_pieces, restore_json_pieces, Escape, JsonPlan};
use crate::splice::Output;
use crate::stream::{ChunkRestorer, JsonStreamRestorer, SseRestorer, TextStreamRestorer};
use crate::token::{Issuer, TokenMap};

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;

/// What a callback tells the host: go on, or hold the data back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let the data (headers or body so far) go on.
    Continue,
    /// Hold it: the body is buffered, or the request was refused.
    Pause,
}

/// What every exchange of a configured filter shares: the engine, and
/// what the host is.
#[derive(Debug)]
pub struct Gateway {
    /// The masking engine for the configuration.
    pub engine: Engine,
    /// The host takes no body write at trailers once a chunk was let
    /// through (Envoy): a streamed answer keeps a chunk back while the
    /// restorer holds a token's start.
    pub keep_tails: bool,
    /// The host reads a body buffer from an offset and stops at the length
    /// asked for (Envoy). Kong 3.9's engine (ngx_wasm_module 9136e463,
    /// `ngx_proxy_wasm_hfuncs_get_buffer`) ignores the offset and, on a
    /// body held in several buffers, copies past the length asked for into
    /// the VM's heap: there a body is only ever read whole.
    pub reads_in_pieces: bool,
}

/// Shared-data key of the generated secret, common to all workers.
pub const SECRET_KEY: &str = "aws_masker.secret";
/// Bytes of a generated secret.
const GENERATED_SECRET_BYTES: usize = 32;

/// Whether the host is Envoy, whose shared data is always there (per
/// `vm_id`). Kong's engine traps on shared data without an `shm_kv` zone,
/// and does not know this property.
fn host_is_envoy<H: Host>(host: &H) -> bool {
    host.property("plugin_vm_id").is_some()
}

/// Writes a new body into `buffer` a piece at a time, for the hosts' own
/// semantics: the first piece replaces the `body_size` bytes the host
/// holds, each next one is appended. `false` once the host refused one.
fn piece_writer<H: Host>(
    host: &mut H,
    buffer: BodyBuffer,
    body_size: usize,
) -> impl FnMut(&[u8]) -> bool + '_ {
    let mut written = 0usize;
    move |piece| {
        let (start, size) = if written == 0 {
            (0, body_size.max(piece.len()))
        } else {
            (written, piece.len())
        };
        written += piece.len();
        host.set_body(buffer, start, size, piece)
    }
}

/// A random secret for this worker.
fn random_secret<H: Host>(host: &mut H) -> Option<Vec<u8>> {
    let mut mine = vec![0u8; GENERATED_SECRET_BYTES];
    host.random(&mut mine).then_some(mine)
}

/// The generated secret, shared with the other workers through shared
/// data.
fn shared_secret<H: Host>(host: &mut H) -> Option<Vec<u8>> {
    let (existing, cas) = host.shared_data(SECRET_KEY);
    if let Some(s) = existing.filter(|s| s.len() >= GENERATED_SECRET_BYTES) {
        return Some(s);
    }
    let mine = random_secret(host)?;
    // Another worker may win the race: whatever is stored is the secret.
    let _ = host.set_shared_data(SECRET_KEY, &mine, cas);
    match host.shared_data(SECRET_KEY).0 {
        Some(stored) if stored.len() >= GENERATED_SECRET_BYTES => Some(stored),
        _ => Some(mine),
    }
}

/// A generated secret as `sharing` allows, and whether it is shared.
fn generated_secret<H: Host>(host: &mut H, sharing: SecretSharing) -> Option<(Vec<u8>, bool)> {
    let share = match sharing {
        SecretSharing::Auto => host_is_envoy(host),
        SecretSharing::SharedData => true,
        SecretSharing::None => false,
    };
    if share {
        shared_secret(host).map(|s| (s, true))
    } else {
        random_secret(host).map(|s| (s, false))
    }
}

/// Start-up: the filter for the configuration document `raw` (the
/// plugin configuration; empty for the defaults), or `None`, logged, when
/// it cannot work: an invalid configuration, or no secret to be had.
/// Without a configured secret one is generated, and shared through the
/// host's shared data only where `secret_sharing` allows (Kong's engine
/// traps on shared data without a zone).
pub fn configure<H: Host>(host: &mut H, raw: &[u8]) -> Option<Gateway> {
    let config = match Config::from_json(raw) {
        Ok(c) => c,
        Err(e) => {
            host.log(Level::Error, &format!("aws-masker: {e}"));
            return None;
        }
    };
    let secret = match &config.secret {
        Some(s) => s.as_bytes().to_vec(),
        None => match generated_secret(host, config.secret_sharing) {
            Some((s, shared)) => {
                host.log(Level::Warn, if shared {
                    "aws-masker: no `secret` configured: tokens are keyed by a random secret shared by this gateway's workers and stable only until it restarts; configure `secret` for tokens stable across restarts and gateways"
                } else {
                    "aws-masker: no `secret` configured: tokens are keyed by a random secret of this worker only (no shared data used; see `secret_sharing`); configure `secret` for tokens stable across workers, restarts and gateways"
                });
                s
            }
            None => {
                host.log(
                    Level::Error,
                    "aws-masker: no `secret` configured and no random bytes available to generate one",
                );
                return None;
            }
        },
    };
    let envoy = host_is_envoy(host);
    Some(Gateway {
        engine: Engine::new(config, &secret),
        keep_tails: envoy,
        reads_in_pieces: envoy,
    })
}

/// The size of the pieces a masked request body is handed to the host in.
const BODY_PIECE_BYTES: usize = 64 * 1024;

/// The most restored output kept (paused) on the host while the restorer
/// holds a tail (and at most a quarter of `max_body_bytes`); past it the
/// chunk is released. Only a stream that ends nearly every chunk in a
/// possible token prefix gets there.
const MAX_KEPT_BYTES: usize = 1 << 20;

/// Request side state. One per exchange, so the size of its largest
/// variant (the token map) costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
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

/// One HTTP exchange: the request masked before it leaves, the response
/// restored as it comes back. One per HTTP context; the methods are the
/// proxy-wasm callbacks.
pub struct Exchange<H: Host> {
    host: H,
    id: u32,
    gateway: Option<Rc<Gateway>>,
    request: Request,
    /// Tokens issued for this exchange's request; `None` when none was.
    tokens: Option<TokenMap>,
    response: Response,
}

impl<H: Host> Exchange<H> {
    /// The exchange of context `id`, on a configured filter (`gateway`;
    /// `None`: the configuration failed, and every request with a body is
    /// refused).
    pub fn new(host: H, id: u32, gateway: Option<Rc<Gateway>>) -> Exchange<H> {
        Exchange {
            host,
            id,
            gateway,
            request: Request::Idle,
            tokens: None,
            response: Response::Pass,
        }
    }

    /// The host this exchange talks to (tests read what it holds).
    pub fn host(&self) -> &H {
        &self.host
    }

    fn refuse(&mut self, refusal: &Refusal) -> Verdict {
        self.host.log(
            Level::Warn,
            &format!(
                "aws-masker: refused request (context {}): {} {}",
                self.id,
                refusal.status,
                refusal.reason.name()
            ),
        );
        self.host.count(Counter::Refusals(refusal.reason), 1);
        self.request = Request::Refused;
        self.host.send_response(
            refusal.status,
            &[("content-type", "application/json")],
            &refusal.body(),
        );
        Verdict::Pause
    }

    fn keep_tails(&self) -> bool {
        self.gateway.as_ref().is_some_and(|g| g.keep_tails)
    }

    /// The largest body the filter buffers, and the largest it ever hands
    /// the host in one buffer: the gateway's own limits are set above it.
    fn max_body_bytes(&self) -> usize {
        self.gateway
            .as_ref()
            .map_or(crate::config::DEFAULT_MAX_BODY_BYTES, |g| {
                g.engine.config().max_body_bytes
            })
    }

    /// Whether the host reads a body in parts (see
    /// [`Gateway::reads_in_pieces`]).
    fn reads_in_pieces(&self) -> bool {
        self.gateway.as_ref().is_some_and(|g| g.reads_in_pieces)
    }

    fn restore_thinking(&self) -> bool {
        self.gateway
            .as_ref()
            .is_some_and(|g| g.engine.config().restore_thinking)
    }

    /// Replaces the request body the host holds (`body_size` bytes) with
    /// `masked`, a piece at a time: the first piece replaces the whole
    /// body, each next one is appended at the end. The VM then never holds
    /// the masked body whole beside the original. `false` when the host
    /// refused a piece: the request must then be refused, not forwarded
    /// half written.
    fn write_request_body(
        host: &mut H,
        masked: &Output<'_>,
        tokens: &TokenMap,
        body_size: usize,
    ) -> bool {
        if masked.is_empty() {
            return host.set_body(BodyBuffer::Request, 0, body_size, &[]);
        }
        masked.write_pieces(
            &tokens.token_texts(),
            BODY_PIECE_BYTES,
            piece_writer(host, BodyBuffer::Request, body_size),
        )
    }

    fn count_masked(&mut self, report: &MaskReport) {
        self.host.count(Counter::RequestsMasked, 1);
        for (family, n) in report.by_family() {
            self.host.count(Counter::ValuesMasked(family), n);
        }
    }

    /// Masks the complete request body (`body_size` bytes the host holds).
    fn mask_request(&mut self, kind: BodyKind, mut tokens: TokenMap, body_size: usize) -> Verdict {
        let Some(gateway) = self.gateway.clone() else {
            return self.refuse(&Refusal::not_configured());
        };
        if body_size == 0 {
            self.request = Request::Idle;
            return Verdict::Continue;
        }
        let body = match self.host.body(BodyBuffer::Request, 0, body_size) {
            Some(b) if b.len() == body_size => b,
            _ => return self.refuse(&Refusal::unreadable_body(body_size)),
        };
        let mut report = MaskReport::default();
        let memo_before = gateway.engine.memo_stats();
        // The issuer keeps the originals where they stand in `body` until
        // it is dropped, after the masked body is written (see `Issuer`).
        let mut issuer = Issuer::new(&mut tokens, &body);
        let masked = gateway
            .engine
            .mask_body_output(&body, kind, &mut issuer, &mut report);
        let memo_after = gateway.engine.memo_stats();
        self.host.count(
            Counter::MemoHits,
            memo_after.hits.saturating_sub(memo_before.hits),
        );
        self.host.count(
            Counter::MemoMisses,
            memo_after.misses.saturating_sub(memo_before.misses),
        );
        let limit = self.max_body_bytes();
        let written = match &masked {
            Err(e) => Err(Refusal::from_mask_error(e)),
            Ok(Some(new)) if new.len() > limit => Err(Refusal::masked_too_large(limit)),
            Ok(Some(new)) => {
                if Self::write_request_body(&mut self.host, new, issuer.map(), body_size) {
                    Ok(())
                } else {
                    Err(Refusal::unreadable_body(body_size))
                }
            }
            Ok(None) => Ok(()),
        };
        // The splices go first: the originals the issuer copies now take
        // the room they leave.
        drop(masked);
        drop(issuer);
        drop(body);
        match written {
            Err(refusal) => self.refuse(&refusal),
            Ok(()) => {
                if report.total() > 0 {
                    self.count_masked(&report);
                    self.host.log(
                        Level::Info,
                        &format!(
                            "aws-masker: masked {} values in request (context {}): {}",
                            report.total(),
                            self.id,
                            report.summary()
                        ),
                    );
                }
                if !tokens.is_empty() {
                    // Kept until the response is restored.
                    self.tokens = Some(tokens);
                }
                self.request = Request::Idle;
                Verdict::Continue
            }
        }
    }

    /// Masks the buffered body now, if the request is still buffering: at
    /// its end of stream, or when trailers end it (HTTP/2).
    fn end_request(&mut self) -> Verdict {
        match std::mem::replace(&mut self.request, Request::Idle) {
            Request::Buffering { kind, tokens, size } => self.mask_request(kind, tokens, size),
            Request::Refused => {
                self.request = Request::Refused;
                Verdict::Pause
            }
            Request::Idle => Verdict::Continue,
        }
    }

    fn count_restored(&mut self, n: u64) {
        self.host.count(Counter::ValuesRestored, n);
    }

    /// Replaces the current response chunk (`body_size` bytes) with `new`.
    fn replace_response_chunk(&mut self, body_size: usize, new: &[u8]) -> bool {
        if body_size == 0 && new.is_empty() {
            return true;
        }
        self.host
            .set_body(BodyBuffer::Response, 0, body_size.max(new.len()), new)
    }

    /// Gives up restoring a response whose restored form would not fit the
    /// host's buffer: what is held back is released, the rest of the
    /// response passes with its tokens in place (nothing leaks, and the
    /// gateway keeps serving).
    fn response_too_large(&mut self, what: &str) {
        let message = format!(
            "aws-masker: {what} response (context {}) would restore to more than {} bytes (max_body_bytes); the rest passes with its tokens unrestored",
            self.id,
            self.max_body_bytes()
        );
        self.host.log(Level::Warn, &message);
        self.host.count(Counter::ResponsesTooLarge, 1);
        self.response = Response::Pass;
    }

    /// Restores the new part of the response body in place; nothing is
    /// held back but what the restorer must hold (a possible token tail,
    /// an incomplete event).
    ///
    /// Where the host takes no body at trailers once a chunk is released
    /// (Envoy), the chunk is kept (`Pause`) while the restorer holds
    /// something, so a stream that ends with trailers does not lose the
    /// held bytes. The next call then sees the kept output and the new
    /// bytes in one buffer.
    fn stream_chunk(&mut self, body_size: usize, end_of_stream: bool) -> Verdict {
        let limit = self.max_body_bytes();
        let keep_tails = self.keep_tails();
        let Response::Stream { restorer: r, kept } = &mut self.response else {
            return Verdict::Continue;
        };
        let done = (*kept).min(body_size);
        let fresh = body_size - done;
        let chunk = if fresh > 0 {
            self.host
                .body(BodyBuffer::Response, done, fresh)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        // Envoy replaces a buffer only from its start: the kept output is
        // written again in front of the new.
        let mut out = if done > 0 {
            self.host
                .body(BodyBuffer::Response, 0, done)
                .unwrap_or_default()
        } else {
            Vec::with_capacity(chunk.len() + 64)
        };
        if chunk.len() != fresh || out.len() != done {
            *kept = 0;
            return Verdict::Continue;
        }
        if done.saturating_add(r.worst_case(chunk.len())) > limit {
            // Restored, this chunk could outgrow what the host holds:
            // release what was held back before it, restored, and the
            // chunk as it came.
            r.finish(&mut out);
            out.extend_from_slice(&chunk);
            self.replace_response_chunk(body_size, &out);
            self.response_too_large("streamed");
            return Verdict::Continue;
        }
        let (before, was_aborted) = (r.restored(), r.aborted());
        r.push(&chunk, &mut out);
        if end_of_stream {
            r.finish(&mut out);
        }
        let (n, aborted) = (r.restored().saturating_sub(before), r.aborted());
        // Kept output counts against the next chunk's room under `limit`:
        // a quarter of it at most, so a chunk that fits alone still fits.
        let keep =
            keep_tails && !end_of_stream && r.holds() && out.len() <= MAX_KEPT_BYTES.min(limit / 4);
        *kept = if keep { out.len() } else { 0 };
        self.replace_response_chunk(body_size, &out);
        self.count_restored(n);
        if aborted && !was_aborted {
            self.stream_aborted();
        }
        if keep {
            Verdict::Pause
        } else {
            Verdict::Continue
        }
    }

    /// Counts and logs a stream the restorer ended with an error event.
    fn stream_aborted(&mut self) {
        let message = format!(
            "aws-masker: response stream (context {}) holds an event over the size cap; ended it with an error event",
            self.id
        );
        self.host.log(Level::Warn, &message);
        // The restorer stays: it drops the rest of the stream.
        self.host.count(Counter::ResponsesAborted, 1);
    }

    /// Restores the buffered JSON response (`body_size` bytes) in place.
    fn restore_buffered_json(&mut self, body_size: usize) -> Verdict {
        let Some(tokens) = self.tokens.take() else {
            return Verdict::Continue;
        };
        self.response = Response::Pass;
        if body_size == 0 {
            return Verdict::Continue;
        }
        let in_pieces = self.reads_in_pieces();
        if in_pieces {
            let host = &self.host;
            let plan = json_plan_in_pieces(&tokens, body_size, BODY_PIECE_BYTES, |at, len| {
                host.body(BodyBuffer::Response, at, len)
            });
            match plan {
                Some(JsonPlan::Nothing) => return Verdict::Continue,
                Some(JsonPlan::Bytes) => return self.restore_json_in_pieces(tokens, body_size),
                Some(JsonPlan::Whole) | None => {}
            }
        }
        // Whole, whatever its size now: a host that cannot read in parts
        // (Kong) may hold more than the last callback said (its buffering
        // calls the filter once, at the end, and not at trailers), and a
        // shorter read there overruns the VM's heap.
        let want = if in_pieces { body_size } else { usize::MAX };
        let Some(body) = self.host.body(BodyBuffer::Response, 0, want) else {
            self.warn_unreadable_json();
            return Verdict::Continue;
        };
        let Some(restored) = restore_json_pieces(&tokens, &body, self.restore_thinking()) else {
            return Verdict::Continue;
        };
        let limit = self.max_body_bytes();
        if restored.len_bound() > limit && restored.len() > limit {
            if in_pieces {
                self.response_too_large("JSON");
                return Verdict::Continue;
            }
            // Kong buffers a paused answer itself and hands all of it over
            // at its end, past the point where Envoy's answer would have
            // turned into a stream: it takes the restored answer in pieces,
            // each within the limit.
            let message = format!(
                "aws-masker: JSON response (context {}) restores to more than {limit} bytes; restoring it as a stream of pieces",
                self.id
            );
            self.host.log(Level::Info, &message);
        }
        // Written a piece at a time, as the request is: the VM never holds
        // the restored answer whole beside the answer.
        let n = restored.write_pieces(
            BODY_PIECE_BYTES.min(limit.max(1)),
            piece_writer(&mut self.host, BodyBuffer::Response, body.len()),
        );
        self.json_restored(n.map(|n| n as u64));
        Verdict::Continue
    }

    /// Restores a buffered JSON answer that can be restored byte by byte
    /// (see [`json_plan_in_pieces`]) a piece at a time: read from the
    /// host in pieces, restored into pieces, and written back once all of
    /// it is restored (a host's first write replaces the whole buffer).
    /// The VM holds the restored answer in pieces, never the answer whole.
    fn restore_json_in_pieces(&mut self, tokens: TokenMap, body_size: usize) -> Verdict {
        let limit = self.max_body_bytes();
        let mut r = TextStreamRestorer::new(tokens, Escape::Json);
        let mut pieces: Vec<Vec<u8>> = Vec::new();
        let mut restored_len = 0usize;
        let mut at = 0;
        while at < body_size {
            let Some(chunk) = self
                .host
                .body(
                    BodyBuffer::Response,
                    at,
                    BODY_PIECE_BYTES.min(body_size - at),
                )
                .filter(|c| !c.is_empty())
            else {
                self.warn_unreadable_json();
                return Verdict::Continue;
            };
            at += chunk.len();
            let mut out = Vec::with_capacity(chunk.len() + chunk.len() / 8);
            r.push(&chunk, &mut out);
            if at >= body_size {
                r.finish(&mut out);
            }
            out.shrink_to_fit();
            restored_len = restored_len.saturating_add(out.len());
            if restored_len > limit {
                self.response_too_large("JSON");
                return Verdict::Continue;
            }
            pieces.push(out);
        }
        let written = {
            let mut write = piece_writer(&mut self.host, BodyBuffer::Response, body_size);
            pieces.iter().all(|p| p.is_empty() || write(p))
        };
        self.json_restored(written.then(|| r.restored()));
        Verdict::Continue
    }

    /// Logs a JSON answer the host would not give to read: it passes as it
    /// is.
    fn warn_unreadable_json(&mut self) {
        let message = format!(
            "aws-masker: JSON response (context {}) could not be read; passed through",
            self.id
        );
        self.host.log(Level::Warn, &message);
    }

    /// Counts the tokens of a restored JSON answer (`None`: the host
    /// refused a piece of it, which is logged and counted).
    fn json_restored(&mut self, restored: Option<u64>) {
        match restored {
            Some(n) => self.count_restored(n),
            None => {
                let message = format!(
                    "aws-masker: JSON response (context {}) was refused by the host while being restored; it is incomplete",
                    self.id
                );
                self.host.log(Level::Error, &message);
                self.host.count(Counter::ResponsesIncomplete, 1);
            }
        }
    }

    /// Ends the response at its trailers: restores a buffered JSON body,
    /// or releases what a stream restorer still holds.
    fn end_response(&mut self) -> Verdict {
        match &mut self.response {
            Response::Pass => Verdict::Continue,
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
                        0 => self.host.set_body(BodyBuffer::Response, 0, 0, &out),
                        _ => self
                            .host
                            .set_body(BodyBuffer::Response, kept, out.len(), &out),
                    };
                if !appended {
                    let message = format!(
                        "aws-masker: response (context {}) ended with trailers while {} restored bytes were held back, and the host took no more body: the response is incomplete",
                        self.id,
                        out.len()
                    );
                    self.host.log(Level::Error, &message);
                    self.host.count(Counter::ResponsesIncomplete, 1);
                    return Verdict::Continue;
                }
                self.count_restored(n);
                Verdict::Continue
            }
        }
    }

    /// The request headers: whether the request is processed, and the
    /// headers it needs changed (`content-length` removed, the response
    /// asked for uncompressed).
    pub fn on_request_headers(&mut self, end_of_stream: bool) -> Verdict {
        // Whether a body follows decides, not the method: a GET that does
        // carry a body is masked like any other.
        if end_of_stream {
            // No body follows, the host says. One that still announces a
            // body (Kong 3.4 and 3.5's ngx_wasm_module 0.1 says end of
            // stream on every request) would reach the upstream unseen.
            let length = self.host.header(HeaderMap::Request, "content-length");
            return match body_announced_at_end_of_stream(length.as_deref()) {
                Some(size) => self.refuse(&Refusal::unreadable_body(size)),
                None => Verdict::Continue,
            };
        }
        let encoding = self.host.header(HeaderMap::Request, "content-encoding");
        if !is_identity_encoding(encoding.as_deref()) {
            return self.refuse(&Refusal::compressed(
                encoding.as_deref().unwrap_or_default(),
            ));
        }
        self.host
            .remove_header(HeaderMap::Request, "content-length");
        self.host
            .set_header(HeaderMap::Request, "accept-encoding", "identity");
        let content_type = self.host.header(HeaderMap::Request, "content-type");
        let tokens = match &self.gateway {
            Some(gateway) => {
                let host = &self.host;
                let identity = scope_identity(&gateway.engine.config().token_scope, |name| {
                    host.header(HeaderMap::Request, name)
                });
                gateway.engine.token_map_for(identity.as_deref())
            }
            None => TokenMap::default(),
        };
        self.request = Request::Buffering {
            kind: BodyKind::from_content_type(content_type.as_deref()),
            tokens,
            size: 0,
        };
        Verdict::Continue
    }

    /// A request body chunk: the host holds `body_size` bytes so far.
    pub fn on_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Verdict {
        let limit = self.max_body_bytes();
        match &mut self.request {
            Request::Idle => Verdict::Continue,
            Request::Refused => Verdict::Pause,
            Request::Buffering { size, .. } => {
                *size = body_size;
                if body_size > limit {
                    return self.refuse(&Refusal::too_large(limit));
                }
                if !end_of_stream {
                    return Verdict::Pause;
                }
                self.end_request()
            }
        }
    }

    /// The request trailers: HTTP/2 (and chunked HTTP/1.1) bodies may end
    /// with them, not with an end-of-stream body call, so the buffered body
    /// is masked now, or it would be released unmasked.
    pub fn on_request_trailers(&mut self) -> Verdict {
        self.end_request()
    }

    /// The response headers: how the answer is restored, if at all.
    pub fn on_response_headers(&mut self) -> Verdict {
        let Some(tokens) = self.tokens.take() else {
            return Verdict::Continue;
        };
        let content_type = self.host.header(HeaderMap::Response, "content-type");
        let encoding = self.host.header(HeaderMap::Response, "content-encoding");
        let kind = classify_response(content_type.as_deref(), encoding.as_deref());
        if kind == ResponseKind::Compressed {
            // The request asked for `identity`; an upstream that compresses
            // anyway sends tokens the filter cannot restore (no leak: the
            // client sees tokens, not originals).
            let message = format!(
                "aws-masker: response (context {}) is compressed despite accept-encoding: identity; passed through with its tokens unrestored",
                self.id
            );
            self.host.log(Level::Warn, &message);
            self.host.count(Counter::ResponsesCompressed, 1);
            return Verdict::Continue;
        }
        if kind.is_passthrough() {
            self.host.count(Counter::ResponsesPassthrough, 1);
            return Verdict::Continue;
        }
        self.host
            .remove_header(HeaderMap::Response, "content-length");
        self.response = match kind {
            ResponseKind::Sse => {
                Response::stream(SseRestorer::new(tokens, self.restore_thinking()))
            }
            ResponseKind::Json => {
                // A host that cannot read a body in parts (Kong) would
                // hand over a buffered answer whole, to be held beside the
                // token map: it is restored as it passes instead, to the
                // same bytes.
                let in_pieces = self.reads_in_pieces();
                if !in_pieces && JsonStreamRestorer::is_exact_for(&tokens) {
                    Response::stream(JsonStreamRestorer::new(tokens, self.restore_thinking()))
                } else {
                    self.tokens = Some(tokens);
                    Response::Json { size: 0 }
                }
            }
            _ => Response::stream(TextStreamRestorer::new(tokens, Escape::Raw)),
        };
        Verdict::Continue
    }

    /// A response body chunk: the host holds `body_size` bytes of it.
    pub fn on_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Verdict {
        match &mut self.response {
            Response::Pass => Verdict::Continue,
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
                    return Verdict::Pause;
                }
                // Restored whole, this body could outgrow what the host
                // holds: restore it as a stream from here on.
                let message = format!(
                    "aws-masker: JSON response (context {}) could restore to more than {limit} bytes; restoring it as a stream",
                    self.id
                );
                self.host.log(Level::Info, &message);
                let tokens = self.tokens.take().unwrap_or_default();
                self.response = Response::stream(TextStreamRestorer::new(tokens, Escape::Json));
                self.stream_chunk(body_size, end_of_stream)
            }
        }
    }

    /// The response trailers: what a stream restorer holds is released,
    /// a buffered JSON answer restored.
    pub fn on_response_trailers(&mut self) -> Verdict {
        self.end_response()
    }
}
