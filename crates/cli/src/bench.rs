//! `sparsediff bench hessian|jacobian`: prepare a sparse derivative of a benchmark problem,
//! time its evaluation against the plain f64 function, and measure its error against an
//! analytic (or independent reference) derivative.

use std::io::Write;
use std::time::Instant;

use serde::Serialize;
use sparsediff::composite::StageTimes;
use sparsediff::detect::Detector;
use sparsediff::pattern::Pattern;
use sparsediff::probe::Geometry;
use sparsediff::{
    BackendChoice, Conservative, DEFAULT_VERIFY_EVERY, Global, JacobianMode, Options, PrepareTimes,
    RecoveryInfo, ScalarFunction, SparseError, SparseHessian, SparseJacobian, Strategy, Traced,
    VectorFunction, Verify,
};
use sparsediff_problems::rosenbrock::Rosenbrock;
use sparsediff_problems::tridiagonal::Tridiagonal;
use sparsediff_problems::{
    arrow, cartpole, dense_row, eval_point, grid_energy::GridEnergy, rosenbrock, tridiagonal,
};
use sprs::CsMat;
use std::sync::Arc;

use crate::{CliError, output};

/// Options of `sparsediff bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    which: Which,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum Which {
    /// A sparse Hessian: rosenbrock, grid2d or cartpole.
    Hessian(HessianArgs),
    /// A sparse Jacobian: tridiagonal, dense-row or arrow.
    Jacobian(JacobianArgs),
    /// The banded Cholesky of a seeded SPD band: median factor and solve seconds.
    Banded(crate::newton::BandedArgs),
}

/// Hessian problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum HessianProblem {
    /// Chained Rosenbrock (tridiagonal Hessian).
    Rosenbrock,
    /// Quartic grid energy (5-point Hessian); n is rounded to a square s².
    Grid2d,
    /// The cartpole augmented Lagrangian L_A; n is the number of knots N.
    Cartpole,
}

/// Jacobian problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum JacobianProblem {
    /// F_i = x_{i+1}² − x_i x_{i−1} + sin x_i.
    Tridiagonal,
    /// F_0 = Σ x_j, F_i = x_i³ (i ≥ 1): a dense first row (columns need n products, rows 2).
    DenseRow,
    /// F_0 = Σ x_j², F_i = x_0 x_i + x_i² (i ≥ 1): dense first row and column (columns and
    /// rows each need n products).
    Arrow,
}

impl JacobianProblem {
    fn name(self) -> &'static str {
        match self {
            JacobianProblem::Tridiagonal => "tridiagonal",
            JacobianProblem::DenseRow => "dense-row",
            JacobianProblem::Arrow => "arrow",
        }
    }
}

/// Which products a Jacobian is recovered from (`sparsediff::JacobianMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ModeArg {
    /// The cheapest of column, row and (when it may pay) bidirectional plans (a VJP counted
    /// at `VJP_RELATIVE_COST` JVPs).
    Auto,
    /// Column plans (J·S, JVPs) only.
    Columns,
    /// Row plans (Jᵀ·S, VJPs; needs the tape) only.
    Rows,
    /// Bidirectional plans (J·Sc by JVPs and Jᵀ·Sr by VJPs, star bicolouring; needs the
    /// tape) only.
    Bidirectional,
}

/// How the pattern is detected on the generic path (`sparsediff::detect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DetectionArg {
    /// The local trace at x (the library's default, `Traced`): valid where the function
    /// takes x's branches, re-traced when it takes others.
    Local,
    /// The global trace (`Global`): valid at every x, the union over every control-flow
    /// path (one run per path, at most 256).
    Global,
    /// The union of local traces at x and 16 seeded perturbations of it (`Conservative`).
    Conservative,
}

impl DetectionArg {
    fn name(self) -> &'static str {
        match self {
            DetectionArg::Local => "local",
            DetectionArg::Global => "global",
            DetectionArg::Conservative => "conservative",
        }
    }

    fn detector(self) -> Detector {
        match self {
            DetectionArg::Local => Arc::new(Traced),
            DetectionArg::Global => Arc::new(Global::default()),
            DetectionArg::Conservative => Arc::new(Conservative {
                points: 16,
                seed: 0,
            }),
        }
    }
}

/// Backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Backend {
    /// The library's default: the tape for Hessians; forward lanes for a column plan of a
    /// Jacobian, the tape for a row plan.
    Auto,
    /// Reverse tape (HVPs by forward-over-reverse lanes).
    Tape,
    /// Forward lanes (Jacobians).
    Forward,
    /// Central finite differences.
    Fd,
}

/// How a Hessian is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PathArg {
    /// The generic path: probes designed on the pattern, products from the backend.
    Generic,
    /// The composite path (cartpole only): f = φ + Σ ψ_i(r_i) row by row, with the
    /// weighted Hessian and JᵀDJ from local jets (`sparsediff::composite`).
    Composite,
    /// The element path (cartpole only): the trajectory crate's cartpole L_A with every
    /// knot's dynamics evaluated once and shared between the defect rows
    /// (`trajectory::element`); value and gradient come out of the same pass and are
    /// included in the time.
    Element,
}

