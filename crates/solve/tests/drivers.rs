//! The drivers: Newton (band and sparse), trust-region CG, Newton for F(x) = 0, and the
//! argmin L-BFGS baseline — convergence on the classic problems, every kind of bad input
//! and numerical trouble ending with a named status (or error) and the best point so far,
//! and property tests on random convex quadratics.

mod common;

use std::convert::Infallible;

use common::{config, make_spd, symmetric_values};
use proptest::prelude::*;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::objective::{
    MatrixValues, ResidualJacobian, SymmetricValues, ValueGradient, ValueGradientHessian,
};
use sparsediff_solve::newton::{FactorizationChoice, FactorizationKind, Newton, NewtonParams};
use sparsediff_solve::nonlinear::{NonlinearNewton, NonlinearParams};
use sparsediff_solve::observe::{History, Iterate};
use sparsediff_solve::trust_region::{TrustRegion, TrustRegionParams};
use sparsediff_solve::{DriverError, Pattern, Quantity, RegularizationParams, SolveError, Status};

// ---------------------------------------------------------------------------------------
// Problems, hand-written

/// Chained Rosenbrock with its analytic gradient and tridiagonal Hessian.
struct Rosenbrock {
    pattern: Pattern,
    h: Vec<f64>,
    hvps: usize,
}

impl Rosenbrock {
    fn new(n: usize) -> Self {
        let pattern = generators::band(n, 1, 1).unwrap();
        let h = vec![0.0; pattern.nnz()];
        Self {
            pattern,
            h,
            hvps: 0,
        }
    }

    fn start(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
            .collect()
    }
}

impl ValueGradient for Rosenbrock {
    type Error = Infallible;
    fn dim(&self) -> usize {
        self.pattern.nrows()
    }
    fn value(&mut self, x: &[f64]) -> Result<f64, Infallible> {
        Ok(x.windows(2)
            .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
            .sum())
    }
    fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Infallible> {
        g.fill(0.0);
        for i in 0..x.len() - 1 {
            let a = x[i + 1] - x[i] * x[i];
            g[i] += -400.0 * x[i] * a - 2.0 * (1.0 - x[i]);
            g[i + 1] += 200.0 * a;
        }
        self.value(x)
    }
}

impl ValueGradientHessian for Rosenbrock {
    fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, Infallible> {
        let n = x.len();
        for i in 0..n {
            let mut d = 0.0;
            if i + 1 < n {
                d += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
            }
            if i > 0 {
                d += 200.0;
            }
            for k in self.pattern.row_range(i) {
                let j = self.pattern.col_idx()[k];
                self.h[k] = if j == i { d } else { -400.0 * x[i.min(j)] };
            }
        }
        Ok(SymmetricValues {
            pattern: &self.pattern,
            values: &self.h,
        })
    }
    fn hessian_vector(&mut self, x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), Infallible> {
        self.hvps += 1;
        self.hessian(x)?.mul_vec(v, out);
        Ok(())
    }
}

/// f = ½xᵀAx + bᵀx on any symmetric pattern.
#[derive(Clone, Debug)]
struct Quadratic {
    pattern: Pattern,
    values: Vec<f64>,
    b: Vec<f64>,
}

impl Quadratic {
    fn ax(&self, x: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; x.len()];
        SymmetricValues {
            pattern: &self.pattern,
            values: &self.values,
        }
        .mul_vec(x, &mut out);
        out
    }
}

impl ValueGradient for Quadratic {
    type Error = Infallible;
    fn dim(&self) -> usize {
        self.b.len()
    }
    fn value(&mut self, x: &[f64]) -> Result<f64, Infallible> {
        let ax = self.ax(x);
        Ok((0..x.len())
            .map(|i| 0.5 * x[i] * ax[i] + self.b[i] * x[i])
            .sum())
    }
    fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Infallible> {
        let ax = self.ax(x);
        for i in 0..x.len() {
            g[i] = ax[i] + self.b[i];
        }
        self.value(x)
    }
}

impl ValueGradientHessian for Quadratic {
    fn hessian(&mut self, _: &[f64]) -> Result<SymmetricValues<'_>, Infallible> {
        Ok(SymmetricValues {
            pattern: &self.pattern,
            values: &self.values,
        })
    }
}

/// A separable objective Σ φ(xᵢ) from closures, with a diagonal Hessian: the tool for
/// numerical trouble.
struct Separable<V, G, H> {
    pattern: Pattern,
    h: Vec<f64>,
    value: V,
    grad: G,
    hess: H,
}

