//! Replaying a [`Segmented`] program: per segment, the forward lane sweep (values,
//! tangents of curved nodes, local derivatives, eager terms finished on the spot, guards
//! checked before the instruction they precede), then the reverse lane sweep of the
//! segment's other instructions.

#![allow(clippy::needless_range_loop)] // lane loops index several arrays at once

use super::flag::*;
use super::{SIns, Segmented};
use crate::op::{Binary, code_match, rule};
use crate::tape::program::{Code, Guard, Kind};
use crate::tape::sweep::{Broken, binary_terms, combined, operand, scaled};

impl Segmented {
    /// One forward-over-reverse sweep with `P` lanes: the inputs' values and tangents must
    /// be in their slots, `adj` and `adt` zero. Leaves the inputs' adjoint-tangents in
    /// `adt[..n·P]`; returns the output value.
    pub(crate) fn hvp<const P: usize>(
        &self,
        val: &mut [f64],
        tan: &mut [f64],
        adj: &mut [f64],
        adt: &mut [f64],
        stack: &mut [f64],
    ) -> Result<f64, Broken> {
        let acc = self.sweep::<P>(&self.ins, &self.consts, val, tan, adj, adt, stack)?;
        Ok(self.output_value(val) + acc)
    }

    /// The output value's part that no instruction computes: the constant and the inputs
    /// read by folded instructions (inputs' values in `val[..n]`).
    pub(crate) fn output_value(&self, val: &[f64]) -> f64 {
        let mut value = self.constant;
        for &(j, w) in &self.input_seeds {
            value += w * val[j as usize];
        }
        value
    }

    /// The sweeps of [`hvp`](Self::hvp) of the instructions `ins` (this program's, or a
    /// chunk's range of its split's array) with the constants `consts` (a chunk's program
    /// reads its parent's pool, see `split.rs`); returns the sum of the seeded values.
    #[allow(clippy::too_many_arguments)] // the buffers of one sweep
    pub(crate) fn sweep<const P: usize>(
        &self,
        ins: &[SIns],
        consts: &[f64],
        val: &mut [f64],
        tan: &mut [f64],
        adj: &mut [f64],
        adt: &mut [f64],
        stack: &mut [f64],
    ) -> Result<f64, Broken> {
        // The sweeps index these without bounds checks.
        let ns = self.nslots;
        assert!(
            val.len() >= ns
                && tan.len() >= ns * P
                && adj.len() >= ns
                && adt.len() >= ns * P
                && stack.len() >= self.stack_len(P)
                && consts.len() >= self.consts_len
                && self.bounds.last().is_none_or(|&e| e as usize == ins.len()),
            "segmented sweep buffers too short, or instructions not the program's"
        );
        let mut acc = 0.0;
        let mut g = 0;
        let mut st = State {
            consts,
            val,
            tan,
            adj,
            adt,
            stack,
        };
        for (w, &reversed) in self.bounds.windows(2).zip(&self.reversed) {
            let (s, e) = (w[0] as usize, w[1] as usize);
            // Forward, checking every guard before the instruction it precedes.
            let mut sp = 0;
            let mut from = s;
            while g < self.guards.len() && (self.guards[g].pos as usize) < e {
                let at = self.guards[g].pos as usize;
                sp = forward::<P>(&ins[from..at], &mut st, sp, &mut acc);
                from = at;
                check(&self.guards[g], g, st.val)?;
                g += 1;
            }
            sp = forward::<P>(&ins[from..e], &mut st, sp, &mut acc);
            if reversed {
                reverse::<P>(&ins[s..e], &mut st, sp);
            }
        }
        while g < self.guards.len() {
            check(&self.guards[g], g, st.val)?;
            g += 1;
        }
        Ok(acc)
    }
}

/// A buffer of a sweep indexed without bounds checks (checked in debug builds): the
/// indices come from a program that [`Segmented::validate`] checked against its slot count,
/// constant pool and stack length, and [`Segmented::hvp`] checks the buffer lengths.
struct Buf<'a> {
    ptr: *mut f64,
    len: usize,
    _life: std::marker::PhantomData<&'a mut [f64]>,
}

