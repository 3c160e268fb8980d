//! SplitMix64 (Steele, Lea & Flood 2014): a small, seeded generator for the
//! simulations whose figures must be the same on every run (the stated
//! false-alarm chance, the benches' planted events, the tests).

/// The generator; the state is the seed.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on [0, 1), 53 bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller, one of the pair).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Poisson: Knuth's product of uniforms; above a mean of 50 the normal
    /// approximation, rounded.
    pub fn poisson(&mut self, lambda: f64) -> f64 {
        if lambda > 50.0 {
            return (lambda + self.normal() * lambda.sqrt()).round().max(0.0);
        }
        let (l, mut k, mut p) = ((-lambda).exp(), 0.0, 1.0);
        loop {
            p *= self.uniform();
            if p <= l {
                return k;
            }
            k += 1.0;
        }
    }
}
