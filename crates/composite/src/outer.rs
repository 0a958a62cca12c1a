//! The outer functions ψ: scalar functions of one residual, known by their value and first
//! two derivatives.

use std::sync::Arc;

/// A closure `r ↦ [ψ(r), ψ′(r), ψ″(r)]`, for [`Outer::Custom`].
pub type OuterFn = Arc<dyn Fn(f64) -> [f64; 3] + Send + Sync>;

/// The outer scalar function ψ_i applied to residual i.
///
/// ```
/// use sparsediff_composite::Outer;
///
/// let p = Outer::Penalty { lambda: 0.5, rho: 10.0 };
/// assert_eq!(p.eval(2.0), [0.5 * 2.0 + 5.0 * 4.0, 0.5 + 10.0 * 2.0, 10.0]);
/// let q = Outer::Inequality { mu: 0.1, rho: 10.0 };
/// assert_eq!(q.eval(-1.0)[1..], [0.0, 0.0]); // inactive: μ + ρ·r < 0
/// assert_eq!(q.eval(0.5)[1..], [5.1, 10.0]);
/// let huber = Outer::custom(|r| if r.abs() < 1.0 { [0.5 * r * r, r, 1.0] } else { [r.abs() - 0.5, r.signum(), 0.0] });
/// assert_eq!(huber.eval(3.0), [2.5, 1.0, 0.0]);
/// assert!(Outer::Linear(2.0).is_linear() && !huber.is_linear());
/// ```
#[derive(Clone)]
pub enum Outer {
    /// `ψ(r) = w·r` (no curvature: the row adds no JᵀDJ term).
    Linear(f64),
    /// `ψ(r) = λ·r + (ρ/2)·r²`: an equality's multiplier and quadratic penalty.
    Penalty {
        /// Multiplier λ.
        lambda: f64,
        /// Penalty ρ (any finite value).
        rho: f64,
    },
    /// `ψ(r) = (1/(2ρ))·[max(0, μ + ρ·r)² − μ²]`: an inequality `r ≤ 0` in an augmented
    /// Lagrangian (ψ′ = max(0, μ + ρr), ψ″ = ρ where `μ + ρr > 0` and 0 elsewhere).
    Inequality {
        /// Multiplier μ.
        mu: f64,
        /// Penalty ρ > 0.
        rho: f64,
    },
    /// Any ψ, given as `r ↦ [ψ(r), ψ′(r), ψ″(r)]`.
    Custom(OuterFn),
}

impl std::fmt::Debug for Outer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outer::Linear(w) => f.debug_tuple("Linear").field(w).finish(),
            Outer::Penalty { lambda, rho } => f
                .debug_struct("Penalty")
                .field("lambda", lambda)
                .field("rho", rho)
                .finish(),
            Outer::Inequality { mu, rho } => f
                .debug_struct("Inequality")
                .field("mu", mu)
                .field("rho", rho)
                .finish(),
            Outer::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl Outer {
    /// [`Outer::Custom`] from a closure `r ↦ [ψ(r), ψ′(r), ψ″(r)]`.
    pub fn custom(psi: impl Fn(f64) -> [f64; 3] + Send + Sync + 'static) -> Self {
        Outer::Custom(Arc::new(psi))
    }

    /// `[ψ(r), ψ′(r), ψ″(r)]`.
    #[inline]
    pub fn eval(&self, r: f64) -> [f64; 3] {
        match *self {
            Outer::Linear(w) => [w * r, w, 0.0],
            Outer::Penalty { lambda, rho } => {
                [lambda * r + 0.5 * rho * r * r, lambda + rho * r, rho]
            }
            Outer::Inequality { mu, rho } => {
                let t = mu + rho * r;
                if t > 0.0 {
                    [(t * t - mu * mu) * (0.5 / rho), t, rho]
                } else {
                    [-mu * mu * (0.5 / rho), 0.0, 0.0]
                }
            }
            Outer::Custom(ref psi) => psi(r),
        }
    }

    /// ψ′(r).
    #[inline]
    pub(crate) fn d1(&self, r: f64) -> f64 {
        match *self {
            Outer::Linear(w) => w,
            Outer::Penalty { lambda, rho } => lambda + rho * r,
            Outer::Inequality { mu, rho } => (mu + rho * r).max(0.0),
            Outer::Custom(ref psi) => psi(r)[1],
        }
    }

    /// ψ″(r).
    #[inline]
    pub(crate) fn d2(&self, r: f64) -> f64 {
        match *self {
            Outer::Linear(_) => 0.0,
            Outer::Penalty { rho, .. } => rho,
            Outer::Inequality { mu, rho } => {
                if mu + rho * r > 0.0 {
                    rho
                } else {
                    0.0
                }
            }
            Outer::Custom(ref psi) => psi(r)[2],
        }
    }

    /// Whether ψ″ vanishes identically ([`Outer::Linear`]): such rows add no JᵀDJ term and
    /// no entries beyond their own curvature to the pattern.
    pub fn is_linear(&self) -> bool {
        matches!(self, Outer::Linear(_))
    }

    /// ψ″ if it is the same at every r (`Some(0)` for [`Outer::Linear`], `Some(ρ)` for
    /// [`Outer::Penalty`]).
    pub fn constant_curvature(&self) -> Option<f64> {
        match *self {
            Outer::Linear(_) => Some(0.0),
            Outer::Penalty { rho, .. } => Some(rho),
            Outer::Inequality { .. } | Outer::Custom(_) => None,
        }
    }

    /// Why the parameters are unusable, if they are.
    pub(crate) fn invalid(&self) -> Option<&'static str> {
        match *self {
            Outer::Linear(w) if !w.is_finite() => Some("the weight must be finite"),
            Outer::Penalty { lambda, rho } if !(lambda.is_finite() && rho.is_finite()) => {
                Some("λ and ρ must be finite")
            }
            Outer::Inequality { mu, rho } if !(mu.is_finite() && rho.is_finite() && rho > 0.0) => {
                Some("μ must be finite and ρ finite and positive")
            }
            _ => None,
        }
    }
}
