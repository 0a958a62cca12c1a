//! Trust-region Newton with the Steihaug–Toint truncated conjugate gradient, matrix-free:
//! only Hessian-vector products ([`ValueGradientHessian::hessian_vector`]) are used, never
//! the Hessian's values, and every product is counted.
//!
//! Cache / engine / driver: [`TrustRegionParams`] tune it; [`TrustRegion`] owns the
//! workspace (iterate, gradient, CG vectors, the optional diagonal preconditioner);
//! [`TrustRegion::step`] is one trial step; [`TrustRegion::minimize`] the loop.
//!
//! # The iteration (Nocedal & Wright, Algorithms 4.1 and 7.2; Steihaug 1983; Toint 1981)
//!
//! At x with gradient g and radius Δ, CG on H·p = −g from p = 0, preconditioned by
//! M = diag(m) when one is set (the region is then ‖p‖_M ≤ Δ, ‖p‖²_M = Σ mᵢpᵢ²), stops
//!
//! * at negative (or zero) curvature dᵀHd ≤ 0, or when the next iterate leaves the region:
//!   it follows d to the boundary;
//! * when the residual ‖r‖₂ ≤ η·‖g‖₂ with the forcing term η = min(`cg_forcing`, √‖g‖₂)
//!   (superlinear convergence near the solution);
//! * after `max_cg_iterations`.
//!
//! The model decrease −m(p) = −(gᵀp + ½pᵀHp) is tracked through the CG recurrence (no extra
//! product). With ρ = (f(x) − f(x + p)) / (−m(p)) the step is accepted when ρ > `eta`; the
//! radius shrinks to `shrink`·‖p‖_M when ρ < ¼ and grows by `expand` (up to `max_radius`)
//! when ρ > ¾ and the step reached the boundary. A trial point with a non-finite value
//! counts as ρ = −∞. When both the predicted and the actual decrease are below the
//! rounding level of f (10³ ε·|f|), f cannot judge the step: the gradient is evaluated at
//! the trial point and the step counts as ρ = 1 if ‖∇f‖∞ decreased, else as ρ = −∞. The
//! run stops with [`Status::RadiusTooSmall`] when Δ falls below
//! `min_radius`.
//!
//! ```
//! use sparsediff_pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};
//! use sparsediff_pattern::{generators, Pattern};
//! use sparsediff_solve::trust_region::{TrustRegion, TrustRegionParams};
//!
//! /// f = Σ (xᵢ − 1)⁴ + ½‖x‖²: convex, diagonal Hessian 12(xᵢ − 1)² + 1.
//! struct F { pattern: Pattern, h: Vec<f64> }
//! impl ValueGradient for F {
//!     type Error = std::convert::Infallible;
//!     fn dim(&self) -> usize { self.h.len() }
//!     fn value(&mut self, x: &[f64]) -> Result<f64, Self::Error> {
//!         Ok(x.iter().map(|v| (v - 1.0).powi(4) + 0.5 * v * v).sum())
//!     }
//!     fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Self::Error> {
//!         for (g, v) in g.iter_mut().zip(x) { *g = 4.0 * (v - 1.0).powi(3) + v; }
//!         self.value(x)
//!     }
//! }
//! impl ValueGradientHessian for F {
//!     fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, Self::Error> {
//!         for (h, v) in self.h.iter_mut().zip(x) { *h = 12.0 * (v - 1.0).powi(2) + 1.0; }
//!         Ok(SymmetricValues { pattern: &self.pattern, values: &self.h })
//!     }
//! }
//! let mut f = F { pattern: Pattern::identity(4)?, h: vec![0.0; 4] };
//! let mut tr = TrustRegion::new(TrustRegionParams::default())?;
//! let sol = tr.minimize(&mut f, &[3.0; 4], &mut ())?;
//! assert!(sol.info.status.is_converged() && sol.info.grad_inf <= 1e-8);
//! assert!(sol.info.evaluations.hessian_vectors > 0); // matrix-free
//! assert_eq!(sol.info.evaluations.hessians, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Instant;

use sparsediff_pattern::objective::ValueGradientHessian;

