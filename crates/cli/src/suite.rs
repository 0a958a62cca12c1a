//! The built-in suite: what `sparsediff` (and `cargo run --release`) runs. Every pattern is
//! coloured with every applicable method under every order (the table shows the fewest
//! colours reached, by which order, against the lower bound, and the time of that order),
//! then every probe designer is compared (probes, decoding error, times) on the smaller
//! instances of the same families — the least-squares designers factor systems whose cost
//! grows much faster than n (the half-sample solve on the 60³ grid alone takes a minute),
//! so the full-size comparison is behind `--full-compare`. Then the cart-pole, from pattern
//! to control: the swing-up solved (N = 100), the MPC closed loop from hanging at rest, a
//! summary, and the plot and animation written to `sparsediff-out/cartpole/` (`--out`).

use std::io::Write;

use serde::Serialize;
use sparsediff_coloring::{ColoringParams, Method, OrderChoice, Problem, color, lower_bound};
use sparsediff_probe::Geometry;
use sparsediff_probe::compare::CompareOptions;

use crate::{CliError, input, output};

/// Options of the built-in suite.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SuiteArgs {
    /// Print one JSON array instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Smaller instances (seconds instead of a minute).
    #[arg(long)]
    pub quick: bool,
    /// Only the colourings, not the probe-designer comparison.
    #[arg(long)]
    pub no_compare: bool,
    /// Compare the probe designers on the full-size instances too (minutes: the
    /// least-squares designs on the 1e6 grid, the 60³ grid and the arrowhead dominate).
    #[arg(long)]
    pub full_compare: bool,
    /// Skip the cart-pole (swing-up solve, MPC closed loop, plot and animation).
    #[arg(long)]
    pub no_cartpole: bool,
    /// Where the cart-pole's plot and animation go (default `sparsediff-out`; the files
    /// are written to its `cartpole/` subdirectory, created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

