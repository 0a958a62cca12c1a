//! The workspace's test matrices and a pattern the stage tests share.

use crate::{Pattern, generators, read_matrix_market};

/// The pattern of `data/matrices/<name>`, one of the Matrix Market files shipped with the
/// workspace (`data/README.md` lists them).
///
/// ```
/// let p = sparsediff_pattern::testing::shipped("hess_pat_small.mtx");
/// assert_eq!((p.nrows(), p.nnz()), (10, 36));
/// ```
///
/// # Panics
/// If the file is missing or unreadable.
pub fn shipped(name: &str) -> Pattern {
    let path = format!("{}/../../data/matrices/{name}", env!("CARGO_MANIFEST_DIR"));
    read_matrix_market(&path)
        .unwrap_or_else(|e| panic!("shipped test matrix {name}: {e}"))
        .into_pattern()
}

/// Sparse 5×5 blocks on a block tridiagonal (the shape of a direct-transcription Hessian):
/// irregular rows of 7 to 13 entries, symmetric.
///
/// ```
/// let p = sparsediff_pattern::testing::block_chain(4);
/// assert!(p.is_symmetric() && p.nrows() == 20);
/// ```
pub fn block_chain(blocks: usize) -> Pattern {
    generators::block_band(blocks, 5, 1, 1)
        .expect("a valid block band")
        .filter(|i, j| i == j || (i % 5 + j % 5) % 3 != 0)
}
