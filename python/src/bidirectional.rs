//! `design_bidirectional(...)` and `BidirectionalPlan`: Jacobian plans that take some
//! products as JVPs (B = J·Sc) and some as VJPs (C = Jᵀ·Sr), decoded together
//! (`sparsediff_probe::BidirectionalPlan`).
//!
//! A separate class rather than a `Plan` with a third orientation, for the reason the probe
//! crate gives: two seed matrices and two product blocks of different shapes, which no
//! consumer of a one-sided plan (saved plans, `verify`, the adapters' single batched call)
//! could take without learning about them. Not picklable and not saved: re-design it (the
//! colouring is deterministic).

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sparsediff_coloring::{ColoringParams, Method, OrderChoice};
use sparsediff_probe::{BidirectionalDesigner, BidirectionalPlan};

use crate::pattern::{PyPattern, to_pattern, values_on};
use crate::plan::{fits32, groups_array, index_array, parse_order, seeds_array};
use crate::{DETACH_WORK, decode_err, design_err, float_matrix, mat_ref, mat_to_numpy};

/// The two product blocks (JVPs, VJPs).
type Blocks<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<f64>>);

/// A bidirectional Jacobian plan: multiply J by ``column_seeds`` (JVPs) and Jᵀ by
/// ``row_seeds`` (VJPs), then ``decode(jvp_block, vjp_block)``.
#[pyclass(module = "sparsediff._native", name = "BidirectionalPlan", frozen)]
pub struct PyBidirectionalPlan {
    plan: BidirectionalPlan,
    pattern: Py<PyPattern>,
    /// A csr_array on the pattern made once by scipy's constructor; `decode` copies it
    /// with new values (`_convert.csr_like`).
    template: Py<PyAny>,
    seconds: f64,
}

impl PyBidirectionalPlan {
    fn wrap(py: Python<'_>, plan: BidirectionalPlan, seconds: f64) -> PyResult<Self> {
        let p = plan.pattern();
        let f = fits32(p);
        let indptr = index_array(py, p.row_ptr(), f);
        let indices = index_array(py, p.col_idx(), f);
        for a in [&indptr, &indices] {
            a.getattr("flags")?.setattr("writeable", false)?;
        }
        let template = py
            .import("sparsediff._convert")?
            .getattr("csr_template")?
            .call1((indices, indptr, (p.nrows(), p.ncols())))?
            .unbind();
        let pattern = Py::new(py, PyPattern::new(p.clone()))?;
        Ok(Self {
            plan,
            pattern,
            template,
            seconds,
        })
    }

    /// A product block as a float64 matrix; None stands for a block of no products (an
    /// empty one, so that None for a block the plan needs is the decoder's shape error,
    /// never zeros).
    fn block<'py>(
        py: Python<'py>,
        block: Option<&Bound<'py, PyAny>>,
        rows: usize,
        name: &str,
    ) -> PyResult<PyReadonlyArray2<'py, f64>> {
        match block {
            Some(b) => float_matrix(b, name),
            None => Ok(PyArray2::<f64>::zeros(py, [rows, 0], false).readonly()),
        }
    }

    /// Decodes into `values` (entry order), with the GIL released for large blocks.
    fn decode_to(
        &self,
        py: Python<'_>,
        jvp: Option<&Bound<'_, PyAny>>,
        vjp: Option<&Bound<'_, PyAny>>,
        values: &mut [f64],
    ) -> PyResult<()> {
        let b = Self::block(py, jvp, self.plan.column_products_shape().0, "jvp")?;
        let c = Self::block(py, vjp, self.plan.row_products_shape().0, "vjp")?;
        let (bv, cv) = (mat_ref(&b), mat_ref(&c));
        let plan = &self.plan;
        if b.len() + c.len() + values.len() > DETACH_WORK {
            py.detach(|| plan.decode(bv, cv, values))
        } else {
            plan.decode(bv, cv, values)
        }
        .map_err(decode_err)
    }
}