/// The whole suite report (`--json`).
#[derive(Debug, Serialize)]
struct SuiteJson {
    colorings: Vec<Row>,
    compare: Vec<crate::compare::CompareJson>,
    cartpole: Option<crate::cartpole::MainJob>,
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
struct Row {
    pattern: String,
    rows: usize,
    cols: usize,
    nnz: usize,
    problem: String,
    method: String,
    colors: usize,
    lower_bound: usize,
    order: String,
    seconds: f64,
    all_orders_seconds: f64,
    natural_colors: Option<usize>,
    valid: bool,
}

fn patterns(quick: bool) -> Vec<String> {
    let (n, grid, grid9, grid3) = if quick {
        (10_000, 100, 60, 15)
    } else {
        (100_000, 1000, 300, 60)
    };
    vec![
        format!("band:n={n},k=1"),
        format!("band:n={n},k=3"),
        format!("band:n={n},k=8"),
        format!("grid2d:nx={grid},ny={grid},stencil=5"),
        format!("grid2d:nx={grid9},ny={grid9},stencil=9"),
        format!("grid3d:nx={grid3},ny={grid3},nz={grid3}"),
        // A dense row: distance-2 needs n colours (and O(n²) work), star colouring 2.
        format!("arrow:n={},width=1", n / 10),
        "cartpole:N=100".to_string(),
        "cartpole:N=1000".to_string(),
        "builtin:lp_ken_11".to_string(),
    ]
}

/// Runs the suite.
pub fn run(args: &SuiteArgs) -> Result<(), CliError> {
    let cartpole_dir = if args.no_cartpole {
        None
    } else {
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from("sparsediff-out"));
        Some(output::prepare_dir(&out, "cartpole")?)
    };
    let specs = patterns(args.quick);
    let mut jobs = Vec::new();
    for spec in &specs {
        let (p, parsed) = input::load_with_spec(spec)?;
        let problems: Vec<(Problem, Method)> = if p.is_symmetric() {
            [
                Method::Distance2,
                Method::Star,
                Method::Acyclic,
                Method::Distance1,
            ]
            .into_iter()
            .map(|m| (Problem::Symmetric, m))
            .collect()
        } else {
            vec![(Problem::Column, Method::Cpr), (Problem::Row, Method::Cpr)]
        };
        jobs.push((spec.clone(), p, problems, parsed));
    }
    // the designers are compared on the smaller instances unless asked for full size
    let compare_small = args.quick || !args.full_compare;
    let mut compare_jobs = Vec::new();
    if !args.no_compare {
        for spec in patterns(compare_small) {
            let (p, parsed) = input::load_with_spec(&spec)?;
            compare_jobs.push((spec, p, parsed));
        }
    }
    let designers = |parsed: &Option<sparsediff_pattern::PatternSpec>| {
        let geometry = parsed.as_ref().and_then(Geometry::of_spec);
        sparsediff_probe::compare::designers(&CompareOptions {
            geometry,
            ..CompareOptions::default()
        })
        .len()
            + sparsediff_probe::compare::bidirectional_designers().len()
    };
    let total: usize = jobs.iter().map(|(_, _, m, _)| m.len()).sum::<usize>()
        + compare_jobs
            .iter()
            .map(|(_, _, parsed)| designers(parsed))
            .sum::<usize>();
    let bar = crate::progress::bar(total);
    let params = ColoringParams::with_order(OrderChoice::best());
    let mut rows = Vec::new();
    for (spec, p, problems, _) in &jobs {
        for &(problem, method) in problems {
            bar.set_message(format!("{spec} {method}"));
            let c = color(p, problem, method, &params)?;
            let winner = c.tried().iter().find(|t| t.order == c.order());
            rows.push(Row {
                pattern: spec.clone(),
                rows: p.nrows(),
                cols: p.ncols(),
                nnz: p.nnz(),
                problem: problem.to_string(),
                method: method.to_string(),
                colors: c.num_colors(),
                lower_bound: lower_bound(p, problem, method)?,
                order: c.order().to_string(),
                seconds: winner.map_or(0.0, |t| t.seconds),
                all_orders_seconds: c.tried().iter().map(|t| t.seconds).sum(),
                natural_colors: c.tried()[0].colors,
                valid: c.check(p).is_ok(),
            });
            bar.inc(1);
        }
    }
    let mut compared = Vec::new();
    for (spec, p, parsed) in &compare_jobs {
        let geometry = parsed.as_ref().and_then(Geometry::of_spec);
        compared.push(crate::compare::compare_pattern(
            spec,
            p,
            geometry,
            &CompareOptions::default(),
            &bar,
        ));
    }
    bar.finish_and_clear();
    let probes = rows
        .iter()
        .find(|r| r.pattern == "cartpole:N=100" && r.method == "star")
        .map(|r| r.colors);
    let cartpole = cartpole_dir
        .as_deref()
        .map(|dir| crate::cartpole::main_job(dir, probes))
        .transpose()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        output::print_json(
            &mut out,
            &SuiteJson {
                colorings: rows.clone(),
                compare: compared,
                cartpole,
            },
        )?;
    } else {
        print_table(&mut out, &rows).map_err(CliError::stdout)?;
        if !compared.is_empty() {
            let scale = if compare_small {
                " (the smaller instances; --full-compare for the sizes above)"
            } else {
                ""
            };
            writeln!(out, "\nProbe designers (sparsediff compare): seeded random matrix on each pattern, exact products{scale}").map_err(CliError::stdout)?;
            for r in &compared {
                writeln!(out).map_err(CliError::stdout)?;
                crate::compare::print_text(&mut out, r).map_err(CliError::stdout)?;
            }
        }
        if let Some(job) = &cartpole {
            crate::cartpole::print_main_job(&mut out, job).map_err(CliError::stdout)?;
        }
    }
    match rows.iter().find(|r| !r.valid) {
        Some(r) => Err(CliError::Io {
            what: format!("suite ({} {} failed its check)", r.pattern, r.method),
            source: std::io::Error::other("invalid colouring"),
        }),
        None => Ok(()),
    }
}

fn print_table(out: &mut impl Write, rows: &[Row]) -> std::io::Result<()> {
    writeln!(
        out,
        "sparsediff: colourings of the built-in suite (fewest colours over all orders; `sparsediff color --help` for one pattern)"
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<34} {:>9} {:>9} {:<10} {:<9} {:>7} {:>7} {:>7}  {:<22} {:>9}  valid",
        "pattern",
        "n",
        "nnz",
        "problem",
        "method",
        "natural",
        "best",
        "bound",
        "best order",
        "time [s]"
    )?;
    for r in rows {
        let n = if r.rows == r.cols {
            r.rows.to_string()
        } else {
            format!("{}×{}", r.rows, r.cols)
        };
        writeln!(
            out,
            "{:<34} {:>9} {:>9} {:<10} {:<9} {:>7} {:>7} {:>7}  {:<22} {:>9.4}  {}",
            r.pattern,
            n,
            r.nnz,
            r.problem,
            r.method,
            r.natural_colors.map_or("-".to_string(), |k| k.to_string()),
            r.colors,
            r.lower_bound,
            r.order,
            r.seconds,
            if r.valid { "yes" } else { "NO" }
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "natural: colours in natural order; best: fewest over {} orders; bound: lower bound (max row nnz, closed neighbourhood, or a greedy clique).",
        sparsediff_coloring::Order::ALL.len()
    )?;
    writeln!(
        out,
        "time: ordering + colouring with the best order, one thread."
    )
}