/// Probe design methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MethodArg {
    /// Fewest probes among the exact designers (closed-form stencils included).
    Auto,
    /// Stride probes.
    Roll,
    /// Column CPR.
    Cpr,
    /// Star colouring.
    Star,
    /// Acyclic colouring.
    Acyclic,
    /// Random probes, per-row least squares.
    Random,
}

#[derive(Debug, Clone, clap::Args)]
struct HessianArgs {
    /// The problem.
    #[arg(long, value_enum)]
    problem: HessianProblem,
    /// Variables (Rosenbrock), grid points (grid2d, rounded to s²) or knots (cartpole).
    #[arg(long)]
    n: usize,
    /// The backend.
    #[arg(long, value_enum, default_value = "tape")]
    backend: Backend,
    /// The probe design.
    #[arg(long, value_enum, default_value = "auto")]
    method: MethodArg,
    /// The generic path, or the composite one (cartpole; ignores --backend and --method).
    #[arg(long, value_enum, default_value = "generic")]
    path: PathArg,
    /// How the pattern is detected (generic path only).
    #[arg(long, value_enum, default_value = "local")]
    detection: DetectionArg,
    /// Threads of `evaluate` (`sparsediff::Options::threads`): 1 to 256. The tape's Hessian
    /// sweeps of large programs of local terms run in row blocks on that many threads; the
    /// values do not depend on it.
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=sparsediff::MAX_THREADS as u64))]
    threads: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Timed evaluations (the median is reported); 0 = as many as fit in about a second.
    /// At most 10 000 (the adaptive mode's own cap).
    #[arg(long, default_value_t = 0, value_parser = crate::limits::count(crate::limits::MAX_BENCH_REPEATS))]
    repeats: usize,
}

#[derive(Debug, Clone, clap::Args)]
struct JacobianArgs {
    /// The problem.
    #[arg(long, value_enum)]
    problem: JacobianProblem,
    /// Variables.
    #[arg(long)]
    n: usize,
    /// The backend (`auto`: forward lanes for a column plan, the tape for a row plan).
    #[arg(long, value_enum, default_value = "auto")]
    backend: Backend,
    /// Column plans, row plans, or the cheaper (row plans need the tape: `auto` or `tape`).
    #[arg(long, value_enum, default_value = "auto")]
    mode: ModeArg,
    /// How the pattern is detected.
    #[arg(long, value_enum, default_value = "local")]
    detection: DetectionArg,
    /// The probe design.
    #[arg(long, value_enum, default_value = "auto")]
    method: MethodArg,
    /// Threads of `evaluate` (`sparsediff::Options::threads`): 1 to 256. The tape's Hessian
    /// sweeps of large programs of local terms run in row blocks on that many threads; the
    /// values do not depend on it.
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=sparsediff::MAX_THREADS as u64))]
    threads: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Timed evaluations (the median is reported); 0 = as many as fit in about a second.
    /// At most 10 000 (the adaptive mode's own cap).
    #[arg(long, default_value_t = 0, value_parser = crate::limits::count(crate::limits::MAX_BENCH_REPEATS))]
    repeats: usize,
}

/// The JSON report (the first nine fields are the public contract).
#[derive(Debug, Serialize)]
struct Report {
    problem: &'static str,
    n: usize,
    backend: &'static str,
    method: &'static str,
    probes: usize,
    prepare_seconds: f64,
    evaluate_seconds: f64,
    f_eval_seconds: f64,
    max_rel_error: f64,
    designer: String,
    variables: usize,
    nnz: usize,
    lower_bound: usize,
    ratio_to_f_eval: f64,
    repeats: usize,
    path: String,
    /// Median seconds per stage of the composite path (absent on the generic path).
    #[serde(skip_serializing_if = "Option::is_none")]
    stages: Option<Stages>,
    /// Seconds per stage of `prepare` on the generic path (absent on the composite path).
    #[serde(skip_serializing_if = "Option::is_none")]
    prepare_stages: Option<PrepareStages>,
    /// Verification in force with the default options (generic path only).
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<Verification>,
    /// The element path's extra figures (absent on the other paths).
    #[serde(skip_serializing_if = "Option::is_none")]
    element: Option<ElementTimes>,
    /// Jacobians: the products of the chosen plan, `column` (J·S), `row` (Jᵀ·S) or
    /// `bidirectional` (both).
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<&'static str>,
    /// Jacobians: every mode `prepare` considered.
    #[serde(skip_serializing_if = "Option::is_none")]
    modes: Option<Vec<ModeReport>>,
    /// How the pattern was detected (`--detection`: local, global, conservative; absent on
    /// the composite and element paths, which detect nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    detection: Option<&'static str>,
    /// `--threads`, as given.
    threads: usize,
    /// Threads the products could run on: `threads` when the backend took the pool (the
    /// tape's Hessian sweeps; those of small programs still run on one), else 1 (Jacobian
    /// backends, the composite and element paths).
    threads_used: usize,
    /// Oversampled random plans (`--method random`): the last evaluation's max relative
    /// least-squares residual (`RecoveryInfo::max_relative_residual`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_relative_residual: Option<f64>,
}

