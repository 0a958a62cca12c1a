//! Which products a Jacobian is recovered from: J·S by JVPs (column plans) or Jᵀ·S by VJPs
//! (row plans), chosen by [`JacobianMode`] and reported in
//! [`RecoveryInfo::mode`](crate::RecoveryInfo::mode) and
//! [`RecoveryInfo::modes`](crate::RecoveryInfo::modes).
//!
//! Under [`JacobianMode::Auto`] `prepare` designs a plan of every mode the backend can run
//! (a column plan with the options' [`Strategy`], a row plan with CPR on
//! the rows) and keeps the cheapest, a product counted at its mode's relative cost
//! ([`VJP_RELATIVE_COST`] for a VJP, 1 for a JVP). Modes are designed cheapest lower bound
//! first, and a mode whose bound cannot beat the best plan so far is not designed.
//!
//! Adding a mode (a bidirectional plan: J·S and Jᵀ·T from one colouring of both sides) is
//! one variant of [`Mode`] (non-exhaustive) and one arm in each of `Mode::relative_cost`
//! (its cost: JVPs plus `VJP_RELATIVE_COST` × VJPs, so the cost would become a function of
//! the plan's two probe counts), `mode_lower_bound`, `design_mode` (its designer) and the
//! `wanted` list of `choose`; the recovery engine then needs the products of its
//! orientation from the backend (`Products::compressed`), and the tape check of `prepare`
//! (which backends can run it) one more case.

use sparsediff_pattern::Pattern;
use sparsediff_probe::design::{Designed, SharedDesigner};
use sparsediff_probe::{ColoredDesigner, MatrixKind, Orientation};
use std::sync::Arc;

use crate::error::SparseError;
use crate::options::{Options, Strategy};

/// The cost of one vector-Jacobian product (a lane of the tape's reverse sweep) relative to
/// one Jacobian-vector product of the default backend (a forward lane).
///
/// A constant, measured once rather than at every `prepare`: timing both blocks at x0
/// would build the tape and run up to n forward lanes even when the counts alone decide
/// (2 against n on a dense row). Measured with the same probe count in both modes, release,
/// 2-core shared Xeon, fastest `evaluate` of 3 interleaved runs of
/// `sparsediff bench jacobian --problem P --n N --mode columns|rows --json` (the tape's VJPs
/// over forward lanes' JVPs, decoding included):
///
/// | problem | n | products | JVPs (forward) | VJPs (tape) | ratio |
/// |---|---:|---:|---:|---:|---:|
/// | tridiagonal | 10⁴ | 3 | 0.156 ms | 0.412 ms | 2.6 |
/// | tridiagonal | 10⁵ | 3 | 2.26 ms | 5.72 ms | 2.5 |
/// | arrow | 300 | 300 | 0.182 ms | 0.573 ms | 3.2 |
/// | arrow | 3000 | 3000 | 115 ms | 256 ms | 2.2 |
///
/// (`papers/ad-backends.md`, "Row plans".) A row plan is chosen when
/// `row products × VJP_RELATIVE_COST < column products`: on ties and near-ties the column
/// plan and its forward lanes are kept, and a row plan is taken when it needs clearly fewer
/// products, as on a dense row (2 against n). With a forced tape both modes run on the tape,
/// whose JVPs cost less than its VJPs too (tridiagonal 10⁴: 0.297 ms against 0.412 ms), so
/// the same rule errs towards columns there.
pub const VJP_RELATIVE_COST: f64 = 2.5;

/// Which products `prepare` may recover a Jacobian from ([`Options::jacobian_mode`]).
/// Hessians ignore it (their plans are always H·S).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JacobianMode {
    /// Every mode the backend can run (rows need VJPs: the tape, built for the row plan
    /// when [`BackendChoice::Auto`](crate::BackendChoice::Auto) chose forward lanes), the
    /// cheapest by [`VJP_RELATIVE_COST`]. Row plans are considered under
    /// [`Strategy::Auto`] only: another strategy names a column
    /// designer.
    #[default]
    Auto,
    /// Column plans (J·S, JVPs) only: the strategy's designer, as before row plans existed.
    Columns,
    /// Row plans (Jᵀ·S, VJPs) only: CPR on the rows. A backend without VJPs (forward lanes,
    /// finite differences, closures) is [`SparseError::NeedsVjp`].
    Rows,
}

