//! Keyed, deterministic, readable tokens and the per-exchange token map.
//!
//! A token is `<prefix><KIND>_<hex>`, e.g. `AWS_EC2_3f9a1c2e`. The hex part
//! is the start of SipHash-2-4-128 under key K of (kind ‖ 0 ‖ value), where
//! K = HMAC-SHA256(secret, "aws-masker token key v1") truncated to 128 bits.
//! The same original always gives the same token under the same secret (so
//! a multi-turn conversation, re-sent and re-masked each turn, stays
//! coherent and prompt caching keeps working), no store is needed, and
//! without the secret a token cannot be reversed by trying every candidate
//! value (an IPv4 address has only 2^32): SipHash is a keyed pseudo-random
//! function built for short inputs. It replaces a per-value HMAC-SHA256,
//! whose two SHA-256 compressions per value dominated the masking time of
//! dense AWS output inside wasm, where there is no SHA hardware.
//!
//! ```
//! use aws_masker::token::{TokenKey, TokenMap};
//!
//! let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
//! let mut map = TokenMap::new("AWS_".to_string());
//! let t = map.issue(&key, "EC2", "i-0123456789abcdef0").to_string();
//! assert!(t.starts_with("AWS_EC2_") && t.len() == "AWS_EC2_".len() + 8);
//! assert_eq!(map.original(&t), Some("i-0123456789abcdef0"));
//! // Deterministic: another exchange under the same secret agrees.
//! let mut other = TokenMap::new("AWS_".to_string());
//! assert_eq!(other.issue(&key, "EC2", "i-0123456789abcdef0"), t);
//! ```

use crate::chunked::{ChunkedVec, TextArena};
use crate::head_index::HeadIndex;
use crate::splice::SpliceTexts;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use siphasher::sip128::{Hasher128, SipHasher24};
use std::cell::OnceCell;
use std::hash::Hasher;

type HmacSha256 = Hmac<Sha256>;

/// Hex digits in a token's hash part; more are used only on a collision.
pub const TOKEN_HEX_LEN: usize = 8;
const MAX_HEX_LEN: usize = 32;
/// Domain separation for the token key derived from the secret.
const KEY_LABEL: &[u8] = b"aws-masker token key v1";
/// Domain separation for a client's token key derived from the gateway's.
const SCOPE_LABEL: &[u8] = b"aws-masker client scope v1\0";

/// The key tokens are derived under. Cheap to clone.
#[derive(Clone)]
pub struct TokenKey {
    key: [u8; 16],
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// A key from the configured (or generated) secret bytes.
    pub fn new(secret: &[u8]) -> TokenKey {
        TokenKey {
            key: derive_key(secret, KEY_LABEL),
        }
    }

    /// The key of one client scope (a credential, a tenant header value):
    /// tokens stay deterministic for that client and cannot be linked to,
    /// or obtained for, another client's values. `identity` is hashed,
    /// never kept.
    pub fn scoped(&self, identity: &[u8]) -> TokenKey {
        let mut message = Vec::with_capacity(SCOPE_LABEL.len() + identity.len());
        message.extend_from_slice(SCOPE_LABEL);
        message.extend_from_slice(identity);
        TokenKey {
            key: derive_key(&self.key, &message),
        }
    }

    /// The keyed hash of `kind` + `value`.
    fn digest(&self, kind: &str, value: &str) -> [u8; 16] {
        let mut h = SipHasher24::new_with_key(&self.key);
        h.write(kind.as_bytes());
        h.write(&[0]);
        h.write(value.as_bytes());
        h.finish128().as_bytes()
    }
}

/// A 128-bit key for one purpose (`label`) derived from the secret with
/// HMAC-SHA256, so keys for different purposes are independent.
pub fn derive_key(secret: &[u8], label: &[u8]) -> [u8; 16] {
    let mut key = [0u8; 16];
    // HMAC accepts keys of any length, so this cannot fail.
    if let Ok(mut mac) = HmacSha256::new_from_slice(secret) {
        mac.update(label);
        let derived = mac.finalize().into_bytes();
        for (k, d) in key.iter_mut().zip(derived.iter()) {
            *k = *d;
        }
    }
    key
}

/// Appends the first `len` hex digits (at most 32) of `digest` to `out`.
fn push_hex(digest: &[u8; 16], len: usize, out: &mut String) {
    for b in digest.iter().take(len.div_ceil(2)) {
        out.push(hex_digit(b >> 4));
        out.push(hex_digit(b & 0x0f));
    }
    out.truncate(out.len() - (len % 2));
}

/// A multiply-rotate hasher for keys that are (or embed) outputs of the
/// keyed PRF, or that only pick a cache slot: a sender who does not know
/// the secret cannot choose keys that collide, so the flood resistance of
/// std's randomly keyed SipHash, three times slower here, buys nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrfKeyHasher(u64);

impl Hasher for PrfKeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (w, b) in word.iter_mut().zip(chunk) {
                *w = *b;
            }
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The [`TokenMap::recent`] slot of (`kind`, `value`), from the value's
/// length and its first and last eight bytes: cheap, and a shared slot only
/// costs a cache miss.
fn recent_slot(kind: &str, value: &str) -> usize {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        for (d, s) in w.iter_mut().zip(b) {
            *d = *s;
        }
        u64::from_le_bytes(w)
    };
    let v = value.as_bytes();
    let mut h = PrfKeyHasher::default();
    h.write_u64(word(v));
    h.write_u64(word(v.get(v.len().saturating_sub(8)..).unwrap_or_default()));
    h.write_u64((v.len() as u64) << 8 | kind.len() as u64);
    // The top bits are the best mixed; 8 of them index 256 slots.
    (h.finish() >> 56) as usize
}

