//! An owning banded LDLᵀ: symbolic structure plus storage, refactorised in a loop.

use faer::MatMut;

use super::numeric::{BandFactorRef, BandKind, BandLdltParams};
use super::symbolic::BandSymbolic;
use crate::error::{Result, SolveError};
use crate::inertia::{Inertia, SymmetricFactorization};

/// A banded LDLᵀ that owns its storage (allocated once in [`BandLdlt::new`]): call
/// [`BandLdlt::factorize`] with new values at every step, then solve.
///
/// ```
/// use sparsediff_pattern::generators;
/// use sparsediff_solve::band::{BandLdlt, BandLdltParams, BandSymbolic};
/// let p = generators::band(3, 1, 1)?;
/// let s = BandSymbolic::from_pattern(&p)?;
/// let mut f = BandLdlt::new(s, BandLdltParams::default());
/// let values = [4.0, 1.0, 1.0, 4.0, 1.0, 1.0, 4.0]; // tridiag(1, 4, 1)
/// let inertia = f.factorize(&values, 0.0)?;
/// assert_eq!((inertia.positive, inertia.negative, inertia.zero), (3, 0, 0));
/// let mut x = [5.0, 6.0, 5.0]; // A·(1, 1, 1)
/// f.solve_slice_in_place(&mut x)?;
/// assert!(x.iter().all(|v| (v - 1.0).abs() < 1e-14));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct BandLdlt {
    symbolic: BandSymbolic,
    params: BandLdltParams,
    storage: Vec<f64>,
    inertia: Option<Inertia>,
}

impl BandLdlt {
    /// Allocates the storage for `symbolic`'s band.
    pub fn new(symbolic: BandSymbolic, params: BandLdltParams) -> Self {
        let storage = vec![0.0; symbolic.factor_len()];
        Self {
            symbolic,
            params,
            storage,
            inertia: None,
        }
    }

    /// The symbolic structure.
    pub fn symbolic(&self) -> &BandSymbolic {
        &self.symbolic
    }

    /// Factorises `A + shift·I` (values in the pattern's order); the errors of
    /// [`BandSymbolic::ldlt_in_place`]. After an error the object holds no factor.
    ///
    /// A band with holes (a row's upper part shorter than the band, as the cartpole's
    /// Hessian: 45k entries in a β = 8 band of 85k) is written into the storage first and
    /// factorised there: the kernel's per-column checked scatter followed at once by a
    /// vector load of the same slots cost 130 µs at n = 5000, the two passes 82 µs (a
    /// full band: 38 µs).
    pub fn factorize(&mut self, values: &[f64], shift: f64) -> Result<Inertia> {
        self.inertia = None;
        let f = if self.symbolic.is_full_band() {
            self.symbolic
                .ldlt_in_place(values, shift, &mut self.storage, self.params)?
        } else {
            self.symbolic.fill_band(values, shift, &mut self.storage)?;
            self.symbolic
                .ldlt_band_in_place(&mut self.storage, self.params)?
        };
        let inertia = f.inertia();
        self.inertia = Some(inertia);
        Ok(inertia)
    }

    /// The current factor, if the last factorisation succeeded.
    pub fn factor(&self) -> Option<BandFactorRef<'_>> {
        self.inertia.map(|inertia| BandFactorRef {
            symbolic: &self.symbolic,
            factor: &self.storage,
            inertia,
            kind: BandKind::Ldlt,
        })
    }

    /// Inertia of the last successful factorisation.
    pub fn inertia(&self) -> Option<Inertia> {
        self.inertia
    }

    /// Solves with the current factor ([`SolveError::NotFactorized`] without one).
    pub fn solve_slice_in_place(&self, b: &mut [f64]) -> Result<()> {
        self.factor()
            .ok_or(SolveError::NotFactorized)?
            .solve_slice_in_place(b)
    }

    /// Solves a block with the current factor ([`SolveError::NotFactorized`] without one).
    pub fn solve_in_place(&self, rhs: MatMut<'_, f64>) -> Result<()> {
        self.factor()
            .ok_or(SolveError::NotFactorized)?
            .solve_in_place(rhs)
    }
}

impl SymmetricFactorization for BandLdlt {
    fn dim(&self) -> usize {
        self.symbolic.n()
    }

    fn factorize_shifted(&mut self, values: &[f64], shift: f64) -> Result<Inertia> {
        self.factorize(values, shift)
    }

    fn solve_in_place(&mut self, rhs: MatMut<'_, f64>) -> Result<()> {
        BandLdlt::solve_in_place(self, rhs)
    }
}
