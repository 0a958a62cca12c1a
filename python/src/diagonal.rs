//! `design_diagonal(...)` and `DiagonalPlan`: the diagonal of a Hessian alone, exactly from
//! a distance-1 colouring of its pattern (`sparsediff_probe::ExactDiagonal`) or estimated
//! by Hutchinson's method with p Rademacher probes and no pattern
//! (`sparsediff_probe::Hutchinson`), with a standard error per entry.

use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sparsediff_coloring::{ColoringParams, OrderChoice};
use sparsediff_probe::{ExactDiagonal, Hutchinson, MAX_HUTCHINSON_PROBES};

use crate::pattern::to_pattern;
use crate::plan::{parse_order, seeds_array};
use crate::{decode_err, design_err, float_matrix, mat_ref};

/// A diagonal and its standard errors.
type WithErrors<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

enum Design {
    Exact(ExactDiagonal),
    Hutchinson(Hutchinson),
}

/// A diagonal plan: multiply the Hessian by ``seeds`` (n×p), then ``decode(products)``.
#[pyclass(module = "sparsediff._native", name = "DiagonalPlan", frozen)]
pub struct PyDiagonalPlan {
    design: Design,
    n: usize,
    seed: u64,
}

impl PyDiagonalPlan {
    /// The diagonal and, when `with_errors` (else left zero), Hutchinson's standard errors.
    fn decode_into<'py>(
        &self,
        py: Python<'py>,
        products: &Bound<'py, PyAny>,
        with_errors: bool,
    ) -> PyResult<WithErrors<'py>> {
        let b = float_matrix(products, "products")?;
        let view = mat_ref(&b);
        let diag = PyArray1::<f64>::zeros(py, self.n, false);
        let errors = PyArray1::<f64>::zeros(py, if with_errors { self.n } else { 0 }, false);
        {
            let mut d = diag.readwrite();
            let d = d.as_slice_mut().expect("a new contiguous array");
            match &self.design {
                Design::Exact(x) => x.decode(view, d).map_err(decode_err)?,
                Design::Hutchinson(h) => {
                    h.estimate(view, d).map_err(decode_err)?;
                    if with_errors {
                        let mut e = errors.readwrite();
                        let e = e.as_slice_mut().expect("a new contiguous array");
                        h.standard_errors(view, d, e).map_err(decode_err)?;
                    }
                }
            }
        }
        Ok((diag, errors))
    }

    fn probes(&self) -> usize {
        match &self.design {
            Design::Exact(d) => d.num_probes(),
            Design::Hutchinson(h) => h.num_probes(),
        }
    }
}

#[pymethods]
impl PyDiagonalPlan {
    /// The probes S (n×p): 0/1 colour classes (exact) or ±1 (Hutchinson).
    #[getter]
    fn seeds<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        match &self.design {
            Design::Exact(d) => seeds_array(py, d.seeds()),
            Design::Hutchinson(h) => seeds_array(py, h.seeds()),
        }
    }

    /// Number of products p.
    #[getter]
    fn num_probes(&self) -> usize {
        self.probes()
    }

    /// Length of the diagonal.
    #[getter]
    fn n(&self) -> usize {
        self.n
    }

    /// ``"exact"`` or ``"hutchinson"``.
    #[getter]
    fn method(&self) -> &'static str {
        match self.design {
            Design::Exact(_) => "exact",
            Design::Hutchinson(_) => "hutchinson",
        }
    }

    /// Whether ``decode`` gives the diagonal itself (exact) or an estimate.
    #[getter]
    fn exact(&self) -> bool {
        matches!(self.design, Design::Exact(_))
    }

    /// The products' shape (n, p).
    #[getter]
    fn products_shape(&self) -> (usize, usize) {
        (self.n, self.probes())
    }

    /// A dict: method, num_probes, n, seed (Hutchinson).
    #[getter]
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("method", self.method())?;
        d.set_item("num_probes", self.probes())?;
        d.set_item("n", self.n)?;
        d.set_item("seed", if self.exact() { None } else { Some(self.seed) })?;
        Ok(d)
    }

    /// The diagonal from the products H·S (n×p): exact, or Hutchinson's mean. Raises
    /// DecodeError for a wrong shape or a non-finite product.
    fn decode<'py>(
        &self,
        py: Python<'py>,
        products: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(self.decode_into(py, products, false)?.0)
    }

    /// (diagonal, standard errors): the errors are zero for the exact method, and for
    /// Hutchinson's the spread of the p samples over √p (infinite for p = 1).
    fn decode_with_errors<'py>(
        &self,
        py: Python<'py>,
        products: &Bound<'py, PyAny>,
    ) -> PyResult<WithErrors<'py>> {
        self.decode_into(py, products, true)
    }

    fn __repr__(&self) -> String {
        format!(
            "DiagonalPlan(method={:?}, {} probes, n = {})",
            self.method(),
            self.probes(),
            self.n
        )
    }
}

/// design_diagonal(pattern=None, method="exact", *, n=None, probes=None, seed=0,
/// order=None) -> DiagonalPlan
#[pyfunction]
#[pyo3(signature = (pattern=None, method="exact", *, n=None, probes=None, seed=0, order=None))]
pub(crate) fn design_diagonal(
    py: Python<'_>,
    pattern: Option<&Bound<'_, PyAny>>,
    method: &str,
    n: Option<usize>,
    probes: Option<usize>,
    seed: u64,
    order: Option<&str>,
) -> PyResult<PyDiagonalPlan> {
    let pattern = pattern.map(to_pattern).transpose()?;
    match method.to_ascii_lowercase().as_str() {
        "exact" => {
            let Some(p) = pattern else {
                return Err(crate::value_error(
                    "the exact diagonal needs the Hessian's pattern (or use method='hutchinson')",
                ));
            };
            if probes.is_some() {
                return Err(crate::value_error(
                    "probes= is for method='hutchinson'; the exact method takes one product per colour",
                ));
            }
            let params = parse_order(order)?
                .unwrap_or_else(|| ColoringParams::with_order(OrderChoice::best()));
            let inner = p.inner.clone();
            let d = py
                .detach(|| ExactDiagonal::with_params(&inner, &params))
                .map_err(design_err)?;
            Ok(PyDiagonalPlan {
                n: inner.nrows(),
                design: Design::Exact(d),
                seed,
            })
        }
        "hutchinson" => {
            let size = match (n, &pattern) {
                (Some(n), Some(p)) if n != p.inner.ncols() => {
                    return Err(crate::value_error(format!(
                        "n = {n} but the pattern has {} columns",
                        p.inner.ncols()
                    )));
                }
                (Some(n), _) => n,
                (None, Some(p)) => p.inner.ncols(),
                (None, None) => {
                    return Err(crate::value_error(
                        "Hutchinson's method needs n= (or a pattern to take n from)",
                    ));
                }
            };
            let Some(k) = probes else {
                return Err(crate::value_error(format!(
                    "Hutchinson's method needs probes= (1 to {MAX_HUTCHINSON_PROBES})"
                )));
            };
            let h = Hutchinson::new(size, k, seed).map_err(design_err)?;
            Ok(PyDiagonalPlan {
                n: size,
                design: Design::Hutchinson(h),
                seed,
            })
        }
        other => Err(crate::value_error(format!(
            "diagonal method must be 'exact' or 'hutchinson', not {other:?}"
        ))),
    }
}
