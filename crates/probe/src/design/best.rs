//! "The fewest probes among these designers" as a designer of its own, with a report of
//! what every designer did ([`Candidate`]), and [`AutoDesigner`], the exact designers in
//! order of preference for a pattern.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sparsediff_coloring::{
    AdjacencyGraph, ClosedFormBounds, ColoringParams, Method, Order, OrderChoice, Problem,
    lower_bound, lower_bound_graph,
};
use sparsediff_pattern::Pattern;

use super::{ColoredDesigner, Decompression, Geometry, RollDesigner, StencilDesigner};
use crate::error::DesignError;
use crate::plan::{MatrixKind, ProbeDesigner, ProbePlan};

/// A shareable designer.
pub type SharedDesigner = Arc<dyn ProbeDesigner + Send + Sync>;

/// Why a designer of a [`BestOf`] was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// An earlier plan already meets the lower bound of every exact design on the pattern
    /// (a clique, or 3 for a graph with a cycle, for Hessians; the largest row for
    /// Jacobians).
    MeetsBound {
        /// The bound.
        bound: usize,
    },
    /// The designer's own lower bound cannot beat the best plan so far (ties go to the
    /// earlier designer).
    OwnBound {
        /// The designer's bound.
        own: usize,
        /// Probes of the best plan so far.
        best: usize,
    },
}

/// What one designer of a [`BestOf`] gave.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A plan with this many probes.
    Designed {
        /// Probes.
        probes: usize,
    },
    /// The designer does not apply, or failed.
    Failed(Arc<DesignError>),
    /// Not run.
    Skipped(Skip),
}

impl Outcome {
    /// The probes, for a designed plan.
    pub fn probes(&self) -> Option<usize> {
        match self {
            Outcome::Designed { probes } => Some(*probes),
            _ => None,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Designed { probes } => write!(f, "{probes} probes"),
            Outcome::Failed(e) => write!(f, "{e}"),
            Outcome::Skipped(Skip::MeetsBound { bound }) => {
                write!(
                    f,
                    "not tried: an earlier plan meets the lower bound {bound}"
                )
            }
            Outcome::Skipped(Skip::OwnBound { own, best }) => write!(
                f,
                "not tried: its lower bound is {own} probes; an earlier plan has {best}"
            ),
        }
    }
}

/// One designer tried: its name, what it gave and the time it took (zero when skipped).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The designer's name.
    pub designer: &'static str,
    /// Its outcome.
    pub outcome: Outcome,
    /// Time spent designing (colouring, seeds, decoder).
    pub time: Duration,
}

/// A plan and the report of how it was chosen.
#[derive(Debug, Clone)]
pub struct Designed {
    /// The plan.
    pub plan: ProbePlan,
    /// Every designer tried, in order.
    pub candidates: Vec<Candidate>,
    /// Time of the whole design.
    pub time: Duration,
}

/// Designs with `designer`, reporting it as the one candidate (what [`BestOf`] does for
/// every member, and the default of [`ProbeDesigner::design_report`]).
pub fn design_single(
    designer: &(impl ProbeDesigner + ?Sized),
    pattern: &Pattern,
    kind: MatrixKind,
) -> Result<Designed, DesignError> {
    timed(designer.name(), || designer.design(pattern, kind))
}

/// [`design_single`] for a shared pattern ([`ProbeDesigner::design_shared`]): what the
/// designers that share override `design_report_shared` with.
pub(crate) fn design_single_shared(
    designer: &(impl ProbeDesigner + ?Sized),
    pattern: &Arc<Pattern>,
    kind: MatrixKind,
) -> Result<Designed, DesignError> {
    timed(designer.name(), || designer.design_shared(pattern, kind))
}

/// The report of one design, timed.
fn timed(
    designer: &'static str,
    design: impl FnOnce() -> Result<ProbePlan, DesignError>,
) -> Result<Designed, DesignError> {
    let start = Instant::now();
    let plan = design()?;
    let time = start.elapsed();
    Ok(Designed {
        candidates: vec![Candidate {
            designer,
            outcome: Outcome::Designed {
                probes: plan.num_probes(),
            },
            time,
        }],
        plan,
        time,
    })
}