use crate::driver::{
    DriverError, Evaluations, PhaseTimes, Quantity, Solution, Status, StepError,
    check_non_negative, check_open, check_start, dot, gradient_at, norm_inf,
};
use crate::observe::{Iterate, Observer};

/// Tuning of [`TrustRegion`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrustRegionParams {
    /// Stop when ‖∇f‖∞ ≤ `grad_tol` (finite, ≥ 0). Default 1e-8.
    pub grad_tol: f64,
    /// Most trial steps (accepted or not). Default 1000.
    pub max_iterations: usize,
    /// First radius Δ₀ (finite, > 0). Default 1.
    pub initial_radius: f64,
    /// Largest radius (finite, ≥ `initial_radius`). Default 1e10.
    pub max_radius: f64,
    /// Stop with [`Status::RadiusTooSmall`] below this radius (finite, ≥ 0). Default 1e-14.
    pub min_radius: f64,
    /// Accept a step when ρ > `eta` (in [0, ¼)). Default 1e-4.
    pub eta: f64,
    /// Radius factor after a poor step (ρ < ¼), in (0, 1). Default 0.25.
    pub shrink: f64,
    /// Radius factor after a very good step on the boundary (ρ > ¾), > 1. Default 2.
    pub expand: f64,
    /// Largest forcing term η of the CG stopping test ‖r‖ ≤ η‖g‖, in (0, 1). Default 0.5.
    pub cg_forcing: f64,
    /// Most CG iterations per step (0: n). Default 0.
    pub max_cg_iterations: usize,
}

impl Default for TrustRegionParams {
    fn default() -> Self {
        Self {
            grad_tol: 1e-8,
            max_iterations: 1000,
            initial_radius: 1.0,
            max_radius: 1e10,
            min_radius: 1e-14,
            eta: 1e-4,
            shrink: 0.25,
            expand: 2.0,
            cg_forcing: 0.5,
            max_cg_iterations: 0,
        }
    }
}

impl TrustRegionParams {
    fn check(&self) -> Result<(), DriverError> {
        check_non_negative("grad_tol", self.grad_tol)?;
        check_open(
            "initial_radius",
            self.initial_radius,
            0.0,
            f64::INFINITY,
            "must be finite and positive",
        )?;
        if !(self.max_radius.is_finite() && self.max_radius >= self.initial_radius) {
            return Err(DriverError::InvalidParameter {
                param: "max_radius",
                value: self.max_radius,
                reason: "must be finite and at least initial_radius",
            });
        }
        check_non_negative("min_radius", self.min_radius)?;
        if !(self.eta >= 0.0 && self.eta < 0.25) {
            return Err(DriverError::InvalidParameter {
                param: "eta",
                value: self.eta,
                reason: "must lie in [0, 1/4)",
            });
        }
        check_open("shrink", self.shrink, 0.0, 1.0, "must lie in (0, 1)")?;
        check_open(
            "expand",
            self.expand,
            1.0,
            f64::INFINITY,
            "must be finite and greater than 1",
        )?;
        check_open(
            "cg_forcing",
            self.cg_forcing,
            0.0,
            1.0,
            "must lie in (0, 1)",
        )
    }
}

/// What a [`TrustRegion`] run did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustRegionInfo {
    /// How it ended.
    pub status: Status,
    /// Trial steps (accepted or rejected).
    pub iterations: usize,
    /// Accepted steps.
    pub accepted: usize,
    /// CG iterations over the run.
    pub cg_iterations: usize,
    /// ‖∇f‖∞ at the returned point (NaN if no gradient could be had at x0).
    pub grad_inf: f64,
    /// The radius at the end.
    pub radius: f64,
    /// Evaluations and products (`hessian_vectors` = `products`).
    pub evaluations: Evaluations,
    /// Time per phase (`hessian`: the products; `solve`: the CG vector work).
    pub times: PhaseTimes,
}

impl Default for TrustRegionInfo {
    fn default() -> Self {
        Self {
            status: Status::MaxIterations,
            iterations: 0,
            accepted: 0,
            cg_iterations: 0,
            grad_inf: f64::NAN,
            radius: f64::NAN,
            evaluations: Evaluations::default(),
            times: PhaseTimes::default(),
        }
    }
}