fn hex_digit(n: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { b'a' + n - 10 })
}

/// The tokens one exchange issued, and their originals.
///
/// Built while masking the request, then used to restore the response.
/// Within one map, two different originals never share a token: on a hash
/// collision the later one gets a longer hash part.
///
/// A value costs the map 12 bytes for its entry and about 5 for its index
/// slot, besides its original; its token is not kept but spelled again
/// from the entry when asked for, and everything grows in fixed chunks
/// (see [`crate::chunked`]), so a body dense with distinct values (one
/// every twenty bytes) does not cost many times its size. While one body
/// is masked, the originals found in it are not even copied: an
/// [`Issuer`] refers to them where they stand, and copies them into the
/// map only when it is dropped, once the masked body is written and the
/// room its splices took is free again.
#[derive(Debug, Clone, Default)]
pub struct TokenMap {
    prefix: String,
    /// Issued tokens, in issue order.
    entries: ChunkedVec<Entry>,
    /// Every entry's original (followed, for the rare token a collision
    /// lengthened, by its hex digits past the eighth), in chunks shared by
    /// many values, not an allocation per value.
    text: TextArena,
    /// Entries by the head of their keyed digest (its first four bytes,
    /// which are also the first eight hex digits of its token). Both
    /// lookups go through it: by (kind, original) when issuing, by token
    /// text when restoring.
    by_head: HeadIndex,
    /// Kinds seen, interned: an entry refers to its kind by index.
    kinds: Vec<String>,
    /// Distinct token lengths issued, longest first, for longest-match.
    lengths: Vec<usize>,
    /// Entries in token order, for prefix queries; built on first use
    /// after the last issue (masking issues, restoring queries).
    sorted: OnceCell<Vec<u32>>,
    /// Direct-mapped cache of recently issued (kind, original) → entry + 1
    /// (0: empty), so a value repeated in a body skips the keyed digest. A
    /// slot is overwritten on conflict: no input can make it slow.
    recent: Vec<u32>,
    /// The key this exchange's tokens are derived under, when the map was
    /// made for a client scope; `None`: the caller's key.
    key: Option<TokenKey>,
    /// Most distinct values this map takes before it reports itself full
    /// ([`TokenMap::is_full`]); `None`: no limit.
    limit: Option<usize>,
    /// Set when `text` could take no more (2 GiB of originals): the map
    /// then reports itself full.
    overfilled: bool,
}

/// Hex digits that write the length of a long original before it.
const LONG_LEN_DIGITS: usize = 8;

/// Where `value` stands in `source`, when it is a slice of it (not merely
/// equal to some part of it): the offset an entry can keep instead of a
/// copy. Compares addresses only; no memory is read.
fn offset_in(source: &[u8], value: &str) -> Option<u32> {
    let offset = (value.as_ptr() as usize).checked_sub(source.as_ptr() as usize)?;
    let inside = offset.checked_add(value.len())? <= source.len() && !value.is_empty();
    inside.then(|| u32::try_from(offset).ok()).flatten()
}

/// Slots in [`TokenMap::recent`].
const RECENT_SLOTS: usize = 256;

/// Where one issued value's original stands, and what spells its token:
/// `<prefix><kind>_<hex of head><extra hex>`. Twelve bytes: the entries of
/// a dense body are as many as its values.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// In [`TokenMap::text`]; or, while an [`Issuer`] has the map and
    /// [`Entry::SOURCED`] is set, the offset of the original in its body.
    at: u32,
    /// The first four bytes of the keyed digest: the token's first eight
    /// hex digits.
    head: u32,
    /// The kind's index (12 bits), then the number of hex digits past the
    /// eighth (5 bits; a collision lengthened the token, and they are kept
    /// in `text` right after the original), [`Entry::SOURCED`], and the
    /// original's length (14 bits; [`Entry::LONG`]: the length is written
    /// in 8 hex digits in `text` before the original).
    meta: u32,
}

impl Entry {
    const KIND_SHIFT: u32 = 20;
    const EXTRA_SHIFT: u32 = 15;
    const SOURCED: u32 = 1 << 14;
    const LEN_MASK: u32 = Entry::SOURCED - 1;
    /// The length field of an original of this many bytes or more.
    const LONG: u32 = Entry::LEN_MASK;

    fn kind(&self) -> usize {
        (self.meta >> Entry::KIND_SHIFT) as usize
    }

    fn extra_hex(&self) -> usize {
        (self.meta >> Entry::EXTRA_SHIFT & 0x1f) as usize
    }

    fn is_sourced(&self) -> bool {
        self.meta & Entry::SOURCED != 0
    }

    fn len_field(&self) -> u32 {
        self.meta & Entry::LEN_MASK
    }

    /// A sourced entry's original, where it stands in `source`.
    fn sourced_original<'s>(&self, source: &'s [u8]) -> &'s str {
        let at = self.at as usize;
        let bytes = source
            .get(at..at + self.len_field() as usize)
            .unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

