//! [`SparseDiagonal`]: the diagonal of a Hessian alone, exactly from a distance-1 colouring
//! or estimated by Hutchinson's method, through the same tape as [`SparseHessian`](crate::SparseHessian).
//!
//! * [`DiagonalMethod::Exact`]: the pattern is traced at x0 and its adjacency graph
//!   coloured (distance-1: no two neighbours share a colour); one Hessian-vector product
//!   per colour, and (H·s_c(i))ᵢ = H[i, i] exactly. A band of half-bandwidth β takes β + 1
//!   products where the whole Hessian takes 2β + 1 (direct) or β + 1 (substitution); a
//!   5-point grid takes 3 instead of 5. The pattern is only as good as the trace: a branch
//!   the tape sees change re-traces it at x and re-colours for the union, and a function
//!   that reads raw values (`re()`, branches no backend sees) is re-traced at every
//!   evaluation.
//! * [`DiagonalMethod::Hutchinson`]: k seeded Rademacher probes z and
//!   diag ≈ (1/k) Σ z ⊙ (H·z), no pattern needed, with a per-entry standard error from
//!   the spread of the k samples ([`SparseDiagonal::standard_errors`]). An estimate, and
//!   reported as one: `info().exact` is false.
//!
//! ```
//! use sparsediff::num_dual::DualNum;
//! use sparsediff::{DiagonalMethod, Options, ScalarFunction, SparseDiagonal};
//!
//! struct Chain;
//! impl ScalarFunction for Chain {
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
//!         x.windows(2).map(|w| (w[0] * w[1]).sin()).sum::<D>() + x.iter().map(|v| v.powi(4)).sum::<D>()
//!     }
//! }
//! let x0 = vec![0.3; 1000];
//! let mut d = SparseDiagonal::prepare(Chain, &x0, DiagonalMethod::Exact, &Options::default())?;
//! assert_eq!(d.info().probes, 2); // tridiagonal: 2 colours
//! let diag = d.evaluate(&x0)?.to_vec();
//! // ∂²/∂x₀² of sin(x₀x₁) + x₀⁴ = −x₁² sin(x₀x₁) + 12 x₀²
//! let expected = -0.09 * (0.09f64).sin() + 12.0 * 0.09;
//! assert!((diag[0] - expected).abs() < 1e-14);
//!
//! let k = 64;
//! let method = DiagonalMethod::Hutchinson { probes: k, seed: 7 };
//! let mut h = SparseDiagonal::prepare(Chain, &x0, method, &Options::default())?;
//! let estimate = h.evaluate(&x0)?.to_vec();
//! let se = h.standard_errors().expect("k ≥ 2");
//! assert!((estimate[0] - expected).abs() <= 6.0 * se[0] + 1e-12);
//! assert!(!h.info().exact);
//! # Ok::<(), sparsediff::SparseError>(())
//! ```

use std::sync::Arc;

use faer::MatRef;
use sparsediff_ad::trace::hessian_pattern_with_info;
use sparsediff_ad::{HessianBackend, ScalarFunction, TapeHessian};
use sparsediff_pattern::Pattern;
use sparsediff_probe::{DesignError, ExactDiagonal, Hutchinson, MAX_DENSE_ENTRIES};

use crate::error::SparseError;
use crate::options::Options;
use crate::recovery::TraceAt;

pub use sparsediff_probe::MAX_HUTCHINSON_PROBES;

/// How [`SparseDiagonal`] gets the diagonal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagonalMethod {
    /// Exact: a distance-1 colouring of the traced pattern, one product per colour.
    Exact,
    /// Hutchinson's estimator with `probes` seeded Rademacher probes (1 ≤ probes ≤
    /// [`MAX_HUTCHINSON_PROBES`]).
    Hutchinson {
        /// Number of probes k.
        probes: usize,
        /// Seed of the probes.
        seed: u64,
    },
}

