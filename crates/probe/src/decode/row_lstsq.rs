//! Per-row least squares: row i of B = A·S only involves the unknowns of row i,
//! B[i, :] = Σ_{j ∈ J_i} A[i, j] S[j, :], so each row is an independent p×d_i least-squares
//! problem min ‖M_i x − b_i‖ with the sample matrix M_i = S[J_i, :]ᵀ and b_i = B[i, :]ᵀ.
//!
//! Preparation factors every M_i once (Householder QR, the kernel of `dense_qr.rs`) and
//! stores its pseudo-inverse
//! P_i = Π R⁻¹ Qᵀ (d_i×p) contiguously, in the pattern's entry order: entry k of the
//! pattern is `pinv[k·p .. (k+1)·p] · b_i`. Decoding is one small mat-vec per row and
//! allocates nothing.
//!
//! A row is *unrecoverable* when it has more unknowns than there are probes (d_i > p) or
//! when M_i is rank deficient: some pivot |R_kk| ≤ tol·|R_00|. Samples given by the caller
//! ([`RowLeastSquaresDecoder::from_samples`]) get a column-pivoted, rank-revealing QR
//! (R_00 is then the largest column norm and the |R_kk| are non-increasing); designers
//! that draw random Gaussian or Rademacher seeds use the unpivoted QR and compare every
//! pivot with the largest column norm (generic samples: an exact deficiency, such as two
//! Rademacher rows equal up to sign, still leaves a pivot at rounding level).
//! [`Decode::decode`] refuses to return values when some row is unrecoverable;
//! [`RowLeastSquaresDecoder::decode_partial`] writes NaN there and lists the rows.

use std::sync::Arc;

use faer::MatRef;
use sparsediff_pattern::Pattern;

use super::Decode;
use super::dense_qr::{F2, SmallQr, large_pseudo_inverse};
use crate::error::{DecodeError, DesignError};
use crate::products::{ProductsView, check_values};

/// Rows with at most this many unknowns use the hand-written QR kernel (see the module docs);
/// wider rows use faer's column-pivoted QR.
pub const SMALL_ROW: usize = 32;

/// Default relative rank tolerance: a pivot |R_kk| ≤ 1e-10·|R_00| makes the row
/// unrecoverable (its sample matrix has condition number of order 1e10 or worse).
pub const DEFAULT_RANK_TOL: f64 = 1e-10;

/// Most rows listed in an error.
const MAX_LISTED: usize = 64;

/// Largest p for which a row of products is gathered into a stack buffer while decoding.
const STACK_PROBES: usize = 64;

/// Prepared per-row least squares (see the module docs).
#[derive(Debug, Clone)]
pub struct RowLeastSquaresDecoder {
    pattern: Arc<Pattern>,
    probes: usize,
    /// S row-major (n×p), for residuals.
    seeds: Vec<f64>,
    /// Pseudo-inverse rows, p values per pattern entry.
    pinv: Vec<f64>,
    /// Whether each row was recovered at design time.
    recoverable: Vec<bool>,
    /// The rows that are not, ascending.
    unrecoverable: Vec<usize>,
    tol: f64,
}

/// Why one row cannot be recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowFailure {
    /// d_i > p.
    TooFewProbes { row: usize, needed: usize },
    /// M_i rank deficient.
    RankDeficient { row: usize },
}

impl RowLeastSquaresDecoder {
    /// Prepares per-row least squares for ANY seed matrix S (n×p, n = `pattern.ncols()`),
    /// for instance samples that someone else chose.
    ///
    /// Every row whose sample matrix S[J_i, :]ᵀ has full column rank (relative tolerance
    /// `tol` on the pivots of a column-pivoted QR, see [`DEFAULT_RANK_TOL`]) is prepared; the
    /// others are listed by [`unrecoverable_rows`](Self::unrecoverable_rows).
    ///
    /// Errors: a seed matrix with the wrong number of rows ([`DesignError::SeedShape`]), a
    /// non-finite seed ([`DesignError::NonFiniteSeed`]), `tol` outside [0, 1)
    /// ([`DesignError::Parameter`]), more probes than
    /// [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES) allows for the pseudo-inverses
    /// ([`DesignError::DenseTooLarge`]).
    pub fn from_samples(
        pattern: &Pattern,
        seeds: MatRef<'_, f64>,
        tol: f64,
    ) -> Result<Self, DesignError> {
        Ok(Self::prepare(Arc::new(pattern.clone()), seeds, tol, true)?.0)
    }

