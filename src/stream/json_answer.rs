//! Restoring a JSON answer chunk by chunk as it passes, to the bytes the
//! walk of the whole answer writes ([`crate::restore::restore_json`]).
//!
//! A host that cannot read a buffered body in parts (Kong: its
//! `get_buffer` ignores the offset) would otherwise hand the filter the
//! whole answer at once, and the VM would hold it beside the token map.
//!
//! Valid JSON holds tokens only inside string literals, and when every
//! token is letters, digits and `_` (see
//! [`Restorer::tokens_are_word_bytes`]) a literal's raw bytes hold the
//! tokens its decoded text does, unless a `\u00XX` escape spells an ASCII
//! character. So an answer is restored byte by byte as it passes, and only
//! two kinds of literal wait:
//! - one with such an escape: from the first token that could reach the
//!   escape to the literal's end, then restored by the walk;
//! - a `data`, `signature`, `thinking` or `url` value, which the walk
//!   leaves alone or not by its object's `type`, wherever that `type`
//!   stands: it waits, and what follows it, until its object closes.
//!
//! An answer that turns out not to be JSON is restored byte by byte from
//! there on, as the walk's fallback restores all of it; a protected field
//! that passed before that point stays as it came.

use super::ChunkRestorer;
use crate::json::MAX_DEPTH;
use crate::restore::{
    grown_size, max_growth, max_token_len, restore_json_strings, Escape, Restorer,
};
use crate::token::TokenMap;
use std::collections::VecDeque;

/// Most raw bytes of a key or a `type` value kept to compare: the names
/// the walk tells apart are short, even written all in `\u` escapes
/// (`redacted_thinking`, 17 of them, is 102 bytes); a longer one is none.
const MAX_NAME: usize = 128;

/// What the lexer expects next outside a literal (as the walk's own
/// states, one per place in the grammar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Value,
    ValueOrArrEnd,
    KeyOrEnd,
    Key,
    Colon,
    CommaOrObjEnd,
    CommaOrArrEnd,
    /// The top-level value is complete: only white space may follow.
    End,
}

/// A short decoded name (a key, a `type` value); `None` when too long to
/// be any the walk tells apart.
type Name = Option<Vec<u8>>;

/// An open array or object.
#[derive(Debug)]
enum Frame {
    Object {
        /// Tells its waiting fields from other objects'.
        id: u64,
        /// The current member's key.
        key: Name,
        /// The last string value of a `type` member.
        type_value: Name,
    },
    Array,
}

/// What a literal is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// An object's key.
    Key,
    /// The value of a `type` member (kept to compare).
    Type,
    /// Any other literal.
    Other,
}

/// Where a literal's content goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// Restored byte by byte as it passes.
    Bytes,
    /// A field its object's `type` decides: into the last waiting
    /// [`Seg::Field`].
    Field,
    /// Held to its end ([`JsonStreamRestorer::literal`]), then walked.
    Held,
}

/// Where the lexer is inside an escape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    None,
    /// After the `\`.
    Backslash,
    /// After `\u` and this many hex digits (the first two `0`).
    Unicode(u8),
}

/// The literal being read.
#[derive(Debug)]
struct Literal {
    role: Role,
    route: Route,
    esc: Esc,
    /// Where the escape being read starts in the current data.
    esc_start: usize,
    /// Raw content kept for [`Role::Key`] and [`Role::Type`].
    name: Vec<u8>,
    /// Where the content not yet kept in `name` starts in the current
    /// data.
    name_from: usize,
}

impl Literal {
    /// Keeps `data[name_from..to]` in `name` for a key or a `type` value
    /// (at most one byte past [`MAX_NAME`]).
    fn keep_name(&mut self, data: &[u8], to: usize) {
        if matches!(self.role, Role::Key | Role::Type) && self.name.len() <= MAX_NAME {
            let to = to.min(self.name_from + MAX_NAME + 1 - self.name.len());
            self.name
                .extend_from_slice(data.get(self.name_from..to).unwrap_or_default());
        }
        self.name_from = to;
    }
}

