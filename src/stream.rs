//! Streaming restore of Server-Sent Events responses (Anthropic Messages
//! and OpenAI chat completion streams), fed in arbitrary chunks.

use crate::token::TokenMap;

/// Restores an SSE response stream event by event as it arrives.
#[derive(Debug)]
pub struct SseRestorer {
    tokens: TokenMap,
    restore_thinking: bool,
}

impl SseRestorer {
    /// A restorer for the tokens one exchange issued.
    pub fn new(tokens: TokenMap, restore_thinking: bool) -> SseRestorer {
        SseRestorer {
            tokens,
            restore_thinking,
        }
    }

    /// Feeds the next chunk; appends to `out` what can be released now.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let _ = (&self.tokens, self.restore_thinking);
        out.extend_from_slice(chunk);
    }

    /// Ends the stream: appends everything still held back.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let _ = out;
    }
}