fn separable<V, G, H>(n: usize, value: V, grad: G, hess: H) -> Separable<V, G, H>
where
    V: Fn(f64) -> f64,
    G: Fn(f64) -> f64,
    H: Fn(f64) -> f64,
{
    Separable {
        pattern: Pattern::identity(n).unwrap(),
        h: vec![0.0; n],
        value,
        grad,
        hess,
    }
}

impl<V: Fn(f64) -> f64, G: Fn(f64) -> f64, H: Fn(f64) -> f64> ValueGradient for Separable<V, G, H> {
    type Error = Infallible;
    fn dim(&self) -> usize {
        self.h.len()
    }
    fn value(&mut self, x: &[f64]) -> Result<f64, Infallible> {
        Ok(x.iter().map(|&v| (self.value)(v)).sum())
    }
    fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Infallible> {
        for (g, &v) in g.iter_mut().zip(x) {
            *g = (self.grad)(v);
        }
        self.value(x)
    }
}

impl<V: Fn(f64) -> f64, G: Fn(f64) -> f64, H: Fn(f64) -> f64> ValueGradientHessian
    for Separable<V, G, H>
{
    fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, Infallible> {
        for (h, &v) in self.h.iter_mut().zip(x) {
            *h = (self.hess)(v);
        }
        Ok(SymmetricValues {
            pattern: &self.pattern,
            values: &self.h,
        })
    }
}

fn newton() -> Newton {
    Newton::new(NewtonParams::default()).unwrap()
}

fn trust_region() -> TrustRegion {
    TrustRegion::new(TrustRegionParams::default()).unwrap()
}

fn all_finite(x: &[f64]) -> bool {
    x.iter().all(|v| v.is_finite())
}

// ---------------------------------------------------------------------------------------
// Convergence

/// The local minimum of chained Rosenbrock for n ≥ 4 (x₀ ≈ −0.993, the rest ≈ 1).
const LOCAL_MIN: f64 = 3.986_623_854_3;

#[test]
fn newton_solves_chained_rosenbrock_with_the_band() {
    // From (−1.2, 1, −1.2, 1, …) the iterates fall to x ≈ 0.01 within a few steps and a
    // front then moves right by about one variable per 1.5 iterations, to the local
    // minimum for n ≥ 4; from 1.2·1 Newton converges in a few steps.
    for (n, x0, minimum) in [
        (2, Rosenbrock::start(2), 0.0),
        (3, Rosenbrock::start(3), 0.0),
        (60, Rosenbrock::start(60), LOCAL_MIN),
        (1000, vec![1.2; 1000], 0.0),
    ] {
        let mut f = Rosenbrock::new(n);
        let mut history = History::new();
        let sol = newton().minimize(&mut f, &x0, &mut history).unwrap();
        let i = &sol.info;
        assert_eq!(i.status, Status::Converged, "n = {n}: {i:?}");
        assert!(i.grad_inf <= 1e-8);
        assert!(
            (sol.value - minimum).abs() < 1e-8,
            "n = {n}: f = {}",
            sol.value
        );
        assert_eq!(i.factorization, Some(FactorizationKind::Band { beta: 1 }));
        assert_eq!(i.evaluations.symbolic_analyses, 1, "the analysis is reused");
        assert_eq!(i.evaluations.hessians, i.iterations);
        assert_eq!(i.regularization.len(), i.iterations);
        assert_eq!(history.rows.len(), i.iterations + 1, "x0 and every step");
        // Monotone decrease of f along the accepted iterates.
        assert!(
            history
                .rows
                .windows(2)
                .all(|w| w[1].1 <= w[0].1 * (1.0 + 1e-14))
        );
        assert!(
            i.iterations < 2 * n + 40,
            "n = {n}: {} iterations",
            i.iterations
        );
    }
    let sol = newton()
        .minimize(&mut Rosenbrock::new(1000), &[1.2; 1000], &mut ())
        .unwrap();
    assert!(
        sol.info.iterations <= 15,
        "{} iterations",
        sol.info.iterations
    );
}

#[test]
fn newton_regularises_an_indefinite_hessian_and_still_descends() {
    // Σ (xᵢ² − 1)²: H = 12x² − 4 < 0 at x = 0.1.
    let mut f = separable(
        5,
        |x| (x * x - 1.0).powi(2),
        |x| 4.0 * x * (x * x - 1.0),
        |x| 12.0 * x * x - 4.0,
    );
    let sol = newton().minimize(&mut f, &[0.1; 5], &mut ()).unwrap();
    assert_eq!(sol.info.status, Status::Converged);
    let (max_delta, steps) = sol.info.regularized_steps();
    assert!(max_delta > 3.88, "δ must exceed 4 − 12·0.01: {max_delta}");
    assert!(steps.contains(&0));
    assert!(sol.x.iter().all(|v| (v.abs() - 1.0).abs() < 1e-8));
}

