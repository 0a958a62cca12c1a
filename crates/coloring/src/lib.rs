//! Graph colourings for recovering sparse Jacobians and Hessians from compressed products.
//!
//! A colouring partitions the columns (or rows, or symmetric vertices) of a sparsity
//! pattern into groups; one matrix-vector product per group (a *probe*) then suffices to
//! recover every entry. This crate separates *what* is coloured ([`Problem`]), *how*
//! ([`Method`], [`Order`]) and *the result* ([`Coloring`]: colours plus the stars or trees
//! that recovery needs), and ships independent checkers for every property ([`check`]).
//!
//! | derivative, AD mode | problem | method | recovery | probes on a band of half-bandwidth β |
//! |---|---|---|---|---|
//! | Jacobian, forward (JVPs, J·S) | [`Problem::Column`] | [`Method::Cpr`] | direct | 2β+1 |
//! | Jacobian, reverse (VJPs, Sᵀ·J) | [`Problem::Row`] | [`Method::Cpr`] | direct | 2β+1 |
//! | Hessian, HVPs, no symmetry | [`Problem::Symmetric`] | [`Method::Distance2`] | direct | 2β+1 |
//! | Hessian, HVPs | [`Problem::Symmetric`] | [`Method::Star`] | direct | 2β+1 |
//! | Hessian, HVPs | [`Problem::Symmetric`] | [`Method::Acyclic`] | substitution | β+1 |
//! | Hessian diagonal only | [`Problem::Symmetric`] | [`Method::Distance1`] | direct | β+1 |
//! | Jacobian, JVPs and VJPs | [`Problem::Bidirectional`] | [`Method::Star`] | direct | ≤ 2β+1 (JVPs + VJPs) |
//! | Jacobian, JVPs and VJPs | [`Problem::Bidirectional`] | [`Method::Acyclic`] | substitution | ≤ 2β+1 (JVPs + VJPs) |
//!
//! Colourings are computed directly on CSR arrays (no column intersection graph is built),
//! are deterministic (the same input and order give the same colours on every run and
//! platform), and fail with a [`ColoringError`] on input they cannot colour.
//!
//! ```
//! use sparsediff_coloring::{color, lower_bound, ColoringParams, Method, Order, Problem};
//! use sparsediff_pattern::generators;
//!
//! let band = generators::band(1000, 3, 3)?; // half-bandwidth β = 3
//! let params = ColoringParams::with_order(Order::Natural);
//! let star = color(&band, Problem::Symmetric, Method::Star, &params)?;
//! let acyclic = color(&band, Problem::Symmetric, Method::Acyclic, &params)?;
//! assert_eq!(star.num_colors(), 7); // 2β + 1 probes, direct recovery
//! assert_eq!(acyclic.num_colors(), 4); // β + 1 probes, recovery by substitution
//! assert_eq!(lower_bound(&band, Problem::Symmetric, Method::Acyclic)?, 4); // optimal
//! assert!(acyclic.check(&band).is_ok()); // independent checker
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod acyclic;
mod bicolor;
mod bounds;
pub mod check;
mod dot;
mod error;
mod graph;
mod greedy;
mod order;
mod postprocess;
mod problem;
mod result;
mod star;

use std::time::Instant;

use sparsediff_pattern::Pattern;

pub use acyclic::TreeSet;
pub use bicolor::{
    AUGMENTED_BUDGET, BiOutcome, BiRecovery, BiSource, BiStrategy, Bicoloring, color_bidirectional,
};
pub use bounds::{ClosedFormBounds, greedy_clique, grid_star_bound, lower_bound_closed_form};
pub use dot::{adjacency_graph, column_intersection_graph, to_dot};
pub use error::ColoringError;
pub use graph::{AdjacencyGraph, Bipartite, check_symmetric};
pub use order::is_perfect_elimination;
pub use problem::{ColoringParams, Method, Order, OrderChoice, Problem, UnknownName};
pub use result::{Coloring, NEUTRAL, OrderOutcome};
pub use star::StarSet;

