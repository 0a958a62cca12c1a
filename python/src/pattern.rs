//! `Pattern`: a checked CSR sparsity pattern (sparsediff-pattern), built from index arrays,
//! a generator spec or a Matrix Market file; scipy conversions live in `_convert`.

use std::sync::Arc;

use numpy::{PyArray1, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use sparsediff_pattern::{Geometry, Pattern, PatternError, PatternSpec, SpecParams};

use crate::pattern_err;

/// A sparsity pattern: the positions (i, j) of the entries that may be nonzero, in CSR
/// order (row by row, columns ascending). Values of a matrix on the pattern are given and
/// returned in this order.
#[pyclass(module = "sparsediff._native", name = "Pattern", frozen)]
#[derive(Clone)]
pub struct PyPattern {
    pub(crate) inner: Arc<Pattern>,
    /// The closed-form geometry of a generated band, block band or grid (stencil designers).
    pub(crate) geometry: Option<Geometry>,
    /// The spec it was generated from, if any.
    pub(crate) spec: Option<String>,
}

impl PyPattern {
    pub(crate) fn new(p: Pattern) -> Self {
        Self {
            inner: Arc::new(p),
            geometry: None,
            spec: None,
        }
    }
}

/// Non-negative int64 indices as usize.
fn indices(a: &PyReadonlyArray1<'_, i64>, what: &str) -> PyResult<Vec<usize>> {
    let v = a.as_array();
    let mut out = Vec::with_capacity(v.len());
    for (k, &x) in v.iter().enumerate() {
        if x < 0 {
            return Err(crate::value_error(format!("{what}[{k}] = {x} is negative")));
        }
        out.push(x as usize);
    }
    Ok(out)
}

/// `cartpole:N=..` (the cartpole L_A Hessian of sparsediff-problems), as the CLI reads it.
fn cartpole(text: &str) -> Option<Result<Pattern, PatternError>> {
    let trimmed = text.trim();
    if trimmed.to_ascii_lowercase().ends_with(".mtx") {
        return None;
    }
    let (name, rest) = trimmed.split_once(':')?;
    if !name.trim().eq_ignore_ascii_case("cartpole") {
        return None;
    }
    let spec_error = |problem| PatternError::Spec {
        spec: text.to_string(),
        problem,
    };
    let parsed = (|| {
        let mut params = SpecParams::parse("cartpole", rest)?;
        let knots = params.count(&["N", "n", "knots"])?;
        params.finish()?;
        Ok(knots)
    })();
    Some(match parsed {
        Ok(knots) => sparsediff_problems::cartpole::hessian_pattern(knots),
        Err(problem) => Err(spec_error(problem)),
    })
}

#[pymethods]
impl PyPattern {
    /// Pattern(obj, shape=None): a scipy sparse matrix or array (its stored entries,
    /// explicit zeros included), a generator spec (``"band:n=1000,k=3"``), a Matrix Market
    /// path, index arrays ``(rows, cols)`` with ``shape``, a dense boolean/numeric array
    /// (its nonzeros) or another Pattern.
    #[new]
    #[pyo3(signature = (obj, shape=None))]
    fn py_new(
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        shape: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let made = py
            .import("sparsediff._convert")?
            .getattr("to_pattern")?
            .call1((obj, shape))?;
        Ok(made.cast::<PyPattern>()?.get().clone())
    }

    /// A pattern from CSR arrays (int64); `sorted=False` sorts and removes duplicates.
    #[staticmethod]
    #[pyo3(signature = (nrows, ncols, indptr, indices_, sorted=true))]
    fn from_csr(
        py: Python<'_>,
        nrows: usize,
        ncols: usize,
        indptr: PyReadonlyArray1<'_, i64>,
        indices_: PyReadonlyArray1<'_, i64>,
        sorted: bool,
    ) -> PyResult<Self> {
        let ptr = indices(&indptr, "indptr")?;
        let idx = indices(&indices_, "indices")?;
        let p = py
            .detach(|| {
                if sorted {
                    Pattern::from_csr(nrows, ncols, ptr, idx)
                } else {
                    Pattern::from_csr_unsorted(nrows, ncols, ptr, idx)
                }
            })
            .map_err(pattern_err)?;
        Ok(Self::new(p))
    }

    /// A pattern from coordinate arrays (int64, duplicates merged).
    #[staticmethod]
    fn from_coo(
        py: Python<'_>,
        nrows: usize,
        ncols: usize,
        rows: PyReadonlyArray1<'_, i64>,
        cols: PyReadonlyArray1<'_, i64>,
    ) -> PyResult<Self> {
        let r = indices(&rows, "rows")?;
        let c = indices(&cols, "cols")?;
        let p = py
            .detach(|| Pattern::from_triplets(nrows, ncols, &r, &c))
            .map_err(pattern_err)?;
        Ok(Self::new(p))
    }

    /// A pattern from a generator spec (``band:n=..,k=..``, ``block_band:..``,
    /// ``grid2d:nx=..,ny=..,stencil=5``, ``grid3d:..``, ``arrow:..``, ``random:..``,
    /// ``cartpole:N=..``) or a Matrix Market path: what the CLI's PATTERN accepts.
    #[staticmethod]
    fn from_spec(py: Python<'_>, spec: &str) -> PyResult<Self> {
        if let Some(p) = py.detach(|| cartpole(spec)) {
            let mut out = Self::new(p.map_err(pattern_err)?);
            out.spec = Some(spec.to_string());
            return Ok(out);
        }
        let parsed: PatternSpec = spec.parse().map_err(pattern_err)?;
        let p = py.detach(|| parsed.build()).map_err(pattern_err)?;
        Ok(Self {
            inner: Arc::new(p),
            geometry: Geometry::of_spec(&parsed),
            spec: Some(spec.to_string()),
        })
    }

    /// A pattern read from a Matrix Market file.
    #[staticmethod]
    fn from_mtx(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        let p = py
            .detach(|| sparsediff_pattern::read_matrix_market(&path))
            .map_err(pattern_err)?;
        Ok(Self::new(p.into_pattern()))
    }

    /// (rows, columns).
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, [self.inner.nrows(), self.inner.ncols()])
    }

    /// Number of rows.
    #[getter]
    fn nrows(&self) -> usize {
        self.inner.nrows()
    }

    /// Number of columns.
    #[getter]
    fn ncols(&self) -> usize {
        self.inner.ncols()
    }

    /// Number of entries.
    #[getter]
    fn nnz(&self) -> usize {
        self.inner.nnz()
    }

    /// The spec the pattern was generated from, if any.
    #[getter]
    fn spec(&self) -> Option<String> {
        self.spec.clone()
    }

    /// CSR row pointers (int64, a copy).
    #[getter]
    fn indptr<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        crate::array_from_iter(py, self.inner.row_ptr().iter().map(|&x| x as i64))
    }

    /// CSR column indices (int64, a copy).
    #[getter]
    fn indices<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        crate::array_from_iter(py, self.inner.col_idx().iter().map(|&x| x as i64))
    }

    /// Row index of every entry, in entry order (int64).
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        crate::array_from_iter(py, self.inner.iter().map(|(i, _)| i as i64))
    }

    /// Whether the pattern is square and structurally symmetric.
    fn is_symmetric(&self) -> bool {
        self.inner.is_symmetric()
    }

    /// (lower, upper) bandwidth.
    fn bandwidth(&self) -> (usize, usize) {
        self.inner.bandwidth()
    }

    /// The pattern of A ∪ Aᵀ.
    fn symmetrize(&self, py: Python<'_>) -> PyResult<Self> {
        let p = py.detach(|| self.inner.symmetrize()).map_err(pattern_err)?;
        Ok(Self::new(p))
    }

    /// Position of entry (i, j) in the entry order, or None.
    fn position(&self, i: usize, j: usize) -> Option<usize> {
        if i < self.inner.nrows() && j < self.inner.ncols() {
            self.inner.position(i, j)
        } else {
            None
        }
    }

    /// Pickling: through the CSR arrays.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(
        Bound<'py, PyAny>,
        (
            usize,
            usize,
            Bound<'py, PyArray1<i64>>,
            Bound<'py, PyArray1<i64>>,
        ),
    )> {
        let py = slf.py();
        let me = slf.get();
        Ok((
            slf.get_type().getattr("from_csr")?,
            (
                me.inner.nrows(),
                me.inner.ncols(),
                me.indptr(py),
                me.indices(py),
            ),
        ))
    }

    fn __len__(&self) -> usize {
        self.inner.nnz()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyPattern>() {
            Ok(o) => *o.get().inner == *self.inner,
            Err(_) => false,
        }
    }

    fn __repr__(&self) -> String {
        match &self.spec {
            Some(s) => format!(
                "Pattern({}×{}, {} entries, spec {:?})",
                self.inner.nrows(),
                self.inner.ncols(),
                self.inner.nnz(),
                s
            ),
            None => format!(
                "Pattern({}×{}, {} entries)",
                self.inner.nrows(),
                self.inner.ncols(),
                self.inner.nnz()
            ),
        }
    }

    /// Values of `matrix` (anything `Pattern` accepts with values: a scipy sparse matrix or
    /// a dense array) at this pattern's entries, in entry order; raises if the matrix has a
    /// nonzero outside the pattern or another shape.
    fn values_of<'py>(
        slf: &Bound<'py, Self>,
        matrix: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("sparsediff._convert")?
            .getattr("values_on")?
            .call1((slf, matrix))
    }
}

