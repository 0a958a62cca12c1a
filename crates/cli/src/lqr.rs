//! `sparsediff lqr cartpole [--q 1,1,1,1] [--r 1] [--discrete DT]`: the LQR of the spec's
//! linearisation about the upright (`A`, `B` of `crates/problems/spec/cartpole-swingup.md`,
//! obtained by forward AD from the model), `Q = diag(q)`, `R = r`.
//!
//! * continuous (default): the CARE by `cartpole::lqr::care4` (sign iteration on stack
//!   arrays + one Newton–Kleinman step); the eigenvalues of `A − BK` from faer;
//! * `--discrete DT`: the zero-order-hold discretisation over DT and the DARE by
//!   structured doubling (`cartpole::lqr::dare`), Q and R per step; eigenvalues of
//!   `A_d − B_d K` (inside the unit circle).
//!
//! `seconds` is the median of `--repeats` solves (`min_seconds` the fastest), the
//! linearisation and discretisation not included.

use std::f64::consts::PI;
use std::io::Write;
use std::time::Instant;

use cartpole::linearize::linearize;
use cartpole::lqr::{Lqr, RiccatiOptions, Weights, care4, dare, discretize};
use cartpole::model::{AccelerationCart, AccelerationParams};
use serde::Serialize;

use crate::{CliError, output};

/// The problems `sparsediff lqr` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LqrProblem {
    /// The spec's cart-pole linearised about the upright.
    Cartpole,
}

/// Options of `sparsediff lqr`.
#[derive(Debug, Clone, clap::Args)]
pub struct LqrArgs {
    /// The problem.
    #[arg(value_enum)]
    problem: LqrProblem,
    /// The diagonal of Q: four comma-separated non-negative numbers (x, v, θ, ω).
    #[arg(long, default_value = "1,1,1,1", allow_negative_numbers = true)]
    q: String,
    /// R (positive).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    r: f64,
    /// Solve the discrete problem for this sample time, s (> 0).
    #[arg(long, value_name = "DT", allow_negative_numbers = true)]
    discrete: Option<f64>,
    /// Timed solves (the median is reported), 1 to 10 000.
    #[arg(long, default_value_t = 101, value_parser = crate::limits::count(crate::limits::MAX_BENCH_REPEATS))]
    repeats: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    #[serde(rename = "K")]
    k: Vec<f64>,
    #[serde(rename = "P")]
    p: Vec<Vec<f64>>,
    closed_loop_eigenvalues: Vec<[f64; 2]>,
    residual: f64,
    seconds: f64,
    min_seconds: f64,
    iterations: usize,
    repeats: usize,
    method: &'static str,
    discrete: Option<f64>,
    q: [f64; 4],
    r: f64,
    #[serde(rename = "A")]
    a: Vec<Vec<f64>>,
    #[serde(rename = "B")]
    b: Vec<f64>,
}

fn parse_q(s: &str) -> Result<[f64; 4], CliError> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.len() != 4 {
        return Err(CliError::WrongCount {
            option: "--q",
            given: parts.len(),
            expected: 4,
        });
    }
    let mut q = [0.0; 4];
    for (i, p) in parts.iter().enumerate() {
        q[i] = p.parse::<f64>().map_err(|_| CliError::NotANumber {
            option: "--q",
            index: i,
            text: (*p).to_string(),
        })?;
    }
    Ok(q)
}

/// Times `solve` `repeats` times; returns (median, min) seconds and the last result.
fn timed<T>(
    repeats: usize,
    mut solve: impl FnMut() -> Result<T, cartpole::CartpoleError>,
) -> Result<(f64, f64, T), CliError> {
    let mut times = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let v = solve()?;
        times.push(start.elapsed().as_secs_f64());
        last = Some(v);
    }
    times.sort_by(f64::total_cmp);
    let v = last.ok_or(CliError::Input("no solve was run".to_string()))?;
    Ok((times[times.len() / 2], times[0], v))
}

/// Runs `sparsediff lqr`.
pub fn run(args: &LqrArgs) -> Result<(), CliError> {
    let LqrProblem::Cartpole = args.problem;
    if args.repeats == 0 {
        return Err(CliError::Input("--repeats must be at least 1".to_string()));
    }
    let q = parse_q(&args.q)?;
    let weights = Weights::diagonal(q, args.r).map_err(|e| CliError::Option {
        option: if matches!(
            e,
            cartpole::CartpoleError::InvalidParameter { name: "r", .. }
        ) {
            "--r"
        } else {
            "--q"
        },
        source: e,
    })?;
    let cart = AccelerationCart::new(AccelerationParams::default())?;
    let lin = linearize(&cart, &[0.0, 0.0, PI, 0.0], &[0.0])?;
    let options = RiccatiOptions::default();
    let (seconds, min_seconds, lqr, method): (f64, f64, Lqr, &'static str) = match args.discrete {
        None => {
            let a: [[f64; 4]; 4] = std::array::from_fn(|i| std::array::from_fn(|j| lin.a[(i, j)]));
            let b: [f64; 4] = std::array::from_fn(|i| lin.b[(i, 0)]);
            let qa = weights.q_array();
            let (median, min, small) =
                timed(args.repeats, || care4(&a, &b, &qa, args.r, &options))?;
            (
                median,
                min,
                small.to_lqr(&a, &b)?,
                "care4: sign iteration + Newton-Kleinman, stack arrays",
            )
        }
        Some(dt) => {
            let (ad, bd) =
                discretize(lin.a.as_ref(), lin.b.as_ref(), dt).map_err(|e| CliError::Option {
                    option: "--discrete",
                    source: e,
                })?;
            let (median, min, l) = timed(args.repeats, || {
                dare(
                    ad.as_ref(),
                    bd.as_ref(),
                    weights.q.as_ref(),
                    weights.r.as_ref(),
                    &options,
                )
            })?;
            (
                median,
                min,
                l,
                "dare: structured doubling (faer), zero-order hold",
            )
        }
    };
    let report = Report {
        k: (0..4).map(|j| lqr.k[(0, j)]).collect(),
        p: (0..4)
            .map(|i| (0..4).map(|j| lqr.p[(i, j)]).collect())
            .collect(),
        closed_loop_eigenvalues: lqr
            .closed_loop_eigenvalues
            .iter()
            .map(|&(re, im)| [re, im])
            .collect(),
        residual: lqr.residual,
        seconds,
        min_seconds,
        iterations: lqr.iterations,
        repeats: args.repeats,
        method,
        discrete: args.discrete,
        q,
        r: args.r,
        a: (0..4)
            .map(|i| (0..4).map(|j| lin.a[(i, j)]).collect())
            .collect(),
        b: (0..4).map(|i| lin.b[(i, 0)]).collect(),
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        return output::print_json(&mut out, &report);
    }
    let w = |out: &mut std::io::StdoutLock<'_>| -> std::io::Result<()> {
        writeln!(
            out,
            "LQR of the cartpole about the upright ({})",
            report.method
        )?;
        writeln!(out, "  K = {:?}", report.k)?;
        for row in &report.p {
            writeln!(out, "  P   {row:?}")?;
        }
        for [re, im] in &report.closed_loop_eigenvalues {
            writeln!(out, "  eig {re:+.6} {im:+.6}i")?;
        }
        writeln!(
            out,
            "  residual {:.2e}, {:.2e} s median of {} ({:.2e} s min)",
            report.residual, report.seconds, report.repeats, report.min_seconds
        )
    };
    w(&mut out).map_err(CliError::stdout)
}
