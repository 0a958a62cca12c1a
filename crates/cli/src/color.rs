//! `sparsediff color <PATTERN>`: colour one pattern and report colours, lower bound,
//! validity (from the independent checker) and time.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use sparsediff_coloring::{
    ColoringParams, Method, NEUTRAL, Order, OrderChoice, Problem, color, lower_bound, to_dot,
};
use sparsediff_pattern::{MtxSymmetry, write_matrix_market_file};

use crate::{CliError, input, limits, output};

/// Options of `sparsediff color`.
#[derive(Debug, Clone, clap::Args)]
pub struct ColorArgs {
    /// A Matrix Market file, a generator spec or a builtin: `band:n=1000,k=3`
    /// (or `lower=..,upper=..`), `block_band:nblocks=..,block=..,k=..`,
    /// `grid2d:nx=1000,ny=1000,stencil=5`, `grid3d:nx=..,ny=..,nz=..`, `arrow:n=..,width=..`,
    /// `random:m=..,n=..,density=..,seed=..[,symmetric=true]`, `cartpole:N=100`,
    /// `builtin:lp_ken_11`.
    pub pattern: String,
    /// column | row | symmetric | bidirectional [default: symmetric for symmetric patterns,
    /// else column]. `bidirectional` colours columns (JVPs) and rows (VJPs) together;
    /// `colors` is then their sum, also reported as `column_colors` and `row_colors`.
    #[arg(long)]
    pub problem: Option<Problem>,
    /// cpr | distance1 | d2 | star | acyclic [default: cpr, or star for symmetric and
    /// bidirectional]. Bidirectional takes star (direct) or acyclic (substitution).
    #[arg(long)]
    pub method: Option<Method>,
    /// natural | largest-first | smallest-last | incidence-degree | dynamic-largest-first |
    /// dsatur | perfect-elimination | random (or random:SEED) | best.
    #[arg(long, default_value = "natural", value_parser = parse_order_choice)]
    pub order: OrderChoice,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write the colouring to FILE, one colour per line (-1 for the neutral colour); for
    /// `bidirectional`, the n columns then the m rows, row colours numbered after the
    /// column colours.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the coloured graph to FILE in Graphviz DOT format (small patterns).
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,
    /// Neutral-colour post-processing (star and acyclic).
    #[arg(long)]
    pub postprocess: bool,
    /// Iterated-greedy recolouring passes (cpr, distance1, d2), at most 1000.
    #[arg(long, default_value_t = 0, value_name = "N",
          value_parser = limits::count(limits::MAX_RECOLOR_PASSES))]
    pub recolor: usize,
    /// Colour A ∪ Aᵀ when a symmetric problem is given an asymmetric pattern.
    #[arg(long)]
    pub symmetrize: bool,
    /// Write the pattern coloured (after `--symmetrize`) to FILE as a Matrix Market
    /// `pattern` file: the lower triangle when it is symmetric, every entry otherwise.
    /// Written before colouring; e.g. inputs for other colouring tools.
    #[arg(long, value_name = "FILE")]
    pub write_mtx: Option<PathBuf>,
}

/// Parses `best` or one order name.
pub fn parse_order_choice(s: &str) -> Result<OrderChoice, sparsediff_coloring::UnknownName> {
    if s.eq_ignore_ascii_case("best") {
        Ok(OrderChoice::best())
    } else {
        Ok(OrderChoice::Single(s.parse::<Order>()?))
    }
}

fn order_name(o: &OrderChoice) -> String {
    match o {
        OrderChoice::Single(o) => o.to_string(),
        OrderChoice::Best(_) => "best".to_string(),
    }
}

#[derive(Debug, Serialize)]
struct Tried {
    order: String,
    /// `null` when the order was skipped as too expensive for this pattern.
    colors: Option<usize>,
    /// Ordering and colouring.
    seconds: f64,
    /// Of `seconds`, the ordering alone (`null` when not measured apart; 0 for the natural
    /// order of a distance-2 colouring, which visits 0..n without building an order).
    order_seconds: Option<f64>,
}

/// The JSON report (the first ten fields are the public contract).
#[derive(Debug, Serialize)]
struct ColorReport {
    rows: usize,
    cols: usize,
    nnz: usize,
    problem: String,
    method: String,
    order: String,
    colors: usize,
    lower_bound: usize,
    valid: bool,
    seconds: f64,
    pattern: String,
    chosen_order: String,
    neutral: usize,
    postprocessed: bool,
    symmetrized: bool,
    violation: Option<String>,
    check_seconds: f64,
    tried: Vec<Tried>,
    /// Bidirectional only: column colours (JVPs).
    #[serde(skip_serializing_if = "Option::is_none")]
    column_colors: Option<usize>,
    /// Bidirectional only: row colours (VJPs).
    #[serde(skip_serializing_if = "Option::is_none")]
    row_colors: Option<usize>,
    /// Bidirectional only: the strategy that won (cover-columns, cover-rows, augmented,
    /// columns, rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    strategy: Option<String>,
    /// Bidirectional only: every (strategy, order) tried; `tried` merges them per order
    /// (the cover strategies report the largest-first order they use).
    #[serde(skip_serializing_if = "Option::is_none")]
    strategies: Option<Vec<StrategyTried>>,
}

#[derive(Debug, Serialize)]
struct StrategyTried {
    strategy: String,
    order: String,
    /// `null` when the strategy was abandoned or skipped.
    colors: Option<usize>,
    seconds: f64,
}

