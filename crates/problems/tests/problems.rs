//! The benchmark problems of `sparsediff-problems` against their specifications
//! (`spec/cartpole-swingup.md`, `spec/generic-hessians.md` of this crate), the Hessian file
//! `data/matrices/cartpole_LA_hessian_N100.mtx` and num-dual.
//!
//! num-dual derivatives are taken by seeding `DualSVec64<N>` / `Dual2SVec64<N>` inputs
//! directly (what `num_dual::{gradient, hessian, jacobian}` do internally): the problems
//! need a `Copy` scalar, which num-dual's dynamically sized vectors are not, and this avoids
//! a dependency on nalgebra just to name `SVector`.

use std::path::Path;

use num_dual::{Dual2SVec64, DualSVec64};
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::{MtxSymmetry, Pattern, read_matrix_market};
use sparsediff_problems::cartpole::{
    self, AugmentedLagrangian, Bound, CartpoleProblem, MAX_ROW_VARS, Reference, RowKind,
};
use sparsediff_problems::grid_energy::GridEnergy;
use sparsediff_problems::{arrow, dense_row, eval_point, rosenbrock, tridiagonal};

// ---------------------------------------------------------------------------------------
// num-dual helpers
// ---------------------------------------------------------------------------------------

/// Value, gradient and dense Hessian (row-major) of a scalar function by num-dual.
fn nd_hessian<const N: usize>(
    f: impl Fn(&[Dual2SVec64<N>]) -> Dual2SVec64<N>,
    x: &[f64],
) -> (f64, Vec<f64>, Vec<f64>) {
    assert_eq!(x.len(), N);
    let xs: Vec<Dual2SVec64<N>> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| Dual2SVec64::from_re(v).derivative(i))
        .collect();
    let y = f(&xs);
    let g = (0..N).map(|i| y.v1.0.map_or(0.0, |m| m[i])).collect();
    let h = (0..N * N)
        .map(|k| y.v2.0.map_or(0.0, |m| m[(k / N, k % N)]))
        .collect();
    (y.re, g, h)
}

/// Values and dense Jacobian (row-major) of a vector function by num-dual.
fn nd_jacobian<const N: usize>(
    f: impl Fn(&[DualSVec64<N>]) -> Vec<DualSVec64<N>>,
    x: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(x.len(), N);
    let xs: Vec<DualSVec64<N>> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| DualSVec64::from_re(v).derivative(i))
        .collect();
    let y = f(&xs);
    let values = y.iter().map(|d| d.re).collect();
    let jac = y
        .iter()
        .flat_map(|d| (0..N).map(move |j| d.eps.0.map_or(0.0, |e| e[j])))
        .collect();
    (values, jac)
}

/// `|a − b| ≤ tol·max(|b|, 1)`, with a message naming the quantity.
#[track_caller]
fn assert_close(what: &str, a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{what}: {a:e} vs {b:e} (difference {:e})",
        (a - b).abs()
    );
}

/// `|a − b| ≤ tol·|b|`.
#[track_caller]
fn assert_rel(what: &str, a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * b.abs(),
        "{what}: {a:.15e} vs reference {b:.15e} (relative {:e})",
        (a - b).abs() / b.abs()
    );
}