/// Output waiting behind a field whose object has not closed.
#[derive(Debug)]
enum Seg {
    /// Restored already.
    Out(Vec<u8>),
    /// A field's raw content, its object's id and its key, until the
    /// object closes; then its output.
    Field {
        object: u64,
        key: &'static str,
        raw: Vec<u8>,
        done: Option<Vec<u8>>,
    },
}

/// Restores a JSON answer chunk by chunk (see the module documentation);
/// built by [`JsonStreamRestorer::new`] where that is exact.
#[derive(Debug)]
pub struct JsonStreamRestorer {
    tokens: TokenMap,
    max_len: usize,
    growth: (usize, usize),
    restore_thinking: bool,
    /// The byte route's tail that more input could complete into a token.
    held: Vec<u8>,
    /// An escape cut by the end of a chunk, read again with the next.
    carry: Vec<u8>,
    stack: Vec<Frame>,
    expect: Expect,
    literal_state: Option<Literal>,
    /// Inside a number, `true`, `false` or `null`.
    in_scalar: bool,
    /// Output behind a waiting field.
    queue: VecDeque<Seg>,
    /// Bytes in `queue`.
    queued: usize,
    /// A literal held for the walk ([`Route::Held`]).
    literal: Vec<u8>,
    next_id: u64,
    /// Not JSON: bytes from here on.
    broken: bool,
    restored: u64,
}

/// The fields the walk leaves alone or not by their object's `type`.
fn waiting_key(key: &[u8]) -> Option<&'static str> {
    ["data", "signature", "thinking", "url"]
        .into_iter()
        .find(|k| k.as_bytes() == key)
}

impl JsonStreamRestorer {
    /// Whether a streamed restore writes exactly what the walk writes for
    /// `tokens`: when every token is letters, digits and `_` (a token
    /// prefix of other bytes can be spelled by JSON escapes).
    pub fn is_exact_for(tokens: &TokenMap) -> bool {
        Restorer::new(tokens).tokens_are_word_bytes()
    }

    /// A restorer of JSON answers for `tokens`, leaving `thinking` text as
    /// it is unless `restore_thinking` (as
    /// [`restore_json`](crate::restore::restore_json) does). Ask
    /// [`is_exact_for`](Self::is_exact_for) first: where it is false, a
    /// token a literal spells with escapes may be missed.
    pub fn new(tokens: TokenMap, restore_thinking: bool) -> JsonStreamRestorer {
        JsonStreamRestorer {
            max_len: max_token_len(&tokens),
            growth: max_growth(&tokens),
            tokens,
            restore_thinking,
            held: Vec::new(),
            carry: Vec::new(),
            stack: Vec::new(),
            expect: Expect::Value,
            literal_state: None,
            in_scalar: false,
            queue: VecDeque::new(),
            queued: 0,
            literal: Vec::new(),
            next_id: 0,
            broken: false,
            restored: 0,
        }
    }

    /// Appends `bytes` (output) behind whatever waits, or to `out`.
    fn emit(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        if self.queue.is_empty() {
            out.extend_from_slice(bytes);
            return;
        }
        self.queued += bytes.len();
        match self.queue.back_mut() {
            Some(Seg::Out(v)) => v.extend_from_slice(bytes),
            _ => self.queue.push_back(Seg::Out(bytes.to_vec())),
        }
    }

    /// Restores `run` byte by byte, holding back a tail more input could
    /// complete into a token.
    fn feed(&mut self, run: &[u8], out: &mut Vec<u8>) {
        if run.is_empty() {
            return;
        }
        let r = Restorer::with_max_len(&self.tokens, self.max_len);
        let mut buf = std::mem::take(&mut self.held);
        let input: &[u8] = if buf.is_empty() {
            run
        } else {
            buf.extend_from_slice(run);
            &buf
        };
        let mut restored = Vec::new();
        let target = if self.queue.is_empty() {
            &mut *out
        } else {
            &mut restored
        };
        let (n, from) = r.restore_bytes_into(input, Escape::Json, true, target);
        self.restored += n as u64;
        self.held = input.get(from..).unwrap_or_default().to_vec();
        self.emit(&restored, out);
    }

