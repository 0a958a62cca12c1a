//! Writing results: JSON on standard output, files.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::CliError;

/// Prints `value` as one line of JSON.
pub fn print_json(out: &mut impl Write, value: &impl Serialize) -> Result<(), CliError> {
    serde_json::to_writer(&mut *out, value).map_err(|e| CliError::stdout(e.into()))?;
    writeln!(out).map_err(CliError::stdout)
}

/// Writes `text` to `path`.
pub fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|source| CliError::Io {
        what: path.display().to_string(),
        source,
    })
}
