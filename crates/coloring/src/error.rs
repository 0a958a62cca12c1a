//! The error type of the colouring crate.

use crate::problem::{Method, Order, Problem};

/// Why a colouring could not be computed or a result could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ColoringError {
    /// The pattern has a zero dimension (0×n or m×0): there is nothing to colour.
    #[error("the pattern is {nrows}×{ncols}: a dimension is zero, there is nothing to colour")]
    EmptyDimension {
        /// Rows.
        nrows: usize,
        /// Columns.
        ncols: usize,
    },
    /// The pattern has no entries: no product is needed and no colouring is defined.
    #[error("the {nrows}×{ncols} pattern has no entries: there is nothing to colour")]
    NoEntries {
        /// Rows.
        nrows: usize,
        /// Columns.
        ncols: usize,
    },
    /// A symmetric method was asked of a rectangular pattern.
    #[error("{method} colouring needs a square pattern, got {nrows}×{ncols}")]
    NotSquare {
        /// The method.
        method: Method,
        /// Rows.
        nrows: usize,
        /// Columns.
        ncols: usize,
    },
    /// A symmetric method was asked of a pattern that is not symmetric.
    #[error(
        "{method} colouring needs a symmetric pattern, but entry ({row}, {col}) has no mirror ({col}, {row}); symmetrise it first (A ∪ Aᵀ)"
    )]
    NotSymmetric {
        /// The method.
        method: Method,
        /// Row of an entry without mirror.
        row: usize,
        /// Column of that entry.
        col: usize,
    },
    /// The method does not apply to the problem.
    #[error("method {method} does not apply to the {problem} problem")]
    MethodNotApplicable {
        /// The problem.
        problem: Problem,
        /// The method.
        method: Method,
    },
    /// `best` was given an empty list of orders.
    #[error("no orders to try: `best` was given an empty list")]
    NoOrders,
    /// An order would need more memory than it is allowed on this pattern (DSATUR on
    /// conflict graphs with very many colours, e.g. distance-2 on a dense row).
    #[error(
        "the {order} order needs more than {limit} saturation entries on this pattern (its conflicts are too dense); choose another order"
    )]
    TooExpensive {
        /// The order.
        order: Order,
        /// The limit that was reached.
        limit: usize,
    },
    /// A colouring vector has the wrong length.
    #[error("the colouring has {len} colours, the pattern has {expected} vertices to colour")]
    WrongLength {
        /// Length given.
        len: usize,
        /// Length expected.
        expected: usize,
    },
}