/// One mode `prepare` considered (`sparsediff::ModeCandidate`).
#[derive(Debug, Serialize)]
struct ModeReport {
    mode: &'static str,
    /// Products of its plan (absent when it was not designed).
    #[serde(skip_serializing_if = "Option::is_none")]
    products: Option<usize>,
    /// Its JVPs and VJPs (absent when it was not designed).
    #[serde(skip_serializing_if = "Option::is_none")]
    jvps: Option<usize>,
    /// (absent when it was not designed)
    #[serde(skip_serializing_if = "Option::is_none")]
    vjps: Option<usize>,
    /// Products times the mode's relative cost (what the choice compares).
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<f64>,
    /// Why it was not designed.
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<&'static str>,
    /// No plan of this mode needs fewer products.
    lower_bound: usize,
}

/// What `--path element` measures besides the common fields.
#[derive(Debug, Serialize)]
struct ElementTimes {
    /// Jet lanes of the element pass (the curved variables of a knot).
    lanes: usize,
    /// Fastest `evaluate` seconds (the common `evaluate_seconds` is the median).
    evaluate_min_seconds: f64,
    /// Median seconds of the trajectory crate's composite Hessian of the same L_A,
    /// alternated with the element evaluations in the same run.
    composite_evaluate_seconds: f64,
    /// Its fastest seconds.
    composite_evaluate_min_seconds: f64,
    /// Median seconds of `evaluate_hessian` (value and Hessian, no gradient), alternated
    /// in the same run.
    hessian_only_seconds: f64,
    /// Its fastest seconds.
    hessian_only_min_seconds: f64,
    /// Median seconds of each phase of an evaluation.
    phases: ElementPhases,
}

/// The phases of an element evaluation (`trajectory::element::PhaseTimes`), median seconds.
#[derive(Debug, Serialize)]
struct ElementPhases {
    /// Every knot's outputs on jets.
    elements: f64,
    /// Residuals, outer derivatives, L_A.
    residuals: f64,
    /// ∇L_A element by element.
    gradient: f64,
    /// Base copy, weighted element Hessians, ψ″∇r∇rᵀ.
    hessian: f64,
}

/// What verification costs on this problem.
#[derive(Debug, Serialize)]
struct Verification {
    /// The periodic cadence the default options give this problem (absent: the first
    /// evaluation only).
    #[serde(skip_serializing_if = "Option::is_none")]
    every: Option<usize>,
    /// The cadence of `Verify::Auto` for patterns that may not hold everywhere.
    default_every: usize,
    /// Median `evaluate` seconds with verification off.
    evaluate_off_seconds: f64,
    /// Median `evaluate` seconds with every evaluation verified.
    evaluate_every_seconds: f64,
    /// One verification: the difference of the two (the smaller over alternating rounds).
    seconds: f64,
    /// `seconds / (default_every · evaluate_off_seconds)`: the mean overhead at the default
    /// cadence.
    overhead_at_default: f64,
}

/// A prepared derivative whose verification can be switched.
trait Verified {
    fn set(&mut self, v: Verify) -> Result<(), SparseError>;
    fn eval(&mut self, x: &[f64]) -> Result<(), SparseError>;
    fn info(&self) -> &RecoveryInfo;
}

impl Verified for SparseHessian<'_> {
    fn set(&mut self, v: Verify) -> Result<(), SparseError> {
        self.set_verify(v)
    }
    fn eval(&mut self, x: &[f64]) -> Result<(), SparseError> {
        self.evaluate(x).map(|_| ())
    }
    fn info(&self) -> &RecoveryInfo {
        SparseHessian::info(self)
    }
}

impl Verified for SparseJacobian<'_> {
    fn set(&mut self, v: Verify) -> Result<(), SparseError> {
        self.set_verify(v)
    }
    fn eval(&mut self, x: &[f64]) -> Result<(), SparseError> {
        self.evaluate(x).map(|_| ())
    }
    fn info(&self) -> &RecoveryInfo {
        SparseJacobian::info(self)
    }
}

/// Times evaluation with verification off and on every evaluation, in two alternating
/// rounds (the machine is shared and noisy), keeping the smaller median of each.
fn verification(
    d: &mut impl Verified,
    x: &[f64],
    repeats: usize,
) -> Result<Verification, CliError> {
    let every = d.info().verify_every;
    let (mut off, mut on) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..2 {
        for (verify, best) in [(Verify::Off, &mut off), (Verify::Every(1), &mut on)] {
            d.set(verify)?;
            let (t, _) = median_time(repeats, || Ok(d.eval(x)?))?;
            *best = best.min(t);
        }
    }
    d.set(Verify::Auto)?;
    let seconds = (on - off).max(0.0);
    Ok(Verification {
        every,
        default_every: DEFAULT_VERIFY_EVERY,
        evaluate_off_seconds: off,
        evaluate_every_seconds: on,
        seconds,
        overhead_at_default: seconds / (DEFAULT_VERIFY_EVERY as f64 * off),
    })
}

