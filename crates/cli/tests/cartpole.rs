//! `sparsediff cartpole` and `sparsediff lqr cartpole`: the JSON contract, the files, and
//! named errors (exit code 2) on bad input.

mod common;

use common::{json, stderr_of};

#[test]
fn cartpole_energy_json_contract_and_files() {
    let dir = std::env::temp_dir().join(format!("sparsediff-cartpole-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("run.svg");
    let html = dir.join("run.html");
    let v = json(&[
        "cartpole",
        "--controller",
        "energy",
        "--json",
        "--plot",
        svg.to_str().unwrap(),
        "--animate",
        html.to_str().unwrap(),
    ]);
    for key in [
        "controller",
        "success",
        "time_to_upright",
        "max_abs_x",
        "final_angle_error",
        "median_control_seconds",
        "max_control_seconds",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["controller"], "energy");
    assert_eq!(v["success"], true, "{v}");
    assert!(v["time_to_upright"].as_f64().unwrap() <= 5.0);
    assert!(v["max_abs_x"].as_f64().unwrap() <= 1.0);
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.starts_with("<svg") && svg_text.len() < 100_000);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<script>") && page.contains("const D = {"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "self-contained"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cartpole_lqr_and_mismatch_with_noise() {
    let v = json(&["cartpole", "--controller", "lqr", "--json"]);
    assert_eq!(v["controller"], "lqr");
    assert_eq!(v["success"], true, "{v}");
    let v = json(&[
        "cartpole",
        "--controller",
        "energy",
        "--noise",
        "0.01",
        "--mismatch",
        "0.2",
        "--seed",
        "7",
        "--json",
    ]);
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["plant_pole_length"], 0.6);
}

#[test]
fn lqr_cartpole_reproduces_the_spec() {
    let v = json(&["lqr", "cartpole", "--json", "--repeats", "5"]);
    let k: Vec<f64> = v["K"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let spec = [-1.0000000000, -2.1117052005, 26.7778608771, 5.0329658518];
    for (a, b) in k.iter().zip(spec) {
        assert!((a - b).abs() <= 1e-8 * b.abs(), "{a} vs {b}");
    }
    assert!((v["P"][2][2].as_f64().unwrap() - 68.2273369658).abs() < 1e-8 * 68.3);
    assert_eq!(v["closed_loop_eigenvalues"].as_array().unwrap().len(), 4);
    assert!(v["residual"].as_f64().unwrap() < 1e-12);
    assert!(v["seconds"].as_f64().unwrap() > 0.0);
    let d = json(&[
        "lqr",
        "cartpole",
        "--discrete",
        "0.01",
        "--q",
        "1,1,10,1",
        "--r",
        "0.5",
        "--json",
        "--repeats",
        "3",
    ]);
    for e in d["closed_loop_eigenvalues"].as_array().unwrap() {
        let (re, im) = (e[0].as_f64().unwrap(), e[1].as_f64().unwrap());
        assert!(re.hypot(im) < 1.0);
    }
}

#[test]
fn bad_input_is_a_named_error() {
    let cases: [(&[&str], &str); 13] = [
        (
            &["cartpole", "--controller", "mpc", "--knots", "1"],
            "--knots",
        ),
        (
            &["cartpole", "--controller", "mpc", "--newton-per-step", "0"],
            "--newton-per-step",
        ),
        (
            &["cartpole", "--controller", "tvlqr", "--knots", "99999"],
            "--knots",
        ),
        (
            &["cartpole", "--controller", "mpc", "--plan-track", "0"],
            "--plan-track",
        ),
        (
            &["cartpole", "--controller", "mpc", "--catch-angle", "-0.1"],
            "--catch-angle",
        ),
        (
            &["cartpole", "--controller", "energy", "--duration", "-1"],
            "--duration",
        ),
        (
            &["cartpole", "--controller", "energy", "--noise", "NaN"],
            "--noise",
        ),
        (
            &["cartpole", "--controller", "energy", "--mismatch", "-1.5"],
            "--mismatch",
        ),
        (&["cartpole", "--controller", "pid"], "invalid value"),
        (&["lqr", "cartpole", "--q", "1,1,1"], "--q needs 4"),
        (&["lqr", "cartpole", "--q", "1,-1,1,1"], "q_v"),
        (&["lqr", "cartpole", "--discrete", "0"], "--discrete"),
        (&["lqr", "cartpole", "--discrete", "-1"], "--discrete"),
    ];
    for (args, needle) in cases {
        let e = stderr_of(args);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
}

/// The contract fields, present for every controller.
fn assert_contract(v: &serde_json::Value) {
    for key in [
        "controller",
        "success",
        "time_to_upright",
        "max_abs_x",
        "final_angle_error",
        "median_control_seconds",
        "max_control_seconds",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
}

#[test]
fn cartpole_tvlqr_json_contract() {
    // the default plan, N = 100 (a coarse N = 40 plan is tracked off the track's end:
    // its piecewise-linear reference is too far from the plant's motion)
    let v = json(&["cartpole", "--controller", "tvlqr", "--json"]);
    assert_contract(&v);
    assert_eq!(v["controller"], "tvlqr");
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["knots"], 100);
    assert_eq!(v["control_period"], 0.01);
    assert!(v["control_effort"].as_f64().unwrap() > 0.0);
}

#[test]
fn cartpole_mpc_json_contract_and_files() {
    let dir = std::env::temp_dir().join(format!("sparsediff-mpc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("mpc.svg");
    // N = 40, 2 Newton steps a period, 3 s: the contract, not the swing-up
    let v = json(&[
        "cartpole",
        "--controller",
        "mpc",
        "--knots",
        "40",
        "--newton-per-step",
        "2",
        "--duration",
        "3",
        "--json",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert_contract(&v);
    assert_eq!(v["controller"], "mpc");
    assert_eq!(v["knots"], 40);
    assert_eq!(v["newton_per_step"], 2);
    assert_eq!(v["control_period"], 5.0 / 40.0);
    assert!(v["plan_cost"].as_f64().unwrap() > 0.0);
    assert!(v["median_control_seconds"].as_f64().unwrap() > 0.0);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    // the length estimate is on by default and reported
    assert!(v["estimated_pole_length"].as_f64().unwrap() > 0.0);
    assert!(v["model_pole_length"].as_f64().unwrap() > 0.0);
    assert!(v["model_switches"].as_u64().is_some());
    std::fs::remove_dir_all(&dir).ok();
}

/// The MPC with the pole 20 % shorter than its model and noise, the CLI's defaults: the
/// online length estimate finds the plant's pole and the swing-up succeeds (0/20 seeds
/// without it, `papers/cartpole.md`); `--no-adapt` keeps the nominal model.
#[test]
fn cartpole_mpc_adapts_to_a_shorter_pole() {
    let base = [
        "cartpole",
        "--controller",
        "mpc",
        "--mismatch",
        "-0.2",
        "--noise",
        "0.01",
        "--json",
    ];
    let v = json(&base);
    assert_eq!(v["success"], true, "{v}");
    let estimate = v["estimated_pole_length"].as_f64().unwrap();
    assert!((estimate / 0.4 - 1.0).abs() < 0.02, "{estimate}");
    assert!(v["model_switches"].as_u64().unwrap() >= 1);
    let mut fixed = base.to_vec();
    fixed.extend(["--no-adapt", "--duration", "4"]);
    let v = json(&fixed);
    assert_eq!(v["model_pole_length"], 0.5);
    assert_eq!(v["model_switches"], 0);
    assert!(v["estimated_pole_length"].is_null());
}

/// `--plant force`: the energy swing-up drives the force-driven cart through the nominal
/// force model's inverse dynamics, within the force limit.
#[test]
fn cartpole_force_plant() {
    let v = json(&[
        "cartpole",
        "--controller",
        "energy",
        "--plant",
        "force",
        "--json",
    ]);
    assert_contract(&v);
    assert_eq!(v["plant"], "force");
    assert_eq!(v["success"], true, "{v}");
    let f = v["max_abs_control"].as_f64().unwrap();
    assert!(f > 0.0 && f <= 10.0, "{f}");
    let e = stderr_of(&[
        "cartpole",
        "--controller",
        "energy",
        "--plant",
        "force",
        "--max-force",
        "0",
    ]);
    assert!(e.contains("--max-force"), "{e}");
}
