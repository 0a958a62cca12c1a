//! `sparsediff._native`: the PyO3 layer of the Python package `sparsediff`.
//!
//! Everything user-facing is re-exported (and documented) by `python/sparsediff/__init__.py`;
//! conversions from arbitrary Python objects (scipy matrices, index arrays, lists) happen
//! in `sparsediff._convert`, so that this layer only sees checked numpy arrays.
//!
//! Errors become the exception classes of `sparsediff._errors`, built from the Rust
//! error's variant, Display message and Debug text (parsed there into fields). Long calls
//! (designs, factorisations, decodes of large matrices) run with the GIL released.

use std::fmt::{Debug, Display};

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

mod bidirectional;
mod color;
mod diagonal;
mod optimize;
mod pattern;
mod plan;
mod solve;

/// Work above this many scalar operations runs with the GIL released (below, releasing and
/// re-acquiring costs more than it frees).
pub(crate) const DETACH_WORK: usize = 20_000;

/// The Python exception of class `class` (a name in `sparsediff._errors`) for `e`.
pub(crate) fn raise<E: Display + Debug + ?Sized>(class: &'static str, e: &E) -> PyErr {
    let message = e.to_string();
    let debug = format!("{e:?}");
    Python::attach(|py| {
        let made = py
            .import("sparsediff._errors")
            .and_then(|m| m.getattr("_make"))
            .and_then(|f| f.call1((class, message, debug)));
        match made {
            Ok(exc) => PyErr::from_value(exc),
            Err(err) => err,
        }
    })
}

pub(crate) fn pattern_err(e: sparsediff_pattern::PatternError) -> PyErr {
    raise("PatternError", &e)
}

pub(crate) fn design_err(e: sparsediff_probe::DesignError) -> PyErr {
    use sparsediff_probe::DesignError;
    match &e {
        DesignError::Pattern(p) => raise("PatternError", p),
        DesignError::Coloring(c) => raise("ColoringError", c),
        _ => raise("DesignError", &e),
    }
}

pub(crate) fn decode_err(e: sparsediff_probe::DecodeError) -> PyErr {
    raise("DecodeError", &e)
}

pub(crate) fn solve_err(e: sparsediff_solve::SolveError) -> PyErr {
    raise("SolveError", &e)
}

/// A `ValueError` with `message`.
pub(crate) fn value_error(message: impl Into<String>) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(message.into())
}

/// `obj` as a float64 matrix: zero-copy for a float64 numpy array of any strides, else
/// through `sparsediff._convert.float_matrix` (which raises TypeError / ValueError for
/// what is not a real 2-D array).
pub(crate) fn float_matrix<'py>(
    obj: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<PyReadonlyArray2<'py, f64>> {
    if let Ok(a) = obj.extract::<PyReadonlyArray2<'py, f64>>() {
        return Ok(a);
    }
    let py = obj.py();
    let converted = py
        .import("sparsediff._convert")?
        .getattr("float_matrix")?
        .call1((obj, what))?;
    converted.extract::<PyReadonlyArray2<'py, f64>>()
}

/// `obj` as a float64 vector (as [`float_matrix`]).
pub(crate) fn float_vector<'py>(
    obj: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<PyReadonlyArray1<'py, f64>> {
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'py, f64>>() {
        return Ok(a);
    }
    let py = obj.py();
    let converted = py
        .import("sparsediff._convert")?
        .getattr("float_vector")?
        .call1((obj, what))?;
    converted.extract::<PyReadonlyArray1<'py, f64>>()
}

/// A faer view of a numpy matrix (any strides, no copy).
pub(crate) fn mat_ref<'a>(a: &'a PyReadonlyArray2<'_, f64>) -> faer::MatRef<'a, f64> {
    let v = a.as_array();
    let (m, n) = v.dim();
    let s = v.strides();
    // SAFETY: the pointer and strides describe the readonly-borrowed array `a`, which
    // outlives the view ('a); ndarray's strides are in elements, as faer's.
    unsafe { faer::MatRef::from_raw_parts(v.as_ptr(), m, n, s[0], s[1]) }
}

/// A numpy-owned array of `v` (rust-numpy's `from_vec` makes arrays whose base is a Rust
/// container, on which numpy refuses `flags.writeable = True`, which scipy's fancy
/// indexing sets).
pub(crate) fn array_from_vec<T: numpy::Element>(
    py: Python<'_>,
    v: Vec<T>,
) -> Bound<'_, PyArray1<T>> {
    PyArray1::from_slice(py, &v)
}

/// [`array_from_vec`] of an iterator.
pub(crate) fn array_from_iter<T: numpy::Element>(
    py: Python<'_>,
    it: impl IntoIterator<Item = T>,
) -> Bound<'_, PyArray1<T>> {
    array_from_vec(py, it.into_iter().collect())
}

/// A faer matrix as a new C-ordered numpy array.
pub(crate) fn mat_to_numpy<'py>(
    py: Python<'py>,
    m: faer::MatRef<'_, f64>,
) -> Bound<'py, PyArray2<f64>> {
    let (rows, cols) = (m.nrows(), m.ncols());
    let mut data = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        for j in 0..cols {
            data.push(m[(i, j)]);
        }
    }
    crate::array_from_vec(py, data)
        .reshape([rows, cols])
        .expect("rows × cols values")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<pattern::PyPattern>()?;
    m.add_class::<plan::PyPlan>()?;
    m.add_class::<bidirectional::PyBidirectionalPlan>()?;
    m.add_class::<diagonal::PyDiagonalPlan>()?;
    m.add_class::<solve::PyBandLdlt>()?;
    m.add_class::<solve::PySparseLdlt>()?;
    m.add_class::<solve::PySparseCholesky>()?;
    m.add_function(wrap_pyfunction!(plan::design, m)?)?;
    m.add_function(wrap_pyfunction!(bidirectional::design_bidirectional, m)?)?;
    m.add_function(wrap_pyfunction!(diagonal::design_diagonal, m)?)?;
    m.add_function(wrap_pyfunction!(plan::decode_from_samples, m)?)?;
    m.add_function(wrap_pyfunction!(plan::probe_vector, m)?)?;
    m.add_function(wrap_pyfunction!(color::color, m)?)?;
    m.add_function(wrap_pyfunction!(optimize::minimize, m)?)?;
    m.add(
        "DEFAULT_RANK_TOL",
        sparsediff_probe::decode::DEFAULT_RANK_TOL,
    )?;
    Ok(())
}