/// Most kinds one map tells apart (the entry's 12 bits). Built-in kinds are
/// a few dozen and `custom_patterns` are capped well below, so only
/// [`TokenMap::insert_issued`] could reach it, and it refuses to.
const MAX_KINDS: usize = 1 << 12;

/// The head of a keyed digest: its first four bytes.
fn digest_head(digest: &[u8; 16]) -> u32 {
    let mut head = [0u8; 4];
    for (h, d) in head.iter_mut().zip(digest.iter()) {
        *h = *d;
    }
    u32::from_be_bytes(head)
}

/// The digest head a token spells: the first eight hex digits after its
/// last `_`. `None` for text that cannot be a token.
fn token_head(token: &str) -> Option<u32> {
    let (_, hex) = token.rsplit_once('_')?;
    u32::from_str_radix(hex.get(..TOKEN_HEX_LEN)?, 16).ok()
}

impl TokenMap {
    /// An empty map for tokens starting with `prefix`.
    pub fn new(prefix: String) -> TokenMap {
        TokenMap {
            prefix,
            ..TokenMap::default()
        }
    }

    /// An empty map whose tokens are derived under `key` (a client
    /// scope's) and that holds at most `limit` distinct values.
    pub fn scoped(prefix: String, key: TokenKey, limit: usize) -> TokenMap {
        TokenMap {
            prefix,
            key: Some(key),
            limit: Some(limit),
            ..TokenMap::default()
        }
    }

    /// The token prefix, e.g. `AWS_`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key this map derives its tokens under, when it has one of its
    /// own (see [`TokenMap::scoped`]).
    pub fn key(&self) -> Option<&TokenKey> {
        self.key.as_ref()
    }

    /// Whether more distinct values were issued than the map's limit: the
    /// request is then refused, so the masking that found them can stop.
    pub fn is_full(&self) -> bool {
        self.overfilled || self.limit.is_some_and(|l| self.entries.len() > l)
    }

    /// The map's limit on distinct values, if it has one.
    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    fn entry(&self, i: u32) -> Option<&Entry> {
        self.entries.get(i as usize)
    }

