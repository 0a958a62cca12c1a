//! Bidirectional plans: some columns of J grouped into JVP probes (B = J·Sc, m×pc), some
//! rows into VJP probes (C = Jᵀ·Sr, n×pr), every entry recovered from both blocks, directly
//! (star bicolouring) or by substitution (acyclic bicolouring).
//!
//! **Why a type of its own.** A [`ProbePlan`](crate::ProbePlan) has one orientation, one
//! seed matrix and one products matrix, and every consumer (the facade's evaluation, saved
//! plans, `verify`, the AD backends' seed blocks) relies on that. A bidirectional plan has
//! two seed matrices and two product blocks of different shapes, so it is a separate
//! [`BidirectionalPlan`] rather than an `Orientation::Both` that every existing match would
//! have to learn (and could silently mishandle). It reuses the ground crate's [`Seeds`]
//! (group seeds, [`NEUTRAL`](crate::NEUTRAL) = in no probe) for both sides, and
//! [`exact_products`](crate::exact_products) with [`Orientation::Columns`] and
//! [`Orientation::Rows`] computes its two blocks.
//!
//! ```
//! use sparsediff_pattern::generators;
//! use sparsediff_probe::BidirectionalDesigner;
//!
//! // Dense first row and column plus the diagonal: n JVPs or n VJPs, or 2 + 1 together.
//! let j = generators::arrowhead(500, 1)?;
//! let values: Vec<f64> = (0..j.nnz()).map(|k| 1.0 + k as f64).collect();
//! let plan = BidirectionalDesigner::star().design(&j)?;
//! assert_eq!((plan.num_column_probes(), plan.num_row_probes()), (2, 1));
//! let (b, c) = plan.exact_products(&values); // in practice: 2 JVPs and 1 VJP
//! let mut got = vec![0.0; j.nnz()];
//! plan.decode(b.as_ref(), c.as_ref(), &mut got)?;
//! assert_eq!(got, values);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use faer::{Mat, MatRef};
use sparsediff_coloring::{
    BiRecovery, BiSource, BiStrategy, ColoringParams, Method, OrderChoice, Problem,
    color_bidirectional, lower_bound,
};
use sparsediff_pattern::Pattern;

use crate::design::check_pattern;
use crate::error::{DecodeError, DesignError, ProductBlock};
use crate::plan::{Orientation, Seeds};
use crate::products::{ProductsView, check_values};

/// The prepared decoder of a bidirectional plan: one step per entry,
/// `values[entry] = product − Σ values[subtract]` (no subtraction for direct recovery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidirectionalDecoder {
    m: usize,
    n: usize,
    pc: usize,
    pr: usize,
    entry: Vec<u32>,
    /// (block is VJP, row of the block, column of the block).
    source: Vec<(bool, u32, u32)>,
    sub_ptr: Vec<u32>,
    sub: Vec<u32>,
}

impl BidirectionalDecoder {
    /// The decoder of `recovery` (built for `pattern` and colours with `pc` column and `pr`
    /// row colours).
    pub fn new(pattern: &Pattern, recovery: &BiRecovery, pc: usize, pr: usize) -> Self {
        let mut d = Self {
            m: pattern.nrows(),
            n: pattern.ncols(),
            pc,
            pr,
            entry: Vec::with_capacity(recovery.len()),
            source: Vec::with_capacity(recovery.len()),
            sub_ptr: vec![0],
            sub: Vec::new(),
        };
        for (k, src, sub) in recovery.steps() {
            d.entry.push(k as u32);
            d.source.push(match src {
                BiSource::Jvp { row, color } => (false, row as u32, color as u32),
                BiSource::Vjp { col, color } => (true, col as u32, color as u32),
            });
            d.sub.extend_from_slice(sub);
            d.sub_ptr.push(d.sub.len() as u32);
        }
        d
    }

    /// Shape (m, pc) of the JVP block B = J·Sc.
    pub fn column_products_shape(&self) -> (usize, usize) {
        (self.m, self.pc)
    }

    /// Shape (n, pr) of the VJP block C = Jᵀ·Sr.
    pub fn row_products_shape(&self) -> (usize, usize) {
        (self.n, self.pr)
    }

    /// Whether every entry is read directly.
    pub fn is_direct(&self) -> bool {
        self.sub.is_empty()
    }

