//! [`ProbePlan`]: the seeds to multiply by, and the prepared decoder that turns the products
//! back into the matrix; [`ProbeDesigner`]: what makes plans.

use std::borrow::Cow;
use std::sync::Arc;

use faer::{Mat, MatRef};
use sparsediff_pattern::Pattern;
pub(crate) use sparsediff_pattern::Seeds;

use crate::decode::{Decode, Decoder};
use crate::error::{DecodeError, DesignError};

/// Most values the dense arrays of a design may hold together (2²⁸, 2 GiB of `f64`, like
/// [`MAX_NNZ`](sparsediff_pattern::MAX_NNZ) for indices): random seeds (n×p), their products
/// (m×p) and, for per-row least squares, the pseudo-inverses (nnz×p). A larger oversampling
/// or probe count is refused with [`DesignError::DenseTooLarge`] before anything is drawn.
pub const MAX_DENSE_ENTRIES: usize = 1 << 28;

/// Checks that `rows` rows of dense arrays with `probes` values each stay within
/// [`MAX_DENSE_ENTRIES`]; returns the probe count.
pub(crate) fn check_dense(
    what: &'static str,
    rows: usize,
    probes: u128,
) -> Result<usize, DesignError> {
    match usize::try_from(probes) {
        Ok(p) if rows as u128 * probes <= MAX_DENSE_ENTRIES as u128 => Ok(p),
        _ => Err(DesignError::DenseTooLarge {
            what,
            rows,
            probes,
            limit: MAX_DENSE_ENTRIES,
        }),
    }
}

/// Which matrix the pattern describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
pub enum MatrixKind {
    /// A general m×n matrix (a Jacobian).
    General,
    /// A symmetric n×n matrix (a Hessian): designers may exploit symmetry.
    Symmetric,
}

/// Which products the probes feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
pub enum Orientation {
    /// B = A·S: S is n×p, B is m×p (JVPs, HVPs).
    Columns,
    /// C = Aᵀ·S: S is m×p, C is n×p (VJPs: each column of C is Sᵀ-row times A, transposed).
    Rows,
}

/// How a plan's products are decoded: with the pattern and the seeds, this is everything
/// needed to rebuild the prepared decoder (see [`ProbePlan::from_parts`]).
///
/// With the feature `serde`: `{"kind": "star"}`, `{"kind": "roll", "stride": 3}`, ...
/// ([`Custom`](Self::Custom) has no serialised form: such a plan cannot be saved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case", tag = "kind")
)]
pub enum Recovery {
    /// Column groups read directly (identity, CPR, distance-2, direct stencils).
    Columns,
    /// Row groups read directly (products Aᵀ·S).
    Rows,
    /// Star colouring: read through the hubs of the two-coloured stars.
    Star,
    /// Acyclic colouring: substitution along the two-coloured trees.
    Substitution,
    /// Banded stride probes decoded by rolling.
    Roll {
        /// The stride w.
        stride: usize,
    },
    /// Dense probes, per-row least squares.
    RowLeastSquares,
    /// Dense probes, one global least-squares problem over the lower triangle.
    SymmetricLeastSquares,
    /// A decoder of the caller's ([`ProbePlan::custom`]): not rebuilt from parts, so such a
    /// plan cannot be saved.
    #[cfg_attr(feature = "serde", serde(skip))]
    Custom,
}

/// A probe plan: seeds, how many products they cost, and a prepared decoder.
///
/// Preparation (colouring, decode indices, factorisations) happens when the plan is
/// designed; [`decode`](Self::decode) then allocates nothing.
#[derive(Debug, Clone)]
pub struct ProbePlan {
    pub(crate) designer: Cow<'static, str>,
    pub(crate) kind: MatrixKind,
    pub(crate) orientation: Orientation,
    pub(crate) pattern: Arc<Pattern>,
    pub(crate) seeds: Seeds,
    pub(crate) lower_bound: usize,
    pub(crate) colors: Option<usize>,
    pub(crate) recovery: Recovery,
    pub(crate) decoder: Decoder,
}