#[test]
fn newton_takes_the_sparse_path_on_a_grid_and_the_band_when_forced() {
    let p = generators::grid2d(12, 12, Stencil2d::FivePoint).unwrap();
    let mut values = symmetric_values(&p, &[-0.5, 0.25, -1.0]);
    make_spd(&p, &mut values, 1.0);
    let b: Vec<f64> = (0..144).map(|i| (i % 7) as f64 - 3.0).collect();
    let mut f = Quadratic {
        pattern: p,
        values,
        b,
    };
    let sol = newton().minimize(&mut f, &[0.0; 144], &mut ()).unwrap();
    assert!(sol.info.status.is_converged());
    assert!(matches!(
        sol.info.factorization,
        Some(FactorizationKind::Sparse { .. })
    ));
    let params = NewtonParams {
        factorization: FactorizationChoice::Band,
        ..NewtonParams::default()
    };
    let sol = Newton::new(params)
        .unwrap()
        .minimize(&mut f, &[0.0; 144], &mut ())
        .unwrap();
    assert!(sol.info.status.is_converged());
    assert_eq!(
        sol.info.factorization,
        Some(FactorizationKind::Band { beta: 12 })
    );
}

/// A quadratic whose pattern changes after the first Hessian (a branch that widens it).
struct Widening {
    q: Quadratic,
    narrow: Pattern,
    narrow_values: Vec<f64>,
    calls: usize,
}

impl ValueGradient for Widening {
    type Error = Infallible;
    fn dim(&self) -> usize {
        self.q.dim()
    }
    fn value(&mut self, x: &[f64]) -> Result<f64, Infallible> {
        self.q.value(x)
    }
    fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Infallible> {
        self.q.gradient(x, g)
    }
}

impl ValueGradientHessian for Widening {
    fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, Infallible> {
        self.calls += 1;
        if self.calls == 1 {
            Ok(SymmetricValues {
                pattern: &self.narrow,
                values: &self.narrow_values,
            })
        } else {
            self.q.hessian(x)
        }
    }
}

#[test]
fn newton_redoes_the_analysis_when_the_pattern_changes() {
    let n = 30;
    let p = generators::band(n, 2, 2).unwrap();
    let mut values = symmetric_values(&p, &[0.3, -0.2, 0.1]);
    make_spd(&p, &mut values, 2.0);
    let narrow = Pattern::identity(n).unwrap();
    let mut f = Widening {
        q: Quadratic {
            pattern: p,
            values,
            b: vec![1.0; n],
        },
        narrow,
        narrow_values: vec![4.0; n],
        calls: 0,
    };
    let sol = newton().minimize(&mut f, &vec![0.0; n], &mut ()).unwrap();
    assert!(sol.info.status.is_converged());
    assert_eq!(sol.info.evaluations.symbolic_analyses, 2);
    assert_eq!(
        sol.info.factorization,
        Some(FactorizationKind::Band { beta: 2 })
    );
}

#[test]
fn trust_region_cg_solves_chained_rosenbrock_matrix_free() {
    let n = 200;
    let mut f = Rosenbrock::new(n);
    let sol = trust_region()
        .minimize(&mut f, &vec![1.2; n], &mut ())
        .unwrap();
    let i = &sol.info;
    assert_eq!(i.status, Status::Converged, "{i:?}");
    assert!(i.grad_inf <= 1e-8);
    assert!(sol.x.iter().all(|v| (v - 1.0).abs() < 1e-6));
    assert_eq!(i.evaluations.hessians, 0, "matrix-free: no Hessian values");
    assert_eq!(i.evaluations.hessian_vectors, f.hvps);
    assert_eq!(i.evaluations.products, f.hvps);
    assert_eq!(i.cg_iterations, f.hvps);
}