    /// Writes J's values (pattern entry order) from the JVP block `jvp` (m×pc) and the VJP
    /// block `vjp` (n×pr), without allocating. Errors: a block of the wrong shape
    /// ([`DecodeError::BlockShape`]), a non-finite product
    /// ([`DecodeError::BlockNonFinite`]), a value buffer of the wrong length.
    pub fn decode(
        &self,
        jvp: MatRef<'_, f64>,
        vjp: MatRef<'_, f64>,
        values: &mut [f64],
    ) -> Result<(), DecodeError> {
        let b = view(jvp, ProductBlock::Jvp, self.m, self.pc)?;
        let c = view(vjp, ProductBlock::Vjp, self.n, self.pr)?;
        check_values(values, self.entry.len())?;
        for s in 0..self.entry.len() {
            let (is_vjp, r, col) = self.source[s];
            let mut v = if is_vjp {
                c.at(r as usize, col as usize)
            } else {
                b.at(r as usize, col as usize)
            };
            for &k in &self.sub[self.sub_ptr[s] as usize..self.sub_ptr[s + 1] as usize] {
                v -= values[k as usize];
            }
            values[self.entry[s] as usize] = v;
        }
        Ok(())
    }
}

/// Checks one block, naming it in the error.
fn view(
    mat: MatRef<'_, f64>,
    block: ProductBlock,
    rows: usize,
    probes: usize,
) -> Result<ProductsView<'_>, DecodeError> {
    ProductsView::new(mat, rows, probes).map_err(|e| match e {
        DecodeError::Shape {
            rows,
            cols,
            expected_rows,
            expected_cols,
        } => DecodeError::BlockShape {
            block,
            rows,
            cols,
            expected_rows,
            expected_cols,
        },
        DecodeError::NonFinite { row, probe, value } => DecodeError::BlockNonFinite {
            block,
            row,
            probe,
            value,
        },
        e => e,
    })
}

/// A bidirectional plan: column seeds Sc (n×pc), row seeds Sr (m×pr) and the prepared
/// decoder of both product blocks.
#[derive(Debug, Clone)]
pub struct BidirectionalPlan {
    designer: &'static str,
    method: Method,
    strategy: Option<BiStrategy>,
    pattern: Arc<Pattern>,
    column_seeds: Seeds,
    row_seeds: Seeds,
    lower_bound: usize,
    decoder: BidirectionalDecoder,
}