/// Seconds per stage of a generic `prepare` ([`PrepareTimes`]), with every designer tried.
#[derive(Debug, Serialize)]
struct PrepareStages {
    detection: f64,
    design: f64,
    backend: f64,
    setup: f64,
    designers: Vec<DesignerTime>,
}

/// One designer of `prepare`: its probes (absent if it did not apply or was skipped) and
/// seconds.
#[derive(Debug, Serialize)]
struct DesignerTime {
    designer: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    probes: Option<usize>,
    seconds: f64,
}

impl PrepareStages {
    fn of(info: &RecoveryInfo) -> Self {
        let t: PrepareTimes = info.prepare;
        Self {
            detection: t.detection.as_secs_f64(),
            design: t.design.as_secs_f64(),
            backend: t.backend.as_secs_f64(),
            setup: t.setup.as_secs_f64(),
            designers: info
                .candidates
                .iter()
                .map(|c| DesignerTime {
                    designer: c.designer,
                    probes: c.outcome.probes(),
                    seconds: c.time.as_secs_f64(),
                })
                .collect(),
        }
    }
}

/// Median seconds of each stage of a composite evaluation ([`StageTimes`]).
#[derive(Debug, Serialize)]
struct Stages {
    objective: f64,
    affine_residuals: f64,
    curved_residuals: f64,
    curved_first_order: f64,
    outer_products: f64,
    assemble: f64,
}

/// Runs `f` `repeats` times (or adaptively for about a second) and returns the median
/// seconds and the count.
fn median_time(
    repeats: usize,
    mut f: impl FnMut() -> Result<(), CliError>,
) -> Result<(f64, usize), CliError> {
    let mut times = Vec::new();
    let start = Instant::now();
    loop {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
        let enough = if repeats > 0 {
            times.len() >= repeats
        } else {
            (start.elapsed().as_secs_f64() > 1.0 && times.len() >= 5)
                || times.len() >= crate::limits::MAX_BENCH_REPEATS as usize
        };
        if enough {
            break;
        }
    }
    let count = times.len();
    times.sort_by(f64::total_cmp);
    Ok((times[count / 2], count))
}

/// max over the union of entries of |got − expected| / max |expected|.
fn max_rel_error(got: &CsMat<f64>, pattern: &Pattern, values: &[f64]) -> f64 {
    let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut err = 0.0f64;
    for (k, (i, j)) in pattern.iter().enumerate() {
        let g = got.get(i, j).copied().unwrap_or(0.0);
        err = err.max((g - values[k]).abs());
    }
    for (g, (i, j)) in got.iter() {
        if !pattern.contains(i, j) {
            err = err.max(g.abs());
        }
    }
    if scale > 0.0 { err / scale } else { err }
}

fn strategy(method: MethodArg) -> Strategy {
    match method {
        MethodArg::Auto => Strategy::Auto,
        MethodArg::Roll => Strategy::Roll,
        MethodArg::Cpr => Strategy::Cpr,
        MethodArg::Star => Strategy::Star,
        MethodArg::Acyclic => Strategy::Acyclic,
        MethodArg::Random => Strategy::Random { oversampling: 2 },
    }
}

fn backend_choice(b: Backend) -> BackendChoice {
    match b {
        Backend::Auto => BackendChoice::Auto,
        Backend::Tape => BackendChoice::Tape,
        Backend::Forward => BackendChoice::Forward,
        Backend::Fd => BackendChoice::FiniteDifferences,
    }
}

fn method_name(m: MethodArg) -> &'static str {
    match m {
        MethodArg::Auto => "auto",
        MethodArg::Roll => "roll",
        MethodArg::Cpr => "cpr",
        MethodArg::Star => "star",
        MethodArg::Acyclic => "acyclic",
        MethodArg::Random => "random",
    }
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Auto => "auto",
        Backend::Tape => "tape",
        Backend::Forward => "forward",
        Backend::Fd => "fd",
    }
}

/// Runs `sparsediff bench`.
pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    let (report, json) = match &args.which {
        Which::Hessian(a) => (hessian(a)?, a.json),
        Which::Jacobian(a) => (jacobian(a)?, a.json),
        Which::Banded(a) => return crate::newton::banded(a),
    };
    let mut out = std::io::stdout().lock();
    if json {
        output::print_json(&mut out, &report)
    } else {
        print_text(&mut out, &report).map_err(CliError::stdout)
    }
}