/// No exact design of `kind` can use fewer probes than this on `pattern`: a clique of the
/// adjacency graph (Hessians), the largest row (column designs of Jacobians).
pub fn exact_lower_bound(pattern: &Pattern, kind: MatrixKind) -> usize {
    SharedBounds::new(pattern).exact(kind)
}

/// Which colouring bound: the problem and the method.
type BoundKey = (Problem, Method);

/// The colouring lower bounds of one pattern (`sparsediff_coloring::lower_bound`), each
/// computed once and shared by the members of a [`BestOf`]: on the 1e6 grid Hessian the
/// acyclic bound was otherwise computed three times (the exact bound, the acyclic and the
/// stencil-substitution designers), each with its own adjacency graph of 5e6 entries.
///
/// ```
/// use sparsediff_coloring::{Method, Problem, lower_bound};
/// use sparsediff_pattern::generators::{grid2d, Stencil2d};
/// use std::sync::Arc;
/// use sparsediff_probe::design::{BestOf, SharedBounds};
/// use sparsediff_probe::{ColoredDesigner, MatrixKind, ProbeDesigner};
///
/// let grid = grid2d(30, 20, Stencil2d::FivePoint)?;
/// let bounds = SharedBounds::new(&grid);
/// let acyclic = lower_bound(&grid, Problem::Symmetric, Method::Acyclic)?;
/// assert_eq!(bounds.coloring(Problem::Symmetric, Method::Acyclic), Some(acyclic));
/// assert_eq!(bounds.exact(MatrixKind::Symmetric), acyclic); // the same, not recomputed
/// // a combinator's bound is the same through shared bounds or without them
/// let best = BestOf::new(vec![
///     Arc::new(ColoredDesigner::star()),
///     Arc::new(ColoredDesigner::acyclic()),
/// ]);
/// assert_eq!(best.lower_bound_shared(&bounds, MatrixKind::Symmetric), Some(3));
/// assert_eq!(best.lower_bound(&grid, MatrixKind::Symmetric), Some(3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SharedBounds<'p> {
    pattern: &'p Pattern,
    computed: std::cell::RefCell<Vec<(BoundKey, Option<usize>)>>,
    /// The adjacency graph of the symmetric bounds (distance-1, star, acyclic), built on
    /// first use: its structure does not depend on the method, so one serves all three
    /// (`None` inside: the pattern has none, e.g. it is not symmetric).
    graph: std::cell::OnceCell<Option<AdjacencyGraph>>,
    /// The closed-form bounds, recognised once for all three methods (the recognition
    /// reads every entry: 5 ms on the 1e6 grid).
    closed: std::cell::OnceCell<Option<ClosedFormBounds>>,
}

impl<'p> SharedBounds<'p> {
    /// No bound computed yet.
    pub fn new(pattern: &'p Pattern) -> Self {
        Self {
            pattern,
            computed: std::cell::RefCell::new(Vec::new()),
            graph: std::cell::OnceCell::new(),
            closed: std::cell::OnceCell::new(),
        }
    }

