//! The sweeps: one tight loop per (lane count, kind of sweep), a single `match` per
//! instruction, lanes as fixed-size arrays so that the lane loops unroll.
//!
//! Storage: every sweep works on slots (see [`Program`]); slot s holds the value at
//! `val[s]`, the tangent lanes at `tan[s·P..s·P+P]`, the adjoint lanes at `adj[s·A..]` and
//! the adjoint-tangent lanes at `adt[s·P..]`. Inputs live in slots `0..n`, so the first
//! `n·P` entries of `tan` (or `adt`) are exactly an n×P row-major block. Forward sweeps push
//! what the reverse sweep needs (local first derivatives and, for second order, the terms
//! `φ″·ṫ`) onto a stack that the reverse sweep pops.
#![allow(clippy::needless_range_loop)] // lane loops index several arrays at once

use super::program::{Code, Guard, Ins, Kind, Operand, Program};
use crate::op::{Binary, Curvature, code_match};

/// Largest number of lanes of one sweep; wider blocks are split into chunks.
pub(crate) const MAX_LANES: usize = 8;

/// All buffers of the sweeps, sized at first use and reused after.
#[derive(Debug, Clone, Default)]
pub(crate) struct Workspace {
    pub(crate) val: Vec<f64>,
    pub(crate) tan: Vec<f64>,
    pub(crate) adj: Vec<f64>,
    pub(crate) adt: Vec<f64>,
    pub(crate) stack: Vec<f64>,
}

/// Grows `v` to at least `len` (never shrinks: later calls with fewer lanes reuse it).
pub(crate) fn ensure(v: &mut Vec<f64>, len: usize) {
    if v.len() < len {
        v.resize(len, 0.0);
    }
}

/// Calls `$f::<P>(args)` with the lane count `$p` (1..=MAX_LANES) as a constant.
macro_rules! with_lanes {
    ($p:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match $p {
            1 => $f::<1>($($arg),*),
            2 => $f::<2>($($arg),*),
            3 => $f::<3>($($arg),*),
            4 => $f::<4>($($arg),*),
            5 => $f::<5>($($arg),*),
            6 => $f::<6>($($arg),*),
            7 => $f::<7>($($arg),*),
            _ => $f::<8>($($arg),*),
        }
    };
}
pub(crate) use with_lanes;

#[inline(always)]
pub(crate) fn load<const P: usize>(v: &[f64], s: usize) -> [f64; P] {
    let mut out = [0.0; P];
    out.copy_from_slice(&v[s * P..s * P + P]);
    out
}

/// `w·t`, lane by lane.
#[inline(always)]
pub(crate) fn scaled<const P: usize>(w: f64, t: &[f64; P]) -> [f64; P] {
    let mut out = [0.0; P];
    for l in 0..P {
        out[l] = w * t[l];
    }
    out
}

/// `u·s + w·t`, lane by lane.
#[inline(always)]
pub(crate) fn combined<const P: usize>(u: f64, s: &[f64; P], w: f64, t: &[f64; P]) -> [f64; P] {
    let mut out = [0.0; P];
    for l in 0..P {
        out[l] = u * s[l] + w * t[l];
    }
    out
}

/// The second-order tangent terms of a binary operation, `qa = faa·ta + fab·tb` and
/// `qb = fab·ta + fbb·tb`, without the products its curvature makes zero.
#[inline(always)]
pub(crate) fn binary_terms<const P: usize>(
    curvature: Curvature,
    (faa, fab, fbb): (f64, f64, f64),
    ta: &[f64; P],
    tb: &[f64; P],
) -> ([f64; P], [f64; P]) {
    match curvature {
        Curvature::Linear => ([0.0; P], [0.0; P]),
        Curvature::Bilinear => (scaled(fab, tb), scaled(fab, ta)),
        Curvature::NonlinearInSecond => (scaled(fab, tb), combined(fab, ta, fbb, tb)),
        Curvature::Nonlinear => (combined(faa, ta, fab, tb), combined(fab, ta, fbb, tb)),
    }
}