fn hessian(a: &HessianArgs) -> Result<Report, CliError> {
    if a.n < 2 {
        return Err(CliError::Input(format!(
            "--n must be at least 2, got {}",
            a.n
        )));
    }
    let variables_per_n = if a.problem == HessianProblem::Cartpole {
        cartpole::VARS_PER_KNOT
    } else {
        1
    };
    crate::limits::bench_n(a.n, variables_per_n)?;
    if a.path == PathArg::Composite && a.problem != HessianProblem::Cartpole {
        return Err(CliError::Input(
            "--path composite needs --problem cartpole".to_string(),
        ));
    }
    if a.path == PathArg::Element && a.problem != HessianProblem::Cartpole {
        return Err(CliError::Input(
            "--path element needs --problem cartpole".to_string(),
        ));
    }
    if a.path != PathArg::Generic && a.detection != DetectionArg::Local {
        return Err(CliError::Input(
            "--detection applies to the generic path (--path generic) only".to_string(),
        ));
    }
    match a.problem {
        HessianProblem::Rosenbrock => {
            let x = eval_point(a.n);
            let reference = (
                rosenbrock::hessian_pattern(a.n)?,
                rosenbrock::hessian_values(&x),
            );
            run_hessian(
                a,
                "rosenbrock",
                Rosenbrock,
                &x,
                &reference,
                Some(Geometry::Band { beta: Some(1) }),
            )
        }
        HessianProblem::Grid2d => {
            let s = ((a.n as f64).sqrt().round() as usize).max(2);
            let g = GridEnergy::new(s);
            let x = eval_point(s * s);
            let reference = (g.hessian_pattern()?, g.hessian_values(&x));
            let geometry = Geometry::Grid2d {
                nx: s,
                ny: s,
                stencil: sparsediff::generators::Stencil2d::FivePoint,
            };
            run_hessian(a, "grid2d", g, &x, &reference, Some(geometry))
        }
        HessianProblem::Cartpole => {
            // dt = 5/N: the spec's 0.05 at N = 100 and 0.005 at N = 1000.
            let la = cartpole::AugmentedLagrangian::benchmark(cartpole::CartpoleProblem::new(a.n));
            let x = la.eval_point();
            let reference = la.hessian_reference(&x)?;
            match a.path {
                PathArg::Generic => run_hessian(a, "cartpole", la, &x, &reference, None),
                PathArg::Composite => run_composite(a, &la, &x, &reference),
                PathArg::Element => run_element(a, &la, &x, &reference),
            }
        }
    }
}

/// Prepares, checks against `reference` and times one Hessian problem.
fn run_hessian<F: ScalarFunction + Clone + Send + Sync + 'static>(
    a: &HessianArgs,
    problem: &'static str,
    f: F,
    x: &[f64],
    reference: &(Pattern, Vec<f64>),
    geometry: Option<Geometry>,
) -> Result<Report, CliError> {
    let options = Options {
        detector: a.detection.detector(),
        strategy: strategy(a.method),
        backend: backend_choice(a.backend),
        geometry,
        threads: a.threads,
        ..Options::default()
    };
    let start = Instant::now();
    let mut h = SparseHessian::prepare(f.clone(), x, &options)?;
    let prepare_seconds = start.elapsed().as_secs_f64();
    let error = max_rel_error(h.evaluate(x)?.matrix(), &reference.0, &reference.1);
    let (evaluate_seconds, repeats) = median_time(a.repeats, || {
        h.evaluate(x)?;
        Ok(())
    })?;
    let mut sink = 0.0;
    let (f_eval_seconds, _) = median_time(a.repeats, || {
        sink += f.eval(std::hint::black_box(x));
        Ok(())
    })?;
    std::hint::black_box(sink);
    let verification = verification(&mut h, x, a.repeats)?;
    let info = h.info();
    Ok(Report {
        problem,
        n: a.n,
        backend: backend_name(a.backend),
        method: method_name(a.method),
        probes: info.probes,
        prepare_seconds,
        evaluate_seconds,
        f_eval_seconds,
        max_rel_error: error,
        designer: info.designer.clone(),
        variables: x.len(),
        nnz: info.shape.2,
        lower_bound: info.lower_bound,
        ratio_to_f_eval: evaluate_seconds / f_eval_seconds,
        repeats,
        path: format!(
            "{} backend, {} lanes, {} decoding",
            info.backend, info.probes, info.designer
        ),
        stages: None,
        prepare_stages: Some(PrepareStages::of(info)),
        verification: Some(verification),
        element: None,
        mode: None,
        modes: None,
        detection: Some(a.detection.name()),
        threads: a.threads,
        threads_used: info.threads,
        max_relative_residual: info.max_relative_residual,
    })
}

