//! Factorisations of sparsediff-solve: banded LDLᵀ, sparse LDLᵀ and sparse Cholesky, each
//! analysed once for a pattern and refactorised with new values.

use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use sparsediff_solve::band::{BandLdlt, BandLdltParams, BandSymbolic};
use sparsediff_solve::sparse::{SparseCholesky, SparseLdlt, SparseLdltParams, SparseSymbolic};
use sparsediff_solve::{Inertia, SolveError};

use crate::pattern::{PyPattern, to_pattern, values_on};
use crate::{DETACH_WORK, mat_ref, solve_err};

/// A right-hand side: a vector or a matrix (columns), copied for the in-place solve.
enum Rhs {
    Vector(Vec<f64>),
    Matrix(faer::Mat<f64>),
}

fn rhs(obj: &Bound<'_, PyAny>, n: usize) -> PyResult<Rhs> {
    if let Ok(v) = obj.extract::<PyReadonlyArray1<'_, f64>>() {
        return check_rows(Rhs::Vector(v.as_array().to_vec()), n);
    }
    if let Ok(m) = obj.extract::<PyReadonlyArray2<'_, f64>>() {
        return check_rows(Rhs::Matrix(mat_ref(&m).to_owned()), n);
    }
    let py = obj.py();
    let arr = py
        .import("sparsediff._convert")?
        .getattr("float_array")?
        .call1((obj, "b"))?;
    if let Ok(v) = arr.extract::<PyReadonlyArray1<'_, f64>>() {
        return check_rows(Rhs::Vector(v.as_array().to_vec()), n);
    }
    let m = arr.extract::<PyReadonlyArray2<'_, f64>>()?;
    check_rows(Rhs::Matrix(mat_ref(&m).to_owned()), n)
}

fn check_rows(r: Rhs, n: usize) -> PyResult<Rhs> {
    let rows = match &r {
        Rhs::Vector(v) => v.len(),
        Rhs::Matrix(m) => m.nrows(),
    };
    if rows != n {
        return Err(solve_err(SolveError::LengthMismatch {
            what: "right-hand side",
            got: rows,
            expected: n,
        }));
    }
    Ok(r)
}

fn rhs_out<'py>(py: Python<'py>, r: Rhs) -> Bound<'py, PyAny> {
    match r {
        Rhs::Vector(v) => crate::array_from_vec(py, v).into_any(),
        Rhs::Matrix(m) => crate::mat_to_numpy(py, m.as_ref()).into_any(),
    }
}

fn inertia_tuple(i: Inertia) -> (usize, usize, usize) {
    (i.positive, i.negative, i.zero)
}

