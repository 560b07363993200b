//! Append-only storage in fixed-size chunks, for what grows with the
//! number of values in a body (the token map's entries and originals).
//!
//! A `Vec` that doubles keeps up to twice what it holds, copies itself at
//! each doubling (old and new both alive for a moment), and leaves behind
//! freed blocks that nothing larger can reuse. Inside wasm, whose memory
//! never shrinks, each of those is paid for the VM's whole life: on a body
//! dense with values the token map alone grew the VM by twice the body.
//! Chunks are allocated at their exact size, never moved, and all alike,
//! so what one exchange frees the next one reuses.

/// Elements per chunk of a [`ChunkedVec`].
const CHUNK_ELEMS: usize = 4096;

/// A vector that grows a chunk of [`CHUNK_ELEMS`] elements at a time
/// (empty, it holds nothing).
#[derive(Debug, Clone)]
pub struct ChunkedVec<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> Self {
        ChunkedVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> ChunkedVec<T> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `value`.
    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK_ELEMS => last.push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK_ELEMS);
                chunk.push(value);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    /// The element at `i`.
    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK_ELEMS)?.get(i % CHUNK_ELEMS)
    }

    /// The element at `i`, to change.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks
            .get_mut(i / CHUNK_ELEMS)?
            .get_mut(i % CHUNK_ELEMS)
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

/// Bytes per chunk of a [`TextArena`]; a text longer than this gets a
/// chunk of its own, of its exact size.
const CHUNK_BYTES: usize = 32 * 1024;

/// Append-only UTF-8 texts in chunks, each addressed by a `u32` (its
/// chunk, then its offset in it) and read back with its length (empty, it
/// holds nothing).
#[derive(Debug, Clone, Default)]
pub struct TextArena {
    chunks: Vec<String>,
    /// The chunk short texts go to while they fit (a long text's own
    /// chunk, added after it, leaves it open).
    open: Option<usize>,
}

impl TextArena {
    /// Stores `parts` back to back, in one chunk, and answers where they
    /// start (read back as one text); `None` once the arena holds 65,536
    /// chunks (2 GiB), which a `u32` cannot address.
    pub fn push(&mut self, parts: &[&str]) -> Option<u32> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let open = self.open.filter(|&i| {
            self.chunks
                .get(i)
                .is_some_and(|c| c.len() + len <= CHUNK_BYTES)
        });
        let chunk = match open {
            Some(i) => i,
            None => {
                if self.chunks.len() > 0xffff {
                    return None;
                }
                self.chunks
                    .push(String::with_capacity(len.max(CHUNK_BYTES)));
                let i = self.chunks.len() - 1;
                if len <= CHUNK_BYTES {
                    self.open = Some(i);
                }
                i
            }
        };
        let text = self.chunks.get_mut(chunk)?;
        // Below CHUNK_BYTES; a long text, in a chunk of its own, starts at 0.
        let offset = u32::try_from(text.len()).ok()?;
        for p in parts {
            text.push_str(p);
        }
        Some(u32::try_from(chunk).ok()? << 16 | offset)
    }

    /// The `len` bytes stored at `at` (empty if there are none there).
    pub fn get(&self, at: u32, len: usize) -> &str {
        let (chunk, offset) = ((at >> 16) as usize, (at & 0xffff) as usize);
        self.chunks
            .get(chunk)
            .and_then(|c| c.get(offset..offset + len))
            .unwrap_or_default()
    }

    /// Bytes held, chunks' room included.
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.chunks.iter().map(String::capacity).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a plain `Vec` and a plain `String` (the naive oracles),
    /// across chunk edges and with texts longer than a chunk.
    #[test]
    fn chunked_storage_reads_back_what_was_stored() {
        let mut v = ChunkedVec::default();
        let mut want = Vec::new();
        for i in 0..3 * CHUNK_ELEMS + 7 {
            v.push(i);
            want.push(i);
        }
        assert_eq!(v.len(), want.len());
        assert!(v.iter().eq(want.iter()));
        assert_eq!(v.get(want.len()), None);
        for i in [0, CHUNK_ELEMS - 1, CHUNK_ELEMS, want.len() - 1] {
            assert_eq!(v.get(i), Some(&i));
        }
        if let Some(x) = v.get_mut(CHUNK_ELEMS) {
            *x = 0;
        }
        assert_eq!(v.get(CHUNK_ELEMS), Some(&0));

        let mut arena = TextArena::default();
        let mut stored = Vec::new();
        for i in 0..5_000usize {
            let text = match i % 997 {
                0 => "x".repeat(CHUNK_BYTES + i),
                _ => format!("10.0.{}.{}", i / 256, i % 256),
            };
            let (a, b) = text.split_at(text.len() / 2);
            stored.push((arena.push(&[a, b]).unwrap(), text));
        }
        for (at, text) in &stored {
            assert_eq!(arena.get(*at, text.len()), text);
        }
        let total: usize = stored.iter().map(|(_, t)| t.len()).sum();
        assert!(arena.capacity() < total + 2 * CHUNK_BYTES);
    }
}