/// How the CG of one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgEnd {
    /// The residual test held inside the region.
    Converged,
    /// Negative or zero curvature: followed to the boundary.
    NegativeCurvature,
    /// The iterate left the region: stopped on the boundary.
    Boundary,
    /// `max_cg_iterations` reached inside the region.
    MaxIterations,
}

/// What one trial step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrustRegionStep {
    /// Whether the step was accepted.
    pub accepted: bool,
    /// ρ, actual over predicted decrease (−∞ for a non-finite trial value).
    pub rho: f64,
    /// ‖p‖_M of the step.
    pub step_norm: f64,
    /// ‖p‖∞ of the step (0 if rejected).
    pub step_inf: f64,
    /// The radius after the update.
    pub radius: f64,
    /// CG iterations.
    pub cg_iterations: usize,
    /// How CG ended.
    pub cg_end: CgEnd,
}

#[derive(Debug)]
struct Workspace {
    x: Vec<f64>,
    g: Vec<f64>,
    /// CG iterate (the step).
    z: Vec<f64>,
    r: Vec<f64>,
    y: Vec<f64>,
    d: Vec<f64>,
    hd: Vec<f64>,
    trial: Vec<f64>,
    g_trial: Vec<f64>,
    value: f64,
    grad_inf: f64,
    radius: f64,
}

impl Workspace {
    fn new(n: usize) -> Self {
        let v = || vec![0.0; n];
        Self {
            x: v(),
            g: v(),
            z: v(),
            r: v(),
            y: v(),
            d: v(),
            hd: v(),
            trial: v(),
            g_trial: v(),
            value: f64::NAN,
            grad_inf: f64::NAN,
            radius: f64::NAN,
        }
    }
}

/// The trust-region Newton–CG method (see the [module docs](self)).
#[derive(Debug)]
pub struct TrustRegion {
    params: TrustRegionParams,
    ws: Workspace,
    /// Diagonal preconditioner M = diag(m), all entries finite and positive.
    diagonal: Option<Vec<f64>>,
}

impl TrustRegion {
    /// A solver with these parameters. Errors: [`DriverError::InvalidParameter`].
    pub fn new(params: TrustRegionParams) -> Result<Self, DriverError> {
        params.check()?;
        Ok(Self {
            params,
            ws: Workspace::new(0),
            diagonal: None,
        })
    }

    /// Preconditions CG by M = diag(|mᵢ|) (for instance the Hessian's diagonal, exact or
    /// estimated), with entries below `floor·max|mᵢ|` raised to it so M stays positive
    /// definite; `None` removes the preconditioner. Takes effect from the next step.
    ///
    /// Errors: [`DriverError::InvalidParameter`] when an entry is not finite, all entries
    /// are zero, or `floor` is not in (0, 1].
    pub fn set_diagonal(
        &mut self,
        diagonal: Option<&[f64]>,
        floor: f64,
    ) -> Result<(), DriverError> {
        let Some(d) = diagonal else {
            self.diagonal = None;
            return Ok(());
        };
        if !(floor > 0.0 && floor <= 1.0) {
            return Err(DriverError::InvalidParameter {
                param: "floor",
                value: floor,
                reason: "must lie in (0, 1]",
            });
        }
        if let Some(index) = sparsediff_pattern::first_non_finite(d) {
            return Err(DriverError::InvalidParameter {
                param: "diagonal",
                value: d[index],
                reason: "every entry must be finite",
            });
        }
        let max = norm_inf(d);
        if max <= 0.0 {
            return Err(DriverError::InvalidParameter {
                param: "diagonal",
                value: 0.0,
                reason: "must have a nonzero entry",
            });
        }
        let lo = floor * max;
        self.diagonal = Some(d.iter().map(|v| v.abs().max(lo)).collect());
        Ok(())
    }

    /// The parameters.
    pub fn params(&self) -> &TrustRegionParams {
        &self.params
    }

    /// The current iterate.
    pub fn x(&self) -> &[f64] {
        &self.ws.x
    }

