//! Turning a PATTERN argument into a [`Pattern`]: a Matrix Market path, a generator spec of
//! sparsediff-pattern (`band:n=1000,k=3`, ...), the cartpole Hessian pattern of
//! sparsediff-problems (`cartpole:N=100`), or `builtin:lp_ken_11` (shipped inside the
//! binary).

use std::str::FromStr;

use sparsediff_pattern::{
    GENERATORS, Pattern, PatternError, PatternSpec, SpecParams, SpecProblem, parse_matrix_market,
};
use sparsediff_problems::cartpole;

use crate::CliError;

/// LPnetlib/lp_ken_11 from SuiteSparse (14694×21349, 49058 entries), embedded so that the
/// built-in suite runs anywhere.
const LP_KEN_11: &str = include_str!("../../../data/matrices/lp_ken_11.mtx");

/// Named patterns shipped inside the binary.
pub const BUILTINS: [&str; 1] = ["lp_ken_11"];

/// The generators a PATTERN may name: those of sparsediff-pattern, then `cartpole`.
pub fn generators() -> String {
    format!("{}, cartpole", GENERATORS.join(", "))
}

/// A PATTERN spec (not a builtin): the cartpole L_A Hessian pattern, which the problems
/// crate generates, or anything [`PatternSpec`] parses.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// `cartpole:N=..` (also `n=` or `knots=`):
    /// [`cartpole::hessian_pattern`]`(knots)`.
    Cartpole {
        /// Knots N (5N variables).
        knots: usize,
    },
    /// A Matrix Market path or a generator of sparsediff-pattern.
    Pattern(PatternSpec),
}

impl Spec {
    /// Builds the pattern.
    pub fn build(&self) -> Result<Pattern, PatternError> {
        match self {
            Spec::Cartpole { knots } => cartpole::hessian_pattern(*knots),
            Spec::Pattern(spec) => spec.build(),
        }
    }

    /// The spec of sparsediff-pattern, if it is one (it knows the geometry of bands and
    /// grids).
    pub fn pattern_spec(&self) -> Option<&PatternSpec> {
        match self {
            Spec::Pattern(spec) => Some(spec),
            Spec::Cartpole { .. } => None,
        }
    }
}

impl FromStr for Spec {
    type Err = CliError;

    /// `cartpole:` first (parameters as sparsediff-pattern writes them, with its errors),
    /// then [`PatternSpec`]; an unknown generator is named with every generator the command
    /// line knows.
    fn from_str(text: &str) -> Result<Self, CliError> {
        let trimmed = text.trim();
        let generator = trimmed
            .split_once(':')
            .filter(|_| !trimmed.to_ascii_lowercase().ends_with(".mtx"));
        if let Some((name, rest)) = generator
            && name.trim().eq_ignore_ascii_case("cartpole")
        {
            let spec_error = |problem| PatternError::Spec {
                spec: text.to_string(),
                problem,
            };
            let mut params = SpecParams::parse("cartpole", rest).map_err(spec_error)?;
            let knots = params.count(&["N", "n", "knots"]).map_err(spec_error)?;
            params.finish().map_err(spec_error)?;
            return Ok(Spec::Cartpole { knots });
        }
        match text.parse::<PatternSpec>() {
            Ok(spec) => Ok(Spec::Pattern(spec)),
            Err(PatternError::Spec {
                spec,
                problem: SpecProblem::UnknownGenerator { name },
            }) => Err(CliError::UnknownGenerator { spec, name }),
            Err(e) => Err(e.into()),
        }
    }
}

/// Reads or generates the pattern named by `spec`.
pub fn load(spec: &str) -> Result<Pattern, CliError> {
    Ok(load_with_spec(spec)?.0)
}

/// Like [`load`], also returning the parsed spec of sparsediff-pattern (none for builtins
/// and the cartpole), which knows the geometry of generated bands and grids.
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
    let parsed = spec.parse::<Spec>()?;
    Ok((parsed.build()?, parsed.pattern_spec().cloned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cartpole_specs_go_to_the_problems_crate() {
        for text in ["cartpole:N=100", "Cartpole:n=1e2", " cartpole:knots=1_00 "] {
            let spec: Spec = text.parse().unwrap();
            assert_eq!(spec, Spec::Cartpole { knots: 100 }, "{text}");
            assert_eq!(spec.build().unwrap().nnz(), 4470);
            assert!(spec.pattern_spec().is_none());
        }
        let band: Spec = "band:n=10,k=1".parse().unwrap();
        assert_eq!(band.build().unwrap().nnz(), 28);
        assert!(band.pattern_spec().is_some());
        // a file whose name starts like the generator
        let file: Spec = "cartpole:N=1.mtx".parse().unwrap();
        assert!(matches!(file, Spec::Pattern(PatternSpec::File(_))));
    }

    #[test]
    fn cartpole_spec_errors_are_the_pattern_crates() {
        let problem = |text: &str| match text.parse::<Spec>() {
            Err(CliError::Pattern(PatternError::Spec { problem, .. })) => problem,
            other => panic!("{text}: {other:?}"),
        };
        assert!(matches!(
            problem("cartpole:"),
            SpecProblem::Missing { name: "N", .. }
        ));
        assert!(matches!(
            problem("cartpole:N=ten"),
            SpecProblem::BadValue { .. }
        ));
        assert!(matches!(
            problem("cartpole:N=3,M=4"),
            SpecProblem::UnknownParameter { .. }
        ));
        assert!(matches!(
            problem("cartpole:N=3,n=4"),
            SpecProblem::UnknownParameter { .. }
        ));
        // N < 2 parses and is refused by the generator
        let one: Spec = "cartpole:N=1".parse().unwrap();
        assert!(matches!(
            one.build(),
            Err(PatternError::InvalidParameter { param: "N", .. })
        ));
    }

    #[test]
    fn unknown_generators_list_every_generator() {
        match "blob:n=3".parse::<Spec>() {
            Err(e @ CliError::UnknownGenerator { .. }) => {
                let message = e.to_string();
                assert!(message.contains("unknown generator `blob`"), "{message}");
                for name in GENERATORS.iter().chain(&["cartpole"]) {
                    assert!(message.contains(name), "{message}");
                }
            }
            other => panic!("{other:?}"),
        }
    }
}
