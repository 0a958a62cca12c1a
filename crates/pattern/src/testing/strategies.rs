//! Proptest strategies for patterns and the proptest configuration of the workspace's tests.

use std::ops::RangeInclusive;

use proptest::prelude::*;

use crate::{Pattern, generators};

/// Which diagonal entries a square strategy produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diagonal {
    /// Every diagonal entry present.
    Full,
    /// No diagonal entry (unless removing it would leave no entry at all).
    Absent,
    /// Either, drawn per case.
    Either,
}

impl Diagonal {
    fn strategy(self) -> BoxedStrategy<bool> {
        match self {
            Diagonal::Full => Just(true).boxed(),
            Diagonal::Absent => Just(false).boxed(),
            Diagonal::Either => any::<bool>().boxed(),
        }
    }
}

/// `p` without its diagonal, unless that leaves no entry.
fn drop_diagonal(p: Pattern) -> Pattern {
    let off = p.without_diagonal();
    if off.nnz() > 0 { off } else { p }
}

fn entries(m: usize, n: usize, e: impl IntoIterator<Item = (usize, usize)>) -> Pattern {
    Pattern::from_entries(m, n, e).expect("entries inside the dimensions")
}

/// Random m×n patterns with at least one entry: shapes 1×n, m×1 and m×n with m, n in
/// `sizes`, density below 0.6, and sometimes one dense row and/or one dense column.
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
/// use sparsediff_pattern::testing::patterns;
///
/// let mut runner = TestRunner::deterministic();
/// for _ in 0..20 {
///     let p = patterns(1..=8).new_tree(&mut runner).unwrap().current();
///     assert!(p.nnz() > 0 && p.nrows() <= 8 && p.ncols() <= 8);
/// }
/// ```
pub fn patterns(sizes: RangeInclusive<usize>) -> impl Strategy<Value = Pattern> {
    let sizes = at_least_one(sizes);
    let shape = prop_oneof![
        (Just(1usize), sizes.clone()),
        (sizes.clone(), Just(1usize)),
        (sizes.clone(), sizes),
    ];
    (
        shape,
        0.0f64..0.6,
        any::<u64>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|((m, n), density, seed, dense_row, dense_col)| {
            let p = generators::random(m, n, density, seed).expect("valid dimensions");
            let mut extra = Vec::new();
            if dense_row {
                extra.extend((0..n).map(|j| (seed as usize % m, j)));
            }
            if dense_col {
                extra.extend((0..m).map(|i| (i, seed as usize % n)));
            }
            if p.nnz() == 0 && extra.is_empty() {
                extra.push((0, 0));
            }
            p.union(&entries(m, n, extra)).expect("same dimensions")
        })
}

/// Random symmetric n×n patterns (n in `sizes`, density below 0.5), sometimes with one
/// dense row and column, with the diagonal as `diagonal` says.
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
/// use sparsediff_pattern::testing::{symmetric_patterns, Diagonal};
///
/// let mut runner = TestRunner::deterministic();
/// for _ in 0..20 {
///     let p = symmetric_patterns(1..=8, Diagonal::Full).new_tree(&mut runner).unwrap().current();
///     assert!(p.is_symmetric() && (0..p.nrows()).all(|i| p.contains(i, i)));
/// }
/// ```
pub fn symmetric_patterns(
    sizes: RangeInclusive<usize>,
    diagonal: Diagonal,
) -> impl Strategy<Value = Pattern> {
    (
        at_least_one(sizes),
        0.0f64..0.5,
        any::<u64>(),
        diagonal.strategy(),
        any::<bool>(),
    )
        .prop_map(|(n, density, seed, keep_diagonal, dense)| {
            let mut p = generators::random_symmetric(n, density, seed).expect("valid size");
            if dense {
                let v = seed as usize % n;
                let star = entries(n, n, (0..n).flat_map(|w| [(v, w), (w, v)]));
                p = p.union(&star).expect("same dimensions");
            }
            if keep_diagonal { p } else { drop_diagonal(p) }
        })
}

