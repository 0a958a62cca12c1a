//! The numeric evaluation, allocation-free: the frozen rows, the jet classes (values,
//! gradients, weighted Hessians), JᵀDJ, and the expansion of the lower triangle into the CSR
//! values of both triangles; f and ∇f from the same rows.

use std::time::{Duration, Instant};

use num_dual::DualNum;
use sparsediff_ad::Elementary;
use sprs::CsMat;

use crate::RowFunctions;
use crate::error::CompositeError;
use crate::hessian::CompositeHessian;
use crate::jet::{Jet, MAX_LOCAL_VARS, MAX_PAIRS, PAIRS, with_shape};
use crate::outer::Outer;
use crate::symbolic::{Class, FrozenClass, NO_SLOT, Source, first_order};

/// Where one [`CompositeHessian::profile`] evaluation spent its time.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StageTimes {
    /// The objective terms φ_k evaluated on jets, their Hessians added in.
    pub objective: Duration,
    /// The affine residuals: `r = c + g·z` and `ψ″(r)·ggᵀ` for the frozen rows whose ψ″ is not
    /// constant; r and J on first-order jets for affine rows that are not frozen.
    pub affine_residuals: Duration,
    /// r, J and `ψ′·∇²r` added in, for the curved residuals (one second-order jet pass).
    pub curved_residuals: Duration,
    /// The curved residuals again, r and J only (first-order jets; measured separately, not
    /// part of an evaluation): `curved_residuals − this` is the price of their weighted
    /// Hessian.
    pub curved_first_order: Duration,
    /// JᵀDJ of the jet rows added in.
    pub outer_products: Duration,
    /// Copying the base matrix, mirroring the lower triangle, the finiteness check (and
    /// rebuilding the base after a change of a constant ψ″).
    pub assemble: Duration,
}

impl StageTimes {
    /// The evaluation's total (without [`curved_first_order`](Self::curved_first_order)).
    pub fn total(&self) -> Duration {
        self.objective
            + self.affine_residuals
            + self.curved_residuals
            + self.outer_products
            + self.assemble
    }

    fn slot(&mut self, stage: Stage) -> &mut Duration {
        match stage {
            Stage::Objective => &mut self.objective,
            Stage::Affine => &mut self.affine_residuals,
            Stage::Curved => &mut self.curved_residuals,
            Stage::Outer => &mut self.outer_products,
            Stage::Assemble => &mut self.assemble,
        }
    }
}

/// The stages of [`StageTimes`].
#[derive(Debug, Clone, Copy)]
enum Stage {
    Objective,
    Affine,
    Curved,
    Outer,
    Assemble,
}

impl<P: RowFunctions, R: RowFunctions> CompositeHessian<P, R> {
    /// Rebuilds the base matrix (JᵀDJ of the frozen rows with a constant ψ″) and the lists
    /// of frozen rows whose ψ″ varies.
    pub(crate) fn refresh(&mut self) {
        let base = &mut self.base;
        base.fill(0.0);
        for (&p, &v) in self.quadratic_pos.iter().zip(&self.quadratic_val) {
            base[p as usize] += v;
        }
        let (mut base_products, mut variable_products) = (self.quadratic_pos.len(), 0);
        for fc in self.frozen.iter_mut().filter(|f| f.outer) {
            let pairs = fc.k * (fc.k + 1) / 2;
            fc.variable.clear();
            for (ix, &row) in fc.rows.iter().enumerate() {
                match self.outer[row as usize].constant_curvature() {
                    Some(d) => {
                        let span = ix * pairs..(ix + 1) * pairs;
                        for (&p, &gg) in fc.pos[span.clone()].iter().zip(&fc.gg[span]) {
                            base[p as usize] += d * gg;
                        }
                        base_products += pairs;
                    }
                    None => {
                        fc.variable.push(ix as u32);
                        variable_products += pairs;
                    }
                }
            }
        }
        let jet_products: usize = self.classes.iter().map(|c| c.outer_pos.len()).sum();
        self.info.base_products = base_products;
        self.info.outer_products = jet_products + variable_products;
        self.dirty = false;
    }

    /// ∇²f(z) (CSR, both triangles, the pattern's order). Allocates nothing; errors on a
    /// wrong length or a non-finite entry.
    pub fn evaluate(&mut self, z: &[f64]) -> Result<&CsMat<f64>, CompositeError> {
        self.run(z, None)?;
        Ok(&self.matrix)
    }

