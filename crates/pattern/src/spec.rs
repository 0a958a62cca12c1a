//! Textual pattern specs: a Matrix Market path or a generator with parameters, such as
//! `band:n=1000,k=3` or `grid2d:nx=1000,ny=1000,stencil=5`.
//!
//! | spec | parameters |
//! |---|---|
//! | `band` | `n`, and `k` (both half-bandwidths) or `lower` and `upper` |
//! | `block_band` | `nblocks`, `block`, and `k` or `lower` and `upper` (in blocks) |
//! | `grid2d` | `nx`, `ny`, `stencil` = 5 or 9 (default 5) |
//! | `grid3d` | `nx`, `ny`, `nz` (7-point) |
//! | `arrow` | `n`, `width` (default 1) |
//! | `random` | `m`, `n`, `density`, `seed` (default 0), `symmetric` = true/false (default false; needs m = n) |
//!
//! Integers may be written `1000000`, `1_000_000` or `1e6`. Generators defined outside this
//! crate (a problem's Hessian pattern) can take their parameters in the same syntax, with
//! the same errors, through [`SpecParams`].
//!
//! ```
//! use sparsediff_pattern::PatternSpec;
//! let spec: PatternSpec = "band:n=100,k=2".parse()?;
//! assert_eq!(spec.build()?.nnz(), 100 * 5 - 2 * 3);
//! assert_eq!(spec.to_string(), "band:n=100,lower=2,upper=2");
//! assert!("band:n=100".parse::<PatternSpec>().is_err()); // k is missing
//! # Ok::<(), sparsediff_pattern::PatternError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::{PatternError, Result};
use crate::generators::{self, Stencil2d};
use crate::pattern::Pattern;

/// What is wrong with a pattern spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecProblem {
    /// The spec is empty.
    #[error("the spec is empty")]
    Empty,
    /// The generator name is not known.
    #[error(
        "unknown generator `{name}` (known: {}; or a path to a .mtx file)",
        GENERATORS.join(", ")
    )]
    UnknownGenerator {
        /// The name given.
        name: String,
    },
    /// A parameter is not of the form `key=value`.
    #[error("parameter `{found}` is not of the form key=value")]
    Malformed {
        /// The offending text.
        found: String,
    },
    /// A parameter is not known to the generator.
    #[error("generator `{generator}` has no parameter `{name}`")]
    UnknownParameter {
        /// The generator.
        generator: &'static str,
        /// The parameter given.
        name: String,
    },
    /// A parameter was given twice.
    #[error("parameter `{name}` is given twice")]
    Duplicate {
        /// The parameter.
        name: String,
    },
    /// A required parameter is missing.
    #[error("generator `{generator}` needs parameter `{name}`")]
    Missing {
        /// The generator.
        generator: &'static str,
        /// The missing parameter (or alternatives, e.g. "k or lower and upper").
        name: &'static str,
    },
    /// A parameter value cannot be parsed.
    #[error("parameter `{name}` = `{found}` is not {expected}")]
    BadValue {
        /// The parameter.
        name: String,
        /// The value given.
        found: String,
        /// What was expected ("a non-negative integer", "5 or 9", ...).
        expected: &'static str,
    },
}

/// A parsed pattern spec: a file or a generator with all its parameters.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PatternSpec {
    /// A Matrix Market file.
    File(PathBuf),
    /// [`generators::band`].
    Band {
        /// Dimension.
        n: usize,
        /// Subdiagonals.
        lower: usize,
        /// Superdiagonals.
        upper: usize,
    },
    /// [`generators::block_band`].
    BlockBand {
        /// Number of blocks per side.
        nblocks: usize,
        /// Block size.
        block: usize,
        /// Block subdiagonals.
        lower: usize,
        /// Block superdiagonals.
        upper: usize,
    },
    /// [`generators::grid2d`].
    Grid2d {
        /// Grid points along x.
        nx: usize,
        /// Grid points along y.
        ny: usize,
        /// 5- or 9-point stencil.
        stencil: Stencil2d,
    },
    /// [`generators::grid3d`] (7-point).
    Grid3d {
        /// Grid points along x.
        nx: usize,
        /// Grid points along y.
        ny: usize,
        /// Grid points along z.
        nz: usize,
    },
    /// [`generators::arrowhead`].
    Arrow {
        /// Dimension.
        n: usize,
        /// Dense leading rows and columns.
        width: usize,
    },
    /// [`generators::random`] or [`generators::random_symmetric`].
    Random {
        /// Rows.
        m: usize,
        /// Columns.
        n: usize,
        /// Probability of each entry.
        density: f64,
        /// Seed.
        seed: u64,
        /// Symmetric with full diagonal.
        symmetric: bool,
    },
}