    fn head_of(&self) -> impl Fn(u32) -> u32 + '_ {
        |i| self.entry(i).map_or(0, |e| e.head)
    }

    /// Where `e`'s original starts in `text` and how long it is (a long
    /// one's length is written before it).
    fn stored_original(&self, e: &Entry) -> (u32, usize) {
        if e.len_field() != Entry::LONG {
            return (e.at, e.len_field() as usize);
        }
        let len = usize::from_str_radix(self.text.get(e.at, LONG_LEN_DIGITS), 16).unwrap_or(0);
        (e.at.saturating_add(LONG_LEN_DIGITS as u32), len)
    }

    /// `e`'s original: in `text`, or in `source` (the body an [`Issuer`]
    /// masks) while it is sourced.
    fn original_in<'a>(&'a self, e: &Entry, source: &'a [u8]) -> &'a str {
        if e.is_sourced() {
            return e.sourced_original(source);
        }
        let (at, len) = self.stored_original(e);
        self.text.get(at, len)
    }

    /// Whether `e`'s original is `value` (bytes compared: a sourced one
    /// needs no UTF-8 check for that).
    fn is_original(&self, e: &Entry, source: &[u8], value: &str) -> bool {
        if e.is_sourced() {
            let at = e.at as usize;
            return e.len_field() as usize == value.len()
                && source.get(at..at + value.len()) == Some(value.as_bytes());
        }
        self.original_in(e, source) == value
    }

    fn original_of(&self, e: &Entry) -> &str {
        self.original_in(e, &[])
    }

    /// The hex digits of `e`'s token past the eighth.
    fn extra_hex_of(&self, e: &Entry) -> &[u8] {
        if e.extra_hex() == 0 {
            return &[];
        }
        let (at, len) = self.stored_original(e);
        let whole = self.text.get(at, len + e.extra_hex());
        whole.as_bytes().get(len..).unwrap_or_default()
    }

    fn kind_of(&self, e: &Entry) -> &str {
        self.kinds.get(e.kind()).map_or("", String::as_str)
    }

    /// The bytes of `e`'s token after the prefix: kind, `_`, hex digits.
    fn token_tail(&self, e: &Entry) -> impl Iterator<Item = u8> + Clone + '_ {
        let head = e.head;
        self.kind_of(e)
            .bytes()
            .chain(std::iter::once(b'_'))
            .chain((0..TOKEN_HEX_LEN as u32).map(move |k| {
                let nibble = (head >> (28 - 4 * k)) & 0xf;
                hex_digit(nibble as u8) as u8
            }))
            .chain(self.extra_hex_of(e).iter().copied())
    }

    fn token_len_of(&self, e: &Entry) -> usize {
        self.prefix.len() + self.kind_of(e).len() + 1 + TOKEN_HEX_LEN + e.extra_hex()
    }

    /// Whether `token` is `e`'s token.
    fn is_token_of(&self, e: &Entry, token: &str) -> bool {
        token.len() == self.token_len_of(e)
            && token
                .strip_prefix(self.prefix.as_str())
                .is_some_and(|tail| tail.bytes().eq(self.token_tail(e)))
    }

    /// Appends `e`'s token to `out`.
    fn push_token(&self, e: &Entry, out: &mut String) {
        out.push_str(&self.prefix);
        // The tail is ASCII: kinds are `[A-Z0-9_]`, the rest hex digits.
        out.extend(self.token_tail(e).map(char::from));
    }

    fn token_at(&self, i: u32) -> String {
        let mut token = String::new();
        if let Some(e) = self.entry(i) {
            self.push_token(e, &mut token);
        }
        token
    }

    /// The token for `value` of `kind`, issuing and recording it if new.
    /// Derived under the map's own key when it has one
    /// ([`TokenMap::scoped`]), else under `key`.
    pub fn issue(&mut self, key: &TokenKey, kind: &str, value: &str) -> String {
        let i = self.issue_index(key, kind, value);
        self.token_at(i)
    }

    /// [`issue`](Self::issue), answering the entry's index: what a splice
    /// keeps instead of a copy of the token ([`TokenMap::token_by_index`]).
    pub fn issue_index(&mut self, key: &TokenKey, kind: &str, value: &str) -> u32 {
        self.issue_from(&[], key, kind, value)
    }

    /// [`issue_index`](Self::issue_index) for a value that may stand in
    /// `source` (the body an [`Issuer`] masks): a new entry then refers to
    /// it there instead of copying it.
    fn issue_from(&mut self, source: &[u8], key: &TokenKey, kind: &str, value: &str) -> u32 {
        let slot = recent_slot(kind, value);
        let cached = self
            .recent
            .get(slot)
            .and_then(|&i| i.checked_sub(1))
            .filter(|&i| {
                self.entry(i)
                    .is_some_and(|e| self.is_original(e, source, value) && self.kind_of(e) == kind)
            });
        if let Some(i) = cached {
            return i;
        }
        let i = self.issue_slow(source, key, kind, value);
        if self.recent.is_empty() {
            self.recent = vec![0; RECENT_SLOTS];
        }
        if let Some(s) = self.recent.get_mut(slot) {
            *s = i.saturating_add(1);
        }
        i
    }

    /// Appends the token of the entry [`issue_index`](Self::issue_index)
    /// answered to `out` (nothing for an index it did not).
    pub fn push_token_by_index(&self, i: u32, out: &mut String) {
        if let Some(e) = self.entry(i) {
            self.push_token(e, out);
        }
    }

    /// The length of that token (0 for an index it did not answer).
    pub fn token_len_by_index(&self, i: u32) -> usize {
        self.entry(i).map_or(0, |e| self.token_len_of(e))
    }

    /// The original of the entry [`issue_index`](Self::issue_index) or
    /// [`longest_index_at`](Self::longest_index_at) answered (empty for an
    /// index neither did).
    pub fn original_by_index(&self, i: u32) -> &str {
        self.entry(i)
            .map(|e| self.original_of(e))
            .unwrap_or_default()
    }

    /// The kind of the entry [`issue_index`](Self::issue_index) answered
    /// (empty for an index it did not).
    pub(crate) fn kind_by_index(&self, i: u32) -> &str {
        self.entry(i).map(|e| self.kind_of(e)).unwrap_or_default()
    }

    /// [`issue`](Self::issue) through the keyed digest; the entry's index.
    fn issue_slow(&mut self, source: &[u8], key: &TokenKey, kind: &str, value: &str) -> u32 {
        let digest = self.key.as_ref().unwrap_or(key).digest(kind, value);
        let head = digest_head(&digest);
        let kind_id = self.kind_id(kind);
        let known = self.by_head.find(head, self.head_of(), |i| {
            self.entry(i).is_some_and(|e| {
                e.kind() == usize::from(kind_id) && self.is_original(e, source, value)
            })
        });
        if let Some(i) = known {
            return i;
        }
        let hex_len = self.fresh_hex_len(&digest, kind);
        let mut extra = String::new();
        if hex_len > TOKEN_HEX_LEN {
            let mut hex = String::with_capacity(hex_len);
            push_hex(&digest, hex_len, &mut hex);
            extra.push_str(hex.get(TOKEN_HEX_LEN..).unwrap_or_default());
        }
        let sourced = offset_in(source, value).filter(|_| extra.is_empty());
        self.push_entry(kind_id, value, sourced, head, &extra)
    }

    /// Records a new entry: `value` of the interned kind `kind_id`, whose
    /// token's hex part is `head`'s eight digits then `extra_hex`. With
    /// `sourced`, the value is not copied: it stands at that offset of the
    /// body an [`Issuer`] masks.
    fn push_entry(
        &mut self,
        kind_id: u16,
        value: &str,
        sourced: Option<u32>,
        head: u32,
        extra_hex: &str,
    ) -> u32 {
        let i = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        let long = value.len() >= Entry::LONG as usize;
        let (at, flags) = match sourced {
            Some(at) if !long => (Some(at), Entry::SOURCED),
            _ => (self.store(value, extra_hex), 0),
        };
        let Some(at) = at else {
            // The arena is full (2 GiB of originals): the map says it is
            // full, and the request is refused.
            self.overfilled = true;
            return i;
        };
        let len_field = if long {
            Entry::LONG
        } else {
            value.len() as u32
        };
        let entry = Entry {
            at,
            head,
            meta: u32::from(kind_id) << Entry::KIND_SHIFT
                | (extra_hex.len() as u32 & 0x1f) << Entry::EXTRA_SHIFT
                | flags
                | len_field,
        };
        self.entries.push(entry);
        let token_len = self.token_len_of(&entry);
        let head_of = |i: u32| self.entries.get(i as usize).map_or(0, |e| e.head);
        self.by_head.insert(head, i, head_of);
        if !self.lengths.contains(&token_len) {
            self.lengths.push(token_len);
            self.lengths.sort_unstable_by(|a, b| b.cmp(a));
        }
        self.sorted = OnceCell::new();
        i
    }

    /// Copies `value` (and a long one's length before it, and the extra
    /// hex digits after it) into `text`; where it starts.
    fn store(&mut self, value: &str, extra_hex: &str) -> Option<u32> {
        if value.len() < Entry::LONG as usize {
            return self.text.push(&[value, extra_hex]);
        }
        let len = format!("{:0width$x}", value.len(), width = LONG_LEN_DIGITS);
        self.text.push(&[&len, value, extra_hex])
    }

    /// Copies the originals entries from `first` on refer to in `source`
    /// into the map: the [`Issuer`] that masked `source` is done.
    fn settle(&mut self, source: &[u8], first: usize) {
        for i in first..self.entries.len() {
            let Some(e) = self.entries.get(i).copied().filter(Entry::is_sourced) else {
                continue;
            };
            let at = self.text.push(&[e.sourced_original(source)]);
            if let (Some(at), Some(slot)) = (at, self.entries.get_mut(i)) {
                *slot = Entry {
                    at,
                    meta: e.meta & !Entry::SOURCED,
                    ..e
                };
            } else {
                self.overfilled = true;
            }
        }
    }

    /// Records a token issued elsewhere (by an earlier exchange, or by
    /// `aws-masker mask --map`) with its original, so that it can be
    /// restored. `false`, and nothing recorded, when `token` is not spelled
    /// as this map's tokens are (`<prefix><KIND>_<hex>`, at least eight
    /// lowercase hex digits), is recorded already, or would be the map's
    /// [`MAX_KINDS`]th kind.
    pub fn insert_issued(&mut self, token: &str, original: &str) -> bool {
        let Some((kind, hex)) = token
            .strip_prefix(self.prefix.as_str())
            .and_then(|t| t.rsplit_once('_'))
        else {
            return false;
        };
        let well_formed = !kind.is_empty()
            && kind
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && (TOKEN_HEX_LEN..=MAX_HEX_LEN).contains(&hex.len())
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let Some(head) = token_head(token).filter(|_| well_formed) else {
            return false;
        };
        if self.token_index(token).is_some() {
            return false;
        }
        let known_kind = self.kinds.iter().any(|k| k == kind);
        if !known_kind && self.kinds.len() >= MAX_KINDS / 2 {
            return false;
        }
        let kind_id = self.kind_id(kind);
        self.push_entry(
            kind_id,
            original,
            None,
            head,
            hex.get(TOKEN_HEX_LEN..).unwrap_or_default(),
        );
        true
    }

    /// The index of `kind` among the interned kinds, interning it if new.
    fn kind_id(&mut self, kind: &str) -> u16 {
        if let Some(i) = self.kinds.iter().position(|k| k == kind) {
            return u16::try_from(i).unwrap_or(u16::MAX);
        }
        self.kinds.push(kind.to_string());
        u16::try_from(self.kinds.len() - 1).unwrap_or(u16::MAX)
    }

    /// The entry of an issued token.
    fn token_index(&self, token: &str) -> Option<u32> {
        let head = token_head(token)?;
        self.by_head.find(head, self.head_of(), |i| {
            self.entry(i).is_some_and(|e| self.is_token_of(e, token))
        })
    }

    /// How many hex digits the token of a new entry with `digest` takes:
    /// [`TOKEN_HEX_LEN`], unless that token is taken already.
    fn fresh_hex_len(&self, digest: &[u8; 16], kind: &str) -> usize {
        // Unless another entry has the same head, the token is free.
        if !self.by_head.contains(digest_head(digest), self.head_of()) {
            return TOKEN_HEX_LEN;
        }
        let mut len = TOKEN_HEX_LEN;
        loop {
            let mut token = String::with_capacity(self.prefix.len() + kind.len() + 1 + len);
            token.push_str(&self.prefix);
            token.push_str(kind);
            token.push('_');
            push_hex(digest, len, &mut token);
            // A collision with a different original (vanishingly rare):
            // lengthen the hash part until the token is unique here.
            if self.token_index(&token).is_none() || len >= MAX_HEX_LEN {
                return len;
            }
            len += 4;
        }
    }

    /// The original a token stands for, if this exchange issued it.
    pub fn original(&self, token: &str) -> Option<&str> {
        let i = self.token_index(token)?;
        self.entry(i).map(|e| self.original_of(e))
    }

    /// The longest issued token at the start of `text`, with its original.
    pub fn longest_at<'a>(&'a self, text: &str) -> Option<(usize, &'a str)> {
        self.longest_index_at(text)
            .map(|(len, i)| (len, self.original_by_index(i)))
    }

    /// [`longest_at`](Self::longest_at), answering the entry's index.
    pub fn longest_index_at(&self, text: &str) -> Option<(usize, u32)> {
        self.lengths.iter().find_map(|&len| {
            let candidate = text.get(..len)?;
            self.token_index(candidate).map(|i| (len, i))
        })
    }

    fn sorted(&self) -> &[u32] {
        self.sorted.get_or_init(|| {
            let n = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
            let mut order: Vec<u32> = (0..n).collect();
            // Every token starts with the prefix: the tails decide.
            order.sort_by(|&a, &b| match (self.entry(a), self.entry(b)) {
                (Some(a), Some(b)) => self.token_tail(a).cmp(self.token_tail(b)),
                _ => a.cmp(&b),
            });
            order
        })
    }

    /// Whether `tail` is a proper prefix of some issued token, i.e. more
    /// input could still complete it into a token.
    pub fn is_proper_prefix(&self, tail: &str) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        let prefix = self.prefix.as_bytes();
        let bytes = tail.as_bytes();
        let Some(rest) = bytes.strip_prefix(prefix) else {
            // Within the prefix, any token completes it.
            return prefix.starts_with(bytes);
        };
        let sorted = self.sorted();
        // The first token whose tail sorts after `rest`: the one that
        // starts with `rest`, if any does (the prefix is common to all).
        let after = sorted.partition_point(|&i| {
            self.entry(i)
                .is_some_and(|e| self.token_tail(e).le(rest.iter().copied()))
        });
        sorted.get(after).is_some_and(|&i| {
            self.entry(i).is_some_and(|e| {
                let mut t = self.token_tail(e);
                rest.iter().all(|b| t.next() == Some(*b))
            })
        })
    }

    /// The map's tokens, for writing an [`Output`](crate::splice::Output)
    /// of masking.
    pub fn token_texts(&self) -> TokenTexts<'_> {
        TokenTexts(self)
    }

    /// The map's originals, for writing an
    /// [`Output`](crate::splice::Output) of restoring.
    pub fn original_texts(&self) -> OriginalTexts<'_> {
        OriginalTexts(self)
    }

    /// Number of distinct tokens issued.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no token has been issued.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every issued token and its original, in token order (tests, tools:
    /// each token is spelled out).
    pub fn iter(&self) -> impl Iterator<Item = (String, &str)> {
        self.sorted().iter().filter_map(|&i| {
            let e = self.entry(i)?;
            let mut token = String::new();
            self.push_token(e, &mut token);
            Some((token, self.original_of(e)))
        })
    }

    /// The length of each issued token, with its original (in issue order;
    /// nothing is spelled out).
    pub fn sizes(&self) -> impl Iterator<Item = (usize, &str)> {
        self.entries
            .iter()
            .map(|e| (self.token_len_of(e), self.original_of(e)))
    }

    /// Test hook: points entry `i` at another original, as if a different
    /// value had been issued its token (forcing a token collision).
    #[cfg(test)]
    fn claim(&mut self, i: usize, original: &str) {
        if let Some(e) = self.entries.get(i).copied() {
            let extra = std::str::from_utf8(self.extra_hex_of(&e))
                .unwrap()
                .to_owned();
            let at = self.store(original, &extra).unwrap();
            if let Some(slot) = self.entries.get_mut(i) {
                *slot = Entry {
                    at,
                    meta: e.meta & !Entry::LEN_MASK | original.len() as u32,
                    ..e
                };
            }
        }
    }
}

