//! Sixteen bytes compared at once, for scans that look at every byte of
//! a body: 128-bit SIMD in the `.wasm`, exact SWAR on two 64-bit words
//! natively. Natively the string scan uses them only in tests, which so
//! run the `.wasm`'s steps natively (its native scan uses memchr and SWAR
//! loops of its own, faster there); propagation's word starts use them in
//! both builds.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) use simd::{Bytes, Mask};

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[allow(unused_imports)] // `Mask` natively in tests only
pub(crate) use portable::{Bytes, Mask};

/// The first 16 bytes of `b` as two little-endian words; a word `b` does
/// not hold whole is zeros (callers pad a short last block).
#[inline]
fn words(b: &[u8]) -> [u64; 2] {
    let word = |w: Option<&[u8]>| {
        w.and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_le_bytes)
    };
    [word(b.get(..8)), word(b.get(8..16))]
}

/// Sixteen bytes in a 128-bit vector. A [`Mask`] marks a byte by the top
/// bit of its lane; the other bits of a lane mean nothing.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::{
        i8x16_shuffle, u64x2, u8x16_bitmask, u8x16_eq, u8x16_min, u8x16_splat, u8x16_sub,
        u8x16_sub_sat, v128, v128_andnot, v128_or,
    };

    /// Sixteen bytes of a text.
    #[derive(Clone, Copy)]
    pub(crate) struct Bytes(v128);

    /// One flag per byte of a [`Bytes`].
    #[derive(Clone, Copy)]
    pub(crate) struct Mask(v128);

    impl Bytes {
        /// The 16 bytes of `b` (see [`super::words`] for fewer). Two
        /// 64-bit loads in safe code; V8 makes them a load and a lane
        /// insert.
        #[inline]
        pub(crate) fn load(b: &[u8]) -> Bytes {
            let [lo, hi] = super::words(b);
            Bytes(u64x2(lo, hi))
        }

        /// Bytes 1 to 15 of `self`, then byte 0 of `next`: the byte after
        /// each byte of `self`.
        #[inline]
        pub(crate) fn shifted(&self, next: &Bytes) -> Bytes {
            Bytes(i8x16_shuffle::<
                1,
                2,
                3,
                4,
                5,
                6,
                7,
                8,
                9,
                10,
                11,
                12,
                13,
                14,
                15,
                16,
            >(self.0, next.0))
        }

        /// The bytes equal to `b`.
        #[inline]
        pub(crate) fn eq(&self, b: u8) -> Mask {
            Mask(u8x16_eq(self.0, u8x16_splat(b)))
        }

        /// The bytes below 0x20: the top bit of `0x9f - b` (saturating) is
        /// set just for those; one instruction where V8 makes a `lt_u` of
        /// four.
        #[inline]
        pub(crate) fn control(&self) -> Mask {
            Mask(u8x16_sub_sat(u8x16_splat(0x9f), self.0))
        }

        /// The ASCII letters and digits: `b - '0'` at most 9, or `(b |
        /// 0x20) - 'a'` at most 25 (wrapping), each a `min` and an `eq`,
        /// where V8 makes a `lt_u` of four instructions.
        #[inline]
        pub(crate) fn alnum(&self) -> Mask {
            let at_most = |x: v128, max: u8| u8x16_eq(u8x16_min(x, u8x16_splat(max)), x);
            let digit = at_most(u8x16_sub(self.0, u8x16_splat(b'0')), 9);
            let lower = v128_or(self.0, u8x16_splat(0x20));
            let letter = at_most(u8x16_sub(lower, u8x16_splat(b'a')), 25);
            Mask(v128_or(digit, letter))
        }
    }

    impl Mask {
        /// No byte.
        pub(crate) const NONE: Mask = Mask(u64x2(0, 0));

        /// The bytes of either.
        #[inline]
        pub(crate) fn or(self, other: Mask) -> Mask {
            Mask(v128_or(self.0, other.0))
        }

        /// The bytes of `self` not in `other`.
        #[inline]
        pub(crate) fn and_not(self, other: Mask) -> Mask {
            Mask(v128_andnot(self.0, other.0))
        }

        /// Bit `i` set when byte `i` is marked.
        #[inline]
        pub(crate) fn bits(&self) -> u16 {
            u8x16_bitmask(self.0)
        }

        /// Whether some byte is marked.
        #[inline]
        pub(crate) fn any(&self) -> bool {
            self.bits() != 0
        }
    }
}

