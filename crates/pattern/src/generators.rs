//! Generators for the sparsity structures derivative problems produce: bands, block bands,
//! stencils on 2-D and 3-D grids, arrowheads, seeded random patterns and the cartpole
//! augmented-Lagrangian Hessian.
//!
//! Every generator checks its parameters and refuses a pattern larger than
//! [`MAX_NNZ`] entries before allocating it.
//!
//! ```
//! use sparsediff_pattern::generators::{self, Stencil2d};
//! let g = generators::grid2d(3, 3, Stencil2d::FivePoint)?;
//! assert_eq!(g.row(4), &[1, 3, 4, 5, 7]); // the centre of a 3×3 grid and its 4 neighbours
//! assert_eq!(generators::cartpole(100)?.nnz(), 4470); // structural nnz of the L_A Hessian
//! # Ok::<(), sparsediff_pattern::PatternError>(())
//! ```

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{PatternError, Result};
use crate::pattern::{MAX_DIM, MAX_NNZ, Pattern, check_dims};

/// The stencil of a 2-D grid pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stencil2d {
    /// Centre and its 4 axis neighbours (the 5-point Laplacian).
    FivePoint,
    /// Centre and its 8 neighbours, diagonals included.
    NinePoint,
}

impl Stencil2d {
    /// Number of points of the stencil (5 or 9).
    pub fn points(self) -> usize {
        match self {
            Stencil2d::FivePoint => 5,
            Stencil2d::NinePoint => 9,
        }
    }
}

fn param_error(
    generator: &'static str,
    param: &'static str,
    value: impl ToString,
    reason: &'static str,
) -> PatternError {
    PatternError::InvalidParameter {
        generator,
        param,
        value: value.to_string(),
        reason,
    }
}

fn at_least_one(generator: &'static str, param: &'static str, v: usize) -> Result<()> {
    if v == 0 {
        return Err(param_error(generator, param, v, "must be at least 1"));
    }
    if v > MAX_DIM {
        return Err(PatternError::TooLarge {
            what: param,
            value: v as u128,
            limit: MAX_DIM as u128,
        });
    }
    Ok(())
}

/// Refuses an estimated entry count above [`MAX_NNZ`] before anything is allocated.
fn check_estimate(estimate: u128) -> Result<()> {
    if estimate > MAX_NNZ as u128 {
        return Err(PatternError::TooLarge {
            what: "nnz",
            value: estimate,
            limit: MAX_NNZ as u128,
        });
    }
    Ok(())
}

/// Builds a pattern row by row: `row(i, out)` appends the sorted columns of row `i`.
fn build_rows(
    nrows: usize,
    ncols: usize,
    estimate: usize,
    mut row: impl FnMut(usize, &mut Vec<usize>),
) -> Pattern {
    let mut ptr = Vec::with_capacity(nrows + 1);
    let mut idx = Vec::with_capacity(estimate);
    ptr.push(0);
    for i in 0..nrows {
        row(i, &mut idx);
        ptr.push(idx.len());
    }
    Pattern::from_parts_unchecked(nrows, ncols, ptr, idx)
}

/// The n×n band with `lower` subdiagonals and `upper` superdiagonals (entries with
/// `i - lower <= j <= i + upper`). A symmetric band of half-bandwidth β is `band(n, β, β)`.
pub fn band(n: usize, lower: usize, upper: usize) -> Result<Pattern> {
    at_least_one("band", "n", n)?;
    if lower >= n {
        return Err(param_error(
            "band",
            "lower",
            lower,
            "must be smaller than n",
        ));
    }
    if upper >= n {
        return Err(param_error(
            "band",
            "upper",
            upper,
            "must be smaller than n",
        ));
    }
    check_estimate(n as u128 * (lower as u128 + upper as u128 + 1))?;
    Ok(build_rows(n, n, n * (lower + upper + 1), |i, out| {
        out.extend(i.saturating_sub(lower)..=(i + upper).min(n - 1));
    }))
}

