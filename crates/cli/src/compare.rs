//! `sparsediff compare <PATTERN>`: every applicable probe designer on one pattern, with
//! probes, lower bound, decoding error on a seeded random matrix, and times.

use std::io::Write;
use std::path::PathBuf;

use indicatif::ProgressBar;
use serde::Serialize;
use sparsediff_pattern::Pattern;
use sparsediff_probe::Geometry;
use sparsediff_probe::compare::{CompareOptions, DesignerOutcome, compare};

use crate::{CliError, input, limits, output, plot};

/// Options of `sparsediff compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// A Matrix Market file, a generator spec or a builtin (see `sparsediff color --help`).
    pub pattern: String,
    /// Standard deviation of Gaussian noise added to every product (shows how
    /// least-squares oversampling trades probes for accuracy).
    #[arg(long, default_value_t = 0.0, value_name = "SIGMA", value_parser = parse_noise)]
    pub noise: f64,
    /// Seed of the matrix values, the noise and the random probes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object.
    #[arg(long, group = "format")]
    pub json: bool,
    /// Print CSV.
    #[arg(long, group = "format")]
    pub csv: bool,
    /// Print a Markdown table.
    #[arg(long, group = "format")]
    pub markdown: bool,
    /// Write an SVG plot of probes and error per designer.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Decodes timed per designer (the fastest is reported), at most 1000.
    #[arg(long, default_value_t = 5, value_parser = limits::count(limits::MAX_DECODE_REPEATS))]
    pub repeats: usize,
    /// Extra probes for the random designers (default: their own rule), at most 2^28.
    #[arg(long, value_name = "K", value_parser = limits::count(limits::MAX_OVERSAMPLING))]
    pub oversampling: Option<usize>,
}

fn parse_noise(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a finite, non-negative noise level")),
    }
}

/// One designer in the JSON report (the first six fields are the public contract).
#[derive(Debug, Serialize)]
pub struct DesignerJson {
    /// Designer name.
    pub designer: &'static str,
    /// Probes (none if it did not run).
    pub probes: Option<usize>,
    /// Lower bound for its family.
    pub lower_bound: Option<usize>,
    /// Maximum relative decoding error.
    pub max_rel_error: Option<f64>,
    /// Design time, seconds.
    pub design_seconds: f64,
    /// Decode time, seconds.
    pub decode_seconds: f64,
    /// Why it did not run, if it did not.
    pub note: Option<String>,
}

impl From<&DesignerOutcome> for DesignerJson {
    fn from(o: &DesignerOutcome) -> Self {
        Self {
            designer: o.designer,
            probes: o.probes,
            lower_bound: o.lower_bound,
            max_rel_error: o.max_rel_error,
            design_seconds: o.design_seconds,
            decode_seconds: o.decode_seconds,
            note: o.note.clone(),
        }
    }
}

/// The JSON report of one pattern.
#[derive(Debug, Serialize)]
pub struct CompareJson {
    /// The pattern as given.
    pub pattern: String,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Entries.
    pub nnz: usize,
    /// One entry per designer.
    pub designers: Vec<DesignerJson>,
    /// Noise level of the products.
    pub noise: f64,
    /// Seed.
    pub seed: u64,
}

/// Compares the designers on one pattern, with a progress bar on a terminal.
pub fn compare_pattern(
    name: &str,
    pattern: &Pattern,
    geometry: Option<Geometry>,
    opts: &CompareOptions,
    bar: &ProgressBar,
) -> CompareJson {
    let opts = CompareOptions {
        geometry,
        ..opts.clone()
    };
    let outcomes = compare(pattern, &opts, |designer| {
        bar.set_message(format!("{name}: {designer}"));
        bar.inc(1);
    });
    CompareJson {
        pattern: name.to_string(),
        rows: pattern.nrows(),
        cols: pattern.ncols(),
        nnz: pattern.nnz(),
        designers: outcomes.iter().map(DesignerJson::from).collect(),
        noise: opts.noise,
        seed: opts.seed,
    }
}

/// A progress bar on standard error (lines every few seconds when it is not a terminal).
pub fn progress(len: usize) -> ProgressBar {
    crate::progress::bar(len)
}

