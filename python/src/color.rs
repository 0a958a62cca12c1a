//! `color(...)`: the colourings of sparsediff-coloring, as `sparsediff color` runs them.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use sparsediff_coloring::{ColoringParams, Method, NEUTRAL, Order, OrderChoice, Problem};

use crate::pattern::to_pattern;
use crate::raise;

/// color(pattern, problem=None, method=None, order="natural", *, postprocess=False,
/// recolor=0, symmetrize=False) -> dict with colors (int64, -1 for the neutral colour),
/// num_colors, lower_bound, valid, violation, problem, method, order, chosen_order, seconds.
#[pyfunction]
#[pyo3(signature = (pattern, problem=None, method=None, order="natural", *, postprocess=false, recolor=0, symmetrize=false))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn color<'py>(
    py: Python<'py>,
    pattern: &Bound<'py, PyAny>,
    problem: Option<&str>,
    method: Option<&str>,
    order: &str,
    postprocess: bool,
    recolor: usize,
    symmetrize: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let pat = to_pattern(pattern)?;
    let mut p = (*pat.inner).clone();
    let problem = match problem {
        Some(s) => s.parse::<Problem>().map_err(|e| raise("ValueError", &e))?,
        None if p.is_symmetric() => Problem::Symmetric,
        None => Problem::Column,
    };
    let mut symmetrized = false;
    if problem == Problem::Symmetric && symmetrize && !p.is_symmetric() {
        p = p.symmetrize().map_err(crate::pattern_err)?;
        symmetrized = true;
    }
    let method = match method {
        Some(s) => s.parse::<Method>().map_err(|e| raise("ValueError", &e))?,
        None if problem == Problem::Symmetric => Method::Star,
        None => Method::Cpr,
    };
    let order = if order.eq_ignore_ascii_case("best") {
        OrderChoice::best()
    } else {
        OrderChoice::Single(
            order
                .parse::<Order>()
                .map_err(|e| raise("ValueError", &e))?,
        )
    };
    let params = ColoringParams {
        order: order.clone(),
        postprocess,
        recolor_passes: recolor,
        stop_at: None,
    };
    let (coloring, seconds, lb, verdict) = py
        .detach(|| {
            let start = std::time::Instant::now();
            let c = sparsediff_coloring::color(&p, problem, method, &params)?;
            let seconds = start.elapsed().as_secs_f64();
            let lb = sparsediff_coloring::lower_bound(&p, problem, method)?;
            let verdict = c.check(&p);
            Ok::<_, sparsediff_coloring::ColoringError>((c, seconds, lb, verdict))
        })
        .map_err(|e| raise("ColoringError", &e))?;
    let d = PyDict::new(py);
    d.set_item(
        "colors",
        crate::array_from_iter(
            py,
            coloring
                .colors()
                .iter()
                .map(|&c| if c == NEUTRAL { -1 } else { c as i64 }),
        ),
    )?;
    d.set_item("num_colors", coloring.num_colors())?;
    d.set_item("lower_bound", lb)?;
    d.set_item("valid", verdict.is_ok())?;
    d.set_item("violation", verdict.err().map(|v| v.to_string()))?;
    d.set_item("problem", problem.to_string())?;
    d.set_item("method", method.to_string())?;
    d.set_item(
        "order",
        match &order {
            OrderChoice::Single(o) => o.to_string(),
            OrderChoice::Best(_) => "best".to_string(),
        },
    )?;
    d.set_item("chosen_order", coloring.order().to_string())?;
    d.set_item("neutral", coloring.num_neutral())?;
    d.set_item("symmetrized", symmetrized)?;
    d.set_item("seconds", seconds)?;
    Ok(d)
}