/// A block band: `nblocks`×`nblocks` dense blocks of size `block`, block (I, J) present when
/// `I - lower <= J <= I + upper` (e.g. the Hessian of a chain of coupled stages).
pub fn block_band(nblocks: usize, block: usize, lower: usize, upper: usize) -> Result<Pattern> {
    at_least_one("block_band", "nblocks", nblocks)?;
    at_least_one("block_band", "block", block)?;
    if lower >= nblocks {
        return Err(param_error(
            "block_band",
            "lower",
            lower,
            "must be smaller than nblocks",
        ));
    }
    if upper >= nblocks {
        return Err(param_error(
            "block_band",
            "upper",
            upper,
            "must be smaller than nblocks",
        ));
    }
    let n = nblocks as u128 * block as u128;
    if n > MAX_DIM as u128 {
        return Err(PatternError::TooLarge {
            what: "nblocks × block",
            value: n,
            limit: MAX_DIM as u128,
        });
    }
    check_estimate(n * block as u128 * (lower as u128 + upper as u128 + 1))?;
    let n = n as usize;
    Ok(build_rows(
        n,
        n,
        n * block * (lower + upper + 1),
        |i, out| {
            let bi = i / block;
            let first = bi.saturating_sub(lower) * block;
            let last = ((bi + upper).min(nblocks - 1) + 1) * block;
            out.extend(first..last);
        },
    ))
}

/// The pattern of a stencil on an `nx`×`ny` grid; vertex (i, j) has index `i + nx·j`
/// (i fastest). Symmetric, with the diagonal.
pub fn grid2d(nx: usize, ny: usize, stencil: Stencil2d) -> Result<Pattern> {
    at_least_one("grid2d", "nx", nx)?;
    at_least_one("grid2d", "ny", ny)?;
    let n = nx as u128 * ny as u128;
    check_estimate(n * stencil.points() as u128)?;
    let n = n as usize;
    check_dims(n, n)?;
    let diag = stencil == Stencil2d::NinePoint;
    Ok(build_rows(n, n, n * stencil.points(), |v, out| {
        let (i, j) = (v % nx, v / nx);
        for dj in -1i64..=1 {
            let jj = j as i64 + dj;
            if jj < 0 || jj >= ny as i64 {
                continue;
            }
            for di in -1i64..=1 {
                let ii = i as i64 + di;
                if ii < 0 || ii >= nx as i64 || (!diag && di != 0 && dj != 0) {
                    continue;
                }
                out.push(ii as usize + nx * jj as usize);
            }
        }
    }))
}

/// The 7-point stencil on an `nx`×`ny`×`nz` grid; vertex (i, j, k) has index
/// `i + nx·(j + ny·k)`. Symmetric, with the diagonal.
pub fn grid3d(nx: usize, ny: usize, nz: usize) -> Result<Pattern> {
    at_least_one("grid3d", "nx", nx)?;
    at_least_one("grid3d", "ny", ny)?;
    at_least_one("grid3d", "nz", nz)?;
    let n = nx as u128 * ny as u128 * nz as u128;
    check_estimate(n * 7)?;
    let n = n as usize;
    check_dims(n, n)?;
    let plane = nx * ny;
    Ok(build_rows(n, n, 7 * n, |v, out| {
        let (i, j, k) = (v % nx, (v / nx) % ny, v / plane);
        if k > 0 {
            out.push(v - plane);
        }
        if j > 0 {
            out.push(v - nx);
        }
        if i > 0 {
            out.push(v - 1);
        }
        out.push(v);
        if i + 1 < nx {
            out.push(v + 1);
        }
        if j + 1 < ny {
            out.push(v + nx);
        }
        if k + 1 < nz {
            out.push(v + plane);
        }
    }))
}

