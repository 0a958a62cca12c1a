//! The models: the acceleration cart equals the spec's, the force-driven cart's
//! linearisation, energy conservation under RK4 (proptest), angle wrapping invariants
//! (proptest), and bad input as named errors.

use std::f64::consts::PI;

use cartpole::angle::{wrap, wrap_around};
use cartpole::controller::{EnergySwingUp, LqrBalance, SwingUpParams};
use cartpole::linearize::linearize;
use cartpole::lqr::Weights;
use cartpole::model::{AccelerationCart, AccelerationParams, ForceCart, ForceParams};
use cartpole::sim::{SimConfig, TrackPolicy, rk4, simulate};
use cartpole::{CartpoleError, Requirement};
use proptest::prelude::*;
use trajectory::Dynamics;

#[test]
fn linearisation_about_upright_matches_the_spec() {
    let cart = AccelerationCart::new(AccelerationParams::default()).unwrap();
    let lin = linearize(&cart, &[0.0, 0.0, PI, 0.0], &[0.0]).unwrap();
    let a = [
        [0.0, 1.0, 0.0, 0.0],
        [0.0; 4],
        [0.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 29.43, 0.0],
    ];
    let b = [0.0, 1.0, 0.0, 3.0];
    for (i, row) in a.iter().enumerate() {
        for (j, &aij) in row.iter().enumerate() {
            assert!(
                (lin.a[(i, j)] - aij).abs() <= 1e-12 * 29.43,
                "A[{i}][{j}] = {}",
                lin.a[(i, j)]
            );
        }
        assert!((lin.b[(i, 0)] - b[i]).abs() <= 1e-12 * 3.0, "B[{i}]");
    }
    // the same through the trajectory crate's own spec model
    let spec = linearize(
        &trajectory::cartpole::Cartpole,
        &[0.0, 0.0, PI, 0.0],
        &[0.0],
    )
    .unwrap();
    assert_eq!(spec.a, lin.a);
    assert_eq!(spec.b, lin.b);
}

#[test]
fn force_cart_linearisation_has_the_textbook_entries() {
    let p = ForceParams::default();
    let model = ForceCart::new(p).unwrap();
    let lin = linearize(&model, &[0.0, 0.0, PI, 0.0], &[0.0]).unwrap();
    // upright (cos θ = −1), det = (M + m)J − (ml)²: A[3][2] = (M + m)·ml·g/det,
    // A[1][2] = (ml)²·g/det, B[1] = J/det, B[3] = ml/det
    let (total, ml, j) = (
        p.cart_mass + p.pole_mass,
        p.pole_mass * 0.25,
        p.pole_mass * 0.25 / 3.0,
    );
    let det = total * j - ml * ml;
    assert!((lin.a[(3, 2)] - total * ml * p.gravity / det).abs() < 1e-12);
    assert!((lin.a[(1, 2)] - ml * ml * p.gravity / det).abs() < 1e-12);
    assert!((lin.b[(1, 0)] - j / det).abs() < 1e-12);
    assert!((lin.b[(3, 0)] - ml / det).abs() < 1e-12);
    // and the LQR balances it
    let lqr = LqrBalance::new(&model, &Weights::identity()).unwrap();
    let mut c = lqr.clone();
    let config = SimConfig {
        duration: 5.0,
        actuator_limit: f64::INFINITY,
        ..SimConfig::default()
    };
    let run = simulate(&model, &mut c, [0.0, 0.0, PI + 0.05, 0.0], &config, |_| {}).unwrap();
    let last = run.states.last().unwrap();
    assert!(
        wrap_around(last[2], PI).abs() < 1e-3 && last[0].abs() < 1e-2,
        "{last:?}"
    );
}

#[test]
fn bad_parameters_are_named_errors() {
    let bad = |p: ForceParams| ForceCart::new(p).unwrap_err();
    let d = ForceParams::default();
    assert!(matches!(
        bad(ForceParams {
            cart_mass: 0.0,
            ..d
        }),
        CartpoleError::InvalidParameter {
            name: "cart_mass",
            requirement: Requirement::Positive,
            ..
        }
    ));
    assert!(matches!(
        bad(ForceParams {
            pole_length: f64::NAN,
            ..d
        }),
        CartpoleError::InvalidParameter {
            name: "pole_length",
            ..
        }
    ));
    assert!(matches!(
        bad(ForceParams {
            cart_friction: -0.1,
            ..d
        }),
        CartpoleError::InvalidParameter {
            name: "cart_friction",
            requirement: Requirement::NonNegative,
            ..
        }
    ));
    assert!(matches!(
        bad(ForceParams {
            pivot_friction: f64::INFINITY,
            ..d
        }),
        CartpoleError::InvalidParameter {
            name: "pivot_friction",
            ..
        }
    ));
    assert!(matches!(
        AccelerationCart::new(AccelerationParams {
            gravity: -9.81,
            ..AccelerationParams::default()
        }),
        Err(CartpoleError::InvalidParameter {
            name: "gravity",
            ..
        })
    ));
    let cart = AccelerationCart::new(AccelerationParams::default()).unwrap();
    assert!(matches!(
        linearize(&cart, &[0.0; 3], &[0.0]),
        Err(CartpoleError::DimensionMismatch { what: "state", .. })
    ));
    assert!(matches!(
        linearize(&cart, &[0.0, f64::NAN, 0.0, 0.0], &[0.0]),
        Err(CartpoleError::NonFinite {
            what: "state",
            row: 1,
            ..
        })
    ));
    let mut c = LqrBalance::new(&cart, &Weights::identity()).unwrap();
    for config in [
        SimConfig {
            duration: -1.0,
            ..SimConfig::default()
        },
        SimConfig {
            dt: 0.0,
            ..SimConfig::default()
        },
        SimConfig {
            noise: [0.0, 0.0, f64::NAN, 0.0],
            ..SimConfig::default()
        },
        SimConfig {
            actuator_limit: f64::NAN,
            ..SimConfig::default()
        },
        SimConfig {
            disturbance: -1.0,
            ..SimConfig::default()
        },
    ] {
        assert!(
            matches!(
                simulate(&cart, &mut c, [0.0; 4], &config, |_| {}),
                Err(CartpoleError::InvalidParameter { .. })
            ),
            "{config:?}"
        );
    }
    assert!(matches!(
        simulate(
            &cart,
            &mut c,
            [0.0, 0.0, f64::INFINITY, 0.0],
            &SimConfig::default(),
            |_| {}
        ),
        Err(CartpoleError::NonFinite {
            what: "initial state",
            ..
        })
    ));
    let params = SwingUpParams {
        release_angle: 0.1,
        ..SwingUpParams::default()
    };
    assert!(matches!(
        EnergySwingUp::new(&cart, &params),
        Err(CartpoleError::InvalidParameter {
            name: "release_angle",
            ..
        })
    ));
    assert!(matches!(
        LqrBalance::from_gain([0.0, f64::NAN, 0.0, 0.0]),
        Err(CartpoleError::NonFinite {
            what: "K",
            col: 1,
            ..
        })
    ));
}