    /// Minimises `f` from `x0` (see [`Newton::minimize`](crate::newton::Newton::minimize)
    /// for what is an error and what a status). A preconditioner of the wrong length is a
    /// [`DriverError::LengthMismatch`].
    pub fn minimize<F, O>(
        &mut self,
        f: &mut F,
        x0: &[f64],
        observer: &mut O,
    ) -> Result<Solution<TrustRegionInfo, F::Error>, DriverError>
    where
        F: ValueGradientHessian + ?Sized,
        O: Observer + ?Sized,
    {
        let n = f.dim();
        check_start(n, x0)?;
        if let Some(d) = &self.diagonal
            && d.len() != n
        {
            return Err(DriverError::LengthMismatch {
                what: "diagonal preconditioner",
                expected: n,
                got: d.len(),
            });
        }
        let start = Instant::now();
        let mut info = TrustRegionInfo::default();
        let end = self.run(f, x0, observer, &mut info, start);
        info.status = end.status;
        info.grad_inf = self.ws.grad_inf;
        info.radius = self.ws.radius;
        info.evaluations.products = info.evaluations.hessian_vectors;
        info.times.close(start.elapsed());
        Ok(Solution {
            x: self.ws.x.clone(),
            value: self.ws.value,
            info,
            error: end.error,
        })
    }

    fn run<F, O>(
        &mut self,
        f: &mut F,
        x0: &[f64],
        observer: &mut O,
        info: &mut TrustRegionInfo,
        start: Instant,
    ) -> StepError<F::Error>
    where
        F: ValueGradientHessian + ?Sized,
        O: Observer + ?Sized,
    {
        if let Err(stop) = self.start(f, x0, info) {
            return stop;
        }
        let mut last: Option<TrustRegionStep> = None;
        loop {
            observer.observe(&Iterate {
                iteration: info.iterations,
                x: &self.ws.x,
                value: self.ws.value,
                measure: self.ws.grad_inf,
                step_inf: last.map_or(0.0, |s| s.step_inf),
                step_length: last.map_or(0.0, |s| if s.accepted { 1.0 } else { 0.0 }),
                regularization: 0.0,
                radius: self.ws.radius,
                cg_iterations: last.map_or(0, |s| s.cg_iterations),
                seconds: start.elapsed().as_secs_f64(),
            });
            if self.ws.grad_inf <= self.params.grad_tol {
                return Status::Converged.into();
            }
            if info.iterations >= self.params.max_iterations {
                return Status::MaxIterations.into();
            }
            match self.step(f, info) {
                Ok(s) => last = Some(s),
                Err(stop) => return stop,
            }
            if self.ws.radius < self.params.min_radius {
                return Status::RadiusTooSmall.into();
            }
        }
    }

    /// Sets the iterate to `x0` (assumed checked), the radius to `initial_radius`, and
    /// evaluates the gradient.
    pub fn start<F>(
        &mut self,
        f: &mut F,
        x0: &[f64],
        info: &mut TrustRegionInfo,
    ) -> Result<(), StepError<F::Error>>
    where
        F: ValueGradientHessian + ?Sized,
    {
        let n = x0.len();
        if self.ws.x.len() != n {
            self.ws = Workspace::new(n);
        }
        let ws = &mut self.ws;
        ws.x.copy_from_slice(x0);
        ws.value = f64::NAN;
        ws.grad_inf = f64::NAN;
        ws.radius = self.params.initial_radius;
        let (value, grad_inf) =
            gradient_at(f, &ws.x, &mut ws.g, &mut info.times, &mut info.evaluations)?;
        ws.value = value;
        ws.grad_inf = grad_inf;
        Ok(())
    }