    /// Routes a literal's content (or, outside one, structure) as the
    /// current literal's route says.
    fn route(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let Some(lit) = self.literal_state.as_mut() else {
            return self.feed(bytes, out);
        };
        match lit.route {
            Route::Bytes => self.feed(bytes, out),
            Route::Held => self.literal.extend_from_slice(bytes),
            Route::Field => {
                self.queued += bytes.len();
                if let Some(Seg::Field { raw, .. }) = self.queue.back_mut() {
                    raw.extend_from_slice(bytes);
                }
            }
        }
    }

    /// `raw`, a literal's content, restored as the walk restores a
    /// literal; `None` when it is not a valid literal.
    fn walk_literal(&mut self, raw: &[u8]) -> Option<Vec<u8>> {
        let doc = as_document(raw);
        let r = Restorer::with_max_len(&self.tokens, self.max_len);
        let (restored, n) = restore_json_strings(&r, &doc, true).ok()?;
        self.restored += n as u64;
        Some(match restored {
            Some(mut v) => {
                v.pop();
                v.remove(0);
                v
            }
            None => raw.to_vec(),
        })
    }

    /// Releases the waiting output from the front up to the first field
    /// still waiting.
    fn drain(&mut self, out: &mut Vec<u8>) {
        while let Some(front) = self.queue.front() {
            let ready = match front {
                Seg::Out(_) => true,
                Seg::Field { done, .. } => done.is_some(),
            };
            if !ready {
                return;
            }
            match self.queue.pop_front() {
                Some(Seg::Out(v)) => {
                    self.queued = self.queued.saturating_sub(v.len());
                    out.extend_from_slice(&v);
                }
                Some(Seg::Field { raw, done, .. }) => {
                    self.queued = self.queued.saturating_sub(raw.len());
                    out.extend_from_slice(&done.unwrap_or_default());
                }
                None => return,
            }
        }
    }

    /// The answer is not JSON (as the walk would find): every waiting
    /// field and the held literal are restored byte by byte, in order, and
    /// so is the rest.
    fn break_json(&mut self, out: &mut Vec<u8>) {
        if self.broken {
            return;
        }
        self.broken = true;
        let open_field = matches!(
            self.literal_state,
            Some(Literal {
                route: Route::Field,
                ..
            })
        );
        let open_held = matches!(
            self.literal_state,
            Some(Literal {
                route: Route::Held,
                ..
            })
        );
        self.literal_state = None;
        self.stack.clear();
        let queue = std::mem::take(&mut self.queue);
        self.queued = 0;
        let last = queue.len();
        let r = Restorer::with_max_len(&self.tokens, self.max_len);
        for (i, seg) in queue.into_iter().enumerate() {
            match seg {
                Seg::Out(v) => out.extend_from_slice(&v),
                Seg::Field { raw, .. } => {
                    // The open field goes on as bytes: its tail may be a
                    // token's start.
                    let hold = open_field && i + 1 == last;
                    let (n, from) = r.restore_bytes_into(&raw, Escape::Json, hold, out);
                    self.restored += n as u64;
                    if hold {
                        self.held = raw.get(from..).unwrap_or_default().to_vec();
                    }
                }
            }
        }
        if open_held {
            let literal = std::mem::take(&mut self.literal);
            self.feed(&literal, out);
        }
    }

    /// A value ended: what may follow depends on the container.
    fn after_value(&mut self) {
        self.expect = match self.stack.last() {
            None => Expect::End,
            Some(Frame::Object { .. }) => Expect::CommaOrObjEnd,
            Some(Frame::Array) => Expect::CommaOrArrEnd,
        };
    }