/// `Pattern` from any accepted object (through `_convert.to_pattern`).
pub(crate) fn to_pattern<'py>(obj: &Bound<'py, PyAny>) -> PyResult<PyPattern> {
    if let Ok(p) = obj.cast::<PyPattern>() {
        return Ok(p.get().clone());
    }
    let made = obj
        .py()
        .import("sparsediff._convert")?
        .getattr("to_pattern")?
        .call1((obj, obj.py().None()))?;
    Ok(made.cast::<PyPattern>()?.get().clone())
}

/// Values on `pattern` from a 1-D array (entry order) or a matrix (`_convert.values_on`).
pub(crate) fn values_on<'py>(
    pattern: &PyPattern,
    obj: &Bound<'py, PyAny>,
) -> PyResult<numpy::PyReadonlyArray1<'py, f64>> {
    let py = obj.py();
    let is_vector = obj.extract::<PyReadonlyArray1<'py, f64>>().ok();
    let v = match is_vector {
        Some(v) => v,
        None => {
            let p = Bound::new(py, pattern.clone())?;
            let conv = py
                .import("sparsediff._convert")?
                .getattr("values_on")?
                .call1((p, obj))?;
            conv.extract::<PyReadonlyArray1<'py, f64>>()?
        }
    };
    if v.len() != pattern.inner.nnz() {
        return Err(crate::value_error(format!(
            "values have {} entries, the pattern has {}",
            v.len(),
            pattern.inner.nnz()
        )));
    }
    Ok(v)
}