    /// The pattern the bounds are of.
    pub fn pattern(&self) -> &'p Pattern {
        self.pattern
    }

    /// `sparsediff_coloring::lower_bound(pattern, problem, method)`, computed on first
    /// use; `None` where the colouring does not apply.
    pub fn coloring(&self, problem: Problem, method: Method) -> Option<usize> {
        if let Some(&(_, b)) = self
            .computed
            .borrow()
            .iter()
            .find(|(key, _)| *key == (problem, method))
        {
            return b;
        }
        let on_graph = problem == Problem::Symmetric
            && matches!(method, Method::Distance1 | Method::Star | Method::Acyclic);
        let b = if !on_graph {
            lower_bound(self.pattern, problem, method).ok()
        } else if let Some(b) = self
            .closed
            .get_or_init(|| ClosedFormBounds::of(self.pattern))
            .and_then(|c| c.get(method))
        {
            // The full tridiagonal band and 5-point grid need no graph.
            Some(b)
        } else {
            // `lower_bound`'s checks (entries, square; the graph checks symmetry), then the
            // one shared graph.
            let p = self.pattern;
            (p.nnz() > 0 && p.is_square())
                .then(|| {
                    self.graph
                        .get_or_init(|| AdjacencyGraph::new(p, method).ok())
                        .as_ref()
                        .map(|g| lower_bound_graph(p, g, method))
                })
                .flatten()
        };
        self.computed.borrow_mut().push(((problem, method), b));
        b
    }

    /// [`exact_lower_bound`] of the pattern.
    pub fn exact(&self, kind: MatrixKind) -> usize {
        match kind {
            MatrixKind::Symmetric => self
                .coloring(Problem::Symmetric, Method::Acyclic)
                .unwrap_or(0),
            MatrixKind::General => self.pattern.row_stats().max,
        }
    }
}

/// The fewest probes among several designers: each is tried in order, the first with the
/// fewest probes wins (put the preferred designers first: direct recovery before
/// substitution), and the search skips what cannot win — every designer once a plan meets
/// the [`exact_lower_bound`], and a designer whose own lower bound
/// ([`ProbeDesigner::lower_bound`]) is no better than the best plan so far.
///
/// ```
/// use std::sync::Arc;
/// use sparsediff_pattern::generators;
/// use sparsediff_probe::design::{BestOf, Outcome};
/// use sparsediff_probe::{ColoredDesigner, MatrixKind, ProbeDesigner, RollDesigner};
///
/// let band = generators::band(100, 2, 2)?;
/// let best = BestOf::new(vec![Arc::new(RollDesigner), Arc::new(ColoredDesigner::acyclic())]);
/// let report = best.design_report(&band, MatrixKind::Symmetric)?;
/// assert_eq!(report.plan.num_probes(), 3); // acyclic: β + 1
/// assert_eq!(report.candidates[0].outcome.probes(), Some(5)); // roll: 2β + 1
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct BestOf {
    designers: Vec<SharedDesigner>,
}

impl std::fmt::Debug for BestOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.designers.iter().map(|d| d.name()))
            .finish()
    }
}

impl BestOf {
    /// The fewest probes among `designers` (tried in this order).
    pub fn new(designers: Vec<SharedDesigner>) -> Self {
        Self { designers }
    }

    /// The designers, in order.
    pub fn designers(&self) -> &[SharedDesigner] {
        &self.designers
    }
}

impl ProbeDesigner for BestOf {
    fn name(&self) -> &'static str {
        "best-of"
    }

    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        self.design_report(pattern, kind).map(|d| d.plan)
    }

    /// The smallest of the members' bounds, when every member knows one.
    fn lower_bound(&self, pattern: &Pattern, kind: MatrixKind) -> Option<usize> {
        self.lower_bound_shared(&SharedBounds::new(pattern), kind)
    }

    fn lower_bound_shared(&self, bounds: &SharedBounds<'_>, kind: MatrixKind) -> Option<usize> {
        self.designers
            .iter()
            .map(|d| d.lower_bound_shared(bounds, kind))
            .try_fold(usize::MAX, |m, b| b.map(|b| m.min(b)))
            .filter(|&b| b != usize::MAX)
    }

    fn design_report(&self, pattern: &Pattern, kind: MatrixKind) -> Result<Designed, DesignError> {
        self.report(pattern, None, kind)
    }

    fn design_shared(
        &self,
        pattern: &Arc<Pattern>,
        kind: MatrixKind,
    ) -> Result<ProbePlan, DesignError> {
        self.design_report_shared(pattern, kind).map(|d| d.plan)
    }

    fn design_report_shared(
        &self,
        pattern: &Arc<Pattern>,
        kind: MatrixKind,
    ) -> Result<Designed, DesignError> {
        self.report(pattern, Some(pattern), kind)
    }
}

