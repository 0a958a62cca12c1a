//! *What* to colour ([`Problem`]), *how* ([`Method`], [`Order`]) and the tuning knobs
//! ([`ColoringParams`]).

use std::fmt;
use std::str::FromStr;

/// Which matrix and which side of it is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Problem {
    /// Colour the columns of a general m×n matrix: the compressed matrix is A·S (JVPs,
    /// forward mode). Columns of one colour must be structurally orthogonal.
    Column,
    /// Colour the rows of a general m×n matrix: the compressed matrix is Sᵀ·A (VJPs,
    /// reverse mode). Rows of one colour must be structurally orthogonal.
    Row,
    /// Colour the vertices of the adjacency graph of a symmetric n×n matrix (Hessians):
    /// the compressed matrix is H·S (HVPs), and symmetry may be exploited.
    Symmetric,
    /// Colour columns and rows of a general m×n matrix together (bicolouring of
    /// [0 Jᵀ; J 0]): the compressed matrices are J·Sc (JVPs) and Jᵀ·Sr (VJPs), and each
    /// entry is recovered from either ([`Method::Star`]: directly, [`Method::Acyclic`]: by
    /// substitution). See [`color_bidirectional`](crate::color_bidirectional).
    Bidirectional,
}

/// The colouring algorithm, which fixes how the matrix is recovered from the products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// Curtis–Powell–Reid: partial distance-2 colouring of the bipartite graph, direct
    /// recovery without exploiting symmetry (column or row problem; on a symmetric pattern
    /// it colours the columns of the pattern as given).
    Cpr,
    /// Distance-1 colouring of the adjacency graph: recovers exactly the diagonal of a
    /// symmetric matrix (and nothing else).
    Distance1,
    /// Distance-2 colouring of the adjacency graph: direct recovery of a symmetric matrix
    /// without exploiting symmetry (CPR on the pattern with its diagonal).
    Distance2,
    /// Star colouring (Gebremedhin–Tarafdar–Manne–Pothen 2007, Algorithm 4.1): direct
    /// recovery exploiting symmetry, from the two-coloured stars.
    Star,
    /// Acyclic colouring (same paper, Algorithm 3.1): recovery by substitution along the
    /// two-coloured trees; about half the colours of star colouring on bands and stencils.
    Acyclic,
}

/// The order in which the greedy algorithm visits the vertices.
///
/// For the distance-2 methods ([`Method::Cpr`], [`Method::Distance2`]) degrees are
/// distance-2 degrees (as in ColPack); for the others they are degrees in the adjacency
/// graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Order {
    /// Vertices by index.
    Natural,
    /// Decreasing degree, ties by index.
    LargestFirst,
    /// Smallest-last (Matula–Beck): repeatedly remove a vertex of smallest remaining degree,
    /// colour in reverse removal order.
    SmallestLast,
    /// Incidence degree: repeatedly take the vertex with most already-ordered neighbours.
    IncidenceDegree,
    /// Dynamic largest-first: repeatedly take the vertex with most not-yet-ordered neighbours.
    DynamicLargestFirst,
    /// DSATUR (Brélaz): repeatedly colour the vertex seeing the most distinct colours, ties
    /// by degree; the visit order is then used by the requested method.
    Dsatur,
    /// Maximum cardinality search (Tarjan–Yannakakis 1984). On a chordal graph (a band in
    /// any vertex numbering, a tree) the reverse visit order is a perfect elimination
    /// ordering, so greedy colouring uses ω(G) colours, and since every proper colouring of
    /// a chordal graph is acyclic, acyclic colouring reaches the clique bound (β+1 on a band).
    PerfectElimination,
    /// A seeded uniformly random permutation.
    Random(u64),
}

impl Order {
    /// Every order, with `Random(0)` standing for the random family.
    pub const ALL: [Order; 8] = [
        Order::Natural,
        Order::LargestFirst,
        Order::SmallestLast,
        Order::IncidenceDegree,
        Order::DynamicLargestFirst,
        Order::Dsatur,
        Order::PerfectElimination,
        Order::Random(0),
    ];
}

