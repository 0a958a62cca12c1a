//! The problem description: dynamics `s' = f(s, u)`, running and terminal costs, initial
//! and terminal states, bounds on states and controls, path inequalities, and the grid of
//! knots. Every user function is written once, generic over the scalar
//! (`D: DualNum<Primitive = f64> + Copy`, like [`ScalarFunction`](sparsediff::ad::ScalarFunction)),
//! so that the transcriptions can evaluate it on plain numbers, on the jets of a composite
//! Hessian, and on the sparsity tracer.

use sparsediff::ad::num_dual::DualNum;

use crate::error::TrajectoryError;

/// Largest state dimension n (the transcriptions evaluate on stack buffers).
pub const MAX_STATE_DIM: usize = 12;
/// Largest control dimension m.
pub const MAX_CONTROL_DIM: usize = 6;

/// The dynamics `s' = f(s, u)` of a state `s ∈ Rⁿ` under a control `u ∈ Rᵐ`.
///
/// ```
/// use trajectory::Dynamics;
/// use trajectory::num_dual::DualNum;
///
/// /// A double integrator: x' = v, v' = a.
/// struct DoubleIntegrator;
/// impl Dynamics for DoubleIntegrator {
///     fn state_dim(&self) -> usize { 2 }
///     fn control_dim(&self) -> usize { 1 }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
///         ds[0] = s[1];
///         ds[1] = u[0];
///     }
/// }
/// let mut ds = [0.0; 2];
/// DoubleIntegrator.eval(&[1.0, 2.0], &[3.0], &mut ds);
/// assert_eq!(ds, [2.0, 3.0]);
/// ```
pub trait Dynamics {
    /// n, the length of the state (1..=[`MAX_STATE_DIM`]).
    fn state_dim(&self) -> usize;
    /// m, the length of the control (0..=[`MAX_CONTROL_DIM`]).
    fn control_dim(&self) -> usize;
    /// Writes `f(s, u)` into `ds` (length n; `s` has length n, `u` length m).
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]);
}

/// A running cost `ℓ(s, u)`, integrated over the horizon by the transcription (the
/// trapezoidal and Hermite–Simpson transcriptions sum `dt·ℓ(s_k, u_k)` over every knot, as
/// the cartpole spec does).
///
/// ```
/// use trajectory::RunningCost;
/// use trajectory::num_dual::DualNum;
///
/// struct Effort;
/// impl RunningCost for Effort {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D], u: &[D]) -> D {
///         u[0] * u[0]
///     }
/// }
/// assert_eq!(Effort.eval(&[0.0], &[3.0]), 9.0);
/// ```
pub trait RunningCost {
    /// `ℓ(s, u)`.
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D]) -> D;
}

/// A terminal cost `φ(s_{N−1})`, added once.
///
/// ```
/// use trajectory::TerminalCost;
/// use trajectory::num_dual::DualNum;
///
/// struct Distance;
/// impl TerminalCost for Distance {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D]) -> D { s[0] * s[0] }
/// }
/// assert_eq!(Distance.eval(&[2.0]), 4.0);
/// ```
pub trait TerminalCost {
    /// `φ(s)`.
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D]) -> D;
}

/// General path inequalities `h(s, u) ≤ 0`, imposed wherever the transcription places a
/// control (every knot for the trapezoidal and Hermite–Simpson transcriptions, every
/// interval's midpoint for the staggered one).
///
/// ```
/// use trajectory::PathConstraints;
/// use trajectory::num_dual::DualNum;
///
/// /// x² + u² ≤ 1.
/// struct Disc;
/// impl PathConstraints for Disc {
///     fn count(&self) -> usize { 1 }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], h: &mut [D]) {
///         h[0] = s[0] * s[0] + u[0] * u[0] - 1.0;
///     }
/// }
/// let mut h = [0.0f64];
/// Disc.eval(&[0.6], &[0.8], &mut h);
/// assert!(h[0].abs() < 1e-15);
/// ```
pub trait PathConstraints {
    /// Number of inequalities per point.
    fn count(&self) -> usize;
    /// Writes `h(s, u)` into `h` (length [`count`](Self::count)).
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], h: &mut [D]);
}