/// The n×n arrowhead: the diagonal plus the first `width` rows and columns dense
/// (`width = 1` is the classic arrow; its star colouring needs 2 colours).
pub fn arrowhead(n: usize, width: usize) -> Result<Pattern> {
    at_least_one("arrowhead", "n", n)?;
    if width > n {
        return Err(param_error(
            "arrowhead",
            "width",
            width,
            "must not exceed n",
        ));
    }
    check_estimate(n as u128 * (2 * width as u128 + 1))?;
    Ok(build_rows(n, n, n * (2 * width + 1), |i, out| {
        if i < width {
            out.extend(0..n);
        } else {
            out.extend(0..width);
            out.push(i);
        }
    }))
}

/// A seeded random m×n pattern: every entry present independently with probability
/// `density` (the same seed gives the same pattern on every platform and run).
pub fn random(m: usize, n: usize, density: f64, seed: u64) -> Result<Pattern> {
    at_least_one("random", "m", m)?;
    at_least_one("random", "n", n)?;
    check_density(density)?;
    check_estimate((density * m as f64 * n as f64).ceil() as u128)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let estimate = (density * m as f64 * n as f64) as usize;
    Ok(build_rows(m, n, estimate, |_, out| {
        bernoulli_row(&mut rng, n, density, out);
    }))
}

/// A seeded random symmetric n×n pattern with full diagonal: each strictly lower entry is
/// present with probability `density`, and mirrored.
pub fn random_symmetric(n: usize, density: f64, seed: u64) -> Result<Pattern> {
    at_least_one("random_symmetric", "n", n)?;
    check_density(density)?;
    check_estimate((density * n as f64 * n as f64).ceil() as u128 + n as u128)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let lower = build_rows(
        n,
        n,
        (density * n as f64 * n as f64 / 2.0) as usize + n,
        |i, out| {
            bernoulli_row(&mut rng, i, density, out);
            out.push(i);
        },
    );
    lower.symmetrize()
}

fn check_density(density: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&density) {
        return Err(param_error(
            "random",
            "density",
            density,
            "must be a number in [0, 1]",
        ));
    }
    Ok(())
}

/// Appends each column of `0..n` with probability `p`, in increasing order, by geometric
/// skipping: O(entries drawn) instead of O(n).
fn bernoulli_row(rng: &mut ChaCha8Rng, n: usize, p: f64, out: &mut Vec<usize>) {
    if p <= 0.0 || n == 0 {
        return;
    }
    if p >= 1.0 {
        out.extend(0..n);
        return;
    }
    let log_q = (1.0 - p).ln();
    let mut j = 0usize;
    loop {
        // U in (0, 1]; the gap to the next entry is Geometric(p).
        let u: f64 = 1.0 - rng.random::<f64>();
        let skip = (u.ln() / log_q).floor();
        if !skip.is_finite() || skip >= (n - j) as f64 {
            return;
        }
        j += skip as usize;
        out.push(j);
        j += 1;
        if j >= n {
            return;
        }
    }
}

/// Variables per cartpole knot: state (x, v, θ, ω) and control a.
const CARTPOLE_VARS: usize = 5;