/// One interface over the three factorisations.
trait Factor: Send + Sized {
    fn build(
        p: &sparsediff_pattern::Pattern,
        beta: Option<usize>,
        pivot_tolerance: f64,
    ) -> PyResult<Self>;
    fn beta(&self) -> Option<usize> {
        None
    }
    fn dim(&self) -> usize;
    fn factorize(&mut self, values: &[f64], shift: f64) -> Result<Option<Inertia>, SolveError>;
    fn solve_vec(&mut self, b: &mut [f64]) -> Result<(), SolveError>;
    fn solve_mat(&mut self, b: faer::MatMut<'_, f64>) -> Result<(), SolveError>;
}

impl Factor for BandLdlt {
    fn build(
        p: &sparsediff_pattern::Pattern,
        beta: Option<usize>,
        pivot_tolerance: f64,
    ) -> PyResult<Self> {
        check_tolerance(pivot_tolerance)?;
        let symbolic = match beta {
            Some(b) => BandSymbolic::from_pattern_with_beta(p, b),
            None => BandSymbolic::from_pattern(p),
        }
        .map_err(solve_err)?;
        Ok(BandLdlt::new(symbolic, BandLdltParams { pivot_tolerance }))
    }
    fn beta(&self) -> Option<usize> {
        Some(self.symbolic().beta())
    }
    fn dim(&self) -> usize {
        self.symbolic().n()
    }
    fn factorize(&mut self, values: &[f64], shift: f64) -> Result<Option<Inertia>, SolveError> {
        BandLdlt::factorize(self, values, shift).map(Some)
    }
    fn solve_vec(&mut self, b: &mut [f64]) -> Result<(), SolveError> {
        self.solve_slice_in_place(b)
    }
    fn solve_mat(&mut self, b: faer::MatMut<'_, f64>) -> Result<(), SolveError> {
        self.solve_in_place(b)
    }
}

impl Factor for SparseLdlt {
    fn build(
        p: &sparsediff_pattern::Pattern,
        beta: Option<usize>,
        pivot_tolerance: f64,
    ) -> PyResult<Self> {
        no_beta(beta)?;
        check_tolerance(pivot_tolerance)?;
        SparseSymbolic::new(p)
            .and_then(|s| SparseLdlt::new(s, SparseLdltParams { pivot_tolerance }))
            .map_err(solve_err)
    }
    fn dim(&self) -> usize {
        self.symbolic().n()
    }
    fn factorize(&mut self, values: &[f64], shift: f64) -> Result<Option<Inertia>, SolveError> {
        SparseLdlt::factorize(self, values, shift).map(Some)
    }
    fn solve_vec(&mut self, b: &mut [f64]) -> Result<(), SolveError> {
        self.solve_slice_in_place(b)
    }
    fn solve_mat(&mut self, b: faer::MatMut<'_, f64>) -> Result<(), SolveError> {
        self.solve_in_place(b)
    }
}

impl Factor for SparseCholesky {
    fn build(
        p: &sparsediff_pattern::Pattern,
        beta: Option<usize>,
        _pivot_tolerance: f64,
    ) -> PyResult<Self> {
        no_beta(beta)?;
        SparseSymbolic::new(p)
            .and_then(SparseCholesky::new)
            .map_err(solve_err)
    }
    fn dim(&self) -> usize {
        self.symbolic().n()
    }
    fn factorize(&mut self, values: &[f64], shift: f64) -> Result<Option<Inertia>, SolveError> {
        self.factorize_shifted(values, shift).map(|()| None)
    }
    fn solve_vec(&mut self, b: &mut [f64]) -> Result<(), SolveError> {
        self.solve_slice_in_place(b)
    }
    fn solve_mat(&mut self, b: faer::MatMut<'_, f64>) -> Result<(), SolveError> {
        self.solve_in_place(b)
    }
}

fn check_tolerance(t: f64) -> PyResult<()> {
    if !(t.is_finite() && t >= 0.0) {
        return Err(solve_err(SolveError::InvalidParameter {
            param: "pivot_tolerance",
            value: t,
            reason: "must be finite and non-negative",
        }));
    }
    Ok(())
}

fn no_beta(beta: Option<usize>) -> PyResult<()> {
    match beta {
        Some(_) => Err(crate::value_error("beta applies to BandLDLT only")),
        None => Ok(()),
    }
}

/// The shared body of the three classes.
struct Core<F: Factor> {
    pattern: PyPattern,
    factor: F,
    inertia: Option<(usize, usize, usize)>,
    factored: bool,
}

impl<F: Factor> Core<F> {
    fn factorize(
        &mut self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        shift: f64,
    ) -> PyResult<Option<(usize, usize, usize)>> {
        self.factored = false;
        self.inertia = None;
        let v = values_on(&self.pattern, values)?;
        let slice = v
            .as_slice()
            .map_err(|_| crate::value_error("values must be a contiguous float64 vector"))?;
        let f = &mut self.factor;
        let result = if slice.len() > DETACH_WORK / 10 {
            py.detach(|| f.factorize(slice, shift))
        } else {
            f.factorize(slice, shift)
        }
        .map_err(solve_err)?;
        self.factored = true;
        self.inertia = result.map(inertia_tuple);
        Ok(self.inertia)
    }

