//! Global patterns: the union of the patterns of every control-flow path, found by running
//! the function once per path with forced comparison outcomes (a depth-first search over
//! the decision tree of its comparisons). See the [module documentation](super).

use sparsediff_pattern::Pattern;

use super::tracer::{Recording, Steering};
use super::{TraceError, TraceInfo, Tracer, check_point, run, sets, trace_handle};

/// The default budget of control-flow paths of [`hessian_pattern_global`] and
/// [`jacobian_pattern_global`]. Every two-way comparison on a path adds at least one path,
/// and independent ones multiply: 256 paths are 8 independent branches, or a chain of up
/// to 255 comparisons (`if a {..} else if b {..} ...`) whose other sides compare nothing.
pub const DEFAULT_MAX_PATHS: usize = 256;

/// One comparison on the current path of the search.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// The answer the current path takes.
    answer: u8,
    /// How many answers the comparison has (2 or 3).
    arity: u8,
    /// Answers already explored below this node (bit k: answer k).
    tried: u8,
}

impl Node {
    /// Moves to the next unexplored answer; false when every answer was explored.
    fn advance(&mut self) -> bool {
        match (0..self.arity).find(|a| self.tried & (1 << a) == 0) {
            Some(a) => {
                self.answer = a;
                self.tried |= 1 << a;
                true
            }
            None => false,
        }
    }
}

/// What a path's extraction gives: the pattern, second-order records, outputs.
type Extracted = (Pattern, usize, usize);

/// Runs `f` once per control-flow path, depth first (path 0 follows the branches taken at
/// x), and unions the patterns `extract` makes of each run.
fn explore<R>(
    x: &[f64],
    hessian: bool,
    max_paths: usize,
    f: impl Fn(&[Tracer]) -> R,
    mut extract: impl FnMut(&Recording, R) -> Result<Extracted, TraceError>,
) -> Result<(Pattern, TraceInfo), TraceError> {
    check_point(x)?;
    if max_paths == 0 {
        return Err(TraceError::TooManyPaths {
            explored: 0,
            limit: 0,
        });
    }
    let mut stack: Vec<Node> = Vec::new();
    let mut acc: Option<Pattern> = None;
    let mut info = TraceInfo {
        inputs: x.len(),
        ..TraceInfo::default()
    };
    let mut path = 0;
    loop {
        let steering = Steering {
            forced: stack.iter().map(|n| (n.answer, n.arity)).collect(),
            // A run with `max_paths` comparisons leaves at least one more path per
            // comparison to explore: the budget is exceeded whatever follows.
            limit: max_paths,
            ..Steering::default()
        };
        let (rec, out) = run(x, hessian, Some(steering), &f).map_err(|e| at_path(path, e))?;
        let steering = rec.steering.as_ref().expect("a global run is steered");
        if steering.overflow {
            return Err(TraceError::TooManyPaths {
                explored: path + 1,
                limit: max_paths,
            });
        }
        let diverged = steering
            .diverged
            .or((steering.taken.len() < stack.len()).then_some(steering.taken.len()));
        if let Some(comparison) = diverged {
            return Err(TraceError::PathsDiverged { path, comparison });
        }
        if rec.value_reads > 0 {
            return Err(TraceError::ValueReadInGlobalTrace {
                path,
                reads: rec.value_reads,
            });
        }
        let new = steering.taken[stack.len()..].to_vec();
        let nodes = rec.nodes.len();
        let (pattern, records, outputs) = extract(&rec, out).map_err(|e| at_path(path, e))?;
        drop(rec);
        acc = Some(match acc {
            None => pattern,
            Some(a) => {
                if a.nrows() != pattern.nrows() {
                    return Err(TraceError::OutputCountChanged {
                        point: path,
                        expected: a.nrows(),
                        found: pattern.nrows(),
                    });
                }
                a.union(&pattern)?
            }
        });
        info.outputs = outputs;
        info.nodes = info.nodes.max(nodes);
        info.second_order_records = info.second_order_records.max(records);
        info.comparisons += new.len();
        info.paths = path + 1;
        stack.extend(new.into_iter().map(|(answer, arity)| Node {
            answer,
            arity,
            tried: 1 << answer,
        }));
        // Backtrack to the deepest comparison with an unexplored answer.
        while let Some(node) = stack.last_mut() {
            if node.advance() {
                break;
            }
            stack.pop();
        }
        if stack.is_empty() {
            let pattern = acc.ok_or(TraceError::NoPoints)?;
            return Ok((pattern, info));
        }
        path += 1;
        if path >= max_paths {
            return Err(TraceError::TooManyPaths {
                explored: path,
                limit: max_paths,
            });
        }
    }
}

/// Attributes an error to a path (reentrancy stays a plain error: no path is at fault).
fn at_path(path: usize, e: TraceError) -> TraceError {
    match e {
        TraceError::AlreadyActive => e,
        e => TraceError::AtPath {
            path,
            source: Box::new(e),
        },
    }
}