use crate::greedy::{class_order, recolor_class_order};
use crate::order::vertex_order;
use crate::postprocess::{NEUTRAL_U32, postprocess_acyclic, postprocess_star};

/// Colours `pattern` for `problem` with `method`, trying the order(s) of `params`.
///
/// For [`Problem::Bidirectional`] this runs [`color_bidirectional`]; the result's
/// [`colors`](Coloring::colors) then cover the n columns and the m rows (row colours
/// numbered after the column colours) and [`Coloring::bicoloring`] holds both sides and
/// the recovery.
///
/// Errors: a zero dimension or no entries ([`ColoringError::EmptyDimension`],
/// [`ColoringError::NoEntries`]), a method that does not apply to the problem, a
/// rectangular or asymmetric pattern for a symmetric problem (naming an entry without
/// mirror), or an empty list of orders.
pub fn color(
    pattern: &Pattern,
    problem: Problem,
    method: Method,
    params: &ColoringParams,
) -> Result<Coloring, ColoringError> {
    validate(pattern, problem, method)?;
    let orders = orders_of(params)?;
    match (problem, method) {
        (Problem::Bidirectional, _) => {
            let b = color_bidirectional(pattern, method, params)?;
            // One outcome per order: the fewest colours over the strategies, their time.
            let mut tried: Vec<OrderOutcome> = Vec::new();
            for t in b.tried() {
                match tried.iter_mut().find(|o| o.order == t.order) {
                    Some(o) => {
                        o.seconds += t.seconds;
                        o.colors = match (o.colors, t.colors) {
                            (Some(a), Some(c)) => Some(a.min(c)),
                            (a, c) => a.or(c),
                        };
                    }
                    None => tried.push(OrderOutcome {
                        order: t.order,
                        colors: t.colors,
                        seconds: t.seconds,
                        order_seconds: None,
                    }),
                }
            }
            Ok(Coloring {
                problem,
                method,
                order: b.order(),
                colors: b.joint_colors(),
                num_colors: b.num_colors(),
                stars: None,
                trees: None,
                tried,
                postprocessed: true,
                bicoloring: Some(Box::new(b)),
            })
        }
        (Problem::Column, _) => {
            // A symmetric pattern is its own transpose: skip building one.
            let b = if graph::check_symmetric(pattern, method).is_ok() {
                Bipartite::symmetric(pattern)
            } else {
                Bipartite::columns(pattern)
            };
            distance2_family(&b, problem, method, orders, params)
        }
        (Problem::Row, _) => {
            distance2_family(&Bipartite::rows(pattern), problem, method, orders, params)
        }
        (Problem::Symmetric, Method::Cpr) => {
            graph::check_symmetric(pattern, method)?;
            distance2_family(
                &Bipartite::symmetric(pattern),
                problem,
                method,
                orders,
                params,
            )
        }
        (Problem::Symmetric, Method::Distance2) => {
            let full_diagonal = graph::check_symmetric_diagonal(pattern, method)?;
            // Distance-2 = CPR on the pattern with its diagonal (copied only if missing).
            let closed;
            let p = if full_diagonal {
                pattern
            } else {
                closed = pattern.with_diagonal();
                &closed
            };
            distance2_closed_family(p, orders, params)
        }
        (Problem::Symmetric, _) => {
            let g = AdjacencyGraph::new(pattern, method)?;
            symmetric_family(&g, method, orders, params)
        }
    }
}

