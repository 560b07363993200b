//! The engine's front door for programs that embed it: a [`Masker`] built
//! from a configuration and a required secret, one call that masks a body,
//! and one restorer each for text, JSON and streams.
//!
//! The gateway filter and the `aws-masker` command line both mask through
//! the same [`Engine`]; this facade is the small, typed surface to start
//! from. A masker cannot be built without a secret of at least
//! [`MIN_SECRET_CHARS`] characters: tokens derived from an empty or short
//! secret could be reversed by brute force.
//!
//! ```
//! use aws_masker::{BodyKind, Masker};
//!
//! let masker = Masker::builder()
//!     .secret("a secret of at least sixteen characters")
//!     .build()?;
//! let masked = masker.mask(b"stop i-0123456789abcdef0 now", BodyKind::Text)?;
//! let text = String::from_utf8(masked.body.clone()).unwrap();
//! assert!(!text.contains("i-0123456789abcdef0"));
//! assert_eq!(masked.report.total(), 1);
//! assert_eq!(
//!     aws_masker::restore_text(&masked.tokens, &text),
//!     "stop i-0123456789abcdef0 now"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use crate::config::{Config, ConfigError, MIN_SECRET_CHARS};
use crate::mask::{BodyKind, Engine, MaskError, MaskReport};
use crate::restore::Restorer;
use crate::stream::SseRestorer;
use crate::token::{Issuer, TokenMap};

/// Masks request bodies under one configuration and secret. Build it once
/// and share it: it keeps the detector's tables and its memo of long
/// texts.
#[derive(Debug, Clone)]
pub struct Masker {
    engine: Engine,
}

/// Collects what a [`Masker`] is built from; [`MaskerBuilder::build`]
/// validates it.
#[derive(Debug, Clone, Default)]
pub struct MaskerBuilder {
    config: Config,
    secret: Option<String>,
}

/// Why a [`Masker`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// Neither [`MaskerBuilder::secret`] nor the configuration's `secret`
    /// gave a secret.
    MissingSecret,
    /// The secret has fewer than [`MIN_SECRET_CHARS`] characters.
    ShortSecret {
        /// Its length in characters.
        chars: usize,
    },
    /// The configuration document is invalid (the message the gateway
    /// logs for it).
    Config(ConfigError),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::MissingSecret => write!(
                f,
                "no secret: set one of at least {MIN_SECRET_CHARS} characters, e.g. `openssl rand -hex 32`"
            ),
            BuildError::ShortSecret { chars } => write!(
                f,
                "secret too short ({chars} characters); use at least {MIN_SECRET_CHARS}"
            ),
            BuildError::Config(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for BuildError {}

impl MaskerBuilder {
    /// Uses `config` (its `secret`, if any, unless [`secret`](Self::secret)
    /// gives one).
    pub fn config(mut self, config: Config) -> MaskerBuilder {
        self.config = config;
        self
    }

    /// Parses and validates a configuration document, the JSON object the
    /// gateway takes, with the messages the gateway logs.
    pub fn config_json(self, json: &[u8]) -> Result<MaskerBuilder, BuildError> {
        Ok(self.config(Config::from_json(json).map_err(BuildError::Config)?))
    }

    /// The secret tokens are derived under: the same secret gives the same
    /// tokens, on every gateway and in every run.
    pub fn secret(mut self, secret: impl Into<String>) -> MaskerBuilder {
        self.secret = Some(secret.into());
        self
    }

    /// The masker, once its secret is known to be long enough.
    pub fn build(self) -> Result<Masker, BuildError> {
        let secret = self
            .secret
            .or_else(|| self.config.secret.clone())
            .ok_or(BuildError::MissingSecret)?;
        let chars = secret.chars().count();
        if chars < MIN_SECRET_CHARS {
            return Err(BuildError::ShortSecret { chars });
        }
        let mut config = self.config;
        config.secret = Some(secret.clone());
        Ok(Masker {
            engine: Engine::new(config, secret.as_bytes()),
        })
    }
}

/// A masked body, the tokens that restore it, and what was masked.
#[derive(Debug, Clone)]
pub struct Masked {
    /// The body with every value replaced by its token (the input as it
    /// was when there was nothing to mask).
    pub body: Vec<u8>,
    /// Every token issued, with its original: what restores the answer.
    /// It holds the originals, so it is as sensitive as the body was.
    pub tokens: TokenMap,
    /// How many values of each kind were masked (no values in it).
    pub report: MaskReport,
}

/// One value a [`Masker`] would mask: where it is in the body, and its
/// kind (the token's, e.g. `EC2`, `ARN`, `SECRET_KEY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Byte offset of the value's first byte in the body.
    pub start: usize,
    /// Byte offset just past the value.
    pub end: usize,
    /// The value's kind.
    pub kind: String,
}