#[test]
fn trust_region_with_the_diagonal_preconditioner() {
    // A badly scaled diagonal-dominant quadratic: the Jacobi preconditioner makes CG exact
    // on the diagonal part.
    let n = 50;
    let p = generators::band(n, 1, 1).unwrap();
    let mut values: Vec<f64> = p
        .iter()
        .map(|(i, j)| {
            if i == j {
                10f64.powi((i % 6) as i32)
            } else {
                0.1
            }
        })
        .collect();
    make_spd(&p, &mut values, 0.0);
    for (k, (i, j)) in p.iter().enumerate() {
        if i == j {
            values[k] += 10f64.powi((i % 6) as i32);
        }
    }
    let diag: Vec<f64> = (0..n).map(|i| values[p.position(i, i).unwrap()]).collect();
    let mut f = Quadratic {
        pattern: p,
        values,
        b: vec![1.0; n],
    };
    let plain = trust_region()
        .minimize(&mut f, &vec![0.0; n], &mut ())
        .unwrap();
    let mut tr = trust_region();
    tr.set_diagonal(Some(&diag), 1e-12).unwrap();
    let pre = tr.minimize(&mut f, &vec![0.0; n], &mut ()).unwrap();
    assert!(plain.info.status.is_converged() && pre.info.status.is_converged());
    assert!(
        pre.info.cg_iterations < plain.info.cg_iterations,
        "preconditioned {} vs plain {}",
        pre.info.cg_iterations,
        plain.info.cg_iterations
    );
    // Bad preconditioners are named errors.
    assert!(tr.set_diagonal(Some(&[f64::NAN; 50]), 1e-12).is_err());
    assert!(tr.set_diagonal(Some(&[0.0; 50]), 1e-12).is_err());
    tr.set_diagonal(Some(&[1.0; 3]), 1e-12).unwrap();
    assert!(matches!(
        tr.minimize(&mut f, &vec![0.0; n], &mut ()),
        Err(DriverError::LengthMismatch { .. })
    ));
}

#[test]
fn trust_region_follows_negative_curvature() {
    // Σ (xᵢ² − 1)² from 0.1: indefinite Hessian at the start.
    let mut f = separable(
        4,
        |x| (x * x - 1.0).powi(2),
        |x| 4.0 * x * (x * x - 1.0),
        |x| 12.0 * x * x - 4.0,
    );
    let sol = trust_region().minimize(&mut f, &[0.1; 4], &mut ()).unwrap();
    assert!(sol.info.status.is_converged(), "{:?}", sol.info);
    assert!(sol.x.iter().all(|v| (v.abs() - 1.0).abs() < 1e-8));
}

// ---------------------------------------------------------------------------------------
// Bad input and numerical trouble: a named status (or error) and the best point

#[test]
fn bad_starting_points_are_errors_before_any_evaluation() {
    let mut f = Rosenbrock::new(4);
    assert!(matches!(
        newton().minimize(&mut f, &[1.0, f64::NAN, 1.0, 1.0], &mut ()),
        Err(DriverError::NonFiniteStart { index: 1, value }) if value.is_nan()
    ));
    assert!(matches!(
        newton().minimize(&mut f, &[1.0; 3], &mut ()),
        Err(DriverError::LengthMismatch {
            expected: 4,
            got: 3,
            ..
        })
    ));
    assert!(matches!(
        trust_region().minimize(&mut f, &[f64::INFINITY; 4], &mut ()),
        Err(DriverError::NonFiniteStart { index: 0, .. })
    ));
    let params = NewtonParams {
        grad_tol: -1.0,
        ..NewtonParams::default()
    };
    assert!(matches!(
        Newton::new(params),
        Err(DriverError::InvalidParameter {
            param: "grad_tol",
            ..
        })
    ));
}

#[test]
fn non_finite_gradient_after_a_step_keeps_the_last_good_point() {
    // f = Σ (x − 1)²; the gradient is NaN near the minimum (|x − 1| < 0.1).
    let mut f = separable(
        3,
        |x| (x - 1.0).powi(2),
        |x| {
            if (x - 1.0).abs() < 0.1 {
                f64::NAN
            } else {
                2.0 * (x - 1.0)
            }
        },
        |_| 2.0,
    );
    let x0 = [3.0, 4.0, 5.0];
    let sol = newton().minimize(&mut f, &x0, &mut ()).unwrap();
    assert_eq!(
        sol.info.status,
        Status::NonFinite {
            what: Quantity::Gradient
        }
    );
    assert_eq!(sol.x, x0, "the last point with a finite gradient");
    assert!(sol.value.is_finite() && sol.info.grad_inf.is_finite());
    let sol = trust_region().minimize(&mut f, &x0, &mut ()).unwrap();
    assert_eq!(
        sol.info.status,
        Status::NonFinite {
            what: Quantity::Gradient
        }
    );
    assert!(all_finite(&sol.x) && sol.value.is_finite());
}

#[test]
fn non_finite_hessian_and_value_are_named() {
    let mut f = separable(3, |x| x * x, |x| 2.0 * x, |_| f64::INFINITY);
    let sol = newton().minimize(&mut f, &[1.0; 3], &mut ()).unwrap();
    assert_eq!(
        sol.info.status,
        Status::NonFinite {
            what: Quantity::Hessian
        }
    );
    assert_eq!(sol.x, [1.0; 3]);
    // Trust region: the products are non-finite.
    let sol = trust_region().minimize(&mut f, &[1.0; 3], &mut ()).unwrap();
    assert_eq!(
        sol.info.status,
        Status::NonFinite {
            what: Quantity::HessianVector
        }
    );
    // A NaN value at x0.
    let mut f = separable(2, |_| f64::NAN, |x| x, |_| 1.0);
    let sol = newton().minimize(&mut f, &[1.0; 2], &mut ()).unwrap();
    assert_eq!(
        sol.info.status,
        Status::NonFinite {
            what: Quantity::Value
        }
    );
    assert_eq!(sol.x, [1.0; 2]);
}