/// Issues the tokens of one body while it is masked, without copying the
/// originals that stand in it: each new entry refers to its value where it
/// stands in the body. When the issuer is dropped (once the masked body is
/// written and its splices are gone), those originals are copied into the
/// map, which then needs the body no longer. On a body dense with values,
/// the copies would otherwise be held beside the body and the splices at
/// the moment the VM's memory is at its highest.
///
/// ```
/// use aws_masker::token::{Issuer, TokenKey, TokenMap};
///
/// let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
/// let mut map = TokenMap::new("AWS_".to_string());
/// let body = String::from("stop i-0123456789abcdef0 now");
/// let mut issuer = Issuer::new(&mut map, body.as_bytes());
/// let id = issuer.issue_index(&key, "EC2", &body[5..24]);
/// drop(issuer);
/// drop(body);
/// assert_eq!(map.original_by_index(id), "i-0123456789abcdef0");
/// ```
#[derive(Debug)]
pub struct Issuer<'m, 'b> {
    map: &'m mut TokenMap,
    source: &'b [u8],
    /// Entries before this one were made before the issuer: none of them
    /// refers to `source`.
    first: usize,
}

impl<'m, 'b> Issuer<'m, 'b> {
    /// An issuer into `map` for values of `source`.
    pub fn new(map: &'m mut TokenMap, source: &'b [u8]) -> Issuer<'m, 'b> {
        let first = map.entries.len();
        Issuer { map, source, first }
    }