/// Sixteen bytes in two 64-bit words (SWAR), a [`Mask`] as sixteen bits:
/// the steps of the `.wasm`'s SIMD code, for the native tests.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod portable {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;

    /// Sixteen bytes of a text, little-endian: byte 0 is the low byte of
    /// the first word.
    #[derive(Clone, Copy)]
    pub(crate) struct Bytes([u64; 2]);

    /// One flag per byte of a [`Bytes`]: bit `i` for byte `i`.
    #[derive(Clone, Copy)]
    pub(crate) struct Mask(u16);

    /// The high bit of each byte of `w` that is zero, exactly (no borrow
    /// runs from one byte into the next).
    #[inline]
    fn zero_bytes(w: u64) -> u64 {
        !(((w & LOW7) + LOW7) | w) & HIGH
    }

    /// The high bits of `w`, one per byte, as eight bits.
    #[inline]
    fn gather(high: u64) -> u16 {
        ((high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u16
    }

    impl Bytes {
        /// The 16 bytes of `b` (see [`super::words`] for fewer).
        #[inline]
        pub(crate) fn load(b: &[u8]) -> Bytes {
            Bytes(super::words(b))
        }

        /// Bytes 1 to 15 of `self`, then byte 0 of `next`: the byte after
        /// each byte of `self`.
        #[inline]
        pub(crate) fn shifted(&self, next: &Bytes) -> Bytes {
            let [a, b] = self.0;
            Bytes([(a >> 8) | (b << 56), (b >> 8) | (next.0[0] << 56)])
        }

        fn mask(&self, high: impl Fn(u64) -> u64) -> Mask {
            let [a, b] = self.0;
            Mask(gather(high(a)) | (gather(high(b)) << 8))
        }

        /// The bytes equal to `b`.
        #[inline]
        pub(crate) fn eq(&self, b: u8) -> Mask {
            self.mask(|w| zero_bytes(w ^ (ONES * u64::from(b))))
        }

        /// The bytes below 0x20: adding 0x60 to the low seven bits carries
        /// into the high bit from 0x20 on.
        #[inline]
        pub(crate) fn control(&self) -> Mask {
            self.mask(|w| !(((w & LOW7) + ONES * 0x60) | w) & HIGH)
        }

        /// The ASCII letters and digits. On the low seven bits `x` of a
        /// byte, `x + (0x80 - lo)` carries into the high bit when `x >=
        /// lo` and `x + (0x7f - hi)` when `x > hi`, never into the next
        /// byte; bytes with the high bit set are none.
        #[inline]
        pub(crate) fn alnum(&self) -> Mask {
            let within = |w: u64, lo: u8, hi: u8| {
                let x = w & LOW7;
                (x + ONES * u64::from(0x80 - lo)) & !(x + ONES * u64::from(0x7f - hi))
            };
            self.mask(|w| {
                (within(w, b'0', b'9') | within(w | (ONES * 0x20), b'a', b'z')) & !w & HIGH
            })
        }
    }

    impl Mask {
        /// No byte.
        pub(crate) const NONE: Mask = Mask(0);

        /// The bytes of either.
        #[inline]
        pub(crate) fn or(self, other: Mask) -> Mask {
            Mask(self.0 | other.0)
        }

        /// The bytes of `self` not in `other`.
        #[inline]
        pub(crate) fn and_not(self, other: Mask) -> Mask {
            Mask(self.0 & !other.0)
        }

        /// Bit `i` set when byte `i` is marked.
        #[inline]
        pub(crate) fn bits(&self) -> u16 {
            self.0
        }

        /// Whether some byte is marked.
        #[inline]
        pub(crate) fn any(&self) -> bool {
            self.0 != 0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each lane operation marks exactly the bytes its definition says, for
    /// every byte value at every lane.
    #[test]
    fn lane_operations_are_exact() {
        for v in 0..=255u8 {
            for lane in 0..16 {
                let mut a = [b'a'; 16];
                a[lane] = v;
                let mut next = [b'b'; 16];
                next[0] = v;
                let (x, n) = (Bytes::load(&a), Bytes::load(&next));
                let lanes = |f: &dyn Fn(u8) -> bool, s: &[u8; 16]| {
                    (0..16).fold(0u16, |m, i| m | (u16::from(f(s[i])) << i))
                };
                assert_eq!(
                    x.eq(v).bits(),
                    lanes(&|b| b == v, &a),
                    "eq {v:#x} lane {lane}"
                );
                assert_eq!(
                    x.alnum().bits(),
                    lanes(&|b: u8| b.is_ascii_alphanumeric(), &a),
                    "alnum {v:#x} lane {lane}"
                );
                assert_eq!(
                    x.control().bits(),
                    lanes(&|b| b < 0x20, &a),
                    "control {v:#x}"
                );
                let mut after = [0u8; 16];
                after[..15].copy_from_slice(&a[1..]);
                after[15] = v;
                assert_eq!(
                    x.shifted(&n).eq(v).bits(),
                    lanes(&|b| b == v, &after),
                    "shifted"
                );
            }
        }
        assert!(!Mask::NONE.any());
    }
}