impl BestOf {
    /// The report of [`ProbeDesigner::design_report`]; the members design with the
    /// shared pattern when there is one.
    fn report(
        &self,
        pattern: &Pattern,
        shared: Option<&Arc<Pattern>>,
        kind: MatrixKind,
    ) -> Result<Designed, DesignError> {
        let start = Instant::now();
        let bounds = SharedBounds::new(pattern);
        let bound = bounds.exact(kind);
        // Members run in the order of their own lower bounds (a member that can reach few
        // probes first, so that the others can be skipped), but the list order stays the
        // preference: on equal probes the earlier member wins, so an earlier member is
        // skipped only when its own bound is above the best, a later one already when it
        // cannot beat the best.
        let owns: Vec<Option<usize>> = self
            .designers
            .iter()
            .map(|d| d.lower_bound_shared(&bounds, kind))
            .collect();
        let mut order: Vec<usize> = (0..self.designers.len()).collect();
        order.sort_by_key(|&i| owns[i].unwrap_or(usize::MAX));
        let mut best: Option<(usize, ProbePlan)> = None;
        let mut slots: Vec<Option<Candidate>> = vec![None; self.designers.len()];
        for i in order {
            let d = &self.designers[i];
            if let Some((at, b)) = &best {
                let p = b.num_probes();
                let skip = if i > *at {
                    if p <= bound {
                        Some(Skip::MeetsBound { bound })
                    } else {
                        owns[i]
                            .filter(|&own| p <= own)
                            .map(|own| Skip::OwnBound { own, best: p })
                    }
                } else {
                    owns[i]
                        .filter(|&own| p < own)
                        .map(|own| Skip::OwnBound { own, best: p })
                };
                if let Some(skip) = skip {
                    slots[i] = Some(Candidate {
                        designer: d.name(),
                        outcome: Outcome::Skipped(skip),
                        time: Duration::ZERO,
                    });
                    continue;
                }
            }
            let t = Instant::now();
            let designed = match shared {
                Some(shared) => d.design_shared(shared, kind),
                None => d.design(pattern, kind),
            };
            let time = t.elapsed();
            slots[i] = Some(match designed {
                Ok(plan) => {
                    let probes = plan.num_probes();
                    if best.as_ref().is_none_or(|(at, b)| {
                        probes < b.num_probes() || (probes == b.num_probes() && i < *at)
                    }) {
                        best = Some((i, plan));
                    }
                    Candidate {
                        designer: d.name(),
                        outcome: Outcome::Designed { probes },
                        time,
                    }
                }
                Err(e) => Candidate {
                    designer: d.name(),
                    outcome: Outcome::Failed(Arc::new(e)),
                    time,
                },
            });
        }
        let mut candidates: Vec<Candidate> = slots.into_iter().flatten().collect();
        let best = best.map(|(_, plan)| plan);
        if let Some(plan) = best {
            return Ok(Designed {
                plan,
                candidates,
                time: start.elapsed(),
            });
        }
        // One designer: its own error, as if it had been called alone.
        if let [
            Candidate {
                outcome: Outcome::Failed(e),
                ..
            },
        ] = candidates.as_slice()
            && Arc::strong_count(e) == 1
            && let Some(Candidate {
                outcome: Outcome::Failed(e),
                ..
            }) = candidates.pop()
            && let Ok(e) = Arc::try_unwrap(e)
        {
            return Err(e);
        }
        Err(DesignError::NoDesignerApplies { candidates })
    }
}

