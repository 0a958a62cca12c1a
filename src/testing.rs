//! For users' own property tests (feature `proptest`): strategies for patterns (re-exported
//! from `sparsediff_pattern::testing`), sparse matrices on a pattern and probe plans, and assertions that compare a hand-written
//! derivative with the one sparsediff recovers, reporting the first differing entries.
//!
//! ```
//! use sparsediff::testing::{hessian_mismatches, Tolerance};
//! use sparsediff::num_dual::DualNum;
//! use sparsediff::ScalarFunction;
//!
//! #[derive(Clone)]
//! struct Quartic;
//! impl ScalarFunction for Quartic {
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
//!         x.iter().map(|v| v.powi(4)).sum::<D>() + x[0] * x[1]
//!     }
//! }
//! // Hand-written Hessian at x = (1, 2): diag 12x², (0,1) = (1,0) = 1.
//! let hand = sparsediff::Pattern::from_entries(2, 2, [(0, 0), (0, 1), (1, 0), (1, 1)])?
//!     .to_sprs_with_values(vec![12.0, 1.0, 1.0, 48.0])?;
//! assert!(hessian_mismatches(&Quartic, &hand, &[1.0, 2.0], Tolerance::default())?.is_empty());
//! let wrong = sparsediff::Pattern::from_entries(2, 2, [(0, 0), (1, 1)])?.to_sprs_with_values(vec![12.0, 48.0])?;
//! let m = hessian_mismatches(&Quartic, &wrong, &[1.0, 2.0], Tolerance::default())?;
//! assert_eq!((m[0].row, m[0].col, m[0].expected, m[0].got), (0, 1, 0.0, 1.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use proptest::prelude::*;
use sparsediff_pattern::Pattern;
/// The pattern strategies and proptest configuration, from `sparsediff_pattern::testing`.
pub use sparsediff_pattern::testing::{
    Diagonal, banded_patterns, cases, config, config_in_memory, patterns, symmetric_patterns,
    uniform_symmetric_patterns,
};
use sparsediff_probe::{
    ColoredDesigner, MatrixKind, ProbeDesigner, ProbePlan, RandomDesigner, RollDesigner,
};
use sprs::CsMat;

use crate::error::SparseError;
use crate::options::Options;
use crate::{ScalarFunction, SparseHessian, SparseJacobian, VectorFunction};

/// One entry where the hand-written and the recovered derivative differ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mismatch {
    /// Row.
    pub row: usize,
    /// Column.
    pub col: usize,
    /// The hand-written value (0 where it has no entry).
    pub expected: f64,
    /// The recovered value (0 where the recovered pattern has no entry).
    pub got: f64,
}

/// Entries agree when |got − expected| ≤ `absolute` + `relative`·max|expected|.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Relative to the largest hand-written entry.
    pub relative: f64,
    /// Absolute.
    pub absolute: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Self {
            relative: 1e-10,
            absolute: 1e-12,
        }
    }
}

/// Every entry where `expected` and `got` differ, row-major.
pub fn mismatches(expected: &CsMat<f64>, got: &CsMat<f64>, tol: Tolerance) -> Vec<Mismatch> {
    let scale = expected.data().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let limit = tol.absolute + tol.relative * scale;
    let mut out = Vec::new();
    let rows = expected.rows().max(got.rows());
    for i in 0..rows {
        let mut cols: Vec<usize> = Vec::new();
        for m in [expected, got] {
            if let Some(row) = m.outer_view(i) {
                cols.extend(row.indices());
            }
        }
        cols.sort_unstable();
        cols.dedup();
        for j in cols {
            let e = expected.get(i, j).copied().unwrap_or(0.0);
            let g = got.get(i, j).copied().unwrap_or(0.0);
            if (e - g).abs() > limit || e.is_nan() != g.is_nan() {
                out.push(Mismatch {
                    row: i,
                    col: j,
                    expected: e,
                    got: g,
                });
            }
        }
    }
    out
}

/// Recovers the Hessian of `f` at `x` (traced pattern, automatic probes, tape) and lists
/// the entries where it differs from the hand-written `hessian`.
pub fn hessian_mismatches<F: ScalarFunction + Clone + Send + Sync + 'static>(
    f: &F,
    hessian: &CsMat<f64>,
    x: &[f64],
    tol: Tolerance,
) -> Result<Vec<Mismatch>, SparseError> {
    hessian_mismatches_with(f, hessian, x, tol, &Options::default())
}

/// Like [`hessian_mismatches`] with options of the caller's (a detector such as
/// [`Global`](crate::Global), a backend, a verification policy): prepared at `x`,
/// evaluated there.
pub fn hessian_mismatches_with<F: ScalarFunction + Clone + Send + Sync + 'static>(
    f: &F,
    hessian: &CsMat<f64>,
    x: &[f64],
    tol: Tolerance,
    options: &Options,
) -> Result<Vec<Mismatch>, SparseError> {
    let mut h = SparseHessian::prepare(f.clone(), x, options)?;
    let got = h.evaluate(x)?.clone();
    Ok(mismatches(&hessian.to_csr(), &got, tol))
}

/// Like [`hessian_mismatches`] for Jacobians.
pub fn jacobian_mismatches<F: VectorFunction + Clone + Send + Sync + 'static>(
    f: &F,
    jacobian: &CsMat<f64>,
    x: &[f64],
    tol: Tolerance,
) -> Result<Vec<Mismatch>, SparseError> {
    jacobian_mismatches_with(f, jacobian, x, tol, &Options::default())
}