/// A forward sweep over `ins` with `P` tangent lanes (0: values only). With `PUSH`, stores
/// what the reverse sweep needs: first derivatives if `P == 0`, first derivatives and
/// second-order tangent terms otherwise. Returns the new stack pointer.
#[inline(never)]
pub(crate) fn forward<const P: usize, const PUSH: bool>(
    ins: &[Ins],
    consts: &[f64],
    val: &mut [f64],
    tan: &mut [f64],
    stack: &mut [f64],
    mut sp: usize,
) -> usize {
    for i in ins {
        let d = i.dst as usize;
        let a = i.a as usize;
        let b = i.b as usize;
        // Lanes of this instruction's own tangent: all of them for a JVP, and for an HVP
        // only when the node is upstream of a curved operation (see `Program`).
        let lanes = P > 0 && (!PUSH || i.curved);
        // `un!(Kind, rule)`, `bin!(Kind, op)`: the step of one opcode (see `crate::op`).
        macro_rules! un {
            ($kind:ident, $eval:expr) => {{
                let (v, d1, d2) = $eval;
                val[d] = v;
                if PUSH && Kind::$kind != Kind::Affine {
                    stack[sp] = d1;
                    sp += 1;
                    if P > 0 && Kind::$kind == Kind::Full {
                        let ta = load::<P>(tan, a);
                        for l in 0..P {
                            stack[sp + l] = d2 * ta[l];
                        }
                        sp += P;
                    }
                }
                if lanes {
                    let tz = scaled(d1, &load::<P>(tan, a));
                    tan[d * P..d * P + P].copy_from_slice(&tz);
                }
            }};
        }
        macro_rules! bin {
            ($kind:ident, $op:expr) => {{
                let op: Binary = $op;
                let (v, fa, fb, faa, fab, fbb) = op.eval(val[a], val[b]);
                val[d] = v;
                if PUSH && Kind::$kind != Kind::Affine {
                    stack[sp] = fa;
                    stack[sp + 1] = fb;
                    sp += 2;
                    if P > 0 && Kind::$kind == Kind::Full {
                        let (ta, tb) = (load::<P>(tan, a), load::<P>(tan, b));
                        let (qa, qb) = binary_terms(op.curvature(), (faa, fab, fbb), &ta, &tb);
                        stack[sp..sp + P].copy_from_slice(&qa);
                        stack[sp + P..sp + 2 * P].copy_from_slice(&qb);
                        sp += 2 * P;
                    }
                }
                if lanes {
                    let tz = combined(fa, &load::<P>(tan, a), fb, &load::<P>(tan, b));
                    tan[d * P..d * P + P].copy_from_slice(&tz);
                }
            }};
        }
        code_match!(i.code, val[a], consts[b], un, bin, {
            Code::Const => {
                val[d] = consts[b];
                if lanes {
                    tan[d * P..d * P + P].fill(0.0);
                }
            }
            Code::Fused => unreachable!("fused instructions only occur in segmented programs"),
        });
    }
    sp
}

/// A first-order reverse sweep with `A` adjoint lanes, popping what
/// `forward::<0, true>` pushed.
#[inline(never)]
pub(crate) fn reverse_first<const A: usize>(
    ins: &[Ins],
    consts: &[f64],
    adj: &mut [f64],
    stack: &[f64],
    mut sp: usize,
) {
    for i in ins.iter().rev() {
        let d = i.dst as usize;
        let a = i.a as usize;
        let b = i.b as usize;
        let az = load::<A>(adj, d);
        adj[d * A..d * A + A].fill(0.0);
        macro_rules! to {
            ($s:expr, $f:expr) => {{
                let f = $f;
                for l in 0..A {
                    adj[$s * A + l] += az[l] * f;
                }
            }};
        }
        macro_rules! un {
            (Affine, $rule:expr) => {
                to!(a, $rule.1)
            };
            ($kind:ident, $rule:expr) => {{
                sp -= 1;
                to!(a, stack[sp]);
            }};
        }
        macro_rules! bin {
            (Affine, $op:expr) => {{
                to!(a, $op.eval(0.0, 0.0).1);
                to!(b, $op.eval(0.0, 0.0).2);
            }};
            ($kind:ident, $op:expr) => {{
                sp -= 2;
                to!(a, stack[sp]);
                to!(b, stack[sp + 1]);
            }};
        }
        code_match!(i.code, 0.0, consts[b], un, bin, {
            Code::Const => {}
            Code::Fused => unreachable!("fused instructions only occur in segmented programs"),
        });
    }
    debug_assert_eq!(sp, 0);
}