    /// Closes the innermost object: its waiting fields are decided by its
    /// `type`.
    fn close_object(&mut self, out: &mut Vec<u8>) {
        let Some(Frame::Object { id, type_value, .. }) = self.stack.pop() else {
            return;
        };
        let ty = type_value.as_deref().unwrap_or_default();
        let mut decided = Vec::new();
        for (i, seg) in self.queue.iter().enumerate() {
            if let Seg::Field { object, key, .. } = seg {
                if *object == id {
                    let skipped = match (*key, ty) {
                        ("data", b"base64" | b"redacted_thinking") => true,
                        ("signature", b"thinking") | ("url", b"url") => true,
                        ("thinking", b"thinking") => !self.restore_thinking,
                        _ => false,
                    };
                    decided.push((i, skipped));
                }
            }
        }
        for (i, skipped) in decided {
            let raw = match self.queue.get(i) {
                Some(Seg::Field { raw, .. }) => raw.clone(),
                _ => continue,
            };
            let output = if skipped {
                Some(raw)
            } else {
                self.walk_literal(&raw)
            };
            let Some(output) = output else {
                return self.break_json(out);
            };
            if let Some(Seg::Field { done, .. }) = self.queue.get_mut(i) {
                *done = Some(output);
            }
        }
        self.drain(out);
    }

    /// A literal starts (its opening quote is at `at`, already in the
    /// byte run): its role, and its route from the member it is the value
    /// of. A waiting field's content starts a new run.
    fn open_literal(&mut self, data: &[u8], run: &mut usize, at: usize, out: &mut Vec<u8>) {
        let key_role = matches!(self.expect, Expect::KeyOrEnd | Expect::Key);
        let (mut role, mut route, mut field) = (Role::Other, Route::Bytes, None);
        if key_role {
            role = Role::Key;
        } else if let Some(Frame::Object { id, key, .. }) = self.stack.last() {
            let key = key.as_deref().unwrap_or_default();
            if key == b"type" {
                role = Role::Type;
            }
            if let Some(k) = waiting_key(key) {
                route = Route::Field;
                field = Some((*id, k));
            }
        }
        if let Some((object, key)) = field {
            self.feed(data.get(*run..=at).unwrap_or_default(), out);
            *run = at + 1;
            self.queue.push_back(Seg::Field {
                object,
                key,
                raw: Vec::new(),
                done: None,
            });
        }
        self.literal_state = Some(Literal {
            role,
            route,
            esc: Esc::None,
            esc_start: 0,
            name: Vec::new(),
            name_from: at + 1,
        });
    }

    /// A literal ends (its closing quote is at `at`): its content so far
    /// is routed, a held one walked, a key or a `type` recorded.
    fn close_literal(&mut self, data: &[u8], run: &mut usize, at: usize, out: &mut Vec<u8>) {
        self.route(data.get(*run..at).unwrap_or_default(), out);
        *run = at;
        let Some(mut lit) = self.literal_state.take() else {
            return;
        };
        lit.keep_name(data, at);
        if lit.route == Route::Held {
            let literal = std::mem::take(&mut self.literal);
            match self.walk_literal(&literal) {
                Some(restored) => self.emit(&restored, out),
                None => {
                    self.literal = literal;
                    self.literal_state = Some(lit);
                    return self.break_json(out);
                }
            }
        }
        match lit.role {
            Role::Key => {
                let name = decode_name(&lit.name);
                if let Some(Frame::Object { key, .. }) = self.stack.last_mut() {
                    *key = name;
                }
                self.expect = Expect::Colon;
            }
            Role::Type => {
                let name = decode_name(&lit.name);
                if let Some(Frame::Object { type_value, .. }) = self.stack.last_mut() {
                    *type_value = name;
                }
                self.after_value();
            }
            Role::Other => self.after_value(),
        }
    }