#[pymethods]
impl PyBidirectionalPlan {
    /// Sc (n×pc): J·Sc are the JVP products.
    #[getter]
    fn column_seeds<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        seeds_array(py, self.plan.column_seeds())
    }

    /// Sr (m×pr): Jᵀ·Sr are the VJP products.
    #[getter]
    fn row_seeds<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        seeds_array(py, self.plan.row_seeds())
    }

    /// The JVP probe of every column, -1 for columns in no JVP.
    #[getter]
    fn column_groups<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<i64>>> {
        groups_array(py, self.plan.column_seeds())
    }

    /// The VJP probe of every row, -1 for rows in no VJP.
    #[getter]
    fn row_groups<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<i64>>> {
        groups_array(py, self.plan.row_seeds())
    }

    /// Number of JVPs pc.
    #[getter]
    fn num_column_probes(&self) -> usize {
        self.plan.num_column_probes()
    }

    /// Number of VJPs pr.
    #[getter]
    fn num_row_probes(&self) -> usize {
        self.plan.num_row_probes()
    }

    /// pc + pr.
    #[getter]
    fn num_probes(&self) -> usize {
        self.plan.num_probes()
    }

    /// A lower bound on the products of any bicolouring of this method.
    #[getter]
    fn lower_bound(&self) -> usize {
        self.plan.lower_bound()
    }

    /// ``bidirectional-star`` or ``bidirectional-acyclic``.
    #[getter]
    fn designer(&self) -> &'static str {
        self.plan.designer()
    }

    /// Always ``"bidirectional"``.
    #[getter]
    fn kind(&self) -> &'static str {
        "bidirectional"
    }

    /// ``"direct"`` (every entry read from one product) or ``"substitution"``.
    #[getter]
    fn recovery(&self) -> &'static str {
        if self.plan.decoder().is_direct() {
            "direct"
        } else {
            "substitution"
        }
    }

    /// How the bicolouring was found: ``cover-columns``, ``cover-rows``, ``augmented``,
    /// ``columns`` or ``rows`` (one-sided).
    #[getter]
    fn strategy(&self) -> Option<&'static str> {
        self.plan.strategy().map(|s| s.name())
    }

    /// (m, pc), the JVP block's shape.
    #[getter]
    fn column_products_shape(&self) -> (usize, usize) {
        self.plan.column_products_shape()
    }

    /// (n, pr), the VJP block's shape.
    #[getter]
    fn row_products_shape(&self) -> (usize, usize) {
        self.plan.row_products_shape()
    }

    /// The Jacobian's pattern.
    #[getter]
    fn pattern(&self, py: Python<'_>) -> Py<PyPattern> {
        self.pattern.clone_ref(py)
    }

    /// A dict: designer, kind, recovery, strategy, column/row probes, lower bound, seconds.
    #[getter]
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("designer", self.designer())?;
        d.set_item("kind", "bidirectional")?;
        d.set_item("recovery", self.recovery())?;
        d.set_item("strategy", self.strategy())?;
        d.set_item("num_column_probes", self.num_column_probes())?;
        d.set_item("num_row_probes", self.num_row_probes())?;
        d.set_item("num_probes", self.num_probes())?;
        d.set_item("lower_bound", self.lower_bound())?;
        d.set_item("seconds", self.seconds)?;
        Ok(d)
    }

    /// Decodes the JVP block (m×pc) and the VJP block (n×pr) into a
    /// ``scipy.sparse.csr_array``; None stands for a block of no products. Raises
    /// DecodeError naming the block for a wrong shape or a non-finite product.
    #[pyo3(signature = (jvp, vjp))]
    fn decode<'py>(
        &self,
        py: Python<'py>,
        jvp: Option<&Bound<'py, PyAny>>,
        vjp: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let values = self.decode_values(py, jvp, vjp, None)?;
        py.import("sparsediff._convert")?
            .getattr("csr_like")?
            .call1((self.template.bind(py), values))
    }

    /// Decodes into the values in the pattern's entry order (a new float64 vector, or
    /// written into ``out``, a contiguous float64 vector of length nnz).
    #[pyo3(signature = (jvp, vjp, out=None))]
    fn decode_values<'py>(
        &self,
        py: Python<'py>,
        jvp: Option<&Bound<'py, PyAny>>,
        vjp: Option<&Bound<'py, PyAny>>,
        out: Option<&Bound<'py, PyArray1<f64>>>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let out = match out {
            Some(o) => o.clone(),
            None => PyArray1::<f64>::zeros(py, self.plan.pattern().nnz(), false),
        };
        {
            let mut guard = out
                .try_readwrite()
                .map_err(|e| crate::value_error(format!("out: {e}")))?;
            let values = guard
                .as_slice_mut()
                .map_err(|_| crate::value_error("out must be a contiguous float64 vector"))?;
            self.decode_to(py, jvp, vjp, values)?;
        }
        Ok(out)
    }

    /// The exact blocks (J·Sc, Jᵀ·Sr) of the matrix with these values (entry order, or a
    /// matrix on the pattern): for tests and for callers who have the matrix.
    fn exact_products<'py>(
        &self,
        py: Python<'py>,
        values: &Bound<'py, PyAny>,
    ) -> PyResult<Blocks<'py>> {
        let pattern = self.pattern.bind(py).get().clone();
        let v = values_on(&pattern, values)?;
        let slice = v
            .as_slice()
            .map_err(|_| crate::value_error("values must be contiguous"))?;
        let plan = &self.plan;
        let (b, c) = py.detach(|| plan.exact_products(slice));
        Ok((mat_to_numpy(py, b.as_ref()), mat_to_numpy(py, c.as_ref())))
    }

    fn __repr__(&self) -> String {
        let (m, n) = self.plan.pattern().shape();
        format!(
            "BidirectionalPlan(designer={:?}, {} JVPs + {} VJPs, lower bound {}, {}×{} pattern with {} entries, recovery {})",
            self.plan.designer(),
            self.plan.num_column_probes(),
            self.plan.num_row_probes(),
            self.plan.lower_bound(),
            m,
            n,
            self.plan.pattern().nnz(),
            self.recovery()
        )
    }
}

