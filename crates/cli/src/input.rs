//! Turning a PATTERN argument into a [`Pattern`]: a Matrix Market path, a generator spec
//! (`band:n=1000,k=3`, ...), or `builtin:lp_ken_11` (shipped inside the binary).

use sparsediff_pattern::{Pattern, PatternSpec, parse_matrix_market};

use crate::CliError;

/// LPnetlib/lp_ken_11 from SuiteSparse (14694×21349, 49058 entries), embedded so that the
/// built-in suite runs anywhere.
const LP_KEN_11: &str = include_str!("../../../data/matrices/lp_ken_11.mtx");

/// Named patterns shipped inside the binary.
pub const BUILTINS: [&str; 1] = ["lp_ken_11"];

/// Reads or generates the pattern named by `spec`.
pub fn load(spec: &str) -> Result<Pattern, CliError> {
    Ok(load_with_spec(spec)?.0)
}

/// Like [`load`], also returning the parsed spec (none for builtins), which knows the
/// geometry of generated bands and grids.
pub fn load_with_spec(spec: &str) -> Result<(Pattern, Option<PatternSpec>), CliError> {
    if let Some(name) = spec.strip_prefix("builtin:") {
        return match name {
            "lp_ken_11" => Ok((parse_matrix_market(LP_KEN_11)?.into_pattern(), None)),
            _ => Err(CliError::Name(sparsediff_coloring::UnknownName {
                what: "builtin pattern",
                found: name.to_string(),
                known: &BUILTINS,
            })),
        };
    }
    let parsed = spec.parse::<PatternSpec>()?;
    Ok((parsed.build()?, Some(parsed)))
}
