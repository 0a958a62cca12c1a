//! Verification of a recovered matrix with one extra product along a fresh random
//! direction, and the cadence at which it runs.
//!
//! **The directions.** Every verification draws a new z with independent components
//! zⱼ = ±(½ + ½uⱼ), uⱼ uniform in [0, 1) and the sign uniform. The distribution is
//! continuous, so a missing entry cannot cancel against another (a Rademacher z fooled
//! the previous verifier in half the rows: a missing aᵢⱼ folded into a recovered aᵢₖ leaves
//! the residual aᵢⱼ(zₖ − zⱼ), zero whenever zₖ = zⱼ), and |zⱼ| ≥ ½, so no column's
//! entries are hidden behind a tiny component (as a Gaussian's can be). The generator is
//! SplitMix64, seeded per prepared derivative: one draw of 10⁵ components takes about
//! 0.1 ms, where Gaussian samples from ChaCha took about 1 ms (measured in
//! `sparsediff bench hessian`).

use sparsediff_pattern::Pattern;

use crate::error::SparseError;
use crate::options::{DEFAULT_VERIFY_EVERY, Verify};

/// The directions of verification products: seeded (reproducible runs), a new draw for
/// every verification.
const SEED: u64 = 0x5EED_CAFE;

/// SplitMix64: fast, and good enough to make directions independent of any structure in
/// the function.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// ±(½ + ½u), u uniform in [0, 1): the sign from the top bit, u from the next 52.
    #[inline]
    fn component(&mut self) -> f64 {
        let r = self.next_u64();
        let u = ((r << 1) >> 12) as f64 * (1.0 / (1u64 << 52) as f64);
        let v = 0.5 + 0.5 * u;
        if r >> 63 == 0 { v } else { -v }
    }
}

/// Verification state: the policy, the directions and the product buffer.
#[derive(Debug, Clone)]
pub(crate) struct Verifier {
    policy: Verify,
    /// Under [`Verify::Auto`]: whether the pattern may not hold everywhere (periodic
    /// checks after the first evaluation).
    periodic: bool,
    pub(crate) tol: f64,
    rng: SplitMix64,
    /// The direction z (length n).
    pub(crate) z: Vec<f64>,
    /// A·z as the backend computes it (length of the products' rows).
    pub(crate) az: Vec<f64>,
}

impl Verifier {
    pub(crate) fn new(policy: Verify, tol: f64, n: usize, rows: usize, periodic: bool) -> Self {
        Self {
            policy,
            periodic,
            tol,
            rng: SplitMix64(SEED),
            z: vec![0.0; n],
            az: vec![0.0; rows],
        }
    }

    /// The periodic cadence in force: `Some(k)`, every k-th evaluation (and the first);
    /// `None`, the first evaluation only (or none, when verification is off).
    pub(crate) fn every(&self) -> Option<usize> {
        match self.policy {
            Verify::Off => None,
            Verify::Every(k) => Some(k),
            Verify::Auto => self.periodic.then_some(DEFAULT_VERIFY_EVERY),
        }
    }

    /// Changes the policy (checked by the caller).
    pub(crate) fn set_policy(&mut self, policy: Verify) {
        self.policy = policy;
    }

    pub(crate) fn is_off(&self) -> bool {
        self.policy == Verify::Off
    }

    /// Whether evaluation number `evaluation` (counted from 1) is verified.
    pub(crate) fn due(&self, evaluation: usize) -> bool {
        if self.is_off() {
            return false;
        }
        evaluation == 1 || self.every().is_some_and(|k| evaluation.is_multiple_of(k))
    }

    /// A fresh direction in `z`.
    pub(crate) fn draw(&mut self) {
        for v in &mut self.z {
            *v = self.rng.component();
        }
    }

    /// Two fresh directions, n×2 row-major (the symmetry test).
    pub(crate) fn draw_pair(&mut self, n: usize) -> Vec<f64> {
        (0..2 * n).map(|_| self.rng.component()).collect()
    }

    /// Compares A·z (in `az`) with Â·z for the recovered `values`.
    pub(crate) fn check(&self, pattern: &Pattern, values: &[f64]) -> Result<(), SparseError> {
        let report = sparsediff_probe::verify(pattern, values, &self.z, &self.az, self.tol)?;
        if report.passed() {
            Ok(())
        } else {
            Err(SparseError::VerificationFailed {
                count: report.bad_rows.len(),
                rows: report.bad_rows.iter().copied().take(16).collect(),
                max_rel_residual: report.max_rel_residual,
                tolerance: self.tol,
            })
        }
    }

    /// Turns periodic checks on (a branch change showed that the pattern depends on x).
    pub(crate) fn set_periodic(&mut self, periodic: bool) {
        self.periodic |= periodic;
    }
}