impl ProbePlan {
    /// A plan with a decoder of the caller's: the seeds to multiply by and a decoder that
    /// turns the products (`products_shape()` = rows × probes of the seeds) into one value
    /// per entry of `pattern`. Checked: the seeds' rows match the pattern for the
    /// orientation, the decoder's product shape matches the seeds. `lower_bound` and
    /// `colors` are what the designer knows (0 and `None` if nothing).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use faer::MatRef;
    /// use sparsediff_pattern::Pattern;
    /// use sparsediff_probe::{Decode, DecodeError, MatrixKind, Orientation, ProbePlan, Seeds};
    ///
    /// /// A diagonal matrix read from one all-ones probe.
    /// #[derive(Debug)]
    /// struct Diagonal(usize);
    /// impl Decode for Diagonal {
    ///     fn products_shape(&self) -> (usize, usize) { (self.0, 1) }
    ///     fn decode(&self, b: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
    ///         for (i, v) in values.iter_mut().enumerate() { *v = b[(i, 0)]; }
    ///         Ok(())
    ///     }
    /// }
    /// let pattern = Pattern::identity(4)?;
    /// let seeds = Seeds::Groups { group: vec![0; 4], num_probes: 1 };
    /// let plan = ProbePlan::custom("my-diagonal", MatrixKind::Symmetric, Orientation::Columns,
    ///     pattern, seeds, Arc::new(Diagonal(4)), 1, Some(1))?;
    /// let b = plan.exact_products(&[1.0, 2.0, 3.0, 4.0]);
    /// let mut v = [0.0; 4];
    /// plan.decode(b.as_ref(), &mut v)?;
    /// assert_eq!(v, [1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(plan.designer(), "my-diagonal");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn custom(
        designer: impl Into<Cow<'static, str>>,
        kind: MatrixKind,
        orientation: Orientation,
        pattern: Pattern,
        seeds: Seeds,
        decoder: Arc<dyn Decode>,
        lower_bound: usize,
        colors: Option<usize>,
    ) -> Result<ProbePlan, DesignError> {
        let (rows, expected_rows) = match orientation {
            Orientation::Columns => (pattern.nrows(), pattern.ncols()),
            Orientation::Rows => (pattern.ncols(), pattern.nrows()),
        };
        if seeds.dim() != expected_rows {
            return Err(DesignError::SeedShape {
                rows: seeds.dim(),
                cols: seeds.num_probes(),
                expected_rows,
            });
        }
        seeds.check()?;
        if let Seeds::Groups { group, num_probes } = &seeds {
            if *num_probes > expected_rows {
                return Err(DesignError::TooManyProbes {
                    probes: *num_probes,
                    vertices: expected_rows,
                });
            }
            crate::design::check_colors(group, *num_probes)?;
        }
        if decoder.products_shape() != (rows, seeds.num_probes()) {
            let (r, c) = decoder.products_shape();
            return Err(DesignError::SeedShape {
                rows: r,
                cols: c,
                expected_rows: rows,
            });
        }
        Ok(ProbePlan {
            designer: designer.into(),
            kind,
            orientation,
            pattern: Arc::new(pattern),
            seeds,
            lower_bound,
            colors,
            recovery: Recovery::Custom,
            decoder: Decoder::Custom(decoder),
        })
    }

    /// Name of the designer that made the plan (`cpr`, `star`, `random`, ..., or the name a
    /// user's designer gave it; kept through save and load).
    pub fn designer(&self) -> &str {
        &self.designer
    }

    /// General or symmetric.
    pub fn kind(&self) -> MatrixKind {
        self.kind
    }

    /// Column or row probes.
    pub fn orientation(&self) -> Orientation {
        self.orientation
    }

    /// The pattern the plan recovers.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// The seed matrix.
    pub fn seeds(&self) -> &Seeds {
        &self.seeds
    }

    /// Number of products (probes) p.
    pub fn num_probes(&self) -> usize {
        self.seeds.num_probes()
    }

    /// A lower bound on the probes any plan of this family needs on this pattern.
    pub fn lower_bound(&self) -> usize {
        self.lower_bound
    }

    /// Number of colours, for plans made from a colouring.
    pub fn colors(&self) -> Option<usize> {
        self.colors
    }

    /// How the products are decoded.
    pub fn recovery(&self) -> Recovery {
        self.recovery
    }

    /// The prepared decoder.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Shape (rows, probes) the products must have.
    pub fn products_shape(&self) -> (usize, usize) {
        let rows = match self.orientation {
            Orientation::Columns => self.pattern.nrows(),
            Orientation::Rows => self.pattern.ncols(),
        };
        (rows, self.num_probes())
    }

    /// Recovers the matrix values, in the pattern's entry order, from the products
    /// (`products_shape()`), without allocating.
    pub fn decode(&self, products: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
        self.decoder.decode(products, values)
    }

    /// [`decode`](Self::decode) of products the caller has checked to be finite, its
    /// work split across `pool` where the decoder can ([`Decode::decode_prechecked`]).
    pub fn decode_prechecked(
        &self,
        products: MatRef<'_, f64>,
        values: &mut [f64],
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<(), DecodeError> {
        self.decoder.decode_prechecked(products, values, pool)
    }

    /// The exact products of the matrix with this plan's pattern and `values`.
    pub fn exact_products(&self, values: &[f64]) -> Mat<f64> {
        crate::products::exact_products(&self.pattern, values, &self.seeds, self.orientation)
    }

    /// Decodes into a new sprs CSR matrix (allocates; see [`decode`](Self::decode)).
    pub fn decode_to_sprs(
        &self,
        products: MatRef<'_, f64>,
    ) -> Result<sprs::CsMat<f64>, DecodeError> {
        let mut values = vec![0.0; self.pattern.nnz()];
        self.decode(products, &mut values)?;
        Ok(self
            .pattern
            .to_sprs_with_values(values)
            .expect("one value per entry by construction"))
    }
}

