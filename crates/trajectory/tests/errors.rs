//! Every named error of the crate, from the input that causes it.

use sparsediff::composite::CompositeError;
use trajectory::num_dual::DualNum;
use trajectory::{
    AugmentedLagrangian, Dynamics, Problem, RunningCost, TrajectoryError, Transcribed,
    Transcription, cartpole,
};

/// Dynamics of any dimensions: `ds = 0` (or NaN, or every component coupled to all).
#[derive(Debug)]
struct Dims {
    n: usize,
    m: usize,
    kind: Kind,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Zero,
    Nan,
    Dense,
}

impl Dynamics for Dims {
    fn state_dim(&self) -> usize {
        self.n
    }
    fn control_dim(&self) -> usize {
        self.m
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
        for (r, d) in ds.iter_mut().enumerate() {
            *d = match self.kind {
                Kind::Zero => D::zero(),
                Kind::Nan => s[r] * f64::NAN,
                Kind::Dense => s.iter().chain(u).fold(D::zero(), |a, &b| a + b * b),
            };
        }
    }
}

#[derive(Debug)]
struct Zero;
impl RunningCost for Zero {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D], _u: &[D]) -> D {
        D::zero()
    }
}

fn dims(n: usize, m: usize) -> Dims {
    Dims {
        n,
        m,
        kind: Kind::Zero,
    }
}

#[test]
fn a_horizon_of_zero_or_one_knot() {
    for knots in [0, 1] {
        assert!(matches!(
            Problem::new(dims(2, 1), Zero, knots, 0.1),
            Err(TrajectoryError::TooFewKnots { knots: k }) if k == knots
        ));
        assert!(matches!(
            cartpole::problem(knots),
            Err(TrajectoryError::TooFewKnots { .. })
        ));
    }
    assert!(Problem::new(dims(2, 1), Zero, 2, 0.1).is_ok());
}

#[test]
fn a_time_step_that_is_not_finite_and_positive() {
    for dt in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.1] {
        let err = Problem::new(dims(2, 1), Zero, 10, dt).unwrap_err();
        assert!(
            matches!(err, TrajectoryError::InvalidTimeStep { dt: d } if d.to_bits() == dt.to_bits()),
            "{err}"
        );
    }
}

#[test]
fn unsupported_dimensions() {
    for (n, m, what) in [(0, 1, "state"), (13, 1, "state"), (2, 7, "control")] {
        let err = Problem::new(dims(n, m), Zero, 10, 0.1).unwrap_err();
        assert!(
            matches!(err, TrajectoryError::UnsupportedDimension { what: w, .. } if w == what),
            "{err}"
        );
    }
    // no control at all is fine
    assert!(Problem::new(dims(2, 0), Zero, 10, 0.1).is_ok());
}

#[test]
fn inconsistent_dimensions() {
    let p = || Problem::new(dims(4, 1), Zero, 10, 0.1).unwrap();
    let mismatch = |r: Result<_, TrajectoryError>, what: &str, len: usize, expected: usize| {
        let err = r.err().unwrap();
        assert!(
            matches!(&err, TrajectoryError::DimensionMismatch { what: w, len: l, expected: e }
                if *w == what && *l == len && *e == expected),
            "{err}"
        );
    };
    mismatch(
        p().with_initial_state(&[0.0; 3]).map(|_| ()),
        "initial state",
        3,
        4,
    );
    mismatch(
        p().with_terminal_state(&[0.0; 5]).map(|_| ()),
        "terminal state",
        5,
        4,
    );
    mismatch(
        p().with_state_bounds(&[0.0; 3], &[1.0; 4]).map(|_| ()),
        "state lower bounds",
        3,
        4,
    );
    mismatch(
        p().with_control_bounds(&[0.0], &[1.0; 2]).map(|_| ()),
        "control upper bounds",
        2,
        1,
    );

    let nlp = Transcribed::new(cartpole::problem(10).unwrap(), Transcription::Trapezoidal).unwrap();
    let z = vec![0.0; 49];
    mismatch(nlp.cost(&z).map(|_| ()), "z", 49, 50);
    mismatch(nlp.equalities(&z).map(|_| ()), "z", 49, 50);
    mismatch(nlp.inequalities(&z).map(|_| ()), "z", 49, 50);
    let mut short = vec![0.0; 3];
    mismatch(
        nlp.equalities_into(&[0.0; 50], &mut short),
        "equality buffer",
        3,
        44,
    );
    mismatch(
        nlp.inequalities_into(&[0.0; 50], &mut short),
        "inequality buffer",
        3,
        40,
    );
    mismatch(
        AugmentedLagrangian::new(&nlp, vec![0.0; 43], vec![0.0; 40], 1.0).map(|_| ()),
        "equality multipliers λ",
        43,
        44,
    );
    mismatch(
        AugmentedLagrangian::new(&nlp, vec![0.0; 44], vec![0.0; 41], 1.0).map(|_| ()),
        "inequality multipliers μ",
        41,
        40,
    );
    let la = AugmentedLagrangian::new(&nlp, vec![0.0; 44], vec![0.0; 40], 1.0).unwrap();
    mismatch(la.value(&z).map(|_| ()), "z", 49, 50);
    // the ScalarFunction view has no error path: NaN
    let value: f64 = sparsediff::ad::ScalarFunction::eval(&la, &z);
    assert!(value.is_nan());
    mismatch(la.composite_hessian(&z).map(|_| ()), "z", 49, 50);
}

