//! The symbolic analysis, done once by [`CompositeHessian::prepare`]: every row validated and
//! traced, affine and quadratic rows frozen, the others grouped into classes of one jet
//! shape, the output pattern and the position of every product in it.

use std::collections::HashMap;

use num_dual::Dual2SVec64;
use sparsediff_ad::trace::hessian_pattern_with_info;
use sparsediff_pattern::{Pattern, PatternError};

use crate::RowFunctions;
use crate::degree::Degree;
use crate::error::CompositeError;
use crate::hessian::{CompositeHessian, CompositeInfo};
use crate::jet::{
    Jet, MAX_LOCAL_VARS, NO_SIN_COS, PAIRS, block_index, block_len, has_shape, lanes_for,
    with_shape,
};
use crate::outer::Outer;

/// Options of [`CompositeHessian::prepare_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompositeOptions {
    /// Freeze the affine rows (default `true`). A row that makes no comparison and is a
    /// polynomial of degree ≤ 1 in its variables (sums and constant multiples only:
    /// `|x|`, `x % c`, `sqrt`, … count as not polynomial, even where their trace has no
    /// second-order entry) is affine everywhere: its gradient g is then computed
    /// once at prepare, its value at evaluate as `c + g·z`, and its JᵀDJ term `ψ″·ggᵀ` is
    /// added into a base matrix once while ψ″ is a constant ([`Outer::constant_curvature`]:
    /// penalties, linear ψ) and recomputed only when [`set_outer`](CompositeHessian::set_outer)
    /// changes that constant. Turn it off for rows that branch on raw values
    /// (`if x.re() > 0.0`), which traces follow without seeing: such rows are then
    /// differentiated at every evaluation. The same switch lets jet rows skip the lanes of
    /// variables with a constant partial derivative (`c·x_a`, e.g. the state differences
    /// of a collocation defect), whose gradient entries are then computed once at prepare.
    pub freeze_affine: bool,
    /// Freeze the quadratic objective rows (default `true`): an objective row that makes
    /// no comparison and is a polynomial of degree ≤ 2 in its variables (checked by
    /// evaluating it on a degree-bounding scalar: sums, products, `xⁿ`, division by
    /// constants; `abs`, `%`, `sqrt`, … count as not polynomial) has a constant Hessian.
    /// It is computed once at prepare and added into the base matrix, so evaluate skips
    /// the row; its value and gradient are computed only when asked for
    /// ([`value`](CompositeHessian::value), [`gradient`](CompositeHessian::gradient)). The
    /// same caveat as for [`freeze_affine`](Self::freeze_affine) holds for branches on raw
    /// values.
    pub freeze_quadratic: bool,
}

impl Default for CompositeOptions {
    fn default() -> Self {
        Self {
            freeze_affine: true,
            freeze_quadratic: true,
        }
    }
}

impl CompositeOptions {
    /// The default options with [`freeze_affine`](Self::freeze_affine) set.
    pub fn freeze_affine(mut self, freeze: bool) -> Self {
        self.freeze_affine = freeze;
        self
    }

    /// These options with [`freeze_quadratic`](Self::freeze_quadratic) set.
    pub fn freeze_quadratic(mut self, freeze: bool) -> Self {
        self.freeze_quadratic = freeze;
        self
    }
}

/// Which set a row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Source {
    Objective,
    Residual,
}

impl Source {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Source::Objective => "objective",
            Source::Residual => "residual",
        }
    }
}

/// The slot of a variable without a jet lane (its partial derivative is a constant).
pub(crate) const NO_SLOT: u8 = u8::MAX;