    /// Reads `data` (what was carried, then a chunk), routing its bytes;
    /// an escape cut by its end is carried to the next.
    fn read(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let (mut i, mut run) = (0, 0);
        while i < data.len() && !self.broken {
            let Some(lit) = self.literal_state.as_mut() else {
                self.structure(data, &mut run, &mut i, out);
                continue;
            };
            match lit.esc {
                Esc::None => {
                    let rest = data.get(i..).unwrap_or_default();
                    let Some(k) = memchr::memchr2(b'"', b'\\', rest) else {
                        break;
                    };
                    i += k;
                    if data.get(i) == Some(&b'"') {
                        self.close_literal(data, &mut run, i, out);
                    } else {
                        lit.esc = Esc::Backslash;
                        lit.esc_start = i;
                    }
                    i += 1;
                }
                Esc::Backslash => {
                    lit.esc = if data.get(i) == Some(&b'u') {
                        Esc::Unicode(0)
                    } else {
                        Esc::None
                    };
                    i += 1;
                }
                Esc::Unicode(n) => {
                    let b = data.get(i).copied().unwrap_or_default();
                    let ascii = match n {
                        0 | 1 => b == b'0',
                        2 => matches!(b, b'0'..=b'7'),
                        _ => true,
                    };
                    lit.esc = if ascii && n < 3 {
                        Esc::Unicode(n + 1)
                    } else {
                        Esc::None
                    };
                    let (start, bytes_route) = (lit.esc_start, lit.route == Route::Bytes);
                    i += 1;
                    if ascii && n == 3 && bytes_route {
                        // An escape spells an ASCII character: the walk
                        // takes this literal from the first byte a token
                        // reaching it could start at (the byte route's
                        // held tail) to its end.
                        self.route(data.get(run..start).unwrap_or_default(), out);
                        self.literal = std::mem::take(&mut self.held);
                        if let Some(lit) = self.literal_state.as_mut() {
                            lit.route = Route::Held;
                        }
                        run = start;
                    }
                }
            }
        }
        if self.broken {
            let rest = data.get(run..).unwrap_or_default();
            return self.feed(rest, out);
        }
        // An escape cut by the end: read again with the next chunk, so
        // that the byte route never passes half of one.
        let cut = match &mut self.literal_state {
            Some(lit) if lit.esc != Esc::None => {
                lit.esc = Esc::None;
                Some(lit.esc_start)
            }
            _ => None,
        };
        let end = cut.unwrap_or(data.len()).max(run);
        if let Some(lit) = self.literal_state.as_mut() {
            lit.keep_name(data, end);
            // The next data starts where this one was cut.
            lit.name_from = 0;
        }
        self.route(data.get(run..end).unwrap_or_default(), out);
        self.carry = data.get(end..).unwrap_or_default().to_vec();
    }

    /// One step outside a literal, at `data[*i]`.
    fn structure(&mut self, data: &[u8], run: &mut usize, i: &mut usize, out: &mut Vec<u8>) {
        let Some(&b) = data.get(*i) else {
            return;
        };
        if self.in_scalar {
            if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.') {
                *i += 1;
                return;
            }
            self.in_scalar = false;
            self.after_value();
        }
        if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            *i += 1;
            return;
        }
        let ok = match (self.expect, b) {
            (Expect::ValueOrArrEnd | Expect::CommaOrArrEnd, b']') => {
                self.stack.pop();
                self.after_value();
                true
            }
            (Expect::Value | Expect::ValueOrArrEnd, b'{' | b'[') => {
                if self.stack.len() >= MAX_DEPTH {
                    false
                } else {
                    if b == b'{' {
                        self.next_id += 1;
                        self.stack.push(Frame::Object {
                            id: self.next_id,
                            key: None,
                            type_value: None,
                        });
                        self.expect = Expect::KeyOrEnd;
                    } else {
                        self.stack.push(Frame::Array);
                        self.expect = Expect::ValueOrArrEnd;
                    }
                    true
                }
            }
            (Expect::Value | Expect::ValueOrArrEnd | Expect::KeyOrEnd | Expect::Key, b'"') => {
                self.open_literal(data, run, *i, out);
                true
            }
            (Expect::Value | Expect::ValueOrArrEnd, b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                self.in_scalar = true;
                true
            }
            (Expect::KeyOrEnd | Expect::CommaOrObjEnd, b'}') => {
                self.close_object(out);
                if !self.broken {
                    self.after_value();
                }
                true
            }
            (Expect::Colon, b':') => {
                self.expect = Expect::Value;
                true
            }
            (Expect::CommaOrObjEnd, b',') => {
                self.expect = Expect::Key;
                true
            }
            (Expect::CommaOrArrEnd, b',') => {
                self.expect = Expect::Value;
                true
            }
            _ => false,
        };
        if !ok {
            self.feed(data.get(*run..*i).unwrap_or_default(), out);
            *run = *i;
            self.break_json(out);
        }
        *i += 1;
    }
}

