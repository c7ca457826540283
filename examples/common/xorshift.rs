//! Deterministic pseudo-firmware (xorshift32), shared by the examples and, through `#[path]`,
//! the integration tests: the same bytes everywhere, so a mismatch shows up anywhere.

/// `len` bytes of xorshift32 from `seed`, which must not be zero (zero stays zero).
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
