//! Inertia and inertia-correcting regularisation (Wächter & Biegler 2006, §3.1).
//!
//! A Newton step for minimisation needs the Hessian block to be positive definite on the
//! step space. When it is not, IPOPT factorises `H + δI` for a growing δ until the LDLᵀ
//! reports inertia `(n, 0, 0)`, starting from a fraction of the last δ that worked so the
//! next Newton step usually needs one or two factorisations. [`InertiaCorrection`] is that
//! loop over any [`SymmetricFactorization`] (the banded [`BandLdlt`](crate::band::BandLdlt)
//! and the sparse [`SparseLdlt`](crate::sparse::SparseLdlt)).

use faer::MatMut;

use crate::error::{Result, SolveError};

/// Signs of the eigenvalues of a symmetric matrix, read off the pivots `D` of its LDLᵀ
/// (Sylvester's law of inertia).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Inertia {
    /// Number of positive pivots (eigenvalues).
    pub positive: usize,
    /// Number of negative pivots.
    pub negative: usize,
    /// Number of zero pivots. The factorisations of this crate refuse tiny pivots with an
    /// error instead, so a successful one reports 0 here.
    pub zero: usize,
}

impl Inertia {
    /// Whether the inertia is `(n, 0, 0)`: all pivots positive.
    pub fn is_positive_definite(&self) -> bool {
        self.negative == 0 && self.zero == 0 && self.positive > 0
    }

    /// Dimension `positive + negative + zero`.
    pub fn dim(&self) -> usize {
        self.positive + self.negative + self.zero
    }
}

/// A symmetric factorisation that reports inertia and can factorise a shifted matrix
/// `A + shift·I` from values in a fixed pattern's order. One method per capability,
/// fallible; the object owns its workspace.
pub trait SymmetricFactorization {
    /// Dimension n.
    fn dim(&self) -> usize;

    /// Factorises `A + shift·I` and returns the inertia of that matrix. Numerical failure
    /// (a tiny or zero pivot) is an `Err` for which [`SolveError::is_numerical`] holds.
    fn factorize_shifted(&mut self, values: &[f64], shift: f64) -> Result<Inertia>;

    /// Solves with the last successful factorisation, one right-hand side per column.
    fn solve_in_place(&mut self, rhs: MatMut<'_, f64>) -> Result<()>;
}

impl SolveError {
    /// Whether the error is a numerical failure of the matrix (non-positive, tiny or
    /// singular pivot) rather than bad input: the regularisation treats these as "wrong
    /// inertia" and increases δ.
    pub fn is_numerical(&self) -> bool {
        matches!(
            self,
            SolveError::NotPositiveDefinite { .. }
                | SolveError::TinyPivot { .. }
                | SolveError::Singular { .. }
        )
    }
}

/// The δ schedule of Wächter & Biegler (2006), §3.1, Algorithm IC (their defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegularizationParams {
    /// δ̄₀: first δ tried when no previous δ exists (1e-4).
    pub delta_init: f64,
    /// δ_min: smallest δ tried after a previous success (1e-20).
    pub delta_min: f64,
    /// δ_max: give up when δ would exceed it (1e40).
    pub delta_max: f64,
    /// κ⁻: the first δ tried is `max(δ_min, κ⁻·δ_last)` (1/3).
    pub kappa_minus: f64,
    /// κ̄⁺: growth factor when no previous δ exists (100).
    pub kappa_plus_first: f64,
    /// κ⁺: growth factor after a previous success (8).
    pub kappa_plus: f64,
}

impl Default for RegularizationParams {
    fn default() -> Self {
        Self {
            delta_init: 1e-4,
            delta_min: 1e-20,
            delta_max: 1e40,
            kappa_minus: 1.0 / 3.0,
            kappa_plus_first: 100.0,
            kappa_plus: 8.0,
        }
    }
}

impl RegularizationParams {
    fn check(&self) -> Result<()> {
        let positive = [
            ("delta_init", self.delta_init),
            ("delta_min", self.delta_min),
            ("delta_max", self.delta_max),
        ];
        for (param, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(SolveError::InvalidParameter {
                    param,
                    value,
                    reason: "must be finite and positive",
                });
            }
        }
        if !(self.kappa_minus > 0.0 && self.kappa_minus < 1.0) {
            return Err(SolveError::InvalidParameter {
                param: "kappa_minus",
                value: self.kappa_minus,
                reason: "must lie in (0, 1)",
            });
        }
        for (param, value) in [
            ("kappa_plus", self.kappa_plus),
            ("kappa_plus_first", self.kappa_plus_first),
        ] {
            if !(value.is_finite() && value > 1.0) {
                return Err(SolveError::InvalidParameter {
                    param,
                    value,
                    reason: "must be finite and greater than 1",
                });
            }
        }
        Ok(())
    }
}