    /// One trial step: Steihaug–Toint CG for the step, f at the trial point, the ratio ρ,
    /// the radius update; on acceptance the gradient at the new point. The iterate moves
    /// only on acceptance.
    pub fn step<F>(
        &mut self,
        f: &mut F,
        info: &mut TrustRegionInfo,
    ) -> Result<TrustRegionStep, StepError<F::Error>>
    where
        F: ValueGradientHessian + ?Sized,
    {
        let n = self.ws.x.len();
        let max_cg = if self.params.max_cg_iterations == 0 {
            n
        } else {
            self.params.max_cg_iterations
        };
        let (model, cg_iterations, cg_end) = self.cg(f, info, max_cg)?;
        info.iterations += 1;
        info.cg_iterations += cg_iterations;
        let p = self.params;
        let ws = &mut self.ws;
        let step_norm = m_norm(self.diagonal.as_deref(), &ws.z);
        // f at the trial point.
        for ((t, x), z) in ws.trial.iter_mut().zip(&ws.x).zip(&ws.z) {
            *t = x + z;
        }
        let t = Instant::now();
        let trial_value = f.value(&ws.trial);
        info.times.line_search += t.elapsed();
        info.evaluations.values += 1;
        let trial_value = trial_value.map_err(StepError::evaluation)?;
        let predicted = -model;
        // Both reductions at the rounding level of f: f cannot judge the step, the
        // gradient does (accept when ‖∇f‖∞ decreases).
        let noise = 1e3 * f64::EPSILON * ws.value.abs().max(trial_value.abs());
        let at_rounding = trial_value.is_finite()
            && predicted.abs() <= noise
            && (ws.value - trial_value).abs() <= noise;
        let mut trial_gradient = None;
        let mut rho = if trial_value.is_finite() && predicted > 0.0 {
            (ws.value - trial_value) / predicted
        } else {
            f64::NEG_INFINITY
        };
        if at_rounding {
            let g = Self::gradient_at_trial(f, ws, info)?;
            rho = if g.1 < ws.grad_inf {
                1.0
            } else {
                f64::NEG_INFINITY
            };
            trial_gradient = Some(g);
        }
        let boundary = matches!(cg_end, CgEnd::Boundary | CgEnd::NegativeCurvature);
        if rho < 0.25 {
            ws.radius = p.shrink * step_norm.min(ws.radius);
        } else if rho > 0.75 && boundary {
            ws.radius = (p.expand * ws.radius).min(p.max_radius);
        }
        let accepted = rho > p.eta;
        let mut step_inf = 0.0;
        if accepted {
            let (value, grad_inf) = match trial_gradient {
                Some(g) => g,
                None => Self::gradient_at_trial(f, ws, info)?,
            };
            std::mem::swap(&mut ws.x, &mut ws.trial);
            std::mem::swap(&mut ws.g, &mut ws.g_trial);
            ws.value = value;
            ws.grad_inf = grad_inf;
            info.accepted += 1;
            step_inf = norm_inf(&ws.z);
        }
        Ok(TrustRegionStep {
            accepted,
            rho,
            step_norm,
            step_inf,
            radius: ws.radius,
            cg_iterations,
            cg_end,
        })
    }

    /// f and ‖∇f‖∞ at `ws.trial` (gradient into `ws.g_trial`), both finite.
    fn gradient_at_trial<F>(
        f: &mut F,
        ws: &mut Workspace,
        info: &mut TrustRegionInfo,
    ) -> Result<(f64, f64), StepError<F::Error>>
    where
        F: ValueGradientHessian + ?Sized,
    {
        gradient_at(
            f,
            &ws.trial,
            &mut ws.g_trial,
            &mut info.times,
            &mut info.evaluations,
        )
    }

