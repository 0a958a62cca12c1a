//! `sparsediff newton rosenbrock|bratu` — the solvers of `sparsediff-solve` on two classic
//! problems, with the derivatives recovered by the facade — and `sparsediff bench banded`.
//!
//! * `newton rosenbrock --n N [--method newton|trust-cg|lbfgs]`: the chained Rosenbrock
//!   function f = Σ 100(x_{i+1} − x_i²)² + (1 − x_i)² from x0 = (−1.2, 1, −1.2, 1, …), its
//!   tridiagonal Hessian recovered by [`SparseHessian`] (2 probes): sparse Newton (banded
//!   LDLᵀ, inertia correction, Armijo), trust-region Newton–CG (matrix-free products of the
//!   tape), or argmin's L-BFGS (gradients only). Stops at ‖∇f‖∞ ≤ 1e-8. From the
//!   alternating start the iterates fall to x ≈ 0.01 within a few steps and a front then
//!   moves through the chain at about one variable per 1.5 Newton steps, to the local
//!   minimum f ≈ 3.9866 (x₀ ≈ −0.993): iterations grow like 1.5·n. `--x0 1.2` starts
//!   from 1.2·(1, …, 1), where Newton needs a handful of steps at any n. f and ∇f are
//!   hand-written by default (`--gradient tape` takes them from the tape, 3–20× the cost of
//!   plain f64 at n = 10⁶); the Hessian always comes from the tape.
//! * `newton bratu --n N`: the 2-D Bratu problem −Δu = λeᵘ (λ = 6) on the unit square,
//!   zero Dirichlet boundary, 5-point stencil on an s × s interior grid (s = ⌊√N⌋, so
//!   n = s²), h = 1/(s + 1), F(u) = −Δ_h u − λeᵘ, from u0 = 0: Newton with the recovered
//!   sparse Jacobian ([`SparseJacobian`], 5 probes) and the sparse LU. Stops at
//!   ‖F‖∞ ≤ 1e-10.
//!
//! `seconds` is the solver's time after `prepare`; `total_seconds` adds `prepare_seconds`.
//! Progress lines go to standard error once a run has lasted a second.

use std::io::Write;
use std::time::Instant;

use serde::Serialize;
use sparsediff::num_dual::DualNum;
use sparsediff::pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};
use sparsediff::probe::Geometry;
use sparsediff::{
    Options, ScalarFunction, SparseError, SparseHessian, SparseJacobian, VectorFunction,
};
use sparsediff_solve::argmin::{LbfgsParams, lbfgs};
use sparsediff_solve::newton::{Newton, NewtonParams};
use sparsediff_solve::nonlinear::{NonlinearNewton, NonlinearParams};
use sparsediff_solve::observe::{Iterate, Observer};
use sparsediff_solve::trust_region::{TrustRegion, TrustRegionParams};
use sparsediff_solve::{DriverError, Evaluations, PhaseTimes, Status};

use crate::{CliError, output};

/// Most iterations a user may ask of `sparsediff newton --max-iterations`: 10⁶. Each is at
/// least one gradient (a few ms at n = 10⁶), so a run at the limit is bounded by the
/// variable count limit times this.
pub const MAX_NEWTON_ITERATIONS: u64 = 1_000_000;