    /// One [`evaluate`](Self::evaluate), timed stage by stage, plus the curved residuals'
    /// first-order cost measured separately (see [`StageTimes`]).
    pub fn profile(&mut self, z: &[f64]) -> Result<StageTimes, CompositeError> {
        let mut times = StageTimes::default();
        self.run(z, Some(&mut times))?;
        let start = Instant::now();
        let Self {
            residuals,
            classes,
            r_values,
            jac,
            sines,
            ..
        } = self;
        for c in classes
            .iter()
            .filter(|c| c.source == Source::Residual && c.curved_rows())
        {
            let jac = &mut jac[c.jac_offset..c.jac_offset + c.rows.len() * c.k];
            with_shape!((c.shape.0, 0, 0), |K, B, T| {
                run_class::<_, K, B, T>(residuals, c, z, sines, r_values, jac, &mut [], |_, _| 0.0)
            });
        }
        times.curved_first_order = start.elapsed();
        Ok(times)
    }

    fn run(&mut self, z: &[f64], mut times: Option<&mut StageTimes>) -> Result<(), CompositeError> {
        let n = self.info.variables;
        if z.len() != n {
            return Err(CompositeError::WrongLength {
                what: "z",
                len: z.len(),
                expected: n,
            });
        }
        let mut clock = Instant::now();
        let mut lap = |stage: Stage| {
            if let Some(t) = times.as_deref_mut() {
                let now = Instant::now();
                *t.slot(stage) += now - clock;
                clock = now;
            }
        };
        if self.dirty {
            self.refresh();
        }
        let Self {
            objective,
            residuals,
            outer,
            classes,
            frozen,
            matrix,
            lower,
            base,
            expand,
            z: z_last,
            phi_values,
            r_values,
            jac,
            trig_vars,
            sines,
            rows_at_z,
            ..
        } = self;
        let values = &mut lower[..];
        values.copy_from_slice(base);
        *rows_at_z = false;
        z_last.copy_from_slice(z);
        lap(Stage::Assemble);
        for fc in frozen.iter().filter(|f| !f.variable.is_empty()) {
            match fc.k {
                1 => frozen_class::<1>(fc, z, outer, r_values, values),
                2 => frozen_class::<2>(fc, z, outer, r_values, values),
                3 => frozen_class::<3>(fc, z, outer, r_values, values),
                4 => frozen_class::<4>(fc, z, outer, r_values, values),
                5 => frozen_class::<5>(fc, z, outer, r_values, values),
                6 => frozen_class::<6>(fc, z, outer, r_values, values),
                7 => frozen_class::<7>(fc, z, outer, r_values, values),
                _ => frozen_class::<8>(fc, z, outer, r_values, values),
            }
        }
        lap(Stage::Affine);
        // the sines and cosines the jet rows take of their variables, once per variable
        for (sc, &v) in sines[1..].iter_mut().zip(trig_vars.iter()) {
            let (s, c) = z[v as usize].sin_cos();
            *sc = [s, c];
        }
        for c in classes.iter() {
            let jac = &mut jac[c.jac_offset..c.jac_offset + c.rows.len() * c.k];
            match c.source {
                Source::Objective => with_shape!(c.shape, |K, B, T| {
                    run_class::<_, K, B, T>(
                        objective,
                        c,
                        z,
                        sines,
                        phi_values,
                        jac,
                        values,
                        |_, _| 1.0,
                    )
                }),
                Source::Residual => with_shape!(c.shape, |K, B, T| {
                    run_class::<_, K, B, T>(
                        residuals,
                        c,
                        z,
                        sines,
                        r_values,
                        jac,
                        values,
                        |i, r| outer[i].d1(r),
                    )
                }),
            }
            lap(match (c.source, c.curved_rows()) {
                (Source::Objective, _) => Stage::Objective,
                (Source::Residual, false) => Stage::Affine,
                (Source::Residual, true) => Stage::Curved,
            });
        }
        *rows_at_z = true;
        for c in classes.iter().filter(|c| c.outer) {
            let jac = &jac[c.jac_offset..c.jac_offset + c.rows.len() * c.k];
            match c.k {
                1 => outer_class::<1>(c, outer, r_values, jac, values),
                2 => outer_class::<2>(c, outer, r_values, jac, values),
                3 => outer_class::<3>(c, outer, r_values, jac, values),
                4 => outer_class::<4>(c, outer, r_values, jac, values),
                5 => outer_class::<5>(c, outer, r_values, jac, values),
                6 => outer_class::<6>(c, outer, r_values, jac, values),
                7 => outer_class::<7>(c, outer, r_values, jac, values),
                _ => outer_class::<8>(c, outer, r_values, jac, values),
            }
        }
        lap(Stage::Outer);
        let values = matrix.data_mut();
        if !expand_finite(lower, expand, values)
            && let Some(index) = values.iter().position(|v| !v.is_finite())
        {
            return Err(CompositeError::NonFinite {
                what: "Hessian entry",
                index,
                value: values[index],
            });
        }
        lap(Stage::Assemble);
        Ok(())
    }

