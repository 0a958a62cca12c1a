//! `design(...)` and `Plan`: probe designers of sparsediff-probe, their seeds, decoders,
//! verification and saved form.

use std::sync::Arc;

use numpy::{PyArray1, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use sparsediff_coloring::{ColoringParams, Order, OrderChoice};
use sparsediff_pattern::{NEUTRAL, Seeds};
use sparsediff_probe::decode::RowLeastSquaresDecoder;
use sparsediff_probe::design::{AutoDesigner, Designed, Outcome, default_orders};
use sparsediff_probe::saved::SavedPlan;
use sparsediff_probe::{
    ColoredDesigner, Decoder, Decompression, Distribution, IdentityDesigner, MatrixKind,
    Orientation, ProbeDesigner, ProbePlan, RandomDesigner, Recovery, RollDesigner, StencilDesigner,
    SymmetricRandomDesigner,
};

use crate::pattern::{PyPattern, to_pattern, values_on};
use crate::{DETACH_WORK, decode_err, design_err, float_matrix, mat_ref, mat_to_numpy, raise};

/// The designer names `design` accepts.
pub(crate) const METHODS: [&str; 12] = [
    "auto",
    "identity",
    "roll",
    "cpr",
    "cpr-row",
    "d2",
    "star",
    "acyclic",
    "random",
    "symmetric-random",
    "stencil-direct",
    "stencil-substitution",
];

/// A probe plan: the seed matrix S to multiply by (n×p, one column per product) and the
/// prepared decoder that turns the products B = A·S (or Aᵀ·S for row plans) back into the
/// matrix.
#[pyclass(module = "sparsediff._native", name = "Plan", frozen)]
pub struct PyPlan {
    pub(crate) plan: Arc<ProbePlan>,
    pattern: Py<PyPattern>,
    /// CSR index arrays of the full pattern, built once (shared by every decoded matrix).
    indptr: Py<PyAny>,
    indices: Py<PyAny>,
    /// A csr_array on the full pattern, built once by scipy's constructor: `decode` copies
    /// its attributes and swaps in the new values (`_convert.csr_like`), 0.2 µs instead of
    /// the constructor's 14 µs. Never handed out. The lock is never held across a Python
    /// call.
    template: std::sync::Mutex<Option<Py<PyAny>>>,
    designed: Option<DesignInfo>,
}

#[derive(Clone)]
struct DesignInfo {
    seconds: f64,
    candidates: Vec<(String, Option<usize>, String, f64)>,
}

impl DesignInfo {
    fn of(d: &Designed) -> Self {
        Self {
            seconds: d.time.as_secs_f64(),
            candidates: d
                .candidates
                .iter()
                .map(|c| {
                    (
                        c.designer.to_string(),
                        c.outcome.probes(),
                        match &c.outcome {
                            Outcome::Designed { .. } => "designed".to_string(),
                            other => other.to_string(),
                        },
                        c.time.as_secs_f64(),
                    )
                })
                .collect(),
        }
    }
}

/// CSR index arrays for scipy: int32 when they fit (scipy's own choice, so that it does
/// not copy them), else int64.
pub(crate) fn index_array<'py>(py: Python<'py>, v: &[usize], fits32: bool) -> Bound<'py, PyAny> {
    if fits32 {
        crate::array_from_iter(py, v.iter().map(|&x| x as i32)).into_any()
    } else {
        crate::array_from_iter(py, v.iter().map(|&x| x as i64)).into_any()
    }
}

pub(crate) fn fits32(p: &sparsediff_pattern::Pattern) -> bool {
    p.nnz() < i32::MAX as usize && p.nrows() < i32::MAX as usize && p.ncols() < i32::MAX as usize
}

