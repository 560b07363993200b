//! Streaming restore of Server-Sent Events responses (Anthropic Messages
//! and OpenAI chat completion streams), fed in arbitrary chunks.
//!
//! The stream is framed into events as the WHATWG spec reads them (LF,
//! CRLF or CR line ends, a blank line ends an event); only the incomplete
//! event is buffered. An event that needs no change is forwarded byte for
//! byte. In streamed text (`text_delta`, `input_json_delta`, OpenAI
//! `delta.content` and tool call `arguments`) a token cut between two
//! deltas is completed by holding back, per content block, only the tail
//! that could still grow into an issued token; that tail is prepended to
//! the block's next delta, or flushed in a synthetic delta event before
//! the block ends.
//!
//! ```
//! use aws_masker::stream::{ChunkRestorer, SseRestorer};
//! use aws_masker::token::{TokenKey, TokenMap};
//!
//! let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
//! let mut map = TokenMap::new("AWS_".to_string());
//! let t = map.issue(&key, "EC2", "i-0123456789abcdef0").to_string();
//! let (a, b) = t.split_at(7);
//! let delta = |s: &str| format!(
//!     "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{s}\"}}}}\n\n");
//! let stream = format!("{}{}", delta(&format!("id {a}")), delta(&format!("{b}.")));
//! let mut r = SseRestorer::new(map, false);
//! let mut out = Vec::new();
//! for chunk in stream.as_bytes().chunks(5) {
//!     r.push(chunk, &mut out);
//! }
//! r.finish(&mut out);
//! let out = String::from_utf8(out).unwrap();
//! assert!(out.contains(r#""text":"id ""#));
//! assert!(out.contains(r#""text":"i-0123456789abcdef0.""#));
//! assert_eq!(r.restored(), 1);
//! ```

mod framing;
mod json_answer;
#[cfg(test)]
mod tests;

pub use json_answer::JsonStreamRestorer;

use crate::json::{escape_into, rewrite_strings, WalkOptions};
use crate::restore::{
    grown_size, max_growth, max_token_len, restore_json_strings, Escape, Restorer,
};
use crate::token::TokenMap;
use framing::{Event, Field, Framer, Line};
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::borrow::Cow;

/// Largest incomplete SSE event held while waiting for its blank line (by
/// default): real events are a few hundred bytes; a stream without blank
/// lines would otherwise be held whole.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The SSE event that ends a response stream the filter gave up on (an
/// event past the size cap): an Anthropic `error` event, which the SDKs
/// raise as an API error, instead of a stream cut without a word.
pub fn stream_error_event(message: &str) -> Vec<u8> {
    let v = serde_json::json!({
        "type": "error",
        "error": {"type": "api_error", "message": format!("aws-masker: {message}")},
    });
    let mut out = b"event: error\ndata: ".to_vec();
    out.extend_from_slice(&serde_json::to_vec(&v).unwrap_or_default());
    out.extend_from_slice(b"\n\n");
    out
}

/// Restores an SSE response stream event by event as it arrives.
#[derive(Debug)]
pub struct SseRestorer {
    tokens: TokenMap,
    max_len: usize,
    framer: Framer,
    state: State,
    /// Cap on the incomplete event held back.
    max_event: usize,
    /// The stream passed the cap: it was ended with an error event and the
    /// rest is dropped.
    aborted: bool,
    /// [`max_growth`] of the tokens.
    growth: (usize, usize),
}

impl SseRestorer {
    /// A restorer for the tokens one exchange issued; `restore_thinking`
    /// also restores inside `thinking` text (signatures never).
    pub fn new(tokens: TokenMap, restore_thinking: bool) -> SseRestorer {
        let max_len = max_token_len(&tokens);
        let growth = max_growth(&tokens);
        SseRestorer {
            growth,
            tokens,
            max_len,
            framer: Framer::default(),
            state: State {
                restore_thinking,
                holds: Vec::new(),
                restored: 0,
                eol: b"\n",
                meta: None,
            },
            max_event: DEFAULT_MAX_EVENT_BYTES,
            aborted: false,
        }
    }

