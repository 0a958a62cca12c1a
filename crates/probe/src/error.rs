//! Errors of designing probes and decoding products.

use sparsediff_coloring::ColoringError;
use sparsediff_coloring::check::Violation;
use sparsediff_pattern::PatternError;

/// Why a designer does not apply to a pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Inapplicable {
    /// A symmetric recovery (star, acyclic, half-sample, substitution) on a general matrix.
    #[error("it recovers symmetric matrices only")]
    NeedsSymmetric,
    /// A symmetric recovery on a pattern that is not structurally symmetric.
    #[error("the {rows}×{cols} pattern is not structurally symmetric")]
    NotStructurallySymmetric {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// A diagonal on a rectangular pattern.
    #[error("the {rows}×{cols} pattern is not square")]
    NotSquare {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// A pattern without entries.
    #[error("the {rows}×{cols} pattern has no entries: nothing to recover")]
    Empty {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// A closed-form design whose geometry does not have the pattern's size.
    #[error("the geometry has {vertices} vertices, the pattern is {rows}×{cols}")]
    GeometryMismatch {
        /// Vertices of the geometry.
        vertices: usize,
        /// Rows of the pattern.
        rows: usize,
        /// Columns of the pattern.
        cols: usize,
    },
    /// A block band geometry whose blocks do not tile the pattern's columns (a block of 0,
    /// or a column count that is not a multiple of the block).
    #[error("blocks of {block} columns do not tile the {cols} columns of the pattern")]
    BlockMismatch {
        /// The geometry's block size.
        block: usize,
        /// Columns of the pattern.
        cols: usize,
    },
    /// Distance-1 colourings recover the diagonal only.
    #[error("distance-1 colourings recover only the diagonal (see the diagonal module)")]
    DiagonalOnly,
    /// Saved parts whose seeds do not fit their recovery.
    #[error("{recovery:?} recovery needs {needed} seeds")]
    WrongSeeds {
        /// The recovery.
        recovery: crate::Recovery,
        /// `group` or `dense`.
        needed: &'static str,
    },
    /// A plan with a decoder of the caller's has no parts to rebuild it from.
    #[error("a plan with a decoder of the caller's cannot be rebuilt from parts")]
    CustomDecoder,
    /// The sparse Cholesky analysis of the normal equations failed (out of memory or index
    /// overflow in faer).
    #[error("the sparse Cholesky analysis of the normal equations failed")]
    CholeskyAnalysis,
}

/// Why a probe plan could not be designed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DesignError {
    /// The pattern is unusable (empty dimension, no entries, too large).
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// The colouring failed (asymmetric pattern for a symmetric plan, ...).
    #[error(transparent)]
    Coloring(#[from] ColoringError),
    /// The designer does not apply to this pattern (e.g. a stencil design on another
    /// pattern, a symmetric designer on a general matrix).
    #[error("designer `{designer}` does not apply: {reason}")]
    NotApplicable {
        /// The designer.
        designer: &'static str,
        /// Why not.
        reason: Inapplicable,
    },
    /// A colouring (given, or from a closed-form design) is not valid for the decoding it
    /// is meant for; the violation names the vertices and colours.
    #[error("the colouring of `{designer}` is not valid for its decoding: {violation}")]
    InvalidColoring {
        /// The designer.
        designer: &'static str,
        /// What is wrong.
        violation: Violation,
    },
    /// Random probes: fewer probes than some row has unknowns.
    #[error("row {row} has {needed} unknowns but there are only {probes} probes")]
    TooFewProbes {
        /// The row.
        row: usize,
        /// Unknowns in the row.
        needed: usize,
        /// Probes available.
        probes: usize,
    },
    /// Least squares: the sample matrix of some rows does not have full column rank on
    /// their support, so they cannot be recovered (listed, at most the first 64).
    #[error(
        "{count} rows cannot be recovered (their sample matrix is rank deficient), first: {rows:?}"
    )]
    RankDeficient {
        /// Number of rows.
        count: usize,
        /// The first rows (at most 64).
        rows: Vec<usize>,
    },
    /// A seed matrix has the wrong shape.
    #[error("the seed matrix is {rows}×{cols}, expected {expected_rows} rows")]
    SeedShape {
        /// Rows given.
        rows: usize,
        /// Columns (probes) given.
        cols: usize,
        /// Rows expected (columns of the matrix for column probes).
        expected_rows: usize,
    },
    /// Seeds whose arrays disagree with their declared sizes (dense values not
    /// rows × probes of them; see [`Seeds::check`](sparsediff_pattern::Seeds::check)).
    #[error("seeds: {0}")]
    Seeds(sparsediff_pattern::SeedsError),
    /// A seed matrix contains NaN or an infinity.
    #[error("seed entry ({row}, {probe}) is not finite ({value})")]
    NonFiniteSeed {
        /// Row of the seed matrix.
        row: usize,
        /// Probe.
        probe: usize,
        /// The value.
        value: f64,
    },
    /// A parameter is out of its range.
    #[error("parameter `{name}` = {value} {reason}")]
    Parameter {
        /// The parameter.
        name: &'static str,
        /// The value, as written.
        value: String,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// A colour (probe label) is too large: a colouring never needs more colours than it has
    /// vertices (columns for column plans, rows for row plans), and group seeds never use a
    /// probe beyond their probe count. [`NEUTRAL`](sparsediff_coloring::NEUTRAL) (in no
    /// probe) is not a label.
    #[error("vertex {vertex} has colour {color}, but colours must be below {limit}")]
    ColorOutOfRange {
        /// The vertex.
        vertex: usize,
        /// Its colour.
        color: usize,
        /// Colours must be smaller than this (the vertex or probe count).
        limit: usize,
    },
    /// Group seeds declare more probes than the plan has vertices (no plan needs more).
    #[error(
        "{probes} probes declared for {vertices} vertices: a plan never needs more probes than vertices"
    )]
    TooManyProbes {
        /// Probes declared.
        probes: usize,
        /// Vertices (columns for column plans, rows for row plans).
        vertices: usize,
    },
    /// None of the designers of a [`BestOf`](crate::design::BestOf) applies: every one
    /// failed or was skipped (each with its reason).
    #[error("no designer applies: {}", DesignError::list(candidates))]
    NoDesignerApplies {
        /// What each designer gave.
        candidates: Vec<crate::design::Candidate>,
    },
    /// Dense probes (random seeds, given samples) would make the design hold more than
    /// [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES) values in its dense arrays: `rows`
    /// counts the rows of all of them (`what` names them), each with one value per probe.
    #[error(
        "{what} with {probes} probes needs {rows} × {probes} values, more than MAX_DENSE_ENTRIES = {limit}"
    )]
    DenseTooLarge {
        /// The dense arrays counted.
        what: &'static str,
        /// Their rows, together.
        rows: usize,
        /// Probes (beyond `usize` when an oversampling overflows).
        probes: u128,
        /// [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES).
        limit: usize,
    },
}