impl PyPlan {
    pub(crate) fn wrap(
        py: Python<'_>,
        plan: ProbePlan,
        pattern: Option<PyPattern>,
        designed: Option<&Designed>,
    ) -> PyResult<Self> {
        let pattern = match pattern {
            Some(p) if *p.inner == *plan.pattern() => p,
            _ => PyPattern::new(plan.pattern().clone()),
        };
        let f = fits32(plan.pattern());
        // Shared by every matrix `decode` returns: read-only, so that an in-place change of
        // one matrix's structure (eliminate_zeros) cannot corrupt the plan's.
        let indptr = index_array(py, plan.pattern().row_ptr(), f);
        let indices = index_array(py, plan.pattern().col_idx(), f);
        for a in [&indptr, &indices] {
            a.getattr("flags")?.setattr("writeable", false)?;
        }
        let (indptr, indices) = (indptr.unbind(), indices.unbind());
        Ok(Self {
            plan: Arc::new(plan),
            pattern: Py::new(py, pattern)?,
            indptr,
            indices,
            template: std::sync::Mutex::new(None),
            designed: designed.map(DesignInfo::of),
        })
    }

    /// Decodes into a new numpy vector of values (entry order).
    fn decode_into<'py>(
        &self,
        py: Python<'py>,
        products: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let b = float_matrix(products, "products")?;
        let nnz = self.plan.pattern().nnz();
        let out = PyArray1::<f64>::zeros(py, nnz, false);
        {
            let mut guard = out.readwrite();
            let values = guard.as_slice_mut().expect("a new contiguous array");
            let view = mat_ref(&b);
            let plan = &*self.plan;
            let work = b.len() + nnz;
            if work > DETACH_WORK {
                py.detach(|| plan.decode(view, values))
            } else {
                plan.decode(view, values)
            }
            .map_err(decode_err)?;
        }
        Ok(out)
    }
}

/// A seed matrix as a dense float64 array (one column per probe).
pub(crate) fn seeds_array<'py>(py: Python<'py>, s: &Seeds) -> Bound<'py, numpy::PyArray2<f64>> {
    match s {
        Seeds::Groups { group, num_probes } => {
            let n = group.len();
            let p = *num_probes;
            let out = numpy::PyArray2::<f64>::zeros(py, [n, p], false);
            {
                let mut g = out.readwrite();
                let data = g.as_slice_mut().expect("new C array");
                for (j, &c) in group.iter().enumerate() {
                    if c != NEUTRAL {
                        data[j * p + c] = 1.0;
                    }
                }
            }
            out
        }
        _ => mat_to_numpy(py, s.to_dense().as_ref()),
    }
}

/// The probe of every column (row) of group seeds, -1 for the neutral group; None for
/// dense seeds.
pub(crate) fn groups_array<'py>(py: Python<'py>, s: &Seeds) -> Option<Bound<'py, PyArray1<i64>>> {
    match s {
        Seeds::Groups { group, .. } => Some(crate::array_from_iter(
            py,
            group
                .iter()
                .map(|&c| if c == NEUTRAL { -1 } else { c as i64 }),
        )),
        _ => None,
    }
}

fn kind_name(k: MatrixKind) -> &'static str {
    match k {
        MatrixKind::Symmetric => "symmetric",
        MatrixKind::General => "general",
    }
}

fn recovery_name(r: Recovery) -> String {
    match r {
        Recovery::Columns => "columns".into(),
        Recovery::Rows => "rows".into(),
        Recovery::Star => "star".into(),
        Recovery::Substitution => "substitution".into(),
        Recovery::Roll { stride } => format!("roll(stride={stride})"),
        Recovery::RowLeastSquares => "row-least-squares".into(),
        Recovery::SymmetricLeastSquares => "symmetric-least-squares".into(),
        _ => "custom".into(),
    }
}

/// The triangle argument: None / "full", "lower", "upper".
fn triangle(t: Option<&str>) -> PyResult<Option<sparsediff_probe::Triangle>> {
    use sparsediff_probe::Triangle;
    match t.map(str::to_ascii_lowercase).as_deref() {
        None | Some("full") => Ok(None),
        Some("lower") => Ok(Some(Triangle::Lower)),
        Some("upper") => Ok(Some(Triangle::Upper)),
        Some(other) => Err(crate::value_error(format!(
            "triangle must be None, 'full', 'lower' or 'upper', not {other:?}"
        ))),
    }
}