/// Options of `sparsediff newton`.
#[derive(Debug, Clone, clap::Args)]
pub struct NewtonArgs {
    #[command(subcommand)]
    problem: Problem,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum Problem {
    /// Chained Rosenbrock from (−1.2, 1, −1.2, 1, …): Newton, trust-region CG or L-BFGS.
    Rosenbrock(RosenbrockArgs),
    /// 2-D Bratu (λ = 6) on an s × s grid, s = ⌊√N⌋: Newton with the sparse LU.
    Bratu(BratuArgs),
}

/// Minimisation methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Method {
    /// Sparse Newton: recovered Hessian, banded or sparse LDLᵀ, inertia correction, Armijo.
    Newton,
    /// Trust-region Newton with Steihaug–Toint CG on Hessian-vector products.
    TrustCg,
    /// argmin's L-BFGS (More–Thuente), gradients only.
    Lbfgs,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Newton => "newton",
            Method::TrustCg => "trust-cg",
            Method::Lbfgs => "lbfgs",
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
struct RosenbrockArgs {
    /// Variables (at least 2).
    #[arg(long)]
    n: usize,
    /// The method.
    #[arg(long, value_enum, default_value = "newton")]
    method: Method,
    /// Most iterations (default: 200 Newton, 1000 trust region, 10 000 L-BFGS).
    #[arg(long, value_parser = crate::limits::count(MAX_NEWTON_ITERATIONS))]
    max_iterations: Option<usize>,
    /// Value and gradient: `analytic` (hand-written, plain f64) or `tape` (the recovered
    /// Hessian's reverse tape). The Hessian and its products always come from the tape.
    #[arg(long, value_enum, default_value = "analytic")]
    gradient: GradientSource,
    /// Starting point: `alternating` (−1.2, 1, −1.2, 1, …), or a number c for c·(1, …, 1).
    #[arg(long, default_value = "alternating", value_parser = parse_start)]
    x0: Start,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Where f and ∇f come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum GradientSource {
    /// Hand-written value and gradient in plain f64.
    Analytic,
    /// The reverse tape of the recovered Hessian.
    Tape,
}

/// Chained Rosenbrock as a solver objective: the Hessian (and its products) recovered by
/// [`SparseHessian`]; f and ∇f hand-written or from the same tape.
struct Objective {
    h: SparseHessian<'static>,
    analytic: bool,
}

impl ValueGradient for Objective {
    type Error = SparseError;

    fn dim(&self) -> usize {
        ValueGradient::dim(&self.h)
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, SparseError> {
        if self.analytic {
            Ok(Rosenbrock.eval(x))
        } else {
            self.h.value(x)
        }
    }

    fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, SparseError> {
        if !self.analytic {
            return self.h.gradient(x, g);
        }
        g.fill(0.0);
        let mut f = 0.0;
        for i in 0..x.len().saturating_sub(1) {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            f += 100.0 * a * a + b * b;
            g[i] += -400.0 * x[i] * a - 2.0 * b;
            g[i + 1] += 200.0 * a;
        }
        Ok(f)
    }
}

impl ValueGradientHessian for Objective {
    fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, SparseError> {
        self.h.hessian(x)
    }

    fn hessian_vector(&mut self, x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), SparseError> {
        self.h.hessian_vector(x, v, out)
    }

    fn products_per_hessian(&self) -> usize {
        self.h.products_per_hessian()
    }
}

/// A Rosenbrock starting point.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Start {
    /// (−1.2, 1, −1.2, 1, …).
    Alternating,
    /// c·(1, …, 1).
    Constant(f64),
}

impl Start {
    fn point(self, n: usize) -> Vec<f64> {
        match self {
            Start::Alternating => (0..n)
                .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
                .collect(),
            Start::Constant(c) => vec![c; n],
        }
    }

