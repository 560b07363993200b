//! Where the scan of a JSON string literal's content must stop next: at a
//! `"` (its end), a control byte (invalid in a literal) or an escape, but
//! not at a `\n` escape, which it passes over and reports.
//!
//! Code and prose hold a `\n` every few dozen bytes. The JSON walker takes
//! literals whose only escapes are `\n` as they stand (see
//! [`StrCtx::raw_newlines`](crate::json::StrCtx::raw_newlines)), so it
//! needs to know that they are all `\n`, not where they are; stopping at
//! each one cost more than the whole search in the `.wasm`.
//!
//! In the `.wasm`, sixteen bytes at a time with 128-bit SIMD
//! ([`block_first_stop`]). Natively, eight at a time with 64-bit words,
//! stopping at every escape: as fast there, and the engine's result is the
//! same. The native tests run the `.wasm`'s steps on SWAR lanes, and the
//! wasm host tests compare what the `.wasm` masks with the native engine.

/// The first byte of `s` where a scan of string content must stop, and
/// whether it passed over a `\n` escape before it (the caller learns of
/// the escapes it stops at itself). With `pass_newlines` off, it stops at
/// every `\`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline]
pub(crate) fn first_stop(s: &[u8], pass_newlines: bool) -> (Option<usize>, bool) {
    block_first_stop(s, pass_newlines)
}

/// [`first_stop`], sixteen bytes at a time, passing over `\n` escapes
/// when `pass_newlines`: one loop for each, so no block tests the flag.
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
fn block_first_stop(s: &[u8], pass_newlines: bool) -> (Option<usize>, bool) {
    if pass_newlines {
        blocks_first_stop::<true>(s)
    } else {
        blocks_first_stop::<false>(s)
    }
}

/// [`first_stop`] natively: at every `"`, `\` and control byte, so the
/// walker records every escape as it goes (cheaper than searching them
/// again to decode).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
pub(crate) fn first_stop(s: &[u8], _pass_newlines: bool) -> (Option<usize>, bool) {
    (first_special(s), false)
}

/// [`block_first_stop`] for one value of `PASS_NEWLINES`.
///
/// A `\` followed by `n` starts a `\n` escape when the scan reaches it: the
/// `\` of an escaped backslash `\\` is followed by a `\`, which stops the
/// scan, and the caller resumes after the escape. Bytes that cannot be
/// checked against the byte after them (the last block of 16 or more, and
/// the tail) stop the scan at every `\`.
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
fn blocks_first_stop<const PASS_NEWLINES: bool>(s: &[u8]) -> (Option<usize>, bool) {
    let mut blocks = s.chunks_exact(16);
    let Some(first) = blocks.next() else {
        return (first_special(s), false);
    };
    let mut current = Bytes::load(first);
    // Backslashes of the blocks passed whole: each starts a `\n` escape.
    let mut passed = Mask::NONE;
    let mut offset = 0;
    for block in blocks {
        let next = Bytes::load(block);
        let backslashes = current.eq(b'\\');
        let newlines = if PASS_NEWLINES {
            backslashes.and_not(current.shifted(&next).eq(b'n'))
        } else {
            backslashes
        };
        let stop = current.eq(b'"').or(current.control()).or(newlines);
        let bits = stop.bits();
        if bits != 0 {
            let at = bits.trailing_zeros();
            let before = backslashes.bits() & ((1u16 << at) - 1);
            return (Some(offset + at as usize), passed.any() || before != 0);
        }
        passed = passed.or(backslashes);
        current = next;
        offset += 16;
    }
    let tail = s.get(offset..).unwrap_or_default();
    (first_special(tail).map(|i| offset + i), passed.any())
}