/// Prepares, checks against `reference` and times the cartpole L_A Hessian on the element
/// path (the trajectory crate's cartpole, the same λ, μ, ρ), and the trajectory crate's
/// composite Hessian of the same L_A in the same run, alternating.
fn run_element(
    a: &HessianArgs,
    la: &cartpole::AugmentedLagrangian,
    x: &[f64],
    reference: &(Pattern, Vec<f64>),
) -> Result<Report, CliError> {
    use trajectory::{Transcribed, Transcription};
    let nlp = Transcribed::new(
        trajectory::cartpole::problem(a.n)?,
        Transcription::Trapezoidal,
    )?;
    let tla = trajectory::AugmentedLagrangian::new(&nlp, la.lambda.clone(), la.mu.clone(), la.rho)?;
    let start = Instant::now();
    let mut h = tla.element_hessian(x)?;
    let prepare_seconds = start.elapsed().as_secs_f64();
    h.evaluate(x)?;
    let matrix = h.pattern().to_sprs_with_values(h.values().to_vec())?;
    let error = max_rel_error(&matrix, &reference.0, &reference.1);
    let mut composite = tla.composite_hessian(x)?;
    // alternate the two, so that both see the same machine state
    let mut element_times = Vec::new();
    let mut hessian_only_times = Vec::new();
    let mut composite_times = Vec::new();
    let mut repeats = 0;
    let start = Instant::now();
    loop {
        let t = Instant::now();
        h.evaluate(std::hint::black_box(x))?;
        element_times.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        h.evaluate_hessian(std::hint::black_box(x))?;
        hessian_only_times.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        composite.evaluate(std::hint::black_box(x))?;
        composite_times.push(t.elapsed().as_secs_f64());
        repeats += 1;
        let enough = if a.repeats > 0 {
            repeats >= a.repeats
        } else {
            (start.elapsed().as_secs_f64() > 1.0 && repeats >= 5)
                || repeats >= crate::limits::MAX_BENCH_REPEATS as usize
        };
        if enough {
            break;
        }
    }
    // phase by phase: the median of each over as many profiled evaluations
    let mut phases: Vec<trajectory::element::PhaseTimes> = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        if let Some(p) = h.profile(x)? {
            phases.push(p);
        }
    }
    let phase = |f: fn(&trajectory::element::PhaseTimes) -> std::time::Duration| {
        let mut t: Vec<f64> = phases.iter().map(|p| f(p).as_secs_f64()).collect();
        t.sort_by(f64::total_cmp);
        t.get(t.len() / 2).copied().unwrap_or(0.0)
    };
    let phases = ElementPhases {
        elements: phase(|p| p.elements),
        residuals: phase(|p| p.residuals),
        gradient: phase(|p| p.gradient),
        hessian: phase(|p| p.hessian),
    };
    let stats = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        (t[0], t[t.len() / 2])
    };
    let (element_min, evaluate_seconds) = stats(&mut element_times);
    let (composite_min, composite_median) = stats(&mut composite_times);
    let (hessian_only_min, hessian_only_median) = stats(&mut hessian_only_times);
    let mut sink = 0.0;
    let (f_eval_seconds, _) = median_time(a.repeats, || {
        sink += la.value(std::hint::black_box(x));
        Ok(())
    })?;
    std::hint::black_box(sink);
    let lanes = h.lanes().unwrap_or(0);
    Ok(Report {
        problem: "cartpole",
        n: a.n,
        backend: "jets",
        method: "element",
        probes: lanes,
        prepare_seconds,
        evaluate_seconds,
        f_eval_seconds,
        max_rel_error: error,
        designer: "element".to_string(),
        variables: x.len(),
        nnz: h.pattern().nnz(),
        lower_bound: 0,
        ratio_to_f_eval: evaluate_seconds / f_eval_seconds,
        repeats,
        path: format!(
            "element: each knot's dynamics, running cost and path constraints once per \
             evaluation on second-order jets of {lanes} lanes, shared between the defect \
             rows; value and gradient in the same pass (included); the trajectory crate's \
             composite Hessian of the same L_A in the same run: median {:.3} µs, min {:.3} µs",
            composite_median * 1e6,
            composite_min * 1e6
        ),
        stages: None,
        prepare_stages: None,
        verification: None,
        element: Some(ElementTimes {
            lanes,
            evaluate_min_seconds: element_min,
            composite_evaluate_seconds: composite_median,
            composite_evaluate_min_seconds: composite_min,
            hessian_only_seconds: hessian_only_median,
            hessian_only_min_seconds: hessian_only_min,
            phases,
        }),
        mode: None,
        modes: None,
        detection: None,
        threads: a.threads,
        threads_used: 1,
        max_relative_residual: None,
    })
}