#[test]
fn the_line_search_backs_off_from_points_outside_the_domain() {
    // f = Σ (xᵢ − ln xᵢ): minimum at 1, ∞ for x ≤ 0; the full Newton step from x = 3
    // lands at 3 − 3·2/… < 0.
    let mut f = separable(
        2,
        |x| if x > 0.0 { x - x.ln() } else { f64::INFINITY },
        |x| 1.0 - 1.0 / x,
        |x| 1.0 / (x * x),
    );
    let sol = newton().minimize(&mut f, &[3.0, 0.2], &mut ()).unwrap();
    assert!(sol.info.status.is_converged(), "{:?}", sol.info);
    assert!(sol.info.backtracks > 0);
    assert!(sol.x.iter().all(|v| (v - 1.0).abs() < 1e-8));
}

#[test]
fn a_hessian_indefinite_past_the_delta_limit_is_regularization_limit() {
    // f = −Σ x² is unbounded below, H = −2I: no δ ≤ δ_max = 1 makes H + δI PD.
    let params = NewtonParams {
        regularization: RegularizationParams {
            delta_max: 1.0,
            ..RegularizationParams::default()
        },
        ..NewtonParams::default()
    };
    let mut f = separable(3, |x| -x * x, |x| -2.0 * x, |_| -2.0);
    let x0 = [0.5, -0.5, 1.0];
    let sol = Newton::new(params)
        .unwrap()
        .minimize(&mut f, &x0, &mut ())
        .unwrap();
    assert!(matches!(
        sol.info.status,
        Status::RegularizationLimit { last_delta } if last_delta <= 1.0
    ));
    assert_eq!(sol.x, x0);
    assert!(sol.info.evaluations.factorizations > 1);
}

#[test]
fn a_line_search_that_cannot_decrease_is_named() {
    // The gradient has the wrong sign: every "descent" direction goes uphill.
    let mut f = separable(2, |x| x * x, |x| -2.0 * x, |_| 2.0);
    let x0 = [1.0, 2.0];
    let sol = newton().minimize(&mut f, &x0, &mut ()).unwrap();
    assert_eq!(sol.info.status, Status::LineSearchFailed);
    assert_eq!(sol.x, x0);
    assert_eq!(sol.value, 5.0);
    // The trust region rejects every step until the radius collapses.
    let sol = trust_region().minimize(&mut f, &x0, &mut ()).unwrap();
    assert_eq!(sol.info.status, Status::RadiusTooSmall);
    assert_eq!(sol.x, x0);
}

#[test]
fn a_band_wider_than_the_matrix_and_a_bad_pattern_are_factorization_failures() {
    let mut f = Rosenbrock::new(4);
    let params = NewtonParams {
        factorization: FactorizationChoice::BandWidth(4),
        ..NewtonParams::default()
    };
    let x0 = Rosenbrock::start(4);
    let sol = Newton::new(params)
        .unwrap()
        .minimize(&mut f, &x0, &mut ())
        .unwrap();
    assert_eq!(
        sol.info.status,
        Status::FactorizationFailed(SolveError::BandTooWide { beta: 4, n: 4 })
    );
    assert_eq!(sol.x, x0);
    // A declared band that misses entries.
    let params = NewtonParams {
        factorization: FactorizationChoice::BandWidth(0),
        ..NewtonParams::default()
    };
    let sol = Newton::new(params)
        .unwrap()
        .minimize(&mut f, &x0, &mut ())
        .unwrap();
    assert!(matches!(
        sol.info.status,
        Status::FactorizationFailed(SolveError::OutsideBand { beta: 0, .. })
    ));
    // An unsymmetric "Hessian" pattern.
    let mut q = Quadratic {
        pattern: Pattern::from_entries(2, 2, [(0, 0), (0, 1), (1, 1)]).unwrap(),
        values: vec![1.0, 0.5, 1.0],
        b: vec![1.0, 1.0],
    };
    let sol = newton().minimize(&mut q, &[0.0, 0.0], &mut ()).unwrap();
    assert!(matches!(
        sol.info.status,
        Status::FactorizationFailed(SolveError::NotSymmetric { .. })
    ));
}

/// An objective that fails after a number of gradient evaluations.
struct Failing {
    inner: Rosenbrock,
    left: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("the model diverged")]
struct ModelError;

