//! `minimize(...)`: the Newton (inertia-corrected, line search) and trust-region
//! (Steihaug CG) drivers of sparsediff-solve over Python callables.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sparsediff_pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};
use sparsediff_solve::driver::Evaluations;
use sparsediff_solve::newton::{Newton, NewtonParams};
use sparsediff_solve::trust_region::{TrustRegion, TrustRegionParams};

use crate::pattern::{PyPattern, to_pattern, values_on};
use crate::raise;

/// f, ∇f and the sparse ∇²f as Python callables of a numpy vector.
struct PyObjective {
    fun: Py<PyAny>,
    grad: Py<PyAny>,
    hess: Py<PyAny>,
    pattern: PyPattern,
    values: Vec<f64>,
    n: usize,
}

impl PyObjective {
    fn x_array<'py>(py: Python<'py>, x: &[f64]) -> Bound<'py, PyArray1<f64>> {
        crate::array_from_vec(py, x.to_vec())
    }
}

fn finite_vector(obj: &Bound<'_, PyAny>, what: &str, n: usize) -> PyResult<Vec<f64>> {
    let v: PyReadonlyArray1<'_, f64> = crate::float_vector(obj, what)?;
    let s = v.as_array();
    if s.len() != n {
        return Err(crate::value_error(format!(
            "{what} returned {} values, expected {n}",
            s.len()
        )));
    }
    Ok(s.to_vec())
}

impl ValueGradient for PyObjective {
    type Error = PyErr;

    fn dim(&self) -> usize {
        self.n
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, PyErr> {
        Python::attach(|py| {
            self.fun
                .bind(py)
                .call1((Self::x_array(py, x),))?
                .extract::<f64>()
        })
    }

    fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, PyErr> {
        let value = self.value(x)?;
        Python::attach(|py| {
            let g = self.grad.bind(py).call1((Self::x_array(py, x),))?;
            grad.copy_from_slice(&finite_vector(&g, "grad", self.n)?);
            Ok(value)
        })
    }
}

impl ValueGradientHessian for PyObjective {
    fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, PyErr> {
        Python::attach(|py| -> PyResult<()> {
            let h = self.hess.bind(py).call1((Self::x_array(py, x),))?;
            let v = values_on(&self.pattern, &h)?;
            self.values.copy_from_slice(v.as_slice()?);
            Ok(())
        })?;
        Ok(SymmetricValues {
            pattern: &self.pattern.inner,
            values: &self.values,
        })
    }
}

fn evaluations<'py>(py: Python<'py>, e: &Evaluations) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("values", e.values)?;
    d.set_item("gradients", e.gradients)?;
    d.set_item("hessians", e.hessians)?;
    d.set_item("hessian_vectors", e.hessian_vectors)?;
    d.set_item("factorizations", e.factorizations)?;
    d.set_item("solves", e.solves)?;
    Ok(d)
}

/// minimize(fun, grad, hess, x0, pattern, *, method="newton", grad_tol=1e-8,
/// max_iterations=200) -> dict: x, value, status, converged, iterations, grad_inf,
/// evaluations (+ factorization for Newton, radius for the trust region).
///
/// `hess(x)` returns the Hessian on `pattern` (a scipy matrix or the values in entry
/// order), e.g. ``plan.decode(products)``. An exception raised by a callable ends the
/// solve and is re-raised.
#[pyfunction]
#[pyo3(signature = (fun, grad, hess, x0, pattern, *, method="newton", grad_tol=1e-8, max_iterations=200))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn minimize<'py>(
    py: Python<'py>,
    fun: Py<PyAny>,
    grad: Py<PyAny>,
    hess: Py<PyAny>,
    x0: &Bound<'py, PyAny>,
    pattern: &Bound<'py, PyAny>,
    method: &str,
    grad_tol: f64,
    max_iterations: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let pat = to_pattern(pattern)?;
    let n = pat.inner.nrows();
    if !pat.inner.is_square() {
        return Err(crate::value_error("the Hessian pattern must be square"));
    }
    let x0 = finite_vector(x0, "x0", n)?;
    let nnz = pat.inner.nnz();
    let mut f = PyObjective {
        fun,
        grad,
        hess,
        pattern: pat,
        values: vec![0.0; nnz],
        n,
    };
    let d = PyDict::new(py);
    let driver_err = |e: sparsediff_solve::DriverError| raise("SolveError", &e);
    let error = match method.to_ascii_lowercase().as_str() {
        "newton" => {
            let params = NewtonParams {
                grad_tol,
                max_iterations,
                ..NewtonParams::default()
            };
            let mut newton = Newton::new(params).map_err(driver_err)?;
            // the GIL is released for the factorisations; the callables take it back
            let sol = py
                .detach(|| newton.minimize(&mut f, &x0, &mut ()))
                .map_err(driver_err)?;
            d.set_item("x", crate::array_from_vec(py, sol.x))?;
            d.set_item("value", sol.value)?;
            d.set_item("status", sol.info.status.name())?;
            d.set_item("converged", sol.info.status.is_converged())?;
            d.set_item("iterations", sol.info.iterations)?;
            d.set_item("grad_inf", sol.info.grad_inf)?;
            d.set_item("backtracks", sol.info.backtracks)?;
            d.set_item("factorization", sol.info.factorization.map(|k| k.name()))?;
            d.set_item("regularization", sol.info.regularization)?;
            d.set_item("evaluations", evaluations(py, &sol.info.evaluations)?)?;
            sol.error
        }
        "trust-region" | "trust_region" => {
            let params = TrustRegionParams {
                grad_tol,
                max_iterations,
                ..TrustRegionParams::default()
            };
            let mut tr = TrustRegion::new(params).map_err(driver_err)?;
            let sol = py
                .detach(|| tr.minimize(&mut f, &x0, &mut ()))
                .map_err(driver_err)?;
            d.set_item("x", crate::array_from_vec(py, sol.x))?;
            d.set_item("value", sol.value)?;
            d.set_item("status", sol.info.status.name())?;
            d.set_item("converged", sol.info.status.is_converged())?;
            d.set_item("iterations", sol.info.iterations)?;
            d.set_item("grad_inf", sol.info.grad_inf)?;
            d.set_item("radius", sol.info.radius)?;
            d.set_item("cg_iterations", sol.info.cg_iterations)?;
            d.set_item("evaluations", evaluations(py, &sol.info.evaluations)?)?;
            sol.error
        }
        other => {
            return Err(crate::value_error(format!(
                "method must be 'newton' or 'trust-region', not {other:?}"
            )));
        }
    };
    if let Some(e) = error {
        return Err(e);
    }
    Ok(d)
}