impl<'a> Buf<'a> {
    /// # Safety
    /// Every index (and range) the holder uses is within `s`.
    #[inline(always)]
    unsafe fn new(s: &'a mut [f64]) -> Buf<'a> {
        Buf {
            ptr: s.as_mut_ptr(),
            len: s.len(),
            _life: std::marker::PhantomData,
        }
    }

    /// Lanes `s·P..s·P + P`.
    #[inline(always)]
    fn load<const P: usize>(&self, s: usize) -> [f64; P] {
        let mut out = [0.0; P];
        out.copy_from_slice(&self[s * P..s * P + P]);
        out
    }
}

impl std::ops::Index<usize> for Buf<'_> {
    type Output = f64;
    #[inline(always)]
    fn index(&self, i: usize) -> &f64 {
        debug_assert!(i < self.len);
        // SAFETY: in bounds by the contract of `Buf::new`.
        unsafe { &*self.ptr.add(i) }
    }
}

impl std::ops::IndexMut<usize> for Buf<'_> {
    #[inline(always)]
    fn index_mut(&mut self, i: usize) -> &mut f64 {
        debug_assert!(i < self.len);
        // SAFETY: in bounds by the contract of `Buf::new`; `&mut self` is exclusive.
        unsafe { &mut *self.ptr.add(i) }
    }
}

impl std::ops::Index<std::ops::Range<usize>> for Buf<'_> {
    type Output = [f64];
    #[inline(always)]
    fn index(&self, r: std::ops::Range<usize>) -> &[f64] {
        debug_assert!(r.start <= r.end && r.end <= self.len);
        // SAFETY: in bounds by the contract of `Buf::new`.
        unsafe { std::slice::from_raw_parts(self.ptr.add(r.start), r.end - r.start) }
    }
}

impl std::ops::IndexMut<std::ops::Range<usize>> for Buf<'_> {
    #[inline(always)]
    fn index_mut(&mut self, r: std::ops::Range<usize>) -> &mut [f64] {
        debug_assert!(r.start <= r.end && r.end <= self.len);
        // SAFETY: in bounds by the contract of `Buf::new`; `&mut self` is exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(r.start), r.end - r.start) }
    }
}

/// The constants, read without bounds checks (see [`Buf`]).
#[derive(Clone, Copy)]
struct Ro<'a>(&'a [f64]);

impl<'a> Ro<'a> {
    /// # Safety
    /// Every index (and range) the holder uses is within `s`.
    #[inline(always)]
    unsafe fn new(s: &'a [f64]) -> Ro<'a> {
        Ro(s)
    }
}

impl std::ops::Index<usize> for Ro<'_> {
    type Output = f64;
    #[inline(always)]
    fn index(&self, i: usize) -> &f64 {
        debug_assert!(i < self.0.len());
        // SAFETY: in bounds by the contract of `Ro::new`.
        unsafe { self.0.get_unchecked(i) }
    }
}

impl std::ops::Index<std::ops::Range<usize>> for Ro<'_> {
    type Output = [f64];
    #[inline(always)]
    fn index(&self, r: std::ops::Range<usize>) -> &[f64] {
        debug_assert!(r.start <= r.end && r.end <= self.0.len());
        // SAFETY: in bounds by the contract of `Ro::new`.
        unsafe { self.0.get_unchecked(r) }
    }
}

/// The buffers of a sweep.
struct State<'a> {
    consts: &'a [f64],
    val: &'a mut [f64],
    tan: &'a mut [f64],
    adj: &'a mut [f64],
    adt: &'a mut [f64],
    stack: &'a mut [f64],
}

fn check(gd: &Guard, g: usize, val: &[f64]) -> Result<(), Broken> {
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
    Ok(())
}

/// `(u(x), u′(x), u″(x))` of a fusable unary code with its constant.
#[inline(always)]
fn ueval(code: Code, c: f64, x: f64) -> (f64, f64, f64) {
    match code {
        Code::Sq => rule::sq(x),
        _ => match code.unary(c) {
            Some(op) => op.eval(x),
            None => unreachable!("fused codes are unary"),
        },
    }
}

