//! Numeric banded factorisations: Cholesky (SPD) and LDLᵀ without pivoting, in place into
//! storage the caller owns.

use sparsediff_pattern::first_non_finite;

use super::kernel::{self, Lanes, PivotRule, Prefilled, Source, registers};
use super::symbolic::{BandSymbolic, Gather, load_column};
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
    fn load(&self, j: usize, col: &mut [f64]) -> Result<()> {
        load_column(self.g, self.values, self.shift, j, col).map_err(|index| {
            SolveError::NonFinite {
                what: "values",
                index,
            }
        })
    }

    #[inline(always)]
    fn diag(&self, k: usize, _a: &[f64], _w: usize) -> f64 {
        let (start, end) = self.g.upper[k];
        // A full row's upper part starts at its diagonal; otherwise it may be a hole.
        let d = if self.g.full || (start < end && self.g.col_idx[start] == k) {
            self.values[start]
        } else {
            0.0
        };
        d + self.shift
    }

    #[inline(always)]
    fn column<V: Lanes, const W: usize, const NV: usize>(
        &self,
        j: usize,
        _stored: &[f64; W],
        acc: &mut V,
    ) -> Result<[V; 6]> {
        let (start, end) = self.g.upper[j];
        let mut v = if self.g.full && end - start == W {
            let src: &[f64; W] = self.values[start..end].try_into().expect("W values");
            let v = registers::<V, W, NV>(src);
            // v·0 is ±0, or NaN exactly when v is ±∞ or NaN (and a sum of ±0 never
            // overflows).
            let mut z = v[0].mul(V::zero());
            for vk in &v[1..NV] {
                z = z.nmadd(*vk, V::zero());
            }
            *acc = acc.add(z);
            v
        } else {
            // Short (last β) or holed rows: the checked scatter.
            let mut c = [0.0; W];
            load_column(self.g, self.values, 0.0, j, &mut c).map_err(|index| {
                SolveError::NonFinite {
                    what: "values",
                    index,
                }
            })?;
            registers::<V, W, NV>(&c)
        };
        v[0] = v[0].add(V::zero().with_first(V::splat(self.shift)));
        Ok(v)
    }

    fn first_non_finite(&self, k: usize) -> Option<SolveError> {
        self.g.upper[..=k].iter().find_map(|&(start, end)| {
            let i = self.values[start..end]
                .iter()
                .position(|v| !v.is_finite())?;
            Some(SolveError::NonFinite {
                what: "values",
                index: start + i,
            })
        })
    }

    fn interior(&self) -> Option<(usize, &[f64], f64)> {
        let int = self.g.interior?;
        Some((int.end, &self.values[int.start..], self.shift))
    }
}