impl BidirectionalPlan {
    /// The plan of a bicolouring given by the caller: column colours (one per column) and
    /// row colours (one per row), [`NEUTRAL`](crate::NEUTRAL) = in no probe; `Method::Star`
    /// asks for direct recovery, `Method::Acyclic` for substitution. The colours are
    /// renumbered 0..k per side (empty classes cost no probe). Errors:
    /// [`DesignError::InvalidColoring`] naming an entry that cannot be recovered, or a
    /// colour vector of the wrong length; an empty pattern; a method other than star or
    /// acyclic.
    pub fn from_colors(
        pattern: &Pattern,
        column_colors: &[usize],
        row_colors: &[usize],
        method: Method,
    ) -> Result<BidirectionalPlan, DesignError> {
        const NAME: &str = "bidirectional-given";
        check_pattern(NAME, pattern)?;
        if !Problem::Bidirectional.accepts(method) {
            return Err(sparsediff_coloring::ColoringError::MethodNotApplicable {
                problem: Problem::Bidirectional,
                method,
            }
            .into());
        }
        let invalid = |violation| DesignError::InvalidColoring {
            designer: NAME,
            violation,
        };
        let direct = method == Method::Star;
        // Renumbered first (any colour values are accepted); lengths are checked by
        // `BiRecovery::from_colors`.
        let (cols, pc) = compact(column_colors);
        let (rows, pr) = compact(row_colors);
        let recovery = BiRecovery::from_colors(pattern, &cols, &rows, direct).map_err(invalid)?;
        let lb = lower_bound(pattern, Problem::Bidirectional, method)?;
        Ok(Self::build(
            NAME, method, None, pattern, cols, rows, pc, pr, &recovery, lb,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        designer: &'static str,
        method: Method,
        strategy: Option<BiStrategy>,
        pattern: &Pattern,
        cols: Vec<usize>,
        rows: Vec<usize>,
        pc: usize,
        pr: usize,
        recovery: &BiRecovery,
        lower_bound: usize,
    ) -> Self {
        Self {
            designer,
            method,
            strategy,
            pattern: Arc::new(pattern.clone()),
            decoder: BidirectionalDecoder::new(pattern, recovery, pc, pr),
            column_seeds: Seeds::Groups {
                group: cols,
                num_probes: pc,
            },
            row_seeds: Seeds::Groups {
                group: rows,
                num_probes: pr,
            },
            lower_bound,
        }
    }

    /// The designer's name (`bidirectional-star`, `bidirectional-acyclic`,
    /// `bidirectional-given`).
    pub fn designer(&self) -> &'static str {
        self.designer
    }

    /// Star (direct) or acyclic (substitution).
    pub fn method(&self) -> Method {
        self.method
    }

    /// The colouring strategy that won (`None` for a caller's colouring).
    pub fn strategy(&self) -> Option<BiStrategy> {
        self.strategy
    }

    /// The pattern of J.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// Column seeds Sc (n×pc): the JVP probes.
    pub fn column_seeds(&self) -> &Seeds {
        &self.column_seeds
    }

    /// Row seeds Sr (m×pr): the VJP probes.
    pub fn row_seeds(&self) -> &Seeds {
        &self.row_seeds
    }

    /// JVPs pc.
    pub fn num_column_probes(&self) -> usize {
        self.column_seeds.num_probes()
    }

    /// VJPs pr.
    pub fn num_row_probes(&self) -> usize {
        self.row_seeds.num_probes()
    }

    /// Products in all, pc + pr.
    pub fn num_probes(&self) -> usize {
        self.num_column_probes() + self.num_row_probes()
    }

    /// A lower bound on the products of any bicolouring of this pattern.
    pub fn lower_bound(&self) -> usize {
        self.lower_bound
    }

    /// The prepared decoder.
    pub fn decoder(&self) -> &BidirectionalDecoder {
        &self.decoder
    }

    /// Shape (m, pc) of the JVP block.
    pub fn column_products_shape(&self) -> (usize, usize) {
        self.decoder.column_products_shape()
    }

    /// Shape (n, pr) of the VJP block.
    pub fn row_products_shape(&self) -> (usize, usize) {
        self.decoder.row_products_shape()
    }

    /// Recovers J's values from B = J·Sc and C = Jᵀ·Sr (see
    /// [`BidirectionalDecoder::decode`]).
    pub fn decode(
        &self,
        jvp: MatRef<'_, f64>,
        vjp: MatRef<'_, f64>,
        values: &mut [f64],
    ) -> Result<(), DecodeError> {
        self.decoder.decode(jvp, vjp, values)
    }

    /// The exact blocks (J·Sc, Jᵀ·Sr) of the matrix with this pattern and `values`.
    pub fn exact_products(&self, values: &[f64]) -> (Mat<f64>, Mat<f64>) {
        (
            crate::products::exact_products(
                &self.pattern,
                values,
                &self.column_seeds,
                Orientation::Columns,
            ),
            crate::products::exact_products(
                &self.pattern,
                values,
                &self.row_seeds,
                Orientation::Rows,
            ),
        )
    }
}

/// Renumbers the colours in use to 0..k, keeping their order.
fn compact(colors: &[usize]) -> (Vec<usize>, usize) {
    let none = sparsediff_coloring::NEUTRAL;
    let mut used: Vec<usize> = colors.iter().copied().filter(|&c| c != none).collect();
    used.sort_unstable();
    used.dedup();
    let out = colors
        .iter()
        .map(|&c| {
            if c == none {
                none
            } else {
                used.binary_search(&c).expect("a colour in use")
            }
        })
        .collect();
    (out, used.len())
}

/// Designs bidirectional plans from a star (direct) or acyclic (substitution) bicolouring
/// ([`sparsediff_coloring::color_bidirectional`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidirectionalDesigner {
    method: Method,
    params: ColoringParams,
}

impl BidirectionalDesigner {
    /// Star bicolouring, direct recovery (`bidirectional-star`).
    pub fn star() -> Self {
        Self {
            method: Method::Star,
            params: ColoringParams::with_order(OrderChoice::best()),
        }
    }

    /// Acyclic bicolouring, recovery by substitution (`bidirectional-acyclic`).
    pub fn acyclic() -> Self {
        Self {
            method: Method::Acyclic,
            ..Self::star()
        }
    }

    /// Other colouring parameters (default: the best of every order).
    pub fn with_params(mut self, params: ColoringParams) -> Self {
        self.params = params;
        self
    }

    /// `bidirectional-star` or `bidirectional-acyclic`.
    pub fn name(&self) -> &'static str {
        if self.method == Method::Acyclic {
            "bidirectional-acyclic"
        } else {
            "bidirectional-star"
        }
    }

    /// The lower bound on the products of any bicolouring of `pattern`.
    pub fn lower_bound(&self, pattern: &Pattern) -> Option<usize> {
        lower_bound(pattern, Problem::Bidirectional, self.method).ok()
    }

    /// Colours `pattern` and prepares the decoder. Errors: an empty pattern, a colouring
    /// error.
    pub fn design(&self, pattern: &Pattern) -> Result<BidirectionalPlan, DesignError> {
        check_pattern(self.name(), pattern)?;
        let b = color_bidirectional(pattern, self.method, &self.params)?;
        let lb = lower_bound(pattern, Problem::Bidirectional, self.method)?;
        Ok(BidirectionalPlan::build(
            self.name(),
            self.method,
            Some(b.strategy()),
            pattern,
            b.column_colors().to_vec(),
            b.row_colors().to_vec(),
            b.num_column_colors(),
            b.num_row_colors(),
            b.recovery(),
            lb,
        ))
    }
}