/// A key's or a `type` value's raw content decoded, if short enough to be
/// a name the walk tells apart; `None` otherwise, and for an invalid
/// escape (which the walk rejects with the whole answer).
fn decode_name(raw: &[u8]) -> Name {
    if raw.len() > MAX_NAME {
        return None;
    }
    if !raw.contains(&b'\\') {
        return Some(raw.to_vec());
    }
    let s: String = serde_json::from_slice(&as_document(raw)).ok()?;
    Some(s.into_bytes())
}

/// A literal's raw content as a JSON document of its own: in quotes.
fn as_document(raw: &[u8]) -> Vec<u8> {
    let mut doc = Vec::with_capacity(raw.len() + 2);
    doc.push(b'"');
    doc.extend_from_slice(raw);
    doc.push(b'"');
    doc
}

impl ChunkRestorer for JsonStreamRestorer {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.carry.is_empty() {
            self.read(chunk, out);
        } else {
            let mut data = std::mem::take(&mut self.carry);
            data.extend_from_slice(chunk);
            self.read(&data, out);
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        let carry = std::mem::take(&mut self.carry);
        if !carry.is_empty() {
            // An escape cut by the end of the answer: not JSON.
            self.break_json(out);
            self.feed(&carry, out);
        }
        let complete = self.literal_state.is_none()
            && self.stack.is_empty()
            && (self.expect == Expect::End || self.in_scalar);
        if !complete {
            self.break_json(out);
        }
        let r = Restorer::with_max_len(&self.tokens, self.max_len);
        let held = std::mem::take(&mut self.held);
        let (n, _) = r.restore_bytes_into(&held, Escape::Json, false, out);
        self.restored += n as u64;
    }

    fn restored(&self) -> u64 {
        self.restored
    }

    fn worst_case(&self, chunk_len: usize) -> usize {
        let held = self.held.len() + self.carry.len() + self.literal.len() + self.queued;
        grown_size(held.saturating_add(chunk_len), self.growth)
    }

