//! Running the `sparsediff` binary from the CLI tests: its output, its JSON, its errors.
// Each test file uses some of these.
#![allow(dead_code)]

use std::process::{Command, Output};

pub fn sparsediff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparsediff"))
        .args(args)
        .output()
        .expect("the binary runs")
}

pub fn json(args: &[&str]) -> serde_json::Value {
    let out = sparsediff(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

pub fn stderr_of(args: &[&str]) -> String {
    let out = sparsediff(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} fails with 2, not a panic"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}