    /// Validates the inputs and prepares every row; also returns the first failure.
    ///
    /// `pivot`: column-pivoted (rank-revealing) QR for the small rows. Designers drawing
    /// random seeds pass false (see the module docs): about 10 ms faster on the 1e5-row
    /// band.
    pub(crate) fn prepare(
        pattern: Arc<Pattern>,
        seeds: MatRef<'_, f64>,
        tol: f64,
        pivot: bool,
    ) -> Result<(Self, Option<RowFailure>), DesignError> {
        check_tol(tol)?;
        let p = seeds.ncols();
        crate::plan::check_dense(
            crate::design::ROW_LSTSQ_ARRAYS,
            crate::design::row_lstsq_rows(&pattern),
            p as u128,
        )?;
        let s = row_major_seeds(seeds, pattern.ncols())?;
        let mut pinv = vec![0.0; pattern.nnz() * p];
        let max_small = (0..pattern.nrows())
            .map(|i| pattern.row_nnz(i))
            .filter(|&d| d <= SMALL_ROW.min(p))
            .max()
            .unwrap_or(0);
        let mut one = SmallQr::<f64>::new(p, max_small, pivot);
        let mut two = SmallQr::<F2>::new(p, max_small, pivot);
        let mut failures: Vec<RowFailure> = Vec::new();
        let ptr = pattern.row_ptr();
        let span = |i: usize| ptr[i] * p..ptr[i + 1] * p;
        // Rows of equal width are factored two at a time (one per SIMD lane); `pending`
        // waits for a partner.
        let mut pending: Option<usize> = None;
        let mut single = |i: usize, pinv: &mut [f64], failures: &mut Vec<RowFailure>| {
            let row = pattern.row(i);
            let out = &mut pinv[span(i)];
            let ok = if row.len() <= SMALL_ROW {
                one.pseudo_inverse(&s, &[row], tol, &mut [out])
            } else {
                large_pseudo_inverse(&s, p, row, tol, out)
            };
            if !ok {
                out.fill(f64::NAN);
                failures.push(RowFailure::RankDeficient { row: i });
            }
        };
        for i in 0..pattern.nrows() {
            let d = pattern.row_nnz(i);
            if d == 0 {
                continue;
            }
            if d > p {
                pinv[span(i)].fill(f64::NAN);
                failures.push(RowFailure::TooFewProbes { row: i, needed: d });
                continue;
            }
            if d > SMALL_ROW {
                single(i, &mut pinv, &mut failures);
                continue;
            }
            match pending.take() {
                Some(j) if pattern.row_nnz(j) == d => {
                    let (head, tail) = pinv.split_at_mut(ptr[i] * p);
                    let (out_j, out_i) = (&mut head[span(j)], &mut tail[..d * p]);
                    let rows = [pattern.row(j), pattern.row(i)];
                    if !two.pseudo_inverse(&s, &rows, tol, &mut [out_j, out_i]) {
                        // Some lane is rank deficient: redo both alone to find which.
                        single(j, &mut pinv, &mut failures);
                        single(i, &mut pinv, &mut failures);
                    }
                }
                Some(j) => {
                    single(j, &mut pinv, &mut failures);
                    pending = Some(i);
                }
                None => pending = Some(i),
            }
        }
        if let Some(j) = pending {
            single(j, &mut pinv, &mut failures);
        }
        failures.sort_by_key(|f| match *f {
            RowFailure::TooFewProbes { row, .. } | RowFailure::RankDeficient { row } => row,
        });
        let unrecoverable: Vec<usize> = failures
            .iter()
            .map(|f| match *f {
                RowFailure::TooFewProbes { row, .. } | RowFailure::RankDeficient { row } => row,
            })
            .collect();
        let mut recoverable = vec![true; pattern.nrows()];
        for &i in &unrecoverable {
            recoverable[i] = false;
        }
        let first_failure = failures.first().copied();
        let decoder = Self {
            pattern,
            probes: p,
            seeds: s,
            pinv,
            recoverable,
            unrecoverable,
            tol,
        };
        Ok((decoder, first_failure))
    }

    /// The rows that cannot be recovered (more unknowns than probes, or a rank-deficient
    /// sample matrix), ascending. Empty for every plan made by a designer.
    pub fn unrecoverable_rows(&self) -> &[usize] {
        &self.unrecoverable
    }

    /// Number of probes p.
    pub fn num_probes(&self) -> usize {
        self.probes
    }

    /// The relative rank tolerance the rows were prepared with.
    pub fn rank_tol(&self) -> f64 {
        self.tol
    }

    /// The pattern the decoder recovers.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// Decodes every recoverable row and writes NaN into the entries of the unrecoverable
    /// ones, which it returns (the same list as
    /// [`unrecoverable_rows`](Self::unrecoverable_rows)). Does not allocate.
    ///
    /// Errors: products of the wrong shape or with a non-finite entry, a value buffer of the
    /// wrong length.
    pub fn decode_partial(
        &self,
        products: MatRef<'_, f64>,
        values: &mut [f64],
    ) -> Result<&[usize], DecodeError> {
        let p = self.probes;
        let pat = &*self.pattern;
        let b = ProductsView::new(products, pat.nrows(), p)?;
        check_values(values, pat.nnz())?;
        let mut buf = [0.0f64; STACK_PROBES];
        for i in 0..pat.nrows() {
            let range = pat.row_range(i);
            if range.is_empty() {
                continue;
            }
            if !self.recoverable[i] {
                values[range].fill(f64::NAN);
                continue;
            }
            let pinv = &self.pinv[range.start * p..range.end * p];
            if p <= STACK_PROBES {
                let bi = &mut buf[..p];
                for (c, v) in bi.iter_mut().enumerate() {
                    *v = b.at(i, c);
                }
                for (v, prow) in values[range].iter_mut().zip(pinv.chunks_exact(p)) {
                    *v = dot(prow, bi);
                }
            } else {
                for (v, prow) in values[range].iter_mut().zip(pinv.chunks_exact(p)) {
                    *v = prow.iter().enumerate().map(|(c, w)| w * b.at(i, c)).sum();
                }
            }
        }
        Ok(&self.unrecoverable)
    }