    /// The same restorer, holding at most `bytes` of an incomplete event
    /// before it ends the stream with an error event.
    pub fn with_max_event_bytes(mut self, bytes: usize) -> SseRestorer {
        self.max_event = bytes;
        self
    }
}

/// Restores a plain text stream (any `text/*` response) fed in arbitrary
/// chunks: a token cut between chunks is held back only while more input
/// could complete it. Works on bytes; invalid UTF-8 passes through.
#[derive(Debug)]
pub struct TextStreamRestorer {
    tokens: TokenMap,
    max_len: usize,
    escape: Escape,
    held: Vec<u8>,
    restored: u64,
    /// [`max_growth`] of the tokens.
    growth: (usize, usize),
}

impl TextStreamRestorer {
    /// A restorer writing originals as `escape` says (`Escape::Json` when
    /// the stream is JSON text restored without parsing it).
    pub fn new(tokens: TokenMap, escape: Escape) -> TextStreamRestorer {
        let max_len = max_token_len(&tokens);
        let growth = max_growth(&tokens);
        TextStreamRestorer {
            growth,
            tokens,
            max_len,
            escape,
            held: Vec::new(),
            restored: 0,
        }
    }
}

/// Where a held-back tail belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// An Anthropic content block, by index.
    Block(u64),
    /// OpenAI `choices[i].delta.content`.
    Content(u64),
    /// OpenAI `choices[i].delta.tool_calls[j].function.arguments`.
    Args(u64, u64),
}

/// What kind of streamed text a tail was cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Json,
    Thinking,
}

impl Kind {
    fn escape(self) -> Escape {
        match self {
            Kind::Json => Escape::Json,
            Kind::Text | Kind::Thinking => Escape::Raw,
        }
    }
}

#[derive(Debug)]
struct Hold {
    slot: Slot,
    kind: Kind,
    text: String,
}

/// Held OpenAI tails of one choice, flushed together.
struct ChoiceFlush {
    choice: u64,
    content: Option<String>,
    tools: Vec<(u64, String)>,
}

/// OpenAI chunk fields repeated in synthetic chunks.
#[derive(Debug, Default)]
struct ChunkMeta {
    id: Option<String>,
    object: Option<String>,
    created: Option<String>,
    model: Option<String>,
}

#[derive(Debug)]
struct State {
    restore_thinking: bool,
    holds: Vec<Hold>,
    restored: u64,
    /// Line ending for synthetic events (the stream's own).
    eol: &'static [u8],
    meta: Option<ChunkMeta>,
}

/// The fields of an event's data this module dispatches on.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", default, borrow)]
    ty: Option<Cow<'a, str>>,
    #[serde(default)]
    index: Option<u64>,
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    #[serde(default, borrow)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    object: Option<Cow<'a, str>>,
    #[serde(default)]
    created: Option<serde_json::Number>,
    #[serde(default, borrow)]
    model: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(rename = "type", default, borrow)]
    ty: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    partial_json: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    thinking: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(default, borrow)]
    delta: Option<ChoiceDelta<'a>>,
    #[serde(default)]
    finish_reason: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ChoiceDelta<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    tool_calls: Option<Vec<ToolCall<'a>>>,
}

#[derive(Deserialize)]
struct ToolCall<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(default, borrow)]
    function: Option<Function<'a>>,
}

#[derive(Deserialize)]
struct Function<'a> {
    #[serde(default, borrow)]
    arguments: Option<Cow<'a, str>>,
}

fn eol_of(term: &[u8]) -> &'static [u8] {
    match term {
        b"\r\n" => b"\r\n",
        b"\r" => b"\r",
        _ => b"\n",
    }
}