/// Runs `sparsediff compare`.
pub fn run(args: &CompareArgs) -> Result<(), CliError> {
    if let Some(path) = &args.plot {
        output::check_file(path)?;
    }
    let (pattern, spec) = input::load_with_spec(&args.pattern)?;
    let geometry = spec.as_ref().and_then(Geometry::of_spec);
    let opts = CompareOptions {
        noise: args.noise,
        seed: args.seed,
        decode_repeats: args.repeats,
        oversampling: args.oversampling,
        ..CompareOptions::default()
    };
    let bar = progress(
        sparsediff_probe::compare::designers(&CompareOptions {
            geometry,
            ..opts.clone()
        })
        .len()
            + sparsediff_probe::compare::bidirectional_designers().len(),
    );
    let report = compare_pattern(&args.pattern, &pattern, geometry, &opts, &bar);
    bar.finish_and_clear();
    if let Some(path) = &args.plot {
        plot::designers_svg(path, &report.pattern, &report.designers)?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        output::print_json(&mut out, &report)
    } else if args.csv {
        print_csv(&mut out, &[report]).map_err(CliError::stdout)
    } else if args.markdown {
        print_markdown(&mut out, &report).map_err(CliError::stdout)
    } else {
        print_text(&mut out, &report).map_err(CliError::stdout)
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_string(), T::to_string)
}

fn err(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |e| format!("{e:.1e}"))
}

/// The table of one pattern, for a terminal.
pub fn print_text(out: &mut impl Write, r: &CompareJson) -> std::io::Result<()> {
    writeln!(
        out,
        "{} ({}×{}, {} entries{})",
        r.pattern,
        r.rows,
        r.cols,
        r.nnz,
        if r.noise > 0.0 {
            format!(", noise σ = {:e}", r.noise)
        } else {
            String::new()
        }
    )?;
    writeln!(
        out,
        "  {:<22} {:>7} {:>7} {:>13} {:>11} {:>11}  note",
        "designer", "probes", "bound", "max rel err", "design [s]", "decode [s]"
    )?;
    for d in &r.designers {
        writeln!(
            out,
            "  {:<22} {:>7} {:>7} {:>13} {:>11.6} {:>11.6}  {}",
            d.designer,
            opt(&d.probes),
            opt(&d.lower_bound),
            err(d.max_rel_error),
            d.design_seconds,
            d.decode_seconds,
            d.note.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

/// A Markdown table of one pattern.
pub fn print_markdown(out: &mut impl Write, r: &CompareJson) -> std::io::Result<()> {
    writeln!(
        out,
        "**{}** ({}×{}, {} entries)\n",
        r.pattern, r.rows, r.cols, r.nnz
    )?;
    writeln!(
        out,
        "| designer | probes | lower bound | max rel. error | design [s] | decode [s] | note |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---|")?;
    for d in &r.designers {
        writeln!(
            out,
            "| {} | {} | {} | {} | {:.6} | {:.6} | {} |",
            d.designer,
            opt(&d.probes),
            opt(&d.lower_bound),
            err(d.max_rel_error),
            d.design_seconds,
            d.decode_seconds,
            d.note.as_deref().unwrap_or("")
        )?;
    }
    writeln!(out)
}

/// CSV rows, one per (pattern, designer).
pub fn print_csv(out: &mut impl Write, reports: &[CompareJson]) -> std::io::Result<()> {
    writeln!(
        out,
        "pattern,rows,cols,nnz,designer,probes,lower_bound,max_rel_error,design_seconds,decode_seconds,note"
    )?;
    for r in reports {
        for d in &r.designers {
            writeln!(
                out,
                "\"{}\",{},{},{},{},{},{},{},{},{},\"{}\"",
                r.pattern.replace('"', "'"),
                r.rows,
                r.cols,
                r.nnz,
                d.designer,
                d.probes.map_or(String::new(), |v| v.to_string()),
                d.lower_bound.map_or(String::new(), |v| v.to_string()),
                d.max_rel_error.map_or(String::new(), |v| format!("{v:e}")),
                d.design_seconds,
                d.decode_seconds,
                d.note.as_deref().unwrap_or("").replace('"', "'")
            )?;
        }
    }
    Ok(())
}