/// The m×n Jacobian pattern of `f` valid at **every** x: the union of the patterns of every
/// control-flow path of `f`, each comparison of values that depend on the inputs taking
/// each of its outcomes in turn (see the [module documentation](super#global-patterns)).
/// x is only where the search starts (path 0 follows x's branches); the pattern does not
/// depend on it. Runs `f` once per path, at most [`DEFAULT_MAX_PATHS`] times; once if
/// `f` compares no values of its inputs.
///
/// Errors: those of [`jacobian_pattern`](super::jacobian_pattern) except non-finite
/// outputs and comparisons with NaN (values are meaningless on forced paths), each
/// wrapped in [`TraceError::AtPath`]; [`TraceError::TooManyPaths`],
/// [`TraceError::ValueReadInGlobalTrace`], [`TraceError::PathsDiverged`] and
/// [`TraceError::OutputCountChanged`].
///
/// ```
/// use sparsediff_ad::trace::{jacobian_pattern, jacobian_pattern_global, Tracer};
/// // F0 = x0 · x1 if x0 > 0 else x2²; F1 = x1
/// let f = |x: &[Tracer]| {
///     vec![if x[0] > 0.0 { x[0] * x[1] } else { x[2] * x[2] }, x[1]]
/// };
/// assert_eq!(jacobian_pattern(&[5.0, 1.0, 1.0], f)?.row(0), &[0, 1]); // local: x0 > 0 only
/// for x0 in [5.0, -5.0, 0.0] {
///     let j = jacobian_pattern_global(&[x0, 1.0, 1.0], f)?;
///     assert_eq!(j.row(0), &[0, 1, 2]); // both sides
///     assert_eq!(j.row(1), &[1]);
/// }
/// # Ok::<(), sparsediff_ad::trace::TraceError>(())
/// ```
pub fn jacobian_pattern_global<F>(x: &[f64], f: F) -> Result<Pattern, TraceError>
where
    F: Fn(&[Tracer]) -> Vec<Tracer>,
{
    jacobian_pattern_global_with_info(x, DEFAULT_MAX_PATHS, f).map(|(p, _)| p)
}

/// [`jacobian_pattern_global`] with a budget of `max_paths` control-flow paths, and what
/// the trace saw ([`TraceInfo::paths`]; `comparisons` counts the comparisons of the whole
/// decision tree, `nodes` is the largest path's).
///
/// ```
/// use sparsediff_ad::trace::{jacobian_pattern_global_with_info, TraceError, Tracer};
/// // 4 independent branches: 2⁴ = 16 paths
/// let f = |x: &[Tracer]| x.iter().map(|&v| if v > 0.0 { v * v } else { v }).collect();
/// let (j, info) = jacobian_pattern_global_with_info(&[1.0; 4], 16, f)?;
/// assert_eq!((j.nnz(), info.paths, info.comparisons), (4, 16, 15));
/// let e = jacobian_pattern_global_with_info(&[1.0; 4], 15, f).unwrap_err();
/// assert!(matches!(e, TraceError::TooManyPaths { explored: 15, limit: 15 }));
/// # Ok::<(), TraceError>(())
/// ```
pub fn jacobian_pattern_global_with_info<F>(
    x: &[f64],
    max_paths: usize,
    f: F,
) -> Result<(Pattern, TraceInfo), TraceError>
where
    F: Fn(&[Tracer]) -> Vec<Tracer>,
{
    explore(x, false, max_paths, f, |rec, ys| {
        if ys.is_empty() {
            return Err(TraceError::NoOutputs);
        }
        let handles = ys
            .iter()
            .map(|y| trace_handle(rec, y))
            .collect::<Result<Vec<u32>, TraceError>>()?;
        drop(ys);
        Ok((sets::jacobian(rec, &handles)?, 0, handles.len()))
    })
}

/// The symmetric n×n Hessian pattern of the scalar function `f` valid at **every** x: the
/// union over every control-flow path; see [`jacobian_pattern_global`].
///
/// ```
/// use sparsediff_ad::trace::{hessian_pattern, hessian_pattern_global, Tracer};
/// let f = |x: &[Tracer]| if x[0] > 0.0 { x[0] * x[1] } else { x[2] * x[2] };
/// let local = hessian_pattern(&[5.0, 1.0, 1.0], f)?;
/// assert_eq!(local.iter().collect::<Vec<_>>(), [(0, 1), (1, 0)]);
/// for x0 in [5.0, -5.0, 0.0] {
///     let global = hessian_pattern_global(&[x0, 1.0, 1.0], f)?;
///     assert_eq!(global.iter().collect::<Vec<_>>(), [(0, 1), (1, 0), (2, 2)]);
/// }
/// # Ok::<(), sparsediff_ad::trace::TraceError>(())
/// ```
pub fn hessian_pattern_global<F>(x: &[f64], f: F) -> Result<Pattern, TraceError>
where
    F: Fn(&[Tracer]) -> Tracer,
{
    hessian_pattern_global_with_info(x, DEFAULT_MAX_PATHS, f).map(|(p, _)| p)
}

/// [`hessian_pattern_global`] with a budget of `max_paths` control-flow paths, and what
/// the trace saw; see [`jacobian_pattern_global_with_info`].
pub fn hessian_pattern_global_with_info<F>(
    x: &[f64],
    max_paths: usize,
    f: F,
) -> Result<(Pattern, TraceInfo), TraceError>
where
    F: Fn(&[Tracer]) -> Tracer,
{
    explore(x, true, max_paths, f, |rec, y| {
        let handle = trace_handle(rec, &y)?;
        let (pattern, records) = sets::hessian(rec, Some(handle))?;
        Ok((pattern, records, 1))
    })
}