/// What a prepared diagonal reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagonalInfo {
    /// `exact` or `hutchinson`.
    pub method: &'static str,
    /// Products per evaluation.
    pub probes: usize,
    /// Whether the values are exact (false: Hutchinson's estimate).
    pub exact: bool,
    /// Evaluations so far.
    pub evaluations: usize,
    /// How often the pattern was traced again at an evaluation point (exact method).
    pub retraces: usize,
    /// How often the colouring was redone for a pattern widened by another branch.
    pub recolorings: usize,
}

enum Design<'f> {
    Exact {
        pattern: Pattern,
        colors: ExactDiagonal,
        trace: TraceAt<'f>,
        /// The function reads raw values: re-trace at every evaluation.
        retrace_always: bool,
    },
    Hutchinson(Hutchinson),
}

/// A prepared Hessian diagonal: `evaluate(x)` makes the products in one backend call and
/// writes the diagonal into a buffer owned by this value (no allocation unless a branch
/// change widens the pattern).
pub struct SparseDiagonal<'f> {
    backend: Box<dyn HessianBackend + Send + 'f>,
    design: Design<'f>,
    options: Options,
    products: Vec<f64>,
    diagonal: Vec<f64>,
    errors: Vec<f64>,
    seen_changes: usize,
    info: DiagonalInfo,
}

impl std::fmt::Debug for SparseDiagonal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseDiagonal")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// n × p products must fit in [`MAX_DENSE_ENTRIES`].
fn check_size(n: usize, probes: usize) -> Result<(), SparseError> {
    if n.checked_mul(probes)
        .is_none_or(|len| len > MAX_DENSE_ENTRIES)
    {
        return Err(DesignError::DenseTooLarge {
            what: "the diagonal's products",
            rows: n,
            probes: probes as u128,
            limit: MAX_DENSE_ENTRIES,
        }
        .into());
    }
    Ok(())
}

