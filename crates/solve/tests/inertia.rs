//! The IPOPT δ schedule, checked step by step through a recording factorisation, on the
//! banded and the sparse LDLᵀ.

use faer::MatMut;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_solve::band::{BandLdlt, BandLdltParams, BandSymbolic};
use sparsediff_solve::sparse::{SparseLdlt, SparseLdltParams, SparseSymbolic};
use sparsediff_solve::{
    Inertia, InertiaCorrection, RegularizationParams, Result, SymmetricFactorization,
};

/// Wraps a factorisation and records every shift it is asked for.
struct Recording<F> {
    inner: F,
    shifts: Vec<f64>,
}

impl<F: SymmetricFactorization> SymmetricFactorization for Recording<F> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn factorize_shifted(&mut self, values: &[f64], shift: f64) -> Result<Inertia> {
        self.shifts.push(shift);
        self.inner.factorize_shifted(values, shift)
    }
    fn solve_in_place(&mut self, rhs: MatMut<'_, f64>) -> Result<()> {
        self.inner.solve_in_place(rhs)
    }
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-12 * y.abs().max(1e-300))
}

/// Diagonal with smallest eigenvalue −λ: the schedule is deterministic.
fn schedule_on<F: SymmetricFactorization>(
    make: impl Fn() -> F,
    values_for: impl Fn(f64) -> Vec<f64>,
) {
    let mut f = Recording {
        inner: make(),
        shifts: vec![],
    };
    let mut ic = InertiaCorrection::new(RegularizationParams::default()).expect("params");
    // λ = 0.5: δ = 0 fails, 1e-4 and 1e-2 fail, 1 works (×100 while no δ is known).
    let info = ic.factorize(&mut f, &values_for(0.5)).expect("regularised");
    assert!(close(&f.shifts, &[0.0, 1e-4, 1e-2, 1.0]), "{:?}", f.shifts);
    assert_eq!((info.delta, info.attempts), (1.0, 4));
    assert_eq!(info.unshifted_inertia.map(|i| i.negative), Some(1));
    assert_eq!(ic.last_delta(), 1.0);
    // Next call, λ = 3: start at δ_last/3, grow ×8: 1/3, 8/3, 64/3 ≥ 3.
    f.shifts.clear();
    let info = ic.factorize(&mut f, &values_for(3.0)).expect("regularised");
    assert!(
        close(&f.shifts, &[0.0, 1.0 / 3.0, 8.0 / 3.0, 64.0 / 3.0]),
        "{:?}",
        f.shifts
    );
    assert!((info.delta - 64.0 / 3.0).abs() < 1e-12);
    // A positive definite H needs no δ and keeps the memory.
    f.shifts.clear();
    let info = ic.factorize(&mut f, &values_for(-1.0)).expect("spd");
    assert_eq!((info.delta, info.attempts), (0.0, 1));
    assert_eq!(f.shifts, vec![0.0]);
    assert!((ic.last_delta() - 64.0 / 3.0).abs() < 1e-12);
    // The solve uses the regularised factor.
    let mut b = vec![1.0; f.dim()];
    f.solve_in_place(MatMut::from_column_major_slice_mut(&mut b, f.dim(), 1))
        .expect("solve");
    assert!(b.iter().all(|x| x.is_finite()));
}

#[test]
fn schedule_on_band_ldlt() {
    let p = generators::band(6, 2, 2).expect("band");
    let values_for = |lambda: f64| -> Vec<f64> {
        p.iter()
            .map(|(i, j)| {
                if i != j {
                    0.0
                } else if i == 4 {
                    -lambda
                } else {
                    2.0
                }
            })
            .collect()
    };
    let s = BandSymbolic::from_pattern(&p).expect("s");
    schedule_on(
        || BandLdlt::new(s.clone(), BandLdltParams::default()),
        values_for,
    );
}

#[test]
fn schedule_on_sparse_ldlt() {
    let p = generators::grid2d(4, 4, Stencil2d::FivePoint).expect("grid");
    let values_for = |lambda: f64| -> Vec<f64> {
        p.iter()
            .map(|(i, j)| {
                if i != j {
                    0.0
                } else if i == 9 {
                    -lambda
                } else {
                    2.0
                }
            })
            .collect()
    };
    let s = std::sync::Arc::new(SparseSymbolic::new(&p).expect("s"));
    schedule_on(
        || SparseLdlt::new(s.clone(), SparseLdltParams::default()).expect("ws"),
        values_for,
    );
}

/// On a coupled indefinite matrix the accepted δ makes H + δI positive definite and the
/// smaller δ before it did not (checked with the dense eigenvalues).
#[test]
fn accepted_delta_brackets_the_smallest_eigenvalue() {
    let p = generators::grid2d(5, 5, Stencil2d::NinePoint).expect("grid");
    let v: Vec<f64> = p
        .iter()
        .map(|(i, j)| {
            if i == j {
                0.1
            } else {
                0.3 * (((i * 7 + j * 7) % 5) as f64 - 2.0)
            }
        })
        .collect();
    let v: Vec<f64> = {
        // symmetrise
        let mut w = v.clone();
        for (k, (i, j)) in p.iter().enumerate() {
            w[k] = v[p.position(i.min(j), i.max(j)).expect("sym")];
        }
        w
    };
    let n = p.nrows();
    let dense = faer::Mat::<f64>::from_fn(n, n, |i, j| p.position(i, j).map_or(0.0, |k| v[k]));
    let lmin = dense
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .expect("eig")[0];
    assert!(lmin < 0.0);
    let mut f = SparseLdlt::new(
        SparseSymbolic::new(&p).expect("s"),
        SparseLdltParams::default(),
    )
    .expect("ws");
    let mut ic = InertiaCorrection::new(RegularizationParams::default()).expect("params");
    let info = ic.factorize(&mut f, &v).expect("regularised");
    assert!(info.delta > -lmin, "δ {} vs λ_min {lmin}", info.delta);
    assert!(
        info.delta / 100.0 <= -lmin,
        "the previous δ of the schedule was not enough"
    );
    assert!(f.inertia().expect("factor").is_positive_definite());
}