    /// Calls `visit(source, row, value, gradient in local order as (var, ∂))` for every row at
    /// the stored point `z`, from the stored jet results and the frozen rows.
    fn visit_rows(
        &self,
        mut visit: impl FnMut(Source, usize, f64, &mut dyn Iterator<Item = (usize, f64)>),
    ) {
        for c in &self.classes {
            let jac = &self.jac[c.jac_offset..c.jac_offset + c.rows.len() * c.k];
            for (ci, &row) in c.rows.iter().enumerate() {
                let row = row as usize;
                let value = match c.source {
                    Source::Objective => self.phi_values[row],
                    Source::Residual => self.r_values[row],
                };
                let vars = &c.vars[ci * c.k..(ci + 1) * c.k];
                let g = &jac[ci * c.k..(ci + 1) * c.k];
                let mut grad = vars.iter().zip(g).map(|(&v, &g)| (v as usize, g));
                visit(c.source, row, value, &mut grad);
            }
        }
        for &(source, row, value) in &self.constants {
            visit(source, row as usize, value, &mut std::iter::empty());
        }
        let mut local = [0.0; MAX_LOCAL_VARS];
        for &row in &self.quadratic {
            let row = row as usize;
            let vars = self.objective.vars(row);
            for (l, &v) in local.iter_mut().zip(vars) {
                *l = self.z[v];
            }
            let (value, g) = first_order(&self.objective, row, &local[..vars.len()]);
            let mut grad = vars.iter().zip(g).map(|(&v, g)| (v, g));
            visit(Source::Objective, row, value, &mut grad);
        }
        for fc in &self.frozen {
            let k = fc.k;
            for (ix, &row) in fc.rows.iter().enumerate() {
                let vars = &fc.vars[ix * k..(ix + 1) * k];
                let g = &fc.grad[ix * k..(ix + 1) * k];
                let value = fc.offset[ix]
                    + vars
                        .iter()
                        .zip(g)
                        .map(|(&v, &g)| g * self.z[v as usize])
                        .sum::<f64>();
                let mut grad = vars.iter().zip(g).map(|(&v, &g)| (v as usize, g));
                visit(fc.source, row as usize, value, &mut grad);
            }
        }
    }

    /// Whether the stored rows (values and gradients) are those at z, bitwise.
    fn rows_at(&self, z: &[f64]) -> bool {
        self.rows_at_z
            && self
                .z
                .iter()
                .zip(z)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }

    /// The rows' values and gradients at z, on first-order jets (no Hessian entries): what
    /// [`gradient`](Self::gradient) needs when the last evaluation was elsewhere.
    fn first_order_rows(&mut self, z: &[f64]) {
        let Self {
            objective,
            residuals,
            classes,
            z: z_last,
            phi_values,
            r_values,
            jac,
            trig_vars,
            sines,
            rows_at_z,
            ..
        } = self;
        *rows_at_z = false;
        z_last.copy_from_slice(z);
        for (sc, &v) in sines[1..].iter_mut().zip(trig_vars.iter()) {
            let (s, c) = z[v as usize].sin_cos();
            *sc = [s, c];
        }
        for c in classes.iter() {
            let jac = &mut jac[c.jac_offset..c.jac_offset + c.rows.len() * c.k];
            with_shape!((c.shape.0, 0, 0), |K, B, T| match c.source {
                Source::Objective => {
                    run_class::<_, K, B, T>(
                        objective,
                        c,
                        z,
                        sines,
                        phi_values,
                        jac,
                        &mut [],
                        |_, _| 0.0,
                    )
                }
                Source::Residual => {
                    run_class::<_, K, B, T>(
                        residuals,
                        c,
                        z,
                        sines,
                        r_values,
                        jac,
                        &mut [],
                        |_, _| 0.0,
                    )
                }
            });
        }
        *rows_at_z = true;
    }

