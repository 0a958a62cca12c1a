//! `sparsediff cartpole --controller lqr|energy|tvlqr|mpc`: a closed-loop run of the cartpole
//! package's controllers on the spec's acceleration-commanded cart (L = 0.5 m,
//! g = 9.81 m/s², |a| ≤ `--max-accel`, track |x| ≤ 1 m with end stops that end the run).
//!
//! * `energy`: the energy swing-up with LQR catch, from hanging at rest `(0, 0, 0, 0)`.
//! * `lqr`: the LQR balance (the spec's Q = I, R = 1), from a small perturbation of the
//!   upright, `(x, v, θ, ω) = (0, 0, π + 0.1, 0)` (0.1 rad off, at rest).
//! * `tvlqr`: the trajectory crate's swing-up plan (`--knots` N, dt = 5/N) tracked by a
//!   time-varying LQR every 10 ms, then the LQR balance, from hanging at rest.
//! * `mpc`: the trajectory crate's receding-horizon controller (`--knots` N,
//!   `--newton-per-step` K), one period per knot (dt = 5/N s), planning with
//!   |x| ≤ `--plan-track` m, with an LQR catch below `--catch-angle` rad (0: none), from
//!   hanging at rest; it estimates the pole length online and re-plans with the nearest
//!   of a 2 % grid of lengths (`MpcController::with_adaptation`) unless `--no-adapt`.
//!
//! `--plant force` simulates the force-driven cart-pole instead (M = 1 kg, m = 0.1 kg,
//! L = 0.5 m, cart friction 0.1 N·s/m, pivot friction 0.001 N·m·s/rad, |F| ≤
//! `--max-force` N): the controllers still command accelerations, which
//! `ForceFromAcceleration` turns into forces through the nominal force model's inverse
//! dynamics; `--mismatch` changes the plant's pole length as before.
//!
//! The controllers plan and design with the nominal pole (0.5 m); the energy swing-up
//! and the MPC correct it online (the JSON's `estimated_pole_length` for the MPC).
//!
//! `--noise SIGMA` adds N(0, σ²) to each of the four measured components (m, m/s, rad,
//! rad/s; seeded by `--seed`); `--mismatch FRAC` simulates a pole of length
//! `(1 + FRAC)·0.5 m` while the controller keeps the nominal 0.5 m. Success: upright
//! (`|wrap(θ − π)| ≤ 0.05`) by 5 s and held for the following 5 s with |x| ≤ 1 m
//! (`cartpole::sim::Swingup`); `time_to_upright` is the start of that held interval.
//! `median_control_seconds` / `max_control_seconds` time the controller's calls.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use cartpole::controller::{
    Catch, Controller, EnergySwingUp, ForceFromAcceleration, LengthBank, LqrBalance, MpcController,
    SwingUpParams, TrackerParams, TvlqrTracker,
};
use cartpole::lqr::Weights;
use cartpole::model::{AccelerationCart, AccelerationParams, ForceCart, ForceParams};
use cartpole::sim::{Run, SimConfig, Stop, Swingup, simulate};
use cartpole::swingup;
use serde::Serialize;
use trajectory::mpc::MpcParams;

use crate::{CliError, output};

/// Longest `--duration`: one hour of simulated time (360 000 samples at 10 ms).
pub const MAX_DURATION: f64 = 3600.0;

/// Most `--knots` of the tvlqr and mpc controllers: 5000 (dt = 1 ms; an MPC period then
/// factors a 25 000-variable system).
pub const MAX_KNOTS: u64 = 5000;

/// The controllers of `sparsediff cartpole`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ControllerChoice {
    /// LQR balance from a perturbed upright.
    Lqr,
    /// Energy swing-up with LQR catch from hanging at rest.
    Energy,
    /// The planned swing-up tracked by time-varying LQR, then LQR balance.
    Tvlqr,
    /// Model-predictive control on the trajectory crate (with an LQR catch).
    Mpc,
}

/// The simulated cart of `sparsediff cartpole`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlantChoice {
    /// The spec's cart, commanded by its acceleration.
    Acceleration,
    /// The force-driven cart-pole from its Lagrangian (masses, friction, the pole's
    /// back-reaction), commanded by a force.
    Force,
}

