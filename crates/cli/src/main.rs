//! `sparsediff`: the command-line face of the library.
//!
//! * `sparsediff` (no arguments) = `sparsediff suite`: colours a built-in suite of patterns
//!   with every applicable method (colours against lower bounds and time), then compares
//!   every probe designer on smaller instances of the same patterns, then solves the
//!   cartpole swing-up, runs the MPC closed loop from hanging at rest, prints a summary and
//!   writes its plot and animation to `sparsediff-out/cartpole/`.
//! * `sparsediff color <PATTERN>`: colours one pattern (a `.mtx` file or a generator spec
//!   such as `band:n=1000,k=3` or `cartpole:N=100`); `--json` prints one object for scripts.
//! * `sparsediff compare <PATTERN>`: every probe designer on one pattern (probes, error,
//!   design and decode time; `--plot` writes an SVG).
//! * `sparsediff bench hessian|jacobian|banded`: a prepared sparse Hessian or Jacobian of a
//!   benchmark problem (prepare, evaluate, verification cost), or the banded factorisation.
//! * `sparsediff report probe-strategies`: regenerates `papers/probe-strategies.md`.
//! * `sparsediff newton rosenbrock|bratu`: the sparse Newton, trust-region and L-BFGS
//!   solvers on two classic problems.
//! * `sparsediff cartpole --controller lqr|energy|tvlqr|mpc`: a closed-loop cart-pole run (JSON,
//!   an SVG of x, θ and a, a self-contained HTML animation).
//! * `sparsediff lqr cartpole`: the LQR (CARE, or DARE with `--discrete DT`) of the spec's
//!   linearisation.
//!
//! Long runs report progress on standard error (a bar on a terminal, a line every few
//! seconds otherwise); the JSON fields named in the issues are kept as they are.

