//! The diagonal of a symmetric matrix (a Hessian) from products, two ways.
//!
//! * [`ExactDiagonal`]: a distance-1 colouring of the adjacency graph (no two neighbours
//!   share a colour) and one product H·s_c per colour class c. Row i of H·s_{c(i)} sums
//!   H[i, j] over the columns j of colour c(i); the only such column in row i is i itself,
//!   so (H·s_{c(i)})_i = H[i, i] exactly. On a band of half-bandwidth β that is β + 1
//!   products.
//! * [`Hutchinson`]: p Rademacher probes z_c and diag(H) ≈ (1/p) Σ_c z_c ⊙ (H·z_c), an
//!   unbiased estimator whose error decays like 1/√p (its variance for entry i is
//!   Σ_{j≠i} H[i, j]² / p), with no pattern needed. [`hutchinson_errors`] tabulates the
//!   relative error against p for a known matrix.

use faer::{Mat, MatRef};
use sparsediff_coloring::{ColoringParams, Method, NEUTRAL, OrderChoice, Problem, color};
use sparsediff_pattern::Pattern;

use crate::design::{Distribution, random_seeds};
use crate::error::{DecodeError, DesignError, Inapplicable};
use crate::plan::{Orientation, Seeds};
use crate::products::{ProductsView, exact_products};

/// The exact diagonal from a distance-1 colouring: seeds, colours, and the decode.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactDiagonal {
    seeds: Seeds,
    colors: Vec<usize>,
}

impl ExactDiagonal {
    /// Colours the adjacency graph of the square `pattern` (distance-1, best of every
    /// order). An asymmetric pattern is symmetrised first: the colouring must separate i
    /// from every j with an entry (i, j) or (j, i).
    ///
    /// Errors: a non-square pattern or one without entries.
    pub fn new(pattern: &Pattern) -> Result<Self, DesignError> {
        Self::with_params(pattern, &ColoringParams::with_order(OrderChoice::best()))
    }

    /// As [`new`](Self::new) with other colouring parameters.
    pub fn with_params(pattern: &Pattern, params: &ColoringParams) -> Result<Self, DesignError> {
        if !pattern.is_square() {
            return Err(DesignError::NotApplicable {
                designer: "exact-diagonal",
                reason: Inapplicable::NotSquare {
                    rows: pattern.nrows(),
                    cols: pattern.ncols(),
                },
            });
        }
        let coloring = if pattern.is_symmetric() {
            color(pattern, Problem::Symmetric, Method::Distance1, params)?
        } else {
            let sym = pattern.symmetrize()?;
            color(&sym, Problem::Symmetric, Method::Distance1, params)?
        };
        let colors = coloring.colors().to_vec();
        let seeds = Seeds::Groups {
            group: colors.clone(),
            num_probes: coloring.num_colors(),
        };
        Ok(Self { seeds, colors })
    }

    /// The seeds: S[v, colour(v)] = 1.
    pub fn seeds(&self) -> &Seeds {
        &self.seeds
    }

    /// The colour of every vertex ([`NEUTRAL`] if none).
    pub fn colors(&self) -> &[usize] {
        &self.colors
    }

    /// Number of products.
    pub fn num_probes(&self) -> usize {
        self.seeds.num_probes()
    }

    /// Writes H[i, i] = B[i, colour(i)] into `out_diag` (0 for a vertex without colour)
    /// from the n×p products B = H·S. Does not allocate.
    ///
    /// Errors: products of the wrong shape or not finite, `out_diag` of the wrong length.
    pub fn decode(
        &self,
        products: MatRef<'_, f64>,
        out_diag: &mut [f64],
    ) -> Result<(), DecodeError> {
        let n = self.colors.len();
        let b = ProductsView::new(products, n, self.num_probes())?;
        check_len(out_diag, n)?;
        for (i, (d, &c)) in out_diag.iter_mut().zip(&self.colors).enumerate() {
            *d = if c == NEUTRAL { 0.0 } else { b.at(i, c) };
        }
        Ok(())
    }
}

/// At most this many Hutchinson probes (the error decays like 1/√p: 10⁴ probes give about
/// 1 % of the off-diagonal row norm; beyond, the exact method is cheaper on any sparse
/// Hessian). The probes also have to fit in [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES)
/// values (n × p).
pub const MAX_HUTCHINSON_PROBES: usize = 10_000;

/// Hutchinson's estimator of the diagonal with p Rademacher probes.
#[derive(Debug, Clone, PartialEq)]
pub struct Hutchinson {
    seeds: Seeds,
}

impl Hutchinson {
    /// p seeded Rademacher probes of length n (drawn column after column, so the probes
    /// for p are the first p of those for any larger count with the same seed).
    ///
    /// Errors: n = 0, p = 0 or p above [`MAX_HUTCHINSON_PROBES`]
    /// ([`DesignError::Parameter`]), n·p above
    /// [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES) ([`DesignError::DenseTooLarge`]).
    pub fn new(n: usize, p: usize, seed: u64) -> Result<Self, DesignError> {
        for (name, v) in [("n", n), ("p", p)] {
            if v == 0 {
                return Err(DesignError::Parameter {
                    name,
                    value: v.to_string(),
                    reason: "must be at least 1",
                });
            }
        }
        if p > MAX_HUTCHINSON_PROBES {
            return Err(DesignError::Parameter {
                name: "p",
                value: p.to_string(),
                reason: "at most MAX_HUTCHINSON_PROBES (10 000)",
            });
        }
        if n.checked_mul(p)
            .is_none_or(|len| len > crate::MAX_DENSE_ENTRIES)
        {
            return Err(DesignError::DenseTooLarge {
                what: "Hutchinson's probes",
                rows: n,
                probes: p as u128,
                limit: crate::MAX_DENSE_ENTRIES,
            });
        }
        Ok(Self {
            seeds: Seeds::from_mat(random_seeds(n, p, Distribution::Rademacher, seed).as_ref())?,
        })
    }