impl PatternSpec {
    /// Builds the pattern (reads the file, or runs the generator).
    pub fn build(&self) -> Result<Pattern> {
        match *self {
            PatternSpec::File(ref path) => Ok(crate::mtx::read_matrix_market(path)?.into_pattern()),
            PatternSpec::Band { n, lower, upper } => generators::band(n, lower, upper),
            PatternSpec::BlockBand {
                nblocks,
                block,
                lower,
                upper,
            } => generators::block_band(nblocks, block, lower, upper),
            PatternSpec::Grid2d { nx, ny, stencil } => generators::grid2d(nx, ny, stencil),
            PatternSpec::Grid3d { nx, ny, nz } => generators::grid3d(nx, ny, nz),
            PatternSpec::Arrow { n, width } => generators::arrowhead(n, width),
            PatternSpec::Random {
                m,
                n,
                density,
                seed,
                symmetric,
            } => {
                if symmetric {
                    if m != n {
                        return Err(PatternError::InvalidParameter {
                            generator: "random",
                            param: "m",
                            value: m.to_string(),
                            reason: "must equal n for a symmetric pattern",
                        });
                    }
                    generators::random_symmetric(n, density, seed)
                } else {
                    generators::random(m, n, density, seed)
                }
            }
        }
    }

    /// Whether the generated pattern is symmetric by construction (files: unknown, `false`).
    pub fn is_symmetric_by_construction(&self) -> bool {
        match *self {
            PatternSpec::File(_) => false,
            PatternSpec::Band { lower, upper, .. }
            | PatternSpec::BlockBand { lower, upper, .. } => lower == upper,
            PatternSpec::Random { symmetric, .. } => symmetric,
            _ => true,
        }
    }
}

impl fmt::Display for PatternSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternSpec::File(p) => write!(f, "{}", p.display()),
            PatternSpec::Band { n, lower, upper } => {
                write!(f, "band:n={n},lower={lower},upper={upper}")
            }
            PatternSpec::BlockBand {
                nblocks,
                block,
                lower,
                upper,
            } => write!(
                f,
                "block_band:nblocks={nblocks},block={block},lower={lower},upper={upper}"
            ),
            PatternSpec::Grid2d { nx, ny, stencil } => {
                write!(f, "grid2d:nx={nx},ny={ny},stencil={}", stencil.points())
            }
            PatternSpec::Grid3d { nx, ny, nz } => write!(f, "grid3d:nx={nx},ny={ny},nz={nz}"),
            PatternSpec::Arrow { n, width } => write!(f, "arrow:n={n},width={width}"),
            PatternSpec::Random {
                m,
                n,
                density,
                seed,
                symmetric,
            } => write!(
                f,
                "random:m={m},n={n},density={density},seed={seed},symmetric={symmetric}"
            ),
        }
    }
}

/// The names of the generators [`PatternSpec`] knows, as a spec names them.
pub const GENERATORS: [&str; 6] = ["band", "block_band", "grid2d", "grid3d", "arrow", "random"];