    /// [`TokenMap::issue_index`], keeping a value that is a slice of the
    /// source where it stands.
    pub fn issue_index(&mut self, key: &TokenKey, kind: &str, value: &str) -> u32 {
        self.map.issue_from(self.source, key, kind, value)
    }

    /// The map, to read: its tokens ([`TokenMap::token_texts`]) and
    /// whether it is full. Its originals from the source read as empty
    /// until the issuer is dropped.
    pub fn map(&self) -> &TokenMap {
        self.map
    }
}

impl Drop for Issuer<'_, '_> {
    fn drop(&mut self) {
        self.map.settle(self.source, self.first);
    }
}

/// The tokens of a map, as the texts of masking's splices (an id is an
/// entry's index, as [`TokenMap::issue_index`] answers it).
#[derive(Debug, Clone, Copy)]
pub struct TokenTexts<'m>(&'m TokenMap);

impl SpliceTexts for TokenTexts<'_> {
    fn text<'a>(&'a self, id: u32, scratch: &'a mut String) -> &'a str {
        scratch.clear();
        self.0.push_token_by_index(id, scratch);
        scratch
    }

    /// A token is ASCII letters, digits and `_`: never escaped.
    fn written_len(&self, id: u32, _escape: bool, _scratch: &mut String) -> usize {
        self.0.token_len_by_index(id)
    }
}