/// Which order(s) to use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderChoice {
    /// One order.
    Single(Order),
    /// Run each order and keep the colouring with the fewest colours (the first listed wins
    /// ties, so the result is deterministic).
    Best(Vec<Order>),
}

impl OrderChoice {
    /// "best": every deterministic order plus one seeded random order.
    pub fn best() -> Self {
        OrderChoice::Best(Order::ALL.to_vec())
    }
}

impl From<Order> for OrderChoice {
    fn from(o: Order) -> Self {
        OrderChoice::Single(o)
    }
}

/// Tuning of a colouring run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColoringParams {
    /// Vertex order(s). Default: [`Order::Natural`].
    pub order: OrderChoice,
    /// For star and acyclic colourings: give the neutral colour to vertices whose colour is
    /// never read during recovery, and drop colour classes that become empty. The result is
    /// then checked by decodability (symmetric orthogonality / substitution), not by the
    /// graph property. Default: `false`.
    pub postprocess: bool,
    /// Culberson's iterated greedy for [`Method::Cpr`], [`Method::Distance1`] and
    /// [`Method::Distance2`]: recolour this many times with the colour classes as the
    /// order (largest class first, then reverse class order alternately). It never
    /// increases the number of colours. Default: 0.
    pub recolor_passes: usize,
    /// With several orders: stop trying them once a colouring has at most this many
    /// colours (a lower bound, or a count another design already reaches). The orders not
    /// tried are absent from [`Coloring::tried`](crate::Coloring::tried). Default: `None`,
    /// every order is tried.
    pub stop_at: Option<usize>,
}

impl Default for ColoringParams {
    fn default() -> Self {
        Self {
            order: OrderChoice::Single(Order::Natural),
            postprocess: false,
            recolor_passes: 0,
            stop_at: None,
        }
    }
}

impl ColoringParams {
    /// Parameters with the given order(s) and otherwise defaults.
    pub fn with_order(order: impl Into<OrderChoice>) -> Self {
        Self {
            order: order.into(),
            ..Self::default()
        }
    }
}

impl Problem {
    /// The methods that apply to this problem.
    pub fn methods(self) -> &'static [Method] {
        match self {
            Problem::Column | Problem::Row => &[Method::Cpr],
            Problem::Bidirectional => &[Method::Star, Method::Acyclic],
            Problem::Symmetric => &[
                Method::Cpr,
                Method::Distance1,
                Method::Distance2,
                Method::Star,
                Method::Acyclic,
            ],
        }
    }

    /// Whether `method` applies.
    pub fn accepts(self, method: Method) -> bool {
        self.methods().contains(&method)
    }
}

impl Method {
    /// Whether colours are distance-2 constraints (orders then use distance-2 degrees).
    pub fn is_distance2(self) -> bool {
        matches!(self, Method::Cpr | Method::Distance2)
    }
}

macro_rules! names {
    ($ty:ty, $what:literal, $( $variant:path => $name:literal $(| $alias:literal)* ),+ $(,)?) => {
        impl $ty {
            /// The name used on the command line and in JSON.
            pub fn name(&self) -> &'static str {
                match *self { $( $variant => $name, )+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
        impl FromStr for $ty {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                match s.to_ascii_lowercase().replace('_', "-").as_str() {
                    $( $name $(| $alias)* => Ok($variant), )+
                    _ => Err(UnknownName { what: $what, found: s.to_string(),
                        known: &[$($name),+] }),
                }
            }
        }
    };
}

names!(Problem, "problem",
    Problem::Column => "column" | "columns" | "jacobian-column",
    Problem::Row => "row" | "rows" | "jacobian-row",
    Problem::Symmetric => "symmetric" | "hessian",
    Problem::Bidirectional => "bidirectional" | "bicoloring" | "bicolouring" | "mixed",
);
names!(Method, "method",
    Method::Cpr => "cpr" | "distance2-bipartite",
    Method::Distance1 => "distance1" | "d1",
    Method::Distance2 => "d2" | "distance2",
    Method::Star => "star",
    Method::Acyclic => "acyclic",
);

impl Order {
    /// The name used on the command line and in JSON (`random` for every seed).
    pub fn name(&self) -> &'static str {
        match self {
            Order::Natural => "natural",
            Order::LargestFirst => "largest-first",
            Order::SmallestLast => "smallest-last",
            Order::IncidenceDegree => "incidence-degree",
            Order::DynamicLargestFirst => "dynamic-largest-first",
            Order::Dsatur => "dsatur",
            Order::PerfectElimination => "perfect-elimination",
            Order::Random(_) => "random",
        }
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Order::Random(seed) => write!(f, "random({seed})"),
            o => f.write_str(o.name()),
        }
    }
}