    /// Steihaug–Toint CG into `ws.z`; returns the model value m(z), the iterations and how
    /// it ended.
    fn cg<F>(
        &mut self,
        f: &mut F,
        info: &mut TrustRegionInfo,
        max_cg: usize,
    ) -> Result<(f64, usize, CgEnd), StepError<F::Error>>
    where
        F: ValueGradientHessian + ?Sized,
    {
        let ws = &mut self.ws;
        let m = self.diagonal.as_deref();
        let t = Instant::now();
        ws.z.fill(0.0);
        ws.r.copy_from_slice(&ws.g);
        precondition(m, &ws.r, &mut ws.y);
        for (d, y) in ws.d.iter_mut().zip(&ws.y) {
            *d = -y;
        }
        let g_norm = dot(&ws.g, &ws.g).sqrt();
        let tol = self.params.cg_forcing.min(g_norm.sqrt()) * g_norm;
        let mut ry = dot(&ws.r, &ws.y);
        let mut model = 0.0;
        let delta = ws.radius;
        info.times.solve += t.elapsed();
        let mut iterations = 0;
        let end = loop {
            if iterations >= max_cg {
                break CgEnd::MaxIterations;
            }
            iterations += 1;
            let t = Instant::now();
            let hv = f.hessian_vector(&ws.x, &ws.d, &mut ws.hd);
            info.times.hessian += t.elapsed();
            info.evaluations.hessian_vectors += 1;
            hv.map_err(StepError::evaluation)?;
            let t = Instant::now();
            let kappa = dot(&ws.d, &ws.hd);
            if !kappa.is_finite() {
                info.times.solve += t.elapsed();
                return Err(Status::NonFinite {
                    what: Quantity::HessianVector,
                }
                .into());
            }
            let dr = dot(&ws.d, &ws.r);
            if kappa <= 0.0 {
                let tau = to_boundary(m, &ws.z, &ws.d, delta);
                model += tau * dr + 0.5 * tau * tau * kappa;
                axpy(&mut ws.z, tau, &ws.d);
                info.times.solve += t.elapsed();
                break CgEnd::NegativeCurvature;
            }
            let alpha = ry / kappa;
            // ‖z + αd‖_M ≥ Δ: stop on the boundary.
            if m_norm_sq_along(m, &ws.z, alpha, &ws.d) >= delta * delta {
                let tau = to_boundary(m, &ws.z, &ws.d, delta);
                model += tau * dr + 0.5 * tau * tau * kappa;
                axpy(&mut ws.z, tau, &ws.d);
                info.times.solve += t.elapsed();
                break CgEnd::Boundary;
            }
            model += alpha * dr + 0.5 * alpha * alpha * kappa;
            axpy(&mut ws.z, alpha, &ws.d);
            axpy(&mut ws.r, alpha, &ws.hd);
            if dot(&ws.r, &ws.r).sqrt() <= tol {
                info.times.solve += t.elapsed();
                break CgEnd::Converged;
            }
            precondition(m, &ws.r, &mut ws.y);
            let ry_new = dot(&ws.r, &ws.y);
            let beta = ry_new / ry;
            ry = ry_new;
            for (d, y) in ws.d.iter_mut().zip(&ws.y) {
                *d = -y + beta * *d;
            }
            info.times.solve += t.elapsed();
        };
        Ok((model, iterations, end))
    }
}

/// `y = M⁻¹r` (a copy without a preconditioner).
fn precondition(m: Option<&[f64]>, r: &[f64], y: &mut [f64]) {
    match m {
        Some(m) => {
            for ((y, r), m) in y.iter_mut().zip(r).zip(m) {
                *y = r / m;
            }
        }
        None => y.copy_from_slice(r),
    }
}

/// ‖v‖_M.
fn m_norm(m: Option<&[f64]>, v: &[f64]) -> f64 {
    m_norm_sq_along(m, v, 0.0, v).sqrt()
}

/// ‖z + a·d‖²_M.
fn m_norm_sq_along(m: Option<&[f64]>, z: &[f64], a: f64, d: &[f64]) -> f64 {
    match m {
        Some(m) => z
            .iter()
            .zip(d)
            .zip(m)
            .map(|((z, d), m)| m * (z + a * d).powi(2))
            .sum(),
        None => z.iter().zip(d).map(|(z, d)| (z + a * d).powi(2)).sum(),
    }
}

/// ⟨a, b⟩_M.
fn m_dot(m: Option<&[f64]>, a: &[f64], b: &[f64]) -> f64 {
    match m {
        Some(m) => a.iter().zip(b).zip(m).map(|((a, b), m)| m * a * b).sum(),
        None => dot(a, b),
    }
}

/// The τ ≥ 0 with ‖z + τd‖_M = Δ (z inside the region).
fn to_boundary(m: Option<&[f64]>, z: &[f64], d: &[f64], delta: f64) -> f64 {
    let dd = m_dot(m, d, d);
    let zd = m_dot(m, z, d);
    let zz = m_dot(m, z, z);
    if dd <= 0.0 {
        return 0.0;
    }
    let c = (zz - delta * delta).min(0.0);
    let disc = (zd * zd - dd * c).max(0.0).sqrt();
    // Stable root: τ = (−zd + disc)/dd = −c/(zd + disc) when zd > 0.
    if zd > 0.0 {
        if zd + disc > 0.0 {
            -c / (zd + disc)
        } else {
            0.0
        }
    } else {
        (-zd + disc) / dd
    }
}

/// `y += a·x`.
fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}