/// The `key=value` parameters of one spec (the text after `name:`), consumed as the
/// generator asks for them: what [`PatternSpec`] parses its generators' parameters with,
/// public for generators defined in other crates, which then accept the same syntax
/// (`1e3`, `1_000`) and give the same [`SpecProblem`]s.
///
/// ```
/// use sparsediff_pattern::{SpecParams, SpecProblem};
///
/// // `chain:links=1e3` for a generator of another crate
/// let mut p = SpecParams::parse("chain", "links=1e3")?;
/// assert_eq!(p.count(&["links", "n"])?, 1000); // `n` is accepted as an alias
/// p.finish()?; // nothing left over
///
/// let mut q = SpecParams::parse("chain", "links=4,colour=red")?;
/// q.count(&["links"])?;
/// assert!(matches!(q.finish(), Err(SpecProblem::UnknownParameter { .. })));
/// assert!(matches!(SpecParams::parse("chain", "")?.count(&["links"]),
///     Err(SpecProblem::Missing { name: "links", .. })));
/// assert!(matches!(SpecParams::parse("chain", "links"), Err(SpecProblem::Malformed { .. })));
/// # Ok::<(), SpecProblem>(())
/// ```
#[derive(Debug, Clone)]
pub struct SpecParams {
    generator: &'static str,
    map: BTreeMap<String, String>,
}

impl SpecParams {
    /// Splits `text` (`key=value,key=value`) into parameters of `generator`: errors on an
    /// item that is not `key=value` and on a key given twice.
    pub fn parse(generator: &'static str, text: &str) -> std::result::Result<Self, SpecProblem> {
        let mut map = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| SpecProblem::Malformed {
                found: part.to_string(),
            })?;
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() || v.is_empty() {
                return Err(SpecProblem::Malformed {
                    found: part.to_string(),
                });
            }
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(SpecProblem::Duplicate {
                    name: k.to_string(),
                });
            }
        }
        Ok(Self { generator, map })
    }

    /// Removes and returns the first of `names` (aliases) that was given, as `(key, value)`.
    pub fn take(&mut self, names: &[&str]) -> Option<(String, String)> {
        names.iter().find_map(|&n| self.map.remove_entry(n))
    }

    /// The count given under the first of `names` that is present, if any: a non-negative
    /// integer, written `1000`, `1_000` or `1e3`.
    pub fn count_opt(&mut self, names: &[&str]) -> std::result::Result<Option<usize>, SpecProblem> {
        self.take(names)
            .map(|(k, v)| parse_count(&k, &v))
            .transpose()
    }

    /// Like [`count_opt`](Self::count_opt), but required: [`SpecProblem::Missing`] names
    /// `names[0]`.
    pub fn count(&mut self, names: &[&'static str]) -> std::result::Result<usize, SpecProblem> {
        self.count_opt(names)?.ok_or(SpecProblem::Missing {
            generator: self.generator,
            name: names[0],
        })
    }

    /// `k` for both halves, or `lower` and `upper`.
    fn half_bandwidths(&mut self) -> std::result::Result<(usize, usize), SpecProblem> {
        let k = self.count_opt(&["k", "beta"])?;
        let lower = self.count_opt(&["lower", "kl"])?;
        let upper = self.count_opt(&["upper", "ku"])?;
        match (k, lower, upper) {
            (Some(k), None, None) => Ok((k, k)),
            (None, Some(l), Some(u)) => Ok((l, u)),
            (None, Some(l), None) => Ok((l, 0)),
            (None, None, Some(u)) => Ok((0, u)),
            (Some(_), _, _) => Err(SpecProblem::Duplicate {
                name: "k together with lower/upper".to_string(),
            }),
            (None, None, None) => Err(SpecProblem::Missing {
                generator: self.generator,
                name: "k (or lower and upper)",
            }),
        }
    }

    /// Checks that every parameter was asked for: [`SpecProblem::UnknownParameter`]
    /// otherwise.
    pub fn finish(self) -> std::result::Result<(), SpecProblem> {
        match self.map.into_keys().next() {
            Some(name) => Err(SpecProblem::UnknownParameter {
                generator: self.generator,
                name,
            }),
            None => Ok(()),
        }
    }
}