#[test]
fn infeasible_bounds_name_the_component() {
    let p = || Problem::new(dims(4, 2), Zero, 10, 0.1).unwrap();
    let inf = f64::INFINITY;
    let err = p()
        .with_state_bounds(&[-1.0, 2.0, -inf, -inf], &[1.0, 1.0, inf, inf])
        .unwrap_err();
    assert!(
        matches!(err, TrajectoryError::InfeasibleBounds { what: "state", index: 1, lower, upper }
            if lower == 2.0 && upper == 1.0),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "state bound 1 is infeasible: lower 2 > upper 1"
    );
    // +∞ as a lower bound (or −∞ as an upper one) admits no value either
    let err = p()
        .with_control_bounds(&[0.0, inf], &[1.0, inf])
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrajectoryError::InfeasibleBounds {
                what: "control",
                index: 1,
                ..
            }
        ),
        "{err}"
    );
    let err = p()
        .with_control_bounds(&[-inf, -inf], &[-inf, 1.0])
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrajectoryError::InfeasibleBounds {
                what: "control",
                index: 0,
                ..
            }
        ),
        "{err}"
    );
    // equal bounds are feasible
    assert!(p().with_control_bounds(&[1.0, 1.0], &[1.0, 1.0]).is_ok());
}

#[test]
fn nan_and_infinite_inputs() {
    let p = || Problem::new(dims(4, 1), Zero, 10, 0.1).unwrap();
    let err = p()
        .with_initial_state(&[0.0, 0.0, f64::NAN, 0.0])
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrajectoryError::NonFinite {
                what: "initial state",
                index: 2,
                ..
            }
        ),
        "{err}"
    );
    let err = p()
        .with_terminal_state(&[0.0, f64::INFINITY, 0.0, 0.0])
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrajectoryError::NonFinite {
                what: "terminal state",
                index: 1,
                ..
            }
        ),
        "{err}"
    );
    let err = p().with_control_bounds(&[f64::NAN], &[1.0]).unwrap_err();
    assert!(
        matches!(
            err,
            TrajectoryError::NonFinite {
                what: "control lower bounds",
                index: 0,
                ..
            }
        ),
        "{err}"
    );
    let nlp = Transcribed::new(cartpole::problem(10).unwrap(), Transcription::Trapezoidal).unwrap();
    let mut lambda = vec![0.0; 44];
    lambda[7] = f64::NAN;
    let err = AugmentedLagrangian::new(&nlp, lambda, vec![0.0; 40], 1.0).unwrap_err();
    assert!(
        matches!(
            err,
            TrajectoryError::NonFinite {
                what: "equality multipliers λ",
                index: 7,
                ..
            }
        ),
        "{err}"
    );
    for rho in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = AugmentedLagrangian::new(&nlp, vec![0.0; 44], vec![0.0; 40], rho).unwrap_err();
        assert!(
            matches!(err, TrajectoryError::InvalidPenalty { .. }),
            "{err}"
        );
    }
}

