//! `sparsediff newton` and `sparsediff bench banded`: the JSON contract on small sizes and
//! the errors on bad input.

mod common;

use common::{json, sparsediff, stderr_of};

const CONTRACT: [&str; 8] = [
    "n",
    "method",
    "status",
    "iterations",
    "grad_inf",
    "seconds",
    "hessian_seconds",
    "factor_seconds",
];

#[test]
fn newton_rosenbrock_json_for_every_method() {
    for method in ["newton", "trust-cg", "lbfgs"] {
        let v = json(&[
            "newton",
            "rosenbrock",
            "--n",
            "40",
            "--method",
            method,
            "--json",
        ]);
        for key in CONTRACT {
            assert!(v.get(key).is_some(), "{method}: missing {key} in {v}");
        }
        assert_eq!(v["n"], 40);
        assert_eq!(v["method"], method);
        assert_eq!(v["status"], "converged", "{v}");
        assert!(v["grad_inf"].as_f64().unwrap() <= 1e-8);
        // From the alternating start: the local minimum (x₀ ≈ −0.993) for n ≥ 4, or the
        // global one.
        let f = v["value"].as_f64().unwrap();
        assert!(
            f < 1e-12 || (f - 3.986_623_854).abs() < 1e-6,
            "{method}: f = {f}"
        );
    }
    let v = json(&["newton", "rosenbrock", "--n", "40", "--json"]);
    assert_eq!(v["factorization"], "band");
    assert_eq!(v["probes"], 2);
    assert_eq!(v["hessians"], v["iterations"]);
    let v = json(&[
        "newton",
        "rosenbrock",
        "--n",
        "40",
        "--method",
        "trust-cg",
        "--json",
    ]);
    assert_eq!(v["hessians"], 0);
    assert!(v["hvps"].as_u64().unwrap() > 0);
}

#[test]
fn newton_rosenbrock_from_a_constant_start_with_the_tape_gradient() {
    let v = json(&[
        "newton",
        "rosenbrock",
        "--n",
        "500",
        "--x0",
        "1.2",
        "--gradient",
        "tape",
        "--json",
    ]);
    assert_eq!(v["status"], "converged");
    assert_eq!(v["x0"], "1.2");
    assert_eq!(v["gradient"], "tape");
    assert!(v["iterations"].as_u64().unwrap() <= 15);
    assert!(v["value"].as_f64().unwrap() < 1e-20);
}

#[test]
fn newton_bratu_json() {
    let v = json(&["newton", "bratu", "--n", "400", "--json"]);
    for key in CONTRACT.iter().filter(|k| **k != "grad_inf") {
        assert!(v.get(*key).is_some(), "missing {key} in {v}");
    }
    assert!(v.get("grad_inf").is_none());
    assert_eq!(v["status"], "converged");
    assert!(v["residual_inf"].as_f64().unwrap() <= 1e-10);
    assert_eq!(v["probes"], 5, "5-point stencil: 5 column colours");
    assert_eq!(v["symbolic_analyses"], 1);
    // n is rounded down to a square.
    let v = json(&["newton", "bratu", "--n", "30", "--json"]);
    assert_eq!(v["n"], 25);
    // Not converged within one iteration: a named status, exit 0, the numbers so far.
    let v = json(&[
        "newton",
        "bratu",
        "--n",
        "100",
        "--max-iterations",
        "1",
        "--json",
    ]);
    assert_eq!(v["status"], "max_iterations");
    assert_eq!(v["iterations"], 1);
}

#[test]
fn newton_text_output() {
    let out = sparsediff(&["newton", "rosenbrock", "--n", "10"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("status converged"), "{text}");
}

#[test]
fn newton_bad_input_is_refused_by_name() {
    for (args, needle) in [
        (vec!["newton", "rosenbrock", "--n", "1"], "at least 2"),
        (vec!["newton", "bratu", "--n", "0"], "at least 1"),
        (
            vec!["newton", "rosenbrock", "--n", "18446744073709551615"],
            "8388608",
        ),
        (vec!["newton", "bratu", "--n", "1000000000000"], "8388608"),
        (
            vec!["newton", "rosenbrock", "--n", "10", "--x0", "nan"],
            "finite",
        ),
        (
            vec!["newton", "rosenbrock", "--n", "10", "--x0", "inf"],
            "finite",
        ),
        (
            vec![
                "newton",
                "rosenbrock",
                "--n",
                "10",
                "--max-iterations",
                "18446744073709551615",
            ],
            "0..=1000000",
        ),
        (
            vec!["newton", "rosenbrock", "--n", "10", "--method", "sgd"],
            "sgd",
        ),
    ] {
        let e = stderr_of(&args);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
}

#[test]
fn bench_banded_json_and_its_errors() {
    let v = json(&["bench", "banded", "--n", "2000", "--beta", "3", "--json"]);
    for key in ["n", "beta", "factor_seconds", "solve_seconds", "residual"] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["n"], 2000);
    assert_eq!(v["beta"], 3);
    assert!(v["residual"].as_f64().unwrap() < 1e-13);
    for (args, needle) in [
        (
            vec!["bench", "banded", "--n", "10", "--beta", "10"],
            "below",
        ),
        (
            vec![
                "bench",
                "banded",
                "--n",
                "10",
                "--beta",
                "3",
                "--repeats",
                "0",
            ],
            "at least 1",
        ),
        (vec!["bench", "banded", "--n", "0", "--beta", "0"], "below"),
        (
            vec!["bench", "banded", "--n", "8000000", "--beta", "100"],
            "band values",
        ),
        (
            vec!["bench", "banded", "--n", "1000000000000", "--beta", "1"],
            "8388608",
        ),
    ] {
        let e = stderr_of(&args);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
}