/// The mode of a plan: what its products are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// A·S (JVPs for Jacobians, HVPs for Hessians).
    Columns,
    /// Aᵀ·S (VJPs).
    Rows,
}

impl Mode {
    /// `column` or `row` (as the CLI's JSON reports it).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Columns => "column",
            Mode::Rows => "row",
        }
    }

    /// The mode of a plan's orientation.
    pub fn of(orientation: Orientation) -> Self {
        match orientation {
            Orientation::Columns => Mode::Columns,
            Orientation::Rows => Mode::Rows,
        }
    }

    /// The cost of one product of this mode, in JVPs.
    pub fn relative_cost(self) -> f64 {
        match self {
            Mode::Columns => 1.0,
            Mode::Rows => VJP_RELATIVE_COST,
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One mode `prepare` considered (see [`RecoveryInfo::modes`](crate::RecoveryInfo::modes)).
#[derive(Debug, Clone, PartialEq)]
pub struct ModeCandidate {
    /// The mode.
    pub mode: Mode,
    /// The designer of its plan (`None` when it was not designed).
    pub designer: Option<String>,
    /// Products per evaluation of its plan (`None` when it was not designed).
    pub products: Option<usize>,
    /// Products times the mode's [`relative cost`](Mode::relative_cost): what the choice
    /// compares (`None` when it was not designed).
    pub cost: Option<f64>,
    /// Why it was not designed (the backend computes no VJPs; its lower bound cannot beat
    /// the chosen plan; its designer failed).
    pub skipped: Option<&'static str>,
    /// No exact plan of this mode needs fewer products: the largest row of the pattern for
    /// columns, the largest column for rows.
    pub lower_bound: usize,
}

/// A designed plan of one mode: what the choice compares.
pub(crate) struct Candidate {
    pub(crate) mode: Mode,
    pub(crate) designed: Designed,
    pub(crate) cost: f64,
}

impl Candidate {
    fn report(&self, lower_bound: usize) -> ModeCandidate {
        ModeCandidate {
            mode: Mode::of(self.designed.plan.orientation()),
            designer: Some(self.designed.plan.designer().to_string()),
            products: Some(self.designed.plan.num_probes()),
            cost: Some(self.cost),
            skipped: None,
            lower_bound,
        }
    }
}

/// The designer of row plans: CPR on the rows with the options' colouring parameters.
fn row_designer(options: &Options) -> SharedDesigner {
    Arc::new(ColoredDesigner::cpr_rows().with_params(options.coloring.clone()))
}

/// The chosen plan, the design report of every designer tried (all modes, in order) and
/// the modes considered.
pub(crate) struct Choice {
    pub(crate) designed: Designed,
    /// Whose designer made the plan (see [`design_mode`]).
    pub(crate) mode: Mode,
    pub(crate) modes: Vec<ModeCandidate>,
    /// Time of every design (all modes).
    pub(crate) time: std::time::Duration,
}

/// Designs the plan of `mode` (the options' strategy for columns; row CPR for rows).
pub(crate) fn design_mode(
    mode: Mode,
    pattern: &Pattern,
    kind: MatrixKind,
    options: &Options,
) -> Result<Designed, SparseError> {
    let designer = match mode {
        Mode::Columns => options
            .strategy
            .designer(&options.coloring, options.geometry),
        Mode::Rows => row_designer(options),
    };
    Ok(designer.design_report(pattern, kind)?)
}

/// No exact plan of `mode` needs fewer products than this on `pattern`: the largest row
/// for column plans (its entries need distinct probes), the largest column for row plans.
pub(crate) fn mode_lower_bound(mode: Mode, pattern: &Pattern) -> usize {
    match mode {
        Mode::Columns => pattern.row_stats().max,
        Mode::Rows => pattern.col_stats().max,
    }
}

/// Designs every mode that `options.jacobian_mode` allows and the backend can run
/// (`no_vjp`: the name of a backend that computes no VJPs and cannot be replaced by the
/// tape; `None` when VJPs are available), and keeps the cheapest (ties: columns). Modes
/// are designed in the order of their weighted lower bounds, and a mode whose bound
/// cannot beat the best plan so far is not designed (a dense row makes column CPR cost
/// O(n²) to colour, for n products that a 2-product row plan beats). Hessians: the
/// column plan only.
pub(crate) fn choose(
    pattern: &Pattern,
    kind: MatrixKind,
    options: &Options,
    no_vjp: Option<&'static str>,
) -> Result<Choice, SparseError> {
    let wanted: &[Mode] = match (kind, options.jacobian_mode) {
        (MatrixKind::Symmetric, _) | (_, JacobianMode::Columns) => &[Mode::Columns],
        (_, JacobianMode::Rows) => &[Mode::Rows],
        (_, JacobianMode::Auto) if options.strategy == Strategy::Auto => {
            &[Mode::Columns, Mode::Rows]
        }
        (_, JacobianMode::Auto) => &[Mode::Columns],
    };
    if options.jacobian_mode == JacobianMode::Rows
        && kind == MatrixKind::General
        && let Some(backend) = no_vjp
    {
        return Err(SparseError::NeedsVjp { backend });
    }
    // (preference, mode, weighted bound), cheapest bound first; ties keep the preference.
    let mut order: Vec<(usize, Mode, f64)> = wanted
        .iter()
        .enumerate()
        .map(|(rank, &mode)| {
            let bound = if wanted.len() > 1 {
                mode_lower_bound(mode, pattern) as f64 * mode.relative_cost()
            } else {
                0.0
            };
            (rank, mode, bound)
        })
        .collect();
    order.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
    let mut reports: Vec<(usize, ModeCandidate)> = Vec::with_capacity(wanted.len());
    let mut best: Option<(usize, Candidate)> = None;
    let mut tried = Vec::new();
    let mut time = std::time::Duration::ZERO;
    let mut first_error = None;
    let not_designed = |mode, why| ModeCandidate {
        mode,
        designer: None,
        products: None,
        cost: None,
        skipped: Some(why),
        lower_bound: mode_lower_bound(mode, pattern),
    };
    for (rank, mode, bound) in order {
        if mode == Mode::Rows && no_vjp.is_some() {
            reports.push((rank, not_designed(mode, "the backend computes no VJPs")));
            continue;
        }
        if let Some((best_rank, b)) = &best
            && (bound > b.cost || (bound == b.cost && rank > *best_rank))
        {
            reports.push((
                rank,
                not_designed(mode, "its lower bound cannot beat the chosen plan"),
            ));
            continue;
        }
        match design_mode(mode, pattern, kind, options) {
            Ok(designed) => {
                // The products decide the cost (a custom designer may return a row plan).
                let products = Mode::of(designed.plan.orientation());
                let cost = designed.plan.num_probes() as f64 * products.relative_cost();
                time += designed.time;
                tried.extend(designed.candidates.iter().cloned());
                let c = Candidate {
                    mode,
                    designed,
                    cost,
                };
                reports.push((rank, c.report(mode_lower_bound(mode, pattern))));
                let better = best
                    .as_ref()
                    .is_none_or(|(r, b)| c.cost < b.cost || (c.cost == b.cost && rank < *r));
                if better {
                    best = Some((rank, c));
                }
            }
            // A mode that cannot be designed loses; the error is returned when none can.
            Err(e) => {
                reports.push((rank, not_designed(mode, "its designer failed")));
                first_error.get_or_insert(e);
            }
        }
    }
    let Some((_, best)) = best else {
        // `wanted` is never empty, and a row mode skipped for want of VJPs under `Auto`
        // always comes with the column mode: only a designer's error gets here.
        return Err(first_error.unwrap_or(SparseError::NeedsVjp {
            backend: no_vjp.unwrap_or("given"),
        }));
    };
    reports.sort_by_key(|r| r.0);
    let mut designed = best.designed;
    designed.candidates = tried;
    Ok(Choice {
        mode: best.mode,
        designed,
        modes: reports.into_iter().map(|r| r.1).collect(),
        time,
    })
}
