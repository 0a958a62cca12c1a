//! Numeric banded factorisations: Cholesky (SPD) and LDLᵀ without pivoting, in place into
//! storage the caller owns.

use sparsediff_pattern::first_non_finite;

use super::kernel::{self, PivotRule, Prefilled, Source};
use super::symbolic::{BandSymbolic, EXPONENT, Gather, load_column};
use crate::error::{Result, SolveError, check_len};
use crate::inertia::Inertia;

/// Tuning of the banded LDLᵀ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandLdltParams {
    /// A pivot `d` is refused ([`SolveError::TinyPivot`]) when
    /// `|d| <= pivot_tolerance · max |A_kk|`, the maximum taken over the diagonal entries
    /// loaded so far (rows `0 ..= min(j + β, n − 1)` at pivot `j`; with the shift). Default
    /// `1e-12`. Must be finite and non-negative; 0 refuses only exact zeros (and NaN).
    pub pivot_tolerance: f64,
}

impl Default for BandLdltParams {
    fn default() -> Self {
        Self {
            pivot_tolerance: 1e-12,
        }
    }
}

impl BandLdltParams {
    pub(crate) fn check(&self) -> Result<()> {
        let t = self.pivot_tolerance;
        if !(t.is_finite() && t >= 0.0) {
            return Err(SolveError::InvalidParameter {
                param: "pivot_tolerance",
                value: t,
                reason: "must be finite and non-negative",
            });
        }
        Ok(())
    }
}

/// Which factorisation a [`BandFactorRef`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandKind {
    /// Cholesky: every pivot was positive (A is positive definite).
    Cholesky,
    /// LDLᵀ without pivoting: pivots of either sign.
    Ldlt,
}

/// A factorised band `A = L·D·Lᵀ` borrowing the storage it was computed in.
///
/// The Cholesky factor is the same `L·D·Lᵀ` with every `D[j] > 0` (so
/// `L_chol = L·D^{1/2}`); both solve the same way.
#[derive(Debug, Clone, Copy)]
pub struct BandFactorRef<'a> {
    pub(crate) symbolic: &'a BandSymbolic,
    pub(crate) factor: &'a [f64],
    pub(crate) inertia: Inertia,
    pub(crate) kind: BandKind,
}

impl<'a> BandFactorRef<'a> {
    /// The symbolic structure.
    pub fn symbolic(&self) -> &'a BandSymbolic {
        self.symbolic
    }

    /// Which factorisation this is.
    pub fn kind(&self) -> BandKind {
        self.kind
    }

    /// Signs of the pivots: `(n, 0, 0)` for a Cholesky. Tiny pivots are refused, so the
    /// zero count is always 0.
    pub fn inertia(&self) -> Inertia {
        self.inertia
    }

    /// The raw factor storage (L below the diagonal slots, `1/D[j]` on them).
    pub fn storage(&self) -> &'a [f64] {
        self.factor
    }

    /// Pivot `D[j]` (`None` if `j >= n`).
    pub fn pivot(&self, j: usize) -> Option<f64> {
        (j < self.symbolic.n()).then(|| 1.0 / self.factor[j * self.symbolic.ldab()])
    }

    /// Entry `L[i, j]` of the unit lower factor (1 on the diagonal, 0 outside the band).
    pub fn l(&self, i: usize, j: usize) -> f64 {
        if i == j {
            return 1.0;
        }
        match (i > j).then(|| self.symbolic.index(i, j)).flatten() {
            Some(k) => self.factor[k],
            None => 0.0,
        }
    }
}

/// Reads columns from a pattern's CSR values.
struct FromPattern<'v> {
    g: &'v Gather,
    values: &'v [f64],
    shift: f64,
}

impl Source for FromPattern<'_> {
    #[inline(always)]
    fn load_fixed<const W: usize>(&mut self, j: usize, col: &mut [f64; W]) -> Result<()> {
        let (start, end) = self.g.upper[j];
        if self.g.full
            && end - start == W
            && let Ok(src) = <&[f64; W]>::try_from(&self.values[start..end])
        {
            let bad = src
                .iter()
                .fold(false, |acc, v| acc | (v.to_bits() & EXPONENT == EXPONENT));
            if !bad {
                *col = *src;
                col[0] += self.shift;
                return Ok(());
            }
        }
        self.load(j, col)
    }

    #[inline(always)]
    fn load(&mut self, j: usize, col: &mut [f64]) -> Result<()> {
        load_column(self.g, self.values, self.shift, j, col).map_err(|index| {
            SolveError::NonFinite {
                what: "values",
                index,
            }
        })
    }
}