/// Prepares, checks against `reference` and times the cartpole L_A Hessian on the composite
/// path, and profiles its stages.
fn run_composite(
    a: &HessianArgs,
    la: &cartpole::AugmentedLagrangian,
    x: &[f64],
    reference: &(Pattern, Vec<f64>),
) -> Result<Report, CliError> {
    let start = Instant::now();
    let mut h = la.composite_hessian(x)?;
    let prepare_seconds = start.elapsed().as_secs_f64();
    let error = max_rel_error(h.evaluate(x)?, &reference.0, &reference.1);
    let (evaluate_seconds, repeats) = median_time(a.repeats, || {
        h.evaluate(x)?;
        Ok(())
    })?;
    // Stage by stage: the median of each over as many profiled evaluations.
    let mut profiles: Vec<StageTimes> = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        profiles.push(h.profile(x)?);
    }
    let median = |stage: fn(&StageTimes) -> std::time::Duration| {
        let mut t: Vec<f64> = profiles.iter().map(|p| stage(p).as_secs_f64()).collect();
        t.sort_by(f64::total_cmp);
        t.get(t.len() / 2).copied().unwrap_or(0.0)
    };
    let stages = Stages {
        objective: median(|p| p.objective),
        affine_residuals: median(|p| p.affine_residuals),
        curved_residuals: median(|p| p.curved_residuals),
        curved_first_order: median(|p| p.curved_first_order),
        outer_products: median(|p| p.outer_products),
        assemble: median(|p| p.assemble),
    };
    let mut sink = 0.0;
    let (f_eval_seconds, _) = median_time(a.repeats, || {
        sink += la.value(std::hint::black_box(x));
        Ok(())
    })?;
    std::hint::black_box(sink);
    let info = h.info();
    Ok(Report {
        problem: "cartpole",
        n: a.n,
        backend: "jets",
        method: "composite",
        probes: info.max_local_vars,
        prepare_seconds,
        evaluate_seconds,
        f_eval_seconds,
        max_rel_error: error,
        designer: "composite".to_string(),
        variables: x.len(),
        nnz: info.nnz,
        lower_bound: 0,
        ratio_to_f_eval: evaluate_seconds / f_eval_seconds,
        repeats,
        path: format!(
            "composite: {} objective terms + {} residuals; {} affine rows and {} quadratic \
             terms frozen ({} products in the base), {} rows of up to {} variables on jets of \
             at most {} lanes in {} classes ({} curved, {} weighted-Hessian products), at most \
             {} JᵀDJ products per evaluation",
            info.objective_rows,
            info.residual_rows,
            info.frozen_rows,
            info.quadratic_rows,
            info.base_products,
            info.jet_rows,
            info.max_local_vars,
            info.max_lanes,
            info.classes,
            info.curved_rows,
            info.weighted_products,
            info.outer_products
        ),
        stages: Some(stages),
        prepare_stages: None,
        verification: None,
        element: None,
        mode: None,
        modes: None,
        detection: None,
        threads: a.threads,
        threads_used: 1,
        max_relative_residual: None,
    })
}

fn jacobian(a: &JacobianArgs) -> Result<Report, CliError> {
    if a.n < 2 {
        return Err(CliError::Input(format!(
            "--n must be at least 2, got {}",
            a.n
        )));
    }
    crate::limits::bench_n(a.n, 1)?;
    let x = eval_point(a.n);
    match a.problem {
        JacobianProblem::Tridiagonal => run_jacobian(
            a,
            Tridiagonal,
            &x,
            (
                tridiagonal::jacobian_pattern(a.n)?,
                tridiagonal::jacobian_values(&x),
            ),
            tridiagonal::value_into::<f64>,
        ),
        JacobianProblem::DenseRow => run_jacobian(
            a,
            dense_row::DenseRow,
            &x,
            (
                dense_row::jacobian_pattern(a.n)?,
                dense_row::jacobian_values(&x),
            ),
            dense_row::value_into::<f64>,
        ),
        JacobianProblem::Arrow => run_jacobian(
            a,
            arrow::Arrow,
            &x,
            (arrow::jacobian_pattern(a.n)?, arrow::jacobian_values(&x)),
            arrow::value_into::<f64>,
        ),
    }
}

fn jacobian_mode(m: ModeArg) -> JacobianMode {
    match m {
        ModeArg::Auto => JacobianMode::Auto,
        ModeArg::Columns => JacobianMode::Columns,
        ModeArg::Rows => JacobianMode::Rows,
        ModeArg::Bidirectional => JacobianMode::Bidirectional,
    }
}

/// Prepares, checks against the analytic `reference` and times one Jacobian problem.
fn run_jacobian<F: VectorFunction + Send + Sync + 'static>(
    a: &JacobianArgs,
    f: F,
    x: &[f64],
    reference: (Pattern, Vec<f64>),
    value_into: fn(&[f64], &mut [f64]),
) -> Result<Report, CliError> {
    let options = Options {
        detector: a.detection.detector(),
        strategy: strategy(a.method),
        backend: backend_choice(a.backend),
        jacobian_mode: jacobian_mode(a.mode),
        threads: a.threads,
        ..Options::default()
    };
    let start = Instant::now();
    let mut j = SparseJacobian::prepare(f, x, &options)?;
    let prepare_seconds = start.elapsed().as_secs_f64();
    let error = max_rel_error(j.evaluate(x)?.matrix(), &reference.0, &reference.1);
    let (evaluate_seconds, repeats) = median_time(a.repeats, || {
        j.evaluate(x)?;
        Ok(())
    })?;
    let mut y = vec![0.0; a.n];
    let (f_eval_seconds, _) = median_time(a.repeats, || {
        value_into(std::hint::black_box(x), &mut y);
        std::hint::black_box(&y);
        Ok(())
    })?;
    let verification = verification(&mut j, x, a.repeats)?;
    let info = j.info();
    Ok(Report {
        problem: a.problem.name(),
        n: a.n,
        // the backend that computes the products (`auto` resolves to forward or tape)
        backend: info.backend,
        method: method_name(a.method),
        probes: info.probes,
        prepare_seconds,
        evaluate_seconds,
        f_eval_seconds,
        max_rel_error: error,
        designer: info.designer.clone(),
        variables: a.n,
        nnz: info.shape.2,
        lower_bound: info.lower_bound,
        ratio_to_f_eval: evaluate_seconds / f_eval_seconds,
        repeats,
        path: format!(
            "{} backend, {} {} products, {} decoding",
            info.backend,
            info.probes,
            match info.mode {
                sparsediff::Mode::Rows => "VJP",
                sparsediff::Mode::Columns => "JVP",
                _ => "JVP and VJP",
            },
            info.designer
        ),
        stages: None,
        prepare_stages: Some(PrepareStages::of(info)),
        verification: Some(verification),
        element: None,
        mode: Some(info.mode.name()),
        modes: Some(
            info.modes
                .iter()
                .map(|c| ModeReport {
                    mode: c.mode.name(),
                    products: c.products,
                    jvps: c.split.map(|s| s.0),
                    vjps: c.split.map(|s| s.1),
                    cost: c.cost,
                    skipped: c.skipped,
                    lower_bound: c.lower_bound,
                })
                .collect(),
        ),
        detection: Some(a.detection.name()),
        threads: a.threads,
        threads_used: info.threads,
        max_relative_residual: info.max_relative_residual,
    })
}

