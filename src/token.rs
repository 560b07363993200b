//! Keyed, deterministic, readable tokens and the per-exchange token map.
//!
//! A token is `<prefix><KIND>_<hex>`, e.g. `AWS_EC2_3f9a1c2e`. The hex part
//! is the start of HMAC-SHA256(secret, kind ‖ 0 ‖ value): the same original
//! always gives the same token under the same secret (so a multi-turn
//! conversation, re-sent and re-masked each turn, stays coherent and prompt
//! caching keeps working), no store is needed, and without the secret a
//! token cannot be reversed by trying every candidate value (an IPv4 address
//! has only 2^32).
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

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

type HmacSha256 = Hmac<Sha256>;

/// Hex digits in a token's hash part; more are used only on a collision.
pub const TOKEN_HEX_LEN: usize = 8;
const MAX_HEX_LEN: usize = 64;

/// The MAC key tokens are derived under. Cheap to clone.
#[derive(Clone)]
pub struct TokenKey {
    mac: HmacSha256,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// A key from the configured (or generated) secret bytes.
    pub fn new(secret: &[u8]) -> TokenKey {
        // HMAC accepts keys of any length; this cannot fail.
        let mac = match HmacSha256::new_from_slice(secret) {
            Ok(mac) => mac,
            Err(_) => HmacSha256::new(&Default::default()),
        };
        TokenKey { mac }
    }

    /// The full hex digest for `kind` + `value` (64 hex digits).
    fn digest_hex(&self, kind: &str, value: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(MAX_HEX_LEN);
        for b in bytes {
            hex.push(hex_digit(b >> 4));
            hex.push(hex_digit(b & 0x0f));
        }
        hex
    }
}

fn hex_digit(n: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { b'a' + n - 10 })
}

/// The tokens one exchange issued, and their originals.
///
/// Built while masking the request, then used to restore the response.
/// Within one map, two different originals never share a token: on a hash
/// collision the later one gets a longer hash part.
#[derive(Debug, Clone, Default)]
pub struct TokenMap {
    prefix: String,
    by_token: BTreeMap<String, String>,
    by_original: BTreeMap<String, BTreeMap<String, String>>,
    /// Distinct token lengths issued, longest first, for longest-match.
    lengths: Vec<usize>,
}

impl TokenMap {
    /// An empty map for tokens starting with `prefix`.
    pub fn new(prefix: String) -> TokenMap {
        TokenMap {
            prefix,
            ..TokenMap::default()
        }
    }

    /// The token prefix, e.g. `AWS_`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The token for `value` of `kind`, issuing and recording it if new.
    pub fn issue(&mut self, key: &TokenKey, kind: &str, value: &str) -> &str {
        let known = self
            .by_original
            .get(kind)
            .and_then(|m| m.get(value))
            .is_some();
        if !known {
            let token = self.fresh_token(key, kind, value);
            let len = token.len();
            self.by_token.insert(token.clone(), value.to_string());
            self.by_original
                .entry(kind.to_string())
                .or_default()
                .insert(value.to_string(), token);
            if !self.lengths.contains(&len) {
                self.lengths.push(len);
                self.lengths.sort_unstable_by(|a, b| b.cmp(a));
            }
        }
        self.by_original
            .get(kind)
            .and_then(|m| m.get(value))
            .map(String::as_str)
            .unwrap_or_default()
    }

    fn fresh_token(&self, key: &TokenKey, kind: &str, value: &str) -> String {
        let hex = key.digest_hex(kind, value);
        let mut len = TOKEN_HEX_LEN;
        loop {
            let token = format!("{}{}_{}", self.prefix, kind, hex.get(..len).unwrap_or(&hex));
            // A collision with a different original (vanishingly rare):
            // lengthen the hash part until the token is unique here.
            if !self.by_token.contains_key(&token) || len >= MAX_HEX_LEN {
                return token;
            }
            len += 4;
        }
    }

    /// The original a token stands for, if this exchange issued it.
    pub fn original(&self, token: &str) -> Option<&str> {
        self.by_token.get(token).map(String::as_str)
    }

    /// The longest issued token at the start of `text`, with its original.
    pub fn longest_at<'a>(&'a self, text: &str) -> Option<(usize, &'a str)> {
        self.lengths.iter().find_map(|&len| {
            let candidate = text.get(..len)?;
            self.original(candidate).map(|orig| (len, orig))
        })
    }

    /// Whether `tail` is a proper prefix of some issued token, i.e. more
    /// input could still complete it into a token.
    pub fn is_proper_prefix(&self, tail: &str) -> bool {
        self.by_token
            .range::<str, _>((std::ops::Bound::Excluded(tail), std::ops::Bound::Unbounded))
            .next()
            .is_some_and(|(t, _)| t.starts_with(tail))
    }

    /// Number of distinct tokens issued.
    pub fn len(&self) -> usize {
        self.by_token.len()
    }

    /// Whether no token has been issued.
    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }

    /// Every issued token and its original, in token order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_token.iter().map(|(t, o)| (t.as_str(), o.as_str()))
    }

    /// Every original (with its kind) recorded so far.
    pub fn originals(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_original
            .iter()
            .flat_map(|(k, m)| m.keys().map(move |v| (k.as_str(), v.as_str())))
    }
}

/// Whether `text` is exactly a token shape `<prefix><KIND>_<hex>` (with
/// KIND of `[A-Z0-9_]` and at least [`TOKEN_HEX_LEN`] lower-case hex digits).
/// Such text is never masked again.
pub fn is_token_shaped(prefix: &str, text: &str) -> bool {
    token_len_at(prefix, text) == Some(text.len())
}

/// Length of the token-shaped text starting at the start of `text`, if any.
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

    #[test]
    fn tokens_are_deterministic_and_keyed() {
        let mut a = TokenMap::new("AWS_".into());
        let mut b = TokenMap::new("AWS_".into());
        let t1 = a.issue(&key(), "IP", "10.0.0.1").to_string();
        assert_eq!(b.issue(&key(), "IP", "10.0.0.1"), t1);
        let mut c = TokenMap::new("AWS_".into());
        let other = TokenKey::new(b"another secret, 32 bytes long...");
        assert_ne!(c.issue(&other, "IP", "10.0.0.1"), t1);
        // Kind is part of the MAC input, not only of the text.
        let mut d = TokenMap::new("AWS_".into());
        let as_host = d.issue(&key(), "IP", "10.0.0.2").to_string();
        assert_ne!(as_host, t1);
    }

    #[test]
    fn collisions_get_longer_tokens() {
        let mut m = TokenMap::new("AWS_".into());
        let k = key();
        let t = m.issue(&k, "X", "a").to_string();
        // Force a collision: claim `t` for another original, then ask again.
        m.by_token.insert(t.clone(), "someone else".into());
        m.by_original.get_mut("X").unwrap().remove("a");
        let t2 = m.issue(&k, "X", "a").to_string();
        assert_ne!(t, t2);
        assert!(t2.starts_with(&t) && t2.len() == t.len() + 4);
        assert_eq!(m.original(&t2), Some("a"));
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
        assert!(is_token_shaped("AWS_", "AWS_IP_0badcafe"));
        assert!(!is_token_shaped("AWS_", "AWS_IP_0badcafe!"));
    }
}