/// csr_array from values and index arrays (through `_convert.csr`).
fn csr<'py>(
    py: Python<'py>,
    values: Bound<'py, PyAny>,
    indices: Bound<'py, PyAny>,
    indptr: Bound<'py, PyAny>,
    shape: (usize, usize),
) -> PyResult<Bound<'py, PyAny>> {
    py.import("sparsediff._convert")?
        .getattr("csr")?
        .call1((values, indices, indptr, shape))
}

/// The matrix of `values` (entry order of `plan`'s pattern), full or one triangle.
fn matrix<'py>(
    py: Python<'py>,
    slf: &PyPlan,
    values: Bound<'py, PyArray1<f64>>,
    tri: Option<sparsediff_probe::Triangle>,
) -> PyResult<Bound<'py, PyAny>> {
    let p = slf.plan.pattern();
    let shape = (p.nrows(), p.ncols());
    match tri {
        None => {
            let conv = py.import("sparsediff._convert")?;
            let cached = slf
                .template
                .lock()
                .map_err(|_| crate::value_error("poisoned template lock"))?
                .as_ref()
                .map(|t| t.clone_ref(py));
            let template = match cached {
                Some(t) => t.into_bound(py),
                None => {
                    let t = conv.getattr("csr_template")?.call1((
                        slf.indices.bind(py),
                        slf.indptr.bind(py),
                        shape,
                    ))?;
                    let mut slot = slf
                        .template
                        .lock()
                        .map_err(|_| crate::value_error("poisoned template lock"))?;
                    if slot.is_none() {
                        *slot = Some(t.clone().unbind());
                    }
                    t
                }
            };
            conv.getattr("csr_like")?.call1((template, values))
        }
        Some(t) => {
            let v = values.readonly();
            let m = slf
                .plan
                .to_sprs(v.as_slice().expect("contiguous"), t)
                .map_err(decode_err)?;
            let f = fits32(p);
            let (ptr, idx, data) = m.into_raw_storage();
            csr(
                py,
                crate::array_from_vec(py, data).into_any(),
                index_array(py, &idx, f),
                index_array(py, &ptr, f),
                shape,
            )
        }
    }
}

