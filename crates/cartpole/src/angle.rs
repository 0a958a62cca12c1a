//! Angles. Convention of the whole crate (as in the benchmark spec): θ = 0 is the pole
//! hanging straight down, θ = π upright, θ grows counter-clockwise (the pole's tip is at
//! `x + L·sin θ`, height `−L·cos θ` above the pivot). An angle *error* is always formed
//! with [`wrap_around`], so that θ = 3π and θ = −π are both "upright".

use std::f64::consts::PI;

/// Wraps `angle` into (−π, π].
///
/// ```
/// use cartpole::angle::wrap;
/// use std::f64::consts::PI;
/// assert_eq!(wrap(PI), PI);
/// assert_eq!(wrap(-PI), PI);
/// assert!((wrap(3.0 * PI + 0.1) - (-PI + 0.1)).abs() < 1e-12);
/// ```
pub fn wrap(angle: f64) -> f64 {
    if angle > -PI && angle <= PI {
        return angle; // exact inside the range: wrap is idempotent
    }
    let two_pi = 2.0 * PI;
    // rem_euclid gives [0, 2π); shift so that the result lies in (−π, π].
    let r = (angle + PI).rem_euclid(two_pi) - PI;
    if r <= -PI { r + two_pi } else { r }
}

/// The difference `angle − reference` wrapped into (−π, π]: the angle error about a
/// reference (`wrap_around(θ, π)` is the deviation from upright).
///
/// ```
/// use cartpole::angle::wrap_around;
/// use std::f64::consts::PI;
/// assert!((wrap_around(-PI + 0.01, PI) - 0.01).abs() < 1e-12);
/// assert!((wrap_around(3.0 * PI - 0.02, PI) + 0.02).abs() < 1e-12);
/// ```
pub fn wrap_around(angle: f64, reference: f64) -> f64 {
    wrap(angle - reference)
}

/// The deviation from upright, `wrap_around(θ, π)`.
///
/// ```
/// assert!(cartpole::angle::upright_error(std::f64::consts::PI).abs() < 1e-15);
/// ```
pub fn upright_error(theta: f64) -> f64 {
    wrap_around(theta, PI)
}