impl ValueGradient for Failing {
    type Error = ModelError;
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn value(&mut self, x: &[f64]) -> Result<f64, ModelError> {
        Ok(self.inner.value(x).unwrap_or(f64::NAN))
    }
    fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, ModelError> {
        if self.left == 0 {
            return Err(ModelError);
        }
        self.left -= 1;
        Ok(self.inner.gradient(x, g).unwrap_or(f64::NAN))
    }
}

impl ValueGradientHessian for Failing {
    fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, ModelError> {
        Ok(self.inner.hessian(x).unwrap_or_else(|e| match e {}))
    }
}

#[test]
fn an_evaluation_error_ends_the_run_with_the_error_and_the_best_point() {
    let mut f = Failing {
        inner: Rosenbrock::new(6),
        left: 3,
    };
    let sol = newton()
        .minimize(&mut f, &Rosenbrock::start(6), &mut ())
        .unwrap();
    assert_eq!(sol.info.status, Status::EvaluationFailed);
    assert_eq!(sol.error, Some(ModelError));
    assert_eq!(sol.info.iterations, 2, "two steps had gradients");
    assert!(all_finite(&sol.x) && sol.value.is_finite());
}

// ---------------------------------------------------------------------------------------
// Newton for F(x) = 0

/// F from closures on a given pattern (Jacobian values from a closure too).
struct System<R, J> {
    pattern: Pattern,
    values: Vec<f64>,
    residual: R,
    jacobian: J,
}

impl<R, J> ResidualJacobian for System<R, J>
where
    R: Fn(&[f64], &mut [f64]),
    J: Fn(&[f64], &mut [f64]),
{
    type Error = Infallible;
    fn dim(&self) -> usize {
        self.pattern.ncols()
    }
    fn num_residuals(&self) -> usize {
        self.pattern.nrows()
    }
    fn residual(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), Infallible> {
        (self.residual)(x, out);
        Ok(())
    }
    fn jacobian(&mut self, x: &[f64]) -> Result<MatrixValues<'_>, Infallible> {
        (self.jacobian)(x, &mut self.values);
        Ok(MatrixValues {
            pattern: &self.pattern,
            values: &self.values,
        })
    }
}

/// The 1-D Bratu problem −u'' = λeᵘ (λ = 1), n interior points.
/// A residual or Jacobian rule of a [`System`].
type Rule = Box<dyn Fn(&[f64], &mut [f64])>;

fn bratu_1d(n: usize) -> System<Rule, Rule> {
    let pattern = generators::band(n, 1, 1).unwrap();
    let h2 = (1.0 / (n as f64 + 1.0)).powi(2);
    let p2 = pattern.clone();
    System {
        values: vec![0.0; pattern.nnz()],
        pattern,
        residual: Box::new(move |u: &[f64], out: &mut [f64]| {
            let n = u.len();
            for i in 0..n {
                let l = if i > 0 { u[i - 1] } else { 0.0 };
                let r = if i + 1 < n { u[i + 1] } else { 0.0 };
                out[i] = (2.0 * u[i] - l - r) / h2 - u[i].exp();
            }
        }),
        jacobian: Box::new(move |u: &[f64], v: &mut [f64]| {
            for (k, (i, j)) in p2.iter().enumerate() {
                v[k] = if i == j {
                    2.0 / h2 - u[i].exp()
                } else {
                    -1.0 / h2
                };
            }
        }),
    }
}

#[test]
fn nonlinear_newton_solves_bratu_1d_with_the_lu() {
    let n = 500;
    let mut f = bratu_1d(n);
    let mut seen = Vec::new();
    let mut observe = |it: &Iterate<'_>| seen.push(it.measure);
    let sol = NonlinearNewton::new(NonlinearParams::default())
        .unwrap()
        .solve(&mut f, &vec![0.0; n], &mut observe)
        .unwrap();
    let i = &sol.info;
    assert_eq!(i.status, Status::Converged, "{i:?}");
    assert!(i.residual_inf <= 1e-10);
    assert!(i.iterations <= 6, "quadratic convergence: {}", i.iterations);
    assert_eq!(i.evaluations.symbolic_analyses, 1);
    assert_eq!(i.evaluations.factorizations, i.iterations);
    assert_eq!(seen.len(), i.iterations + 1);
    // The lower branch of 1-D Bratu at λ = 1: max u ≈ 0.1405.
    let max = sol.x.iter().copied().fold(0.0, f64::max);
    assert!((max - 0.1405).abs() < 1e-3, "{max}");
}