#[test]
fn dynamics_returning_nan() {
    let problem = Problem::new(
        Dims {
            n: 2,
            m: 1,
            kind: Kind::Nan,
        },
        Zero,
        10,
        0.1,
    )
    .unwrap();
    let err = Transcribed::new(problem, Transcription::Trapezoidal).unwrap_err();
    assert!(
        matches!(
            err,
            TrajectoryError::Trace {
                what: "dynamics",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn rows_too_wide_for_the_composite_jets() {
    // every component of f couples all 5 variables of a knot: defect rows of 10 variables
    let problem = Problem::new(
        Dims {
            n: 4,
            m: 1,
            kind: Kind::Dense,
        },
        Zero,
        10,
        0.1,
    )
    .unwrap();
    let nlp = Transcribed::new(problem, Transcription::Trapezoidal).unwrap();
    let la = AugmentedLagrangian::new(&nlp, vec![0.0; 36], vec![], 1.0).unwrap();
    let err = la.composite_hessian(&vec![0.1; 50]).unwrap_err();
    assert!(
        matches!(
            err,
            TrajectoryError::Composite(CompositeError::TooManyVars {
                vars: 10,
                max: 8,
                ..
            })
        ),
        "{err}"
    );
    // the staggered scheme's windows are narrower: 4 + 1 + 4 = 9, still too wide
    assert_eq!(Transcription::Staggered.window_len(4, 1), 9);
}

/// `x' = 1/x`: finite where traced, NaN-free, but infinite at x = 0.
#[derive(Debug)]
struct Inverse;
impl Dynamics for Inverse {
    fn state_dim(&self) -> usize {
        1
    }
    fn control_dim(&self) -> usize {
        1
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
        ds[0] = s[0].recip() + u[0];
    }
}

#[derive(Debug)]
struct Log;
impl RunningCost for Log {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], _u: &[D]) -> D {
        s[0].ln()
    }
}

#[test]
fn dynamics_or_costs_not_finite_at_z() {
    let problem = Problem::new(Inverse, Log, 4, 0.1)
        .unwrap()
        .with_control_bounds(&[-1.0], &[1.0])
        .unwrap();
    let nlp = Transcribed::new(problem, Transcription::Trapezoidal).unwrap();
    // z = (x_k, u_k): x_2 = 0
    let z = [1.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0, 0.0];
    let err = nlp.equalities(&z).unwrap_err();
    // the defects of intervals 1 and 2 touch x_2: the first is equality 1
    assert!(
        matches!(
            err,
            TrajectoryError::NonFiniteValue {
                what: "equality",
                index: 1,
                ..
            }
        ),
        "{err}"
    );
    let err = nlp.cost(&z).unwrap_err();
    assert!(
        matches!(
            err,
            TrajectoryError::NonFiniteValue {
                what: "cost",
                index: 0,
                ..
            }
        ),
        "{err}"
    );
    let la = AugmentedLagrangian::new(&nlp, vec![0.0; 3], vec![0.0; 8], 1.0).unwrap();
    assert!(matches!(
        la.value(&z),
        Err(TrajectoryError::NonFiniteValue { .. })
    ));
    // elsewhere all is well
    let z = [1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 1.0, 0.0];
    assert!(nlp.equalities(&z).is_ok() && nlp.cost(&z).is_ok());
}

/// More path constraints per point than the stack buffers hold.
#[derive(Debug)]
struct ManyPaths;
impl trajectory::PathConstraints for ManyPaths {
    fn count(&self) -> usize {
        trajectory::MAX_STATE_DIM + 1
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], _u: &[D], h: &mut [D]) {
        for h in h.iter_mut() {
            *h = s[0];
        }
    }
}

#[test]
fn too_many_path_constraints() {
    let problem = Problem::new(dims(2, 1), Zero, 4, 0.1)
        .unwrap()
        .with_path_constraints(ManyPaths);
    let err = Transcribed::new(problem, Transcription::Trapezoidal).unwrap_err();
    assert!(
        matches!(
            err,
            TrajectoryError::UnsupportedDimension {
                what: "path constraint",
                dim: 13,
                ..
            }
        ),
        "{err}"
    );
}
