//! The result of a colouring run.

use sparsediff_pattern::Pattern;

use crate::acyclic::TreeSet;
use crate::bicolor::Bicoloring;
use crate::check::{self, Violation};
use crate::problem::{Method, Order, Problem};
use crate::star::StarSet;

/// The neutral colour: a vertex with this colour is in no probe (only after
/// post-processing of star and acyclic colourings). Defined with the seeds, in
/// `sparsediff-pattern`.
pub use sparsediff_pattern::NEUTRAL;

/// What one order reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderOutcome {
    /// The order.
    pub order: Order,
    /// Colours it needed (`None`: the order was skipped as too expensive, see
    /// [`ColoringError::TooExpensive`](crate::ColoringError::TooExpensive)).
    pub colors: Option<usize>,
    /// Time to compute the order and colour in it, in seconds.
    pub seconds: f64,
    /// Of [`seconds`](Self::seconds), the time spent computing the order (`None` where it
    /// is not measured apart: bidirectional colourings).
    pub order_seconds: Option<f64>,
}

/// A colouring with everything recovery needs: the colour of each vertex (column, row or
/// symmetric vertex), and for star and acyclic colourings the stars or trees.
#[derive(Debug, Clone)]
pub struct Coloring {
    pub(crate) problem: Problem,
    pub(crate) method: Method,
    pub(crate) order: Order,
    pub(crate) colors: Vec<usize>,
    pub(crate) num_colors: usize,
    pub(crate) stars: Option<StarSet>,
    pub(crate) trees: Option<TreeSet>,
    pub(crate) tried: Vec<OrderOutcome>,
    pub(crate) postprocessed: bool,
    pub(crate) bicoloring: Option<Box<Bicoloring>>,
}

impl Coloring {
    /// The problem that was coloured.
    pub fn problem(&self) -> Problem {
        self.problem
    }

    /// The method used.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The order that produced this colouring (the winner, for "best").
    pub fn order(&self) -> Order {
        self.order
    }

    /// The colour of every vertex, `0..num_colors()`, or [`NEUTRAL`].
    pub fn colors(&self) -> &[usize] {
        &self.colors
    }

    /// Number of colours = number of probes (neutral not counted).
    pub fn num_colors(&self) -> usize {
        self.num_colors
    }

    /// The two-coloured stars (star colouring only).
    pub fn star_set(&self) -> Option<&StarSet> {
        self.stars.as_ref()
    }

    /// The two-coloured trees (acyclic colouring only).
    pub fn tree_set(&self) -> Option<&TreeSet> {
        self.trees.as_ref()
    }

    /// Every order tried, with its colour count and time.
    pub fn tried(&self) -> &[OrderOutcome] {
        &self.tried
    }

    /// The bidirectional colouring (problem [`Problem::Bidirectional`] only): column and
    /// row colours separately, and the recovery. [`colors`](Self::colors) then lists the
    /// columns' colours followed by the rows', row colours shifted by the number of column
    /// colours, so that each colour is one product ([`Bicoloring::joint_colors`]).
    pub fn bicoloring(&self) -> Option<&Bicoloring> {
        self.bicoloring.as_deref()
    }

    /// Whether neutral-colour post-processing was applied.
    pub fn is_postprocessed(&self) -> bool {
        self.postprocessed
    }

    /// Number of vertices with the neutral colour.
    pub fn num_neutral(&self) -> usize {
        self.colors.iter().filter(|&&c| c == NEUTRAL).count()
    }

    /// The vertices of each colour class, by increasing index.
    pub fn groups(&self) -> Vec<Vec<usize>> {
        let mut g = vec![Vec::new(); self.num_colors];
        for (v, &c) in self.colors.iter().enumerate() {
            if c != NEUTRAL {
                g[c].push(v);
            }
        }
        g
    }

    /// Checks this colouring against `pattern` with the independent checker of its method:
    /// structural orthogonality (CPR), distance-1/2, star or acyclic, or, after
    /// post-processing, decodability (symmetric orthogonality, substitution); for a
    /// bicolouring, [`Bicoloring::check`].
    pub fn check(&self, pattern: &Pattern) -> Result<(), Violation> {
        if let Some(b) = &self.bicoloring {
            return b.check(pattern);
        }
        match self.method {
            Method::Cpr if self.problem == Problem::Row => {
                check::structurally_orthogonal_rows(pattern, &self.colors)
            }
            Method::Cpr => check::structurally_orthogonal_columns(pattern, &self.colors),
            Method::Distance1 => check::distance1(pattern, &self.colors),
            Method::Distance2 => check::distance2(pattern, &self.colors),
            Method::Star if self.postprocessed => {
                check::symmetrically_orthogonal(pattern, &self.colors)
            }
            Method::Star => check::star(pattern, &self.colors),
            Method::Acyclic if self.postprocessed => check::substitutable(pattern, &self.colors),
            Method::Acyclic => check::acyclic(pattern, &self.colors),
        }
    }
}