/// `ua(x)` and its first two derivatives (`ua = Const`: x itself).
#[inline(always)]
fn inner(ua: Code, c: f64, x: f64) -> (f64, f64, f64) {
    if ua == Code::Const {
        (x, 1.0, 0.0)
    } else {
        ueval(ua, c, x)
    }
}

/// `u2(u1(x))` and its first two derivatives (`u2 = Const`: `u1` alone).
#[inline(always)]
fn compose(u1: Code, c1: f64, u2: Code, c2: f64, x: f64) -> (f64, f64, f64) {
    let (v1, d1, e1) = ueval(u1, c1, x);
    if u2 == Code::Const {
        (v1, d1, e1)
    } else {
        let (v2, d2, e2) = ueval(u2, c2, v1);
        (v2, d2 * d1, e2 * d1 * d1 + d2 * e1)
    }
}

/// The forward sweep of (part of) a segment with `P` lanes: values, tangents of curved
/// nodes, local derivatives and second-order terms on the stack, seeded values into
/// `acc`, and the whole reverse step of eager instructions. Returns the stack pointer.
#[inline(never)]
fn forward<const P: usize>(
    ins: &[SIns],
    st: &mut State<'_>,
    mut sp: usize,
    acc: &mut f64,
) -> usize {
    // SAFETY (all six): `hvp` checked the buffer lengths against the validated program,
    // whose instructions only name slots below `nslots` and constants in the pool, and
    // whose segments push at most `stack_len(P)` values.
    let consts = unsafe { Ro::new(st.consts) };
    let mut val = unsafe { Buf::new(st.val) };
    let mut tan = unsafe { Buf::new(st.tan) };
    let mut adj = unsafe { Buf::new(st.adj) };
    let mut adt = unsafe { Buf::new(st.adt) };
    let mut stack = unsafe { Buf::new(st.stack) };
    let mut sum = *acc;
    for i in ins {
        let d = i.dst as usize;
        let a = i.a as usize;
        let b = i.b as usize;
        let fl = i.flags;
        let eager = fl & EAGER != 0;
        // The seed (the constant adjoint of an eager instruction).
        let seed = if fl & SEEDED != 0 {
            consts[i.c as usize]
        } else {
            0.0
        };
        // `un!(Kind, rule)`, `bin!(Kind, op)`: the step of one opcode (see `crate::op`).
        macro_rules! un {
            ($kind:ident, $eval:expr) => {{
                let (v, d1, d2) = $eval;
                if fl & SEEDED != 0 {
                    sum += seed * v;
                }
                if eager {
                    if fl & ADJ_A != 0 {
                        adj[a] += seed * d1;
                    }
                    if Kind::$kind == Kind::Full {
                        let ta = tan.load::<P>(a);
                        let w = seed * d2;
                        for l in 0..P {
                            adt[a * P + l] += w * ta[l];
                        }
                    }
                } else {
                    val[d] = v;
                    if Kind::$kind != Kind::Affine {
                        stack[sp] = d1;
                        sp += 1;
                        if Kind::$kind == Kind::Full {
                            let ta = tan.load::<P>(a);
                            for l in 0..P {
                                stack[sp + l] = d2 * ta[l];
                            }
                            sp += P;
                        }
                    }
                    if fl & CURVED != 0 {
                        let tz = scaled(d1, &tan.load::<P>(a));
                        tan[d * P..d * P + P].copy_from_slice(&tz);
                    }
                }
            }};
        }
        macro_rules! bin {
            ($kind:ident, $op:expr) => {{
                let op: Binary = $op;
                let (v, fa, fb, faa, fab, fbb) = op.eval(val[a], val[b]);
                if fl & SEEDED != 0 {
                    sum += seed * v;
                }
                let (qa, qb) = if Kind::$kind == Kind::Full {
                    let (ta, tb) = (tan.load::<P>(a), tan.load::<P>(b));
                    binary_terms(op.curvature(), (faa, fab, fbb), &ta, &tb)
                } else {
                    ([0.0; P], [0.0; P])
                };
                if eager {
                    if fl & ADJ_A != 0 {
                        adj[a] += seed * fa;
                    }
                    if fl & ADJ_B != 0 {
                        adj[b] += seed * fb;
                    }
                    if Kind::$kind == Kind::Full {
                        for l in 0..P {
                            adt[a * P + l] += seed * qa[l];
                        }
                        for l in 0..P {
                            adt[b * P + l] += seed * qb[l];
                        }
                    }
                } else {
                    val[d] = v;
                    if Kind::$kind != Kind::Affine {
                        stack[sp] = fa;
                        stack[sp + 1] = fb;
                        sp += 2;
                        if Kind::$kind == Kind::Full {
                            stack[sp..sp + P].copy_from_slice(&qa);
                            stack[sp + P..sp + 2 * P].copy_from_slice(&qb);
                            sp += 2 * P;
                        }
                    }
                    if fl & CURVED != 0 {
                        let tz = combined(fa, &tan.load::<P>(a), fb, &tan.load::<P>(b));
                        tan[d * P..d * P + P].copy_from_slice(&tz);
                    }
                }
            }};
        }
        code_match!(i.code, val[a], consts[b], un, bin, {
            Code::Const => {
                let v = consts[b];
                if fl & SEEDED != 0 {
                    sum += seed * v;
                }
                if !eager {
                    val[d] = v;
                    if fl & CURVED != 0 {
                        tan[d * P..d * P + P].fill(0.0);
                    }
                }
            }
            // The commonest eager shape, a weighted square of a linear combination of
            // (squared) nodes — every least-squares term — without the generic dispatch.
            Code::Fused
                if eager
                    && i.u1 == Code::Sq
                    && matches!(i.u2, Code::Const | Code::Sq)
                    && matches!(i.ua, Code::Const | Code::Sq)
                    && matches!(i.ub, Code::Const | Code::Sq) =>
            {
                let k = i.c as usize + (fl & SEEDED != 0) as usize;
                let blk = &consts[k..k + 7];
                let gamma = if fl & LINC != 0 { blk[2] } else { 0.0 };
                let args = SquareArgs {
                    al: blk[0],
                    be: blk[1],
                    gamma,
                    seed,
                    adj_a: fl & ADJ_A != 0,
                    adj_b: fl & ADJ_B != 0,
                    linc: fl & LINC != 0,
                };
                let (sa, sb) = (i.ua == Code::Sq, i.ub == Code::Sq);
                let bufs = (&val, &tan, &mut adj, &mut adt);
                macro_rules! sq {
                    ($q:literal) => {
                        match (fl & LIN2 != 0, sa, sb) {
                            (false, false, _) => {
                                eager_square::<P, $q, false, false, false>(a, b, &args, bufs)
                            }
                            (false, true, _) => {
                                eager_square::<P, $q, false, true, false>(a, b, &args, bufs)
                            }
                            (true, false, false) => {
                                eager_square::<P, $q, true, false, false>(a, b, &args, bufs)
                            }
                            (true, false, true) => {
                                eager_square::<P, $q, true, false, true>(a, b, &args, bufs)
                            }
                            (true, true, false) => {
                                eager_square::<P, $q, true, true, false>(a, b, &args, bufs)
                            }
                            (true, true, true) => {
                                eager_square::<P, $q, true, true, true>(a, b, &args, bufs)
                            }
                        }
                    };
                }
                sum += if i.u2 == Code::Sq {
                    sq!(true)
                } else {
                    sq!(false)
                };
            }
            Code::Fused => {
                let k = i.c as usize + (fl & SEEDED != 0) as usize;
                let blk = &consts[k..k + 7];
                let (al, be) = (blk[0], blk[1]);
                let two = fl & LIN2 != 0;
                // u(α·ua(a) + β·ub(b) + γ) and its derivatives in a and b.
                let (va, da, ea) = inner(i.ua, blk[5], val[a]);
                let mut x = al * va;
                let (mut db, mut eb) = (0.0, 0.0);
                if two {
                    let vb;
                    (vb, db, eb) = inner(i.ub, blk[6], val[b]);
                    x += be * vb;
                }
                if fl & LINC != 0 {
                    x += blk[2];
                }
                let (v, d1, d2) = compose(i.u1, blk[3], i.u2, blk[4], x);
                if fl & SEEDED != 0 {
                    sum += seed * v;
                }
                let (ga, gb) = (al * da, be * db);
                let (fa, fb) = (d1 * ga, d1 * gb);
                let faa = d2 * ga * ga + d1 * al * ea;
                let ta = tan.load::<P>(a);
                let mut qa = [0.0; P];
                for l in 0..P {
                    qa[l] = faa * ta[l];
                }
                let mut qb = [0.0; P];
                let mut tb = [0.0; P];
                if two {
                    tb = tan.load::<P>(b);
                    let fab = d2 * ga * gb;
                    let fbb = d2 * gb * gb + d1 * be * eb;
                    for l in 0..P {
                        qa[l] += fab * tb[l];
                        qb[l] = fab * ta[l] + fbb * tb[l];
                    }
                }
                if eager {
                    if fl & ADJ_A != 0 {
                        adj[a] += seed * fa;
                    }
                    for l in 0..P {
                        adt[a * P + l] += seed * qa[l];
                    }
                    if two {
                        if fl & ADJ_B != 0 {
                            adj[b] += seed * fb;
                        }
                        for l in 0..P {
                            adt[b * P + l] += seed * qb[l];
                        }
                    }
                } else {
                    val[d] = v;
                    if two {
                        stack[sp] = fa;
                        stack[sp + 1] = fb;
                        stack[sp + 2..sp + 2 + P].copy_from_slice(&qa);
                        stack[sp + 2 + P..sp + 2 + 2 * P].copy_from_slice(&qb);
                        sp += 2 + 2 * P;
                    } else {
                        stack[sp] = fa;
                        stack[sp + 1..sp + 1 + P].copy_from_slice(&qa);
                        sp += 1 + P;
                    }
                    if fl & CURVED != 0 {
                        let tz = combined(fa, &ta, fb, &tb);
                        tan[d * P..d * P + P].copy_from_slice(&tz);
                    }
                }
            }
        });
    }
    *acc = sum;
    sp
}