impl<'f> SparseDiagonal<'f> {
    /// Prepares the diagonal of ∇²f around `x0`: records the tape, and for
    /// [`DiagonalMethod::Exact`] traces the pattern and colours it (the options' colouring
    /// parameters; the other options do not apply). Errors: an empty or non-finite `x0`,
    /// a Hutchinson probe count of 0 or above [`MAX_HUTCHINSON_PROBES`]
    /// ([`SparseError::InvalidOption`]), products that would not fit in memory, a trace or
    /// tape error.
    pub fn prepare<F: ScalarFunction + Send + Sync + 'f>(
        f: F,
        x0: &[f64],
        method: DiagonalMethod,
        options: &Options,
    ) -> Result<Self, SparseError> {
        let n = x0.len();
        if n == 0 {
            return Err(SparseError::WrongLength {
                what: "x0",
                len: 0,
                expected: 1,
            });
        }
        crate::error::check_finite_input(x0)?;
        if let DiagonalMethod::Hutchinson { probes, .. } = method
            && !(1..=MAX_HUTCHINSON_PROBES).contains(&probes)
        {
            return Err(SparseError::InvalidOption {
                option: "DiagonalMethod::Hutchinson::probes",
                reason: "between 1 and MAX_HUTCHINSON_PROBES (10 000)",
            });
        }
        if let DiagonalMethod::Hutchinson { probes, .. } = method {
            // before the tape is recorded
            check_size(n, probes)?;
        }
        let f = Arc::new(f);
        let backend: Box<dyn HessianBackend + Send + 'f> =
            Box::new(TapeHessian::new(Arc::clone(&f), x0)?);
        let (design, probes) = match method {
            DiagonalMethod::Exact => {
                let t = Arc::clone(&f);
                let trace: TraceAt<'f> =
                    Box::new(move |x| Ok(hessian_pattern_with_info(x, |v| t.eval(v))?));
                let (pattern, seen) = trace(x0)?;
                // an empty pattern (f affine) still gets one probe: the diagonal is 0
                let pattern = pattern.with_diagonal();
                let colors = ExactDiagonal::with_params(&pattern, &options.coloring)?;
                let probes = colors.num_probes();
                (
                    Design::Exact {
                        pattern,
                        colors,
                        trace,
                        retrace_always: seen.value_reads > 0,
                    },
                    probes,
                )
            }
            DiagonalMethod::Hutchinson { probes, seed } => (
                Design::Hutchinson(Hutchinson::new(n, probes, seed)?),
                probes,
            ),
        };
        check_size(n, probes)?;
        let exact = matches!(design, Design::Exact { .. });
        let seen_changes = backend.branches().changes;
        Ok(Self {
            backend,
            design,
            options: options.clone(),
            products: vec![0.0; n * probes],
            diagonal: vec![0.0; n],
            errors: vec![0.0; if exact { 0 } else { n }],
            seen_changes,
            info: DiagonalInfo {
                method: if exact { "exact" } else { "hutchinson" },
                probes,
                exact,
                evaluations: 0,
                retraces: 0,
                recolorings: 0,
            },
        })
    }

    /// The diagonal of ∇²f(x) (exact) or its estimate (Hutchinson). Errors: a wrong length,
    /// non-finite input, non-finite products, a trace error at a branch change.
    pub fn evaluate(&mut self, x: &[f64]) -> Result<&[f64], SparseError> {
        let n = self.diagonal.len();
        crate::error::check_point(x, n)?;
        self.info.evaluations += 1;
        self.products(x)?;
        if let Design::Exact { retrace_always, .. } = &self.design {
            let changed = self.backend.branches().changes != self.seen_changes;
            self.seen_changes = self.backend.branches().changes;
            if (changed || *retrace_always) && self.recolor(x)? {
                self.products(x)?;
            }
        }
        let p = self.info.probes;
        let b = MatRef::from_row_major_slice(&self.products, n, p);
        match &self.design {
            Design::Exact { colors, .. } => colors.decode(b, &mut self.diagonal)?,
            Design::Hutchinson(h) => {
                h.estimate(b, &mut self.diagonal)?;
                h.standard_errors(b, &self.diagonal, &mut self.errors)?;
            }
        }
        Ok(&self.diagonal)
    }

    fn products(&mut self, x: &[f64]) -> Result<(), SparseError> {
        let seeds = match &self.design {
            Design::Exact { colors, .. } => colors.seeds().block(),
            Design::Hutchinson(h) => h.seeds().block(),
        };
        self.backend.hvp_block(x, seeds, &mut self.products)?;
        Ok(())
    }

    /// Traces the pattern at x; if it has entries outside the coloured one, re-colours the
    /// union (returns true: the products must be made again).
    fn recolor(&mut self, x: &[f64]) -> Result<bool, SparseError> {
        let Design::Exact {
            pattern,
            colors,
            trace,
            ..
        } = &mut self.design
        else {
            return Ok(false);
        };
        self.info.retraces += 1;
        let (traced, _) = trace(x)?;
        if traced.is_subset_of(pattern) {
            return Ok(false);
        }
        let union = pattern.union(&traced)?;
        *colors = ExactDiagonal::with_params(&union, &self.options.coloring)?;
        *pattern = union;
        let p = colors.num_probes();
        check_size(self.diagonal.len(), p)?;
        self.products.resize(self.diagonal.len() * p, 0.0);
        self.info.probes = p;
        self.info.recolorings += 1;
        Ok(true)
    }

    /// The last evaluated diagonal.
    pub fn diagonal(&self) -> &[f64] {
        &self.diagonal
    }

    /// Hutchinson's per-entry standard error of the last estimate,
    /// √(Σ_c (z_ci·(H·z_c)_i − d̂ᵢ)² / (k(k − 1))): the sample spread of the k terms whose mean is
    /// d̂ᵢ. `None` for the exact method, and for k = 1 (no spread to measure).
    pub fn standard_errors(&self) -> Option<&[f64]> {
        (!self.errors.is_empty() && self.info.probes >= 2).then_some(&self.errors[..])
    }

    /// The pattern the exact method coloured (with its diagonal); `None` for Hutchinson.
    pub fn pattern(&self) -> Option<&Pattern> {
        match &self.design {
            Design::Exact { pattern, .. } => Some(pattern),
            Design::Hutchinson(_) => None,
        }
    }

    /// Method, probes, exactness and counts.
    pub fn info(&self) -> &DiagonalInfo {
        &self.info
    }
}