/// What one regularised factorisation did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegularizationInfo {
    /// The δ of the factorisation now held (0 if `H` itself was positive definite).
    pub delta: f64,
    /// Number of factorisations this call made.
    pub attempts: usize,
    /// Inertia of the matrix `H` itself (first attempt), if that factorisation succeeded;
    /// `None` if it failed on a tiny pivot.
    pub unshifted_inertia: Option<Inertia>,
}

/// The inertia-correcting loop, with the memory of the last successful δ across calls.
///
/// ```
/// use sparsediff_pattern::generators;
/// use sparsediff_solve::band::{BandLdlt, BandLdltParams, BandSymbolic};
/// use sparsediff_solve::{InertiaCorrection, RegularizationParams};
/// // tridiag(1, 0.5, 1), n = 3: smallest eigenvalue 0.5 − √2 ≈ −0.914
/// let p = generators::band(3, 1, 1)?;
/// let values = [0.5, 1.0, 1.0, 0.5, 1.0, 1.0, 0.5];
/// let mut f = BandLdlt::new(BandSymbolic::from_pattern(&p)?, BandLdltParams::default());
/// let mut ic = InertiaCorrection::new(RegularizationParams::default())?;
/// let info = ic.factorize(&mut f, &values)?;
/// assert!(info.delta > 0.914); // H + δI is positive definite
/// assert_eq!(info.unshifted_inertia.map(|i| i.negative), Some(1));
/// assert!(f.inertia().unwrap().is_positive_definite());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct InertiaCorrection {
    params: RegularizationParams,
    last_delta: f64,
}

impl InertiaCorrection {
    /// A loop with no previous δ. Errors: [`SolveError::InvalidParameter`].
    pub fn new(params: RegularizationParams) -> Result<Self> {
        params.check()?;
        Ok(Self {
            params,
            last_delta: 0.0,
        })
    }

    /// The last δ > 0 that gave the wanted inertia (0 if none yet).
    pub fn last_delta(&self) -> f64 {
        self.last_delta
    }

    /// Forgets the last δ (IPOPT does this at a restoration phase).
    pub fn reset(&mut self) {
        self.last_delta = 0.0;
    }

    /// Factorises `H + δI` with the smallest δ of the schedule whose inertia is `(n, 0, 0)`:
    /// δ = 0 first; then δ₀ = `delta_init` (no previous δ) or `max(delta_min, κ⁻·δ_last)`;
    /// then δ ← κ̄⁺·δ (no previous δ) or κ⁺·δ until the inertia is right. On success `f`
    /// holds that factorisation.
    ///
    /// Errors: bad input from `f` (wrong length, non-finite values) at once;
    /// [`SolveError::RegularizationFailed`] with the last δ tried when δ would exceed
    /// `delta_max`.
    pub fn factorize<F: SymmetricFactorization + ?Sized>(
        &mut self,
        f: &mut F,
        values: &[f64],
    ) -> Result<RegularizationInfo> {
        let p = self.params;
        let n = f.dim();
        let good = |i: &Inertia| i.positive == n && i.negative == 0 && i.zero == 0;
        let mut attempts = 1;
        let unshifted = match f.factorize_shifted(values, 0.0) {
            Ok(i) if good(&i) => {
                return Ok(RegularizationInfo {
                    delta: 0.0,
                    attempts,
                    unshifted_inertia: Some(i),
                });
            }
            Ok(i) => Some(i),
            Err(e) if e.is_numerical() => None,
            Err(e) => return Err(e),
        };
        let first = self.last_delta == 0.0;
        let mut delta = if first {
            p.delta_init
        } else {
            (p.kappa_minus * self.last_delta).max(p.delta_min)
        };
        let grow = if first {
            p.kappa_plus_first
        } else {
            p.kappa_plus
        };
        loop {
            attempts += 1;
            match f.factorize_shifted(values, delta) {
                Ok(i) if good(&i) => {
                    self.last_delta = delta;
                    return Ok(RegularizationInfo {
                        delta,
                        attempts,
                        unshifted_inertia: unshifted,
                    });
                }
                Ok(_) => {}
                Err(e) if e.is_numerical() => {}
                Err(e) => return Err(e),
            }
            let next = delta * grow;
            if next > p.delta_max || next.is_nan() {
                return Err(SolveError::RegularizationFailed {
                    last_delta: delta,
                    delta_max: p.delta_max,
                    attempts,
                });
            }
            delta = next;
        }
    }
}