    /// ∇f(z) into `grad` (length n) with the current outer functions, `Σ_k ∇φ_k + Jᵀψ′(r)`;
    /// returns f(z). The rows' values and gradients are those of the last
    /// [`evaluate`](Self::evaluate) if it was at z (a Newton step asks for both at one
    /// point), and otherwise come from one pass over the rows on first-order jets.
    /// Allocates nothing; errors on a wrong length.
    pub fn gradient(&mut self, z: &[f64], grad: &mut [f64]) -> Result<f64, CompositeError> {
        let n = self.info.variables;
        for (what, len) in [("z", z.len()), ("gradient buffer", grad.len())] {
            if len != n {
                return Err(CompositeError::WrongLength {
                    what,
                    len,
                    expected: n,
                });
            }
        }
        if !self.rows_at(z) {
            self.first_order_rows(z);
        }
        grad.fill(0.0);
        let mut total = 0.0;
        self.visit_rows(|source, row, value, g| {
            let (psi, d1) = match source {
                Source::Objective => (value, 1.0),
                Source::Residual => {
                    let [psi, d1, _] = self.outer[row].eval(value);
                    (psi, d1)
                }
            };
            total += psi;
            for (v, d) in g {
                grad[v] += d1 * d;
            }
        });
        Ok(total)
    }

    /// f(z) with the current outer functions, `Σ_k φ_k + Σ_i ψ_i(r_i)`: from the stored rows
    /// if they are at z (after an [`evaluate`](Self::evaluate) or a
    /// [`gradient`](Self::gradient) there), otherwise by evaluating every row on `f64`.
    pub fn value(&mut self, z: &[f64]) -> Result<f64, CompositeError> {
        let n = self.info.variables;
        if z.len() != n {
            return Err(CompositeError::WrongLength {
                what: "z",
                len: z.len(),
                expected: n,
            });
        }
        if self.rows_at(z) {
            let mut total = 0.0;
            self.visit_rows(|source, row, value, _| {
                total += match source {
                    Source::Objective => value,
                    Source::Residual => self.outer[row].eval(value)[0],
                }
            });
            return Ok(total);
        }
        let mut local = [0.0; MAX_LOCAL_VARS];
        let mut gather = |vars: &[usize]| {
            for (l, &v) in local.iter_mut().zip(vars) {
                *l = z[v];
            }
            local
        };
        let mut total = 0.0;
        for k in 0..self.objective.num_rows() {
            let vars = self.objective.vars(k);
            total += self.objective.eval(k, &gather(vars)[..vars.len()]);
        }
        for (i, o) in self.outer.iter().enumerate() {
            let vars = self.residuals.vars(i);
            let r = self.residuals.eval(i, &gather(vars)[..vars.len()]);
            total += o.eval(r)[0];
        }
        Ok(total)
    }
}

/// `values[e] = lower[expand[e]]` for every entry, and whether they are all finite: NaN and
/// ±∞ make a sum non-finite (a finite sum proves every entry finite; an overflowing one is
/// checked entry by entry by the caller). Eight partial sums, so the additions are
/// independent.
fn expand_finite(lower: &[f64], expand: &[u32], values: &mut [f64]) -> bool {
    let mut acc = [0.0f64; 8];
    let mut chunks = values.chunks_exact_mut(8);
    let mut index = expand.chunks_exact(8);
    for (v, l) in (&mut chunks).zip(&mut index) {
        for q in 0..8 {
            v[q] = lower[l[q] as usize];
            acc[q] += v[q];
        }
    }
    let mut rest = 0.0;
    for (v, &l) in chunks.into_remainder().iter_mut().zip(index.remainder()) {
        *v = lower[l as usize];
        rest += *v;
    }
    (acc.iter().sum::<f64>() + rest).is_finite()
}