#[test]
fn track_policies() {
    // an open-loop push with no controller effort: a constant-acceleration "controller"
    struct Push;
    impl cartpole::controller::Controller for Push {
        fn name(&self) -> &'static str {
            "push"
        }
        fn reset(&mut self) {}
        fn control(&mut self, _t: f64, _s: &[f64; 4]) -> Result<f64, CartpoleError> {
            Ok(4.0)
        }
    }
    let cart = AccelerationCart::new(AccelerationParams::default()).unwrap();
    let run = simulate(&cart, &mut Push, [0.0; 4], &SimConfig::default(), |_| {}).unwrap();
    // x = 2t² reaches 1 m at t ≈ 0.707 s
    match run.stopped {
        Some(cartpole::sim::Stop::TrackLimit { time, x }) => {
            assert!((time - 0.70).abs() < 0.02 && x > 1.0)
        }
        other => panic!("{other:?}"),
    }
    let clamp = SimConfig {
        track_policy: TrackPolicy::Clamp,
        duration: 2.0,
        ..SimConfig::default()
    };
    let run = simulate(&cart, &mut Push, [0.0; 4], &clamp, |_| {}).unwrap();
    assert!(run.stopped.is_none());
    assert!(run.states.iter().all(|s| s[0].abs() <= 1.0));
}

proptest! {
    #[test]
    fn wrap_is_in_range_and_congruent(angle in -1e3f64..1e3) {
        let w = wrap(angle);
        prop_assert!(w > -PI && w <= PI);
        let turns = (angle - w) / (2.0 * PI);
        prop_assert!((turns - turns.round()).abs() < 1e-9);
    }

    #[test]
    fn wrap_is_idempotent_and_odd_inside(angle in -3.1f64..3.1) {
        prop_assert_eq!(wrap(angle), angle);
        prop_assert_eq!(wrap(wrap(angle + 10.0)), wrap(angle + 10.0));
        prop_assert!((wrap_around(angle + PI, PI) - angle).abs() < 1e-12);
    }

    #[test]
    fn rk4_conserves_energy_of_the_frictionless_force_cart(
        theta in -PI..PI,
        omega in -5.0f64..5.0,
        v in -1.0f64..1.0,
        cart_mass in 0.2f64..5.0,
        pole_mass in 0.05f64..1.0,
        pole_length in 0.2f64..1.5,
    ) {
        let model = ForceCart::new(ForceParams { cart_mass, pole_mass, pole_length, ..ForceParams::default() }).unwrap();
        let mut s = [0.0, v, theta, omega];
        let e0 = model.energy(&s);
        let scale = pole_mass * 9.81 * pole_length + e0.abs();
        for _ in 0..500 {
            s = rk4(&model, &s, 0.0, 1e-3);
        }
        // 0.5 s, h = 1 ms: RK4's drift is O(h⁴) per unit time
        prop_assert!((model.energy(&s) - e0).abs() <= 1e-8 * scale, "drift {}", model.energy(&s) - e0);
    }

    #[test]
    fn the_acceleration_cart_is_the_force_cart_with_the_acceleration_prescribed(
        theta in -PI..PI, omega in -5.0f64..5.0, a in -4.0f64..4.0,
    ) {
        // pole equation of the force cart with v' = a (pivot friction 0) = the acceleration cart
        let cart = AccelerationCart::new(AccelerationParams::default()).unwrap();
        let mut ds = [0.0; 4];
        cart.eval(&[0.0, 0.0, theta, omega], &[a], &mut ds);
        let l = 0.5;
        let expected = -(3.0 / (2.0 * l)) * (9.81 * theta.sin() + a * theta.cos());
        prop_assert!((ds[3] - expected).abs() < 1e-12);
    }
}