/// The structural pattern of the Hessian of the cartpole augmented Lagrangian `L_A` of
/// `cartpole-swingup.md` with `knots` knots (5·knots variables, knot-major
/// `z[5k..5k+5] = (x_k, v_k, θ_k, ω_k, a_k)`).
///
/// It is the union of the cost's diagonal, the inequality terms' diagonal, and, for every
/// trapezoidal defect row between knots k and k+1, the square of the variables that row
/// depends on (the penalty's JᵀJ, which contains the defect Hessians):
/// `x`: {x, v}, `v`: {v, a}, `θ`: {θ, ω}, `ω`: {θ, ω, a} at both knots. Structural nnz is
/// 45·N − 30 (4470 at N = 100), half-bandwidth 8, at most 12 entries per row.
pub fn cartpole(knots: usize) -> Result<Pattern> {
    if knots < 2 {
        return Err(param_error(
            "cartpole",
            "N",
            knots,
            "must be at least 2 (a trajectory needs two knots)",
        ));
    }
    // The exact count (not the 89·N triplets of the defect squares before merging), so
    // that every N whose pattern fits MAX_NNZ is accepted.
    check_estimate(cartpole_nnz(knots))?;
    let n = knots * CARTPOLE_VARS;
    let mut cols = Vec::with_capacity(2 * CARTPOLE_VARS * 4);
    Ok(build_rows(n, n, 45 * knots - 30, |v, out| {
        let (k, offset) = (v / CARTPOLE_VARS, v % CARTPOLE_VARS);
        cols.clear();
        cols.push(v);
        // The defect rows between knots k-1, k and k, k+1 that depend on this variable.
        for interval in k.saturating_sub(1)..=k.min(knots - 2) {
            for deps in CARTPOLE_DEPS.iter().filter(|deps| deps.contains(&offset)) {
                for &d in *deps {
                    cols.push(CARTPOLE_VARS * interval + d);
                    cols.push(CARTPOLE_VARS * (interval + 1) + d);
                }
            }
        }
        cols.sort_unstable();
        cols.dedup();
        out.extend_from_slice(&cols);
    }))
}

/// Within-knot variable offsets each state variable's defect row depends on.
const CARTPOLE_DEPS: [&[usize]; 4] = [&[0, 1], &[1, 4], &[2, 3], &[2, 3, 4]];