/// Makes probe plans for a pattern.
pub trait ProbeDesigner {
    /// The designer's name, as in `sparsediff compare` output.
    fn name(&self) -> &'static str;

    /// Designs seeds and prepares the decoder for `pattern`.
    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError>;

    /// A number of probes that no plan of this designer for `pattern` can go below, if
    /// the designer knows one more cheaply than designing (callers that pick the fewest
    /// probes skip a designer that cannot win). `None`: no such bound.
    fn lower_bound(&self, pattern: &Pattern, kind: MatrixKind) -> Option<usize> {
        let _ = (pattern, kind);
        None
    }

    /// [`lower_bound`](Self::lower_bound) from colouring bounds that a combinator
    /// ([`BestOf`](crate::design::BestOf)) computes once for all its members (each star or
    /// acyclic bound builds the adjacency graph). Default: `lower_bound` on the bounds'
    /// pattern; the colouring and closed-form designers take the shared bounds.
    fn lower_bound_shared(
        &self,
        bounds: &crate::design::SharedBounds<'_>,
        kind: MatrixKind,
    ) -> Option<usize> {
        self.lower_bound(bounds.pattern(), kind)
    }

    /// Designs and reports how: every designer tried, with its outcome and time.
    /// Default: this designer as the one candidate; combinators
    /// ([`BestOf`](crate::design::BestOf)) report their members.
    fn design_report(
        &self,
        pattern: &Pattern,
        kind: MatrixKind,
    ) -> Result<crate::design::Designed, DesignError> {
        crate::design::design_single(self, pattern, kind)
    }

    /// [`design`](Self::design) for a pattern the caller shares: the plan may hold
    /// another handle of it instead of a copy (the closed-form, colouring and identity
    /// designers do; a copy of the 1e6 Rosenbrock Hessian's pattern took 12–15 ms of
    /// `prepare`). Default: `design`, which copies.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sparsediff_pattern::generators::{self, Stencil2d};
    /// use sparsediff_probe::design::AutoDesigner;
    /// use sparsediff_probe::{MatrixKind, ProbeDesigner};
    ///
    /// let grid = Arc::new(generators::grid2d(30, 30, Stencil2d::FivePoint)?);
    /// let shared = AutoDesigner::default().design_shared(&grid, MatrixKind::Symmetric)?;
    /// assert!(std::ptr::eq(shared.pattern(), &*grid)); // the caller's pattern, not a copy
    /// let copied = AutoDesigner::default().design(&grid, MatrixKind::Symmetric)?;
    /// assert!(!std::ptr::eq(copied.pattern(), &*grid));
    /// assert_eq!(shared.num_probes(), copied.num_probes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn design_shared(
        &self,
        pattern: &std::sync::Arc<Pattern>,
        kind: MatrixKind,
    ) -> Result<ProbePlan, DesignError> {
        self.design(pattern, kind)
    }

    /// [`design_report`](Self::design_report) for a pattern the caller shares (see
    /// [`design_shared`](Self::design_shared)). Default: `design_report`; combinators
    /// ([`BestOf`](crate::design::BestOf)) give their members the shared pattern.
    fn design_report_shared(
        &self,
        pattern: &std::sync::Arc<Pattern>,
        kind: MatrixKind,
    ) -> Result<crate::design::Designed, DesignError> {
        self.design_report(pattern, kind)
    }
}