/// No terminal cost (the default of a [`Problem`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTerminalCost;

impl TerminalCost for NoTerminalCost {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D]) -> D {
        D::zero()
    }
}

/// No path inequalities (the default of a [`Problem`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoPathConstraints;

impl PathConstraints for NoPathConstraints {
    fn count(&self) -> usize {
        0
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D], _u: &[D], _h: &mut [D]) {}
}

/// Lower and upper bounds of a vector, `−∞`/`+∞` where a side is free.
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds {
    /// Lower bounds.
    pub lower: Vec<f64>,
    /// Upper bounds.
    pub upper: Vec<f64>,
}

impl Bounds {
    /// No bounds on a vector of length `dim`.
    pub fn free(dim: usize) -> Self {
        Bounds {
            lower: vec![f64::NEG_INFINITY; dim],
            upper: vec![f64::INFINITY; dim],
        }
    }

    /// Checks the lengths against `dim` and that every pair is satisfiable.
    fn check(&self, what: &'static str, dim: usize) -> Result<(), TrajectoryError> {
        let (lower_what, upper_what) = match what {
            "state" => ("state lower bounds", "state upper bounds"),
            _ => ("control lower bounds", "control upper bounds"),
        };
        check_len(lower_what, self.lower.len(), dim)?;
        check_len(upper_what, self.upper.len(), dim)?;
        for (index, (&lower, &upper)) in self.lower.iter().zip(&self.upper).enumerate() {
            if lower.is_nan() {
                return Err(TrajectoryError::NonFinite {
                    what: lower_what,
                    index,
                    value: lower,
                });
            }
            if upper.is_nan() {
                return Err(TrajectoryError::NonFinite {
                    what: upper_what,
                    index,
                    value: upper,
                });
            }
            if lower > upper || lower == f64::INFINITY || upper == f64::NEG_INFINITY {
                return Err(TrajectoryError::InfeasibleBounds {
                    what,
                    index,
                    lower,
                    upper,
                });
            }
        }
        Ok(())
    }
}

pub(crate) fn check_len(
    what: &'static str,
    len: usize,
    expected: usize,
) -> Result<(), TrajectoryError> {
    if len == expected {
        Ok(())
    } else {
        Err(TrajectoryError::DimensionMismatch {
            what,
            len,
            expected,
        })
    }
}

/// [`TrajectoryError::NonFinite`] naming the first entry of `values` that is not finite.
pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<(), TrajectoryError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(TrajectoryError::NonFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// A trajectory optimisation problem on a uniform grid of N knots `t_k = k·dt`:
///
/// ```text
/// minimise   Σ dt·ℓ(s, u) (as the transcription integrates it) + φ(s_{N−1})
/// subject to s' = f(s, u),  s_0 = s_init,  s_{N−1} = s_final   (each if given)
///            s_lo ≤ s ≤ s_hi,  u_lo ≤ u ≤ u_hi,  h(s, u) ≤ 0
/// ```
///
/// Built by [`Problem::new`] and the `with_*` methods, each checking what it is given; a
/// [`Transcription`](crate::Transcription) turns it into a
/// [`Transcribed`](crate::Transcribed) nonlinear program in the decision vector z.
///
/// ```
/// use trajectory::{Dynamics, Problem, RunningCost, TrajectoryError};
/// use trajectory::num_dual::DualNum;
///
/// struct DoubleIntegrator;
/// impl Dynamics for DoubleIntegrator {
///     fn state_dim(&self) -> usize { 2 }
///     fn control_dim(&self) -> usize { 1 }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
///         ds[0] = s[1];
///         ds[1] = u[0];
///     }
/// }
/// struct Effort;
/// impl RunningCost for Effort {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D], u: &[D]) -> D { u[0] * u[0] }
/// }
///
/// let problem = Problem::new(DoubleIntegrator, Effort, 11, 0.1)?
///     .with_initial_state(&[0.0, 0.0])?
///     .with_terminal_state(&[1.0, 0.0])?
///     .with_control_bounds(&[-2.0], &[2.0])?;
/// assert_eq!((problem.knots(), problem.state_dim(), problem.control_dim()), (11, 2, 1));
///
/// // bad input is a named error
/// assert!(matches!(
///     Problem::new(DoubleIntegrator, Effort, 1, 0.1),
///     Err(TrajectoryError::TooFewKnots { knots: 1 })
/// ));
/// assert!(matches!(
///     problem.with_state_bounds(&[0.0, 1.0], &[1.0, 0.5]),
///     Err(TrajectoryError::InfeasibleBounds { what: "state", index: 1, .. })
/// ));
/// # Ok::<(), TrajectoryError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Problem<F, L, T = NoTerminalCost, H = NoPathConstraints> {
    pub(crate) dynamics: F,
    pub(crate) running_cost: L,
    pub(crate) terminal_cost: T,
    pub(crate) path: H,
    pub(crate) knots: usize,
    pub(crate) dt: f64,
    pub(crate) initial_state: Option<Vec<f64>>,
    pub(crate) terminal_state: Option<Vec<f64>>,
    pub(crate) state_bounds: Bounds,
    pub(crate) control_bounds: Bounds,
}