/// Evaluates the rows of one class on jets of shape `(K, B, T)`: stores the row values and
/// gradients (local order), and adds `weight(row, value)·∇²row` on the traced entries into
/// `values`. The seeds of the variables the rows take sines or cosines of get them from
/// `sines` ([`Class::trig`]).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn run_class<F: RowFunctions, const K: usize, const B: usize, const T: usize>(
    f: &F,
    c: &Class,
    z: &[f64],
    sines: &[[f64; 2]],
    row_values: &mut [f64],
    jac: &mut [f64],
    values: &mut [f64],
    weight: impl Fn(usize, f64) -> f64,
) where
    Jet<K, B, T>: DualNum<Primitive = f64>,
{
    let k = c.k;
    // padding lanes (a ≥ k) are never passed to the row
    let mut local: [Jet<K, B, T>; MAX_LOCAL_VARS] = std::array::from_fn(|a| {
        if a < k && c.slot_of_local[a] != NO_SLOT {
            Jet::variable(0.0, c.slot_of_local[a] as usize)
        } else {
            Jet::constant(0.0)
        }
    });
    // (local variable, lane) of the variables with a lane; the others' gradient entries
    // were filled in at prepare and are not touched
    let mut lanes = [(0usize, 0usize); MAX_LOCAL_VARS];
    let mut nl = 0;
    for (a, &s) in c.slot_of_local[..k].iter().enumerate() {
        if s != NO_SLOT {
            lanes[nl] = (a, s as usize);
            nl += 1;
        }
    }
    let lanes = &lanes[..nl];
    let np = c.curved.len();
    let mut curved_pos = c.curved_pos.chunks_exact(np.max(1));
    // empty (no chunk) for the classes without sines
    let mut trig = c.trig.chunks_exact(k);
    for ((&row, vars), g) in c
        .rows
        .iter()
        .zip(c.vars.chunks_exact(k))
        .zip(jac.chunks_exact_mut(k))
    {
        match trig.next() {
            Some(t) => {
                for ((l, &v), &t) in local.iter_mut().zip(vars).zip(t) {
                    l.seed_sin_cos(z[v as usize], sines[t as usize]);
                }
            }
            None => {
                for (l, &v) in local.iter_mut().zip(vars) {
                    l.re = z[v as usize];
                }
            }
        }
        let row = row as usize;
        let y = f.eval(row, &local[..k]);
        row_values[row] = y.re;
        for &(a, s) in lanes {
            g[a] = y.g[s];
        }
        if T > 0 {
            let w = weight(row, y.re);
            if let Some(pos) = curved_pos.next() {
                for (&t, &p) in c.curved.iter().zip(pos) {
                    values[p as usize] += w * y.h[t as usize];
                }
            }
        }
    }
}

/// Adds `ψ″(r_i)·g_i g_iᵀ` (lower triangle) for the jet rows of one class with K variables.
#[inline(never)]
fn outer_class<const K: usize>(
    c: &Class,
    outer: &[Outer],
    r_values: &[f64],
    jac: &[f64],
    values: &mut [f64],
) {
    let np = K * (K + 1) / 2;
    for ((&row, g), pos) in c
        .rows
        .iter()
        .zip(jac.chunks_exact(K))
        .zip(c.outer_pos.chunks_exact(np))
    {
        let row = row as usize;
        let d = outer[row].d2(r_values[row]);
        if d == 0.0 {
            continue;
        }
        for t in 0..np {
            let (i, j) = PAIRS[t];
            values[pos[t] as usize] += d * g[i as usize] * g[j as usize];
        }
    }
}

/// For the frozen rows with K variables whose ψ″ varies: `r = c + g·z`, and
/// `ψ″(r)·ggᵀ` added in.
#[inline(never)]
fn frozen_class<const K: usize>(
    fc: &FrozenClass,
    z: &[f64],
    outer: &[Outer],
    r_values: &mut [f64],
    values: &mut [f64],
) {
    let np = K * (K + 1) / 2;
    for &ix in &fc.variable {
        let ix = ix as usize;
        let row = fc.rows[ix] as usize;
        let vars = &fc.vars[ix * K..(ix + 1) * K];
        let g = &fc.grad[ix * K..(ix + 1) * K];
        let mut r = fc.offset[ix];
        for a in 0..K {
            r += g[a] * z[vars[a] as usize];
        }
        r_values[row] = r;
        let d = outer[row].d2(r);
        if d == 0.0 {
            continue;
        }
        let pos = &fc.pos[ix * np..(ix + 1) * np];
        let gg = &fc.gg[ix * np..(ix + 1) * np];
        for t in 0..np {
            values[pos[t] as usize] += d * gg[t];
        }
    }
}

const _: () = assert!(MAX_PAIRS == PAIRS.len());
