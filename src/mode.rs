//! Which products a Jacobian is recovered from: J·S by JVPs (column plans), Jᵀ·S by VJPs
//! (row plans), or both at once (bidirectional plans: J·Sc and Jᵀ·Sr from one colouring of
//! both sides), chosen by [`JacobianMode`] and reported in
//! [`RecoveryInfo::mode`](crate::RecoveryInfo::mode) and
//! [`RecoveryInfo::modes`](crate::RecoveryInfo::modes).
//!
//! Under [`JacobianMode::Auto`] `prepare` designs a plan of every mode the backend can run
//! (a column plan with the options' [`Strategy`], a row plan with CPR on the rows, and
//! when it may pay a bidirectional plan by star bicolouring) and keeps the cheapest, a
//! product counted at its relative cost ([`VJP_RELATIVE_COST`] for a VJP, 1 for a JVP).
//! The one-sided modes are designed cheapest lower bound first, and a mode whose bound
//! cannot beat the best plan so far is not designed.
//!
//! **When the bidirectional plan is designed.** A bicolouring costs 10–40× a one-sided
//! CPR colouring (`papers/colorings.md`, "Bidirectional colourings"), and it beats the
//! better one-sided plan by a wide margin only when both sides have dense lines (the
//! arrowhead: 2 JVPs + 1 VJP against n), by one product or none elsewhere (bands, FEM
//! patterns). So under `Auto` it is designed only when the best one-sided plan costs more
//! than [`BIDIRECTIONAL_GATE`] × (mean entries per row + mean entries per column): a
//! one-sided plan far above what a typical line needs is the sign of a dense line that a
//! bicolouring can read from the other side. It is designed first when the one-sided
//! lower bounds alone pass that gate (its cheap plan then spares their O(n²) colourings of
//! the dense lines), last otherwise. [`JacobianMode::Bidirectional`] designs it
//! unconditionally.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sparsediff_coloring::{Method, Problem};
use sparsediff_pattern::Pattern;
use sparsediff_probe::design::{Candidate as Tried, Designed, Outcome, SharedDesigner};
use sparsediff_probe::{
    BidirectionalDesigner, BidirectionalPlan, ColoredDesigner, MatrixKind, Orientation,
};

use crate::engine::EnginePlan;
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

/// Under [`JacobianMode::Auto`] a bidirectional plan is designed only when the best
/// one-sided plan costs more than this times (mean entries per row + mean entries per
/// column) — see the [module docs](self). On the arrowhead (n = 1000: column and row
/// plans need 1000 products, the lines average 3 entries) and on lp_ken_11 (row CPR: 5
/// VJPs, cost 12.5; lines average 3.3 + 2.3) it is designed and wins (3 and 4 products);
/// on a band the one-sided plan is the line length itself and no bicolouring is paid for.
pub const BIDIRECTIONAL_GATE: f64 = 2.0;

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
    /// Bidirectional plans (J·Sc by JVPs and Jᵀ·Sr by VJPs) only: star bicolouring, direct
    /// recovery ([`BidirectionalDesigner::star`] with the options' colouring parameters).
    /// Needs VJPs as [`Rows`](Self::Rows) does.
    Bidirectional,
}

/// The mode of a plan: what its products are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// A·S (JVPs for Jacobians, HVPs for Hessians).
    Columns,
    /// Aᵀ·S (VJPs).
    Rows,
    /// J·Sc (JVPs) and Jᵀ·Sr (VJPs) together: a bidirectional plan.
    Bidirectional,
}

