//! The documented maxima of the counts a user types, checked before anything is allocated
//! or run: clap refuses `--recolor`, `--repeats` and `--oversampling` beyond them (naming
//! the option and the range), [`bench_n`] refuses a `bench --n` whose problem would not fit.

use crate::CliError;

/// Most iterated-greedy passes of `sparsediff color --recolor`: 1000. Each pass is a full
/// greedy colouring (about 50 ms on a 10⁶-vertex pattern), so a run stays within about a
/// minute; the colour count rarely improves after a few dozen passes.
pub const MAX_RECOLOR_PASSES: u64 = 1000;

/// Most timed decodes per designer of `sparsediff compare --repeats`: 1000 (the fastest is
/// reported; the default is 5).
pub const MAX_DECODE_REPEATS: u64 = 1000;

/// Most timed evaluations of `sparsediff bench --repeats`: 10 000, the cap of its adaptive
/// mode (`--repeats 0`); every timing is kept for the median.
pub const MAX_BENCH_REPEATS: u64 = 10_000;

/// Largest `sparsediff compare --oversampling`: [`sparsediff_probe::MAX_DENSE_ENTRIES`]
/// (2²⁸). A random design holds at least one row of that many values, so no larger
/// oversampling can be designed (the designers refuse smaller ones that do not fit with
/// their pattern, naming the same limit).
pub const MAX_OVERSAMPLING: u64 = sparsediff_probe::MAX_DENSE_ENTRIES as u64;

/// Most variables of a `sparsediff bench` problem: 2²³ (8 388 608), well below
/// [`sparsediff_pattern::MAX_DIM`]. Peak memory measured at 0.3–1.5 KiB per variable
/// (Rosenbrock n = 10⁶: 0.57 GB, grid2d 10⁶ points: 0.82 GB, cartpole 10⁵ knots = 5·10⁵
/// variables: 0.76 GB, tridiagonal Jacobian 10⁶: 0.32 GB), so a run at the limit stays under
/// about 16 GiB.
pub const MAX_BENCH_VARIABLES: usize = 1 << 23;

/// Checks `bench --n` for a problem with `variables_per_n` variables per unit of n (5 per
/// cartpole knot, 1 otherwise) against [`MAX_BENCH_VARIABLES`], before anything is
/// allocated.
pub fn bench_n(n: usize, variables_per_n: usize) -> Result<(), CliError> {
    let limit = MAX_BENCH_VARIABLES / variables_per_n;
    if n > limit {
        return Err(CliError::CountTooLarge {
            option: "--n",
            value: n as u128,
            limit: limit as u128,
            reason: "at most MAX_BENCH_VARIABLES = 2^23 variables, about 16 GiB",
        });
    }
    Ok(())
}

/// Clap's parser for a count in `0..=max`.
pub fn count(max: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(0..=max)
}