#[pymethods]
impl PyPlan {
    /// The seed matrix S as a dense float64 array (n×p for column plans, m×p for row
    /// plans): multiply by it to get the products.
    #[getter]
    fn seeds<'py>(&self, py: Python<'py>) -> Bound<'py, numpy::PyArray2<f64>> {
        seeds_array(py, self.plan.seeds())
    }

    /// For plans made from a colouring: the probe (colour) of every column (row for row
    /// plans), -1 for columns in no probe; None for dense seeds.
    #[getter]
    fn groups<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<i64>>> {
        groups_array(py, self.plan.seeds())
    }

    /// Number of products p.
    #[getter]
    fn num_probes(&self) -> usize {
        self.plan.num_probes()
    }

    /// A lower bound on the probes of any plan of this designer's family on the pattern.
    #[getter]
    fn lower_bound(&self) -> usize {
        self.plan.lower_bound()
    }

    /// Colours, for plans made from a colouring (else None).
    #[getter]
    fn colors(&self) -> Option<usize> {
        self.plan.colors()
    }

    /// Name of the designer that made the plan.
    #[getter]
    fn designer(&self) -> String {
        self.plan.designer().to_string()
    }

    /// "symmetric" or "general".
    #[getter]
    fn kind(&self) -> &'static str {
        kind_name(self.plan.kind())
    }

    /// "columns" (products A·S: JVPs, HVPs) or "rows" (products Aᵀ·S: VJPs).
    #[getter]
    fn orientation(&self) -> &'static str {
        match self.plan.orientation() {
            Orientation::Columns => "columns",
            Orientation::Rows => "rows",
        }
    }

    /// How products are decoded ("star", "substitution", "roll(stride=3)", ...).
    #[getter]
    fn recovery(&self) -> String {
        recovery_name(self.plan.recovery())
    }

    /// The shape (rows, p) the products must have.
    #[getter]
    fn products_shape(&self) -> (usize, usize) {
        self.plan.products_shape()
    }

    /// The pattern the plan recovers.
    #[getter]
    fn pattern(&self, py: Python<'_>) -> Py<PyPattern> {
        self.pattern.clone_ref(py)
    }

    /// For plans from samples: the rows that cannot be recovered (int64), else empty.
    #[getter]
    fn unrecoverable_rows<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let rows: Vec<i64> = match self.plan.decoder() {
            Decoder::RowLeastSquares(d) => {
                d.unrecoverable_rows().iter().map(|&r| r as i64).collect()
            }
            _ => Vec::new(),
        };
        crate::array_from_vec(py, rows)
    }

    /// A dict: designer, kind, orientation, recovery, num_probes, lower_bound, colors,
    /// design_seconds and the candidates tried (designer, probes, outcome, seconds).
    #[getter]
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("designer", self.plan.designer())?;
        d.set_item("kind", kind_name(self.plan.kind()))?;
        d.set_item("orientation", self.orientation())?;
        d.set_item("recovery", self.recovery())?;
        d.set_item("num_probes", self.plan.num_probes())?;
        d.set_item("lower_bound", self.plan.lower_bound())?;
        d.set_item("colors", self.plan.colors())?;
        let (m, n) = self.plan.pattern().shape();
        d.set_item("shape", (m, n))?;
        d.set_item("nnz", self.plan.pattern().nnz())?;
        if let Some(info) = &self.designed {
            d.set_item("design_seconds", info.seconds)?;
            let list = PyList::empty(py);
            for (name, probes, outcome, seconds) in &info.candidates {
                let c = PyDict::new(py);
                c.set_item("designer", name)?;
                c.set_item("probes", *probes)?;
                c.set_item("outcome", outcome)?;
                c.set_item("seconds", *seconds)?;
                list.append(c)?;
            }
            d.set_item("candidates", list)?;
        }
        Ok(d)
    }

    /// Decodes the products (shape ``products_shape``, any float array) into a
    /// ``scipy.sparse.csr_array`` on the pattern; ``triangle="lower"``/``"upper"`` keeps
    /// one triangle. Raises DecodeError for a wrong shape or a non-finite product.
    #[pyo3(signature = (products, triangle=None))]
    fn decode<'py>(
        &self,
        py: Python<'py>,
        products: &Bound<'py, PyAny>,
        triangle: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let tri = self::triangle(triangle)?;
        let values = self.decode_into(py, products)?;
        matrix(py, self, values, tri)
    }

    /// Decodes into the values in the pattern's entry order (a new float64 vector, or
    /// written into ``out``, a contiguous float64 vector of length nnz): the fast path.
    #[pyo3(signature = (products, out=None))]
    fn decode_values<'py>(
        &self,
        py: Python<'py>,
        products: &Bound<'py, PyAny>,
        out: Option<&Bound<'py, PyArray1<f64>>>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let Some(out) = out else {
            return self.decode_into(py, products);
        };
        let b = float_matrix(products, "products")?;
        let mut guard = out
            .try_readwrite()
            .map_err(|e| crate::value_error(format!("out: {e}")))?;
        let values = guard
            .as_slice_mut()
            .map_err(|_| crate::value_error("out must be a contiguous float64 vector"))?;
        let view = mat_ref(&b);
        let plan = &*self.plan;
        if b.len() + values.len() > DETACH_WORK {
            py.detach(|| plan.decode(view, values))
        } else {
            plan.decode(view, values)
        }
        .map_err(decode_err)?;
        drop(guard);
        Ok(out.clone())
    }

    /// The exact products A·S (Aᵀ·S for row plans) of the matrix with these values (entry
    /// order, or a matrix on the pattern): for tests and for callers who have the matrix.
    fn exact_products<'py>(
        &self,
        py: Python<'py>,
        values: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, numpy::PyArray2<f64>>> {
        let pattern = self.pattern.bind(py).get().clone();
        let v = values_on(&pattern, values)?;
        let slice = v
            .as_slice()
            .map_err(|_| crate::value_error("values must be contiguous"))?;
        let plan = &*self.plan;
        let b = py.detach(|| plan.exact_products(slice));
        Ok(mat_to_numpy(py, b.as_ref()))
    }

    /// Checks decoded values against one extra product: ``az`` = A·z for the probe vector
    /// ``z`` (e.g. ``probe_vector(n, seed)``). ``values`` is a decoded matrix or its values
    /// in entry order. Returns a dict: passed, max_rel_residual, bad_rows, tol.
    #[pyo3(signature = (values, z, az, tol=1e-8))]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        values: &Bound<'py, PyAny>,
        z: &Bound<'py, PyAny>,
        az: &Bound<'py, PyAny>,
        tol: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let pattern = self.pattern.bind(py).get().clone();
        let v = values_on(&pattern, values)?;
        let z = crate::float_vector(z, "z")?;
        let az = crate::float_vector(az, "az")?;
        let (vs, zs, azs) = (
            v.as_slice()
                .map_err(|_| crate::value_error("values must be contiguous"))?,
            z.as_slice()
                .map_err(|_| crate::value_error("z must be contiguous"))?,
            az.as_slice()
                .map_err(|_| crate::value_error("az must be contiguous"))?,
        );
        let report = sparsediff_probe::verify(self.plan.pattern(), vs, zs, azs, tol)
            .map_err(|e| raise("VerifyError", &e))?;
        let d = PyDict::new(py);
        d.set_item("passed", report.passed())?;
        d.set_item("max_rel_residual", report.max_rel_residual)?;
        d.set_item(
            "bad_rows",
            crate::array_from_iter(py, report.bad_rows.iter().map(|&r| r as i64)),
        )?;
        d.set_item("tol", report.tol)?;
        Ok(d)
    }

    /// The plan as JSON text (the probe crate's saved-plan format, version 1).
    fn to_json(&self) -> PyResult<String> {
        SavedPlan::from_plan(&self.plan)
            .and_then(|s| s.to_json())
            .map_err(|e| raise("SavedPlanError", &e))
    }

    /// A plan from JSON text; everything is re-checked (SavedPlanError if refused).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        let plan = py
            .detach(|| SavedPlan::from_json(text).and_then(|s| s.to_plan()))
            .map_err(|e| raise("SavedPlanError", &e))?;
        Self::wrap(py, plan, None, None)
    }

    /// Writes the plan to `path` (JSON, see ``to_json``).
    fn save(&self, path: std::path::PathBuf) -> PyResult<()> {
        let text = self.to_json()?;
        std::fs::write(&path, text).map_err(|e| {
            pyo3::exceptions::PyOSError::new_err(format!("cannot write {}: {e}", path.display()))
        })
    }

    /// Reads a plan written by ``save``.
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            pyo3::exceptions::PyOSError::new_err(format!("cannot read {}: {e}", path.display()))
        })?;
        Self::from_json(py, &text)
    }

    /// A plan for samples someone else chose: any seed matrix S (n×p), decoded by per-row
    /// least squares; rows that S cannot recover are listed by ``unrecoverable_rows`` (and
    /// ``decode`` raises DecodeError for them; see ``decode_from_samples``).
    #[staticmethod]
    #[pyo3(signature = (pattern, seeds, tol=sparsediff_probe::decode::DEFAULT_RANK_TOL, kind="column"))]
    fn from_samples(
        py: Python<'_>,
        pattern: &Bound<'_, PyAny>,
        seeds: &Bound<'_, PyAny>,
        tol: f64,
        kind: &str,
    ) -> PyResult<Self> {
        let pat = to_pattern(pattern)?;
        let (k, _) = parse_kind(kind)?;
        let s = float_matrix(seeds, "seeds")?;
        let view = mat_ref(&s);
        let p = pat.inner.clone();
        let plan = py
            .detach(|| ProbePlan::from_samples(&p, k, view.to_owned(), tol))
            .map_err(design_err)?;
        Self::wrap(py, plan, Some(pat), None)
    }

    /// Pickling: through the saved-plan JSON (custom-decoder plans cannot be pickled).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let text = slf.get().to_json()?;
        Ok((slf.get_type().getattr("from_json")?, (text,)))
    }

    fn __repr__(&self) -> String {
        let (m, n) = self.plan.pattern().shape();
        format!(
            "Plan(designer={:?}, {} probes, lower bound {}, {} {}×{} pattern with {} entries, recovery {})",
            self.plan.designer(),
            self.plan.num_probes(),
            self.plan.lower_bound(),
            kind_name(self.plan.kind()),
            m,
            n,
            self.plan.pattern().nnz(),
            recovery_name(self.plan.recovery())
        )
    }
}