/// Compares sparse values on `pattern` with a dense row-major matrix: entries in the
/// pattern agree, entries outside it are zero.
#[track_caller]
fn assert_sparse_eq_dense(what: &str, pattern: &Pattern, values: &[f64], dense: &[f64]) {
    let n = pattern.ncols();
    assert_eq!(values.len(), pattern.nnz());
    assert_eq!(dense.len(), pattern.nrows() * n);
    let mut scale = 1.0f64;
    for &d in dense {
        scale = scale.max(d.abs());
    }
    for i in 0..pattern.nrows() {
        for j in 0..n {
            let got = pattern.position(i, j).map_or(0.0, |p| values[p]);
            let want = dense[i * n + j];
            assert!(
                (got - want).abs() <= 1e-12 * scale,
                "{what}[{i}, {j}]: {got:e} vs num-dual {want:e}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// generic problems
// ---------------------------------------------------------------------------------------

#[test]
fn eval_point_follows_the_spec() {
    let x = eval_point(10);
    assert_eq!(x.len(), 10);
    for (i, &v) in x.iter().enumerate() {
        assert_eq!(v, 0.5 + 0.3 * (0.7 * i as f64).sin());
    }
    assert!(eval_point(0).is_empty());
}

#[test]
fn rosenbrock_matches_num_dual() {
    const N: usize = 7;
    let x = eval_point(N);
    let (f, g, h) = nd_hessian::<N>(rosenbrock::value, &x);
    assert_close("Rosenbrock value", rosenbrock::value(&x), f, 1e-14);
    for (i, (&a, &b)) in rosenbrock::gradient(&x).iter().zip(&g).enumerate() {
        assert_close(&format!("Rosenbrock gradient[{i}]"), a, b, 1e-12);
    }
    let pattern = rosenbrock::hessian_pattern(N).unwrap();
    assert_eq!(pattern, generators::band(N, 1, 1).unwrap());
    let values = rosenbrock::hessian_values(&x);
    assert_sparse_eq_dense("Rosenbrock Hessian", &pattern, &values, &h);
    // also away from the evaluation point, with negative entries
    let y: Vec<f64> = (0..N).map(|i| (1.3 * i as f64).cos() * 1.7).collect();
    let (_, _, h) = nd_hessian::<N>(rosenbrock::value, &y);
    assert_sparse_eq_dense(
        "Rosenbrock Hessian",
        &pattern,
        &rosenbrock::hessian_values(&y),
        &h,
    );
}

#[test]
fn grid_energy_matches_num_dual() {
    const S: usize = 4;
    const N: usize = S * S;
    let grid = GridEnergy::new(S);
    assert_eq!(grid.n(), N);
    let x = eval_point(N);
    let (f, g, h) = nd_hessian::<N>(|x| grid.value(x), &x);
    assert_close("grid value", grid.value(&x), f, 1e-14);
    // the energy by its definition, edge by edge
    let mut direct = 0.0;
    for r in 0..S {
        for c in 0..S {
            let p = r * S + c;
            direct += x[p].cos();
            if c + 1 < S {
                direct += (x[p] - x[p + 1]).powi(4);
            }
            if r + 1 < S {
                direct += (x[p] - x[p + S]).powi(4);
            }
        }
    }
    assert_close("grid value by definition", f, direct, 1e-14);
    for (i, (&a, &b)) in grid.gradient(&x).iter().zip(&g).enumerate() {
        assert_close(&format!("grid gradient[{i}]"), a, b, 1e-12);
    }
    let pattern = grid.hessian_pattern().unwrap();
    assert_eq!(
        pattern,
        generators::grid2d(S, S, Stencil2d::FivePoint).unwrap()
    );
    assert_eq!(pattern.nnz(), grid.hessian_nnz());
    assert_sparse_eq_dense("grid Hessian", &pattern, &grid.hessian_values(&x), &h);
    for s in [1, 2, 3, 7, 32] {
        let grid = GridEnergy::new(s);
        let p = grid.hessian_pattern().unwrap();
        assert_eq!(p, generators::grid2d(s, s, Stencil2d::FivePoint).unwrap());
        assert_eq!(p.nnz(), grid.hessian_nnz());
    }
}

#[test]
fn tridiagonal_matches_num_dual() {
    const N: usize = 7;
    let x = eval_point(N);
    let (f, jac) = nd_jacobian::<N>(tridiagonal::value, &x);
    let values: Vec<f64> = tridiagonal::value(&x);
    for i in 0..N {
        let next = if i + 1 < N { x[i + 1] } else { 0.0 };
        let prev = if i > 0 { x[i - 1] } else { 0.0 };
        let by_definition = next * next - x[i] * prev + x[i].sin();
        assert_close(&format!("F[{i}]"), values[i], by_definition, 1e-15);
        assert_close(&format!("F[{i}] on duals"), f[i], values[i], 1e-15);
    }
    let mut into = vec![0.0; N];
    tridiagonal::value_into(&x, &mut into);
    assert_eq!(into, values);
    let pattern = tridiagonal::jacobian_pattern(N).unwrap();
    assert_eq!(pattern, generators::band(N, 1, 1).unwrap());
    assert_sparse_eq_dense(
        "tridiagonal Jacobian",
        &pattern,
        &tridiagonal::jacobian_values(&x),
        &jac,
    );
}

#[test]
fn dense_row_and_arrow_match_num_dual() {
    const N: usize = 7;
    let x = eval_point(N);
    let (f, jac) = nd_jacobian::<N>(dense_row::value, &x);
    let values: Vec<f64> = dense_row::value(&x);
    assert_close("F[0]", values[0], x.iter().sum(), 1e-15);
    for i in 1..N {
        assert_close(&format!("F[{i}]"), values[i], x[i].powi(3), 1e-15);
    }
    for i in 0..N {
        assert_close(&format!("F[{i}] on duals"), f[i], values[i], 1e-15);
    }
    let pattern = dense_row::jacobian_pattern(N).unwrap();
    assert_eq!(pattern.nnz(), 2 * N - 1);
    assert_sparse_eq_dense(
        "dense-row Jacobian",
        &pattern,
        &dense_row::jacobian_values(&x),
        &jac,
    );
    let (f, jac) = nd_jacobian::<N>(arrow::value, &x);
    let values: Vec<f64> = arrow::value(&x);
    assert_close("F[0]", values[0], x.iter().map(|v| v * v).sum(), 1e-15);
    for i in 1..N {
        assert_close(
            &format!("F[{i}]"),
            values[i],
            x[0] * x[i] + x[i] * x[i],
            1e-15,
        );
    }
    for i in 0..N {
        assert_close(&format!("F[{i}] on duals"), f[i], values[i], 1e-15);
    }
    let pattern = arrow::jacobian_pattern(N).unwrap();
    assert_eq!(pattern.nnz(), 3 * N - 2);
    assert_sparse_eq_dense(
        "arrow Jacobian",
        &pattern,
        &arrow::jacobian_values(&x),
        &jac,
    );
    for n in 0..4 {
        let x = eval_point(n);
        for (p, v) in [
            (
                dense_row::jacobian_pattern(n).unwrap(),
                dense_row::jacobian_values(&x),
            ),
            (
                arrow::jacobian_pattern(n).unwrap(),
                arrow::jacobian_values(&x),
            ),
        ] {
            assert_eq!(p.shape(), (n, n));
            assert_eq!(v.len(), p.nnz());
        }
        assert_eq!(dense_row::value(&x).len(), n);
        assert_eq!(arrow::value(&x).len(), n);
    }
}

#[test]
fn generic_problems_at_tiny_sizes() {
    for n in 0..4 {
        let x = eval_point(n);
        let h = rosenbrock::hessian_pattern(n).unwrap();
        assert_eq!(h.shape(), (n, n));
        assert_eq!(rosenbrock::hessian_values(&x).len(), h.nnz());
        assert_eq!(rosenbrock::gradient(&x).len(), n);
        let j = tridiagonal::jacobian_pattern(n).unwrap();
        assert_eq!(tridiagonal::jacobian_values(&x).len(), j.nnz());
        assert_eq!(tridiagonal::value(&x).len(), n);
    }
    assert_eq!(rosenbrock::value::<f64>(&[]), 0.0);
    assert_eq!(rosenbrock::value(&[0.3]), 0.0);
    assert_eq!(rosenbrock::hessian_values(&[0.3]), [0.0]);
    assert_eq!(tridiagonal::value(&[0.3]), [0.3f64.sin()]);
    assert_eq!(tridiagonal::jacobian_values(&[0.3]), [0.3f64.cos()]);
    let grid = GridEnergy::new(1);
    assert_eq!(grid.value(&[0.2]), 0.2f64.cos());
    assert_eq!(grid.hessian_values(&[0.2]), [-(0.2f64.cos())]);
    let empty = GridEnergy::new(0);
    assert_eq!(empty.hessian_pattern().unwrap().shape(), (0, 0));
    assert_eq!(empty.value::<f64>(&[]), 0.0);
}

// ---------------------------------------------------------------------------------------
// cartpole
// ---------------------------------------------------------------------------------------

/// Reference values of cartpole-swingup.md at the evaluation point.
struct Expected {
    knots: usize,
    value: f64,
    gradient_norm: f64,
    frobenius: f64,
    sum: f64,
    /// H[0,0], H[5,5], H[7,4], H[9,0], each with the absolute tolerance it is given to:
    /// H[0,0] = H[5,5] = 2ρ + 2e-3·dt exactly (so 1e-12 relative); H[7,4] has 11
    /// significant digits in the spec (half a unit of the last); H[9,0] is exactly 0.
    entries: [(f64, f64); 4],
    /// (min, max) and the number of decimals they are given to
    eigenvalues: [(f64, i32); 2],
    structural_nnz: usize,
    numerical_nnz: usize,
}

const N100: Expected = Expected {
    knots: 100,
    value: 5.626250945601e+02,
    gradient_norm: 8.118068551222e+01,
    frobenius: 4.852312730720e+02,
    sum: 8.437066722164e+01,
    entries: [
        (20.0001, 20.0001e-12),
        (20.0001, 20.0001e-12),
        (0.55126798412, 0.5e-11),
        (0.0, 0.0),
    ],
    eigenvalues: [(-21.305, 3), (45.383, 3)],
    structural_nnz: 4470,
    numerical_nnz: 3686,
};

const N1000: Expected = Expected {
    knots: 1000,
    value: 7.280844334764e+01,
    gradient_norm: 1.302093507383e+01,
    frobenius: 1.548117169561e+03,
    sum: 7.948006483865e+01,
    entries: [
        (20.00001, 20.00001e-12),
        (20.00001, 20.00001e-12),
        (0.0055180711819, 0.5e-13),
        (0.0, 0.0),
    ],
    eigenvalues: [(-0.22655, 5), (40.043, 3)],
    structural_nnz: 44970,
    numerical_nnz: 36986,
};

/// The reference values are given to 13 significant digits.
const REL: f64 = 1e-12;

/// An entry counts as numerically nonzero when `|h| > NONZERO_TOL·max|h|`. Contributions
/// that cancel mathematically leave rounding residues depending on the order of summation:
/// at N = 100, 782 structural entries are exactly 0 and 2 are 4.4e-16 (1.4e-17·max); at
/// N = 1000, 7904 are exactly 0 and 80 are at most 5.6e-17 (2.8e-18·max). The smallest
/// genuine entries are 2.3e-4 (7e-6·max) and 4.7e-7 (2.4e-8·max), so 1e-14·max sits in a
/// gap of many orders of magnitude.
const NONZERO_TOL: f64 = 1e-14;

fn numerically_nonzero(values: &[f64]) -> usize {
    let max = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    values
        .iter()
        .filter(|v| v.abs() > NONZERO_TOL * max)
        .count()
}

fn entry(r: &Reference, i: usize, j: usize) -> f64 {
    r.pattern.position(i, j).map_or(0.0, |p| r.hessian[p])
}

fn check_reference_values(e: &Expected) {
    let (la, z) = cartpole::benchmark(e.knots);
    let value: f64 = la.value(&z);
    assert_rel("L_A", value, e.value, REL);

    let r = la.reference(&z).unwrap();
    assert_rel("L_A as the sum of elements", r.value, value, 1e-14);
    let gnorm = r.gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
    assert_rel("‖∇L_A‖₂", gnorm, e.gradient_norm, REL);
    assert_eq!(r.gradient, la.gradient_reference(&z));

    assert_eq!(r.pattern, cartpole::hessian_pattern(e.knots).unwrap());
    assert_eq!(r.pattern.nnz(), e.structural_nnz);
    assert!(r.pattern.is_symmetric());
    for (i, j) in r.pattern.iter() {
        assert_eq!(
            entry(&r, i, j),
            entry(&r, j, i),
            "H is not symmetric at ({i}, {j})"
        );
    }
    let frobenius = r.hessian.iter().map(|h| h * h).sum::<f64>().sqrt();
    assert_rel("‖∇²L_A‖_F", frobenius, e.frobenius, REL);
    assert_rel("sum of Hessian entries", r.hessian.iter().sum(), e.sum, REL);
    for (&(i, j), &(want, tol)) in [(0, 0), (5, 5), (7, 4), (9, 0)].iter().zip(&e.entries) {
        let got = entry(&r, i, j);
        assert!(
            (got - want).abs() <= tol,
            "H[{i},{j}] = {got:.15e}, spec {want} (tolerance {tol:e})"
        );
    }
    assert_eq!(numerically_nonzero(&r.hessian), e.numerical_nnz);
}

#[test]
fn cartpole_reference_values_n100() {
    check_reference_values(&N100);
}

#[test]
fn cartpole_reference_values_n1000() {
    check_reference_values(&N1000);
}

/// All eigenvalues, nondecreasing, by faer's dense self-adjoint eigenvalue solver.
fn dense_eigenvalues(r: &Reference) -> Vec<f64> {
    let n = r.pattern.nrows();
    let dense = faer::Mat::<f64>::from_fn(n, n, |i, j| entry(r, i, j));
    dense
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .expect("the eigenvalue iteration converges")
}

/// Half a unit in the last decimal the spec gives.
fn half_unit(decimals: i32) -> f64 {
    0.5 * 10f64.powi(-decimals)
}

fn check_dense_eigenvalues(e: &Expected) -> Vec<f64> {
    let (la, z) = cartpole::benchmark(e.knots);
    let r = la.reference(&z).unwrap();
    let eig = dense_eigenvalues(&r);
    let (min, max) = (eig[0], eig[eig.len() - 1]);
    for (what, got, (want, decimals)) in [
        ("min", min, e.eigenvalues[0]),
        ("max", max, e.eigenvalues[1]),
    ] {
        assert!(
            (got - want).abs() <= half_unit(decimals) * (1.0 + 1e-9),
            "{what} eigenvalue at N = {}: {got} does not round to {want}",
            e.knots
        );
    }
    eig
}

/// Number of eigenvalues of the symmetric banded matrix `H` smaller than `sigma`: by
/// Sylvester's law of inertia, the number of negative pivots of the LDLᵀ factorisation of
/// `H − σI` (banded, without pivoting — reliable at the shifts used here, which sit just
/// outside or just inside the end of the spectrum, where `H − σI` is (nearly) definite; the
/// N = 100 test checks it against the dense eigenvalues).
fn eigenvalues_below(r: &Reference, sigma: f64) -> usize {
    let n = r.pattern.nrows();
    let (b, upper) = r.pattern.bandwidth();
    assert_eq!(b, upper);
    let w = b + 1;
    // l[i·w + (i − j)] = L[i, j] for i − b ≤ j < i; d[j] the pivots
    let mut l = vec![0.0; n * w];
    let mut d = vec![0.0; n];
    let mut negative = 0;
    for j in 0..n {
        let lo = j.saturating_sub(b);
        let mut dj = entry(r, j, j) - sigma;
        for k in lo..j {
            let ljk = l[j * w + (j - k)];
            dj -= ljk * ljk * d[k];
        }
        assert!(dj != 0.0, "singular shift {sigma}");
        d[j] = dj;
        if dj < 0.0 {
            negative += 1;
        }
        for i in j + 1..n.min(j + b + 1) {
            let mut a = entry(r, i, j);
            for k in i.saturating_sub(b)..j {
                a -= l[i * w + (i - k)] * l[j * w + (j - k)] * d[k];
            }
            l[i * w + (i - j)] = a / dj;
        }
    }
    negative
}

/// The spec's eigenvalues through inertia: `λ_min` rounds to `min` iff no eigenvalue lies
/// below `min − ½ulp` and one lies below `min + ½ulp`; likewise for `λ_max`.
fn check_eigenvalues_by_inertia(e: &Expected) {
    let (la, z) = cartpole::benchmark(e.knots);
    let r = la.reference(&z).unwrap();
    let n = r.pattern.nrows();
    let [(min, dmin), (max, dmax)] = e.eigenvalues;
    assert_eq!(
        eigenvalues_below(&r, min - half_unit(dmin)),
        0,
        "λ_min < {min} − ½ulp"
    );
    assert!(
        eigenvalues_below(&r, min + half_unit(dmin)) >= 1,
        "λ_min > {min} + ½ulp"
    );
    assert!(
        eigenvalues_below(&r, max - half_unit(dmax)) < n,
        "λ_max < {max} − ½ulp"
    );
    assert_eq!(
        eigenvalues_below(&r, max + half_unit(dmax)),
        n,
        "λ_max > {max} + ½ulp"
    );
}

#[test]
fn cartpole_eigenvalues_n100() {
    let eig = check_dense_eigenvalues(&N100);
    check_eigenvalues_by_inertia(&N100);
    // the inertia count agrees with the dense eigenvalues, between any two of them
    let (la, z) = cartpole::benchmark(100);
    let r = la.reference(&z).unwrap();
    for k in (0..eig.len() - 1).step_by(7).chain([0, 1, eig.len() - 2]) {
        if eig[k + 1] - eig[k] > 1e-9 * eig[k].abs().max(1.0) {
            let sigma = 0.5 * (eig[k] + eig[k + 1]);
            assert_eq!(eigenvalues_below(&r, sigma), k + 1, "shift {sigma}");
        }
    }
    assert_eq!(eigenvalues_below(&r, eig[0] - 1e-3), 0);
}

/// At N = 1000 by inertia (fast); the dense solver on the 5000×5000 matrix is
/// [`cartpole_eigenvalues_n1000_dense`].
#[test]
fn cartpole_eigenvalues_n1000() {
    check_eigenvalues_by_inertia(&N1000);
}

#[test]
#[ignore = "dense 5000×5000 eigenvalues: about 40 s; run with --ignored"]
fn cartpole_eigenvalues_n1000_dense() {
    check_dense_eigenvalues(&N1000);
}

#[test]
fn cartpole_hessian_matches_the_mtx_file_n100() {
    let mtx = read_matrix_market(mtx_file()).unwrap();
    let file_values = mtx.values.expect("a real matrix");
    let file = mtx.pattern;
    // the file holds the lower triangle of the numerically nonzero entries (2093 of them)
    assert_eq!(file.nnz(), N100.numerical_nnz);
    let (la, z) = cartpole::benchmark(100);
    let r = la.reference(&z).unwrap();
    let max = r.hessian.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut worst: f64 = 0.0;
    for (p, (i, j)) in r.pattern.iter().enumerate() {
        let got = r.hessian[p];
        match file.position(i, j) {
            Some(q) => {
                let want = file_values[q];
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "H[{i},{j}] = {got:.17e}, file {want:.17e}"
                );
                worst = worst.max((got - want).abs() / want.abs().max(1.0));
            }
            None => assert!(
                got.abs() <= NONZERO_TOL * max,
                "H[{i},{j}] = {got:e} is not in the file (numerically zero there)"
            ),
        }
    }
    // every entry of the file is in the structural pattern
    for (i, j) in file.iter() {
        assert!(
            r.pattern.contains(i, j),
            "file entry ({i}, {j}) outside the pattern"
        );
    }
    assert!(worst <= 1e-12, "worst relative difference {worst:e}");
}

/// The JAX export of the N = 100 Hessian (lower triangle, real symmetric).
fn mtx_file() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/matrices/cartpole_LA_hessian_N100.mtx")
}

/// Entries of a Matrix Market text on the diagonal (after the header and size line).
fn count_stored_diagonal(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.starts_with('%'))
        .skip(1) // size line
        .filter(|l| {
            let mut it = l.split_whitespace();
            matches!((it.next(), it.next()), (Some(i), Some(j)) if i == j)
        })
        .count()
}

/// The Matrix Market reader on the file: header, symmetric expansion, a few values.
#[test]
fn cartpole_hessian_file_reads_as_exported() {
    let mm = read_matrix_market(mtx_file()).unwrap();
    assert_eq!(mm.header.symmetry, MtxSymmetry::Symmetric);
    assert_eq!(mm.header.entries, 2093);
    assert_eq!(mm.pattern.shape(), (500, 500));
    let text = std::fs::read_to_string(mtx_file()).unwrap();
    let diag = count_stored_diagonal(&text);
    assert_eq!(mm.pattern.nnz(), 2 * 2093 - diag);
    let p = &mm.pattern;
    let v = mm.values.as_ref().unwrap();
    let at = |i, j| v[p.position(i, j).unwrap()];
    assert_eq!(at(0, 0), 20.0001);
    assert_eq!(at(1, 0), 0.25);
    assert_eq!(at(0, 1), 0.25);
    assert_eq!(at(5, 0), -10.0);
    assert_eq!(at(0, 5), -10.0);
    assert_eq!(at(499, 499), 0.16250000000000003);
    assert!(p.is_symmetric());
}

/// At N = 3 (15 variables) the whole L_A goes through num-dual at once: its dense Hessian
/// checks the element-by-element reference, also where inequalities are active.
#[test]
fn cartpole_reference_matches_dense_num_dual() {
    const N: usize = 15;
    let problem = CartpoleProblem::with(3, 0.3);
    let la = AugmentedLagrangian::new(
        problem,
        (0..problem.num_equalities())
            .map(|i| 0.3 - 0.05 * i as f64)
            .collect(),
        (0..problem.num_inequalities())
            .map(|j| 0.2 + 0.1 * j as f64)
            .collect(),
        7.0,
    );
    let inactive = problem.eval_point();
    // x_1 = 1.4 > 1 and a_2 = −5.5 < −4: two active bounds; sin/cos away from 0 and π
    let mut active = inactive.clone();
    active[5] = 1.4;
    active[14] = -5.5;
    active[7] = 2.1;
    let active_terms = |z: &[f64]| {
        let g = problem.inequalities(z);
        (0..g.len())
            .filter(|&j| la.mu[j] + la.rho * g[j] > 0.0)
            .count()
    };
    assert_eq!(active_terms(&inactive), 0);
    assert_eq!(active_terms(&active), 2);
    for z in [inactive, active] {
        let (f, g, h) = nd_hessian::<N>(|z| la.value(z), &z);
        let r = la.reference(&z).unwrap();
        assert_close("L_A", r.value, f, 1e-13);
        assert_close("L_A on f64", la.value(&z), f, 1e-14);
        for (i, (&a, &b)) in r.gradient.iter().zip(&g).enumerate() {
            assert_close(&format!("∇L_A[{i}]"), a, b, 1e-12);
        }
        assert_sparse_eq_dense("∇²L_A", &r.pattern, &r.hessian, &h);
    }
}

#[test]
fn cartpole_rows_reproduce_the_functions() {
    for knots in [2, 3, 100] {
        let p = CartpoleProblem::new(knots);
        let z = p.eval_point();
        let c = p.equalities(&z);
        let g = p.inequalities(&z);
        assert_eq!((c.len(), g.len()), (4 * knots + 4, 4 * knots));
        let mut buf = vec![0.0; c.len()];
        p.equalities_into(&z, &mut buf);
        assert_eq!(buf, c);
        // rows: bitwise the same values, strictly increasing variables, declared layout
        let mut pairs = Vec::new();
        for (i, row) in p.equality_rows().enumerate() {
            assert_eq!(row, p.equality_row(i));
            assert_eq!(row.eval_global(&z), c[i], "equality row {i}");
            assert!(row.vars().windows(2).all(|w| w[0] < w[1]));
            assert!(row.vars().len() <= MAX_ROW_VARS);
            let expected_len = match row.kind() {
                RowKind::Defect { component: 3, .. } => 6,
                RowKind::Defect { .. } => 4,
                _ => 1,
            };
            assert_eq!(row.vars().len(), expected_len);
            assert_eq!(
                row.is_affine(),
                !matches!(row.kind(), RowKind::Defect { component: 3, .. })
            );
            for &a in row.vars() {
                for &b in row.vars() {
                    pairs.push((a, b));
                }
            }
        }
        for (j, row) in p.inequality_rows().enumerate() {
            assert_eq!(row.eval_global(&z), g[j], "inequality row {j}");
            let RowKind::Bound { knot, bound } = row.kind() else {
                panic!("inequality row {j} is {:?}", row.kind())
            };
            assert_eq!((knot, Bound::ALL[j % 4]), (j / 4, bound));
            assert_eq!(row.vars(), &[5 * knot + bound.offset()]);
        }
        let mut cost = 0.0;
        for (k, row) in p.cost_terms().enumerate() {
            assert_eq!(row.kind(), RowKind::Cost { knot: k });
            assert_eq!(row.vars(), &[5 * k, 5 * k + 1, 5 * k + 3, 5 * k + 4]);
            assert!(!row.is_affine());
            cost += row.eval_global(&z);
        }
        assert_eq!(cost, p.cost(&z));
        // the rows' couplings plus the diagonal are the structural Hessian pattern
        pairs.extend((0..p.num_vars()).map(|v| (v, v)));
        let from_rows = Pattern::from_entries(p.num_vars(), p.num_vars(), pairs).unwrap();
        assert_eq!(from_rows, cartpole::hessian_pattern(knots).unwrap());
        assert_eq!(from_rows, p.hessian_pattern().unwrap());
        // Jacobian patterns
        let jc = p.equality_jacobian_pattern().unwrap();
        assert_eq!(jc.shape(), (4 * knots + 4, 5 * knots));
        assert_eq!(jc.nnz(), 8 + 18 * (knots - 1));
        let jg = p.inequality_jacobian_pattern().unwrap();
        assert_eq!((jg.shape(), jg.nnz()), ((4 * knots, 5 * knots), 4 * knots));
    }
}

#[test]
fn cartpole_functions_follow_the_spec() {
    let p = CartpoleProblem::new(1000);
    assert_eq!((p.knots(), p.dt()), (1000, 0.005));
    assert_eq!(CartpoleProblem::new(100).dt(), 0.05);
    let z = p.initial_guess();
    let n = p.knots();
    for k in 0..n {
        let s = &z[5 * k..5 * k + 5];
        assert_eq!(s[0], 0.0);
        assert_eq!(s[1], 0.0);
        assert_eq!(s[4], 0.0);
        assert_close(
            "θ",
            s[2],
            std::f64::consts::PI * k as f64 / (n - 1) as f64,
            1e-15,
        );
        assert_close("ω", s[3], std::f64::consts::PI / 4.995, 1e-14);
    }
    let c = p.equalities(&z);
    // the initial guess meets the boundary conditions on x, v, θ (not on ω: it rotates at
    // a constant rate) and the linear defects of θ
    for r in 0..3 {
        assert!(
            c[r].abs() < 1e-12 && c[4 * n + r].abs() < 1e-12,
            "boundary {r}"
        );
    }
    assert_close("c[3] = ω_0", c[3], std::f64::consts::PI / 4.995, 1e-14);
    for k in 0..n - 1 {
        assert!(c[4 + 4 * k + 2].abs() < 1e-12, "θ defect {k}");
    }
    // evaluation point
    let z = p.eval_point();
    let t_end = 999.0 * 0.005;
    for k in [0, 1, 500, 999] {
        let t = k as f64 * 0.005;
        let w = 2.0 * std::f64::consts::PI / t_end;
        let expect = [
            0.5 * (w * t).sin(),
            0.5 * w * (w * t).cos(),
            std::f64::consts::PI * t / t_end,
            std::f64::consts::PI / t_end,
            (3.0 * t).sin(),
        ];
        for (d, want) in expect.into_iter().enumerate() {
            assert_close("eval point", z[5 * k + d], want, 1e-14);
        }
    }
    // all inequality terms are inactive there: μ + ρ·g < 0
    let g = p.inequalities(&z);
    assert!(g.iter().all(|&g| 0.1 + 10.0 * g < 0.0));
    // cost by the formula
    let mut j = 0.0;
    for s in z.chunks(5) {
        j += 0.005 * (s[4] * s[4] + 1e-3 * (s[0] * s[0] + s[1] * s[1] + s[3] * s[3]));
    }
    assert_close("J", p.cost(&z), j, 1e-14);
    // a defect by the formula
    let k = 321;
    let f = |b: usize| cartpole::dynamics([z[b], z[b + 1], z[b + 2], z[b + 3]], z[b + 4]);
    let (f0, f1) = (f(5 * k), f(5 * k + 5));
    assert_close(
        "ω' = −3(g sin θ + a cos θ)",
        f0[3],
        -3.0 * (9.81 * z[5 * k + 2].sin() + z[5 * k + 4] * z[5 * k + 2].cos()),
        1e-14,
    );
    let c = p.equalities(&z);
    for r in 0..4 {
        let want = z[5 * k + 5 + r] - z[5 * k + r] - 0.0025 * (f0[r] + f1[r]);
        assert_close("defect", c[4 + 4 * k + r], want, 1e-13);
    }
}

#[test]
fn cartpole_rejects_bad_parameters() {
    assert!(CartpoleProblem::try_with(0, 0.1).is_err());
    assert!(CartpoleProblem::try_with(1, 0.1).is_err());
    assert!(CartpoleProblem::try_with(2, 0.0).is_err());
    assert!(CartpoleProblem::try_with(2, f64::NAN).is_err());
    assert!(CartpoleProblem::try_with(2, -1.0).is_err());
    assert!(CartpoleProblem::try_with(2, 0.1).is_ok());
    let p = CartpoleProblem::new(4);
    assert!(std::panic::catch_unwind(|| p.cost(&[0.0; 19])).is_err());
    assert!(
        std::panic::catch_unwind(|| AugmentedLagrangian::new(p, vec![0.0; 3], vec![], 1.0))
            .is_err()
    );
}