/// Parses `1000`, `1_000`, `1e6`, `2.5e3` (must be a non-negative integer value).
fn parse_count(name: &str, text: &str) -> std::result::Result<usize, SpecProblem> {
    let bad = || SpecProblem::BadValue {
        name: name.to_string(),
        found: text.to_string(),
        expected: "a non-negative integer (e.g. 1000, 1_000 or 1e3)",
    };
    let clean = text.replace('_', "");
    if let Ok(v) = clean.parse::<usize>() {
        return Ok(v);
    }
    let f: f64 = clean.parse().map_err(|_| bad())?;
    if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 {
        Ok(f as usize)
    } else {
        Err(bad())
    }
}

fn parse_spec(text: &str) -> std::result::Result<PatternSpec, SpecProblem> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SpecProblem::Empty);
    }
    let Some((name, rest)) = text
        .split_once(':')
        .filter(|_| !text.to_ascii_lowercase().ends_with(".mtx"))
    else {
        return Ok(PatternSpec::File(PathBuf::from(text)));
    };
    let name = name.trim().to_ascii_lowercase();
    let generator: &'static str = match name.as_str() {
        "band" => "band",
        "block_band" | "blockband" | "block-band" => "block_band",
        "grid2d" | "grid" => "grid2d",
        "grid3d" => "grid3d",
        "arrow" | "arrowhead" => "arrow",
        "random" => "random",
        _ => return Err(SpecProblem::UnknownGenerator { name }),
    };
    let mut p = SpecParams::parse(generator, rest)?;
    let spec = match generator {
        "band" => {
            let n = p.count(&["n"])?;
            let (lower, upper) = p.half_bandwidths()?;
            PatternSpec::Band { n, lower, upper }
        }
        "block_band" => {
            let nblocks = p.count(&["nblocks", "n"])?;
            let block = p.count(&["block", "b"])?;
            let (lower, upper) = p.half_bandwidths()?;
            PatternSpec::BlockBand {
                nblocks,
                block,
                lower,
                upper,
            }
        }
        "grid2d" => {
            let nx = p.count(&["nx"])?;
            let ny = p.count(&["ny"])?;
            let stencil = match p.take(&["stencil", "points"]) {
                None => Stencil2d::FivePoint,
                Some((_, v)) if v == "5" => Stencil2d::FivePoint,
                Some((_, v)) if v == "9" => Stencil2d::NinePoint,
                Some((k, v)) => {
                    return Err(SpecProblem::BadValue {
                        name: k,
                        found: v,
                        expected: "5 or 9",
                    });
                }
            };
            PatternSpec::Grid2d { nx, ny, stencil }
        }
        "grid3d" => PatternSpec::Grid3d {
            nx: p.count(&["nx"])?,
            ny: p.count(&["ny"])?,
            nz: p.count(&["nz"])?,
        },
        "arrow" => PatternSpec::Arrow {
            n: p.count(&["n"])?,
            width: p.count_opt(&["width", "w"])?.unwrap_or(1),
        },
        "random" => {
            let m = p.count(&["m"])?;
            let n = p.count(&["n"])?;
            let density = match p.take(&["density", "p"]) {
                Some((k, v)) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|d| (0.0..=1.0).contains(d))
                    .ok_or(SpecProblem::BadValue {
                        name: k,
                        found: v,
                        expected: "a number in [0, 1]",
                    })?,
                None => {
                    return Err(SpecProblem::Missing {
                        generator,
                        name: "density",
                    });
                }
            };
            let seed = p.count_opt(&["seed"])?.unwrap_or(0) as u64;
            let symmetric = match p.take(&["symmetric", "sym"]) {
                None => false,
                Some((_, v)) if matches!(v.as_str(), "true" | "1" | "yes") => true,
                Some((_, v)) if matches!(v.as_str(), "false" | "0" | "no") => false,
                Some((k, v)) => {
                    return Err(SpecProblem::BadValue {
                        name: k,
                        found: v,
                        expected: "true or false",
                    });
                }
            };
            PatternSpec::Random {
                m,
                n,
                density,
                seed,
                symmetric,
            }
        }
        _ => unreachable!("generator names are matched above"),
    };
    p.finish()?;
    Ok(spec)
}