/// Jet rows of one shape: the same set, number of variables k, jet shape, order of the
/// slots, traced curvature entries and presence of a JᵀDJ term.
#[derive(Debug, Clone)]
pub(crate) struct Class {
    pub(crate) source: Source,
    pub(crate) k: usize,
    /// The jet: `(lanes, block size, Hessian entries)`, see [`Jet`].
    pub(crate) shape: (usize, usize, usize),
    /// Local variable a is seeded in slot `slot_of_local[a]` (curved variables in the
    /// Hessian blocks), or has no lane ([`NO_SLOT`]: a constant partial derivative, filled
    /// into the class's gradients once at prepare).
    pub(crate) slot_of_local: [u8; MAX_LOCAL_VARS],
    /// The jet's Hessian entries holding the traced local Hessian (weighted by ψ′).
    pub(crate) curved: Vec<u8>,
    /// Whether ψ is curved (all `k(k+1)/2` local pairs get `ψ″·g_a·g_b`).
    pub(crate) outer: bool,
    /// Row indices within the source set.
    pub(crate) rows: Vec<u32>,
    /// `rows.len() × k` variables, local order.
    pub(crate) vars: Vec<u32>,
    /// `rows.len() × curved.len()` positions in the CSR values (lower triangle).
    pub(crate) curved_pos: Vec<u32>,
    /// `rows.len() × k(k+1)/2` positions (lower triangle, packed local order), if `outer`.
    pub(crate) outer_pos: Vec<u32>,
    /// Start of the class's `rows.len() × k` gradients (local order) in the Jacobian buffer.
    pub(crate) jac_offset: usize,
    /// `rows.len() × k` (local order), or empty if no row of the class takes the sine or
    /// cosine of a variable: the entry of `CompositeHessian::sines` that holds
    /// `(sin, cos)` of the variable, 0 (no sine passed in) for the others.
    pub(crate) trig: Vec<u32>,
}

impl Class {
    /// Whether the rows are curved (second-order jets).
    pub(crate) fn curved_rows(&self) -> bool {
        self.shape.2 > 0
    }
}

pub(crate) type ClassKey = (
    Source,
    usize,
    (usize, usize, usize),
    [u8; MAX_LOCAL_VARS],
    Vec<u8>,
    bool,
);

/// Frozen affine rows with k variables from one set: `row = offset + grad·z[vars]`.
#[derive(Debug, Clone)]
pub(crate) struct FrozenClass {
    pub(crate) source: Source,
    pub(crate) k: usize,
    /// Whether the residuals were prepared under a curved ψ (their `vars × vars` entries
    /// are in the pattern, `pos` and `gg` are filled).
    pub(crate) outer: bool,
    pub(crate) rows: Vec<u32>,
    /// `rows.len() × k`, local order.
    pub(crate) vars: Vec<u32>,
    /// `rows.len() × k`, local order.
    pub(crate) grad: Vec<f64>,
    pub(crate) offset: Vec<f64>,
    /// `rows.len() × k(k+1)/2` lower-triangle positions, packed local order (if `outer`).
    pub(crate) pos: Vec<u32>,
    /// The products `g_a·g_b` matching `pos`.
    pub(crate) gg: Vec<f64>,
    /// Members whose ψ″ is not a constant (rebuilt with the base).
    pub(crate) variable: Vec<u32>,
}

/// A row's local structure found at prepare.
struct RowShape {
    /// No comparison and a polynomial of degree ≤ 1: affine everywhere.
    affine: bool,
    /// No comparison and a polynomial of degree 2: constant Hessian.
    quadratic: bool,
    /// The traced local Hessian pairs `(a, b)`, `a ≤ b` (local indices).
    pairs: Vec<(usize, usize)>,
    key: ClassKey,
    /// Global entries it adds (both triangles).
    entries: Vec<(usize, usize)>,
    /// Bit a: the row takes `sin` or `cos` of local variable a itself.
    trig: u8,
}