/// [`color`] for the symmetric problem on an adjacency graph built by the caller
/// ([`AdjacencyGraph::new`] with the same `method`), so that a caller that needs the graph
/// anyway (a star or acyclic design builds its decoder on it) builds it once.
///
/// ```
/// use sparsediff_coloring::{AdjacencyGraph, ColoringParams, Method, color_graph, lower_bound_graph};
/// use sparsediff_pattern::generators;
///
/// let band = generators::band(100, 2, 2)?;
/// let g = AdjacencyGraph::new(&band, Method::Acyclic)?;
/// let c = color_graph(&g, Method::Acyclic, &ColoringParams::default())?;
/// assert_eq!((c.num_colors(), lower_bound_graph(&band, &g, Method::Acyclic)), (3, 3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Errors: `method` is not distance-1, star or acyclic
/// ([`ColoringError::MethodNotApplicable`]), or an empty list of orders.
pub fn color_graph(
    g: &AdjacencyGraph,
    method: Method,
    params: &ColoringParams,
) -> Result<Coloring, ColoringError> {
    if !matches!(method, Method::Distance1 | Method::Star | Method::Acyclic) {
        return Err(ColoringError::MethodNotApplicable {
            problem: Problem::Symmetric,
            method,
        });
    }
    let orders = orders_of(params)?;
    symmetric_family(g, method, orders, params)
}

/// [`lower_bound`] for the symmetric problem from an adjacency graph of `pattern` built by
/// the caller (distance-1, star and acyclic; the other methods do not use the graph).
pub fn lower_bound_graph(pattern: &Pattern, g: &AdjacencyGraph, method: Method) -> usize {
    bounds::lower_bound(pattern, Problem::Symmetric, method, Some(g))
}

/// The lower bound on the colours of `method` for `problem` (see [`greedy_clique`] and
/// the bounds listed in the crate docs): max entries per row (column problem), per column
/// (row problem), largest closed neighbourhood (distance-2), or a greedily found clique.
pub fn lower_bound(
    pattern: &Pattern,
    problem: Problem,
    method: Method,
) -> Result<usize, ColoringError> {
    validate(pattern, problem, method)?;
    let g = match (problem, method) {
        (Problem::Symmetric, Method::Distance1 | Method::Star | Method::Acyclic) => {
            if let Some(b) = bounds::lower_bound_closed_form(pattern, method) {
                return Ok(b);
            }
            Some(AdjacencyGraph::new(pattern, method)?)
        }
        _ => None,
    };
    Ok(bounds::lower_bound(pattern, problem, method, g.as_ref()))
}

/// The orders to try: the single one, or the list (which must not be empty).
fn orders_of(params: &ColoringParams) -> Result<&[Order], ColoringError> {
    match &params.order {
        OrderChoice::Single(o) => Ok(std::slice::from_ref(o)),
        OrderChoice::Best(list) if list.is_empty() => Err(ColoringError::NoOrders),
        OrderChoice::Best(list) => Ok(list),
    }
}

fn validate(pattern: &Pattern, problem: Problem, method: Method) -> Result<(), ColoringError> {
    let (nrows, ncols) = pattern.shape();
    if nrows == 0 || ncols == 0 {
        return Err(ColoringError::EmptyDimension { nrows, ncols });
    }
    if pattern.nnz() == 0 {
        return Err(ColoringError::NoEntries { nrows, ncols });
    }
    if !problem.accepts(method) {
        return Err(ColoringError::MethodNotApplicable { problem, method });
    }
    if problem == Problem::Symmetric && !pattern.is_square() {
        return Err(ColoringError::NotSquare {
            method,
            nrows,
            ncols,
        });
    }
    Ok(())
}

fn num_colors(color: &[u32]) -> usize {
    color
        .iter()
        .filter(|&&c| c != NEUTRAL_U32)
        .map(|&c| c as usize + 1)
        .max()
        .unwrap_or(0)
}

fn to_public(color: Vec<u32>) -> Vec<usize> {
    color
        .into_iter()
        .map(|c| {
            if c == NEUTRAL_U32 {
                NEUTRAL
            } else {
                c as usize
            }
        })
        .collect()
}