impl State {
    fn on_event(&mut self, r: &Restorer<'_>, ev: Event<'_>, out: &mut Vec<u8>) {
        let mut data_lines = 0usize;
        let mut first: Option<(&Line, usize)> = None;
        for l in ev.lines {
            if let Field::Field { name, value_start } = ev.field(l) {
                if name == b"data" {
                    data_lines += 1;
                    if first.is_none() {
                        first = Some((l, value_start));
                    }
                }
            }
        }
        let Some((first_line, first_start)) = first else {
            out.extend_from_slice(ev.raw);
            return;
        };
        if let Some(l) = ev.lines.first() {
            self.eol = eol_of(ev.terminator(l));
        }
        let joined;
        let data: &[u8] = if data_lines == 1 {
            ev.value(first_line, first_start)
        } else {
            joined = join_data(&ev);
            &joined
        };
        match self.process(r, data, out) {
            None => out.extend_from_slice(ev.raw),
            Some(new) => reemit(&ev, &new, out),
        }
    }

    /// Restores one event's data; `None` when it is unchanged. Synthetic
    /// events that must precede it are written to `out`.
    fn process(&mut self, r: &Restorer<'_>, data: &[u8], out: &mut Vec<u8>) -> Option<Vec<u8>> {
        if self.holds.is_empty() && !r.json_may_need(data) {
            return None;
        }
        if data == b"[DONE]" {
            self.flush_where(r, out, |s| !matches!(s, Slot::Block(_)));
            return None;
        }
        if let Some(fd) = FastDelta::parse(data) {
            let new = self.delta_value(r, fd.index, fd.kind, &fd.value, out)?;
            let mut v = Vec::with_capacity(data.len() + new.len());
            v.extend_from_slice(data.get(..fd.start).unwrap_or_default());
            let mut lit = String::with_capacity(new.len() + 8);
            escape_into(&new, &mut lit);
            v.extend_from_slice(lit.as_bytes());
            v.extend_from_slice(data.get(fd.end..).unwrap_or_default());
            return Some(v);
        }
        let head: Head<'_> = match serde_json::from_slice(data) {
            Ok(h) => h,
            Err(_) => return self.restore_whole(r, data),
        };
        if head.choices.is_some() {
            return self.openai(r, data, &head, out);
        }
        match head.ty.as_deref() {
            Some("content_block_delta") => self.block_delta(r, data, &head, out),
            Some("content_block_stop") => {
                let idx = head.index.unwrap_or(0);
                self.flush_where(r, out, |s| s == Slot::Block(idx));
                self.restore_whole(r, data)
            }
            Some("message_stop" | "error") => {
                self.flush_where(r, out, |s| matches!(s, Slot::Block(_)));
                self.restore_whole(r, data)
            }
            _ => self.restore_whole(r, data),
        }
    }

    /// Restores every string literal of JSON `data` (or, if it is not
    /// JSON, the data as raw text).
    fn restore_whole(&mut self, r: &Restorer<'_>, data: &[u8]) -> Option<Vec<u8>> {
        match restore_json_strings(r, data, self.restore_thinking) {
            Ok((res, n)) => {
                self.restored += n as u64;
                res
            }
            Err(_) => {
                let mut out = Vec::with_capacity(data.len() + 32);
                let (n, _) = r.restore_bytes_into(data, Escape::Raw, false, &mut out);
                self.restored += n as u64;
                (n > 0).then_some(out)
            }
        }
    }

    fn block_delta(
        &mut self,
        r: &Restorer<'_>,
        data: &[u8],
        head: &Head<'_>,
        out: &mut Vec<u8>,
    ) -> Option<Vec<u8>> {
        let idx = head.index.unwrap_or(0);
        let Some(delta) = &head.delta else {
            return self.restore_whole(r, data);
        };
        let (field, kind, value) = match delta.ty.as_deref() {
            Some("text_delta") => ("text", Some(Kind::Text), &delta.text),
            Some("input_json_delta") => ("partial_json", Some(Kind::Json), &delta.partial_json),
            Some("thinking_delta") => ("thinking", Some(Kind::Thinking), &delta.thinking),
            Some("signature_delta") => return None,
            _ => ("", None, &None),
        };
        let (Some(kind), Some(value)) = (kind, value.as_deref()) else {
            return self.restore_whole(r, data);
        };
        let new = self.delta_value(r, idx, kind, value, out)?;
        replace_field(data, field, value, new, self.restore_thinking)
    }

    /// The text to emit for a streamed delta `value` of block `idx`
    /// (`None`: emit the delta unchanged).
    fn delta_value(
        &mut self,
        r: &Restorer<'_>,
        idx: u64,
        kind: Kind,
        value: &str,
        out: &mut Vec<u8>,
    ) -> Option<String> {
        if kind == Kind::Thinking && !self.restore_thinking {
            return None;
        }
        let slot = Slot::Block(idx);
        let held = self.take_hold(r, slot, kind, out);
        self.advance(r, slot, kind, held, value, true)
    }

    fn openai(
        &mut self,
        r: &Restorer<'_>,
        data: &[u8],
        head: &Head<'_>,
        out: &mut Vec<u8>,
    ) -> Option<Vec<u8>> {
        self.meta = Some(ChunkMeta {
            id: head.id.as_deref().map(str::to_string),
            object: head.object.as_deref().map(str::to_string),
            created: head.created.as_ref().map(ToString::to_string),
            model: head.model.as_deref().map(str::to_string),
        });
        let mut contents: Vec<(&str, Option<String>)> = Vec::new();
        let mut args: Vec<(&str, Option<String>)> = Vec::new();
        let mut finishing: Vec<u64> = Vec::new();
        for (pos, ch) in head.choices.iter().flatten().enumerate() {
            let ci = ch.index.unwrap_or(pos as u64);
            let last = ch.finish_reason.is_some();
            if let Some(d) = &ch.delta {
                if let Some(c) = d.content.as_deref() {
                    let slot = Slot::Content(ci);
                    let held = self.take_hold(r, slot, Kind::Text, out);
                    contents.push((c, self.advance(r, slot, Kind::Text, held, c, !last)));
                }
                for (tpos, tc) in d.tool_calls.iter().flatten().enumerate() {
                    let Some(a) = tc.function.as_ref().and_then(|f| f.arguments.as_deref()) else {
                        continue;
                    };
                    let slot = Slot::Args(ci, tc.index.unwrap_or(tpos as u64));
                    let held = self.take_hold(r, slot, Kind::Json, out);
                    args.push((a, self.advance(r, slot, Kind::Json, held, a, !last)));
                }
            }
            if last {
                finishing.push(ci);
            }
        }
        for ci in finishing {
            self.flush_where(r, out, |s| match s {
                Slot::Content(c) | Slot::Args(c, _) => c == ci,
                Slot::Block(_) => false,
            });
        }
        let mut count = 0;
        let (mut next_content, mut next_arg) = (0, 0);
        let walked = rewrite_strings(data, WalkOptions::default(), |ctx, s| {
            if !ctx.is_key {
                let (targets, next) = match ctx.key {
                    Some("content") => (&mut contents, &mut next_content),
                    Some("arguments") => (&mut args, &mut next_arg),
                    _ => return r.restore_str(s, &mut count),
                };
                if let Some((orig, new)) = targets.get_mut(*next) {
                    if *orig == s {
                        *next += 1;
                        return new.take();
                    }
                }
            }
            r.restore_str(s, &mut count)
        });
        self.restored += count as u64;
        walked.ok().flatten()
    }

    /// Prepends `held` to a delta's `value`, restores it holding back (when
    /// `hold`) a tail that could still grow into a token, and returns the
    /// text to emit when it differs from `value`.
    fn advance(
        &mut self,
        r: &Restorer<'_>,
        slot: Slot,
        kind: Kind,
        held: String,
        value: &str,
        hold: bool,
    ) -> Option<String> {
        let combined: Cow<'_, str> = if held.is_empty() {
            Cow::Borrowed(value)
        } else {
            let mut s = held;
            s.push_str(value);
            Cow::Owned(s)
        };
        let mut emitted = String::with_capacity(combined.len() + 16);
        let (n, from) = r.restore_str_into(&combined, kind.escape(), hold, &mut emitted);
        self.restored += n as u64;
        if let Some(tail) = combined.get(from..).filter(|t| !t.is_empty()) {
            self.holds.push(Hold {
                slot,
                kind,
                text: tail.to_string(),
            });
        }
        (emitted != value).then_some(emitted)
    }

    /// Removes the held tail of `slot`; one of another kind (the stream
    /// changed the delta type of a block) is flushed first.
    fn take_hold(&mut self, r: &Restorer<'_>, slot: Slot, kind: Kind, out: &mut Vec<u8>) -> String {
        let Some(i) = self.holds.iter().position(|h| h.slot == slot) else {
            return String::new();
        };
        let h = self.holds.remove(i);
        if h.kind == kind {
            return h.text;
        }
        self.emit_synthetic(r, vec![h], out);
        String::new()
    }

    /// Flushes the held tails whose slot matches, in synthetic events.
    fn flush_where<F: Fn(Slot) -> bool>(&mut self, r: &Restorer<'_>, out: &mut Vec<u8>, f: F) {
        if self.holds.is_empty() {
            return;
        }
        let (flush, keep): (Vec<Hold>, Vec<Hold>) = std::mem::take(&mut self.holds)
            .into_iter()
            .partition(|h| f(h.slot));
        self.holds = keep;
        self.emit_synthetic(r, flush, out);
    }

    fn flush_all(&mut self, r: &Restorer<'_>, out: &mut Vec<u8>) {
        self.flush_where(r, out, |_| true);
    }

    /// Writes held tails (restored as far as they can be: the stream
    /// ends for them) as synthetic delta events.
    fn emit_synthetic(&mut self, r: &Restorer<'_>, holds: Vec<Hold>, out: &mut Vec<u8>) {
        // OpenAI tails of one choice go into one chunk.
        let mut choices: Vec<ChoiceFlush> = Vec::new();
        for h in holds {
            let mut text = String::with_capacity(h.text.len() + 16);
            let (n, _) = r.restore_str_into(&h.text, h.kind.escape(), false, &mut text);
            self.restored += n as u64;
            let (c, tool) = match h.slot {
                Slot::Block(idx) => {
                    self.anthropic_delta(idx, h.kind, &text, out);
                    continue;
                }
                Slot::Content(c) => (c, None),
                Slot::Args(c, t) => (c, Some(t)),
            };
            let i = match choices.iter().position(|x| x.choice == c) {
                Some(i) => i,
                None => {
                    choices.push(ChoiceFlush {
                        choice: c,
                        content: None,
                        tools: Vec::new(),
                    });
                    choices.len() - 1
                }
            };
            if let Some(x) = choices.get_mut(i) {
                match tool {
                    None => x.content = Some(text),
                    Some(t) => x.tools.push((t, text)),
                }
            }
        }
        for x in choices {
            self.openai_chunk(x.choice, x.content.as_deref(), &x.tools, out);
        }
    }

    fn anthropic_delta(&self, idx: u64, kind: Kind, text: &str, out: &mut Vec<u8>) {
        let (ty, field) = match kind {
            Kind::Text => ("text_delta", "text"),
            Kind::Json => ("input_json_delta", "partial_json"),
            Kind::Thinking => ("thinking_delta", "thinking"),
        };
        let mut json = format!(
            r#"{{"type":"content_block_delta","index":{idx},"delta":{{"type":"{ty}","{field}":""#
        );
        escape_into(text, &mut json);
        json.push_str("\"}}");
        out.extend_from_slice(b"event: content_block_delta");
        out.extend_from_slice(self.eol);
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(json.as_bytes());
        out.extend_from_slice(self.eol);
        out.extend_from_slice(self.eol);
    }

    fn openai_chunk(
        &self,
        choice: u64,
        content: Option<&str>,
        tools: &[(u64, String)],
        out: &mut Vec<u8>,
    ) {
        let mut json = String::from("{");
        let meta = self.meta.as_ref();
        let str_field = |json: &mut String, name: &str, v: Option<&String>| {
            if let Some(v) = v {
                json.push('"');
                json.push_str(name);
                json.push_str("\":\"");
                escape_into(v, json);
                json.push_str("\",");
            }
        };
        str_field(&mut json, "id", meta.and_then(|m| m.id.as_ref()));
        match meta.and_then(|m| m.object.as_ref()) {
            Some(o) => str_field(&mut json, "object", Some(o)),
            None => json.push_str(r#""object":"chat.completion.chunk","#),
        }
        if let Some(c) = meta.and_then(|m| m.created.as_ref()) {
            json.push_str("\"created\":");
            json.push_str(c);
            json.push(',');
        }
        str_field(&mut json, "model", meta.and_then(|m| m.model.as_ref()));
        json.push_str(&format!(r#""choices":[{{"index":{choice},"delta":{{"#));
        let mut sep = "";
        if let Some(c) = content {
            json.push_str("\"content\":\"");
            escape_into(c, &mut json);
            json.push('"');
            sep = ",";
        }
        if !tools.is_empty() {
            json.push_str(sep);
            json.push_str("\"tool_calls\":[");
            for (i, (t, a)) in tools.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                json.push_str(&format!(r#"{{"index":{t},"function":{{"arguments":""#));
                escape_into(a, &mut json);
                json.push_str("\"}}");
            }
            json.push(']');
        }
        json.push_str(r#"},"finish_reason":null}]}"#);
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(json.as_bytes());
        out.extend_from_slice(self.eol);
        out.extend_from_slice(self.eol);
    }
}

/// A `content_block_delta` in the exact compact form Anthropic sends,
/// e.g. `{"type":"content_block_delta","index":0,"delta":{"type":
/// "text_delta","text":"..."}}`: read without a JSON parser. Any other
/// form takes the general path.
struct FastDelta<'a> {
    index: u64,
    kind: Kind,
    /// The decoded text.
    value: Cow<'a, str>,
    /// Byte range of the text literal's content in the data.
    start: usize,
    end: usize,
}

impl<'a> FastDelta<'a> {
    fn parse(data: &'a [u8]) -> Option<FastDelta<'a>> {
        let rest = data.strip_prefix(b"{\"type\":\"content_block_delta\",\"index\":")?;
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 18 || (digits > 1 && rest.first() == Some(&b'0')) {
            return None;
        }
        let index = std::str::from_utf8(rest.get(..digits)?)
            .ok()?
            .parse()
            .ok()?;
        let rest = rest
            .get(digits..)?
            .strip_prefix(b",\"delta\":{\"type\":\"")?;
        let (kind, rest) = if let Some(r) = rest.strip_prefix(b"text_delta\",\"text\":\"") {
            (Kind::Text, r)
        } else if let Some(r) = rest.strip_prefix(b"input_json_delta\",\"partial_json\":\"") {
            (Kind::Json, r)
        } else if let Some(r) = rest.strip_prefix(b"thinking_delta\",\"thinking\":\"") {
            (Kind::Thinking, r)
        } else {
            return None;
        };
        let start = data.len() - rest.len();
        let mut i = 0;
        let len = loop {
            let j = i + memchr::memchr2(b'"', b'\\', rest.get(i..)?)?;
            if rest.get(j) == Some(&b'"') {
                break j;
            }
            i = j + 2;
        };
        if rest.get(len..)? != b"\"}}" {
            return None;
        }
        let lit = rest.get(..len)?;
        if lit.iter().any(|b| *b < 0x20) {
            return None;
        }
        let value = crate::json::decode_literal(std::str::from_utf8(lit).ok()?).ok()?;
        Some(FastDelta {
            index,
            kind,
            value,
            start,
            end: start + len,
        })
    }
}

/// The data lines of an event joined with LF.
fn join_data(ev: &Event<'_>) -> Vec<u8> {
    let mut j = Vec::new();
    let mut first = true;
    for l in ev.lines {
        if let Field::Field { name, value_start } = ev.field(l) {
            if name == b"data" {
                if !first {
                    j.push(b'\n');
                }
                first = false;
                j.extend_from_slice(ev.value(l, value_start));
            }
        }
    }
    j
}

/// Replaces the (decoded) string value `old` of member `field` in JSON
/// `data` by `new`, leaving every other byte as it is.
fn replace_field(
    data: &[u8],
    field: &str,
    old: &str,
    new: String,
    restore_thinking: bool,
) -> Option<Vec<u8>> {
    let opts = WalkOptions {
        skip_thinking: !restore_thinking,
    };
    let mut new = Some(new);
    let walked = rewrite_strings(data, opts, |ctx, s| {
        if !ctx.is_key && ctx.key == Some(field) && s == old {
            new.take()
        } else {
            None
        }
    });
    match walked {
        Ok(Some(v)) => Some(v),
        // Not found where expected (cannot happen for data serde read):
        // rebuild the event rather than lose the restored text.
        _ => {
            let new = new?;
            let mut v: serde_json::Value = serde_json::from_slice(data).ok()?;
            let slot = v.get_mut("delta")?.get_mut(field)?;
            *slot = serde_json::Value::String(new);
            serde_json::to_vec(&v).ok()
        }
    }
}

/// Writes `ev` with its data replaced by `data`: other lines unchanged,
/// data lines keep their `data:` / `data: ` style and line endings.
fn reemit(ev: &Event<'_>, data: &[u8], out: &mut Vec<u8>) {
    let mut pieces = split_lines(data);
    let last_data = ev
        .lines
        .iter()
        .rposition(|l| matches!(ev.field(l), Field::Field { name, .. } if name == b"data"));
    let mut end = 0;
    for (i, l) in ev.lines.iter().enumerate() {
        end = l.term_end;
        let value_start = match ev.field(l) {
            Field::Field { name, value_start } if name == b"data" => value_start,
            _ => {
                out.extend_from_slice(ev.raw.get(l.start..l.term_end).unwrap_or_default());
                continue;
            }
        };
        let mut prefix = ev.raw.get(l.start..value_start).unwrap_or_default();
        let colon = prefix.contains(&b':');
        let term = ev.terminator(l);
        let mut write = |piece: &[u8], prefix: &[u8]| {
            out.extend_from_slice(prefix);
            if !colon {
                out.push(b':');
            }
            out.extend_from_slice(piece);
            out.extend_from_slice(term);
        };
        if let Some(p) = pieces.next() {
            write(p, prefix);
        }
        if Some(i) == last_data {
            // Extra pieces take the last data line's style, without a
            // byte order mark.
            if let Some(bom) = prefix.strip_prefix(b"\xEF\xBB\xBF".as_slice()) {
                prefix = bom;
            }
            for p in pieces.by_ref() {
                write(p, prefix);
            }
        }
    }
    out.extend_from_slice(ev.raw.get(end..).unwrap_or_default());
}

/// Splits on LF, CRLF and CR (what SSE would read as line ends).
fn split_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memchr2(b'\n', b'\r', r) {
            Some(i) => {
                let skip = if r.get(i) == Some(&b'\r') && r.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                rest = r.get(i + skip..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// A response restorer fed the body chunk by chunk, whatever the body's
/// format: the filter streams SSE and text responses through one code path.
pub trait ChunkRestorer {
    /// Feeds the next chunk; appends to `out` what can be released now.
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>);
    /// Ends the stream: appends everything still held back.
    fn finish(&mut self, out: &mut Vec<u8>);
    /// Tokens restored so far.
    fn restored(&self) -> u64;
    /// Whether the restorer gave up on the stream (and ended it with an
    /// error): the caller counts and logs it.
    fn aborted(&self) -> bool {
        false
    }
    /// The most bytes pushing a chunk of `chunk_len` bytes could release:
    /// what is held plus the chunk, grown by the token that grows the most.
    /// The filter checks it before a chunk so it never hands the host more
    /// than the host holds.
    fn worst_case(&self, chunk_len: usize) -> usize;
    /// Whether [`finish`](Self::finish) would release anything: a possible
    /// token tail or an incomplete event is held back. A host that takes
    /// no more body after it released a chunk (Envoy at response trailers)
    /// must keep the chunk buffered while this holds, or the held bytes
    /// have nowhere to go.
    fn holds(&self) -> bool;
}

impl ChunkRestorer for SseRestorer {
    /// Feeds the next chunk; appends to `out` what can be released now.
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.aborted {
            return;
        }
        let r = Restorer::with_max_len(&self.tokens, self.max_len);
        let state = &mut self.state;
        self.framer
            .push(chunk, out, |ev, out| state.on_event(&r, ev, out));
        if self.framer.buffered() > self.max_event {
            // Fail closed: what is held may hold tokens split anywhere, so
            // neither forwarding it raw nor holding more is right.
            self.aborted = true;
            self.framer = Framer::default();
            self.state.holds.clear();
            out.extend_from_slice(&stream_error_event(&format!(
                "the response stream holds an event over {} bytes; the filter ended the stream",
                self.max_event
            )));
        }
    }

    /// Ends the stream: appends everything still held back (held tails in
    /// synthetic delta events, then an incomplete final event as it is).
    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.aborted {
            return;
        }
        let r = Restorer::with_max_len(&self.tokens, self.max_len);
        self.state.flush_all(&r, out);
        out.extend_from_slice(&self.framer.take_rest());
    }

    /// How many tokens were restored so far.
    fn restored(&self) -> u64 {
        self.state.restored
    }

    fn aborted(&self) -> bool {
        self.aborted
    }

    fn worst_case(&self, chunk_len: usize) -> usize {
        // Synthetic delta events add their framing around held tails.
        let held = self.framer.buffered() + self.state.holds.len() * 256;
        grown_size(held.saturating_add(chunk_len), self.growth).saturating_add(64)
    }

    fn holds(&self) -> bool {
        !self.aborted && (self.framer.buffered() > 0 || !self.state.holds.is_empty())
    }
}

impl ChunkRestorer for TextStreamRestorer {
    /// Feeds the next chunk; appends to `out` what can be released now.
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let r = Restorer::with_max_len(&self.tokens, self.max_len);
        if self.held.is_empty() {
            let (n, from) = r.restore_bytes_into(chunk, self.escape, true, out);
            self.restored += n as u64;
            self.held
                .extend_from_slice(chunk.get(from..).unwrap_or_default());
        } else {
            let mut buf = std::mem::take(&mut self.held);
            buf.extend_from_slice(chunk);
            let (n, from) = r.restore_bytes_into(&buf, self.escape, true, out);
            self.restored += n as u64;
            buf.drain(..from.min(buf.len()));
            self.held = buf;
        }
    }

    /// Ends the stream: appends everything still held back.
    fn finish(&mut self, out: &mut Vec<u8>) {
        let r = Restorer::with_max_len(&self.tokens, self.max_len);
        let held = std::mem::take(&mut self.held);
        let (n, _) = r.restore_bytes_into(&held, self.escape, false, out);
        self.restored += n as u64;
    }

    /// How many tokens were restored so far.
    fn restored(&self) -> u64 {
        self.restored
    }

    fn worst_case(&self, chunk_len: usize) -> usize {
        grown_size(self.held.len().saturating_add(chunk_len), self.growth)
    }

    fn holds(&self) -> bool {
        !self.held.is_empty()
    }
}