/// The constants of an eager weighted square `seed·(α·ua(a) + β·ub(b) + γ)²`.
struct SquareArgs {
    al: f64,
    be: f64,
    gamma: f64,
    seed: f64,
    adj_a: bool,
    adj_b: bool,
    linc: bool,
}

/// The whole forward and reverse step of an eager `seed·(α·ua(a) [+ β·ub(b)] [+ γ])²`
/// (`QUAD`: that square squared again, a fourth power) with `ua`, `ub` the identity or a
/// square (`SA`, `SB`), `TWO` for the second node. The same arithmetic, in the same
/// order, as the generic fused step; returns `seed · value` for the output sum.
#[inline(always)]
fn eager_square<
    const P: usize,
    const QUAD: bool,
    const TWO: bool,
    const SA: bool,
    const SB: bool,
>(
    a: usize,
    b: usize,
    k: &SquareArgs,
    (val, tan, adj, adt): (&Buf<'_>, &Buf<'_>, &mut Buf<'_>, &mut Buf<'_>),
) -> f64 {
    let xa = val[a];
    let (va, da, ea) = if SA { rule::sq(xa) } else { (xa, 1.0, 0.0) };
    let mut x = k.al * va;
    let (mut db, mut eb) = (0.0, 0.0);
    if TWO {
        let xb = val[b];
        let vb;
        (vb, db, eb) = if SB { rule::sq(xb) } else { (xb, 1.0, 0.0) };
        x += k.be * vb;
    }
    if k.linc {
        x += k.gamma;
    }
    let (v, d1, d2) = if QUAD {
        // compose(Sq, Sq): the outer square of the inner one, by the chain rule.
        let (v1, d1, e1) = rule::sq(x);
        let (v2, d2, e2) = rule::sq(v1);
        (v2, d2 * d1, e2 * d1 * d1 + d2 * e1)
    } else {
        rule::sq(x)
    };
    let (ga, gb) = (k.al * da, k.be * db);
    let (fa, fb) = (d1 * ga, d1 * gb);
    let faa = if SA {
        d2 * ga * ga + d1 * k.al * ea
    } else {
        d2 * ga * ga
    };
    let ta = tan.load::<P>(a);
    let s = k.seed;
    if k.adj_a {
        adj[a] += s * fa;
    }
    if TWO {
        let tb = tan.load::<P>(b);
        let fab = d2 * ga * gb;
        let fbb = if SB {
            d2 * gb * gb + d1 * k.be * eb
        } else {
            d2 * gb * gb
        };
        for l in 0..P {
            adt[a * P + l] += s * (faa * ta[l] + fab * tb[l]);
        }
        if k.adj_b {
            adj[b] += s * fb;
        }
        for l in 0..P {
            adt[b * P + l] += s * (fab * ta[l] + fbb * tb[l]);
        }
    } else {
        for l in 0..P {
            adt[a * P + l] += s * (faa * ta[l]);
        }
    }
    s * v
}

