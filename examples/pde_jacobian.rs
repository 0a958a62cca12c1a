//! Sparse Jacobian of a discretised PDE residual: the Bratu problem
//! −Δu − λ·eᵘ = 0 on the unit square, u = 0 on the boundary, 5-point finite differences on
//! an s×s interior grid. The Jacobian has the 5-point pattern: 5 probes (JVPs) recover it
//! whatever s is, and a few Newton steps solve the problem.
//!
//! `cargo run --release --example pde_jacobian`

use sparsediff::num_dual::DualNum;
use sparsediff::{Options, SparseJacobian, VectorFunction};

/// The Bratu residual on an s×s interior grid (unknown (i, j) at index i + s·j).
#[derive(Clone)]
struct Bratu {
    s: usize,
    lambda: f64,
}

impl VectorFunction for Bratu {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }

    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, u: &[D], out: &mut [D]) {
        let s = self.s;
        let h2 = 1.0 / ((s + 1) * (s + 1)) as f64;
        let at = |i: isize, j: isize| -> D {
            if i < 0 || j < 0 || i >= s as isize || j >= s as isize {
                D::zero()
            } else {
                u[i as usize + s * j as usize]
            }
        };
        for j in 0..s as isize {
            for i in 0..s as isize {
                let c = at(i, j);
                let lap = (at(i - 1, j) + at(i + 1, j) + at(i, j - 1) + at(i, j + 1) - c * 4.0)
                    * (1.0 / h2);
                out[i as usize + s * j as usize] = -lap - c.exp() * self.lambda;
            }
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let f = Bratu {
        s: 100,
        lambda: 5.0,
    };
    let n = f.s * f.s;
    let mut u = vec![0.0; n];
    let mut jac = SparseJacobian::prepare(f.clone(), &u, &Options::default())?;
    println!("{:?}", jac.info());
    assert_eq!(jac.info().probes, 5); // the 5-point stencil, whatever the grid size
    let mut residual = vec![0.0; n];
    let mut first = None;
    for step in 0..10 {
        jac.value(&u, &mut residual)?;
        let norm = residual.iter().map(|r| r * r).sum::<f64>().sqrt();
        println!("Newton step {step}: ‖F(u)‖ = {norm:.3e}");
        // The residual carries 1/h² ≈ 1e4: its rounding floor is about 1e-10.
        if norm <= 1e-9 * *first.get_or_insert(norm) {
            break;
        }
        // Solve J·δ = −F with faer's sparse LU (the Jacobian is recovered in CSR; faer wants CSC).
        let j = jac.evaluate(&u)?;
        let triplets: Vec<faer::sparse::Triplet<usize, usize, f64>> = j
            .iter()
            .map(|(&v, (r, c))| faer::sparse::Triplet::new(r, c, v))
            .collect();
        let a = faer::sparse::SparseColMat::<usize, f64>::try_new_from_triplets(n, n, &triplets)?;
        let lu = a.sp_lu()?;
        let mut rhs = faer::Mat::from_fn(n, 1, |i, _| -residual[i]);
        use faer::linalg::solvers::SolveCore;
        lu.solve_in_place_with_conj(faer::Conj::No, rhs.as_mut());
        for (ui, d) in u.iter_mut().zip(rhs.col(0).iter()) {
            *ui += d;
        }
    }
    jac.value(&u, &mut residual)?;
    let norm = residual.iter().map(|r| r * r).sum::<f64>().sqrt();
    assert!(norm < 1e-8, "Newton converged: {norm:e}");
    println!("max u = {:.6}", u.iter().copied().fold(0.0, f64::max));
    Ok(())
}