/// Runs `colorize` for each order and keeps the first colouring with the fewest colours.
/// Orders that are too expensive for the pattern are skipped (and reported); if every order
/// is, the last such error is returned. `colorize` computes the order with [`timed_order`],
/// which records the ordering time apart.
fn best_of<T>(
    orders: &[Order],
    stop_at: Option<usize>,
    mut colorize: impl FnMut(Order, &mut f64) -> Result<(Vec<u32>, T), ColoringError>,
) -> Result<(Order, Vec<u32>, T, Vec<OrderOutcome>), ColoringError> {
    let mut tried = Vec::with_capacity(orders.len());
    let mut best: Option<(Order, Vec<u32>, T)> = None;
    let mut skipped = None;
    for &order in orders {
        if let (Some(stop), Some((_, b, _))) = (stop_at, &best)
            && num_colors(b) <= stop
        {
            break;
        }
        let start = Instant::now();
        let mut order_seconds = 0.0;
        let outcome = colorize(order, &mut order_seconds);
        let seconds = start.elapsed().as_secs_f64();
        match outcome {
            Ok((color, extra)) => {
                let k = num_colors(&color);
                tried.push(OrderOutcome {
                    order,
                    colors: Some(k),
                    seconds,
                    order_seconds: Some(order_seconds),
                });
                if best.as_ref().is_none_or(|(_, b, _)| k < num_colors(b)) {
                    best = Some((order, color, extra));
                }
            }
            Err(e @ ColoringError::TooExpensive { .. }) => {
                tried.push(OrderOutcome {
                    order,
                    colors: None,
                    seconds,
                    order_seconds: Some(order_seconds),
                });
                skipped = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    match best {
        Some((order, color, extra)) => Ok((order, color, extra, tried)),
        None => Err(skipped.unwrap_or(ColoringError::NoOrders)),
    }
}

/// [`vertex_order`], its time stored in `seconds`.
fn timed_order(
    g: &impl order::ConflictGraph,
    order: Order,
    seconds: &mut f64,
) -> Result<Vec<usize>, ColoringError> {
    let start = Instant::now();
    let o = vertex_order(g, order);
    *seconds = start.elapsed().as_secs_f64();
    o
}

/// Distance-2 colouring of a symmetric pattern with its full diagonal
/// ([`greedy::distance2_closed`]), then optional iterated greedy: the same colourings as
/// [`distance2_family`] on [`Bipartite::symmetric`]`(p)`. The natural order is not built
/// (the colouring visits `0..n` on the pattern itself, one sequential pass, reading each
/// row only up to the current vertex: [`greedy::distance2_closed_natural`]); every other
/// order is computed, and coloured in, on the `u32` copy [`graph::ClosedCsr`] (built once,
/// timed with the first order that needs it): their visits jump, and half the bytes per
/// entry pays for the copy there (1e6 grid, β = 5 band, cartpole; not on a tridiagonal
/// band, where the copy costs about what it saves, papers/colorings.md).
fn distance2_closed_family(
    p: &Pattern,
    orders: &[Order],
    params: &ColoringParams,
) -> Result<Coloring, ColoringError> {
    let (ptr, idx) = (p.row_ptr(), p.col_idx());
    let mut csr: Option<graph::ClosedCsr> = None;
    let (order, color, (), tried) = best_of(orders, params.stop_at, |order, order_seconds| {
        let mut color = if order == Order::Natural {
            greedy::distance2_closed_natural(ptr, idx)
        } else {
            // The u32 copy is built once, timed with the first order that needs it.
            let start = Instant::now();
            if csr.is_none() {
                csr = graph::ClosedCsr::new(p);
            }
            let o = match &csr {
                Some(g) => vertex_order(g, order),
                None => vertex_order(&Bipartite::symmetric(p), order),
            }?;
            *order_seconds = start.elapsed().as_secs_f64();
            match &csr {
                Some(g) => greedy::distance2_closed(g.ptr(), g.idx(), o.into_iter()),
                None => greedy::distance2_closed(ptr, idx, o.into_iter()),
            }
        };
        for pass in 0..params.recolor_passes {
            let next = greedy::distance2_closed(
                ptr,
                idx,
                class_order(&color, &recolor_class_order(&color, pass)).into_iter(),
            );
            debug_assert!(num_colors(&next) <= num_colors(&color));
            color = next;
        }
        Ok((color, ()))
    })?;
    Ok(distance2_coloring(
        Problem::Symmetric,
        Method::Distance2,
        order,
        color,
        tried,
    ))
}

/// CPR / distance-2: greedy partial distance-2 colouring, then optional iterated greedy.
fn distance2_family(
    b: &Bipartite<'_>,
    problem: Problem,
    method: Method,
    orders: &[Order],
    params: &ColoringParams,
) -> Result<Coloring, ColoringError> {
    let (order, color, (), tried) = best_of(orders, params.stop_at, |order, order_seconds| {
        let mut color = greedy::partial_distance2(b, &timed_order(b, order, order_seconds)?);
        for pass in 0..params.recolor_passes {
            let next = greedy::partial_distance2(
                b,
                &class_order(&color, &recolor_class_order(&color, pass)),
            );
            debug_assert!(num_colors(&next) <= num_colors(&color));
            color = next;
        }
        Ok((color, ()))
    })?;
    Ok(distance2_coloring(problem, method, order, color, tried))
}

/// The result of a distance-2 family: colours only (no stars, trees or bicolouring).
fn distance2_coloring(
    problem: Problem,
    method: Method,
    order: Order,
    color: Vec<u32>,
    tried: Vec<OrderOutcome>,
) -> Coloring {
    Coloring {
        problem,
        method,
        order,
        num_colors: num_colors(&color),
        colors: to_public(color),
        stars: None,
        trees: None,
        tried,
        postprocessed: false,
        bicoloring: None,
    }
}

enum Structure {
    None,
    Stars(StarSet),
    Trees(TreeSet),
}

/// Distance-1, star and acyclic colourings of the adjacency graph.
fn symmetric_family(
    g: &AdjacencyGraph,
    method: Method,
    orders: &[Order],
    params: &ColoringParams,
) -> Result<Coloring, ColoringError> {
    let (order, mut color, structure, tried) =
        best_of(orders, params.stop_at, |order, order_seconds| {
            let o = timed_order(g, order, order_seconds)?;
            Ok(match method {
                Method::Star => {
                    let (c, s) = star::star_coloring(g, &o);
                    (c, Structure::Stars(s))
                }
                Method::Acyclic => {
                    let (c, t) = acyclic::acyclic_coloring(g, &o);
                    (c, Structure::Trees(t))
                }
                _ => {
                    let mut color = greedy::distance1(g, &o);
                    for pass in 0..params.recolor_passes {
                        color = greedy::distance1(
                            g,
                            &class_order(&color, &recolor_class_order(&color, pass)),
                        );
                    }
                    (color, Structure::None)
                }
            })
        })?;
    let (mut stars, mut trees) = (None, None);
    let postprocessed = params.postprocess && matches!(method, Method::Star | Method::Acyclic);
    match structure {
        Structure::Stars(mut s) => {
            if postprocessed {
                postprocess_star(&mut color, &mut s, g);
            }
            stars = Some(s);
        }
        Structure::Trees(mut t) => {
            if postprocessed {
                postprocess_acyclic(&mut color, &mut t, g);
            }
            trees = Some(t);
        }
        Structure::None => {}
    }
    let num_colors = num_colors(&color);
    Ok(Coloring {
        problem: Problem::Symmetric,
        method,
        order,
        colors: to_public(color),
        num_colors,
        stars,
        trees,
        tried,
        postprocessed,
        bicoloring: None,
    })
}