    fn holds(&self) -> bool {
        !(self.held.is_empty()
            && self.carry.is_empty()
            && self.literal.is_empty()
            && self.queue.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restore::restore_json;
    use crate::test_rng::XorShift;
    use crate::token::TokenKey;

    fn key() -> TokenKey {
        TokenKey::new(b"json stream test secret, 32 b...")
    }

    /// A map with an EC2 id, an ARN whose original JSON escapes, and a
    /// name, and their tokens.
    fn map() -> (TokenMap, Vec<String>) {
        let mut m = TokenMap::new("AWS_".into());
        let tokens = vec![
            m.issue(&key(), "EC2", "i-0123456789abcdef0"),
            m.issue(
                &key(),
                "ARN_IAM",
                "arn:aws:iam::123456789012:role/My \"q\" Role",
            ),
            m.issue(&key(), "NAME", "prod-db"),
        ];
        (m, tokens)
    }

    /// Runs `body` through a fresh restorer in chunks of the given sizes
    /// (cycled).
    fn streamed(map: &TokenMap, thinking: bool, body: &[u8], sizes: &[usize]) -> (Vec<u8>, u64) {
        assert!(JsonStreamRestorer::is_exact_for(map));
        let mut r = JsonStreamRestorer::new(map.clone(), thinking);
        let mut out = Vec::new();
        let mut at = 0;
        for size in sizes.iter().cycle() {
            if at >= body.len() {
                break;
            }
            let end = (at + size.max(&1)).min(body.len());
            r.push(&body[at..end], &mut out);
            at = end;
        }
        r.finish(&mut out);
        assert!(!r.holds());
        (out, r.restored())
    }

    fn oracle(map: &TokenMap, thinking: bool, body: &[u8]) -> (Vec<u8>, u64) {
        let (restored, n) = restore_json(map, body, thinking);
        (restored.unwrap_or_else(|| body.to_vec()), n as u64)
    }

    /// A random JSON string literal's content: text, tokens (whole, or
    /// with a letter or the `_` spelled as a `\u` escape), escapes.
    fn literal(rng: &mut XorShift, tokens: &[String]) -> String {
        let mut s = String::new();
        for _ in 0..rng.below(6) {
            let token = &tokens[rng.below(tokens.len() as u64) as usize];
            match rng.below(10) {
                0 => s.push_str("plain text "),
                1 => s.push_str("\\n"),
                2 => s.push_str("\\\"q\\\""),
                3 => s.push_str("caf\\u00e9 "),
                4 => s.push_str("\\u0041"),
                5 => {
                    // A token with one byte spelled as an escape.
                    let cut = 1 + rng.below(token.len() as u64 - 1) as usize;
                    let b = token.as_bytes()[cut];
                    s.push_str(&token[..cut]);
                    s.push_str(&format!("\\u{:04x}", b));
                    s.push_str(&token[cut + 1..]);
                }
                6 => s.push_str(&token[..rng.below(token.len() as u64) as usize]),
                _ => s.push_str(token),
            }
        }
        s
    }

    /// A random JSON value of at most `depth` levels, with the members the
    /// walk decides by `type` and `type`s before and after them.
    fn value(rng: &mut XorShift, tokens: &[String], depth: u32, out: &mut String) {
        const KEYS: &[&str] = &[
            "type",
            "text",
            "thinking",
            "signature",
            "data",
            "url",
            "content",
            "\\u0074ype",
            "th\\u0069nking",
            "name",
        ];
        const TYPES: &[&str] = &[
            "thinking",
            "text",
            "base64",
            "url",
            "redacted_thinking",
            "message",
            "th\\u0069nking",
        ];
        let pick = rng.below(if depth == 0 { 4 } else { 7 });
        match pick {
            0 => out.push_str(&format!("\"{}\"", literal(rng, tokens))),
            1 => out.push_str(["12", "-1.5e3", "true", "false", "null"][rng.below(5) as usize]),
            2 | 3 => out.push_str(&format!("\"{}\"", tokens[rng.below(3) as usize])),
            4 => {
                out.push('[');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    value(rng, tokens, depth - 1, out);
                }
                out.push(']');
            }
            _ => {
                out.push('{');
                for i in 0..rng.below(5) {
                    if i > 0 {
                        out.push(',');
                    }
                    let k = KEYS[rng.below(KEYS.len() as u64) as usize];
                    out.push_str(&format!("\"{k}\": "));
                    if k.contains("ype") && rng.below(3) > 0 {
                        out.push_str(&format!(
                            "\"{}\"",
                            TYPES[rng.below(TYPES.len() as u64) as usize]
                        ));
                    } else {
                        value(rng, tokens, depth - 1, out);
                    }
                }
                out.push('}');
            }
        }
    }

    /// The streamed restore writes what the walk of the whole answer
    /// writes, for any cut into chunks, with thinking restored or not.
    #[test]
    fn streams_what_the_walk_writes() {
        let (map, tokens) = map();
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for case in 0..3000 {
            let mut body = String::new();
            if case % 2 == 0 {
                body.push_str(" {\"type\": \"message\", \"content\": [");
                value(&mut rng, &tokens, 4, &mut body);
                body.push_str("]}\n");
            } else {
                value(&mut rng, &tokens, 4, &mut body);
            }
            assert!(
                serde_json::from_str::<serde_json::Value>(&body).is_ok(),
                "not JSON: {body}"
            );
            let thinking = case % 3 == 0;
            let want = oracle(&map, thinking, body.as_bytes());
            for sizes in [&[usize::MAX][..], &[1], &[3, 7, 2], &[17, 1, 64]] {
                let got = streamed(&map, thinking, body.as_bytes(), sizes);
                assert!(
                    got == want,
                    "case {case}, chunks {sizes:?}, thinking {thinking}:\n{body}\ngot  {}\nwant {}",
                    String::from_utf8_lossy(&got.0),
                    String::from_utf8_lossy(&want.0)
                );
            }
        }
    }

    /// An answer that stops being JSON is restored byte by byte, as the
    /// walk's fallback restores it, where nothing before the break was
    /// decided by its `type` or walked.
    #[test]
    fn what_is_not_json_is_restored_by_bytes() {
        let (map, tokens) = map();
        let t = &tokens[0];
        let bodies = [
            format!(r#"{{"text": "{t}", "more": "{t} and"#),
            format!(r#"{{"text": "{t}"}} trailing {t}"#),
            format!(r#"{{"text" "{t}"}}"#),
            format!(r#"["{t}", {t}]"#),
            format!(r#"{{"data": "{t}", "oops": }} "{t}""#),
            format!(r#"{{"thinking": "{t} {t}"#),
            format!("plain text {t} and {}", &t[..5]),
            format!(r#"{{"text": "{t}\u00"#),
        ];
        for body in bodies {
            let want = oracle(&map, false, body.as_bytes());
            for sizes in [&[usize::MAX][..], &[1], &[5, 2]] {
                let got = streamed(&map, false, body.as_bytes(), sizes);
                assert_eq!(
                    String::from_utf8_lossy(&got.0),
                    String::from_utf8_lossy(&want.0),
                    "{body} in chunks {sizes:?}"
                );
            }
        }
    }

    /// A protected field waits for its object, and what follows waits
    /// behind it; nothing is released out of order or held past the
    /// object's end.
    #[test]
    fn a_protected_field_holds_back_only_its_object() {
        let (map, tokens) = map();
        let t = &tokens[0];
        let head = format!(r#"{{"content": [{{"text": "{t}"}}, {{"thinking": "{t}", "x": "{t}""#);
        let mut r = JsonStreamRestorer::new(map, false);
        let mut out = Vec::new();
        r.push(head.as_bytes(), &mut out);
        let released = String::from_utf8(out.clone()).unwrap();
        assert!(released.contains("i-0123456789abcdef0"), "{released}");
        assert!(released.ends_with(r#""thinking": ""#), "{released}");
        assert!(r.holds());
        r.push(br#", "type": "thinking"}]}"#, &mut out);
        assert!(!r.holds());
        let all = String::from_utf8(out).unwrap();
        assert!(all.contains(&format!(r#""thinking": "{t}""#)), "{all}");
        assert!(all.ends_with(r#""type": "thinking"}]}"#), "{all}");
    }

    #[test]
    fn refuses_tokens_that_are_not_word_bytes() {
        assert!(!JsonStreamRestorer::is_exact_for(&TokenMap::new(
            "A-".into()
        )));
        assert!(!JsonStreamRestorer::is_exact_for(&TokenMap::new(
            "nAWS_".into()
        )));
        assert!(JsonStreamRestorer::is_exact_for(&TokenMap::new(
            "AWS_".into()
        )));
    }
}