#[test]
fn a_singular_jacobian_is_named_with_the_best_point() {
    // F = (x0 + x1 − 2, x0 + x1 − 2): J = [[1, 1], [1, 1]] is singular everywhere.
    let mut f = System {
        pattern: Pattern::dense(2, 2).unwrap(),
        values: vec![0.0; 4],
        residual: |x: &[f64], out: &mut [f64]| {
            out[0] = x[0] + x[1] - 2.0;
            out[1] = x[0] + x[1] - 2.0;
        },
        jacobian: |_: &[f64], v: &mut [f64]| v.fill(1.0),
    };
    let sol = NonlinearNewton::new(NonlinearParams::default())
        .unwrap()
        .solve(&mut f, &[3.0, 4.0], &mut ())
        .unwrap();
    assert!(
        matches!(sol.info.status, Status::Singular { .. }),
        "{:?}",
        sol.info
    );
    assert_eq!(sol.x, [3.0, 4.0]);
    assert_eq!(sol.value, 25.0); // ½(5² + 5²)
}

#[test]
fn nonlinear_bad_input_and_non_finite_residuals() {
    // Not square.
    let mut f = System {
        pattern: Pattern::dense(1, 2).unwrap(),
        values: vec![0.0; 2],
        residual: |x: &[f64], out: &mut [f64]| out[0] = x[0] + x[1],
        jacobian: |_: &[f64], v: &mut [f64]| v.fill(1.0),
    };
    let mut newton = NonlinearNewton::new(NonlinearParams::default()).unwrap();
    assert_eq!(
        newton.solve(&mut f, &[0.0, 0.0], &mut ()).unwrap_err(),
        DriverError::NotSquare {
            residuals: 1,
            unknowns: 2
        }
    );
    // F non-finite at x0.
    let mut g = System {
        pattern: Pattern::identity(2).unwrap(),
        values: vec![0.0; 2],
        residual: |x: &[f64], out: &mut [f64]| {
            out[0] = x[0].ln();
            out[1] = x[1];
        },
        jacobian: |x: &[f64], v: &mut [f64]| {
            v[0] = 1.0 / x[0];
            v[1] = 1.0;
        },
    };
    let sol = newton.solve(&mut g, &[-1.0, 1.0], &mut ()).unwrap();
    assert_eq!(
        sol.info.status,
        Status::NonFinite {
            what: Quantity::Residual
        }
    );
    assert_eq!(sol.x, [-1.0, 1.0]);
    // From a good start the line search keeps ln's argument positive: x0 → 1.
    let sol = newton.solve(&mut g, &[5.0, 1.0], &mut ()).unwrap();
    assert!(sol.info.status.is_converged(), "{:?}", sol.info);
    assert!((sol.x[0] - 1.0).abs() < 1e-10);
}

// ---------------------------------------------------------------------------------------
// Property tests: random SPD quadratics

/// A random SPD quadratic on a band (β ≤ 4) or a random symmetric pattern.
fn quadratic_strategy() -> impl Strategy<Value = Quadratic> {
    (
        2usize..60,
        0usize..5,
        any::<bool>(),
        prop::collection::vec(-1.0f64..1.0, 1..40),
        any::<u64>(),
        0.1f64..10.0,
    )
        .prop_map(|(n, beta, band, raw, seed, margin)| {
            let pattern = if band {
                let beta = beta.min(n - 1);
                generators::band(n, beta, beta).unwrap()
            } else {
                let p = generators::random_symmetric(n, 0.15, seed).unwrap();
                // Every diagonal present.
                let mut e: Vec<(usize, usize)> = p.iter().collect();
                e.extend((0..n).map(|i| (i, i)));
                Pattern::from_entries(n, n, e).unwrap()
            };
            let mut values = symmetric_values(&pattern, &raw);
            make_spd(&pattern, &mut values, margin);
            let b = (0..n).map(|i| raw[i % raw.len()] * 3.0 + 0.5).collect();
            Quadratic { pattern, values, b }
        })
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn newton_solves_a_convex_quadratic_in_one_step(mut q in quadratic_strategy()) {
        let n = q.dim();
        let sol = newton().minimize(&mut q, &vec![0.0; n], &mut ()).unwrap();
        let scale = q.b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        prop_assert_eq!(&sol.info.status, &Status::Converged);
        prop_assert!(sol.info.iterations <= 1, "{} iterations", sol.info.iterations);
        prop_assert_eq!(sol.info.regularized_steps().0, 0.0);
        prop_assert!(sol.info.grad_inf <= 1e-8 * scale);
    }

    #[test]
    fn trust_region_cg_converges_on_a_convex_quadratic(mut q in quadratic_strategy()) {
        let n = q.dim();
        let sol = trust_region().minimize(&mut q, &vec![0.0; n], &mut ()).unwrap();
        prop_assert_eq!(&sol.info.status, &Status::Converged, "{:?}", sol.info);
        prop_assert!(sol.info.grad_inf <= 1e-8);
        prop_assert_eq!(sol.info.evaluations.hessians, 0);
    }
}