/// The originals of a map, as the texts of restoring's splices.
#[derive(Debug, Clone, Copy)]
pub struct OriginalTexts<'m>(&'m TokenMap);

impl SpliceTexts for OriginalTexts<'_> {
    fn text<'a>(&'a self, id: u32, _scratch: &'a mut String) -> &'a str {
        self.0.original_by_index(id)
    }
}

/// Length of the token-shaped text `<prefix><KIND>_<hex>` (KIND of
/// `[A-Z0-9_]`, at least [`TOKEN_HEX_LEN`] lower-case hex digits) at the
/// start of `text`, if any. Such text is never masked again.
pub fn token_len_at(prefix: &str, text: &str) -> Option<usize> {
    let rest = text.strip_prefix(prefix)?;
    let bytes = rest.as_bytes();
    // KIND: [A-Z0-9_]+ ; then '_' ; then hex. The KIND itself may contain
    // '_', so the hash part starts after the last '_' of the upper run.
    let upper_run = bytes
        .iter()
        .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
        .count();
    let upper = bytes.get(..upper_run)?;
    // Candidates: each '_' inside the run (after at least one KIND char),
    // checked from the last, since hex digits 0-9 are also in the run.
    let mut best = None;
    for (i, b) in upper.iter().enumerate().rev() {
        if *b != b'_' || i == 0 {
            continue;
        }
        let hex = bytes
            .get(i + 1..)?
            .iter()
            .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            .count();
        if hex >= TOKEN_HEX_LEN {
            best = Some(prefix.len() + i + 1 + hex);
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::new(b"test secret, 32 bytes long......")
    }

    /// Re-issuing values (the recent-value cache) gives each its first
    /// token, whatever the order and however many share a cache slot; the
    /// same value under another kind is another token.
    #[test]
    fn reissued_values_keep_their_tokens() {
        let key = key();
        let mut map = TokenMap::new("AWS_".into());
        let values: Vec<String> = (0..2000).map(|i| format!("i-{i:017x}")).collect();
        let first: Vec<String> = values
            .iter()
            .map(|v| map.issue(&key, "EC2", v).to_string())
            .collect();
        for (v, t) in values.iter().zip(&first).rev() {
            assert_eq!(&map.issue(&key, "EC2", v), t);
            assert_eq!(map.original(t), Some(v.as_str()));
        }
        for (v, t) in values.iter().zip(&first).step_by(7) {
            let other = map.issue(&key, "NAME", v).to_string();
            assert_ne!(&other, t);
            assert_eq!(&map.issue(&key, "EC2", v), t);
            assert_eq!(map.issue(&key, "NAME", v), other);
        }
        let mut fresh = TokenMap::new("AWS_".into());
        for (v, t) in values.iter().zip(&first) {
            assert_eq!(&fresh.issue(&key, "EC2", v), t);
        }
    }

    #[test]
    fn tokens_are_deterministic_and_keyed() {
        let mut a = TokenMap::new("AWS_".into());
        let mut b = TokenMap::new("AWS_".into());
        let t1 = a.issue(&key(), "IP", "10.0.0.1").to_string();
        assert_eq!(b.issue(&key(), "IP", "10.0.0.1"), t1);
        let mut c = TokenMap::new("AWS_".into());
        let other = TokenKey::new(b"another secret, 32 bytes long...");
        assert_ne!(c.issue(&other, "IP", "10.0.0.1"), t1);
        // Kind is part of the MAC input, not only of the text: the same
        // value under another kind has another hash part.
        let mut d = TokenMap::new("AWS_".into());
        let as_host = d.issue(&key(), "HOST", "10.0.0.1").to_string();
        assert_ne!(as_host.rsplit('_').next(), t1.rsplit('_').next());
    }

    /// Client scopes: deterministic per identity, unlinkable across
    /// identities and from the gateway key.
    #[test]
    fn scoped_keys_separate_clients() {
        let gateway = key();
        let issue = |k: TokenKey| {
            TokenMap::scoped("AWS_".into(), k, 10)
                .issue(&TokenKey::new(b"ignored"), "IP", "10.0.0.1")
                .to_string()
        };
        let alice = issue(gateway.scoped(b"sk-ant-alice"));
        assert_eq!(alice, issue(gateway.scoped(b"sk-ant-alice")));
        assert_ne!(alice, issue(gateway.scoped(b"sk-ant-bob")));
        let mut plain = TokenMap::new("AWS_".into());
        assert_ne!(alice, plain.issue(&gateway, "IP", "10.0.0.1"));
    }

    #[test]
    fn a_full_map_says_so() {
        let mut m = TokenMap::scoped("AWS_".into(), key(), 2);
        for v in ["a", "b", "a", "b"] {
            m.issue(&key(), "X", v);
        }
        assert!(!m.is_full());
        m.issue(&key(), "X", "c");
        assert!(m.is_full());
        assert_eq!(m.limit(), Some(2));
    }

    #[test]
    fn collisions_get_longer_tokens() {
        let mut m = TokenMap::new("AWS_".into());
        let k = key();
        let t = m.issue(&k, "X", "a").to_string();
        // Force a collision: claim `t` for another original, then ask again.
        m.claim(0, "someone else");
        let t2 = m.issue(&k, "X", "a").to_string();
        assert_ne!(t, t2);
        assert!(t2.starts_with(&t) && t2.len() == t.len() + 4);
        assert_eq!(m.original(&t2), Some("a"));
        // Found again through the overflow list, not issued a third time.
        assert_eq!(m.issue(&k, "X", "a"), t2);
        assert_eq!(m.len(), 2);
        assert_eq!(m.longest_at(&format!("{t2} tail")), Some((t2.len(), "a")));
        assert!(
            m.is_proper_prefix(&t),
            "shorter token is a prefix of the longer"
        );
    }

    #[test]
    fn prefix_queries() {
        let mut m = TokenMap::new("AWS_".into());
        let t = m.issue(&key(), "EC2", "i-0123456789abcdef0").to_string();
        for cut in 1..t.len() {
            assert!(m.is_proper_prefix(&t[..cut]), "{}", &t[..cut]);
        }
        assert!(!m.is_proper_prefix(&t));
        assert!(!m.is_proper_prefix("AWS_X"));
        assert_eq!(m.longest_at(&t), Some((t.len(), "i-0123456789abcdef0")));
        assert_eq!(m.longest_at("AWS_"), None);
    }

    #[test]
    fn token_shape() {
        let cases = [
            ("AWS_EC2_3f9a1c2e", Some(16)),
            ("AWS_TGW_ATTACH_3f9a1c2e", Some(23)),
            ("AWS_EC2_3f9a1c2e7b", Some(18)),
            ("AWS_EC2_3f9a1c2e, and", Some(16)),
            ("AWS_EC2_3f9a1c2", None),
            ("AWS_EC2_3F9A1C2E", None),
            ("AWS__3f9a1c2e", None),
            ("aws_EC2_3f9a1c2e", None),
            ("AWS_ACCOUNT_12345678", Some(20)),
        ];
        for (text, want) in cases {
            assert_eq!(token_len_at("AWS_", text), want, "{text}");
        }
        let whole = "AWS_IP_0badcafe";
        assert_eq!(token_len_at("AWS_", whole), Some(whole.len()));
        let longer = "AWS_IP_0badcafe!";
        assert_ne!(token_len_at("AWS_", longer), Some(longer.len()));
    }

    /// An issuer that keeps originals in its source gives the map a plain
    /// map gives (the oracle) once it is dropped: the same tokens, the same
    /// originals, for values in the source and not, repeated, and longer
    /// than an entry's length field holds.
    #[test]
    fn an_issuer_gives_the_map_a_plain_map_gives() {
        let key = key();
        let long = "k".repeat(Entry::LONG as usize + 10);
        let mut body = String::new();
        for i in 0..3000 {
            body.push_str(&format!("addr 10.0.{}.{} ok\n", i / 256, i % 256));
        }
        body.push_str(&long);
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for (at, _) in body.match_indices("10.0.") {
            let end = at + body[at..].find(' ').unwrap();
            spans.push((at, end));
        }
        spans.push((body.len() - long.len(), body.len()));
        let owned = ["i-0123456789abcdef0".to_string(), long.clone()];
        let mut plain = TokenMap::new("AWS_".into());
        let mut map = TokenMap::new("AWS_".into());
        map.issue(&key, "EC2", "i-before");
        plain.issue(&key, "EC2", "i-before");
        let mut ids = Vec::new();
        {
            let mut issuer = Issuer::new(&mut map, body.as_bytes());
            for round in 0..2 {
                for (k, &(a, b)) in spans.iter().enumerate() {
                    let value = &body[a..b];
                    let kind = if k % 3 == 0 { "IP" } else { "HOST" };
                    let id = issuer.issue_index(&key, kind, value);
                    let want = plain.issue_index(&key, kind, value);
                    assert_eq!(id, want, "{value}");
                    if round == 0 {
                        ids.push((id, value.to_string()));
                    }
                    if k % 500 == 0 {
                        let o = &owned[k / 500 % 2];
                        assert_eq!(
                            issuer.issue_index(&key, "NAME", o),
                            plain.issue_index(&key, "NAME", o)
                        );
                    }
                }
            }
            assert_eq!(issuer.map().len(), plain.len());
        }
        drop(body);
        for (id, value) in &ids {
            assert_eq!(map.original_by_index(*id), value);
        }
        assert!(map.iter().eq(plain.iter()));
        assert!(map.sizes().eq(plain.sizes()));
        assert_eq!(
            map.original(&plain.issue(&key, "NAME", &long)),
            Some(long.as_str())
        );
    }
}