impl<F: Dynamics, L: RunningCost> Problem<F, L> {
    /// The problem of `dynamics` and `running_cost` on `knots` knots spaced by `dt`, with
    /// no boundary conditions, bounds, terminal cost or path constraints yet.
    ///
    /// # Errors
    /// [`TrajectoryError::UnsupportedDimension`] if the state dimension is not in
    /// 1..=[`MAX_STATE_DIM`] or the control dimension not in 0..=[`MAX_CONTROL_DIM`];
    /// [`TrajectoryError::TooFewKnots`] if `knots < 2`;
    /// [`TrajectoryError::InvalidTimeStep`] if `dt` is not finite and positive.
    pub fn new(
        dynamics: F,
        running_cost: L,
        knots: usize,
        dt: f64,
    ) -> Result<Self, TrajectoryError> {
        let (n, m) = (dynamics.state_dim(), dynamics.control_dim());
        if !(1..=MAX_STATE_DIM).contains(&n) {
            return Err(TrajectoryError::UnsupportedDimension {
                what: "state",
                dim: n,
                min: 1,
                max: MAX_STATE_DIM,
            });
        }
        if m > MAX_CONTROL_DIM {
            return Err(TrajectoryError::UnsupportedDimension {
                what: "control",
                dim: m,
                min: 0,
                max: MAX_CONTROL_DIM,
            });
        }
        if knots < 2 {
            return Err(TrajectoryError::TooFewKnots { knots });
        }
        if !(dt.is_finite() && dt > 0.0) {
            return Err(TrajectoryError::InvalidTimeStep { dt });
        }
        Ok(Problem {
            dynamics,
            running_cost,
            terminal_cost: NoTerminalCost,
            path: NoPathConstraints,
            knots,
            dt,
            initial_state: None,
            terminal_state: None,
            state_bounds: Bounds::free(n),
            control_bounds: Bounds::free(m),
        })
    }
}

