//! `sparsediff trajopt cartpole` and `sparsediff mpc cartpole`: the JSON contracts, the
//! plots, and the errors on bad input.

mod common;

use common::{json, stderr_of};

#[test]
fn trajopt_cartpole_json_and_plot() {
    let dir = std::env::temp_dir().join(format!("sparsediff-trajopt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plot = dir.join("swingup.svg");
    let v = json(&[
        "trajopt",
        "cartpole",
        "--knots",
        "100",
        "--json",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    for field in [
        "knots",
        "status",
        "cost",
        "max_violation",
        "stationarity",
        "newton_iterations",
        "outer_iterations",
        "seconds",
        "hessian_seconds",
        "factor_seconds",
    ] {
        assert!(v.get(field).is_some(), "missing {field}: {v}");
    }
    assert_eq!(v["knots"], 100);
    assert_eq!(v["status"], "converged");
    // one of the spec's KKT points at N = 100
    let cost = v["cost"].as_f64().unwrap();
    assert!(
        [9.16851696, 15.76719855]
            .iter()
            .any(|k| (cost - k).abs() <= 1e-6 * k),
        "J = {cost}"
    );
    assert!(v["max_violation"].as_f64().unwrap() <= 1e-8);
    assert!(v["stationarity"].as_f64().unwrap() <= 1e-6);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("convergence"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn mpc_cartpole_json_and_histogram() {
    let dir = std::env::temp_dir().join(format!("sparsediff-mpc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plot = dir.join("mpc.svg");
    let v = json(&[
        "mpc",
        "cartpole",
        "--knots",
        "40",
        "--steps",
        "60",
        "--newton-per-step",
        "3",
        "--json",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    for field in [
        "knots",
        "steps",
        "newton_per_step",
        "median_step_seconds",
        "p99_step_seconds",
        "max_step_seconds",
    ] {
        assert!(v.get(field).is_some(), "missing {field}: {v}");
    }
    assert_eq!(v["steps"], 60);
    assert_eq!(v["newton_per_step"], 3);
    let (median, p99, max) = (
        v["median_step_seconds"].as_f64().unwrap(),
        v["p99_step_seconds"].as_f64().unwrap(),
        v["max_step_seconds"].as_f64().unwrap(),
    );
    assert!(0.0 < median && median <= p99 && p99 <= max);
    assert!(std::fs::read_to_string(&plot).unwrap().starts_with("<svg"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_names_the_problem() {
    // a horizon of 0 or 1 knots
    for knots in ["0", "1"] {
        let e = stderr_of(&["trajopt", "cartpole", "--knots", knots]);
        assert!(e.contains("knots"), "{e}");
    }
    let e = stderr_of(&["mpc", "cartpole", "--knots", "1", "--steps", "3"]);
    assert!(e.contains("knots"), "{e}");
    let e = stderr_of(&["mpc", "cartpole", "--steps", "0"]);
    assert!(e.contains("steps"), "{e}");
    let e = stderr_of(&["mpc", "cartpole", "--steps", "5", "--newton-per-step", "0"]);
    assert!(e.contains("newton-per-step"), "{e}");
    let e = stderr_of(&["trajopt", "cartpole", "--knots", "99999999999"]);
    assert!(e.contains("knots"), "{e}");
    let e = stderr_of(&["trajopt", "cartpole", "--plot", "/no/such/dir/x.svg"]);
    assert!(e.contains("/no/such/dir"), "{e}");
}
