//! Prepared decoders: each turns the products B into the matrix values (in the pattern's
//! entry order) without allocating.
//!
//! | decoder | used by | work per decode |
//! |---|---|---|
//! | [`GatherDecoder`] | identity, CPR, star, distance-2, direct stencils | one read per entry |
//! | [`RollDecoder`] | banded stride probes | one read per entry, index computed |
//! | [`SubstitutionDecoder`] | acyclic colourings, substitution stencils | one read and two writes per edge |
//! | [`RowLeastSquaresDecoder`] | random probes, samples given by the caller | one d_i×p mat-vec per row |
//! | [`SymmetricLeastSquaresDecoder`] | symmetric random probes ("half-sample") | sparse Cholesky solves of the normal equations, one refinement step |

mod dense_qr;
mod gather;
mod roll;
mod row_lstsq;
mod substitution;
mod sym_lstsq;

pub use gather::GatherDecoder;
pub use roll::RollDecoder;
pub use row_lstsq::{DEFAULT_RANK_TOL, RowLeastSquaresDecoder, SMALL_ROW};
pub(crate) use row_lstsq::{check_tol, design_error};
pub use substitution::SubstitutionDecoder;
pub(crate) use sym_lstsq::SYM_LSTSQ_ARRAYS;
pub use sym_lstsq::{SELF_TEST_TOL, SymmetricLeastSquaresDecoder};

use faer::MatRef;

use crate::error::DecodeError;

/// Recovers matrix values from compressed products. Decoders are immutable once prepared
/// (`&self`), so one plan serves several threads; implement this trait for a decoder of
/// your own and wrap it in [`Decoder::Custom`].
pub trait Decode: std::fmt::Debug + Send + Sync {
    /// Shape (rows, probes) the products must have.
    fn products_shape(&self) -> (usize, usize);

    /// Writes the matrix values, in the pattern's entry order, into `values`. Checks the
    /// products' shape and that every product is finite first.
    fn decode(&self, products: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError>;

    /// [`decode`](Self::decode) of products that the caller has already checked to be
    /// finite (the shape is still checked): a caller that checks them elsewhere — on
    /// several threads, or while making them — need not pay for a second pass over them.
    /// Products that are not all finite make the values not finite, never an error. A
    /// decoder may split its work across `pool`, with the same values bit for bit as on
    /// one thread. The default checks anyway, on one thread.
    fn decode_prechecked(
        &self,
        products: MatRef<'_, f64>,
        values: &mut [f64],
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<(), DecodeError> {
        let _ = pool;
        self.decode(products, values)
    }
}

/// Every prepared decoder of this crate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Decoder {
    /// Direct recovery by precomputed gather.
    Gather(GatherDecoder),
    /// Banded stride probes, decoded by rolling.
    Roll(RollDecoder),
    /// Substitution along two-coloured trees.
    Substitution(SubstitutionDecoder),
    /// Per-row least squares (random or given samples).
    RowLeastSquares(RowLeastSquaresDecoder),
    /// Global least squares over the lower triangle of a symmetric matrix.
    SymmetricLeastSquares(SymmetricLeastSquaresDecoder),
    /// A decoder of the caller's ([`ProbePlan::custom`](crate::ProbePlan::custom)).
    Custom(std::sync::Arc<dyn Decode>),
}

impl Decoder {
    /// The decoder inside: one dispatch for every method of [`Decode`].
    fn inner(&self) -> &dyn Decode {
        match self {
            Decoder::Gather(d) => d,
            Decoder::Roll(d) => d,
            Decoder::Substitution(d) => d,
            Decoder::RowLeastSquares(d) => d,
            Decoder::SymmetricLeastSquares(d) => d,
            Decoder::Custom(d) => &**d,
        }
    }
}

impl Decode for Decoder {
    fn products_shape(&self) -> (usize, usize) {
        self.inner().products_shape()
    }

    fn decode(&self, products: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
        self.inner().decode(products, values)
    }

    fn decode_prechecked(
        &self,
        products: MatRef<'_, f64>,
        values: &mut [f64],
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<(), DecodeError> {
        self.inner().decode_prechecked(products, values, pool)
    }
}