/// Like [`jacobian_mismatches`] with options of the caller's (a [`JacobianMode`](crate::JacobianMode),
/// a backend, a verification policy): prepared at `x`, evaluated there.
pub fn jacobian_mismatches_with<F: VectorFunction + Clone + Send + Sync + 'static>(
    f: &F,
    jacobian: &CsMat<f64>,
    x: &[f64],
    tol: Tolerance,
    options: &Options,
) -> Result<Vec<Mismatch>, SparseError> {
    let mut j = SparseJacobian::prepare(f.clone(), x, options)?;
    let got = j.evaluate(x)?.clone();
    Ok(mismatches(&jacobian.to_csr(), &got, tol))
}

/// Prepares the Hessian of `f` at `x` once per thread count in `threads`
/// ([`Options::threads`], the other options as given), evaluates it at `x` and panics
/// unless every run's values are bit for bit the first's; returns those values (the
/// pattern's order).
#[track_caller]
pub fn assert_threads_agree<F: ScalarFunction + Clone + Send + Sync + 'static>(
    f: &F,
    x: &[f64],
    threads: &[usize],
    options: &Options,
) -> Vec<f64> {
    let mut first: Option<Vec<f64>> = None;
    for &t in threads {
        let options = Options {
            threads: t,
            ..options.clone()
        };
        let mut h = SparseHessian::prepare(f.clone(), x, &options)
            .unwrap_or_else(|e| panic!("prepare with {t} threads failed: {e}"));
        let values = h
            .evaluate(x)
            .unwrap_or_else(|e| panic!("evaluate with {t} threads failed: {e}"))
            .matrix()
            .data()
            .to_vec();
        match &first {
            None => first = Some(values),
            Some(want) => {
                let differ = values
                    .iter()
                    .zip(want)
                    .position(|(a, b)| a.to_bits() != b.to_bits());
                if let Some(k) = differ {
                    panic!(
                        "{t} threads: value {k} is {:e}, {} threads gave {:e}",
                        values[k], threads[0], want[k]
                    );
                }
            }
        }
    }
    first.unwrap_or_default()
}

fn report(what: &str, m: &[Mismatch]) -> String {
    let first: Vec<String> = m
        .iter()
        .take(5)
        .map(|e| {
            format!(
                "({}, {}): expected {}, got {}",
                e.row, e.col, e.expected, e.got
            )
        })
        .collect();
    format!(
        "{what} differs in {} entries; first: {}",
        m.len(),
        first.join("; ")
    )
}

/// Panics (naming the first differing entries) unless the hand-written `hessian` equals the
/// Hessian sparsediff recovers at `x`.
#[track_caller]
pub fn assert_hessian_matches<F: ScalarFunction + Clone + Send + Sync + 'static>(
    f: &F,
    hessian: &CsMat<f64>,
    x: &[f64],
) {
    match hessian_mismatches(f, hessian, x, Tolerance::default()) {
        Ok(m) if m.is_empty() => {}
        Ok(m) => panic!("{}", report("the Hessian", &m)),
        Err(e) => panic!("recovering the Hessian failed: {e}"),
    }
}

/// Panics (naming the first differing entries) unless the hand-written `jacobian` equals
/// the Jacobian sparsediff recovers at `x`.
#[track_caller]
pub fn assert_jacobian_matches<F: VectorFunction + Clone + Send + Sync + 'static>(
    f: &F,
    jacobian: &CsMat<f64>,
    x: &[f64],
) {
    match jacobian_mismatches(f, jacobian, x, Tolerance::default()) {
        Ok(m) if m.is_empty() => {}
        Ok(m) => panic!("{}", report("the Jacobian", &m)),
        Err(e) => panic!("recovering the Jacobian failed: {e}"),
    }
}

/// A pattern with values on it: symmetric values when the pattern is symmetric, never zero.
pub fn matrices_on(pattern: Pattern) -> impl Strategy<Value = (Pattern, Vec<f64>)> {
    any::<u64>().prop_map(move |seed| {
        let values =
            sparsediff_probe::compare::random_values(&pattern, seed, pattern.is_symmetric());
        (pattern.clone(), values)
    })
}

/// A probe plan for a random symmetric pattern with full diagonal (n in `sizes`): one of
/// roll, CPR, star, acyclic or random least squares.
pub fn probe_plans(sizes: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = ProbePlan> {
    (
        symmetric_patterns(sizes, Diagonal::Full),
        0usize..5,
        any::<u64>(),
    )
        .prop_map(|(p, which, seed)| {
            let designer: Box<dyn ProbeDesigner> = match which {
                0 => Box::new(RollDesigner),
                1 => Box::new(ColoredDesigner::cpr()),
                2 => Box::new(ColoredDesigner::star()),
                3 => Box::new(ColoredDesigner::acyclic()),
                _ => Box::new(RandomDesigner::new().seed(seed)),
            };
            designer
                .design(&p, MatrixKind::Symmetric)
                .or_else(|_| ColoredDesigner::cpr().design(&p, MatrixKind::Symmetric))
                .unwrap_or_else(|e| panic!("CPR applies to every non-empty pattern: {e}"))
        })
}