/// The reverse sweep of a segment (one adjoint, `P` adjoint-tangent lanes) over its
/// instructions that are not eager, popping what [`forward`] pushed.
#[inline(never)]
fn reverse<const P: usize>(ins: &[SIns], st: &mut State<'_>, mut sp: usize) {
    // SAFETY (all four): as in `forward`; the reverse sweep pops exactly what the forward
    // sweep of the segment pushed.
    let consts = unsafe { Ro::new(st.consts) };
    let mut adj = unsafe { Buf::new(st.adj) };
    let mut adt = unsafe { Buf::new(st.adt) };
    let stack = unsafe { Buf::new(st.stack) };
    for i in ins.iter().rev() {
        let fl = i.flags;
        if fl & EAGER != 0 {
            continue;
        }
        let d = i.dst as usize;
        let a = i.a as usize;
        let b = i.b as usize;
        let mut az = adj[d];
        adj[d] = 0.0;
        if fl & SEEDED != 0 {
            az += consts[i.c as usize];
        }
        let curved = fl & CURVED != 0;
        let mut tz = [0.0; P];
        if curved {
            tz = adt.load::<P>(d);
            adt[d * P..d * P + P].fill(0.0);
        }
        macro_rules! to {
            ($s:expr, $flag:expr, $f:expr) => {{
                let f = $f;
                if fl & $flag != 0 {
                    adj[$s] += az * f;
                }
                if curved {
                    for l in 0..P {
                        adt[$s * P + l] += tz[l] * f;
                    }
                }
            }};
            ($s:expr, $flag:expr, $f:expr, $q:expr) => {{
                let f = $f;
                let q = $q;
                if fl & $flag != 0 {
                    adj[$s] += az * f;
                }
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
                to!(a, ADJ_A, $rule.1)
            };
            (First, $rule:expr) => {{
                sp -= 1;
                to!(a, ADJ_A, stack[sp]);
            }};
            (Full, $rule:expr) => {{
                sp -= 1 + P;
                to!(a, ADJ_A, stack[sp], &stack[sp + 1..sp + 1 + P]);
            }};
        }
        macro_rules! bin {
            (Affine, $op:expr) => {{
                to!(a, ADJ_A, $op.eval(0.0, 0.0).1);
                to!(b, ADJ_B, $op.eval(0.0, 0.0).2);
            }};
            (First, $op:expr) => {{
                sp -= 2;
                to!(a, ADJ_A, stack[sp]);
                to!(b, ADJ_B, stack[sp + 1]);
            }};
            (Full, $op:expr) => {{
                sp -= 2 + 2 * P;
                to!(a, ADJ_A, stack[sp], &stack[sp + 2..sp + 2 + P]);
                to!(b, ADJ_B, stack[sp + 1], &stack[sp + 2 + P..sp + 2 + 2 * P]);
            }};
        }
        code_match!(i.code, 0.0, consts[b], un, bin, {
            Code::Const => {}
            // A fused instruction pops what a full binary (two nodes) or unary one pushed.
            Code::Fused if fl & LIN2 != 0 => bin!(Full, ()),
            Code::Fused => un!(Full, ()),
        });
    }
    debug_assert_eq!(sp, 0);
}
