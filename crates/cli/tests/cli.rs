//! The `sparsediff` binary: its JSON contract and its errors on bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn sparsediff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparsediff"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn data(name: &str) -> String {
    format!("{}/../../data/matrices/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn stderr_of(args: &[&str]) -> String {
    let out = sparsediff(args);
    assert!(!out.status.success(), "expected failure for {args:?}");
    assert_eq!(
        out.status.code(),
        Some(2),
        "errors exit with 2, not a panic (101)"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn color_json_has_the_contract_fields() {
    let v = json(&sparsediff(&[
        "color",
        "band:n=1000,k=3",
        "--method",
        "acyclic",
        "--order",
        "perfect-elimination",
        "--json",
    ]));
    for key in [
        "rows",
        "cols",
        "nnz",
        "problem",
        "method",
        "order",
        "colors",
        "lower_bound",
        "valid",
        "seconds",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["rows"], 1000);
    assert_eq!(v["nnz"], 1000 * 7 - 12);
    assert_eq!(v["problem"], "symmetric");
    assert_eq!(v["method"], "acyclic");
    assert_eq!(v["order"], "perfect-elimination");
    assert_eq!(v["colors"], 4);
    assert_eq!(v["lower_bound"], 4);
    assert_eq!(v["valid"], true);
    assert!(v["seconds"].as_f64().unwrap() >= 0.0);
}

#[test]
fn color_reads_matrix_market_and_builtins() {
    let file = data("lp_ken_11.mtx");
    let v = json(&sparsediff(&[
        "color",
        &file,
        "--problem",
        "column",
        "--json",
    ]));
    assert_eq!(
        (v["rows"].as_u64(), v["cols"].as_u64(), v["colors"].as_u64()),
        (Some(14694), Some(21349), Some(130))
    );
    let v = json(&sparsediff(&[
        "color",
        "builtin:lp_ken_11",
        "--problem",
        "row",
        "--json",
    ]));
    assert_eq!(v["colors"], 5);
    assert_eq!(v["lower_bound"], 3);
    let v = json(&sparsediff(&[
        "color",
        "cartpole:N=100",
        "--method",
        "star",
        "--order",
        "best",
        "--json",
    ]));
    assert_eq!(v["order"], "best");
    assert_eq!(v["colors"], 9);
    assert_eq!(v["tried"].as_array().unwrap().len(), 8);
}

#[test]
fn out_and_dot_files_are_written() {
    let dir = std::env::temp_dir().join(format!("sparsediff-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (out, dot): (PathBuf, PathBuf) = (dir.join("colors.txt"), dir.join("graph.dot"));
    let r = sparsediff(&[
        "color",
        "band:n=10,k=1",
        "--method",
        "star",
        "--out",
        out.to_str().unwrap(),
        "--dot",
        dot.to_str().unwrap(),
    ]);
    assert!(r.status.success());
    let colors: Vec<i64> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(colors.len(), 10);
    assert!(colors.iter().all(|&c| (0..3).contains(&c)));
    let text = std::fs::read_to_string(&dot).unwrap();
    assert!(text.starts_with("graph coloring {") && text.contains("0 -- 1;"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_names_the_problem() {
    let dir = std::env::temp_dir().join(format!("sparsediff-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        (
            write(
                "banner.mtx",
                "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n",
            ),
            "line 1",
        ),
        (
            write(
                "range.mtx",
                "%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 1\n3 1\n",
            ),
            "line 4",
        ),
        (
            write(
                "count.mtx",
                "%%MatrixMarket matrix coordinate pattern general\n2 2 3\n1 1\n2 2\n",
            ),
            "3",
        ),
        (
            write(
                "value.mtx",
                "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 abc\n",
            ),
            "line 3",
        ),
        (
            write(
                "empty.mtx",
                "%%MatrixMarket matrix coordinate pattern general\n3 3 0\n",
            ),
            "no entries",
        ),
        (
            write(
                "zero.mtx",
                "%%MatrixMarket matrix coordinate pattern general\n0 4 0\n",
            ),
            "0×4",
        ),
    ];
    for (path, needle) in &cases {
        let e = stderr_of(&["color", path]);
        assert!(e.contains(needle), "{path}: {e}");
    }
    for (spec, needle) in [
        ("band:n=1000", "k"),
        ("band:n=0,k=0", "n"),
        ("band:n=10,k=20", "lower"),
        ("grid2d:nx=1e9,ny=1e9", "exceeds"),
        ("grid2d:nx=10,ny=10,stencil=7", "5 or 9"),
        ("random:m=10,n=10,density=3", "density"),
        ("blob:n=3", "unknown generator"),
        ("does-not-exist.mtx", "does-not-exist.mtx"),
        ("builtin:nothing", "builtin"),
    ] {
        let e = stderr_of(&["color", spec]);
        assert!(e.contains(needle), "{spec}: {e}");
    }
    let e = stderr_of(&[
        "color",
        "random:m=5,n=6,density=0.5",
        "--problem",
        "symmetric",
    ]);
    assert!(e.contains("square"), "{e}");
    let e = stderr_of(&[
        "color",
        &data("jac_pat.mtx"),
        "--problem",
        "column",
        "--method",
        "star",
    ]);
    assert!(e.contains("does not apply"), "{e}");
    let asym = write(
        "asym.mtx",
        "%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 1\n2 1\n",
    );
    let e = stderr_of(&["color", &asym, "--problem", "symmetric"]);
    assert!(e.contains("(1, 0)"), "{e}");
    // ...which --symmetrize repairs.
    let v = json(&sparsediff(&[
        "color",
        &asym,
        "--problem",
        "symmetric",
        "--symmetrize",
        "--json",
    ]));
    assert_eq!(v["symmetrized"], true);
    // Unknown option values are rejected by the parser, not by a panic.
    let out = sparsediff(&["color", "band:n=10,k=1", "--order", "fancy"]);
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_json_has_the_contract_fields() {
    let v = json(&sparsediff(&[
        "compare",
        "grid2d:nx=30,ny=20,stencil=5",
        "--json",
    ]));
    for key in ["pattern", "rows", "cols", "nnz", "designers"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let designers = v["designers"].as_array().unwrap();
    let names: Vec<&str> = designers
        .iter()
        .map(|d| d["designer"].as_str().unwrap())
        .collect();
    for name in [
        "identity",
        "roll",
        "stencil-direct",
        "stencil-substitution",
        "cpr",
        "star",
        "acyclic",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    for d in designers {
        for key in [
            "designer",
            "probes",
            "lower_bound",
            "max_rel_error",
            "design_seconds",
            "decode_seconds",
        ] {
            assert!(d.get(key).is_some(), "missing {key} in {d}");
        }
        let tol = if d["designer"].as_str().unwrap().contains("random") {
            1e-10
        } else {
            1e-12
        };
        assert!(d["max_rel_error"].as_f64().unwrap() <= tol, "{d}");
    }
    let probes = |name: &str| {
        designers.iter().find(|d| d["designer"] == name).unwrap()["probes"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(probes("stencil-direct"), 5);
    assert_eq!(probes("stencil-substitution"), 3);
}

#[test]
fn compare_runs_the_block_band_closed_forms() {
    // A block_band spec carries its geometry: the closed forms reach the largest row
    // (l+u+1)·b and the clique (k+1)·b, and decode exactly.
    let v = json(&sparsediff(&[
        "compare",
        "block_band:nblocks=20,block=3,k=1",
        "--json",
    ]));
    let designers = v["designers"].as_array().unwrap();
    let designer = |name: &str| {
        designers
            .iter()
            .find(|d| d["designer"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    for (name, probes) in [("stencil-direct", 9), ("stencil-substitution", 6)] {
        let d = designer(name);
        assert_eq!(d["probes"].as_u64(), Some(probes), "{d}");
        assert_eq!(d["lower_bound"].as_u64(), Some(probes), "{d}");
        assert!(d["max_rel_error"].as_f64().unwrap() <= 1e-12, "{d}");
    }
    // Asymmetric: direct only (substitution needs a symmetric matrix).
    let v = json(&sparsediff(&[
        "compare",
        "block_band:nblocks=20,block=2,lower=0,upper=2",
        "--json",
    ]));
    let designers = v["designers"].as_array().unwrap();
    let direct = designers
        .iter()
        .find(|d| d["designer"] == "stencil-direct")
        .unwrap();
    assert_eq!(direct["probes"].as_u64(), Some(6), "{direct}");
}

#[test]
fn compare_writes_csv_markdown_and_a_plot() {
    let out = sparsediff(&["compare", "cartpole:N=20", "--csv"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("pattern,rows,cols,nnz,designer,probes"));
    assert!(text.lines().count() >= 6);
    let out = sparsediff(&["compare", "cartpole:N=20", "--markdown"]);
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("| acyclic | 6 |")
    );
    let svg = std::env::temp_dir().join(format!("sparsediff-cmp-{}.svg", std::process::id()));
    let out = sparsediff(&[
        "compare",
        "band:n=100,k=2",
        "--plot",
        svg.to_str().unwrap(),
        "--noise",
        "1e-6",
    ]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("acyclic"));
    let _ = std::fs::remove_file(&svg);
    // Bad noise is rejected by the parser.
    assert!(
        !sparsediff(&["compare", "band:n=10,k=1", "--noise", "-1"])
            .status
            .success()
    );
    assert!(
        !sparsediff(&["compare", "band:n=10,k=1", "--json", "--csv"])
            .status
            .success()
    );
}

/// A fresh directory for one test's files.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sparsediff-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn counts_beyond_their_maximum_are_refused_before_any_work() {
    // --n used to overflow a capacity (usize::MAX) or abort allocating (10^12).
    for (args, limit) in [
        (["hessian", "--problem", "rosenbrock"], "8388608"),
        (["hessian", "--problem", "grid2d"], "8388608"),
        (["hessian", "--problem", "cartpole"], "1677721"),
        (["jacobian", "--problem", "tridiagonal"], "8388608"),
        (["jacobian", "--problem", "dense-row"], "8388608"),
        (["jacobian", "--problem", "arrow"], "8388608"),
    ] {
        for n in ["18446744073709551615", "1000000000000"] {
            let mut all = vec!["bench"];
            all.extend(args);
            all.extend(["--n", n]);
            let e = stderr_of(&all);
            assert!(
                e.contains("--n") && e.contains(n) && e.contains(limit),
                "{all:?}: {e}"
            );
        }
    }
    // --recolor and --repeats used to run for hours; --oversampling 10^12 panicked in faer.
    for (args, range) in [
        (
            [
                "color",
                "band:n=10,k=1",
                "--recolor",
                "18446744073709551615",
            ],
            "0..=1000",
        ),
        (
            [
                "compare",
                "band:n=10,k=1",
                "--repeats",
                "18446744073709551615",
            ],
            "0..=1000",
        ),
        (
            ["bench", "hessian", "--repeats", "18446744073709551615"],
            "0..=10000",
        ),
        (
            [
                "compare",
                "band:n=30,k=3",
                "--oversampling",
                "1000000000000",
            ],
            "0..=268435456",
        ),
        (
            [
                "compare",
                "band:n=30,k=3",
                "--oversampling",
                "18446744073709551615",
            ],
            "0..=268435456",
        ),
    ] {
        let e = stderr_of(&args);
        assert!(e.contains(args[2]) && e.contains(range), "{args:?}: {e}");
    }
    // Below the option's maximum, the designers name the limit their pattern gives.
    let v = json(&sparsediff(&[
        "compare",
        "band:n=30,k=3",
        "--oversampling",
        "100000000",
        "--json",
    ]));
    let note = |name: &str| {
        v["designers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["designer"] == name)
            .and_then(|d| d["note"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(note("random").starts_with("not run"), "{v}");
    assert!(
        note("symmetric-random").contains("MAX_DENSE_ENTRIES"),
        "{v}"
    );
}

#[test]
fn matrix_market_files_are_refused_early() {
    let dir = temp_dir("mtx-early");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    // No line end: refused after 1 MiB (reading /dev/zero used to exhaust memory).
    let zeros = write("zeros.mtx", &vec![0u8; 3 << 20]);
    let e = stderr_of(&["color", &zeros]);
    assert!(
        e.contains("line 1") && e.contains("longer than 1048576"),
        "{e}"
    );
    #[cfg(target_os = "linux")]
    {
        let e = stderr_of(&["color", "/dev/zero"]);
        assert!(e.contains("/dev/zero: line 1"), "{e}");
    }
    // 74 bytes declaring 2^28 rows (4 GiB read, 4.2 GB coloured before).
    let huge = write(
        "huge.mtx",
        b"%%MatrixMarket matrix coordinate real general\n268435456 268435456 1\n1 1 1\n",
    );
    let e = stderr_of(&["color", &huge]);
    assert!(e.contains("line 2") && e.contains("268435456 rows"), "{e}");
    // Duplicates whose sum overflows (summed to inf and accepted before).
    let sum = write(
        "sum.mtx",
        b"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.7e308\n1 1 1.7e308\n",
    );
    let e = stderr_of(&["color", &sum]);
    assert!(e.contains("line 4") && e.contains("[3, 4]"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_paths_are_checked_before_any_work() {
    let dir = temp_dir("out-dirs");
    // A missing parent is refused, not created (report used to create it and run for
    // minutes first).
    let missing = dir.join("missing").join("papers");
    let e = stderr_of(&[
        "report",
        "probe-strategies",
        "--out-dir",
        missing.to_str().unwrap(),
    ]);
    assert!(e.contains("does not exist") && e.contains("missing"), "{e}");
    assert!(!dir.join("missing").exists());
    // A file where the directory should be.
    let file = dir.join("file");
    std::fs::write(&file, "").unwrap();
    let e = stderr_of(&[
        "report",
        "probe-strategies",
        "--out-dir",
        file.to_str().unwrap(),
    ]);
    assert!(e.contains("not a directory"), "{e}");
    // Files of color and compare, before colouring or comparing.
    let nowhere = missing.join("out.txt");
    let nowhere = nowhere.to_str().unwrap();
    for args in [
        vec!["color", "band:n=10,k=1", "--out", nowhere],
        vec!["color", "band:n=10,k=1", "--dot", nowhere],
        vec!["compare", "band:n=10,k=1", "--plot", nowhere],
    ] {
        let e = stderr_of(&args);
        assert!(e.contains("does not exist"), "{args:?}: {e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_hessian_element_path_has_the_composite_fields_and_its_own() {
    let v = json(&sparsediff(&[
        "bench",
        "hessian",
        "--problem",
        "cartpole",
        "--n",
        "20",
        "--path",
        "element",
        "--repeats",
        "3",
        "--json",
    ]));
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
        "variables",
        "nnz",
        "lower_bound",
        "ratio_to_f_eval",
        "repeats",
        "path",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["method"], "element");
    assert_eq!(v["variables"], 100);
    assert!(v["max_rel_error"].as_f64().expect("a number") < 1e-12);
    let e = &v["element"];
    assert_eq!(e["lanes"], 2);
    for key in [
        "evaluate_min_seconds",
        "hessian_only_seconds",
        "hessian_only_min_seconds",
        "composite_evaluate_seconds",
        "composite_evaluate_min_seconds",
    ] {
        assert!(e[key].as_f64().expect("a number") > 0.0, "{key} in {e}");
    }
    for phase in ["elements", "residuals", "gradient", "hessian"] {
        assert!(
            e["phases"][phase].as_f64().is_some(),
            "phase {phase} in {e}"
        );
    }
    let err = stderr_of(&[
        "bench",
        "hessian",
        "--problem",
        "rosenbrock",
        "--n",
        "20",
        "--path",
        "element",
    ]);
    assert!(
        err.contains("--path element needs --problem cartpole"),
        "{err}"
    );
}

/// The common fields of `bench jacobian --json`, and the `mode` field.
fn bench_jacobian(problem: &str, n: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "bench",
        "jacobian",
        "--problem",
        problem,
        "--n",
        n,
        "--repeats",
        "3",
        "--json",
    ];
    args.extend(extra);
    let v = json(&sparsediff(&args));
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
        "variables",
        "nnz",
        "lower_bound",
        "ratio_to_f_eval",
        "repeats",
        "path",
        "mode",
        "modes",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["problem"], problem);
    assert!(
        v["max_rel_error"].as_f64().expect("a number") < 1e-12,
        "{args:?}: {v}"
    );
    v
}

#[test]
fn bench_jacobian_dense_row_takes_a_row_plan_of_two_products() {
    let v = bench_jacobian("dense-row", "300", &[]);
    assert_eq!(v["mode"], "row");
    assert_eq!(v["probes"], 2);
    assert_eq!(v["backend"], "tape");
    assert_eq!(v["designer"], "cpr-row");
    assert_eq!(v["nnz"], 300 + 299);
    let modes = v["modes"].as_array().expect("an array");
    assert_eq!(modes[0]["mode"], "column");
    assert_eq!(modes[0]["lower_bound"], 300);
    assert!(modes[0]["skipped"].is_string(), "{v}");
    assert_eq!(modes[1]["mode"], "row");
    assert_eq!(modes[1]["products"], 2);
    // forward lanes compute no VJPs: the column plan, and the row mode reported as skipped
    let v = bench_jacobian("dense-row", "40", &["--backend", "forward"]);
    assert_eq!((&v["mode"], &v["probes"]), (&"column".into(), &40.into()));
    assert!(v["modes"][1]["skipped"].is_string(), "{v}");
    // rows asked for on forward lanes: a named error, exit code 2
    let e = stderr_of(&[
        "bench",
        "jacobian",
        "--problem",
        "dense-row",
        "--n",
        "40",
        "--backend",
        "forward",
        "--mode",
        "rows",
    ]);
    assert!(e.contains("vector-Jacobian products"), "{e}");
}

#[test]
fn bench_jacobian_arrow_goes_bidirectional_and_tridiagonal_keeps_columns() {
    let v = bench_jacobian("arrow", "60", &[]);
    assert_eq!(
        (&v["mode"], &v["probes"]),
        (&"bidirectional".into(), &3.into())
    );
    assert_eq!(v["backend"], "tape");
    assert_eq!(v["designer"], "bidirectional-star");
    assert_eq!(v["nnz"], 60 + 2 * 59);
    let modes = v["modes"].as_array().expect("an array");
    assert_eq!(modes[2]["mode"], "bidirectional");
    assert_eq!(
        (&modes[2]["jvps"], &modes[2]["vjps"]),
        (&2.into(), &1.into())
    );
    // designed first; the column plan's bound (60) cannot beat 3 products
    assert!(modes[0]["skipped"].is_string(), "{v}");
    assert_eq!(modes[0]["lower_bound"], 60);
    let v = bench_jacobian("arrow", "60", &["--mode", "columns"]);
    assert_eq!((&v["mode"], &v["probes"]), (&"column".into(), &60.into()));
    assert_eq!(v["backend"], "forward");
    let v = bench_jacobian("arrow", "60", &["--mode", "rows"]);
    assert_eq!((&v["mode"], &v["probes"]), (&"row".into(), &60.into()));
    assert_eq!(v["backend"], "tape");
    let v = bench_jacobian("tridiagonal", "100", &[]);
    assert_eq!((&v["mode"], &v["probes"]), (&"column".into(), &3.into()));
    assert!(v["modes"][2]["skipped"].is_string(), "{v}");
    let v = bench_jacobian("tridiagonal", "100", &["--mode", "rows"]);
    assert_eq!((&v["mode"], &v["probes"]), (&"row".into(), &3.into()));
    let v = bench_jacobian("tridiagonal", "100", &["--mode", "bidirectional"]);
    assert_eq!(v["mode"], "bidirectional");
    assert!(v["max_rel_error"].as_f64().unwrap() < 1e-12, "{v}");
}

#[test]
fn bench_threads_is_reported_and_bounded() {
    // Rosenbrock at 1.5e5 variables: the tape's sweeps run in row blocks on the pool.
    let v = json(&sparsediff(&[
        "bench",
        "hessian",
        "--problem",
        "rosenbrock",
        "--n",
        "150000",
        "--threads",
        "2",
        "--repeats",
        "2",
        "--json",
    ]));
    assert_eq!(v["threads"], 2, "{v}");
    assert_eq!(v["threads_used"], 2, "{v}");
    assert!(
        v["max_rel_error"].as_f64().expect("a number") < 1e-12,
        "{v}"
    );
    // Jacobian products run on the caller's thread.
    let v = bench_jacobian("tridiagonal", "200", &["--threads", "2"]);
    assert_eq!(v["threads"], 2, "{v}");
    assert_eq!(v["threads_used"], 1, "{v}");
    // 1 when not given.
    let v = bench_jacobian("tridiagonal", "200", &[]);
    assert_eq!(v["threads"], 1, "{v}");
    for bad in ["0", "257"] {
        let e = stderr_of(&[
            "bench",
            "hessian",
            "--problem",
            "rosenbrock",
            "--n",
            "20",
            "--threads",
            bad,
        ]);
        assert!(
            e.contains("--threads") && e.contains("1..=256"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn bench_reports_the_residual_of_random_plans_only() {
    let bench = |method: &str| {
        json(&sparsediff(&[
            "bench",
            "hessian",
            "--problem",
            "rosenbrock",
            "--n",
            "300",
            "--method",
            method,
            "--json",
        ]))
    };
    let v = bench("random");
    let r = v["max_relative_residual"].as_f64().expect("a residual");
    assert!(r < 1e-10, "{v}");
    let v = bench("auto");
    assert!(v.get("max_relative_residual").is_none(), "{v}");
}

#[test]
fn color_writes_the_pattern_and_times_the_order_apart() {
    let dir = temp_dir("write-mtx");
    let mtx = dir.join("cartpole.mtx");
    let mtx = mtx.to_str().unwrap();
    let spec = "cartpole:N=10";
    let from_spec = json(&sparsediff(&[
        "color",
        spec,
        "--problem",
        "symmetric",
        "--method",
        "d2",
        "--order",
        "smallest-last",
        "--write-mtx",
        mtx,
        "--json",
    ]));
    let text = std::fs::read_to_string(mtx).unwrap();
    assert!(text.starts_with("%%MatrixMarket matrix coordinate pattern symmetric"));
    // The file is the pattern: the same colouring from it.
    let from_file = json(&sparsediff(&[
        "color",
        mtx,
        "--problem",
        "symmetric",
        "--method",
        "d2",
        "--order",
        "smallest-last",
        "--json",
    ]));
    assert_eq!(from_file["nnz"], from_spec["nnz"]);
    assert_eq!(from_file["colors"], from_spec["colors"]);
    let t = &from_spec["tried"][0];
    let (total, order) = (
        t["seconds"].as_f64().unwrap(),
        t["order_seconds"].as_f64().unwrap(),
    );
    assert!((0.0..=total).contains(&order), "{t}");
    let _ = std::fs::remove_dir_all(&dir);
}