impl DesignError {
    /// The candidates of a failed [`BestOf`](crate::design::BestOf), one per line.
    fn list(candidates: &[crate::design::Candidate]) -> String {
        candidates
            .iter()
            .map(|c| format!("{}: {}", c.designer, c.outcome))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The two product blocks of a bidirectional plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProductBlock {
    /// B = J·Sc (m × column probes): JVPs.
    Jvp,
    /// C = Jᵀ·Sr (n × row probes): VJPs.
    Vjp,
}

impl std::fmt::Display for ProductBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProductBlock::Jvp => "JVP (J·Sc)",
            ProductBlock::Vjp => "VJP (Jᵀ·Sr)",
        })
    }
}

/// Why products could not be decoded. Nothing is ever decoded silently wrong: a wrong shape
/// or a non-finite product is an error, and least-squares decoders report rows they cannot
/// recover.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The products matrix has the wrong shape.
    #[error("the products are {rows}×{cols}, expected {expected_rows}×{expected_cols}")]
    Shape {
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
        /// Rows expected.
        expected_rows: usize,
        /// Columns (probes) expected.
        expected_cols: usize,
    },
    /// A product is NaN or infinite.
    #[error("product ({row}, {probe}) is not finite ({value})")]
    NonFinite {
        /// Row of the products.
        row: usize,
        /// Probe (column of the products).
        probe: usize,
        /// The value.
        value: f64,
    },
    /// The output buffer has the wrong length.
    #[error("the value buffer has {len} entries, the pattern has {expected}")]
    ValuesLength {
        /// Length given.
        len: usize,
        /// Entries of the pattern.
        expected: usize,
    },
    /// One block of a bidirectional plan's products has the wrong shape.
    #[error("the {block} products are {rows}×{cols}, expected {expected_rows}×{expected_cols}")]
    BlockShape {
        /// Which block.
        block: ProductBlock,
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
        /// Rows expected.
        expected_rows: usize,
        /// Columns (probes) expected.
        expected_cols: usize,
    },
    /// A product of one block of a bidirectional plan is NaN or infinite.
    #[error("{block} product ({row}, {probe}) is not finite ({value})")]
    BlockNonFinite {
        /// Which block.
        block: ProductBlock,
        /// Row of the block.
        row: usize,
        /// Probe (column of the block).
        probe: usize,
        /// The value.
        value: f64,
    },
    /// Some rows could not be recovered (least squares with a rank-deficient sample
    /// matrix); their values are set to NaN.
    #[error("{count} rows could not be recovered, first: {rows:?}")]
    Unrecoverable {
        /// Number of rows.
        count: usize,
        /// The first rows (at most 64).
        rows: Vec<usize>,
    },
}

impl From<sparsediff_pattern::SeedsError> for DesignError {
    /// A non-finite seed is [`DesignError::NonFiniteSeed`] (as the decoders report it); the
    /// rest [`DesignError::Seeds`].
    fn from(e: sparsediff_pattern::SeedsError) -> Self {
        match e {
            sparsediff_pattern::SeedsError::NonFinite { row, probe, value } => {
                DesignError::NonFiniteSeed { row, probe, value }
            }
            e => DesignError::Seeds(e),
        }
    }
}