/// (kind, rows?) from "symmetric" | "column" | "general" | "row".
fn parse_kind(kind: &str) -> PyResult<(MatrixKind, bool)> {
    match kind.to_ascii_lowercase().as_str() {
        "symmetric" | "hessian" => Ok((MatrixKind::Symmetric, false)),
        "column" | "columns" | "general" | "jacobian" => Ok((MatrixKind::General, false)),
        "row" | "rows" => Ok((MatrixKind::General, true)),
        other => Err(crate::value_error(format!(
            "kind must be 'symmetric', 'column' or 'row', not {other:?}"
        ))),
    }
}

/// The colouring parameters of an order name (None: the designer's own default).
pub(crate) fn parse_order(order: Option<&str>) -> PyResult<Option<ColoringParams>> {
    let choice = match order {
        None => return Ok(None),
        Some(s) if s.eq_ignore_ascii_case("best") => OrderChoice::best(),
        Some(s) => s
            .parse::<Order>()
            .map(OrderChoice::Single)
            .map_err(|e| raise("ValueError", &e))?,
    };
    Ok(Some(ColoringParams::with_order(choice)))
}

/// A colouring designer with the caller's parameters, if any.
fn colored(d: ColoredDesigner, params: &Option<ColoringParams>) -> ColoredDesigner {
    match params {
        Some(p) => d.with_params(p.clone()),
        None => d,
    }
}

