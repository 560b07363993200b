//! What the filter needs from a proxy-wasm host, as a trait: body buffers,
//! headers, local replies, logs, counters, shared data and properties.
//!
//! The exchange state machine ([`super::Exchange`]) and the start-up
//! decisions ([`super::configure`]) talk to the host only through
//! [`Host`], so they are tested natively with a fake host; `filter.rs`
//! implements it over the raw ABI calls, and `tests/wasm` proves that
//! implementation against each host's quirks.

use crate::detect::Family;

use super::{RefusalReason, METRIC_PREFIX};

/// One of the two body buffers of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyBuffer {
    /// The request body (client to upstream).
    Request,
    /// The response body (upstream to client).
    Response,
}

/// One of the two header maps of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderMap {
    /// The request headers.
    Request,
    /// The response headers.
    Response,
}

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// What was done (values masked, a response restored as a stream).
    Info,
    /// What was refused or given up, and the configuration's weak spots.
    Warn,
    /// What stops the filter from working.
    Error,
}

/// A counter the filter keeps, named `aws_masker.<name>` on the host
/// ([`Counter::name`]): Envoy shows them under its wasm stats, Kong in its
/// metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Requests with at least one value masked.
    RequestsMasked,
    /// Values masked, by detector family.
    ValuesMasked(Family),
    /// Tokens restored in responses.
    ValuesRestored,
    /// Requests refused, by reason.
    Refusals(RefusalReason),
    /// Responses passed through untouched (binary, or nothing to restore).
    ResponsesPassthrough,
    /// Responses compressed although the request asked for identity.
    ResponsesCompressed,
    /// Responses that would have restored past `max_body_bytes`.
    ResponsesTooLarge,
    /// Streams ended with an error event (an event over the size cap).
    ResponsesAborted,
    /// Responses that ended with trailers while restored bytes were held
    /// back and the host took no more body.
    ResponsesIncomplete,
    /// Long texts the memo knew.
    MemoHits,
    /// Long texts the memo did not know.
    MemoMisses,
}

impl Counter {
    /// Every counter, in the order they are defined on the host.
    pub fn all() -> Vec<Counter> {
        let mut all = vec![Counter::RequestsMasked];
        all.extend(
            Family::BUILT_IN
                .iter()
                .chain([Family::Custom].iter())
                .map(|f| Counter::ValuesMasked(*f)),
        );
        all.push(Counter::ValuesRestored);
        all.extend(RefusalReason::ALL.iter().map(|r| Counter::Refusals(*r)));
        all.extend([
            Counter::ResponsesPassthrough,
            Counter::ResponsesCompressed,
            Counter::ResponsesTooLarge,
            Counter::ResponsesAborted,
            Counter::ResponsesIncomplete,
            Counter::MemoHits,
            Counter::MemoMisses,
        ]);
        all
    }

    /// The counter's full name on the host, e.g.
    /// `aws_masker.refusals.too_large`.
    pub fn name(self) -> String {
        let short = match self {
            Counter::RequestsMasked => "requests_masked".to_string(),
            Counter::ValuesMasked(f) => format!("values_masked.{}", f.name()),
            Counter::ValuesRestored => "values_restored".to_string(),
            Counter::Refusals(r) => format!("refusals.{}", r.name()),
            Counter::ResponsesPassthrough => "responses_passthrough".to_string(),
            Counter::ResponsesCompressed => "responses_compressed".to_string(),
            Counter::ResponsesTooLarge => "responses_too_large".to_string(),
            Counter::ResponsesAborted => "responses_aborted".to_string(),
            Counter::ResponsesIncomplete => "responses_incomplete".to_string(),
            Counter::MemoHits => "memo.hits".to_string(),
            Counter::MemoMisses => "memo.misses".to_string(),
        };
        format!("{METRIC_PREFIX}{short}")
    }
}

/// The host calls of one filter instance. Every call answers "not
/// available" (`None`, `false`) rather than failing: a host that refuses
/// something must never take the filter down with it.
pub trait Host {
    /// `len` bytes of a body buffer from `start` (fewer at its end).
    fn body(&self, buffer: BodyBuffer, start: usize, len: usize) -> Option<Vec<u8>>;

    /// Writes `data` into a body buffer with the host's own semantics of
    /// (`start`, `size`): at start 0 with a size covering the buffer it
    /// replaces it, at or past its end it appends (the only two forms the
    /// filter uses, which Envoy and Kong both take). `false`: refused.
    fn set_body(&mut self, buffer: BodyBuffer, start: usize, size: usize, data: &[u8]) -> bool;

    /// A header's value.
    fn header(&self, map: HeaderMap, name: &str) -> Option<String>;

    /// Sets a header, replacing any value it had.
    fn set_header(&mut self, map: HeaderMap, name: &str, value: &str);

    /// Removes a header.
    fn remove_header(&mut self, map: HeaderMap, name: &str);

    /// Answers the client with a local reply instead of forwarding.
    fn send_response(&mut self, status: u32, headers: &[(&str, &str)], body: &[u8]) -> bool;

    /// Writes a log line.
    fn log(&mut self, level: Level, message: &str);

    /// Adds `by` to a counter.
    fn count(&mut self, counter: Counter, by: u64);

    /// A value of the host's shared data, with its compare-and-swap token.
    fn shared_data(&self, key: &str) -> (Option<Vec<u8>>, u32);

    /// Stores a shared value if `cas` still matches; `false` otherwise.
    fn set_shared_data(&mut self, key: &str, value: &[u8], cas: u32) -> bool;

    /// A host property, e.g. `plugin_vm_id` (Envoy only).
    fn property(&self, path: &str) -> Option<Vec<u8>>;

    /// Fills `buf` with random bytes; `false` when the host has none.
    fn random(&mut self, buf: &mut [u8]) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_has_its_own_name() {
        let names: Vec<String> = Counter::all().into_iter().map(Counter::name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for want in [
            "aws_masker.requests_masked",
            "aws_masker.values_masked.ec2_ids",
            "aws_masker.values_masked.custom",
            "aws_masker.refusals.not_configured",
            "aws_masker.memo.hits",
        ] {
            assert!(names.iter().any(|n| n == want), "{want}");
        }
    }
}