impl FromStr for Order {
    type Err = UnknownName;

    /// Accepts the names of [`Order::name`], the abbreviations `lf`, `sl`, `id`, `dlf`,
    /// `peo`, `mcs`, and `random` / `random:SEED` / `random(SEED)`.
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        let l = s.trim().to_ascii_lowercase().replace('_', "-");
        if let Some(rest) = l.strip_prefix("random") {
            let seed = rest.trim_matches(|c| c == '(' || c == ')' || c == ':' || c == '=');
            if seed.is_empty() {
                return Ok(Order::Random(0));
            }
            if let Ok(seed) = seed.parse() {
                return Ok(Order::Random(seed));
            }
        }
        Ok(match l.as_str() {
            "natural" | "n" => Order::Natural,
            "largest-first" | "lf" => Order::LargestFirst,
            "smallest-last" | "sl" => Order::SmallestLast,
            "incidence-degree" | "id" => Order::IncidenceDegree,
            "dynamic-largest-first" | "dlf" => Order::DynamicLargestFirst,
            "dsatur" => Order::Dsatur,
            "perfect-elimination" | "peo" | "mcs" => Order::PerfectElimination,
            _ => {
                return Err(UnknownName {
                    what: "order",
                    found: s.to_string(),
                    known: &[
                        "natural",
                        "largest-first",
                        "smallest-last",
                        "incidence-degree",
                        "dynamic-largest-first",
                        "dsatur",
                        "perfect-elimination",
                        "random[:SEED]",
                    ],
                });
            }
        })
    }
}

/// A name that is not one of the known problems, methods or orders.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{found}` (known: {})", .known.join(", "))]
pub struct UnknownName {
    /// "problem", "method" or "order".
    pub what: &'static str,
    /// The name given.
    pub found: String,
    /// The accepted names.
    pub known: &'static [&'static str],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in [
            Problem::Column,
            Problem::Row,
            Problem::Symmetric,
            Problem::Bidirectional,
        ] {
            assert_eq!(p.name().parse::<Problem>().unwrap(), p);
        }
        for m in [
            Method::Cpr,
            Method::Distance1,
            Method::Distance2,
            Method::Star,
            Method::Acyclic,
        ] {
            assert_eq!(m.name().parse::<Method>().unwrap(), m);
        }
        for o in Order::ALL {
            assert_eq!(o.name().parse::<Order>().unwrap(), o);
        }
        assert_eq!("random:42".parse::<Order>().unwrap(), Order::Random(42));
        assert_eq!("random(7)".parse::<Order>().unwrap(), Order::Random(7));
        assert_eq!("SL".parse::<Order>().unwrap(), Order::SmallestLast);
        let e = "fancy".parse::<Order>().unwrap_err();
        assert!(e.to_string().contains("smallest-last"), "{e}");
        assert!("d3".parse::<Method>().is_err());
    }

    #[test]
    fn applicability() {
        assert!(Problem::Column.accepts(Method::Cpr));
        assert!(!Problem::Column.accepts(Method::Star));
        assert!(Problem::Symmetric.accepts(Method::Acyclic));
        assert!(Problem::Bidirectional.accepts(Method::Star));
        assert!(Problem::Bidirectional.accepts(Method::Acyclic));
        for m in [Method::Cpr, Method::Distance1, Method::Distance2] {
            assert!(!Problem::Bidirectional.accepts(m));
        }
    }
}