/// Runs `sparsediff color`.
pub fn run(args: &ColorArgs) -> Result<(), CliError> {
    for path in [&args.out, &args.dot, &args.write_mtx]
        .into_iter()
        .flatten()
    {
        output::check_file(path)?;
    }
    let mut pattern = input::load(&args.pattern)?;
    let mut symmetrized = false;
    let problem = args.problem.unwrap_or(if pattern.is_symmetric() {
        Problem::Symmetric
    } else {
        Problem::Column
    });
    if problem == Problem::Symmetric && args.symmetrize && !pattern.is_symmetric() {
        pattern = pattern.symmetrize()?;
        symmetrized = true;
    }
    if let Some(path) = &args.write_mtx {
        let symmetry = if pattern.is_symmetric() {
            MtxSymmetry::Symmetric
        } else {
            MtxSymmetry::General
        };
        write_matrix_market_file(path, &pattern, None, symmetry)?;
    }
    let method = args.method.unwrap_or(match problem {
        Problem::Symmetric | Problem::Bidirectional => Method::Star,
        _ => Method::Cpr,
    });
    let params = ColoringParams {
        order: args.order.clone(),
        postprocess: args.postprocess,
        recolor_passes: args.recolor,
        stop_at: None,
    };
    let start = Instant::now();
    let coloring = color(&pattern, problem, method, &params)?;
    let seconds = start.elapsed().as_secs_f64();
    let lb = lower_bound(&pattern, problem, method)?;
    let check_start = Instant::now();
    let verdict = coloring.check(&pattern);
    let check_seconds = check_start.elapsed().as_secs_f64();

    if let Some(path) = &args.out {
        let text: String = coloring
            .colors()
            .iter()
            .map(|&c| {
                if c == NEUTRAL {
                    "-1\n".to_string()
                } else {
                    format!("{c}\n")
                }
            })
            .collect();
        output::write_file(path, &text)?;
    }
    if let Some(path) = &args.dot {
        output::write_file(path, &to_dot(&pattern, &coloring))?;
    }

    let report = ColorReport {
        rows: pattern.nrows(),
        cols: pattern.ncols(),
        nnz: pattern.nnz(),
        problem: problem.to_string(),
        method: method.to_string(),
        order: order_name(&args.order),
        colors: coloring.num_colors(),
        lower_bound: lb,
        valid: verdict.is_ok(),
        seconds,
        pattern: args.pattern.clone(),
        chosen_order: coloring.order().to_string(),
        neutral: coloring.num_neutral(),
        postprocessed: coloring.is_postprocessed(),
        symmetrized,
        violation: verdict.as_ref().err().map(ToString::to_string),
        check_seconds,
        tried: coloring
            .tried()
            .iter()
            .map(|t| Tried {
                order: t.order.to_string(),
                colors: t.colors,
                seconds: t.seconds,
                order_seconds: t.order_seconds,
            })
            .collect(),
        column_colors: coloring.bicoloring().map(|b| b.num_column_colors()),
        row_colors: coloring.bicoloring().map(|b| b.num_row_colors()),
        strategy: coloring.bicoloring().map(|b| b.strategy().to_string()),
        strategies: coloring.bicoloring().map(|b| {
            b.tried()
                .iter()
                .map(|t| StrategyTried {
                    strategy: t.strategy.to_string(),
                    order: t.order.to_string(),
                    colors: t.colors,
                    seconds: t.seconds,
                })
                .collect()
        }),
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        output::print_json(&mut out, &report)?;
    } else {
        print_text(&mut out, &report).map_err(CliError::stdout)?;
    }
    verdict.map_err(CliError::Invalid)
}

fn print_text(out: &mut impl Write, r: &ColorReport) -> std::io::Result<()> {
    writeln!(
        out,
        "pattern      {} ({}×{}, {} entries{})",
        r.pattern,
        r.rows,
        r.cols,
        r.nnz,
        if r.symmetrized { ", symmetrised" } else { "" }
    )?;
    writeln!(
        out,
        "problem      {}, method {}, order {}",
        r.problem, r.method, r.order
    )?;
    if r.tried.len() > 1 {
        for t in &r.tried {
            match t.colors {
                Some(k) => writeln!(
                    out,
                    "  {:<24} {k:>6} colours  {:>10.6} s",
                    t.order, t.seconds
                )?,
                None => writeln!(
                    out,
                    "  {:<24} skipped: too expensive for this pattern",
                    t.order
                )?,
            }
        }
        writeln!(out, "chosen order {}", r.chosen_order)?;
    }
    writeln!(
        out,
        "colours      {} (lower bound {}{})",
        r.colors,
        r.lower_bound,
        if r.colors == r.lower_bound {
            ", optimal"
        } else {
            ""
        }
    )?;
    if let (Some(c), Some(rw)) = (r.column_colors, r.row_colors) {
        writeln!(
            out,
            "bidirection  {c} column colours (JVPs) + {rw} row colours (VJPs), strategy {}",
            r.strategy.as_deref().unwrap_or("?")
        )?;
    }
    if r.postprocessed {
        writeln!(out, "neutral      {} vertices in no probe", r.neutral)?;
    }
    match &r.violation {
        None => writeln!(
            out,
            "valid        yes (independent checker, {:.6} s)",
            r.check_seconds
        )?,
        Some(v) => writeln!(out, "valid        NO: {v}")?,
    }
    writeln!(
        out,
        "time         {:.6} s (ordering + colouring)",
        r.seconds
    )
}