    /// The probes Z (n×p, entries ±1).
    pub fn seeds(&self) -> &Seeds {
        &self.seeds
    }

    /// Number of probes p.
    pub fn num_probes(&self) -> usize {
        self.seeds.num_probes()
    }

    /// diag ≈ (1/p) Σ_c z_c ⊙ (H·z_c) from the n×p products H·Z, into `out_diag`. Does not
    /// allocate.
    ///
    /// Errors: products of the wrong shape or not finite, `out_diag` of the wrong length.
    pub fn estimate(
        &self,
        products: MatRef<'_, f64>,
        out_diag: &mut [f64],
    ) -> Result<(), DecodeError> {
        let z = self.seeds.as_mat().expect("Hutchinson probes are dense");
        let (n, p) = z.shape();
        let b = ProductsView::new(products, n, p)?;
        check_len(out_diag, n)?;
        let inv = 1.0 / p as f64;
        for (i, d) in out_diag.iter_mut().enumerate() {
            let mut s = 0.0;
            for c in 0..p {
                s += z[(i, c)] * b.at(i, c);
            }
            *d = s * inv;
        }
        Ok(())
    }

    /// The standard error of each entry of an [`estimate`](Self::estimate) `mean` from the
    /// spread of its p samples zᵢ·(H·z)ᵢ: √(Σ_c (sample_c − mean)² / (p·(p − 1))),
    /// infinite for p = 1. Does not allocate.
    ///
    /// Errors: products of the wrong shape or not finite, `mean` or `out` of the wrong
    /// length.
    pub fn standard_errors(
        &self,
        products: MatRef<'_, f64>,
        mean: &[f64],
        out: &mut [f64],
    ) -> Result<(), DecodeError> {
        let z = self.seeds.as_mat().expect("Hutchinson probes are dense");
        let (n, p) = z.shape();
        let b = ProductsView::new(products, n, p)?;
        check_len(mean, n)?;
        check_len(out, n)?;
        if p < 2 {
            out.fill(f64::INFINITY);
            return Ok(());
        }
        let scale = 1.0 / (p as f64 * (p - 1) as f64);
        for (i, (e, &m)) in out.iter_mut().zip(mean).enumerate() {
            let mut ss = 0.0;
            for c in 0..p {
                let d = z[(i, c)] * b.at(i, c) - m;
                ss += d * d;
            }
            *e = (ss * scale).sqrt();
        }
        Ok(())
    }
}

/// For the square matrix with structure `pattern` and `values` (entry order), the relative
/// error ‖d̂ − d‖₂ / ‖d‖₂ of Hutchinson's estimate with each probe count of `probe_counts`
/// (probes seeded with `seed`, so larger counts extend the smaller ones), from exact
/// products: the error-against-probes table. If the diagonal is zero the absolute error
/// ‖d̂‖₂ is returned instead.
///
/// Errors: a non-square pattern ([`DesignError::NotApplicable`]), `values` of the wrong
/// length or not finite, or a zero probe count ([`DesignError::Parameter`]).
pub fn hutchinson_errors(
    pattern: &Pattern,
    values: &[f64],
    probe_counts: &[usize],
    seed: u64,
) -> Result<Vec<(usize, f64)>, DesignError> {
    if !pattern.is_square() {
        return Err(DesignError::NotApplicable {
            designer: "hutchinson",
            reason: Inapplicable::NotSquare {
                rows: pattern.nrows(),
                cols: pattern.ncols(),
            },
        });
    }
    if values.len() != pattern.nnz() || values.iter().any(|v| !v.is_finite()) {
        return Err(DesignError::Parameter {
            name: "values",
            value: format!("{} entries", values.len()),
            reason: "must hold one finite value per pattern entry",
        });
    }
    let n = pattern.nrows();
    let truth: Vec<f64> = (0..n)
        .map(|i| pattern.position(i, i).map_or(0.0, |k| values[k]))
        .collect();
    let norm = truth.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut out = Vec::with_capacity(probe_counts.len());
    let mut est = vec![0.0; n];
    for &p in probe_counts {
        let h = Hutchinson::new(n, p, seed)?;
        let b: Mat<f64> = exact_products(pattern, values, h.seeds(), Orientation::Columns);
        h.estimate(b.as_ref(), &mut est)
            .map_err(|_| DesignError::Parameter {
                name: "values",
                value: "(too large)".to_string(),
                reason: "the products overflow",
            })?;
        let err = est
            .iter()
            .zip(&truth)
            .map(|(e, t)| (e - t) * (e - t))
            .sum::<f64>()
            .sqrt();
        out.push((p, if norm > 0.0 { err / norm } else { err }));
    }
    Ok(out)
}

fn check_len(out: &[f64], n: usize) -> Result<(), DecodeError> {
    if out.len() != n {
        return Err(DecodeError::ValuesLength {
            len: out.len(),
            expected: n,
        });
    }
    Ok(())
}