impl PlantChoice {
    fn name(self) -> &'static str {
        match self {
            PlantChoice::Acceleration => "acceleration",
            PlantChoice::Force => "force",
        }
    }
}

/// The force-driven cart of `--plant force` with pole length `pole_length`.
fn force_params(pole_length: f64) -> ForceParams {
    ForceParams {
        pole_length,
        cart_friction: 0.1,
        pivot_friction: 0.001,
        ..ForceParams::default()
    }
}

/// Options of `sparsediff cartpole`.
#[derive(Debug, Clone, clap::Args)]
pub struct CartpoleArgs {
    /// The controller.
    #[arg(long, value_enum)]
    controller: ControllerChoice,
    /// Simulated time, s (0 < S ≤ 3600).
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    duration: f64,
    /// Standard deviation of the measurement noise on each state component.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    noise: f64,
    /// Relative error of the controller's pole length: the plant's pole is (1 + FRAC)·0.5 m.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    mismatch: f64,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Actuator limit |a|, m/s².
    #[arg(long, default_value_t = 4.0, allow_negative_numbers = true)]
    max_accel: f64,
    /// The simulated cart: the spec's acceleration-commanded one, or the force-driven one.
    #[arg(long, value_enum, default_value_t = PlantChoice::Acceleration)]
    plant: PlantChoice,
    /// Actuator limit |F| of `--plant force`, N.
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    max_force: f64,
    /// Knots of the swing-up plan (tvlqr, mpc): dt = 5/N s, the MPC's control period (≥ 2).
    #[arg(long, default_value_t = 100, value_parser = crate::limits::count(MAX_KNOTS))]
    knots: usize,
    /// Newton steps per MPC period (≥ 1).
    #[arg(long, default_value_t = 4, value_parser = crate::limits::count(crate::trajopt::MAX_NEWTON_PER_STEP))]
    newton_per_step: usize,
    /// The MPC plans with |x| ≤ this, m (a margin inside the 1 m track).
    #[arg(long, default_value_t = 0.85, allow_negative_numbers = true)]
    plan_track: f64,
    /// The MPC hands over to an LQR below this angle from upright, rad (0: no catch).
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    catch_angle: f64,
    /// The MPC plans with the nominal pole throughout (no online length estimate).
    #[arg(long)]
    no_adapt: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Write x, θ and a against time as an SVG.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Write a self-contained HTML page animating the run.
    #[arg(long, value_name = "FILE.html")]
    animate: Option<PathBuf>,
}

/// The JSON report (the first seven fields are the contract).
#[derive(Debug, Serialize)]
struct Report {
    controller: &'static str,
    success: bool,
    time_to_upright: Option<f64>,
    max_abs_x: f64,
    final_angle_error: f64,
    median_control_seconds: f64,
    max_control_seconds: f64,
    first_upright: Option<f64>,
    track_stop_time: Option<f64>,
    initial_state: [f64; 4],
    duration: f64,
    noise: f64,
    mismatch: f64,
    plant_pole_length: f64,
    max_accel: f64,
    seed: u64,
    samples: usize,
    gain: Option<[f64; 4]>,
    seconds: f64,
    control_period: f64,
    control_effort: f64,
    knots: Option<usize>,
    newton_per_step: Option<usize>,
    plan_seconds: Option<f64>,
    plan_cost: Option<f64>,
    /// The MPC's pole-length estimate at the end, m (adaptation on).
    estimated_pole_length: Option<f64>,
    /// `acceleration` or `force`.
    plant: &'static str,
    /// Largest |control| applied (m/s² or N, as the plant takes).
    max_abs_control: f64,
    /// The pole length the MPC planned with at the end, m.
    model_pole_length: Option<f64>,
    /// Times the MPC switched its model.
    model_switches: Option<usize>,
}

/// The length grid of the MPC's adaptation: 2 % steps, 40 each way (0.23–1.1 m).
pub const BANK_RATIO: f64 = 1.02;
/// Grid points on each side of the nominal length.
pub const BANK_STEPS: usize = 40;
/// The estimate's prior, in weak periods (`LengthEstimator`).
pub const PRIOR_SAMPLES: f64 = 1.0;

