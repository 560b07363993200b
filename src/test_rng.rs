//! The unit tests' generator of varied inputs: a seeded xorshift, so every
//! run sees the same cases and a failure names one that comes back.

/// One xorshift step from `x`.
pub(crate) fn step(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// A xorshift generator; its state is the last number it gave.
#[derive(Debug, Clone, Copy)]
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    /// The next number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = step(self.0);
        self.0
    }

    /// The next number, below `n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