    /// The residual norm ‖M_i x_i − b_i‖₂ of every row i for the given decoded `values`
    /// (in the pattern's entry order): how far the products of row i are from what the
    /// recovered entries explain. NaN for unrecoverable rows.
    ///
    /// With exact products and p > d_i it is at rounding level (about 1e-15·‖b_i‖). A
    /// residual far above that (compare with ‖b_i‖) names a row whose declared pattern
    /// misses entries of the true matrix, or whose products are noisy; with p = d_i the
    /// residual is always zero and carries no information. Does not allocate.
    pub fn residuals(
        &self,
        products: MatRef<'_, f64>,
        values: &[f64],
        out: &mut [f64],
    ) -> Result<(), DecodeError> {
        let p = self.probes;
        let pat = &*self.pattern;
        let b = ProductsView::new(products, pat.nrows(), p)?;
        check_values(values, pat.nnz())?;
        if out.len() != pat.nrows() {
            return Err(DecodeError::ValuesLength {
                len: out.len(),
                expected: pat.nrows(),
            });
        }
        for (i, r) in out.iter_mut().enumerate() {
            if !self.recoverable[i] {
                *r = f64::NAN;
                continue;
            }
            let (cols, range) = (pat.row(i), pat.row_range(i));
            let mut sum = 0.0;
            for c in 0..p {
                let mut fit = 0.0;
                for (&j, &v) in cols.iter().zip(&values[range.clone()]) {
                    fit += v * self.seeds[j * p + c];
                }
                let e = fit - b.at(i, c);
                sum += e * e;
            }
            *r = sum.sqrt();
        }
        Ok(())
    }
}

impl Decode for RowLeastSquaresDecoder {
    fn products_shape(&self) -> (usize, usize) {
        (self.pattern.nrows(), self.probes)
    }

    /// Decodes like [`decode_partial`](RowLeastSquaresDecoder::decode_partial), then fails
    /// with [`DecodeError::Unrecoverable`] if any row could not be recovered: nothing is
    /// returned silently wrong (those rows hold NaN).
    fn decode(&self, products: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
        let bad = self.decode_partial(products, values)?;
        if bad.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Unrecoverable {
                count: bad.len(),
                rows: bad.iter().copied().take(MAX_LISTED).collect(),
            })
        }
    }
}

/// Rejects a tolerance outside [0, 1).
pub(crate) fn check_tol(tol: f64) -> Result<(), DesignError> {
    if !(0.0..1.0).contains(&tol) {
        return Err(DesignError::Parameter {
            name: "tol",
            value: tol.to_string(),
            reason: "must be a number in [0, 1)",
        });
    }
    Ok(())
}

/// Checks the seed matrix (rows = `expected_rows`, every entry finite) and copies it
/// row-major.
pub(crate) fn row_major_seeds(
    seeds: MatRef<'_, f64>,
    expected_rows: usize,
) -> Result<Vec<f64>, DesignError> {
    let (n, p) = seeds.shape();
    if n != expected_rows {
        return Err(DesignError::SeedShape {
            rows: n,
            cols: p,
            expected_rows,
        });
    }
    let mut s = vec![0.0; n * p];
    // Column by column: contiguous reads for the usual column-major seeds.
    for c in 0..p {
        for (j, &x) in seeds.col(c).iter().enumerate() {
            s[j * p + c] = x;
        }
    }
    if let Some(k) = s.iter().position(|x| !x.is_finite()) {
        let (row, probe) = (k / p, k % p);
        return Err(DesignError::NonFiniteSeed {
            row,
            probe,
            value: s[k],
        });
    }
    Ok(s)
}

/// The first failure as the design error of a designer (which must not return plans with
/// unrecoverable rows).
pub(crate) fn design_error(decoder: &RowLeastSquaresDecoder, first: RowFailure) -> DesignError {
    match first {
        RowFailure::TooFewProbes { row, needed } => DesignError::TooFewProbes {
            row,
            needed,
            probes: decoder.probes,
        },
        RowFailure::RankDeficient { .. } => DesignError::RankDeficient {
            count: decoder.unrecoverable.len(),
            rows: decoder
                .unrecoverable
                .iter()
                .copied()
                .take(MAX_LISTED)
                .collect(),
        },
    }
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four accumulators: independent chains the compiler can keep in registers.
    let mut acc = [0.0f64; 4];
    let (ca, ra) = (a.chunks_exact(4), a.chunks_exact(4).remainder());
    let rb = b.chunks_exact(4).remainder();
    for (x, y) in ca.zip(b.chunks_exact(4)) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}