    fn solve<'py>(
        &mut self,
        py: Python<'py>,
        b: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut r = rhs(b, self.factor.dim())?;
        let f = &mut self.factor;
        let big = self.pattern.inner.nnz() > DETACH_WORK;
        let mut run = || match &mut r {
            Rhs::Vector(v) => f.solve_vec(v),
            Rhs::Matrix(m) => f.solve_mat(m.as_mut()),
        };
        if big { py.detach(run) } else { run() }.map_err(solve_err)?;
        Ok(rhs_out(py, r))
    }
}

macro_rules! factor_class {
    ($ty:ident, $pyname:literal, $inner:ty, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(module = "sparsediff._native", name = $pyname)]
        pub struct $ty {
            core: Core<$inner>,
        }

        #[pymethods]
        impl $ty {
            /// Analyses `pattern` (anything `Pattern` accepts) once; `beta` (BandLDLT
            /// only) declares the half-bandwidth, `pivot_tolerance` (LDLᵀ) refuses tiny
            /// pivots relative to the largest diagonal entry.
            #[new]
            #[pyo3(signature = (pattern, *, beta=None, pivot_tolerance=1e-12))]
            fn new(
                py: Python<'_>,
                pattern: &Bound<'_, PyAny>,
                beta: Option<usize>,
                pivot_tolerance: f64,
            ) -> PyResult<Self> {
                let pat = to_pattern(pattern)?;
                let p = pat.inner.clone();
                let factor = py.detach(|| <$inner as Factor>::build(&p, beta, pivot_tolerance))?;
                Ok(Self {
                    core: Core {
                        pattern: pat,
                        factor,
                        inertia: None,
                        factored: false,
                    },
                })
            }

            /// Half-bandwidth β (BandLDLT), else None.
            #[getter]
            fn beta(&self) -> Option<usize> {
                self.core.factor.beta()
            }

            /// Factorises A + shift·I for `values` (entry order of the pattern, or a
            /// matrix on it); returns the inertia (positive, negative, zero) where the
            /// factorisation knows it (None for Cholesky).
            #[pyo3(signature = (values, shift=0.0))]
            fn factorize(
                &mut self,
                py: Python<'_>,
                values: &Bound<'_, PyAny>,
                shift: f64,
            ) -> PyResult<Option<(usize, usize, usize)>> {
                self.core.factorize(py, values, shift)
            }

            /// Solves A·x = b with the current factor (b: a vector or a matrix of
            /// columns); returns x, a new array.
            fn solve<'py>(
                &mut self,
                py: Python<'py>,
                b: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                self.core.solve(py, b)
            }

            /// Inertia (positive, negative, zero) of the last factorisation, or None.
            #[getter]
            fn inertia(&self) -> Option<(usize, usize, usize)> {
                self.core.inertia
            }

            /// Whether the last factorisation succeeded.
            #[getter]
            fn factored(&self) -> bool {
                self.core.factored
            }

            /// Dimension n.
            #[getter]
            fn n(&self) -> usize {
                self.core.factor.dim()
            }

            /// The pattern.
            #[getter]
            fn pattern(&self) -> PyPattern {
                self.core.pattern.clone()
            }
        }
    };
}

factor_class!(
    PyBandLdlt,
    "BandLDLT",
    BandLdlt,
    "Banded LDLᵀ without pivoting (sparsediff-solve): BandLDLT(pattern, beta=None, pivot_tolerance=1e-12). Reads the upper triangle of each row."
);
factor_class!(
    PySparseLdlt,
    "SparseLDLT",
    SparseLdlt,
    "Sparse LDLᵀ without pivoting, AMD ordering (faer): SparseLDLT(pattern, pivot_tolerance=1e-12)."
);
factor_class!(
    PySparseCholesky,
    "SparseCholesky",
    SparseCholesky,
    "Sparse Cholesky, AMD ordering (faer): SparseCholesky(pattern). Raises SolveError if not positive definite."
);