/// Validates row `row` of `set`, traces its local Hessian at x0, and returns its class key
/// and structural entries (`None` for a row without variables: a constant).
fn shape_of<F: RowFunctions>(
    f: &F,
    source: Source,
    row: usize,
    outer: bool,
    x0: &[f64],
    drop_constant: bool,
) -> Result<Option<RowShape>, CompositeError> {
    let set = source.name();
    let n = x0.len();
    let vars = f.vars(row);
    let k = vars.len();
    if k > MAX_LOCAL_VARS {
        return Err(CompositeError::TooManyVars {
            set,
            row,
            vars: k,
            max: MAX_LOCAL_VARS,
        });
    }
    for (a, &v) in vars.iter().enumerate() {
        if v >= n {
            return Err(CompositeError::VarOutOfRange {
                set,
                row,
                var: v,
                n,
            });
        }
        if vars[..a].contains(&v) {
            return Err(CompositeError::DuplicateVar { set, row, var: v });
        }
    }
    if k == 0 {
        return Ok(None);
    }
    let local: Vec<f64> = vars.iter().map(|&v| x0[v]).collect();
    let (local_hessian, trace) =
        hessian_pattern_with_info(&local, |t| f.eval(row, t)).map_err(|source| {
            CompositeError::Trace {
                set,
                row,
                source: Box::new(source),
            }
        })?;
    // The trace sees the structure at x0; the degree says whether it holds everywhere
    // (`|x|` traces as linear but its gradient jumps).
    let (degree, varying, trig) = {
        let seeded: Vec<Degree> = (0..k).map(|a| Degree::variable(local[a], a)).collect();
        let y = f.eval(row, &seeded);
        (y.degree(), y.varying(), y.trig())
    };
    // A row that branches may curve elsewhere in any of its variables: treat all as curved.
    let branches = trace.comparisons > 0;
    let pairs: Vec<(usize, usize)> = if branches {
        (0..k).flat_map(|a| (a..k).map(move |b| (a, b))).collect()
    } else {
        local_hessian.iter().filter(|&(a, b)| a <= b).collect()
    };
    // Variables with a constant partial derivative (`c·x_a`) get no jet lane: their
    // gradient entry is computed once at prepare. Trusted under the same conditions as
    // freezing affine rows; a variable in a traced pair always keeps its lane.
    let mut active = [true; MAX_LOCAL_VARS];
    if drop_constant && !branches {
        for (a, act) in active.iter_mut().enumerate().take(k) {
            *act = varying & (1 << a) != 0 || pairs.iter().any(|&(p, q)| p == a || q == a);
        }
        if !active[..k].contains(&true) {
            active = [true; MAX_LOCAL_VARS];
        }
    }
    let (shape, slot_of_local) = jet_layout(k, &pairs, &active[..k]);
    let mut curved: Vec<u8> = pairs
        .iter()
        .map(|&(a, b)| {
            let (sa, sb) = (slot_of_local[a] as usize, slot_of_local[b] as usize);
            block_index(shape.1, sa, sb).expect("a row's curved pairs share a Hessian block") as u8
        })
        .collect();
    curved.sort_unstable();
    curved.dedup();
    let mut entries = Vec::new();
    if outer {
        for &p in vars {
            for &q in vars {
                entries.push((p, q));
            }
        }
    } else {
        for &(a, b) in &pairs {
            entries.push((vars[a], vars[b]));
            entries.push((vars[b], vars[a]));
        }
    }
    Ok(Some(RowShape {
        affine: pairs.is_empty() && degree <= 1,
        quadratic: !branches && degree == 2,
        key: (source, k, shape, slot_of_local, curved, outer),
        entries,
        pairs,
        trig,
    }))
}