fn print_text(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    writeln!(
        out,
        "{} n={} ({} variables, {} entries)",
        r.problem, r.n, r.variables, r.nnz
    )?;
    writeln!(
        out,
        "  design    {} ({} probes, lower bound {}), {} backend",
        r.designer, r.probes, r.lower_bound, r.backend
    )?;
    if let (Some(mode), Some(modes)) = (r.mode, &r.modes) {
        let considered: Vec<String> = modes
            .iter()
            .map(|m| match (m.products, m.skipped) {
                (Some(p), _) => format!("{} {p} products", m.mode),
                (None, Some(why)) => {
                    format!(
                        "{} ≥ {} products, not designed: {why}",
                        m.mode, m.lower_bound
                    )
                }
                (None, None) => format!("{} not designed", m.mode),
            })
            .collect();
        writeln!(out, "  mode      {mode} ({})", considered.join(", "))?;
    }
    if let Some(d) = r.detection {
        writeln!(out, "  detection {d}")?;
    }
    writeln!(out, "  prepare   {:.6} s", r.prepare_seconds)?;
    if let Some(p) = &r.prepare_stages {
        let designers: Vec<String> = p
            .designers
            .iter()
            .filter(|d| d.seconds > 0.0)
            .map(|d| format!("{} {:.3}", d.designer, d.seconds))
            .collect();
        writeln!(
            out,
            "            detection {:.3} s, design {:.3} s ({}), backend {:.3} s, setup {:.3} s",
            p.detection,
            p.design,
            designers.join(", "),
            p.backend,
            p.setup
        )?;
    }
    writeln!(
        out,
        "  evaluate  {:.6} s (median of {}), {:.1}× the f64 evaluation ({:.6} s)",
        r.evaluate_seconds, r.repeats, r.ratio_to_f_eval, r.f_eval_seconds
    )?;
    writeln!(
        out,
        "  error     {:.2e} (max relative, against the analytic derivative)",
        r.max_rel_error
    )?;
    writeln!(out, "  path      {}", r.path)?;
    if let Some(v) = &r.verification {
        let cadence = match v.every {
            Some(k) => format!("the first evaluation and every {k}th"),
            None => "the first evaluation".to_string(),
        };
        writeln!(
            out,
            "  verify    {cadence}; one verification {:.6} s, {:.1} % of evaluate at every {}th",
            v.seconds,
            100.0 * v.overhead_at_default,
            v.default_every
        )?;
    }
    if let Some(e) = &r.element {
        writeln!(
            out,
            "  element   {} lanes; evaluate min {:.3} µs; Hessian without the gradient median \
             {:.3} µs, min {:.3} µs; composite (same L_A, same run) median {:.3} µs, min {:.3} µs",
            e.lanes,
            e.evaluate_min_seconds * 1e6,
            e.hessian_only_seconds * 1e6,
            e.hessian_only_min_seconds * 1e6,
            e.composite_evaluate_seconds * 1e6,
            e.composite_evaluate_min_seconds * 1e6
        )?;
        writeln!(
            out,
            "  phases    elements {:.2} µs, residuals {:.2} µs, gradient {:.2} µs, Hessian \
             {:.2} µs (medians)",
            e.phases.elements * 1e6,
            e.phases.residuals * 1e6,
            e.phases.gradient * 1e6,
            e.phases.hessian * 1e6
        )?;
    }
    if let Some(s) = &r.stages {
        let us = |t: f64| t * 1e6;
        writeln!(
            out,
            "  stages    φ {:.2} µs, affine r+J {:.2} µs, curved r+J+ψ′∇²r {:.2} µs (r+J alone \
             {:.2} µs), JᵀDJ {:.2} µs, assemble {:.2} µs (medians)",
            us(s.objective),
            us(s.affine_residuals),
            us(s.curved_residuals),
            us(s.curved_first_order),
            us(s.outer_products),
            us(s.assemble)
        )?;
    }
    Ok(())
}
