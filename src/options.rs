//! What `prepare` is asked to do: how to find the pattern, how to design probes, which
//! backend computes the products.

use sparsediff_coloring::{ColoringParams, Order, OrderChoice};
use sparsediff_pattern::Pattern;
use sparsediff_probe::{
    ColoredDesigner, Decompression, Geometry, IdentityDesigner, ProbeDesigner, RandomDesigner,
    RollDesigner, StencilDesigner, SymmetricRandomDesigner,
};

/// Where the sparsity pattern comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Detection {
    /// Trace the function at x0 (a local pattern: valid at x0, following its branches).
    Trace,
    /// Union of the local patterns at x0 and at `points` seeded random perturbations of x0
    /// (relative size `scale`): a pattern valid in a neighbourhood of x0.
    Conservative {
        /// Extra points.
        points: usize,
        /// Seed of the perturbations.
        seed: u64,
    },
    /// A pattern the caller knows (checked for its shape only).
    Given(Pattern),
}

/// Which backend computes the products for a function given to `prepare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// Hessians: the tape (forward-over-reverse lanes); Jacobians: forward lanes.
    #[default]
    Auto,
    /// The reverse tape: HVPs in one lane sweep; JVPs by forward lanes, VJPs by reverse
    /// lanes (row plans).
    Tape,
    /// Forward lanes ([`Lanes`](sparsediff_ad::Lanes)); Jacobians only (forward mode alone
    /// needs n passes per Hessian probe).
    Forward,
    /// Central finite differences (of F for Jacobians, of the tape gradient for Hessians).
    FiniteDifferences,
}

impl BackendChoice {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Tape => "tape",
            BackendChoice::Forward => "forward",
            BackendChoice::FiniteDifferences => "fd",
        }
    }
}

/// How probes are designed.
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    /// The fewest probes among the exact designers that apply (colourings, roll, and a
    /// closed-form stencil when a geometry is given or inferred); ties go to direct
    /// recovery, the search stops at a plan that meets the lower bound of every exact
    /// design (a clique, or 3 for a graph with a cycle, for Hessians; the largest row for
    /// Jacobians), and a designer whose own lower bound cannot beat the best plan so far
    /// is skipped.
    Auto,
    /// Stride probes of the band (the prototype's method).
    Roll,
    /// Column CPR (no symmetry exploited).
    Cpr,
    /// Star colouring (direct, with symmetry; Hessians).
    Star,
    /// Acyclic colouring (substitution; Hessians).
    Acyclic,
    /// Closed-form design for a band or stencil.
    Stencil(Geometry, Decompression),
    /// Random probes with per-row least squares (`oversampling` extra probes).
    Random {
        /// Extra probes beyond the largest row.
        oversampling: usize,
    },
    /// Symmetric random probes ("half-sample", Hessians).
    SymmetricRandom,
    /// One probe per column (dense baseline).
    Identity,
}

impl Strategy {
    /// The name used on the command line (`auto`, `roll`, `cpr`, `star`, `acyclic`,
    /// `stencil`, `random`, `symmetric-random`, `identity`).
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Roll => "roll",
            Strategy::Cpr => "cpr",
            Strategy::Star => "star",
            Strategy::Acyclic => "acyclic",
            Strategy::Stencil(..) => "stencil",
            Strategy::Random { .. } => "random",
            Strategy::SymmetricRandom => "symmetric-random",
            Strategy::Identity => "identity",
        }
    }

    /// The designers this strategy tries, in order of preference for ties.
    pub(crate) fn designers(
        &self,
        hessian: bool,
        coloring: &ColoringParams,
        geometry: Option<Geometry>,
    ) -> Vec<Box<dyn ProbeDesigner>> {
        let colored = |d: ColoredDesigner| -> Box<dyn ProbeDesigner> {
            Box::new(d.with_params(coloring.clone()))
        };
        match self {
            Strategy::Auto => {
                // Direct designs first, so that they win ties (the first with the fewest
                // probes is kept).
                let mut d: Vec<Box<dyn ProbeDesigner>> = Vec::new();
                if let Some(g) = geometry {
                    d.push(Box::new(StencilDesigner::new(g, Decompression::Direct)));
                }
                if hessian {
                    d.push(colored(ColoredDesigner::star().with_geometry(geometry)));
                    if let Some(g) = geometry {
                        d.push(Box::new(StencilDesigner::new(
                            g,
                            Decompression::Substitution,
                        )));
                    }
                    d.push(colored(ColoredDesigner::acyclic()));
                }
                d.push(colored(ColoredDesigner::cpr()));
                d.push(Box::new(RollDesigner));
                d
            }
            Strategy::Roll => vec![Box::new(RollDesigner)],
            Strategy::Cpr => vec![colored(ColoredDesigner::cpr())],
            Strategy::Star => vec![colored(ColoredDesigner::star())],
            Strategy::Acyclic => vec![colored(ColoredDesigner::acyclic())],
            Strategy::Stencil(g, d) => vec![Box::new(StencilDesigner::new(*g, *d))],
            Strategy::Random { oversampling } => {
                vec![Box::new(RandomDesigner::new().oversampling(*oversampling))]
            }
            Strategy::SymmetricRandom => vec![Box::new(SymmetricRandomDesigner::new())],
            Strategy::Identity => vec![Box::new(IdentityDesigner)],
        }
    }
}

/// Vertex orders tried by the colouring designers of [`Strategy::Auto`] and the colouring
/// strategies: the fast deterministic orders (the slow ones — random, dynamic
/// largest-first — rarely win and cost seconds on 1e6-vertex patterns).
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

/// Options of [`SparseHessian::prepare`](crate::SparseHessian::prepare) and
/// [`SparseJacobian::prepare`](crate::SparseJacobian::prepare).
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Where the pattern comes from. Default: [`Detection::Trace`].
    pub detection: Detection,
    /// How probes are designed. Default: [`Strategy::Auto`].
    pub strategy: Strategy,
    /// Which backend computes the products. Default: [`BackendChoice::Auto`].
    pub backend: BackendChoice,
    /// Colouring parameters of the colouring designers. Default: [`default_orders`].
    pub coloring: ColoringParams,
    /// Geometry of a band or stencil, for closed-form designs under [`Strategy::Auto`].
    /// `None` (the default): inferred when the pattern is exactly a full band or a
    /// standard stencil ([`Geometry::infer`]); every closed-form design is checked against
    /// the pattern, so a geometry that does not fit is rejected, never trusted.
    pub geometry: Option<Geometry>,
    /// Check every `verify_every`-th evaluation with one extra random product (0: never).
    /// A pattern that misses entries of the function then fails instead of returning
    /// wrong numbers.
    pub verify_every: usize,
    /// Relative tolerance of the verification residual per row. Default 1e-8 (exact
    /// backends); finite differences need about 1e-5.
    pub verify_tolerance: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            detection: Detection::Trace,
            strategy: Strategy::Auto,
            backend: BackendChoice::Auto,
            coloring: ColoringParams::with_order(default_orders()),
            geometry: None,
            verify_every: 0,
            verify_tolerance: 1e-8,
        }
    }
}

impl Options {
    /// Default options with this strategy.
    pub fn with_strategy(strategy: Strategy) -> Self {
        Self {
            strategy,
            ..Self::default()
        }
    }

    /// Default options with a known pattern.
    pub fn with_pattern(pattern: Pattern) -> Self {
        Self {
            detection: Detection::Given(pattern),
            ..Self::default()
        }
    }
}
