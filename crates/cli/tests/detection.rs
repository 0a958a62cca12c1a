//! `--detection local|global|conservative` of `sparsediff bench hessian|jacobian`: the
//! `detection` field of the JSON, the same pattern on the benchmark problems (which compare
//! no values of their inputs), and errors on bad values.

use std::process::{Command, Output};

fn sparsediff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparsediff"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = sparsediff(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn stderr_of(args: &[&str]) -> String {
    let out = sparsediff(args);
    assert_eq!(out.status.code(), Some(2), "{args:?} must fail with 2");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bench_hessian_reports_the_detection() {
    for (problem, n, nnz) in [
        ("rosenbrock", "300", 300 + 2 * 299),
        ("grid2d", "100", 100 + 4 * 90),
    ] {
        let mut seen = Vec::new();
        for detection in [None, Some("local"), Some("global"), Some("conservative")] {
            let mut args = vec![
                "bench",
                "hessian",
                "--problem",
                problem,
                "--n",
                n,
                "--repeats",
                "2",
                "--json",
            ];
            if let Some(d) = detection {
                args.extend(["--detection", d]);
            }
            let v = json(&args);
            assert_eq!(v["detection"], detection.unwrap_or("local"), "{v}");
            assert_eq!(v["nnz"], nnz, "{problem} {detection:?}");
            assert!(
                v["max_rel_error"].as_f64().expect("a number") < 1e-10,
                "{v}"
            );
            assert!(v["prepare_stages"]["detection"].as_f64().is_some());
            // every field of the contract is still there
            for key in [
                "problem",
                "n",
                "backend",
                "method",
                "probes",
                "prepare_seconds",
                "evaluate_seconds",
                "f_eval_seconds",
                "max_rel_error",
                "designer",
            ] {
                assert!(v.get(key).is_some(), "missing {key}");
            }
            seen.push(v["probes"].clone());
        }
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
    }
}

#[test]
fn bench_jacobian_reports_the_detection() {
    let v = json(&[
        "bench",
        "jacobian",
        "--problem",
        "tridiagonal",
        "--n",
        "200",
        "--repeats",
        "2",
        "--detection",
        "global",
        "--json",
    ]);
    assert_eq!(v["detection"], "global");
    assert_eq!(v["nnz"], 200 + 2 * 199);
    assert!(v["max_rel_error"].as_f64().expect("a number") < 1e-12);
    let text = sparsediff(&[
        "bench",
        "jacobian",
        "--problem",
        "arrow",
        "--n",
        "50",
        "--repeats",
        "2",
        "--detection",
        "conservative",
    ]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("detection conservative"));
}

#[test]
fn bad_detection_values_are_errors() {
    let e = stderr_of(&[
        "bench",
        "hessian",
        "--problem",
        "rosenbrock",
        "--n",
        "100",
        "--detection",
        "everywhere",
    ]);
    assert!(e.contains("--detection") && e.contains("global"), "{e}");
    let e = stderr_of(&[
        "bench",
        "jacobian",
        "--problem",
        "arrow",
        "--n",
        "100",
        "--detection",
        "",
    ]);
    assert!(e.contains("--detection"), "{e}");
    let e = stderr_of(&[
        "bench",
        "hessian",
        "--problem",
        "cartpole",
        "--n",
        "20",
        "--path",
        "composite",
        "--detection",
        "global",
    ]);
    assert!(e.contains("--detection applies to the generic path"), "{e}");
}