// ---------------------------------------------------------------------------------------
// argmin

#[cfg(feature = "argmin")]
mod argmin_interop {
    use super::*;
    use argmin::core::{Executor, State};
    use argmin::solver::linesearch::MoreThuenteLineSearch;
    use argmin::solver::newton::NewtonCG;
    use sparsediff_solve::argmin::{ArgminProblem, LbfgsParams, lbfgs};

    #[test]
    fn lbfgs_solves_chained_rosenbrock() {
        let n = 100;
        let mut seen = 0;
        let mut observe = |_: &Iterate<'_>| seen += 1;
        let sol = lbfgs(
            Rosenbrock::new(n),
            &Rosenbrock::start(n),
            LbfgsParams::default(),
            &mut observe,
        )
        .unwrap();
        assert!(sol.info.status.is_converged(), "{:?}", sol.info);
        assert!(sol.info.grad_inf <= 1e-8);
        assert!(sol.x.iter().all(|v| (v - 1.0).abs() < 1e-6));
        assert_eq!(seen, sol.info.iterations + 1);
    }

    #[test]
    fn lbfgs_names_a_non_finite_gradient_and_keeps_the_best_point() {
        let f = separable(
            2,
            |x| (x - 1.0).powi(2),
            |x| {
                if (x - 1.0).abs() < 0.5 {
                    f64::NAN
                } else {
                    2.0 * (x - 1.0)
                }
            },
            |_| 2.0,
        );
        let sol = lbfgs(f, &[4.0, 5.0], LbfgsParams::default(), &mut ()).unwrap();
        assert_eq!(
            sol.info.status,
            Status::NonFinite {
                what: Quantity::Gradient
            }
        );
        assert!(all_finite(&sol.x) && sol.value.is_finite() && sol.value <= 25.0);
    }

    #[test]
    fn argmin_newton_cg_takes_the_sparse_hessian() {
        // A convex quadratic on a tridiagonal pattern: argmin's Newton–CG applies our
        // CsrHessian as its operator and finds A·x = −b.
        let n = 300;
        let pattern = generators::band(n, 1, 1).unwrap();
        let values = pattern
            .iter()
            .map(|(i, j)| if i == j { 4.0 } else { -1.0 })
            .collect();
        let q = Quadratic {
            pattern,
            values,
            b: (0..n).map(|i| (i % 5) as f64 - 2.0).collect(),
        };
        let problem = ArgminProblem::new(q.clone());
        let solver = NewtonCG::new(MoreThuenteLineSearch::new());
        let mut res = Executor::new(problem, solver)
            .configure(|s| s.param(vec![0.0; n]).max_iters(20))
            .run()
            .unwrap();
        let x = res.state().get_best_param().unwrap();
        let r = q.ax(x);
        let residual = (0..n).map(|i| (r[i] + q.b[i]).abs()).fold(0.0, f64::max);
        // argmin's Newton–CG stops when f changes by less than ε, at ‖∇f‖ ≈ 1e-7 here.
        assert!(residual < 1e-6, "‖Ax + b‖∞ = {residual}");
        let problem = res.problem.take_problem().unwrap();
        assert!(problem.evaluations().hessians >= 1);
    }
}

#[test]
fn nonmonotone_search_accepts_a_rise_within_its_memory_and_still_converges() {
    // Rosenbrock, n = 10, from the alternating start: with a memory of 10 the values along
    // the run may rise above an earlier one but never above the largest of the last 10,
    // and the run converges like the monotone one.
    let n = 10;
    let params = NewtonParams {
        nonmonotone_memory: 10,
        ..NewtonParams::default()
    };
    let mut history = History::new();
    let sol = Newton::new(params)
        .unwrap()
        .minimize(&mut Rosenbrock::new(n), &Rosenbrock::start(n), &mut history)
        .unwrap();
    assert_eq!(sol.info.status, Status::Converged);
    let values: Vec<f64> = history.rows.iter().map(|r| r.1).collect();
    for k in 1..values.len() {
        let reference = values[k.saturating_sub(10)..k]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        assert!(
            values[k] <= reference,
            "step {k}: {} > {reference}",
            values[k]
        );
    }
    let rises = values.windows(2).filter(|w| w[1] > w[0]).count();
    println!("{rises} rises in {} steps", values.len() - 1);
    assert!(rises > 0, "the run never used its memory");
    assert!(matches!(
        Newton::new(NewtonParams {
            nonmonotone_memory: 0,
            ..NewtonParams::default()
        }),
        Err(DriverError::InvalidParameter {
            param: "nonmonotone_memory",
            ..
        })
    ));
}