    fn name(self) -> String {
        match self {
            Start::Alternating => "alternating".to_string(),
            Start::Constant(c) => format!("{c}"),
        }
    }
}

fn parse_start(s: &str) -> Result<Start, String> {
    if s == "alternating" {
        return Ok(Start::Alternating);
    }
    match s.parse::<f64>() {
        Ok(c) if c.is_finite() => Ok(Start::Constant(c)),
        _ => Err(format!(
            "expected `alternating` or a finite number, got `{s}`"
        )),
    }
}

#[derive(Debug, Clone, clap::Args)]
struct BratuArgs {
    /// Unknowns; rounded down to a square s² (at least 1).
    #[arg(long)]
    n: usize,
    /// Most Newton iterations (default 100).
    #[arg(long, value_parser = crate::limits::count(MAX_NEWTON_ITERATIONS))]
    max_iterations: Option<usize>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// The JSON report (the first eight fields are the contract; `residual_inf` replaces
/// `grad_inf` for systems).
#[derive(Debug, Serialize)]
struct Report {
    problem: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    x0: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gradient: Option<&'static str>,
    n: usize,
    method: &'static str,
    status: &'static str,
    iterations: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    grad_inf: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    residual_inf: Option<f64>,
    seconds: f64,
    hessian_seconds: f64,
    factor_seconds: f64,
    solve_seconds: f64,
    line_search_seconds: f64,
    gradient_seconds: f64,
    other_seconds: f64,
    prepare_seconds: f64,
    total_seconds: f64,
    value: f64,
    probes: usize,
    values: usize,
    gradients: usize,
    hessians: usize,
    hvps: usize,
    products: usize,
    factorizations: usize,
    symbolic_analyses: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    factorization: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_regularization: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cg_iterations: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    fn new(
        problem: &'static str,
        n: usize,
        method: &'static str,
        status: &Status,
        iterations: usize,
        value: f64,
        evaluations: &Evaluations,
        times: &PhaseTimes,
        prepare_seconds: f64,
        probes: usize,
    ) -> Self {
        let seconds = times.total.as_secs_f64();
        Self {
            problem,
            x0: None,
            gradient: None,
            n,
            method,
            status: status.name(),
            iterations,
            grad_inf: None,
            residual_inf: None,
            seconds,
            hessian_seconds: times.hessian.as_secs_f64(),
            factor_seconds: times.factorization.as_secs_f64(),
            solve_seconds: times.solve.as_secs_f64(),
            line_search_seconds: times.line_search.as_secs_f64(),
            gradient_seconds: times.gradient.as_secs_f64(),
            other_seconds: times.other.as_secs_f64(),
            prepare_seconds,
            total_seconds: prepare_seconds + seconds,
            value,
            probes,
            values: evaluations.values,
            gradients: evaluations.gradients,
            hessians: evaluations.hessians,
            hvps: evaluations.hessian_vectors,
            products: evaluations.products,
            factorizations: evaluations.factorizations,
            symbolic_analyses: evaluations.symbolic_analyses,
            factorization: None,
            max_regularization: None,
            cg_iterations: None,
            error: None,
        }
    }
}

/// Chained Rosenbrock, written once for every scalar.
#[derive(Debug, Clone, Copy)]
pub struct Rosenbrock;

impl ScalarFunction for Rosenbrock {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let mut f = D::zero();
        for w in x.windows(2) {
            let a = w[1] - w[0] * w[0];
            let b = D::one() - w[0];
            f += a * a * 100.0 + b * b;
        }
        f
    }
}

/// The 2-D Bratu residual on an s × s interior grid.
#[derive(Debug, Clone, Copy)]
pub struct Bratu {
    /// Grid points per side.
    pub s: usize,
    /// λ.
    pub lambda: f64,
}

impl VectorFunction for Bratu {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }

    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, u: &[D], out: &mut [D]) {
        let s = self.s;
        let h = 1.0 / (s as f64 + 1.0);
        let inv_h2 = 1.0 / (h * h);
        for j in 0..s {
            for i in 0..s {
                let k = i + s * j;
                let mut lap = u[k] * 4.0;
                if i > 0 {
                    lap -= u[k - 1];
                }
                if i + 1 < s {
                    lap -= u[k + 1];
                }
                if j > 0 {
                    lap -= u[k - s];
                }
                if j + 1 < s {
                    lap -= u[k + s];
                }
                out[k] = lap * inv_h2 - u[k].exp() * self.lambda;
            }
        }
    }
}

/// Prints one progress line to standard error per second of run time (and none for runs
/// shorter than a second).
struct Progress {
    label: &'static str,
    measure: &'static str,
    next: f64,
}

impl Observer for Progress {
    fn observe(&mut self, it: &Iterate<'_>) {
        if it.seconds >= self.next {
            eprintln!(
                "{}: iteration {:>6}  f = {:.6e}  {} = {:.3e}  ({:.1} s)",
                self.label, it.iteration, it.value, self.measure, it.measure, it.seconds
            );
            self.next = it.seconds.floor() + 1.0;
        }
    }
}

fn progress(label: &'static str, measure: &'static str) -> Progress {
    Progress {
        label,
        measure,
        next: 1.0,
    }
}

fn driver_error(e: DriverError) -> CliError {
    CliError::Input(format!("the solver refused its input: {e}"))
}

/// Runs `sparsediff newton`.
pub fn run(args: &NewtonArgs) -> Result<(), CliError> {
    let (report, json) = match &args.problem {
        Problem::Rosenbrock(a) => (rosenbrock(a)?, a.json),
        Problem::Bratu(a) => (bratu(a)?, a.json),
    };
    let mut out = std::io::stdout().lock();
    if json {
        output::print_json(&mut out, &report)
    } else {
        print_text(&mut out, &report).map_err(CliError::stdout)
    }
}

