//! The three transcriptions: rows agree with the functions of z, the schemes have their
//! orders of accuracy, and the composite Hessian of L_A is exact (against hyper-dual
//! numbers on the generic L_A).

use trajectory::num_dual::{Dual64, DualNum, HyperDual64};
use trajectory::{
    AugmentedLagrangian, Dynamics, PathConstraints, Problem, RowFunctions, RowKind, RunningCost,
    TerminalCost, Transcribed, Transcription, cartpole,
};

const ALL: [Transcription; 3] = [
    Transcription::Trapezoidal,
    Transcription::HermiteSimpson,
    Transcription::Staggered,
];

/// `x' = x` (no control): exact solution `eᵗ`.
struct Growth;
impl Dynamics for Growth {
    fn state_dim(&self) -> usize {
        1
    }
    fn control_dim(&self) -> usize {
        0
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], _u: &[D], ds: &mut [D]) {
        ds[0] = s[0];
    }
}

struct NoCost;
impl RunningCost for NoCost {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D], _u: &[D]) -> D {
        D::zero()
    }
}

/// The largest defect of the transcription at the exact solution `eᵗ` with step dt.
fn defect_at_exact_solution(scheme: Transcription, dt: f64) -> f64 {
    let knots = 3;
    let nlp = Transcribed::new(Problem::new(Growth, NoCost, knots, dt).unwrap(), scheme).unwrap();
    let z: Vec<f64> = (0..knots).map(|k| (k as f64 * dt).exp()).collect();
    let c: Vec<f64> = nlp.equalities(&z).unwrap();
    c.iter().fold(0.0, |m, c| m.max(c.abs()))
}

#[test]
fn local_errors_have_the_orders_of_the_schemes() {
    // local defect error O(dt³) for the trapezoidal and midpoint rules, O(dt⁵) for Simpson
    for (scheme, order) in [
        (Transcription::Trapezoidal, 3),
        (Transcription::HermiteSimpson, 5),
        (Transcription::Staggered, 3),
    ] {
        let ratio = defect_at_exact_solution(scheme, 0.1) / defect_at_exact_solution(scheme, 0.05);
        let expected = 2f64.powi(order);
        assert!(
            (ratio / expected - 1.0).abs() < 0.1,
            "{scheme:?}: halving dt divides the defect by {ratio}, expected about {expected}"
        );
    }
}

/// A pendulum θ'' = −sin θ + u with a terminal cost and a path constraint θ² + u² ≤ 4.
struct Pendulum;
impl Dynamics for Pendulum {
    fn state_dim(&self) -> usize {
        2
    }
    fn control_dim(&self) -> usize {
        1
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
        ds[0] = s[1];
        ds[1] = -s[0].sin() + u[0];
    }
}
struct Effort;
impl RunningCost for Effort {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D]) -> D {
        u[0] * u[0] + s[1] * s[1] * 0.1
    }
}
struct Far;
impl TerminalCost for Far {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D]) -> D {
        (s[0] - 3.0).powi(2) * 10.0
    }
}
struct Disc;
impl PathConstraints for Disc {
    fn count(&self) -> usize {
        2
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], h: &mut [D]) {
        h[0] = s[0] * s[0] + u[0] * u[0] - 4.0;
        h[1] = -s[1] - 10.0;
    }
}

fn pendulum(scheme: Transcription) -> Transcribed<Pendulum, Effort, Far, Disc> {
    let problem = Problem::new(Pendulum, Effort, 12, 0.2)
        .unwrap()
        .with_initial_state(&[0.0, 0.0])
        .unwrap()
        .with_state_bounds(&[-1.0, f64::NEG_INFINITY], &[f64::INFINITY, 2.0])
        .unwrap()
        .with_control_bounds(&[-1.5], &[1.5])
        .unwrap()
        .with_terminal_cost(Far)
        .with_path_constraints(Disc);
    Transcribed::new(problem, scheme).unwrap()
}

fn point(n: usize, seed: f64) -> Vec<f64> {
    (0..n)
        .map(|i| (i as f64 * 0.37 + seed).sin() * 1.3)
        .collect()
}

/// Each row from its own variables equals the function of z; the rows' variables are
/// strictly increasing and within z.
fn rows_agree<F, L, T, H>(nlp: &Transcribed<F, L, T, H>, z: &[f64])
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    let local = |rows: &dyn Fn(usize) -> Vec<usize>, i: usize| -> Vec<f64> {
        rows(i).iter().map(|&v| z[v]).collect()
    };
    let c: Vec<f64> = nlp.equalities(z).unwrap();
    let rows = nlp.equality_rows();
    assert_eq!(rows.num_rows(), c.len());
    for (i, &ci) in c.iter().enumerate() {
        let vars = rows.vars(i);
        assert!(vars.windows(2).all(|w| w[0] < w[1]) && vars.iter().all(|&v| v < z.len()));
        let value = rows.eval(i, &local(&|i| rows.vars(i).to_vec(), i));
        assert!(
            (value - ci).abs() <= 1e-14 * ci.abs().max(1.0),
            "{:?}: {value} vs {ci}",
            rows.kind(i)
        );
    }
    let g: Vec<f64> = nlp.inequalities(z).unwrap();
    let rows = nlp.inequality_rows();
    assert_eq!(rows.num_rows(), g.len());
    for (j, &gj) in g.iter().enumerate() {
        let value = rows.eval(j, &local(&|j| rows.vars(j).to_vec(), j));
        assert!(
            (value - gj).abs() <= 1e-14 * gj.abs().max(1.0),
            "{:?}",
            rows.kind(j)
        );
    }
    let rows = nlp.objective_rows();
    let sum: f64 = (0..rows.num_rows())
        .map(|k| rows.eval(k, &local(&|k| rows.vars(k).to_vec(), k)))
        .sum();
    let cost: f64 = nlp.cost(z).unwrap();
    assert!(
        (sum - cost).abs() <= 1e-13 * cost.abs().max(1.0),
        "{sum} vs {cost}"
    );
    // the constraint rows are c then g
    let both = nlp.constraint_rows();
    assert_eq!(both.num_rows(), c.len() + g.len());
    assert_eq!(both.kind(c.len()), nlp.inequality_rows().kind(0));
}