impl<F: Dynamics, L: RunningCost, T: TerminalCost, H: PathConstraints> Problem<F, L, T, H> {
    /// Fixes the first state: `s_0 = state`.
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] if `state` does not have n entries,
    /// [`TrajectoryError::NonFinite`] if one is not finite.
    pub fn with_initial_state(mut self, state: &[f64]) -> Result<Self, TrajectoryError> {
        check_len("initial state", state.len(), self.state_dim())?;
        check_finite("initial state", state)?;
        self.initial_state = Some(state.to_vec());
        Ok(self)
    }

    /// Fixes the last state: `s_{N−1} = state`.
    ///
    /// # Errors
    /// As [`with_initial_state`](Self::with_initial_state).
    pub fn with_terminal_state(mut self, state: &[f64]) -> Result<Self, TrajectoryError> {
        check_len("terminal state", state.len(), self.state_dim())?;
        check_finite("terminal state", state)?;
        self.terminal_state = Some(state.to_vec());
        Ok(self)
    }

    /// Bounds every state: `lower ≤ s_k ≤ upper` at every knot (`±∞` for a free side).
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] if a side does not have n entries,
    /// [`TrajectoryError::NonFinite`] for a NaN, [`TrajectoryError::InfeasibleBounds`] for a
    /// component with `lower > upper` (or `lower = +∞`, `upper = −∞`).
    pub fn with_state_bounds(
        mut self,
        lower: &[f64],
        upper: &[f64],
    ) -> Result<Self, TrajectoryError> {
        let bounds = Bounds {
            lower: lower.to_vec(),
            upper: upper.to_vec(),
        };
        bounds.check("state", self.state_dim())?;
        self.state_bounds = bounds;
        Ok(self)
    }

    /// Bounds every control: `lower ≤ u ≤ upper`.
    ///
    /// # Errors
    /// As [`with_state_bounds`](Self::with_state_bounds), against m entries.
    pub fn with_control_bounds(
        mut self,
        lower: &[f64],
        upper: &[f64],
    ) -> Result<Self, TrajectoryError> {
        let bounds = Bounds {
            lower: lower.to_vec(),
            upper: upper.to_vec(),
        };
        bounds.check("control", self.control_dim())?;
        self.control_bounds = bounds;
        Ok(self)
    }

    /// Adds (replaces) the terminal cost φ.
    pub fn with_terminal_cost<T2: TerminalCost>(self, terminal_cost: T2) -> Problem<F, L, T2, H> {
        Problem {
            dynamics: self.dynamics,
            running_cost: self.running_cost,
            terminal_cost,
            path: self.path,
            knots: self.knots,
            dt: self.dt,
            initial_state: self.initial_state,
            terminal_state: self.terminal_state,
            state_bounds: self.state_bounds,
            control_bounds: self.control_bounds,
        }
    }

    /// Adds (replaces) the path inequalities `h(s, u) ≤ 0`.
    pub fn with_path_constraints<H2: PathConstraints>(self, path: H2) -> Problem<F, L, T, H2> {
        Problem {
            dynamics: self.dynamics,
            running_cost: self.running_cost,
            terminal_cost: self.terminal_cost,
            path,
            knots: self.knots,
            dt: self.dt,
            initial_state: self.initial_state,
            terminal_state: self.terminal_state,
            state_bounds: self.state_bounds,
            control_bounds: self.control_bounds,
        }
    }

    /// n.
    pub fn state_dim(&self) -> usize {
        self.dynamics.state_dim()
    }

    /// m.
    pub fn control_dim(&self) -> usize {
        self.dynamics.control_dim()
    }

    /// N, the number of knots.
    pub fn knots(&self) -> usize {
        self.knots
    }

    /// dt, the spacing of the knots.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// The duration `(N − 1)·dt`.
    pub fn horizon(&self) -> f64 {
        (self.knots - 1) as f64 * self.dt
    }

    /// The dynamics.
    pub fn dynamics(&self) -> &F {
        &self.dynamics
    }

    /// The running cost.
    pub fn running_cost(&self) -> &L {
        &self.running_cost
    }

    /// The terminal cost.
    pub fn terminal_cost(&self) -> &T {
        &self.terminal_cost
    }

    /// The path inequalities.
    pub fn path_constraints(&self) -> &H {
        &self.path
    }

    /// `s_0`, if fixed.
    pub fn initial_state(&self) -> Option<&[f64]> {
        self.initial_state.as_deref()
    }

    /// `s_{N−1}`, if fixed.
    pub fn terminal_state(&self) -> Option<&[f64]> {
        self.terminal_state.as_deref()
    }

    /// The bounds on the states.
    pub fn state_bounds(&self) -> &Bounds {
        &self.state_bounds
    }

    /// The bounds on the controls.
    pub fn control_bounds(&self) -> &Bounds {
        &self.control_bounds
    }
}