fn rosenbrock(a: &RosenbrockArgs) -> Result<Report, CliError> {
    if a.n < 2 {
        return Err(CliError::Input(format!(
            "--n must be at least 2, got {}",
            a.n
        )));
    }
    crate::limits::bench_n(a.n, 1)?;
    let x0 = a.x0.point(a.n);
    let options = Options {
        geometry: Some(Geometry::Band { beta: Some(1) }),
        ..Options::default()
    };
    let start = Instant::now();
    let h = SparseHessian::prepare(Rosenbrock, &x0, &options)?;
    let prepare_seconds = start.elapsed().as_secs_f64();
    let probes = h.info().probes;
    let mut h = Objective {
        h,
        analytic: a.gradient == GradientSource::Analytic,
    };
    let mut observer = progress("rosenbrock", "|g|inf");
    // The fields every method reports.
    let common = |status: &Status,
                  iterations: usize,
                  value: f64,
                  evaluations: &Evaluations,
                  times: &PhaseTimes,
                  grad_inf: f64| {
        let mut r = Report::new(
            "rosenbrock",
            a.n,
            a.method.name(),
            status,
            iterations,
            value,
            evaluations,
            times,
            prepare_seconds,
            probes,
        );
        r.grad_inf = Some(grad_inf);
        r
    };
    let mut report = match a.method {
        Method::Newton => {
            let params = NewtonParams {
                max_iterations: a.max_iterations.unwrap_or(200),
                ..NewtonParams::default()
            };
            let sol = Newton::new(params)
                .map_err(driver_error)?
                .minimize(&mut h, &x0, &mut observer)
                .map_err(driver_error)?;
            let i = &sol.info;
            let mut r = common(
                &i.status,
                i.iterations,
                sol.value,
                &i.evaluations,
                &i.times,
                i.grad_inf,
            );
            r.factorization = i.factorization.map(|k| k.name());
            r.max_regularization = Some(i.regularized_steps().0);
            r.error = sol.error.map(|e| e.to_string());
            r
        }
        Method::TrustCg => {
            let params = TrustRegionParams {
                max_iterations: a.max_iterations.unwrap_or(1000),
                ..TrustRegionParams::default()
            };
            let sol = TrustRegion::new(params)
                .map_err(driver_error)?
                .minimize(&mut h, &x0, &mut observer)
                .map_err(driver_error)?;
            let i = &sol.info;
            let mut r = common(
                &i.status,
                i.iterations,
                sol.value,
                &i.evaluations,
                &i.times,
                i.grad_inf,
            );
            r.cg_iterations = Some(i.cg_iterations);
            r.error = sol.error.map(|e| e.to_string());
            r
        }
        Method::Lbfgs => {
            let params = LbfgsParams {
                max_iterations: a.max_iterations.unwrap_or(10_000),
                ..LbfgsParams::default()
            };
            let sol = lbfgs(h, &x0, params, &mut observer).map_err(driver_error)?;
            let i = &sol.info;
            let mut r = common(
                &i.status,
                i.iterations,
                sol.value,
                &i.evaluations,
                &i.times,
                i.grad_inf,
            );
            r.error = sol.error.map(|e| e.to_string()).or_else(|| {
                (!i.status.is_converged())
                    .then(|| i.termination.clone())
                    .flatten()
            });
            r
        }
    };
    report.x0 = Some(a.x0.name());
    report.gradient = Some(match a.gradient {
        GradientSource::Analytic => "analytic",
        GradientSource::Tape => "tape",
    });
    Ok(report)
}

fn bratu(a: &BratuArgs) -> Result<Report, CliError> {
    if a.n == 0 {
        return Err(CliError::Input("--n must be at least 1".to_string()));
    }
    crate::limits::bench_n(a.n, 1)?;
    let s = a.n.isqrt();
    let n = s * s;
    let f = Bratu { s, lambda: 6.0 };
    let u0 = vec![0.0; n];
    let options = Options {
        geometry: Some(Geometry::Grid2d {
            nx: s,
            ny: s,
            stencil: sparsediff::generators::Stencil2d::FivePoint,
        }),
        ..Options::default()
    };
    let start = Instant::now();
    let mut j = SparseJacobian::prepare(f, &u0, &options)?;
    let prepare_seconds = start.elapsed().as_secs_f64();
    let probes = j.info().probes;
    let params = NonlinearParams {
        max_iterations: a.max_iterations.unwrap_or(100),
        ..NonlinearParams::default()
    };
    let mut observer = progress("bratu", "|F|inf");
    let sol = NonlinearNewton::new(params)
        .map_err(driver_error)?
        .solve(&mut j, &u0, &mut observer)
        .map_err(driver_error)?;
    let i = &sol.info;
    let mut r = Report::new(
        "bratu",
        n,
        "newton",
        &i.status,
        i.iterations,
        sol.value,
        &i.evaluations,
        &i.times,
        prepare_seconds,
        probes,
    );
    r.residual_inf = Some(i.residual_inf);
    r.factorization = Some("lu");
    r.error = sol.error.map(|e| e.to_string());
    Ok(r)
}