impl BandSymbolic {
    fn run<'a, S: Source>(
        &'a self,
        storage: &'a mut [f64],
        rule: PivotRule,
        mut src: S,
    ) -> Result<(usize, &'a [f64])> {
        let counts = kernel::factor_band(self.beta(), storage, self.n(), rule, &mut src)?;
        Ok((counts.negative, storage))
    }

    fn finish<'a>(
        &'a self,
        negative: usize,
        factor: &'a [f64],
        kind: BandKind,
    ) -> BandFactorRef<'a> {
        BandFactorRef {
            symbolic: self,
            factor,
            inertia: Inertia {
                positive: self.n() - negative,
                negative,
                zero: 0,
            },
            kind,
        }
    }

    /// Cholesky of the band whose values are given in the pattern's order, into `storage`
    /// (length [`factor_len`](BandSymbolic::factor_len)). Never allocates.
    ///
    /// Errors: [`SolveError::NoPattern`], [`SolveError::LengthMismatch`],
    /// [`SolveError::NonFinite`], [`SolveError::NotPositiveDefinite`] with the row and
    /// value of the first non-positive pivot.
    ///
    /// ```
    /// use sparsediff_pattern::generators;
    /// use sparsediff_solve::band::BandSymbolic;
    /// // the 1-D Laplacian tridiag(-1, 2, -1) with n = 4, in CSR order
    /// let p = generators::band(4, 1, 1)?;
    /// let values = [2.0, -1.0, -1.0, 2.0, -1.0, -1.0, 2.0, -1.0, -1.0, 2.0];
    /// let s = BandSymbolic::from_pattern(&p)?;
    /// let mut storage = vec![0.0; s.factor_len()];
    /// let chol = s.cholesky_in_place(&values, &mut storage)?;
    /// let mut x = [1.0, 0.0, 0.0, 1.0];
    /// chol.solve_slice_in_place(&mut x)?;
    /// for xi in x { assert!((xi - 1.0).abs() < 1e-14); } // A·1 = (1, 0, 0, 1)
    /// assert!((chol.pivot(0).unwrap() - 2.0).abs() < 1e-15); // D[0] = A[0, 0]
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cholesky_in_place<'a>(
        &'a self,
        values: &[f64],
        storage: &'a mut [f64],
    ) -> Result<BandFactorRef<'a>> {
        let g = self.check_values(values, 0.0)?;
        check_len("band storage", self.factor_len(), storage.len())?;
        let src = FromPattern {
            g,
            values,
            shift: 0.0,
        };
        let (neg, f) = self.run(storage, PivotRule::Positive, src)?;
        Ok(self.finish(neg, f, BandKind::Cholesky))
    }

    /// LDLᵀ without pivoting of `A + shift·I`, A's values given in the pattern's order,
    /// into `storage`. Reports the inertia. Never allocates.
    ///
    /// Errors: [`SolveError::NoPattern`], [`SolveError::LengthMismatch`],
    /// [`SolveError::NonFinite`] (values or shift), [`SolveError::InvalidParameter`],
    /// [`SolveError::TinyPivot`].
    ///
    /// ```
    /// use sparsediff_pattern::generators;
    /// use sparsediff_solve::band::{BandLdltParams, BandSymbolic};
    /// // tridiag(1, 0.5, 1) is indefinite; shifting by 2 gives tridiag(1, 2.5, 1), SPD
    /// let p = generators::band(3, 1, 1)?;
    /// let values = [0.5, 1.0, 1.0, 0.5, 1.0, 1.0, 0.5];
    /// let s = BandSymbolic::from_pattern(&p)?;
    /// let mut storage = vec![0.0; s.factor_len()];
    /// let f = s.ldlt_in_place(&values, 0.0, &mut storage, BandLdltParams::default())?;
    /// assert_eq!(f.inertia().negative, 1); // eigenvalues 0.5 - √2, 0.5, 0.5 + √2
    /// let f = s.ldlt_in_place(&values, 2.0, &mut storage, BandLdltParams::default())?;
    /// assert!(f.inertia().is_positive_definite());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ldlt_in_place<'a>(
        &'a self,
        values: &[f64],
        shift: f64,
        storage: &'a mut [f64],
        params: BandLdltParams,
    ) -> Result<BandFactorRef<'a>> {
        params.check()?;
        let g = self.check_values(values, shift)?;
        check_len("band storage", self.factor_len(), storage.len())?;
        let src = FromPattern { g, values, shift };
        let (neg, f) = self.run(storage, PivotRule::Relative(params.pivot_tolerance), src)?;
        Ok(self.finish(neg, f, BandKind::Ldlt))
    }

    /// Cholesky of the band the caller wrote into `storage` (layout in
    /// [`BandSymbolic`]; padding slots below row n − 1 are ignored), overwritten by the
    /// factor. Never allocates.
    ///
    /// Errors: [`SolveError::LengthMismatch`], [`SolveError::NonFinite`] ("band storage"),
    /// [`SolveError::NotPositiveDefinite`].
    pub fn cholesky_band_in_place<'a>(
        &'a self,
        storage: &'a mut [f64],
    ) -> Result<BandFactorRef<'a>> {
        self.check_storage(storage)?;
        let (neg, f) = self.run(storage, PivotRule::Positive, Prefilled)?;
        Ok(self.finish(neg, f, BandKind::Cholesky))
    }

    /// LDLᵀ without pivoting of the band the caller wrote into `storage`, overwritten by
    /// the factor. Never allocates.
    ///
    /// Errors: [`SolveError::LengthMismatch`], [`SolveError::NonFinite`],
    /// [`SolveError::InvalidParameter`], [`SolveError::TinyPivot`].
    pub fn ldlt_band_in_place<'a>(
        &'a self,
        storage: &'a mut [f64],
        params: BandLdltParams,
    ) -> Result<BandFactorRef<'a>> {
        params.check()?;
        self.check_storage(storage)?;
        let rule = PivotRule::Relative(params.pivot_tolerance);
        let (neg, f) = self.run(storage, rule, Prefilled)?;
        Ok(self.finish(neg, f, BandKind::Ldlt))
    }

    fn check_storage(&self, storage: &mut [f64]) -> Result<()> {
        check_len("band storage", self.factor_len(), storage.len())?;
        // Padding slots (rows past n − 1) are not part of the matrix: zero them so the
        // kernel's full-width updates stay finite whatever the caller left there.
        let (n, ld) = (self.n(), self.ldab());
        for j in n.saturating_sub(self.beta())..n {
            storage[j * ld + (n - j)..(j + 1) * ld].fill(0.0);
        }
        if let Some(index) = first_non_finite(storage) {
            return Err(SolveError::NonFinite {
                what: "band storage",
                index,
            });
        }
        Ok(())
    }
}