/// design_bidirectional(pattern, method="auto", *, order=None) -> BidirectionalPlan
///
/// ``method``: "star" (direct recovery), "acyclic" (substitution) or "auto" (both; the
/// fewer products, a tie to star). ``order``: as for ``design`` (default: the best of
/// every order).
#[pyfunction]
#[pyo3(signature = (pattern, method="auto", *, order=None))]
pub(crate) fn design_bidirectional(
    py: Python<'_>,
    pattern: &Bound<'_, PyAny>,
    method: &str,
    order: Option<&str>,
) -> PyResult<PyBidirectionalPlan> {
    let pat = to_pattern(pattern)?;
    let params =
        parse_order(order)?.unwrap_or_else(|| ColoringParams::with_order(OrderChoice::best()));
    let methods: &[Method] = match method.to_ascii_lowercase().as_str() {
        "auto" => &[Method::Star, Method::Acyclic],
        "star" | "bidirectional-star" => &[Method::Star],
        "acyclic" | "bidirectional-acyclic" => &[Method::Acyclic],
        other => {
            return Err(crate::value_error(format!(
                "bidirectional method must be 'auto', 'star' or 'acyclic', not {other:?}"
            )));
        }
    };
    let p = pat.inner.clone();
    let start = std::time::Instant::now();
    let best = py.detach(|| {
        let mut best: Option<BidirectionalPlan> = None;
        for &m in methods {
            let d = match m {
                Method::Acyclic => BidirectionalDesigner::acyclic(),
                _ => BidirectionalDesigner::star(),
            }
            .with_params(params.clone());
            let plan = d.design(&p)?;
            if best
                .as_ref()
                .is_none_or(|b| plan.num_probes() < b.num_probes())
            {
                best = Some(plan);
            }
        }
        Ok::<_, sparsediff_probe::DesignError>(best.expect("at least one method"))
    });
    let plan = best.map_err(design_err)?;
    PyBidirectionalPlan::wrap(py, plan, start.elapsed().as_secs_f64())
}
