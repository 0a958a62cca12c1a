//! `sparsediff color --problem bidirectional` and the bidirectional `compare` designers.

mod common;

use common::{json, stderr_of};

fn data(name: &str) -> String {
    format!("{}/../../data/matrices/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn color_bidirectional_json_keeps_the_contract_and_adds_both_sides() {
    for method in ["star", "acyclic"] {
        let v = json(&[
            "color",
            "arrow:n=1000,width=1",
            "--problem",
            "bidirectional",
            "--method",
            method,
            "--json",
        ]);
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
            "column_colors",
            "row_colors",
            "strategy",
        ] {
            assert!(v.get(key).is_some(), "missing {key} in {v}");
        }
        assert_eq!(v["problem"], "bidirectional");
        assert_eq!(v["method"], method);
        assert_eq!(v["valid"], true);
        let (c, r) = (
            v["column_colors"].as_u64().unwrap(),
            v["row_colors"].as_u64().unwrap(),
        );
        assert_eq!(v["colors"].as_u64().unwrap(), c + r);
        assert!(c + r <= 3, "{v}");
        let strategies = v["strategies"].as_array().unwrap();
        assert!(
            strategies
                .iter()
                .any(|t| t["strategy"] == v["strategy"] && t["colors"].as_u64() == Some(c + r)),
            "{v}"
        );
    }
    // The default method of the bidirectional problem is star; a file works too.
    let v = json(&[
        "color",
        &data("jac_pat.mtx"),
        "--problem",
        "bidirectional",
        "--order",
        "best",
        "--json",
    ]);
    assert_eq!(v["method"], "star");
    assert_eq!(v["valid"], true);
    let one_sided = |problem: &str| {
        json(&[
            "color",
            &data("jac_pat.mtx"),
            "--problem",
            problem,
            "--order",
            "best",
            "--json",
        ])["colors"]
            .as_u64()
            .unwrap()
    };
    assert!(v["colors"].as_u64().unwrap() <= one_sided("column").min(one_sided("row")));
    // The other problems do not gain the bidirectional fields.
    let v = json(&["color", "band:n=50,k=2", "--json"]);
    assert!(v.get("column_colors").is_none() && v.get("row_colors").is_none());
    assert!(v.get("strategies").is_none());
}

#[test]
fn bidirectional_with_a_one_sided_method_is_a_named_error() {
    for method in ["cpr", "distance1", "d2"] {
        let e = stderr_of(&[
            "color",
            "band:n=50,k=2",
            "--problem",
            "bidirectional",
            "--method",
            method,
        ]);
        assert!(
            e.contains("does not apply to the bidirectional problem"),
            "{method}: {e}"
        );
    }
    let e = stderr_of(&["color", "band:n=50,k=2", "--problem", "bidirectionl"]);
    assert!(e.contains("bidirectional"), "{e}");
}

#[test]
fn compare_lists_the_row_and_bidirectional_designers() {
    let v = json(&["compare", "arrow:n=300,width=1", "--json"]);
    let designers = v["designers"].as_array().unwrap();
    let get = |name: &str| {
        designers
            .iter()
            .find(|d| d["designer"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert_eq!(get("cpr-row")["probes"], 300);
    for name in ["bidirectional-star", "bidirectional-acyclic"] {
        let d = get(name);
        assert!(d["probes"].as_u64().unwrap() <= 3, "{d}");
        assert!(d["max_rel_error"].as_f64().unwrap() <= 1e-12, "{d}");
    }
}