mod bench;
mod cartpole;
mod color;
mod compare;
mod input;
mod limits;
mod lqr;
mod newton;
mod output;
mod plot;
mod progress;
mod report;
mod suite;
mod trajopt;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sparse Jacobians and Hessians from a few matrix-vector products.
#[derive(Debug, Parser)]
#[command(name = "sparsediff", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Colour a sparsity pattern for compressed recovery.
    Color(color::ColorArgs),
    /// Compare every probe designer on a pattern: probes, error, time.
    Compare(compare::CompareArgs),
    /// Regenerate a write-up in papers/ (tables and SVG figures).
    Report(report::ReportArgs),
    /// Time a sparse Hessian or Jacobian of a benchmark problem against f and an analytic
    /// derivative.
    Bench(bench::BenchArgs),
    /// Minimise chained Rosenbrock or solve 2-D Bratu with the sparse solvers.
    Newton(newton::NewtonArgs),
    /// Colour the built-in suite with every applicable method (what running without
    /// arguments does).
    Suite(suite::SuiteArgs),
    /// Solve the cartpole swing-up by augmented-Lagrangian Newton.
    Trajopt(trajopt::TrajoptArgs),
    /// Run the cartpole swing-up's receding-horizon controller in closed loop.
    Mpc(trajopt::MpcArgs),
    /// Simulate the cart-pole under the LQR, the energy swing-up, the TVLQR tracker or MPC.
    Cartpole(cartpole::CartpoleArgs),
    /// The LQR gain, Riccati solution and closed-loop eigenvalues of a linearisation.
    Lqr(lqr::LqrArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Color(args)) => color::run(&args),
        Some(Command::Compare(args)) => compare::run(&args),
        Some(Command::Report(args)) => report::run(&args),
        Some(Command::Bench(args)) => bench::run(&args),
        Some(Command::Newton(args)) => newton::run(&args),
        Some(Command::Suite(args)) => suite::run(&args),
        Some(Command::Trajopt(args)) => trajopt::run_trajopt(&args),
        Some(Command::Mpc(args)) => trajopt::run_mpc(&args),
        Some(Command::Cartpole(args)) => cartpole::run(&args),
        Some(Command::Lqr(args)) => lqr::run(&args),
        None => suite::run(&suite::SuiteArgs::default()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Everything that can make a command fail.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Reading or building the pattern failed.
    #[error(transparent)]
    Pattern(#[from] sparsediff_pattern::PatternError),
    /// A PATTERN names a generator nobody knows.
    #[error(
        "pattern spec `{spec}`: unknown generator `{name}` (known: {}; or a path to a .mtx file)",
        input::generators()
    )]
    UnknownGenerator {
        /// The spec as given.
        spec: String,
        /// The generator name it gives.
        name: String,
    },
    /// Colouring failed.
    #[error(transparent)]
    Coloring(#[from] sparsediff_coloring::ColoringError),
    /// Designing probes failed.
    #[error(transparent)]
    Design(#[from] sparsediff_probe::DesignError),
    /// Preparing or evaluating a sparse derivative failed.
    #[error(transparent)]
    Sparse(#[from] sparsediff::SparseError),
    /// The composite Hessian failed (boxed: it is large).
    #[error(transparent)]
    Composite(Box<sparsediff::composite::CompositeError>),
    /// The trajectory crate refused the problem, the solve or the element Hessian (boxed:
    /// it is large).
    #[error(transparent)]
    Trajectory(Box<trajectory::TrajectoryError>),
    /// An argument is out of range.
    #[error("{0}")]
    Input(String),
    /// An option value is not understood.
    #[error("{0}")]
    Name(#[from] sparsediff_coloring::UnknownName),
    /// Writing output failed.
    #[error("cannot write {what}: {source}")]
    Io {
        /// What was being written.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The colouring failed its independent check (a bug: please report it).
    #[error("the colouring failed its independent check: {0}")]
    Invalid(sparsediff_coloring::check::Violation),
    /// A count given on the command line exceeds its documented maximum (see `limits`).
    #[error("{option} = {value} exceeds its maximum {limit} ({reason})")]
    CountTooLarge {
        /// The option.
        option: &'static str,
        /// The value given.
        value: u128,
        /// The largest value accepted.
        limit: u128,
        /// Where the maximum comes from.
        reason: &'static str,
    },
    /// An output directory (or a file's directory) has no parent directory: missing
    /// parents are not created.
    #[error(
        "cannot write to {}: the directory {} does not exist",
        path.display(),
        parent.display()
    )]
    MissingDirectory {
        /// The output path.
        path: std::path::PathBuf,
        /// Its missing parent.
        parent: std::path::PathBuf,
    },
    /// An output directory exists but is not a directory.
    #[error("cannot write to {}: it is not a directory", path.display())]
    NotADirectory {
        /// The output path.
        path: std::path::PathBuf,
    },
    /// The cartpole package refused its input (a named parameter, matrix or solver error).
    #[error(transparent)]
    Cartpole(#[from] ::cartpole::CartpoleError),
    /// An option's value was refused by the cartpole package.
    #[error("{option}: {source}")]
    Option {
        /// The option.
        option: &'static str,
        /// Why.
        #[source]
        source: ::cartpole::CartpoleError,
    },
    /// A number given on the command line is outside its range.
    #[error("{option} = {value} is outside ({min}, {max}]")]
    OutOfRange {
        /// The option.
        option: &'static str,
        /// The value given.
        value: f64,
        /// Exclusive lower end.
        min: f64,
        /// Inclusive upper end.
        max: f64,
    },
    /// A list option has the wrong number of entries.
    #[error("{option} needs {expected} comma-separated numbers, got {given}")]
    WrongCount {
        /// The option.
        option: &'static str,
        /// Entries given.
        given: usize,
        /// Entries expected.
        expected: usize,
    },
    /// An entry of a list option is not a number.
    #[error("{option}: entry {index} `{text}` is not a number")]
    NotANumber {
        /// The option.
        option: &'static str,
        /// Its position (from 0).
        index: usize,
        /// The text given.
        text: String,
    },
    /// An output directory cannot be created or written.
    #[error("cannot write to the directory {}: {source}", path.display())]
    NotWritable {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl CliError {
    fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }

    /// Wraps an I/O error on standard output.
    pub fn stdout(source: std::io::Error) -> Self {
        CliError::Io {
            what: "standard output".to_string(),
            source,
        }
    }
}

impl From<trajectory::TrajectoryError> for CliError {
    fn from(e: trajectory::TrajectoryError) -> Self {
        CliError::Trajectory(Box::new(e))
    }
}

impl From<sparsediff::composite::CompositeError> for CliError {
    fn from(e: sparsediff::composite::CompositeError) -> Self {
        CliError::Composite(Box::new(e))
    }
}
