//! Closed-loop runs: the energy swing-up with LQR catch from hanging at rest, LQR balance
//! from a perturbed upright, and the robustness sweep (20 % pole-length mismatch, 0.01 rad
//! measurement noise, 20 seeds).

use std::f64::consts::PI;

use cartpole::controller::{EnergySwingUp, LqrBalance, SwingUpParams};
use cartpole::lqr::Weights;
use cartpole::model::{AccelerationCart, AccelerationParams};
use cartpole::sim::{SimConfig, Swingup, simulate};

fn nominal() -> AccelerationCart {
    AccelerationCart::new(AccelerationParams::default()).unwrap()
}

#[test]
fn energy_swing_up_from_hanging_at_rest_succeeds() {
    let cart = nominal();
    let mut c = EnergySwingUp::new(&cart, &SwingUpParams::default()).unwrap();
    let run = simulate(&cart, &mut c, [0.0; 4], &SimConfig::default(), |_| {}).unwrap();
    let v = Swingup::default().judge(&run);
    assert!(v.success, "{v:?}");
    // measured: upright from 3.45 s, max |x| = 0.50 m
    assert!(v.time_to_upright.is_some_and(|t| t < 4.0), "{v:?}");
    assert!(v.max_abs_x <= 0.6, "{v:?}");
}

#[test]
fn lqr_balances_a_perturbed_upright() {
    let cart = nominal();
    let mut c = LqrBalance::new(&cart, &Weights::identity()).unwrap();
    let run = simulate(
        &cart,
        &mut c,
        [0.1, 0.0, PI + 0.03, 0.0],
        &SimConfig::default(),
        |_| {},
    )
    .unwrap();
    let v = Swingup::default().judge(&run);
    assert!(v.success && v.time_to_upright == Some(0.0), "{v:?}");
}

/// 20 seeds, the plant's pole 20 % longer (and, separately, 20 % shorter) than the
/// controller's model, 0.01 rad of measurement noise on θ (and 0.01 m, m/s, rad/s on x, v,
/// ω). Measured: 20/20 both ways (held upright from 3.96–4.09 s longer, 2.80–2.92 s
/// shorter; max |x| ≤ 0.56 m); without the online estimate of 1/(2ω₀²) it was 0/20.
#[test]
fn robust_to_mismatch_and_noise() {
    let controller_model = nominal();
    for (label, frac) in [("longer", 0.2), ("shorter", -0.2)] {
        let plant = AccelerationCart::new(AccelerationParams {
            pole_length: 0.5 * (1.0 + frac),
            ..AccelerationParams::default()
        })
        .unwrap();
        let mut successes = 0;
        for seed in 0..20 {
            let mut c = EnergySwingUp::new(&controller_model, &SwingUpParams::default()).unwrap();
            let config = SimConfig {
                noise: [0.01; 4],
                seed,
                ..SimConfig::default()
            };
            let run = simulate(&plant, &mut c, [0.0; 4], &config, |_| {}).unwrap();
            let v = Swingup::default().judge(&run);
            if !v.success {
                eprintln!("{label} seed {seed}: {v:?}");
            }
            successes += usize::from(v.success);
        }
        assert_eq!(successes, 20, "{label}: {successes}/20 (measured 20/20)");
    }
}

#[test]
fn noise_and_disturbances_are_seeded_and_kicks_are_rejected() {
    use cartpole::sim::Kick;
    let cart = nominal();
    let config = |seed| SimConfig {
        noise: [0.01; 4],
        disturbance: 0.5,
        kicks: vec![Kick {
            time: 2.0,
            delta: [0.0, 0.0, 0.0, 1.0],
        }],
        seed,
        ..SimConfig::default()
    };
    let run = |seed| {
        let mut c = LqrBalance::new(&cart, &Weights::identity()).unwrap();
        simulate(&cart, &mut c, [0.0, 0.0, PI, 0.0], &config(seed), |_| {}).unwrap()
    };
    let (a, b, c) = (run(1), run(1), run(2));
    assert_eq!(a.states, b.states, "same seed, same run");
    assert_ne!(a.states, c.states, "another seed, another run");
    // the kick (ω += 1 rad/s at 2 s) shows above the noise and disturbance, and is
    // rejected: upright again by the end
    let max_dev = |from: f64, to: f64| {
        a.times
            .iter()
            .zip(&a.states)
            .filter(|(t, _)| **t >= from && **t < to)
            .map(|(_, s)| cartpole::angle::upright_error(s[2]).abs())
            .fold(0.0, f64::max)
    };
    let (after, before) = (max_dev(2.0, 3.0), max_dev(1.0, 2.0));
    assert!(after > 2.0 * before, "{after} vs {before}");
    let last = a.states.last().unwrap();
    assert!(
        cartpole::angle::upright_error(last[2]).abs() < 0.05 && last[0].abs() < 0.5,
        "{last:?}"
    );
    assert!(a.stopped.is_none());
}

/// The swing-up designed on the acceleration cart drives the force-driven cart-pole
/// (M = 1 kg, m = 0.1 kg, L = 0.5 m, cart friction 0.1 N·s/m, pivot friction 0.001
/// N·m·s/rad) through [`ForceFromAcceleration`]; the plant's masses are 20 % off the
/// controller's model.
#[test]
fn energy_swing_up_drives_the_force_cart() {
    use cartpole::controller::ForceFromAcceleration;
    use cartpole::model::{ForceCart, ForceParams};
    let nominal_params = ForceParams {
        cart_friction: 0.1,
        pivot_friction: 0.001,
        ..ForceParams::default()
    };
    let nominal_force = ForceCart::new(nominal_params).unwrap();
    let plant = ForceCart::new(ForceParams {
        cart_mass: 1.2,
        pole_mass: 0.08,
        ..nominal_params
    })
    .unwrap();
    let swing = EnergySwingUp::new(&nominal(), &SwingUpParams::default()).unwrap();
    let mut c = ForceFromAcceleration::new(swing, nominal_force);
    let config = SimConfig {
        actuator_limit: 10.0, // N
        ..SimConfig::default()
    };
    let run = simulate(&plant, &mut c, [0.0; 4], &config, |_| {}).unwrap();
    let v = Swingup::default().judge(&run);
    let max_force = run.controls.iter().map(|f| f.abs()).fold(0.0, f64::max);
    // measured: first within 0.05 rad at 3.63 s, held from 4.50 s, max |x| = 0.51 m,
    // max |F| = 5.7 N
    assert!(v.success, "{v:?}");
    assert!(max_force < 10.0, "{max_force}");
}