fn parse_distribution(d: &str) -> PyResult<Distribution> {
    match d.to_ascii_lowercase().as_str() {
        "gaussian" | "normal" => Ok(Distribution::Gaussian),
        "rademacher" => Ok(Distribution::Rademacher),
        other => Err(crate::value_error(format!(
            "distribution must be 'gaussian' or 'rademacher', not {other:?}"
        ))),
    }
}

/// design(pattern, kind="symmetric", method="auto", *, order=None, seed=0,
/// oversampling=None, probes=None, distribution="gaussian") -> Plan
#[pyfunction]
#[pyo3(signature = (pattern, kind="symmetric", method="auto", *, order=None, seed=0, oversampling=None, probes=None, distribution="gaussian"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn design(
    py: Python<'_>,
    pattern: &Bound<'_, PyAny>,
    kind: &str,
    method: &str,
    order: Option<&str>,
    seed: u64,
    oversampling: Option<usize>,
    probes: Option<usize>,
    distribution: &str,
) -> PyResult<PyPlan> {
    let pat = to_pattern(pattern)?;
    let (k, rows) = parse_kind(kind)?;
    let params = parse_order(order)?;
    let dist = parse_distribution(distribution)?;
    let geometry = pat
        .geometry
        .or_else(|| sparsediff_pattern::Geometry::infer(&pat.inner));
    let m = method.to_ascii_lowercase();
    let designer: Box<dyn ProbeDesigner + Send + Sync> = match (m.as_str(), rows) {
        ("auto", false) => Box::new(AutoDesigner {
            coloring: params
                .clone()
                .unwrap_or_else(|| ColoringParams::with_order(default_orders())),
            geometry,
        }),
        ("auto" | "cpr" | "cpr-row", true) => {
            Box::new(colored(ColoredDesigner::cpr_rows(), &params))
        }
        (_, true) => {
            return Err(crate::value_error(format!(
                "row plans (kind='row') are made by method 'cpr' (or 'auto'), not {method:?}"
            )));
        }
        ("identity", _) => Box::new(IdentityDesigner),
        ("roll", _) => Box::new(RollDesigner),
        ("cpr", _) => Box::new(colored(ColoredDesigner::cpr(), &params)),
        ("cpr-row", _) => Box::new(colored(ColoredDesigner::cpr_rows(), &params)),
        ("d2" | "distance2", _) => Box::new(colored(ColoredDesigner::distance2(), &params)),
        // as `sparsediff compare` runs it (AutoDesigner gives the star colouring the geometry)
        ("star", _) => Box::new(colored(ColoredDesigner::star(), &params)),
        ("acyclic", _) => Box::new(colored(ColoredDesigner::acyclic(), &params)),
        ("random", _) => {
            let mut d = RandomDesigner::new().seed(seed).distribution(dist);
            if let Some(o) = oversampling {
                d = d.oversampling(o);
            }
            if let Some(p) = probes {
                d = d.probes(p);
            }
            Box::new(d)
        }
        ("symmetric-random" | "half-sample", _) => {
            let mut d = SymmetricRandomDesigner::new().seed(seed).distribution(dist);
            if let Some(o) = oversampling {
                d = d.oversampling(o);
            }
            if let Some(p) = probes {
                d = d.probes(p);
            }
            Box::new(d)
        }
        ("stencil-direct" | "stencil-substitution", _) => {
            let Some(g) = geometry else {
                return Err(raise(
                    "DesignError",
                    &format!(
                        "designer `{m}` needs a band or grid geometry: generate the pattern from a spec (band:, block_band:, grid2d:, grid3d:) or give an exact full band / block band / standard stencil"
                    ),
                ));
            };
            let dec = if m == "stencil-direct" {
                Decompression::Direct
            } else {
                Decompression::Substitution
            };
            Box::new(StencilDesigner::new(g, dec))
        }
        _ => {
            return Err(crate::value_error(format!(
                "unknown method {method:?}; known: {}",
                METHODS.join(", ")
            )));
        }
    };
    let p = pat.inner.clone();
    let designed = py
        .detach(|| designer.design_report(&p, k))
        .map_err(design_err)?;
    let plan = designed.plan.clone();
    PyPlan::wrap(py, plan, Some(pat), Some(&designed))
}