impl BandSymbolic {
    fn run<'a, S: Source>(
        &'a self,
        storage: &'a mut [f64],
        rule: PivotRule,
        src: S,
    ) -> Result<(usize, &'a [f64])> {
        let counts = kernel::factor_band(self.beta(), storage, self.n(), rule, &src)?;
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

#[cfg(test)]
mod tests {
    //! The const-β kernel defers its finiteness checks (an accumulator, a scan on error)
    //! and computes pivots in a different order: its errors, inertia and factor must
    //! match the run-time-width loop, which checks each value as it reads it.
    use sparsediff_pattern::generators;

    use super::*;
    use crate::bench::spd_values;

    /// Factorises with the kernel build `isa`, or with the reference loop.
    fn run(
        s: &BandSymbolic,
        values: &[f64],
        shift: f64,
        rule: PivotRule,
        isa: Option<kernel::Isa>,
    ) -> (Result<usize>, Vec<f64>) {
        let g = s.check_values(values, shift).expect("values");
        let src = FromPattern { g, values, shift };
        let mut a = vec![0.0; s.factor_len()];
        let r = match isa {
            Some(isa) => kernel::factor_band_with(isa, s.beta(), &mut a, s.n(), rule, &src),
            None => kernel::factor_band_reference(s.beta(), &mut a, s.n(), rule, &src),
        };
        (r.map(|c| c.negative), a)
    }

    fn agree(s: &BandSymbolic, values: &[f64], shift: f64, what: &str) {
        for isa in kernel::available_isas() {
            agree_with(isa, s, values, shift, &format!("{isa:?}, {what}"));
        }
    }

    fn agree_with(isa: kernel::Isa, s: &BandSymbolic, values: &[f64], shift: f64, what: &str) {
        for rule in [PivotRule::Positive, PivotRule::Relative(1e-12)] {
            let (fast, fa) = run(s, values, shift, rule, Some(isa));
            let (slow, sa) = run(s, values, shift, rule, None);
            match (&fast, &slow) {
                (Ok(x), Ok(y)) => {
                    assert_eq!(x, y, "{what}: negative pivots");
                    let scale = sa.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                    for (u, v) in fa.iter().zip(&sa) {
                        assert!((u - v).abs() <= 1e-12 * scale, "{what}: factor {u} vs {v}");
                    }
                    // The solves of every build agree with the plain one.
                    let n = s.n();
                    let b: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
                    let mut x = b.clone();
                    kernel::solve_band_slice_with(isa, s.beta(), &fa, n, &mut x);
                    let mut y = b.clone();
                    kernel::solve_band_slice_with(kernel::Isa::Plain, s.beta(), &sa, n, &mut y);
                    let xs = y.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                    for (u, v) in x.iter().zip(&y) {
                        assert!((u - v).abs() <= 1e-10 * xs, "{what}: solve {u} vs {v}");
                    }
                }
                (
                    Err(SolveError::NotPositiveDefinite { index: i, pivot: p }),
                    Err(SolveError::NotPositiveDefinite { index: k, pivot: q }),
                )
                | (
                    Err(SolveError::TinyPivot {
                        index: i, pivot: p, ..
                    }),
                    Err(SolveError::TinyPivot {
                        index: k, pivot: q, ..
                    }),
                ) => {
                    assert_eq!(i, k, "{what}: failing pivot");
                    assert!(
                        p == q || (p - q).abs() <= 1e-9 * q.abs().max(1.0),
                        "{what}: pivot {p} vs {q}"
                    );
                }
                _ => assert_eq!(fast, slow, "{what}"),
            }
        }
    }

    #[test]
    fn deferred_checks_report_what_the_reference_reports() {
        for beta in [1, 2, 3, 4, 5, 8, 9, 12, 16] {
            for n in [beta + 1, beta + 2, 2 * beta + 1, 3 * beta + 2, 4 * beta + 5] {
                let p = generators::band(n, beta, beta).expect("band");
                let s = BandSymbolic::from_pattern(&p).expect("symbolic");
                let v = spd_values(&p, (n * 31 + beta) as u64);
                agree(&s, &v, 0.0, "spd");
                agree(&s, &v, -2.5, "shifted (indefinite or failing)");
                // One non-finite value anywhere: in the upper part of a row it is read
                // (NonFinite at its position), in the lower part it is not read.
                for k in (0..v.len()).step_by(1 + v.len() / 97) {
                    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                        let mut w = v.clone();
                        w[k] = bad;
                        agree(&s, &w, 0.0, &format!("beta {beta} n {n}: {bad} at {k}"));
                    }
                }
                // A non-finite value after a failing pivot, and before one.
                let mut w = v.clone();
                let mid = p.row_range(n / 2).start + (n / 2).min(beta);
                w[mid] = -1e3;
                agree(&s, &w, 0.0, "negative diagonal");
                if let Some(last) = p.row_range(n - 1).last() {
                    w[last] = f64::NAN;
                    agree(&s, &w, 0.0, "negative diagonal, NaN last");
                }
                w[p.row_range(0).start] = f64::INFINITY;
                agree(&s, &w, 0.0, "negative diagonal, inf first");
            }
        }
    }

    #[test]
    fn indefinite_bands_match_the_reference() {
        // Diagonals of both signs, off-diagonals small: LDLᵀ succeeds with mixed inertia.
        for beta in [1, 3, 9, 16] {
            let n = 6 * beta + 7;
            let p = generators::band(n, beta, beta).expect("band");
            let s = BandSymbolic::from_pattern(&p).expect("symbolic");
            let mut v = spd_values(&p, 3);
            for i in 0..n {
                for k in p.row_range(i) {
                    if p.col_idx()[k] == i && i % 3 == 1 {
                        v[k] = -v[k];
                    }
                }
            }
            agree(&s, &v, 0.0, "indefinite");
            agree(&s, &v, 0.25, "indefinite, shifted");
        }
    }
}