impl FromStr for PatternSpec {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self> {
        parse_spec(s).map_err(|problem| PatternError::Spec {
            spec: s.to_string(),
            problem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(s: &str) -> SpecProblem {
        match s.parse::<PatternSpec>() {
            Err(PatternError::Spec { problem, .. }) => problem,
            other => panic!("{s}: expected a spec error, got {other:?}"),
        }
    }

    #[test]
    fn parses_every_generator() {
        let cases = [
            (
                "band:n=1000,k=3",
                PatternSpec::Band {
                    n: 1000,
                    lower: 3,
                    upper: 3,
                },
            ),
            (
                "band:n=1e3,lower=1,upper=2",
                PatternSpec::Band {
                    n: 1000,
                    lower: 1,
                    upper: 2,
                },
            ),
            (
                "grid2d:nx=1000,ny=1_000,stencil=9",
                PatternSpec::Grid2d {
                    nx: 1000,
                    ny: 1000,
                    stencil: Stencil2d::NinePoint,
                },
            ),
            (
                "grid3d:nx=2,ny=3,nz=4",
                PatternSpec::Grid3d {
                    nx: 2,
                    ny: 3,
                    nz: 4,
                },
            ),
            ("arrow:n=10", PatternSpec::Arrow { n: 10, width: 1 }),
            (
                "block_band:nblocks=4,block=5,k=1",
                PatternSpec::BlockBand {
                    nblocks: 4,
                    block: 5,
                    lower: 1,
                    upper: 1,
                },
            ),
            (
                "random:m=10,n=20,density=0.1,seed=3",
                PatternSpec::Random {
                    m: 10,
                    n: 20,
                    density: 0.1,
                    seed: 3,
                    symmetric: false,
                },
            ),
            ("data/x.mtx", PatternSpec::File(PathBuf::from("data/x.mtx"))),
        ];
        for (text, expected) in cases {
            let spec: PatternSpec = text.parse().unwrap();
            assert_eq!(spec, expected, "{text}");
            // Display gives a spec that parses back to the same thing.
            assert_eq!(spec.to_string().parse::<PatternSpec>().unwrap(), expected);
        }
    }

    #[test]
    fn rejects_missing_unknown_and_absurd() {
        assert_eq!(problem(""), SpecProblem::Empty);
        assert!(matches!(problem("band:n=10"), SpecProblem::Missing { .. }));
        assert!(matches!(
            problem("band:k=1"),
            SpecProblem::Missing { name: "n", .. }
        ));
        assert!(matches!(
            problem("band:n=10,k=1,q=2"),
            SpecProblem::UnknownParameter { .. }
        ));
        assert!(matches!(
            problem("band:n=10,n=3,k=1"),
            SpecProblem::Duplicate { .. }
        ));
        assert!(matches!(
            problem("band:n=ten,k=1"),
            SpecProblem::BadValue { .. }
        ));
        assert!(matches!(
            problem("band:n=-5,k=1"),
            SpecProblem::BadValue { .. }
        ));
        assert!(matches!(
            problem("band:n=1.5,k=1"),
            SpecProblem::BadValue { .. }
        ));
        assert!(matches!(
            problem("band:n,k=1"),
            SpecProblem::Malformed { .. }
        ));
        assert!(matches!(
            problem("grid2d:nx=3,ny=3,stencil=7"),
            SpecProblem::BadValue { .. }
        ));
        assert!(matches!(
            problem("random:m=3,n=3,density=2"),
            SpecProblem::BadValue { .. }
        ));
        assert!(matches!(
            problem("blob:n=3"),
            SpecProblem::UnknownGenerator { .. }
        ));
        // the message lists every generator
        let message = problem("blob:n=3").to_string();
        for name in GENERATORS {
            assert!(message.contains(name), "{message}");
        }
        // Parses, but the generator refuses absurd sizes before allocating.
        let huge: PatternSpec = "grid2d:nx=1e9,ny=1e9".parse().unwrap();
        assert!(matches!(huge.build(), Err(PatternError::TooLarge { .. })));
        let zero: PatternSpec = "band:n=0,k=0".parse().unwrap();
        assert!(matches!(
            zero.build(),
            Err(PatternError::InvalidParameter { .. })
        ));
    }
}