/// The controller built: the MPC kept by type (its adaptation is reported after the run),
/// the others boxed.
enum Chosen<'a> {
    Mpc(Box<MpcController<'a>>),
    Other(Box<dyn Controller + 'a>),
}

impl<'a> Chosen<'a> {
    fn controller(&mut self) -> &mut (dyn Controller + 'a) {
        match self {
            Chosen::Mpc(c) => c.as_mut(),
            Chosen::Other(c) => c.as_mut(),
        }
    }

    fn mpc(&self) -> Option<&MpcController<'a>> {
        match self {
            Chosen::Mpc(c) => Some(c),
            Chosen::Other(_) => None,
        }
    }
}

/// The controller, the initial state, the LQR gain, the control period.
type Built<'a> = (Chosen<'a>, [f64; 4], Option<[f64; 4]>, f64);

fn option_error(option: &'static str, source: cartpole::CartpoleError) -> CliError {
    CliError::Option { option, source }
}

/// Runs `sparsediff cartpole`.
pub fn run(args: &CartpoleArgs) -> Result<(), CliError> {
    if !(args.duration > 0.0 && args.duration <= MAX_DURATION) {
        return Err(CliError::OutOfRange {
            option: "--duration",
            value: args.duration,
            min: 0.0,
            max: MAX_DURATION,
        });
    }
    if args.knots < 2 {
        return Err(CliError::Input(format!(
            "--knots = {} must be at least 2",
            args.knots
        )));
    }
    if args.newton_per_step == 0 {
        return Err(CliError::Input(
            "--newton-per-step must be at least 1".to_string(),
        ));
    }
    if !(args.plan_track > 0.0 && args.plan_track <= 1.0) {
        return Err(CliError::OutOfRange {
            option: "--plan-track",
            value: args.plan_track,
            min: 0.0,
            max: 1.0,
        });
    }
    if !(args.catch_angle >= 0.0 && args.catch_angle < 1.0) {
        return Err(CliError::Input(format!(
            "--catch-angle = {} must be in [0, 1) rad",
            args.catch_angle
        )));
    }
    for path in args.plot.iter().chain(&args.animate) {
        output::check_file(path)?;
    }
    let nominal = AccelerationCart::new(AccelerationParams::default())?;
    let plant_pole_length = 0.5 * (1.0 + args.mismatch);
    let plant = AccelerationCart::new(AccelerationParams {
        pole_length: plant_pole_length,
        ..AccelerationParams::default()
    })
    .map_err(|e| option_error("--mismatch", e))?;
    let force_plant = match args.plant {
        PlantChoice::Force => Some((
            ForceCart::new(force_params(0.5))?,
            ForceCart::new(force_params(plant_pole_length))
                .map_err(|e| option_error("--mismatch", e))?,
        )),
        PlantChoice::Acceleration => None,
    };
    let config = SimConfig {
        duration: args.duration,
        noise: [args.noise; 4],
        actuator_limit: match args.plant {
            PlantChoice::Acceleration => args.max_accel,
            PlantChoice::Force => args.max_force,
        },
        seed: args.seed,
        ..SimConfig::default()
    };
    config.validate().map_err(|e| {
        let option = match &e {
            cartpole::CartpoleError::InvalidParameter { name, .. } if name.starts_with("noise") => {
                "--noise"
            }
            cartpole::CartpoleError::InvalidParameter {
                name: "actuator_limit",
                ..
            } => match args.plant {
                PlantChoice::Acceleration => "--max-accel",
                PlantChoice::Force => "--max-force",
            },
            _ => "--duration",
        };
        option_error(option, e)
    })?;
    let planned = matches!(args.controller, ControllerChoice::Mpc);
    let mut nlp_slot = None;
    let mut bank_slot = None;
    let plan_clock = Instant::now();
    let mut plan_cost = None;
    let (mut chosen, initial, gain, period): Built<'_> = match args.controller {
        ControllerChoice::Lqr => {
            let c = LqrBalance::new(&nominal, &Weights::identity())?;
            let k = c.gain();
            (
                Chosen::Other(Box::new(c)),
                [0.0, 0.0, std::f64::consts::PI + 0.1, 0.0],
                Some(k),
                0.01,
            )
        }
        ControllerChoice::Energy => {
            let c = EnergySwingUp::new(&nominal, &SwingUpParams::default())?;
            let k = c.lqr().gain();
            (Chosen::Other(Box::new(c)), [0.0; 4], Some(k), 0.01)
        }
        ControllerChoice::Tvlqr => {
            let c = TvlqrTracker::swing_up(&nominal, args.knots, &TrackerParams::default())?;
            let k = c.balance().gain();
            (Chosen::Other(Box::new(c)), [0.0; 4], Some(k), 0.01)
        }
        ControllerChoice::Mpc => {
            let nlp = &*nlp_slot.insert(swingup::transcribed_with_track(
                &nominal,
                args.knots,
                args.plan_track,
            )?);
            let params = MpcParams {
                newton_per_step: args.newton_per_step,
                timing_capacity: 1,
            };
            let mut c = MpcController::new(nlp, params)?;
            plan_cost = Some(c.plan().cost);
            if args.catch_angle > 0.0 {
                c = c
                    .with_catch(Catch {
                        catch_angle: args.catch_angle,
                        release_angle: 2.5 * args.catch_angle,
                        ..Catch::default()
                    })
                    .map_err(|e| option_error("--catch-angle", e))?;
            }
            if !args.no_adapt {
                let bank = &*bank_slot.insert(LengthBank::new(
                    &nominal,
                    args.knots,
                    args.plan_track,
                    BANK_RATIO,
                    BANK_STEPS,
                )?);
                c = c.with_adaptation(bank, PRIOR_SAMPLES)?;
            }
            let k = c.catch_gain();
            let period = c.period();
            (Chosen::Mpc(Box::new(c)), [0.0; 4], k, period)
        }
    };
    let controller = chosen.controller();
    let plan_seconds = plan_clock.elapsed().as_secs_f64();
    let config = SimConfig {
        control_period: period,
        ..config
    };
    let start = Instant::now();
    let mut next_line = 1.0;
    let progress = |t: f64| {
        let wall = start.elapsed().as_secs_f64();
        if wall >= next_line {
            eprintln!(
                "cartpole: simulated {t:.0} of {:.0} s ({wall:.1} s)",
                args.duration
            );
            next_line = wall.floor() + 1.0;
        }
    };
    // the force follows the commanded acceleration at 10 ms or faster: the controller is
    // asked every `every`-th sample
    let every = match &force_plant {
        Some(_) => (config.control_period / 0.01).round().max(1.0) as usize,
        None => 1,
    };
    let run = match &force_plant {
        None => simulate(&plant, controller, initial, &config, progress)?,
        Some((model, force_cart)) => {
            let mut driven = ForceFromAcceleration::new(&mut *controller, *model)
                .every(every)
                .map_err(|e| option_error("--plant", e))?;
            let config = SimConfig {
                control_period: config.control_period / every as f64,
                ..config
            };
            simulate(force_cart, &mut driven, initial, &config, progress)?
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let verdict = Swingup::default().judge(&run);
    // the controller's own calls (with --plant force, the samples in between only convert
    // its held acceleration into a force)
    let mut times: Vec<f64> = run.control_seconds.iter().copied().step_by(every).collect();
    times.sort_by(f64::total_cmp);
    let report = Report {
        controller: controller.name(),
        success: verdict.success,
        time_to_upright: verdict.time_to_upright,
        max_abs_x: verdict.max_abs_x,
        final_angle_error: verdict.final_angle_error,
        median_control_seconds: times.get(times.len() / 2).copied().unwrap_or(0.0),
        max_control_seconds: times.last().copied().unwrap_or(0.0),
        first_upright: verdict.first_upright,
        track_stop_time: run.stopped.map(|Stop::TrackLimit { time, .. }| time),
        initial_state: initial,
        duration: args.duration,
        noise: args.noise,
        mismatch: args.mismatch,
        plant_pole_length,
        max_accel: args.max_accel,
        seed: args.seed,
        samples: run.times.len(),
        gain,
        seconds,
        control_period: period,
        control_effort: control_effort(&run),
        knots: matches!(
            args.controller,
            ControllerChoice::Tvlqr | ControllerChoice::Mpc
        )
        .then_some(args.knots),
        newton_per_step: planned.then_some(args.newton_per_step),
        plan_seconds: matches!(
            args.controller,
            ControllerChoice::Tvlqr | ControllerChoice::Mpc
        )
        .then_some(plan_seconds),
        plan_cost,
        estimated_pole_length: chosen.mpc().and_then(MpcController::estimated_length),
        model_pole_length: chosen.mpc().map(MpcController::model_length),
        model_switches: chosen.mpc().map(MpcController::switches),
        plant: args.plant.name(),
        max_abs_control: run.controls.iter().fold(0.0, |m: f64, a| m.max(a.abs())),
    };
    if let Some(path) = &args.plot {
        let title = format!(
            "cartpole, {} controller{}",
            report.controller,
            match verdict.time_to_upright {
                Some(t) => format!(": upright from {t:.2} s"),
                None => ": not upright".to_string(),
            }
        );
        plot(path, &title, &run)?;
    }
    if let Some(path) = &args.animate {
        output::write_file(
            path,
            &animation_html(&run, report.controller, plant_pole_length),
        )?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        output::print_json(&mut out, &report)
    } else {
        writeln!(
            out,
            "cartpole {}: {} — upright from {}, max |x| {:.3} m, final angle error {:.2e} rad, control {:.2e} s median / {:.2e} s max",
            report.controller,
            if report.success { "success" } else { "failure" },
            report
                .time_to_upright
                .map_or("never".to_string(), |t| format!("{t:.2} s")),
            report.max_abs_x,
            report.final_angle_error,
            report.median_control_seconds,
            report.max_control_seconds
        )
        .map_err(CliError::stdout)
    }
}

/// `∫a² dt` over the run (the control held over each sample interval).
pub fn control_effort(run: &Run) -> f64 {
    run.times
        .windows(2)
        .zip(&run.controls)
        .map(|(t, a)| a * a * (t[1] - t[0]))
        .sum()
}

fn plot(path: &Path, title: &str, run: &Run) -> Result<(), CliError> {
    // at most about 250 points a line (every 50 ms of a 10 s run): the SVG stays small
    let every = run.times.len().div_ceil(250).max(1);
    let series = |f: &dyn Fn(&[f64; 4], f64) -> f64| -> Vec<(f64, f64)> {
        run.times
            .iter()
            .zip(run.states.iter().zip(&run.controls))
            .step_by(every)
            .map(|(&t, (s, &a))| (t, f(s, a)))
            .collect()
    };
    let panel = |caption: &str, label: &str, points: Vec<(f64, f64)>| crate::plot::Panel {
        title: caption.to_string(),
        x_desc: "t (s)".into(),
        y_desc: label.into(),
        series: vec![crate::plot::Series {
            name: label.into(),
            points,
        }],
        log_y: false,
    };
    crate::plot::panels_svg(
        path,
        &[
            panel(title, "x (m)", series(&|s, _| s[0])),
            panel("", "θ (rad)", series(&|s, _| s[2])),
            panel("", "a (m/s²)", series(&|_, a| a)),
        ],
    )
}

/// A self-contained page (no network): the run as JSON, an SVG drawing of cart and pole,
/// play/pause and a time slider, in inline JavaScript.
fn animation_html(run: &Run, controller: &str, pole_length: f64) -> String {
    // 20 ms frames
    let step = ((0.02
        / (run.times.get(1).copied().unwrap_or(0.02) - run.times.first().copied().unwrap_or(0.0))
            .max(1e-9))
    .round() as usize)
        .max(1);
    let idx: Vec<usize> = (0..run.times.len()).step_by(step).collect();
    let r = |v: f64| (v * 1e4).round() / 1e4;
    let data = serde_json::json!({
        "t": idx.iter().map(|&i| r(run.times[i])).collect::<Vec<_>>(),
        "x": idx.iter().map(|&i| r(run.states[i][0])).collect::<Vec<_>>(),
        "theta": idx.iter().map(|&i| r(run.states[i][2])).collect::<Vec<_>>(),
        "a": idx.iter().map(|&i| r(run.controls[i])).collect::<Vec<_>>(),
        "L": pole_length,
        "controller": controller,
    });
    format!(
        r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cartpole: {controller}</title>
<style>body{{font-family:sans-serif;margin:1em}} svg{{border:1px solid #ccc;background:#fff}} #t{{width:600px}}</style>
</head><body>
<h3>cartpole, {controller} controller</h3>
<svg id="view" width="700" height="320" viewBox="-1.75 -1.0 3.5 1.6">
  <line x1="-1" y1="0.05" x2="1" y2="0.05" stroke="#888" stroke-width="0.01"/>
  <line x1="-1" y1="0.0" x2="-1" y2="0.1" stroke="#c00" stroke-width="0.01"/>
  <line x1="1" y1="0.0" x2="1" y2="0.1" stroke="#c00" stroke-width="0.01"/>
  <rect id="cart" x="-0.1" y="-0.04" width="0.2" height="0.08" fill="#36c"/>
  <line id="pole" x1="0" y1="0" x2="0" y2="0.5" stroke="#d70" stroke-width="0.025" stroke-linecap="round"/>
  <text id="label" x="-1.7" y="-0.85" font-size="0.08">t = 0.00 s</text>
</svg>
<div><button id="play">play</button>
<input id="t" type="range" min="0" value="0" step="1"></div>
<script>
const D = {data};
const n = D.t.length, slider = document.getElementById('t'), btn = document.getElementById('play');
slider.max = n - 1;
function show(i) {{
  const x = D.x[i], th = D.theta[i];
  document.getElementById('cart').setAttribute('x', x - 0.1);
  const pole = document.getElementById('pole');
  // θ = 0 hangs down (SVG y grows downwards), θ = π is upright
  pole.setAttribute('x1', x); pole.setAttribute('y1', 0);
  pole.setAttribute('x2', x + D.L * Math.sin(th)); pole.setAttribute('y2', D.L * Math.cos(th));
  document.getElementById('label').textContent =
    't = ' + D.t[i].toFixed(2) + ' s   x = ' + x.toFixed(3) + ' m   θ = ' + th.toFixed(3) + ' rad   a = ' + D.a[i].toFixed(2) + ' m/s²';
}}
let playing = false, t0 = 0, i0 = 0;
function frame(now) {{
  if (!playing) return;
  const elapsed = (now - t0) / 1000;
  let i = i0;
  while (i < n - 1 && D.t[i] - D.t[i0] < elapsed) i++;
  slider.value = i; show(i);
  if (i >= n - 1) {{ playing = false; btn.textContent = 'play'; return; }}
  requestAnimationFrame(frame);
}}
btn.onclick = () => {{
  playing = !playing; btn.textContent = playing ? 'pause' : 'play';
  if (playing) {{ i0 = +slider.value >= n - 1 ? 0 : +slider.value; t0 = performance.now(); requestAnimationFrame(frame); }}
}};
slider.oninput = () => {{ playing = false; btn.textContent = 'play'; show(+slider.value); }};
show(0);
</script>
</body></html>
"##
    )
}

/// What the main job (`sparsediff` with no arguments) did with the cart-pole.
#[derive(Debug, Serialize)]
pub struct MainJob {
    /// Probes (colours) of the cartpole N = 100 Hessian, if the suite coloured it.
    pub hessian_probes: Option<usize>,
    /// Knots of the swing-up.
    pub knots: usize,
    /// How the swing-up solve ended.
    pub solve_status: String,
    /// Its wall-clock seconds.
    pub solve_seconds: f64,
    /// Its Newton iterations.
    pub newton_iterations: usize,
    /// The optimal cost.
    pub cost: f64,
    /// The MPC closed loop from hanging at rest succeeded (upright by 5 s, held 5 s).
    pub success: bool,
    /// Start of the held upright interval, s.
    pub time_to_upright: Option<f64>,
    /// Largest |x|, m.
    pub max_abs_x: f64,
    /// Median seconds of an MPC period.
    pub median_control_seconds: f64,
    /// Largest seconds of an MPC period.
    pub max_control_seconds: f64,
    /// The SVG of x, θ and a.
    pub plot: PathBuf,
    /// The HTML animation.
    pub animation: PathBuf,
}

/// The main job's cart-pole part: solves the spec's swing-up (N = 100) with the
/// trajectory solver, runs the MPC closed loop (4 Newton steps a period, planning with
/// |x| ≤ 0.85 m, LQR catch below 0.2 rad) from hanging at rest for 10 s, and writes
/// `dir/cartpole-mpc.svg` and `dir/cartpole-mpc.html`.
pub fn main_job(dir: &Path, hessian_probes: Option<usize>) -> Result<MainJob, CliError> {
    use trajectory::solver::{Solver, SolverParams, WarmStart};
    let knots = 100;
    let nominal = AccelerationCart::new(AccelerationParams::default())?;
    let spec = swingup::transcribed(&nominal, knots)?;
    let trajectory_error = |e| CliError::Trajectory(Box::new(e));
    let clock = Instant::now();
    let mut solver = Solver::new(&spec, SolverParams::default()).map_err(trajectory_error)?;
    let solution = solver
        .solve(
            &WarmStart::primal(&trajectory::cartpole::initial_guess(knots)),
            &mut (),
        )
        .map_err(trajectory_error)?;
    let solve_seconds = clock.elapsed().as_secs_f64();
    let nlp = swingup::transcribed_with_track(&nominal, knots, 0.85)?;
    let bank = LengthBank::new(&nominal, knots, 0.85, BANK_RATIO, BANK_STEPS)?;
    let mut mpc = MpcController::new(&nlp, MpcParams::default())?
        .with_catch(Catch::default())?
        .with_adaptation(&bank, PRIOR_SAMPLES)?;
    let config = SimConfig {
        control_period: mpc.period(),
        ..SimConfig::default()
    };
    let run = simulate(&nominal, &mut mpc, [0.0; 4], &config, |_| {})?;
    let verdict = Swingup::default().judge(&run);
    let mut times = run.control_seconds.clone();
    times.sort_by(f64::total_cmp);
    let plot_path = dir.join("cartpole-mpc.svg");
    let animation = dir.join("cartpole-mpc.html");
    let title = format!(
        "cartpole, MPC (N = {knots}, 4 Newton steps a period){}",
        match verdict.time_to_upright {
            Some(t) => format!(": upright from {t:.2} s"),
            None => ": not upright".to_string(),
        }
    );
    plot(&plot_path, &title, &run)?;
    output::write_file(&animation, &animation_html(&run, "mpc", 0.5))?;
    Ok(MainJob {
        hessian_probes,
        knots,
        solve_status: format!("{:?}", solution.status),
        solve_seconds,
        newton_iterations: solution.info.newton_iterations,
        cost: solution.cost,
        success: verdict.success,
        time_to_upright: verdict.time_to_upright,
        max_abs_x: verdict.max_abs_x,
        median_control_seconds: times.get(times.len() / 2).copied().unwrap_or(0.0),
        max_control_seconds: times.last().copied().unwrap_or(0.0),
        plot: plot_path,
        animation,
    })
}

/// The main job's summary lines.
pub fn print_main_job(out: &mut impl Write, job: &MainJob) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "Cart-pole, from pattern to control (`sparsediff trajopt cartpole`, `sparsediff cartpole --controller mpc`):"
    )?;
    writeln!(
        out,
        "  swing-up, N = {}: {} Hessian probes (star colouring), {} in {:.1} ms ({} Newton iterations), cost J = {:.6}",
        job.knots,
        job.hessian_probes
            .map_or("-".to_string(), |p| p.to_string()),
        job.solve_status,
        job.solve_seconds * 1e3,
        job.newton_iterations,
        job.cost
    )?;
    writeln!(
        out,
        "  MPC closed loop from hanging at rest: {} — upright from {}, max |x| {:.3} m, {:.0} µs median / {:.0} µs max per period",
        if job.success { "success" } else { "failure" },
        job.time_to_upright
            .map_or("never".to_string(), |t| format!("{t:.2} s")),
        job.max_abs_x,
        job.median_control_seconds * 1e6,
        job.max_control_seconds * 1e6
    )?;
    writeln!(
        out,
        "  wrote {} (x, θ, a against time) and {} (animation)",
        job.plot.display(),
        job.animation.display()
    )
}