/// Structural nnz of [`cartpole`] with `knots` ≥ 2 knots: the rows of (x, v, θ, ω, a) hold
/// 6, 9, 9, 9, 12 entries at an interior knot (45) and 4, 6, 6, 6, 8 at either end knot
/// (30), so 45·(N − 2) + 60 = 45·N − 30.
fn cartpole_nnz(knots: usize) -> u128 {
    45 * knots as u128 - 30
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_shapes() {
        let b = band(5, 1, 2).unwrap();
        assert_eq!(b.row(0), &[0, 1, 2]);
        assert_eq!(b.row(4), &[3, 4]);
        assert_eq!(b.bandwidth(), (1, 2));
        assert_eq!(band(1, 0, 0).unwrap().nnz(), 1);
        assert!(matches!(
            band(0, 0, 0),
            Err(PatternError::InvalidParameter { param: "n", .. })
        ));
        assert!(matches!(
            band(3, 3, 0),
            Err(PatternError::InvalidParameter { param: "lower", .. })
        ));
        assert!(matches!(
            band(1 << 31, 1000, 1000),
            Err(PatternError::TooLarge { .. })
        ));
    }

    #[test]
    fn block_band_is_banded_blocks() {
        let b = block_band(3, 2, 1, 0).unwrap();
        assert_eq!(b.shape(), (6, 6));
        assert_eq!(b.row(0), &[0, 1]);
        assert_eq!(b.row(3), &[0, 1, 2, 3]);
        assert_eq!(b.row(5), &[2, 3, 4, 5]);
    }

    #[test]
    fn grids_are_symmetric_with_expected_counts() {
        let g5 = grid2d(4, 3, Stencil2d::FivePoint).unwrap();
        let g9 = grid2d(4, 3, Stencil2d::NinePoint).unwrap();
        let g7 = grid3d(3, 4, 2).unwrap();
        for g in [&g5, &g9, &g7] {
            assert!(g.is_symmetric());
            assert!(g.has_full_diagonal());
        }
        // nnz = n + 2·(#edges)
        assert_eq!(g5.nnz(), 12 + 2 * (3 * 3 + 4 * 2));
        assert_eq!(g9.nnz(), 12 + 2 * (3 * 3 + 4 * 2 + 2 * 3 * 2));
        assert_eq!(g7.nnz(), 24 + 2 * (2 * 4 * 2 + 3 * 3 * 2 + 3 * 4));
        assert_eq!(g5.row_stats().max, 5);
        assert_eq!(g9.row_stats().max, 9);
    }

    #[test]
    fn arrowhead_matches_spear_head() {
        let a = arrowhead(10, 1).unwrap();
        assert_eq!(a.nnz(), 28);
        assert!(a.is_symmetric());
        assert!(matches!(
            arrowhead(3, 4),
            Err(PatternError::InvalidParameter { .. })
        ));
    }

    #[test]
    fn random_is_seeded_and_dense_enough() {
        let a = random(200, 300, 0.05, 7).unwrap();
        assert_eq!(a, random(200, 300, 0.05, 7).unwrap());
        assert_ne!(a, random(200, 300, 0.05, 8).unwrap());
        let expected = 0.05 * 200.0 * 300.0;
        assert!(
            (a.nnz() as f64 - expected).abs() < 0.1 * expected,
            "{}",
            a.nnz()
        );
        assert_eq!(random(3, 4, 1.0, 0).unwrap().nnz(), 12);
        assert_eq!(random(3, 4, 0.0, 0).unwrap().nnz(), 0);
        assert!(matches!(
            random(3, 3, 1.5, 0),
            Err(PatternError::InvalidParameter {
                param: "density",
                ..
            })
        ));
        assert!(matches!(
            random(3, 3, f64::NAN, 0),
            Err(PatternError::InvalidParameter { .. })
        ));
        let s = random_symmetric(50, 0.1, 3).unwrap();
        assert!(s.is_symmetric() && s.has_full_diagonal());
    }

    #[test]
    fn cartpole_structure_matches_the_spec() {
        for (knots, nnz) in [(100, 4470), (1000, 44970)] {
            let p = cartpole(knots).unwrap();
            assert_eq!(p.shape(), (5 * knots, 5 * knots));
            assert_eq!(p.nnz(), nnz);
            assert!(p.is_symmetric());
            assert_eq!(p.bandwidth(), (8, 8));
            assert_eq!(p.row_stats().max, 12);
        }
        assert!(cartpole(1).is_err());
    }

    /// The pattern as the spec defines it: the union of the diagonal and the square of every
    /// defect row's variables, merged from triplets.
    fn cartpole_from_triplets(knots: usize) -> Pattern {
        let n = knots * CARTPOLE_VARS;
        let (mut rows, mut cols): (Vec<usize>, Vec<usize>) = ((0..n).collect(), (0..n).collect());
        for k in 0..knots - 1 {
            for deps in CARTPOLE_DEPS {
                let vars = deps
                    .iter()
                    .flat_map(|&d| [CARTPOLE_VARS * k + d, CARTPOLE_VARS * (k + 1) + d]);
                for a in vars.clone() {
                    for b in vars.clone() {
                        rows.push(a);
                        cols.push(b);
                    }
                }
            }
        }
        Pattern::from_triplets(n, n, &rows, &cols).unwrap()
    }

    #[test]
    fn cartpole_nnz_is_exact() {
        for knots in [2, 3, 4, 5, 17, 100, 1001] {
            let p = cartpole(knots).unwrap();
            assert_eq!(p, cartpole_from_triplets(knots), "N = {knots}");
            assert_eq!(p.nnz() as u128, cartpole_nnz(knots), "N = {knots}");
        }
    }

    #[test]
    fn cartpole_is_accepted_up_to_max_nnz() {
        // 89·N triplets exceed MAX_NNZ from N = 3 016 128 on, the 45·N − 30 entries only from
        // N = 5 965 233 on: N = 3.1e6 (1.4e8 entries) used to be refused as 275 899 916.
        let knots = 3_100_000;
        let p = cartpole(knots).unwrap();
        assert_eq!(p.nnz(), 139_499_970);
        assert_eq!(p.shape(), (5 * knots, 5 * knots));
        drop(p);
        let largest = (MAX_NNZ + 30) / 45;
        assert!(cartpole_nnz(largest) <= MAX_NNZ as u128);
        assert!(matches!(
            cartpole(largest + 1),
            Err(PatternError::TooLarge { what: "nnz", value, .. }) if value == cartpole_nnz(largest + 1)
        ));
    }
}