/// A second-order reverse sweep (one adjoint, `P` adjoint-tangent lanes), popping what
/// `forward::<P, true>` pushed.
#[cfg(test)]
#[inline(never)]
pub(crate) fn reverse_second<const P: usize>(
    ins: &[Ins],
    consts: &[f64],
    adj: &mut [f64],
    adt: &mut [f64],
    stack: &[f64],
    mut sp: usize,
) {
    for i in ins.iter().rev() {
        let d = i.dst as usize;
        let a = i.a as usize;
        let b = i.b as usize;
        let az = adj[d];
        adj[d] = 0.0;
        // Adjoint-tangent lanes of nodes that are not upstream of a curved operation are
        // structurally zero: never read, written or propagated.
        let curved = i.curved;
        let mut tz = [0.0; P];
        if curved {
            tz = load::<P>(adt, d);
            adt[d * P..d * P + P].fill(0.0);
        }
        macro_rules! to {
            ($s:expr, $f:expr) => {{
                let f = $f;
                adj[$s] += az * f;
                if curved {
                    for l in 0..P {
                        adt[$s * P + l] += tz[l] * f;
                    }
                }
            }};
            ($s:expr, $f:expr, $q:expr) => {{
                let f = $f;
                let q = $q;
                adj[$s] += az * f;
                if curved {
                    for l in 0..P {
                        adt[$s * P + l] += tz[l] * f + az * q[l];
                    }
                } else {
                    for l in 0..P {
                        adt[$s * P + l] += az * q[l];
                    }
                }
            }};
        }
        macro_rules! un {
            (Affine, $rule:expr) => {
                to!(a, $rule.1)
            };
            (First, $rule:expr) => {{
                sp -= 1;
                to!(a, stack[sp]);
            }};
            (Full, $rule:expr) => {{
                sp -= 1 + P;
                to!(a, stack[sp], &stack[sp + 1..sp + 1 + P]);
            }};
        }
        macro_rules! bin {
            (Affine, $op:expr) => {{
                to!(a, $op.eval(0.0, 0.0).1);
                to!(b, $op.eval(0.0, 0.0).2);
            }};
            (First, $op:expr) => {{
                sp -= 2;
                to!(a, stack[sp]);
                to!(b, stack[sp + 1]);
            }};
            (Full, $op:expr) => {{
                sp -= 2 + 2 * P;
                to!(a, stack[sp], &stack[sp + 2..sp + 2 + P]);
                to!(b, stack[sp + 1], &stack[sp + 2 + P..sp + 2 + 2 * P]);
            }};
        }
        code_match!(i.code, 0.0, consts[b], un, bin, {
            Code::Const => {}
            Code::Fused => unreachable!("fused instructions only occur in segmented programs"),
        });
    }
    debug_assert_eq!(sp, 0);
}

/// The value of a guard operand.
#[inline]
pub(crate) fn operand(op: Operand, val: &[f64]) -> f64 {
    match op {
        Operand::Node(s) => val[s as usize],
        Operand::Const(c) => c,
    }
}

/// A guard that failed: its index and the values compared.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Broken {
    pub(crate) guard: usize,
    pub(crate) lhs: f64,
    pub(crate) rhs: f64,
    pub(crate) now: Option<std::cmp::Ordering>,
    pub(crate) recorded: Option<std::cmp::Ordering>,
}

/// Runs the forward sweep of the whole program, checking every guard before the
/// instruction it precedes. The inputs (values, tangents) must already be in their slots.
/// Returns the stack pointer.
pub(crate) fn run_forward<const P: usize, const PUSH: bool>(
    prog: &Program,
    val: &mut [f64],
    tan: &mut [f64],
    stack: &mut [f64],
) -> Result<usize, Broken> {
    let mut sp = 0;
    let mut start = 0;
    let guards: &[Guard] = &prog.guards;
    let mut g = 0;
    while g < guards.len() {
        let pos = guards[g].pos as usize;
        sp = forward::<P, PUSH>(&prog.ins[start..pos], &prog.consts, val, tan, stack, sp);
        start = pos;
        while g < guards.len() && guards[g].pos as usize == pos {
            let gd = &guards[g];
            let (lhs, rhs) = (operand(gd.lhs, val), operand(gd.rhs, val));
            let now = lhs.partial_cmp(&rhs);
            if now != gd.outcome {
                return Err(Broken {
                    guard: g,
                    lhs,
                    rhs,
                    now,
                    recorded: gd.outcome,
                });
            }
            g += 1;
        }
    }
    sp = forward::<P, PUSH>(&prog.ins[start..], &prog.consts, val, tan, stack, sp);
    Ok(sp)
}