impl Masker {
    /// A builder: a configuration (the defaults unless given) and a secret
    /// (required).
    pub fn builder() -> MaskerBuilder {
        MaskerBuilder::default()
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        self.engine.config()
    }

    /// The engine behind the facade, for the gateway filter and the
    /// benches.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Masks `body`: a JSON document inside its string literals, text as
    /// text (text that holds JSON as JSON). No limit on the number of
    /// values: the gateway's `max_values_per_request` bounds one exchange,
    /// not a tool's file.
    pub fn mask(&self, body: &[u8], kind: BodyKind) -> Result<Masked, MaskError> {
        let mut tokens = self.engine.new_token_map();
        let mut report = MaskReport::default();
        let masked = self
            .engine
            .mask_body(body, kind, &mut tokens, &mut report)?;
        let body = masked.unwrap_or_else(|| body.to_vec());
        Ok(Masked {
            body,
            tokens,
            report,
        })
    }

    /// What [`mask`](Self::mask) would replace in `body`, in order, with
    /// byte offsets into `body` itself (raw bytes, also inside JSON
    /// literals with escapes).
    pub fn find(&self, body: &[u8], kind: BodyKind) -> Result<Vec<Found>, MaskError> {
        let mut tokens = self.engine.new_token_map();
        let mut report = MaskReport::default();
        let mut issuer = Issuer::new(&mut tokens, body);
        let masked = self
            .engine
            .mask_body_output(body, kind, &mut issuer, &mut report)?;
        Ok(masked
            .map(|out| {
                out.splices()
                    .map(|s| Found {
                        start: s.start,
                        end: s.end,
                        kind: issuer.map().kind_by_index(s.id).to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// `text` with every token of `tokens` replaced by its original (free text:
/// a model's answer, a file masked as text).
pub fn restore_text<'t>(tokens: &TokenMap, text: &'t str) -> Cow<'t, str> {
    Restorer::new(tokens).restore_text(text)
}

/// A JSON document with the tokens inside its string literals restored,
/// every other byte as it was; `thinking` text stays untouched unless
/// `restore_thinking` (it is signed by the provider). Returns the body and
/// how many tokens were restored.
pub fn restore_json(tokens: &TokenMap, body: &[u8], restore_thinking: bool) -> (Vec<u8>, usize) {
    match crate::restore::restore_json(tokens, body, restore_thinking) {
        (Some(restored), n) => (restored, n),
        (None, n) => (body.to_vec(), n),
    }
}

/// A restorer for a server-sent-events answer fed in chunks of any size:
/// a token cut between chunks or events comes back whole.
pub fn stream_restorer(tokens: TokenMap, restore_thinking: bool) -> SseRestorer {
    SseRestorer::new(tokens, restore_thinking)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef-a-test-secret";

    #[test]
    fn a_masker_needs_a_long_enough_secret() {
        assert_eq!(
            Masker::builder().build().unwrap_err(),
            BuildError::MissingSecret
        );
        assert_eq!(
            Masker::builder().secret("").build().unwrap_err(),
            BuildError::ShortSecret { chars: 0 }
        );
        assert_eq!(
            Masker::builder()
                .secret("é".repeat(15))
                .build()
                .unwrap_err(),
            BuildError::ShortSecret { chars: 15 }
        );
        assert!(Masker::builder().secret("é".repeat(16)).build().is_ok());
        let from_config = Masker::builder()
            .config_json(format!(r#"{{"secret": "{SECRET}"}}"#).as_bytes())
            .unwrap()
            .build()
            .unwrap();
        let given = Masker::builder().secret(SECRET).build().unwrap();
        let body = b"i-0123456789abcdef0";
        assert_eq!(
            from_config.mask(body, BodyKind::Text).unwrap().body,
            given.mask(body, BodyKind::Text).unwrap().body
        );
        let other = Masker::builder().secret(format!("{SECRET}!")).build();
        assert_ne!(
            other.unwrap().mask(body, BodyKind::Text).unwrap().body,
            given.mask(body, BodyKind::Text).unwrap().body
        );
    }

    #[test]
    fn an_invalid_config_is_the_gateways_message() {
        let err = Masker::builder()
            .config_json(br#"{"max_body_bytes": "big"}"#)
            .unwrap_err();
        let BuildError::Config(inner) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(err.to_string(), inner.to_string());
        assert!(err.to_string().contains("max_body_bytes"), "{err}");
    }

    #[test]
    fn found_values_are_where_the_mask_replaces_them() {
        let masker = Masker::builder().secret(SECRET).build().unwrap();
        let body = br#"{"a": "vpc-0a1b2c3d4e5f60718 and \u0069-0123456789abcdef0", "n": 1}"#;
        let found = masker.find(body, BodyKind::Json).unwrap();
        let spans: Vec<(&str, &str)> = found
            .iter()
            .map(|f| {
                (
                    std::str::from_utf8(&body[f.start..f.end]).unwrap(),
                    f.kind.as_str(),
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                ("vpc-0a1b2c3d4e5f60718", "VPC"),
                (r"\u0069-0123456789abcdef0", "EC2")
            ]
        );
        assert!(masker
            .find(b"nothing here", BodyKind::Text)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn each_restorer_gives_the_originals_back() {
        let masker = Masker::builder().secret(SECRET).build().unwrap();
        let body =
            br#"{"messages":[{"role":"user","content":"arn:aws:iam::123456789012:role/Deploy"}]}"#;
        let masked = masker.mask(body, BodyKind::Json).unwrap();
        assert_eq!(masked.report.total(), 1);
        let (json, n) = restore_json(&masked.tokens, &masked.body, false);
        assert_eq!((json.as_slice(), n), (&body[..], 1));
        let text = String::from_utf8(masked.body.clone()).unwrap();
        assert_eq!(restore_text(&masked.tokens, &text).as_bytes(), &body[..]);
        let token = masked.tokens.iter().next().unwrap().0;
        let event = format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{token}\"}}}}\n\n"
        );
        let mut restorer = stream_restorer(masked.tokens.clone(), false);
        let mut out = Vec::new();
        use crate::stream::ChunkRestorer;
        for chunk in event.as_bytes().chunks(7) {
            restorer.push(chunk, &mut out);
        }
        restorer.finish(&mut out);
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("arn:aws:iam::123456789012:role/Deploy"),
            "{out}"
        );
        assert!(!out.contains(&token));
    }

    #[test]
    fn tokens_issued_elsewhere_restore_after_insert() {
        let masker = Masker::builder().secret(SECRET).build().unwrap();
        let masked = masker
            .mask(b"10.1.2.3 and sg-0123456789abcdef0", BodyKind::Text)
            .unwrap();
        let mut copy = TokenMap::new(masker.config().token_prefix.clone());
        for (token, original) in masked.tokens.iter() {
            assert!(copy.insert_issued(&token, original));
            assert!(!copy.insert_issued(&token, original), "a second time");
        }
        for bad in [
            "AWS_EC2",
            "AWS__0123abcd",
            "AWS_EC2_0123abc",
            "AWS_EC2_0123ABCD",
            "X_EC2_0123abcd",
        ] {
            assert!(!copy.insert_issued(bad, "x"), "{bad}");
        }
        let text = String::from_utf8(masked.body).unwrap();
        assert_eq!(
            restore_text(&copy, &text),
            "10.1.2.3 and sg-0123456789abcdef0"
        );
    }
}