impl Mode {
    /// `column` or `row` (as the CLI's JSON reports it).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Columns => "column",
            Mode::Rows => "row",
            Mode::Bidirectional => "bidirectional",
        }
    }

    /// The mode of a plan's orientation.
    pub fn of(orientation: Orientation) -> Self {
        match orientation {
            Orientation::Columns => Mode::Columns,
            Orientation::Rows => Mode::Rows,
        }
    }

    /// The cost of one product of this mode, in JVPs: 1 for columns, [`VJP_RELATIVE_COST`]
    /// for rows, and 1 for bidirectional plans, whose cheapest product is a JVP (a plan's
    /// cost is its JVPs plus `VJP_RELATIVE_COST` × its VJPs: [`ModeCandidate::cost`]).
    pub fn relative_cost(self) -> f64 {
        match self {
            Mode::Columns | Mode::Bidirectional => 1.0,
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
    /// Its products split into (JVPs, VJPs) (`None` when it was not designed).
    pub split: Option<(usize, usize)>,
    /// JVPs plus [`VJP_RELATIVE_COST`] × VJPs: what the choice compares (`None` when it
    /// was not designed).
    pub cost: Option<f64>,
    /// Why it was not designed (the backend computes no VJPs; its lower bound cannot beat
    /// the chosen plan; its designer failed).
    pub skipped: Option<&'static str>,
    /// No exact plan of this mode needs fewer products: the largest row of the pattern for
    /// columns, the largest column for rows, 1 or 2 for bidirectional plans.
    pub lower_bound: usize,
}

/// A designed plan of one mode.
pub(crate) enum PlanDesign {
    /// A column or row plan, with the report of its designers.
    Single(Designed),
    /// A bidirectional plan and the time of its design.
    Both(BidirectionalPlan, Duration),
}

impl PlanDesign {
    /// (JVPs, VJPs) per evaluation.
    pub(crate) fn split(&self) -> (usize, usize) {
        match self {
            PlanDesign::Single(d) => match d.plan.orientation() {
                Orientation::Columns => (d.plan.num_probes(), 0),
                Orientation::Rows => (0, d.plan.num_probes()),
            },
            PlanDesign::Both(p, _) => (p.num_column_probes(), p.num_row_probes()),
        }
    }

    /// JVPs plus [`VJP_RELATIVE_COST`] × VJPs.
    pub(crate) fn cost(&self) -> f64 {
        let (jvps, vjps) = self.split();
        jvps as f64 + VJP_RELATIVE_COST * vjps as f64
    }

    /// The mode of its products (a custom designer may return a row plan for columns).
    pub(crate) fn mode(&self) -> Mode {
        match self {
            PlanDesign::Single(d) => Mode::of(d.plan.orientation()),
            PlanDesign::Both(..) => Mode::Bidirectional,
        }
    }

    pub(crate) fn designer(&self) -> String {
        match self {
            PlanDesign::Single(d) => d.plan.designer().to_string(),
            PlanDesign::Both(p, _) => p.designer().to_string(),
        }
    }

    pub(crate) fn time(&self) -> Duration {
        match self {
            PlanDesign::Single(d) => d.time,
            PlanDesign::Both(_, t) => *t,
        }
    }

    /// The designers tried.
    pub(crate) fn candidates(&self) -> Vec<Tried> {
        match self {
            PlanDesign::Single(d) => d.candidates.clone(),
            PlanDesign::Both(p, t) => vec![Tried {
                designer: p.designer(),
                outcome: Outcome::Designed {
                    probes: p.num_probes(),
                },
                time: *t,
            }],
        }
    }

    pub(crate) fn into_plan(self) -> EnginePlan {
        match self {
            PlanDesign::Single(d) => EnginePlan::Single(Arc::new(d.plan)),
            PlanDesign::Both(p, _) => EnginePlan::Both(Arc::new(p)),
        }
    }
}

/// A designed plan of one mode: what the choice compares.
pub(crate) struct Candidate {
    pub(crate) designed: PlanDesign,
    pub(crate) cost: f64,
}

impl Candidate {
    fn report(&self, lower_bound: usize) -> ModeCandidate {
        let (jvps, vjps) = self.designed.split();
        ModeCandidate {
            mode: self.designed.mode(),
            designer: Some(self.designed.designer()),
            products: Some(jvps + vjps),
            split: Some((jvps, vjps)),
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
    pub(crate) plan: EnginePlan,
    /// Every designer tried (all modes).
    pub(crate) candidates: Vec<Tried>,
    /// Whose designer made the plan (see [`design_mode`]).
    pub(crate) mode: Mode,
    pub(crate) modes: Vec<ModeCandidate>,
    /// Time of every design (all modes).
    pub(crate) time: Duration,
}

/// Designs the plan of `mode` (the options' strategy for columns; row CPR for rows; star
/// bicolouring for bidirectional plans).
pub(crate) fn design_mode(
    mode: Mode,
    pattern: &Arc<Pattern>,
    kind: MatrixKind,
    options: &Options,
) -> Result<PlanDesign, SparseError> {
    let designer = match mode {
        Mode::Columns => options
            .strategy
            .designer(&options.coloring, options.geometry),
        Mode::Rows => row_designer(options),
        Mode::Bidirectional => {
            let start = Instant::now();
            let plan = BidirectionalDesigner::star()
                .with_params(options.coloring.clone())
                .design(pattern)?;
            return Ok(PlanDesign::Both(plan, start.elapsed()));
        }
    };
    // The plan shares the caller's pattern instead of copying it.
    Ok(PlanDesign::Single(
        designer.design_report_shared(pattern, kind)?,
    ))
}

/// No exact plan of `mode` needs fewer products than this on `pattern`: the largest row
/// for column plans (its entries need distinct probes), the largest column for row plans.
pub(crate) fn mode_lower_bound(mode: Mode, pattern: &Pattern) -> usize {
    match mode {
        Mode::Columns => pattern.row_stats().max,
        Mode::Rows => pattern.col_stats().max,
        Mode::Bidirectional => {
            sparsediff_coloring::lower_bound(pattern, Problem::Bidirectional, Method::Star)
                .unwrap_or(1)
        }
    }
}

/// Whether a bicolouring may pay, given the best one-sided cost so far (see
/// [`BIDIRECTIONAL_GATE`]).
fn bidirectional_may_pay(pattern: &Pattern, best_cost: f64) -> bool {
    let (m, n) = pattern.shape();
    if m == 0 || n == 0 {
        return false;
    }
    let nnz = pattern.nnz() as f64;
    best_cost > BIDIRECTIONAL_GATE * (nnz / m as f64 + nnz / n as f64)
}

/// Designs every mode that `options.jacobian_mode` allows and the backend can run
/// (`no_vjp`: the name of a backend that computes no VJPs and cannot be replaced by the
/// tape; `None` when VJPs are available), and keeps the cheapest (ties: the earlier of
/// columns, rows, bidirectional). The one-sided modes are designed in the order of their
/// weighted lower bounds, and a mode whose bound cannot beat the best plan so far is not
/// designed (a dense row makes column CPR cost O(n²) to colour, for n products that a
/// 2-product row plan beats); the bidirectional mode comes first or last, behind its gate
/// (module docs). Hessians: the column plan only.
pub(crate) fn choose(
    pattern: &Arc<Pattern>,
    kind: MatrixKind,
    options: &Options,
    no_vjp: Option<&'static str>,
) -> Result<Choice, SparseError> {
    let auto = kind == MatrixKind::General
        && options.jacobian_mode == JacobianMode::Auto
        && options.strategy == Strategy::Auto;
    let wanted: &[Mode] = match (kind, options.jacobian_mode) {
        (MatrixKind::Symmetric, _) | (_, JacobianMode::Columns) => &[Mode::Columns],
        (_, JacobianMode::Rows) => &[Mode::Rows],
        (_, JacobianMode::Bidirectional) => &[Mode::Bidirectional],
        _ if auto => &[Mode::Columns, Mode::Rows, Mode::Bidirectional],
        (_, JacobianMode::Auto) => &[Mode::Columns],
    };
    if matches!(
        options.jacobian_mode,
        JacobianMode::Rows | JacobianMode::Bidirectional
    ) && kind == MatrixKind::General
        && let Some(backend) = no_vjp
    {
        return Err(SparseError::NeedsVjp { backend });
    }
    // (preference, mode, weighted bound): one-sided modes cheapest bound first (ties keep
    // the preference), the bidirectional mode last.
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
    // When even the one-sided lower bounds pass the gate (dense lines on both sides: the
    // arrowhead), the bicolouring goes first, and its plan's cost then spares the O(n²)
    // one-sided colourings of those dense lines (their bounds cannot beat it).
    let one_sided_bound = order
        .iter()
        .filter(|o| o.1 != Mode::Bidirectional)
        .map(|o| o.2)
        .fold(f64::INFINITY, f64::min);
    let bidirectional_first = wanted.len() > 1 && bidirectional_may_pay(pattern, one_sided_bound);
    order.sort_by(|a, b| {
        let late = |o: &(usize, Mode, f64)| o.1 == Mode::Bidirectional && !bidirectional_first;
        let early = |o: &(usize, Mode, f64)| o.1 == Mode::Bidirectional && bidirectional_first;
        late(a)
            .cmp(&late(b))
            .then(early(b).cmp(&early(a)))
            .then(a.2.total_cmp(&b.2))
            .then(a.0.cmp(&b.0))
    });
    let mut reports: Vec<(usize, ModeCandidate)> = Vec::with_capacity(wanted.len());
    let mut best: Option<(usize, Mode, Candidate)> = None;
    let mut tried = Vec::new();
    let mut time = Duration::ZERO;
    let mut first_error = None;
    let not_designed = |mode, why| ModeCandidate {
        mode,
        designer: None,
        products: None,
        split: None,
        cost: None,
        skipped: Some(why),
        lower_bound: mode_lower_bound(mode, pattern),
    };
    for (rank, mode, bound) in order {
        if mode != Mode::Columns && no_vjp.is_some() {
            reports.push((rank, not_designed(mode, "the backend computes no VJPs")));
            continue;
        }
        if let Some((best_rank, _, b)) = &best
            && (bound > b.cost || (bound == b.cost && rank > *best_rank))
        {
            reports.push((
                rank,
                not_designed(mode, "its lower bound cannot beat the chosen plan"),
            ));
            continue;
        }
        if mode == Mode::Bidirectional
            && wanted.len() > 1
            && let Some((_, _, b)) = &best
            && !bidirectional_may_pay(pattern, b.cost)
        {
            reports.push((
                rank,
                not_designed(
                    mode,
                    "the one-sided plan is close to the line lengths (BIDIRECTIONAL_GATE)",
                ),
            ));
            continue;
        }
        match design_mode(mode, pattern, kind, options) {
            Ok(designed) => {
                // The products decide the cost (a custom designer may return a row plan).
                let cost = designed.cost();
                time += designed.time();
                tried.extend(designed.candidates());
                let c = Candidate { designed, cost };
                reports.push((rank, c.report(mode_lower_bound(mode, pattern))));
                let better = best
                    .as_ref()
                    .is_none_or(|(r, _, b)| c.cost < b.cost || (c.cost == b.cost && rank < *r));
                if better {
                    best = Some((rank, mode, c));
                }
            }
            // A mode that cannot be designed loses; the error is returned when none can.
            Err(e) => {
                reports.push((rank, not_designed(mode, "its designer failed")));
                first_error.get_or_insert(e);
            }
        }
    }
    let Some((_, mode, best)) = best else {
        // `wanted` is never empty, and a mode skipped for want of VJPs under `Auto` always
        // comes with the column mode: only a designer's error gets here.
        return Err(first_error.unwrap_or(SparseError::NeedsVjp {
            backend: no_vjp.unwrap_or("given"),
        }));
    };
    reports.sort_by_key(|r| r.0);
    Ok(Choice {
        mode,
        plan: best.designed.into_plan(),
        candidates: tried,
        modes: reports.into_iter().map(|r| r.1).collect(),
        time,
    })
}
