//! Writing results: JSON on standard output, files.

use std::io::Write;
use std::path::{Path, PathBuf};

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

/// The directory `path` would be written in (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Checks, before any work, that the file `path` can be created: its directory exists (it
/// is never created silently).
pub fn check_file(path: &Path) -> Result<(), CliError> {
    let parent = parent_of(path);
    if !parent.is_dir() {
        return Err(CliError::MissingDirectory {
            path: path.to_path_buf(),
            parent: parent.to_path_buf(),
        });
    }
    Ok(())
}

/// Prepares the output directory `dir` before any work: its parent must exist (missing
/// parents are refused, not created), `dir` itself and `dir/sub` are created if missing,
/// and a temporary file proves `dir/sub` writable. Returns `dir/sub`.
pub fn prepare_dir(dir: &Path, sub: &str) -> Result<PathBuf, CliError> {
    if !dir.exists() {
        check_file(dir)?;
    } else if !dir.is_dir() {
        return Err(CliError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let not_writable = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CliError::NotWritable { path, source }
    };
    let sub = dir.join(sub);
    for d in [dir, &sub] {
        if !d.is_dir() {
            std::fs::create_dir(d).map_err(not_writable(d))?;
        }
    }
    tempfile::tempfile_in(&sub).map_err(not_writable(&sub))?;
    Ok(sub)
}