fn print_text(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    let (label, measure) = match (r.grad_inf, r.residual_inf) {
        (Some(g), _) => ("|grad f|inf", g),
        (None, Some(f)) => ("|F|inf", f),
        (None, None) => ("measure", f64::NAN),
    };
    writeln!(out, "{} n={} method={}", r.problem, r.n, r.method)?;
    writeln!(
        out,
        "  status {} after {} iterations, {} = {:.3e}, value {:.6e}",
        r.status, r.iterations, label, measure, r.value
    )?;
    writeln!(
        out,
        "  time   prepare {:.3} s + solve {:.3} s = {:.3} s",
        r.prepare_seconds, r.seconds, r.total_seconds
    )?;
    writeln!(
        out,
        "         hessian {:.3} s, factor {:.3} s, solve {:.3} s, line search {:.3} s, gradient {:.3} s, other {:.3} s",
        r.hessian_seconds,
        r.factor_seconds,
        r.solve_seconds,
        r.line_search_seconds,
        r.gradient_seconds,
        r.other_seconds
    )?;
    writeln!(
        out,
        "  counts values {}, gradients {}, hessians {} ({} probes each), hvps {}, factorizations {}",
        r.values, r.gradients, r.hessians, r.probes, r.hvps, r.factorizations
    )?;
    if let Some(e) = &r.error {
        writeln!(out, "  error  {e}")?;
    }
    Ok(())
}

/// Options of `sparsediff bench banded`.
#[derive(Debug, Clone, clap::Args)]
pub struct BandedArgs {
    /// Dimension n.
    #[arg(long)]
    n: usize,
    /// Half-bandwidth β (< n).
    #[arg(long)]
    beta: usize,
    /// Timed factorisations and solves (medians are reported), 1 to 10 000.
    #[arg(long, default_value_t = 21, value_parser = crate::limits::count(crate::limits::MAX_BENCH_REPEATS))]
    repeats: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct BandedReport {
    n: usize,
    beta: usize,
    factor_seconds: f64,
    solve_seconds: f64,
    residual: f64,
    repeats: usize,
}

/// Runs `sparsediff bench banded`: medians of `bench_banded`.
pub fn banded(a: &BandedArgs) -> Result<(), CliError> {
    if a.repeats == 0 {
        return Err(CliError::Input("--repeats must be at least 1".to_string()));
    }
    crate::limits::bench_n(a.n, 1)?;
    // n·(β + 1) band values: bounded like the variables of a bench problem.
    let storage = a.n.checked_mul(a.beta.saturating_add(1));
    if a.beta >= a.n || storage.is_none_or(|s| s > crate::limits::MAX_BENCH_VARIABLES * 8) {
        return Err(CliError::Input(format!(
            "--beta {} must be below --n {} and n·(β+1) at most {} band values",
            a.beta,
            a.n,
            crate::limits::MAX_BENCH_VARIABLES * 8
        )));
    }
    let b = sparsediff_solve::bench_banded(a.n, a.beta, a.repeats)
        .map_err(|e| CliError::Input(format!("bench banded: {e}")))?;
    let report = BandedReport {
        n: b.n,
        beta: b.beta,
        factor_seconds: b.factor_seconds,
        solve_seconds: b.solve_seconds,
        residual: b.residual,
        repeats: b.repeats,
    };
    let mut out = std::io::stdout().lock();
    if a.json {
        output::print_json(&mut out, &report)
    } else {
        writeln!(
            out,
            "banded n={} beta={}: factor {:.3e} s, solve {:.3e} s (medians of {}), backward error {:.2e}",
            b.n, b.beta, b.factor_seconds, b.solve_seconds, b.repeats, b.residual
        )
        .map_err(CliError::stdout)
    }
}