/// The jet shape `(lanes, block size, entries)` and the slot of every local variable for a
/// row of k variables whose local Hessian has the entries `pairs` (`a ≤ b`); only the
/// `active` variables get a slot (the others [`NO_SLOT`]: their derivative is a constant).
///
/// The curved variables are split into the connected components of the local Hessian; the
/// components are packed, largest first, into blocks of the largest component's size, and
/// the blocks are filled up with uncurved variables. This block-diagonal layout is used when
/// it has fewer entries than one dense block over all curved variables (separable rows,
/// rows made of functions of disjoint pairs).
fn jet_layout(
    k: usize,
    pairs: &[(usize, usize)],
    active: &[bool],
) -> ((usize, usize, usize), [u8; MAX_LOCAL_VARS]) {
    let lanes = lanes_for(active.iter().filter(|&&a| a).count());
    let mut slot_of_local = [NO_SLOT; MAX_LOCAL_VARS];
    // components of the curved variables (union-find on at most 8 elements)
    let mut parent: [usize; MAX_LOCAL_VARS] = std::array::from_fn(|a| a);
    fn root(parent: &mut [usize; MAX_LOCAL_VARS], mut a: usize) -> usize {
        while parent[a] != a {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        a
    }
    let mut curved = [false; MAX_LOCAL_VARS];
    for &(a, b) in pairs {
        curved[a] = true;
        curved[b] = true;
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent[ra.max(rb)] = ra.min(rb);
    }
    let mut components: Vec<Vec<usize>> = Vec::new();
    for a in (0..k).filter(|&a| curved[a]) {
        let r = root(&mut parent, a);
        match components.iter_mut().find(|c| root(&mut parent, c[0]) == r) {
            Some(c) => c.push(a),
            None => components.push(vec![a]),
        }
    }
    let uncurved: Vec<usize> = (0..k).filter(|&a| !curved[a] && active[a]).collect();
    let m = curved[..k].iter().filter(|&&c| c).count();
    if m == 0 {
        for (slot, &a) in uncurved.iter().enumerate() {
            slot_of_local[a] = slot as u8;
        }
        return ((lanes, 0, 0), slot_of_local);
    }
    // first-fit decreasing into blocks of the largest component's size
    components.sort_by_key(|c| std::cmp::Reverse(c.len()));
    let b = components[0].len();
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    for c in &components {
        match blocks.iter_mut().find(|blk| blk.len() + c.len() <= b) {
            Some(blk) => blk.extend_from_slice(c),
            None => blocks.push(c.clone()),
        }
    }
    let blocked = (lanes, b, blocks.len() * block_len(b));
    let dense = (lanes, m, block_len(m));
    if blocked.2 < dense.2 && blocks.len() * b <= lanes && has_shape(blocked) {
        // blocks first (holes filled with uncurved variables, or left as padding lanes)
        let mut spare = uncurved.iter().copied();
        let mut slot = 0;
        for blk in &blocks {
            for &a in blk {
                slot_of_local[a] = slot as u8;
                slot += 1;
            }
            for _ in blk.len()..b {
                if let Some(a) = spare.next() {
                    slot_of_local[a] = slot as u8;
                }
                slot += 1;
            }
        }
        for a in spare {
            slot_of_local[a] = slot as u8;
            slot += 1;
        }
        return (blocked, slot_of_local);
    }
    let mut slot = 0;
    for pass in [true, false] {
        for a in (0..k).filter(|&a| curved[a] == pass && active[a]) {
            slot_of_local[a] = slot as u8;
            slot += 1;
        }
    }
    (dense, slot_of_local)
}

/// The value and gradient (local order) of row `row` at the local values `x`.
pub(crate) fn first_order<F: RowFunctions>(
    f: &F,
    row: usize,
    x: &[f64],
) -> (f64, [f64; MAX_LOCAL_VARS]) {
    let mut grad = [0.0; MAX_LOCAL_VARS];
    let k = x.len();
    let value = with_shape!((lanes_for(k), 0, 0), |K, B, T| {
        let local: [Jet<K, B, T>; K] =
            std::array::from_fn(|a| Jet::variable(x.get(a).copied().unwrap_or(0.0), a));
        let y = f.eval(row, &local[..k]);
        grad[..k].copy_from_slice(&y.g[..k]);
        y.re
    });
    (value, grad)
}

/// The local Hessian (local order, dense) of row `row` at the global point `x0`, by
/// num-dual's second-order numbers (prepare only).
fn local_hessian<F: RowFunctions>(
    f: &F,
    row: usize,
    vars: &[usize],
    x0: &[f64],
) -> [[f64; MAX_LOCAL_VARS]; MAX_LOCAL_VARS] {
    let local: [Dual2SVec64<MAX_LOCAL_VARS>; MAX_LOCAL_VARS] =
        std::array::from_fn(|a| match vars.get(a) {
            Some(&v) => Dual2SVec64::from_re(x0[v]).derivative(a),
            None => Dual2SVec64::from_re(0.0),
        });
    let y = f.eval(row, &local[..vars.len()]);
    let mut h = [[0.0; MAX_LOCAL_VARS]; MAX_LOCAL_VARS];
    if let Some(m) = y.v2.0 {
        for (a, ha) in h.iter_mut().enumerate() {
            for (b, hab) in ha.iter_mut().enumerate() {
                *hab = m[(a, b)];
            }
        }
    }
    h
}

/// The lower triangle of a symmetric pattern, numbered in CSR order: `lower[pos]` is the
/// number of CSR entry pos if it is on or below the diagonal, and of its mirror image
/// otherwise (the map that expands the lower triangle into the full matrix).
fn lower_numbering(pattern: &Pattern) -> Vec<u32> {
    let mut number = vec![u32::MAX; pattern.nnz()];
    let mut next = 0u32;
    for (pos, (i, j)) in pattern.iter().enumerate() {
        if i >= j {
            number[pos] = next;
            next += 1;
        }
    }
    for (pos, (i, j)) in pattern.iter().enumerate() {
        if i < j {
            let mirror = pattern
                .position(j, i)
                .expect("internal error: the composite pattern is symmetric by construction");
            number[pos] = number[mirror];
        }
    }
    number
}

/// The lower-triangle number of global entry (p, q), either order.
fn lower_position(pattern: &Pattern, lower: &[u32], p: usize, q: usize) -> u32 {
    let pos = pattern
        .position(p, q)
        .expect("internal error: every row's entries are in the pattern by construction");
    lower[pos]
}

impl<P: RowFunctions, R: RowFunctions> CompositeHessian<P, R> {
    /// [`prepare_with`](Self::prepare_with) the default [`CompositeOptions`].
    pub fn prepare(
        objective: P,
        residuals: R,
        outer: Vec<Outer>,
        x0: &[f64],
    ) -> Result<Self, CompositeError> {
        Self::prepare_with(
            objective,
            residuals,
            outer,
            x0,
            &CompositeOptions::default(),
        )
    }

    /// Prepares the Hessian of `f(z) = Σ_k objective_k(z) + Σ_i outer_i(residual_i(z))`
    /// around `x0`: validates the rows, traces each row's local Hessian pattern at x0 (the
    /// pattern is local to the branches a row takes there, as with the local tracer
    /// [`hessian_pattern`](sparsediff_ad::trace::hessian_pattern); a row that makes any comparison is
    /// treated as curved in all its variables), freezes the affine rows (see
    /// [`CompositeOptions`]), groups the others into classes, builds the output pattern and
    /// every index map. `outer` has one function per residual; pass [`NoRows`](crate::NoRows) for an empty
    /// set.
    ///
    /// Errors on a wrong number of outer functions or unusable parameters, a row with too
    /// many, duplicate or out-of-range variables, a failed trace, or a pattern beyond the
    /// limits of [`Pattern`] (entries are addressed with 32 bits).
    pub fn prepare_with(
        objective: P,
        residuals: R,
        outer: Vec<Outer>,
        x0: &[f64],
        options: &CompositeOptions,
    ) -> Result<Self, CompositeError> {
        let n = x0.len();
        let (np, m) = (objective.num_rows(), residuals.num_rows());
        if outer.len() != m {
            return Err(CompositeError::WrongLength {
                what: "outer functions (one per residual)",
                len: outer.len(),
                expected: m,
            });
        }
        for (row, o) in outer.iter().enumerate() {
            if let Some(reason) = o.invalid() {
                return Err(CompositeError::InvalidOuter {
                    row,
                    outer: format!("{o:?}"),
                    reason,
                });
            }
        }
        let outer_curved: Vec<bool> = outer.iter().map(|o| !o.is_linear()).collect();
        let mut frozen_residual = vec![false; m];

        let mut index: HashMap<ClassKey, usize> = HashMap::new();
        let mut classes: Vec<Class> = Vec::new();
        let mut frozen_index: HashMap<(Source, usize, bool), usize> = HashMap::new();
        let mut frozen: Vec<FrozenClass> = Vec::new();
        let mut entries: Vec<(usize, usize)> = Vec::new();
        let mut constants = Vec::new();
        let mut quadratic: Vec<u32> = Vec::new();
        let mut quadratic_entries: Vec<(usize, usize, f64)> = Vec::new();
        let mut jacobian_nnz = 0;
        let mut max_local_vars = 0;
        let mut local = [0.0; MAX_LOCAL_VARS];
        for (source, count) in [(Source::Objective, np), (Source::Residual, m)] {
            for row in 0..count {
                let (shape, vars) = match source {
                    Source::Objective => (
                        shape_of(&objective, source, row, false, x0, options.freeze_affine)?,
                        objective.vars(row),
                    ),
                    Source::Residual => (
                        shape_of(
                            &residuals,
                            source,
                            row,
                            outer_curved[row],
                            x0,
                            options.freeze_affine,
                        )?,
                        residuals.vars(row),
                    ),
                };
                let Some(shape) = shape else {
                    // a row without variables is a constant
                    let value = match source {
                        Source::Objective => objective.eval::<f64>(row, &[]),
                        Source::Residual => residuals.eval::<f64>(row, &[]),
                    };
                    constants.push((source, row as u32, value));
                    continue;
                };
                let k = vars.len();
                max_local_vars = max_local_vars.max(k);
                if source == Source::Residual {
                    jacobian_nnz += k;
                }
                entries.extend_from_slice(&shape.entries);
                let outer = shape.key.5;
                if options.freeze_affine && shape.affine {
                    for (l, &v) in local.iter_mut().zip(vars) {
                        *l = x0[v];
                    }
                    let (value, grad) = match source {
                        Source::Objective => first_order(&objective, row, &local[..k]),
                        Source::Residual => first_order(&residuals, row, &local[..k]),
                    };
                    let offset = value - (0..k).map(|a| grad[a] * local[a]).sum::<f64>();
                    let c = *frozen_index.entry((source, k, outer)).or_insert_with(|| {
                        frozen.push(FrozenClass {
                            source,
                            k,
                            outer,
                            rows: Vec::new(),
                            vars: Vec::new(),
                            grad: Vec::new(),
                            offset: Vec::new(),
                            pos: Vec::new(),
                            gg: Vec::new(),
                            variable: Vec::new(),
                        });
                        frozen.len() - 1
                    });
                    let fc = &mut frozen[c];
                    fc.rows.push(row as u32);
                    fc.vars.extend(vars.iter().map(|&v| v as u32));
                    fc.grad.extend_from_slice(&grad[..k]);
                    fc.offset.push(offset);
                    if source == Source::Residual {
                        frozen_residual[row] = true;
                    }
                    continue;
                }
                if options.freeze_quadratic && shape.quadratic && source == Source::Objective {
                    let h = local_hessian(&objective, row, vars, x0);
                    for &(a, b) in &shape.pairs {
                        quadratic_entries.push((vars[a], vars[b], h[a][b]));
                    }
                    quadratic.push(row as u32);
                    continue;
                }
                let c = *index.entry(shape.key.clone()).or_insert_with(|| {
                    let (source, k, shape, slot_of_local, curved, outer) = shape.key;
                    classes.push(Class {
                        source,
                        k,
                        shape,
                        slot_of_local,
                        curved,
                        outer,
                        rows: Vec::new(),
                        vars: Vec::new(),
                        curved_pos: Vec::new(),
                        outer_pos: Vec::new(),
                        jac_offset: 0,
                        trig: Vec::new(),
                    });
                    classes.len() - 1
                });
                classes[c].rows.push(row as u32);
                classes[c].vars.extend(vars.iter().map(|&v| v as u32));
                // for now the variable + 1 (0: none), numbered below
                classes[c]
                    .trig
                    .extend(vars.iter().enumerate().map(|(a, &v)| {
                        if shape.trig & (1 << a) != 0 {
                            v as u32 + 1
                        } else {
                            0
                        }
                    }));
            }
        }
        let pattern = Pattern::from_entries(n, n, entries)?;
        if pattern.nnz() > u32::MAX as usize {
            return Err(PatternError::LengthMismatch {
                what: "composite Hessian entries (addressed with 32 bits)",
                left: pattern.nnz(),
                right: u32::MAX as usize,
            }
            .into());
        }

        let expand = lower_numbering(&pattern);
        let (quadratic_pos, quadratic_val): (Vec<u32>, Vec<f64>) = quadratic_entries
            .iter()
            .map(|&(p, q, v)| (lower_position(&pattern, &expand, p, q), v))
            .unzip();
        let lower_len = pattern.iter().filter(|&(i, j)| i >= j).count();
        // The variables whose sine and cosine the jets get with their seeds, numbered from 1
        // (entry 0 of the sines is "none").
        let mut trig_vars: Vec<u32> = classes
            .iter()
            .flat_map(|c| c.trig.iter().filter(|&&t| t != 0).map(|&t| t - 1))
            .collect();
        trig_vars.sort_unstable();
        trig_vars.dedup();
        for c in &mut classes {
            if c.trig.iter().all(|&t| t == 0) {
                c.trig = Vec::new();
            }
            for t in c.trig.iter_mut().filter(|t| **t != 0) {
                *t = trig_vars.partition_point(|&v| v < *t - 1) as u32 + 1;
            }
        }
        // Jet classes in evaluation order: objective, affine residuals, curved residuals.
        classes.sort_by_key(|c| (c.source, c.curved_rows(), c.k, c.shape));
        let mut jac_len = 0;
        let (mut weighted_products, mut outer_products, mut curved_rows, mut jet_rows) =
            (0, 0, 0, 0);
        for c in &mut classes {
            c.jac_offset = jac_len;
            jac_len += c.rows.len() * c.k;
            // the local pair of every traced Hessian entry of the jet
            let (k, b) = (c.k, c.shape.1);
            let entry_pairs: Vec<(usize, usize)> = c
                .curved
                .iter()
                .map(|&t| {
                    let with_lane = |a: &usize| c.slot_of_local[*a] != NO_SLOT;
                    (0..k)
                        .filter(with_lane)
                        .flat_map(|a| (a..k).filter(with_lane).map(move |bb| (a, bb)))
                        .find(|&(a, bb)| {
                            block_index(
                                b,
                                c.slot_of_local[a] as usize,
                                c.slot_of_local[bb] as usize,
                            ) == Some(t as usize)
                        })
                        .expect("every traced entry belongs to two local variables")
                })
                .collect();
            let pairs = block_len(k);
            for vars in c.vars.chunks_exact(k) {
                let global = |a: usize| vars[a] as usize;
                for &(a, bb) in &entry_pairs {
                    c.curved_pos
                        .push(lower_position(&pattern, &expand, global(a), global(bb)));
                }
                if c.outer {
                    for &(a, bb) in &PAIRS[..pairs] {
                        c.outer_pos.push(lower_position(
                            &pattern,
                            &expand,
                            global(a as usize),
                            global(bb as usize),
                        ));
                    }
                }
            }
            weighted_products += c.curved_pos.len();
            outer_products += c.outer_pos.len();
            jet_rows += c.rows.len();
            if c.curved_rows() {
                curved_rows += c.rows.len();
            }
        }
        frozen.sort_by_key(|f| (f.source, f.k, f.outer));
        let mut frozen_rows = 0;
        for fc in &mut frozen {
            frozen_rows += fc.rows.len();
            if !fc.outer {
                continue;
            }
            let (k, pairs) = (fc.k, fc.k * (fc.k + 1) / 2);
            for (vars, grad) in fc.vars.chunks_exact(k).zip(fc.grad.chunks_exact(k)) {
                for &(a, b) in &PAIRS[..pairs] {
                    let (a, b) = (a as usize, b as usize);
                    fc.pos.push(lower_position(
                        &pattern,
                        &expand,
                        vars[a] as usize,
                        vars[b] as usize,
                    ));
                    fc.gg.push(grad[a] * grad[b]);
                }
            }
            fc.variable.reserve_exact(fc.rows.len());
        }
        let nnz = pattern.nnz();
        let matrix = pattern.to_sprs_with_values(vec![0.0; nnz])?;
        let info = CompositeInfo {
            variables: n,
            objective_rows: np,
            residual_rows: m,
            nnz,
            jacobian_nnz,
            curved_rows,
            frozen_rows,
            quadratic_rows: quadratic.len(),
            jet_rows,
            weighted_products,
            outer_products,
            base_products: 0,
            classes: classes.len(),
            max_local_vars,
            max_lanes: classes.iter().map(|c| c.shape.0).max().unwrap_or(0),
        };
        let sines = vec![NO_SIN_COS; trig_vars.len() + 1];
        let mut h = Self {
            objective,
            residuals,
            outer,
            outer_curved,
            frozen_residual,
            trig_vars,
            sines,
            classes,
            frozen,
            pattern,
            matrix,
            lower: vec![0.0; lower_len],
            base: vec![0.0; lower_len],
            dirty: true,
            expand,
            z: vec![0.0; n],
            rows_at_z: false,
            phi_values: vec![0.0; np],
            r_values: vec![0.0; m],
            jac: vec![0.0; jac_len],
            constants,
            quadratic,
            quadratic_pos,
            quadratic_val,
            info,
        };
        h.refresh();
        h.fill_constant_gradients(x0);
        Ok(h)
    }

    /// Writes the gradient entries of the jet rows' lane-less variables (constant partial
    /// derivatives, [`NO_SLOT`]) into the class gradients, from a first-order evaluation at
    /// x0; evaluations never overwrite them.
    fn fill_constant_gradients(&mut self, x0: &[f64]) {
        let mut local = [0.0; MAX_LOCAL_VARS];
        for c in &self.classes {
            let k = c.k;
            if !c.slot_of_local[..k].contains(&NO_SLOT) {
                continue;
            }
            for (ci, (&row, vars)) in c.rows.iter().zip(c.vars.chunks_exact(k)).enumerate() {
                for (l, &v) in local.iter_mut().zip(vars) {
                    *l = x0[v as usize];
                }
                let (_, grad) = match c.source {
                    Source::Objective => first_order(&self.objective, row as usize, &local[..k]),
                    Source::Residual => first_order(&self.residuals, row as usize, &local[..k]),
                };
                let g = &mut self.jac[c.jac_offset + ci * k..c.jac_offset + (ci + 1) * k];
                for a in (0..k).filter(|&a| c.slot_of_local[a] == NO_SLOT) {
                    g[a] = grad[a];
                }
            }
        }
    }
}