/// Values, unrecoverable rows and the pattern of a decode from samples.
type SampleDecode<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i64>>,
    Py<PyPattern>,
);

/// decode_from_samples(pattern, seeds, products, tol) -> (values, unrecoverable rows):
/// per-row least squares for any seed matrix S (n×p) and products B = A·S (m×p); rows
/// whose sample matrix is rank deficient get NaN values and are listed.
#[pyfunction]
#[pyo3(signature = (pattern, seeds, products, tol=sparsediff_probe::decode::DEFAULT_RANK_TOL))]
pub(crate) fn decode_from_samples<'py>(
    py: Python<'py>,
    pattern: &Bound<'py, PyAny>,
    seeds: &Bound<'py, PyAny>,
    products: &Bound<'py, PyAny>,
    tol: f64,
) -> PyResult<SampleDecode<'py>> {
    let pat = to_pattern(pattern)?;
    let s = float_matrix(seeds, "seeds")?;
    let b = float_matrix(products, "products")?;
    let (sv, bv) = (mat_ref(&s), mat_ref(&b));
    let p = pat.inner.clone();
    let out = PyArray1::<f64>::zeros(py, p.nnz(), false);
    let rows = {
        let mut guard = out.readwrite();
        let values = guard.as_slice_mut().expect("new contiguous array");
        py.detach(|| -> Result<Vec<usize>, PyErr> {
            let d = RowLeastSquaresDecoder::from_samples(&p, sv, tol).map_err(design_err)?;
            let bad = d.decode_partial(bv, values).map_err(decode_err)?;
            Ok(bad.to_vec())
        })?
    };
    let rows = crate::array_from_iter(py, rows.into_iter().map(|r| r as i64));
    Ok((out, rows, Py::new(py, pat)?))
}

/// A seeded random probe vector of length n (for ``Plan.verify``).
#[pyfunction]
#[pyo3(signature = (n, seed=1, distribution="gaussian"))]
pub(crate) fn probe_vector<'py>(
    py: Python<'py>,
    n: usize,
    seed: u64,
    distribution: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let d = parse_distribution(distribution)?;
    Ok(crate::array_from_vec(
        py,
        sparsediff_probe::probe_vector(n, d, seed),
    ))
}