/// The exact designers in order of preference for ties (direct recovery first): a
/// closed-form band, block band or stencil design when a geometry is given or inferred
/// ([`Geometry::infer`]), star and acyclic colourings (symmetric matrices), column CPR, the
/// banded roll. What `Strategy::Auto` of the facade designs with.
///
/// ```
/// use sparsediff_pattern::generators::{self, Stencil2d};
/// use sparsediff_probe::design::AutoDesigner;
/// use sparsediff_probe::{MatrixKind, ProbeDesigner};
///
/// let grid = generators::grid2d(30, 30, Stencil2d::FivePoint)?;
/// let report = AutoDesigner::default().design_report(&grid, MatrixKind::Symmetric)?;
/// assert_eq!(report.plan.num_probes(), 3); // the closed-form substitution design
/// assert_eq!(report.plan.designer(), "stencil-substitution");
///
/// // A chain of 5×5 blocks: inferred as a block band, the closed form has the clique's
/// // 10 colours (star colouring needs more).
/// let chain = generators::block_band(40, 5, 1, 1)?;
/// let report = AutoDesigner::default().design_report(&chain, MatrixKind::Symmetric)?;
/// assert_eq!(report.plan.num_probes(), 10);
/// assert_eq!(report.plan.designer(), "stencil-substitution");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AutoDesigner {
    /// Colouring parameters of the colouring designers.
    pub coloring: ColoringParams,
    /// A band, block band or stencil geometry; `None`: inferred from the pattern when it
    /// is exactly a full band, a block band or a standard stencil.
    pub geometry: Option<Geometry>,
}

impl Default for AutoDesigner {
    fn default() -> Self {
        Self {
            coloring: ColoringParams::with_order(default_orders()),
            geometry: None,
        }
    }
}

/// Vertex orders tried by the colouring designers of [`AutoDesigner`]: the fast
/// deterministic orders (the slow ones — random, dynamic largest-first — rarely win and
/// cost seconds on 10⁶-vertex patterns).
pub fn default_orders() -> OrderChoice {
    OrderChoice::Best(vec![
        Order::Natural,
        Order::LargestFirst,
        Order::SmallestLast,
        Order::IncidenceDegree,
        Order::PerfectElimination,
        Order::Dsatur,
    ])
}

impl AutoDesigner {
    /// The designers for `pattern`, in order of preference.
    pub fn designers(&self, pattern: &Pattern, kind: MatrixKind) -> BestOf {
        let geometry = self.geometry.or_else(|| Geometry::infer(pattern));
        let colored = |d: ColoredDesigner| -> SharedDesigner {
            Arc::new(d.with_params(self.coloring.clone()))
        };
        let mut d: Vec<SharedDesigner> = Vec::new();
        if let Some(g) = geometry {
            d.push(Arc::new(StencilDesigner::new(g, Decompression::Direct)));
        }
        if kind == MatrixKind::Symmetric {
            d.push(colored(ColoredDesigner::star().with_geometry(geometry)));
            if let Some(g) = geometry {
                d.push(Arc::new(StencilDesigner::new(
                    g,
                    Decompression::Substitution,
                )));
            }
            d.push(colored(ColoredDesigner::acyclic()));
        }
        d.push(colored(ColoredDesigner::cpr()));
        d.push(Arc::new(RollDesigner));
        BestOf::new(d)
    }
}

impl ProbeDesigner for AutoDesigner {
    fn name(&self) -> &'static str {
        "auto"
    }

    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        self.design_report(pattern, kind).map(|d| d.plan)
    }

    fn design_report(&self, pattern: &Pattern, kind: MatrixKind) -> Result<Designed, DesignError> {
        self.designers(pattern, kind).design_report(pattern, kind)
    }

    fn design_shared(
        &self,
        pattern: &Arc<Pattern>,
        kind: MatrixKind,
    ) -> Result<ProbePlan, DesignError> {
        self.design_report_shared(pattern, kind).map(|d| d.plan)
    }

    fn design_report_shared(
        &self,
        pattern: &Arc<Pattern>,
        kind: MatrixKind,
    ) -> Result<Designed, DesignError> {
        self.designers(pattern, kind)
            .design_report_shared(pattern, kind)
    }
}