#[test]
fn rows_agree_with_the_functions_of_z() {
    for scheme in ALL {
        let nlp = pendulum(scheme);
        rows_agree(&nlp, &point(nlp.num_vars(), 0.3));
        let nlp = Transcribed::new(cartpole::problem(20).unwrap(), scheme).unwrap();
        rows_agree(&nlp, &point(nlp.num_vars(), 0.7));
    }
}

#[test]
fn layouts_and_row_counts() {
    let nlp = pendulum(Transcription::Staggered);
    // 12 states, 11 half-step controls
    assert_eq!(nlp.num_vars(), 11 * 3 + 2);
    assert_eq!(nlp.num_equalities(), 2 + 11 * 2);
    // per block: x ≥ −1, v ≤ 2 (12 knots), u bounds and 2 path rows (11 half steps)
    assert_eq!(nlp.num_inequalities(), 12 * 2 + 11 * 4);
    assert_eq!(nlp.objective_rows().num_rows(), 11 + 1);
    let nlp = pendulum(Transcription::HermiteSimpson);
    assert_eq!(nlp.num_vars(), 12 * 3);
    assert_eq!(nlp.num_inequalities(), 12 * 6);
    assert_eq!(
        nlp.inequality_rows().kind(4),
        RowKind::Path { point: 0, index: 0 }
    );
    // the Hermite–Simpson defects of the cartpole touch at most 6 variables
    let nlp = Transcribed::new(
        cartpole::problem(20).unwrap(),
        Transcription::HermiteSimpson,
    )
    .unwrap();
    let rows = nlp.equality_rows();
    let widest = (0..rows.num_rows()).map(|i| rows.vars(i).len()).max();
    assert_eq!(widest, Some(6));
}

/// ∂²L_A/∂z_a∂z_b from hyper-dual numbers on the generic value.
fn exact_entry<F, L, T, H>(
    la: &AugmentedLagrangian<'_, F, L, T, H>,
    z: &[f64],
    a: usize,
    b: usize,
) -> f64
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    let x: Vec<HyperDual64> = z
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            HyperDual64::new(
                v,
                if i == a { 1.0 } else { 0.0 },
                if i == b { 1.0 } else { 0.0 },
                0.0,
            )
        })
        .collect();
    la.value(&x).unwrap().eps1eps2
}

fn composite_is_exact<F, L, T, H>(nlp: &Transcribed<F, L, T, H>, z: &[f64])
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    let (m, p) = (nlp.num_equalities(), nlp.num_inequalities());
    let lambda = point(m, 1.1);
    let mu: Vec<f64> = point(p, 2.2).iter().map(|v| v.abs()).collect();
    let la = AugmentedLagrangian::new(nlp, lambda, mu, 7.0).unwrap();
    let mut h = la.composite_hessian(z).unwrap();
    let matrix = h.evaluate(z).unwrap().clone();
    let mut grad = vec![0.0; z.len()];
    let value = h.gradient(z, &mut grad).unwrap();
    let want: f64 = la.value(z).unwrap();
    assert!(
        (value - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{value} vs {want}"
    );
    for (a, &ga) in grad.iter().enumerate() {
        let x: Vec<Dual64> = z
            .iter()
            .enumerate()
            .map(|(i, &v)| Dual64::new(v, if i == a { 1.0 } else { 0.0 }))
            .collect();
        let exact = la.value(&x).unwrap().eps;
        assert!(
            (ga - exact).abs() <= 1e-11 * exact.abs().max(1.0),
            "∂/∂z_{a}: {ga} vs {exact}"
        );
    }
    let n = z.len();
    let mut scale = 0.0f64;
    for a in 0..n {
        for b in 0..=a {
            let exact = exact_entry(&la, z, a, b);
            scale = scale.max(exact.abs());
            let got = matrix.get(a, b).copied();
            match got {
                Some(got) => assert!(
                    (got - exact).abs() <= 1e-11 * exact.abs().max(1.0),
                    "H[{a},{b}]: {got} vs {exact}"
                ),
                None => assert!(exact == 0.0, "H[{a},{b}] = {exact} is outside the pattern"),
            }
        }
    }
    assert!(scale > 0.0);
}

#[test]
fn composite_hessians_are_exact_for_every_transcription() {
    for scheme in ALL {
        let nlp = pendulum(scheme);
        composite_is_exact(&nlp, &point(nlp.num_vars(), 0.3));
        let nlp = Transcribed::new(cartpole::problem(8).unwrap(), scheme).unwrap();
        composite_is_exact(&nlp, &point(nlp.num_vars(), 0.9));
    }
}