/// The position of the first `"`, `\` or control byte (< 0x20) of `s`.
///
/// Eight bytes at a time (SWAR). In each word, a byte's high bit is set
/// for a byte equal to `"` or `\` or below 0x20; borrows may set bits only
/// above the first such byte, so the lowest set bit is exact.
#[inline]
fn first_special(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = s.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut words {
        let w = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let found = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        let found = found & HIGH;
        if found != 0 {
            // At most 7, so the cast cannot truncate.
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| offset + i)
}

/// Scans string content whose escapes must all be recorded (it holds one
/// that is not `\n`): returns the position of the first `"` or control
/// byte not escaped (`None`: the content runs out first), and pushes
/// `base +` the offset of every escape's `\` before it onto `escapes`.
///
/// Sixteen bytes at a time ([`Bytes`]), the escapes handled inside the
/// block: JSON inside JSON holds an escape every ten bytes, and a scan
/// that stopped at each and started again cost about 70 instructions an
/// escape. Checked against a byte scan in the tests. The walker uses it in
/// the `.wasm` only (see `SCAN_ESCAPES_IN_BLOCKS` in json.rs).
#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]
pub(crate) fn scan_escapes(s: &[u8], base: usize, escapes: &mut Vec<usize>) -> Option<usize> {
    // The first byte of the next block is escaped (a `\` ended this one).
    let mut escaped_first = false;
    for (k, block) in s.chunks(16).enumerate() {
        // `Bytes::load` takes whole words: the last block goes padded,
        // and its padding masked off.
        let mut padded = [0u8; 16];
        let (v, valid) = if block.len() == 16 {
            (Bytes::load(block), u16::MAX)
        } else {
            padded
                .iter_mut()
                .zip(block)
                .for_each(|(p, &byte)| *p = byte);
            (Bytes::load(&padded), (1u16 << block.len()) - 1)
        };
        let backslashes = v.eq(b'\\').bits() & valid;
        let mut special = (backslashes | v.eq(b'"').or(v.control()).bits()) & valid;
        if escaped_first {
            special &= !1;
            escaped_first = false;
        }
        while special != 0 {
            let at = special.trailing_zeros();
            let bit = 1u16 << at;
            if backslashes & bit == 0 {
                return Some(k * 16 + at as usize);
            }
            escapes.push(base + k * 16 + at as usize);
            // The byte after the `\` is escaped, whatever it is.
            special &= !bit;
            if at == 15 {
                escaped_first = true;
            } else {
                special &= !(bit << 1);
            }
        }
    }
    None
}

use crate::lanes::Bytes;
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
use crate::lanes::Mask;

#[cfg(test)]
mod tests {
    use super::*;

    /// What a scan of `s` (string content) finds: where it ends (the
    /// closing quote, a control byte, or the end of `s`), whether its
    /// escapes are none, all `\n` or not all `\n`, and the offsets of the
    /// escapes where they are all known.
    type Scanned = (usize, Option<bool>, Option<Vec<usize>>);

    /// [`Scanned`] by `first_stop`, resumed after each escape as the JSON
    /// walker does: passing over `\n` escapes while all are `\n`,
    /// recording the escapes it stops at, and searching the earlier ones
    /// once another escape shows up after it passed some.
    fn scan(s: &[u8], first_stop: impl Fn(&[u8], bool) -> (Option<usize>, bool)) -> Scanned {
        let mut pos = 0;
        let mut newlines_only = None;
        let mut passed_any = false;
        let mut escapes = Vec::new();
        let done = |pos, newlines_only: Option<bool>, passed_any: bool, escapes| {
            let known = !passed_any || newlines_only == Some(false);
            (pos, newlines_only, known.then_some(escapes))
        };
        loop {
            let (stop, passed) = first_stop(&s[pos..], newlines_only != Some(false));
            passed_any |= passed;
            if passed && newlines_only.is_none() {
                newlines_only = Some(true);
            }
            let Some(i) = stop else {
                return done(s.len(), newlines_only, passed_any, escapes);
            };
            pos += i;
            if s[pos] != b'\\' {
                return done(pos, newlines_only, passed_any, escapes);
            }
            let newline = s.get(pos + 1) == Some(&b'n');
            if !newline && newlines_only != Some(false) && passed_any {
                escapes = memchr::memchr_iter(b'\\', &s[..pos]).collect();
            }
            escapes.push(pos);
            newlines_only = Some(newlines_only.unwrap_or(true) && newline);
            pos += 2;
            if pos >= s.len() {
                return done(s.len(), newlines_only, passed_any, escapes);
            }
        }
    }

    /// The same, byte by byte.
    fn naive(s: &[u8]) -> Scanned {
        let mut newlines_only = None;
        let mut escapes = Vec::new();
        let mut pos = 0;
        while pos < s.len() {
            match s[pos] {
                b'\\' => {
                    let newline = s.get(pos + 1) == Some(&b'n');
                    newlines_only = Some(newlines_only.unwrap_or(true) && newline);
                    escapes.push(pos);
                    pos += 2;
                }
                b'"' => return (pos, newlines_only, Some(escapes)),
                b if b < 0x20 => return (pos, newlines_only, Some(escapes)),
                _ => pos += 1,
            }
        }
        (s.len(), newlines_only, Some(escapes))
    }

    /// Compares every way of scanning `s` with the byte-by-byte scan.
    fn check(s: &[u8]) {
        let (end, kind, escapes) = naive(s);
        for first_stop in [block_first_stop, first_stop] {
            let (got_end, got_kind, got_escapes) = scan(s, first_stop);
            let text = String::from_utf8_lossy(s);
            assert_eq!((got_end, got_kind), (end, kind), "{text:?}");
            if let (Some(got), Some(want)) = (&got_escapes, &escapes) {
                // Escapes past the end found by a scan that ended early
                // do not count; the rest are the same.
                let want: Vec<usize> = want.iter().copied().filter(|&e| e < got_end).collect();
                assert_eq!(*got, want, "{text:?}");
            }
            // Only a scan that passed over `\n` escapes of an all-`\n`
            // literal may leave their offsets unknown.
            assert!(got_escapes.is_some() || got_kind == Some(true), "{text:?}");
        }
    }

    /// The block scan agrees with a byte-by-byte scan on where the content
    /// ends, what escapes it holds and where they are: escapes and escaped
    /// backslashes (`\\n` is a backslash and an `n`, not a newline) at every
    /// offset of a block, and across the edge of two.
    #[test]
    fn block_scan_agrees_with_a_byte_scan() {
        let pieces: &[&[u8]] = &[
            b"\\n",
            b"\\\\n",
            b"\\\\",
            b"\\\"",
            b"\\t",
            b"\\\\\\n",
            b"\"",
            b"\x01",
            b"\x1f",
            b"n",
            b"\\",
            b"\xc3\xa9",
            b"\x7f",
            b"\x9f",
        ];
        for len in 0..50 {
            for piece in pieces {
                for second in pieces {
                    let mut s = vec![b'a'; len];
                    s.extend_from_slice(piece);
                    s.extend_from_slice(b"abc\\nabc");
                    s.extend_from_slice(second);
                    s.extend_from_slice(&[b'z'; 20]);
                    check(&s);
                }
            }
        }
        let mut rng = crate::test_rng::XorShift(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let s: Vec<u8> = (0..80)
                .map(|_| {
                    let x = rng.next();
                    match x % 32 {
                        0 => b'"',
                        1..=4 => b'\\',
                        5..=7 => b'n',
                        8 => (x >> 8) as u8 & 0x1f,
                        9 => 0x80 | (x >> 8) as u8,
                        _ => 0x20 + ((x >> 8) % 0x5f) as u8,
                    }
                })
                .collect();
            check(&s);
        }
    }

    /// The scan that records every escape in blocks agrees with a byte
    /// scan on where the content ends and where its escapes are.
    #[test]
    fn escape_scan_agrees_with_a_byte_scan() {
        let check = |s: &[u8]| {
            let (end, _, escapes) = naive(s);
            let mut got = vec![7];
            let stop = scan_escapes(s, 100, &mut got);
            let want: Vec<usize> = std::iter::once(7)
                .chain(escapes.unwrap_or_default().iter().map(|e| e + 100))
                .collect();
            assert_eq!(
                (stop.unwrap_or(s.len()), got),
                (end, want),
                "{:?}",
                String::from_utf8_lossy(s)
            );
            if let Some(stop) = stop {
                assert!(s[stop] == b'"' || s[stop] < 0x20);
            }
        };
        let pieces: &[&[u8]] = &[
            b"\\n",
            b"\\\\",
            b"\\\"",
            b"\\\\\\\"",
            b"\"",
            b"\x01",
            b"\\\x01",
            b"\\",
            b"\xc3\xa9",
        ];
        for len in 0..40 {
            for piece in pieces {
                for second in pieces {
                    let mut s = vec![b'a'; len];
                    s.extend_from_slice(piece);
                    s.extend_from_slice(b"ab\\tc");
                    s.extend_from_slice(second);
                    check(&s);
                    s.extend_from_slice(&[b'z'; 17]);
                    check(&s);
                }
            }
        }
        let mut rng = crate::test_rng::XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let s: Vec<u8> = (0..70)
                .map(|_| {
                    let x = rng.next();
                    match x % 24 {
                        0 => b'"',
                        1..=6 => b'\\',
                        7 => (x >> 8) as u8 & 0x1f,
                        8 => 0x80 | (x >> 8) as u8,
                        _ => 0x20 + ((x >> 8) % 0x5f) as u8,
                    }
                })
                .collect();
            check(&s);
        }
    }

    /// The word-at-a-time search agrees with a plain byte search, whatever
    /// the bytes around (UTF-8 high bytes, neighbours of the special ones)
    /// and wherever in a word the first special byte sits.
    #[test]
    fn first_special_agrees_with_a_plain_search() {
        let naive = |s: &[u8]| s.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        let fillers = [
            b'a', 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xa0, 0xa2, 0xdc, 0xff,
        ];
        let specials = [b'"', b'\\', 0x00, 0x01, 0x0a, 0x1f];
        for len in 0..24 {
            for &fill in &fillers {
                let plain = vec![fill; len];
                assert_eq!(first_special(&plain), None, "{plain:?}");
                for at in 0..len {
                    for &sp in &specials {
                        let mut s = plain.clone();
                        s[at] = sp;
                        // A second special byte later must not matter.
                        if at + 3 < len {
                            s[at + 3] = 0x00;
                        }
                        assert_eq!(first_special(&s), naive(&s), "{s:?}");
                    }
                }
            }
        }
    }
}
