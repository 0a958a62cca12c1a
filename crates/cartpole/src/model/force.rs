//! The full force-driven cart-pole, from its Lagrangian.
//!
//! Cart of mass M at x; a uniform rod of mass m and length L pivoted on the cart, its
//! centre of mass at `l = L/2`, moment of inertia about the pivot `J = m·L²/3`; θ = 0
//! hanging. With the pole's centre at `(x + l·sin θ, −l·cos θ)`:
//!
//! ```text
//! T = ½(M + m)·v² + m·l·cos θ·v·ω + ½·J·ω²,     V = −m·g·l·cos θ
//! ```
//!
//! and the Euler–Lagrange equations with the force F on the cart, viscous cart friction
//! `b_c·v` and pivot friction `b_p·ω`:
//!
//! ```text
//! (M + m)·v' + m·l·cos θ·ω' = F − b_c·v + m·l·sin θ·ω²
//! m·l·cos θ·v' + J·ω'       = −m·g·l·sin θ − b_p·ω
//! ```
//!
//! solved in closed form (the 2×2 mass matrix has determinant
//! `(M + m)·J − (m·l·cos θ)² ≥ M·J > 0`). With `v'` prescribed the second line is the
//! [`AccelerationCart`](super::AccelerationCart)'s `ω' = −(3/(2L))(g sin θ + v' cos θ)`
//! (plus pivot friction); the first line is the pole's back-reaction on the cart.

use sparsediff::ad::num_dual::DualNum;
use trajectory::Dynamics;

use super::{CartpoleModel, GRAVITY};
use crate::error::{CartpoleError, Requirement, check_param};

/// Parameters of [`ForceCart`], SI units.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ForceParams {
    /// Cart mass M, kg.
    pub cart_mass: f64,
    /// Pole mass m, kg (uniform rod).
    pub pole_mass: f64,
    /// Pole length L, m.
    pub pole_length: f64,
    /// Gravitational acceleration g, m/s².
    pub gravity: f64,
    /// Viscous cart friction b_c, N·s/m.
    pub cart_friction: f64,
    /// Viscous pivot friction b_p, N·m·s/rad.
    pub pivot_friction: f64,
}

impl Default for ForceParams {
    /// M = 1 kg, m = 0.1 kg, L = 0.5 m (the spec's pole), g = 9.81 m/s², no friction.
    fn default() -> Self {
        Self {
            cart_mass: 1.0,
            pole_mass: 0.1,
            pole_length: 0.5,
            gravity: GRAVITY,
            cart_friction: 0.0,
            pivot_friction: 0.0,
        }
    }
}

impl ForceParams {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`CartpoleError::InvalidParameter`] for a mass, length or g that is not finite and
    /// positive, or a friction that is negative or not finite.
    pub fn validate(&self) -> Result<(), CartpoleError> {
        check_param("cart_mass", self.cart_mass, "kg", Requirement::Positive)?;
        check_param("pole_mass", self.pole_mass, "kg", Requirement::Positive)?;
        check_param("pole_length", self.pole_length, "m", Requirement::Positive)?;
        check_param("gravity", self.gravity, "m/s^2", Requirement::Positive)?;
        check_param(
            "cart_friction",
            self.cart_friction,
            "N s/m",
            Requirement::NonNegative,
        )?;
        check_param(
            "pivot_friction",
            self.pivot_friction,
            "N m s/rad",
            Requirement::NonNegative,
        )
    }
}

/// The force-driven cart-pole (control: the force F on the cart, N).
///
/// ```
/// use cartpole::model::{ForceCart, ForceParams};
/// use trajectory::Dynamics;
///
/// let model = ForceCart::new(ForceParams::default())?;
/// // hanging at rest with no force: an equilibrium
/// let mut ds = [1.0; 4];
/// model.eval(&[0.0, 0.0, 0.0, 0.0], &[0.0], &mut ds);
/// assert_eq!(ds, [0.0; 4]);
/// // pushing the cart swings the pole back (ω' < 0), so the cart accelerates faster than
/// // F/(M + m) = 1 m/s², the rate of cart and pole moving as one rigid body
/// model.eval(&[0.0, 0.0, 0.0, 0.0], &[1.1], &mut ds);
/// assert!(ds[1] > 1.0 && ds[3] < 0.0);
/// // a negative mass is a named error
/// let bad = ForceParams { pole_mass: -0.1, ..ForceParams::default() };
/// assert!(matches!(
///     ForceCart::new(bad),
///     Err(cartpole::CartpoleError::InvalidParameter { name: "pole_mass", .. })
/// ));
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ForceCart {
    params: ForceParams,
}

impl ForceCart {
    /// The model with `params`.
    ///
    /// # Errors
    /// As [`ForceParams::validate`].
    pub fn new(params: ForceParams) -> Result<Self, CartpoleError> {
        params.validate()?;
        Ok(Self { params })
    }

    /// The parameters.
    pub fn params(&self) -> &ForceParams {
        &self.params
    }

    /// The total mechanical energy `T + V` (J), with `V = 0` at the pivot's height:
    /// conserved when F = 0 and both frictions are zero.
    pub fn energy(&self, s: &[f64; 4]) -> f64 {
        let p = &self.params;
        let (v, theta, omega) = (s[1], s[2], s[3]);
        let l = 0.5 * p.pole_length;
        let j = p.pole_mass * p.pole_length * p.pole_length / 3.0;
        0.5 * (p.cart_mass + p.pole_mass) * v * v
            + p.pole_mass * l * theta.cos() * v * omega
            + 0.5 * j * omega * omega
            - p.pole_mass * p.gravity * l * theta.cos()
    }
}

impl Dynamics for ForceCart {
    fn state_dim(&self) -> usize {
        4
    }
    fn control_dim(&self) -> usize {
        1
    }
    #[inline]
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
        let p = &self.params;
        let (v, theta, omega, force) = (s[1], s[2], s[3], u[0]);
        let total = p.cart_mass + p.pole_mass;
        let ml = p.pole_mass * 0.5 * p.pole_length;
        let j = p.pole_mass * p.pole_length * p.pole_length / 3.0;
        let (sin, cos) = (theta.sin(), theta.cos());
        // right-hand sides of the two Euler–Lagrange equations
        let r1 = force - v * p.cart_friction + sin * omega * omega * ml;
        let r2 = sin * (-ml * p.gravity) - omega * p.pivot_friction;
        let c = cos * ml;
        let det = (c * c - total * j) * (-1.0);
        ds[0] = v;
        ds[1] = (r1 * j - c * r2) / det;
        ds[2] = omega;
        ds[3] = (r2 * total - c * r1) / det;
    }
}

impl CartpoleModel for ForceCart {
    fn pole_length(&self) -> f64 {
        self.params.pole_length
    }
    fn gravity(&self) -> f64 {
        self.params.gravity
    }
    fn control_kind(&self) -> &'static str {
        "force"
    }
}