/// Symmetric band patterns: n in `sizes`, half-bandwidth in `half_bandwidths` (at most
/// n − 1), the diagonal as `diagonal` says.
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
/// use sparsediff_pattern::testing::{banded_patterns, Diagonal};
///
/// let mut runner = TestRunner::deterministic();
/// for _ in 0..20 {
///     let p = banded_patterns(2..=8, 1..=2, Diagonal::Absent).new_tree(&mut runner).unwrap().current();
///     assert!(p.is_symmetric() && p.iter().all(|(i, j)| i != j && i.abs_diff(j) <= 2));
/// }
/// ```
pub fn banded_patterns(
    sizes: RangeInclusive<usize>,
    half_bandwidths: RangeInclusive<usize>,
    diagonal: Diagonal,
) -> impl Strategy<Value = Pattern> {
    (at_least_one(sizes), half_bandwidths, diagonal.strategy()).prop_map(
        |(n, beta, keep_diagonal)| {
            let beta = beta.min(n - 1);
            let p = generators::band(n, beta, beta).expect("valid band");
            if keep_diagonal { p } else { drop_diagonal(p) }
        },
    )
}

/// Symmetric n×n patterns (n in `sizes`) with full diagonal in which every off-diagonal
/// pair is present with probability ½: every such pattern of a size is equally likely (for
/// exhaustive comparisons on tiny sizes).
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
/// use sparsediff_pattern::testing::uniform_symmetric_patterns;
///
/// let mut runner = TestRunner::deterministic();
/// let p = uniform_symmetric_patterns(2..=6).new_tree(&mut runner).unwrap().current();
/// assert!(p.is_symmetric() && (2..=6).contains(&p.nrows()));
/// ```
pub fn uniform_symmetric_patterns(sizes: RangeInclusive<usize>) -> impl Strategy<Value = Pattern> {
    at_least_one(sizes)
        .prop_flat_map(|n| {
            (
                Just(n),
                proptest::collection::vec(any::<bool>(), n * (n - 1) / 2),
            )
        })
        .prop_map(|(n, bits)| {
            let pairs = (0..n).flat_map(|i| (0..i).map(move |j| (i, j)));
            let off = pairs
                .zip(bits)
                .filter(|&(_, on)| on)
                .flat_map(|((i, j), _)| [(i, j), (j, i)]);
            entries(n, n, (0..n).map(|i| (i, i)).chain(off))
        })
}

/// `sizes` without 0 (patterns need a row and a column).
fn at_least_one(sizes: RangeInclusive<usize>) -> RangeInclusive<usize> {
    let (lo, hi) = sizes.into_inner();
    lo.max(1)..=hi.max(1)
}

/// `PROPTEST_CASES` when it is set (and a number), else `default_cases`.
pub fn cases(default_cases: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases)
}

/// Proptest's configuration with [`cases`]`(default_cases)` cases: `default_cases` unless
/// `PROPTEST_CASES` says otherwise.
///
/// ```
/// let c = sparsediff_pattern::testing::config(40);
/// assert_eq!(c.cases, sparsediff_pattern::testing::cases(40));
/// ```
pub fn config(default_cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default_cases),
        ..ProptestConfig::default()
    }
}

/// [`config`] without regression files: failures are neither read from nor written to the
/// source tree (for tests that must not write there, such as fuzzers).
///
/// ```
/// let c = sparsediff_pattern::testing::config_in_memory(40);
/// assert!(c.failure_persistence.is_none());
/// ```
pub fn config_in_memory(default_cases: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..config(default_cases)
    }
}

/// Checks that the proptest blocks of a test binary honour `PROPTEST_CASES`: called from
/// the test `test` (its full path, as `--exact` takes it) of that binary, it reruns the
/// binary on that test alone with `PROPTEST_CASES=3` and checks that [`config`] reads it.
///
/// # Panics
/// If [`config`] ignores the variable or the child run fails or runs no test.
#[track_caller]
pub fn assert_cases_come_from_the_environment(test: &str, default_cases: u32) {
    match std::env::var("PROPTEST_CASES") {
        Ok(v) => assert_eq!(config(default_cases).cases.to_string(), v),
        Err(_) => {
            assert_eq!(config(default_cases).cases, default_cases);
            let exe = std::env::current_exe().expect("the test binary");
            let child = std::process::Command::new(exe)
                .args(["--exact", test])
                .env("PROPTEST_CASES", "3")
                .output()
                .expect("the test binary runs");
            assert!(child.status.success(), "{child:?}");
            // The filter matched this test (an empty run would pass too).
            assert!(
                String::from_utf8_lossy(&child.stdout).contains("1 passed"),
                "{test} did not run: {child:?}"
            );
        }
    }
}
