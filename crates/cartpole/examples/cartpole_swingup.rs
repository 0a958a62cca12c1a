//! The four controllers of the cartpole package compared on the spec's cart, from hanging
//! at rest (the LQR alone from 0.1 rad off upright): time to upright, control effort
//! ∫a² dt, max |x| and compute per call nominally, then the success rate over 20 seeds
//! with the plant's pole 20 % longer and 20 % shorter than the controller's model and
//! 0.01 (rad, m, m/s, rad/s) of measurement noise.
//!
//! `cargo run --release -p cartpole --example cartpole_swingup [-- --knots N --newton-per-step K --seeds S]`

use std::f64::consts::PI;

use cartpole::CartpoleError;
use cartpole::controller::{
    Catch, Controller, EnergySwingUp, LqrBalance, MpcController, SwingUpParams, TrackerParams,
    TvlqrTracker,
};
use cartpole::lqr::Weights;
use cartpole::model::{AccelerationCart, AccelerationParams};
use cartpole::sim::{Run, SimConfig, Swingup, simulate};
use cartpole::swingup;
use trajectory::mpc::MpcParams;

fn cart(pole_length: f64) -> Result<AccelerationCart, CartpoleError> {
    AccelerationCart::new(AccelerationParams {
        pole_length,
        ..AccelerationParams::default()
    })
}

fn effort(run: &Run) -> f64 {
    run.times
        .windows(2)
        .zip(&run.controls)
        .map(|(t, a)| a * a * (t[1] - t[0]))
        .sum()
}

fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), CartpoleError> {
    let knots = (arg("--knots", 100.0) as usize).max(2);
    let newton = (arg("--newton-per-step", 4.0) as usize).max(1);
    let seeds = arg("--seeds", 20.0) as u64;
    let track = arg("--track", 0.85);
    let catch = arg("--catch", 0.2);
    let nominal = cart(0.5)?;
    let nlp = swingup::transcribed_with_track(&nominal, knots, track)?;
    let mpc_params = MpcParams {
        newton_per_step: newton,
        timing_capacity: 100_000,
    };
    let mut mpc = MpcController::new(&nlp, mpc_params)?;
    if catch > 0.0 {
        mpc = mpc.with_catch(Catch {
            catch_angle: catch,
            release_angle: 2.5 * catch,
            ..Catch::default()
        })?;
    }
    let mut tvlqr = TvlqrTracker::swing_up(&nominal, knots, &TrackerParams::default())?;
    let mut energy = EnergySwingUp::new(&nominal, &SwingUpParams::default())?;
    let mut lqr = LqrBalance::new(&nominal, &Weights::identity())?;
    println!(
        "knots {knots}, Newton steps per MPC period {newton}, MPC period {:.3} s, MPC track bound {track} m, LQR catch below {catch} rad (0: none), {seeds} seeds",
        mpc.period()
    );
    println!(
        "{:<7} {:>9} {:>9} {:>8} {:>11} {:>11} {:>12} {:>12}",
        "ctrl", "upright", "∫a²dt", "max|x|", "median s", "max s", "L+20% ok", "L−20% ok"
    );
    let controllers: [(&mut dyn Controller, f64, [f64; 4]); 4] = [
        (&mut lqr, 0.01, [0.0, 0.0, PI + 0.1, 0.0]),
        (&mut energy, 0.01, [0.0; 4]),
        (&mut tvlqr, 0.01, [0.0; 4]),
        (&mut mpc, 5.0 / knots as f64, [0.0; 4]),
    ];
    for (c, period, initial) in controllers {
        let config = SimConfig {
            control_period: period,
            ..SimConfig::default()
        };
        let run = simulate(&nominal, c, initial, &config, |_| {})?;
        let v = Swingup::default().judge(&run);
        let mut secs = run.control_seconds.clone();
        secs.sort_by(f64::total_cmp);
        let mut rates = Vec::new();
        for frac in [0.2, -0.2] {
            let plant = cart(0.5 * (1.0 + frac))?;
            let mut ok = 0;
            for seed in 0..seeds {
                let config = SimConfig {
                    noise: [0.01; 4],
                    seed,
                    ..config.clone()
                };
                let run = simulate(&plant, c, initial, &config, |_| {});
                let success = run
                    .as_ref()
                    .is_ok_and(|r| Swingup::default().judge(r).success);
                if std::env::var_os("VERBOSE").is_some() && !success {
                    eprintln!(
                        "{} L{frac:+} seed {seed}: {:?}",
                        c.name(),
                        run.map(|r| Swingup::default().judge(&r))
                    );
                }
                ok += usize::from(success);
            }
            rates.push(format!("{ok}/{seeds}"));
        }
        println!(
            "{:<7} {:>9} {:>9.2} {:>8.3} {:>11.2e} {:>11.2e} {:>12} {:>12}{}",
            c.name(),
            v.time_to_upright
                .map_or("never".into(), |t| format!("{t:.2} s")),
            effort(&run),
            v.max_abs_x,
            secs[secs.len() / 2],
            secs[secs.len() - 1],
            rates[0],
            rates[1],
            if v.success {
                ""
            } else {
                "  (nominal run failed)"
            }
        );
    }
    Ok(())
}
