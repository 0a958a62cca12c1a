//! The seed matrix S of a probe plan ([`Seeds`], owned) and the borrowed view the AD backends
//! read ([`SeedBlock`]).
//!
//! The layouts are described on [`Seeds`].

use faer::{Mat, MatRef};

/// The neutral label: a vertex with this group (colour) is in no probe.
pub const NEUTRAL: usize = usize::MAX;

/// The seed matrix S (one column per probe).
///
/// S has one row per vertex (a column of the matrix for column probes, a row for row probes)
/// and one column per probe. It is held in one of two layouts, which are also the layouts the
/// backends consume, so [`Seeds::block`] converts nothing:
///
/// * [`Seeds::Groups`]: every vertex in at most one probe, `S[v, group[v]] = 1`
///   ([`NEUTRAL`] = in no probe); colourings, stride ("roll") probes, stencils;
/// * [`Seeds::Dense`]: any real values, n×p **row-major**: `S[v, c] = values[v·p + c]`
///   (random probes). Matrix views without a copy: [`Seeds::as_mat`].
///
/// The fields are public (plans are rebuilt from them, files store them); a dense S made by
/// hand should go through [`Seeds::dense`] or [`Seeds::from_mat`], which check the length
/// and that every value is finite, and [`Seeds::check`] re-checks a value of unknown origin.
///
/// With the feature `serde`, [`Seeds`] is `{"kind": "groups", "group": [...], "probes": p}`
/// or `{"kind": "dense", "rows": n, "probes": p, "values": [...]}` (row-major).
///
/// ```
/// use sparsediff_pattern::Seeds;
/// let s = Seeds::dense(2, 3, vec![1.0, 0.0, -1.0, 0.5, 2.0, 0.0])?;
/// assert_eq!((s.dim(), s.num_probes()), (2, 3));
/// assert_eq!(s.direction(2), vec![-1.0, 0.0]);
/// assert_eq!(s.block().at(1, 1), 2.0);
/// assert_eq!(s.to_dense()[(1, 0)], 0.5);
/// assert!(Seeds::dense(2, 3, vec![0.0; 5]).is_err());
/// # Ok::<(), sparsediff_pattern::SeedsError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case", tag = "kind")
)]
pub enum Seeds {
    /// Every vertex in at most one probe: `S[v, group[v]] = 1` ([`NEUTRAL`] = in none).
    /// Colourings, stride ("roll") probes and stencil designs are of this kind.
    Groups {
        /// The probe of each vertex (column for column probes, row for row probes).
        group: Vec<usize>,
        /// Number of probes.
        #[cfg_attr(feature = "serde", serde(rename = "probes"))]
        num_probes: usize,
    },
    /// A dense seed matrix (random probes): `rows` vertices × `num_probes` probes,
    /// row-major (`S[v, c] = values[v·num_probes + c]`). The row count is stored because
    /// it cannot be read off `values` when there are no probes.
    Dense {
        /// Rows of S (vertices).
        rows: usize,
        /// Number of probes (columns of S).
        #[cfg_attr(feature = "serde", serde(rename = "probes"))]
        num_probes: usize,
        /// The values, row-major: `rows · num_probes` of them.
        values: Vec<f64>,
    },
}

/// Why seeds (or a block of them) are not consistent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SeedsError {
    /// An array does not have the length the declared sizes give.
    #[error("{what} has length {len}, expected {expected}")]
    WrongLength {
        /// The array.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The length the sizes declare.
        expected: usize,
    },
    /// Rows × probes overflows `usize`.
    #[error("dense seeds: {rows} rows × {probes} probes overflows")]
    Overflow {
        /// Declared rows.
        rows: usize,
        /// Declared probes.
        probes: usize,
    },
    /// A dense seed is NaN or infinite.
    #[error("seed entry ({row}, {probe}) is not finite ({value})")]
    NonFinite {
        /// Row of S.
        row: usize,
        /// Probe (column of S).
        probe: usize,
        /// The value.
        value: f64,
    },
}

impl Seeds {
    /// Dense seeds from `rows × num_probes` row-major values, checked: the length matches
    /// (without overflow) and every value is finite.
    pub fn dense(rows: usize, num_probes: usize, values: Vec<f64>) -> Result<Self, SeedsError> {
        let seeds = Seeds::Dense {
            rows,
            num_probes,
            values,
        };
        seeds.check()?;
        Ok(seeds)
    }

    /// Dense seeds copied from a faer matrix (rows = vertices, columns = probes), checked
    /// for finite values.
    pub fn from_mat(s: MatRef<'_, f64>) -> Result<Self, SeedsError> {
        let (rows, p) = (s.nrows(), s.ncols());
        let mut values = Vec::with_capacity(rows * p);
        for v in 0..rows {
            values.extend((0..p).map(|c| s[(v, c)]));
        }
        Seeds::dense(rows, p, values)
    }

    /// Checks dense seeds: `values` holds `rows × num_probes` entries (the product not
    /// overflowing) and all are finite. Group seeds pass (their labels are checked against
    /// a pattern where plans are made).
    pub fn check(&self) -> Result<(), SeedsError> {
        let Seeds::Dense {
            rows,
            num_probes,
            values,
        } = self
        else {
            return Ok(());
        };
        let (rows, probes) = (*rows, *num_probes);
        let expected = rows
            .checked_mul(probes)
            .ok_or(SeedsError::Overflow { rows, probes })?;
        if values.len() != expected {
            return Err(SeedsError::WrongLength {
                what: "dense seed values",
                len: values.len(),
                expected,
            });
        }
        if let Some(k) = values.iter().position(|x| !x.is_finite()) {
            return Err(SeedsError::NonFinite {
                row: k / probes,
                probe: k % probes,
                value: values[k],
            });
        }
        Ok(())
    }

    /// Number of probes p.
    pub fn num_probes(&self) -> usize {
        match self {
            Seeds::Groups { num_probes, .. } | Seeds::Dense { num_probes, .. } => *num_probes,
        }
    }

    /// Number of rows of S (vertices).
    pub fn dim(&self) -> usize {
        match self {
            Seeds::Groups { group, .. } => group.len(),
            Seeds::Dense { rows, .. } => *rows,
        }
    }

    /// Dense seeds as a faer matrix view (no copy); `None` for group seeds or dense seeds
    /// whose values do not have `rows × num_probes` entries.
    pub fn as_mat(&self) -> Option<MatRef<'_, f64>> {
        match self {
            Seeds::Dense {
                rows,
                num_probes,
                values,
            } if rows.checked_mul(*num_probes) == Some(values.len()) => {
                Some(MatRef::from_row_major_slice(values, *rows, *num_probes))
            }
            _ => None,
        }
    }

    /// S as a dense matrix (a copy).
    ///
    /// # Panics
    /// For dense seeds whose values do not have `rows × num_probes` entries (see
    /// [`check`](Self::check)).
    pub fn to_dense(&self) -> Mat<f64> {
        match self {
            Seeds::Groups { group, num_probes } => {
                let mut s = Mat::zeros(group.len(), *num_probes);
                for (v, &g) in group.iter().enumerate() {
                    if g != NEUTRAL {
                        s[(v, g)] = 1.0;
                    }
                }
                s
            }
            Seeds::Dense { .. } => self
                .as_mat()
                .expect("dense seeds with rows × probes values")
                .to_owned(),
        }
    }

    /// Column `probe` of S as a dense vector (the direction of one product).
    pub fn direction(&self, probe: usize) -> Vec<f64> {
        match self {
            Seeds::Groups { group, .. } => group
                .iter()
                .map(|&g| if g == probe { 1.0 } else { 0.0 })
                .collect(),
            Seeds::Dense {
                rows, num_probes, ..
            } => {
                let block = self.block();
                assert!(probe < *num_probes, "probe {probe} of {num_probes}");
                (0..*rows).map(|v| block.at(v, probe)).collect()
            }
        }
    }

    /// The seeds as the block the backends read (borrowed, nothing converted).
    pub fn block(&self) -> SeedBlock<'_> {
        match self {
            Seeds::Groups { group, num_probes } => SeedBlock::Groups {
                group,
                probes: *num_probes,
            },
            Seeds::Dense {
                num_probes, values, ..
            } => SeedBlock::Dense {
                values,
                probes: *num_probes,
            },
        }
    }
}

/// A block of probe directions, borrowed (what the AD backends consume; see
/// [`Seeds::block`]).
#[derive(Debug, Clone, Copy)]
pub enum SeedBlock<'a> {
    /// 0/1 directions from a colouring: input j is in lane `group[j]` ([`NEUTRAL`] = none).
    Groups {
        /// The lane of every input.
        group: &'a [usize],
        /// Number of lanes p.
        probes: usize,
    },
    /// Dense directions, n×p row-major.
    Dense {
        /// The directions.
        values: &'a [f64],
        /// Number of lanes p.
        probes: usize,
    },
}

impl SeedBlock<'_> {
    /// Number of lanes p.
    pub fn probes(&self) -> usize {
        match *self {
            SeedBlock::Groups { probes, .. } | SeedBlock::Dense { probes, .. } => probes,
        }
    }

    /// Direction `c` at input `j`.
    #[inline]
    pub fn at(&self, j: usize, c: usize) -> f64 {
        match *self {
            SeedBlock::Groups { group, .. } => f64::from(u8::from(group[j] == c)),
            SeedBlock::Dense { values, probes } => values[j * probes + c],
        }
    }

    /// The entries the block holds and the entries directions for `n` inputs need
    /// (`n` labels, or `n·p` values; saturating).
    pub fn lengths(&self, n: usize) -> (usize, usize) {
        match *self {
            SeedBlock::Groups { group, .. } => (group.len(), n),
            SeedBlock::Dense { values, probes } => (values.len(), n.saturating_mul(probes)),
        }
    }

    /// Checks that the block holds directions for `n` inputs ([`SeedsError::WrongLength`]
    /// for the `seed block` otherwise).
    pub fn check(&self, n: usize) -> Result<(), SeedsError> {
        match self.lengths(n) {
            (len, expected) if len != expected => Err(SeedsError::WrongLength {
                what: "seed block",
                len,
                expected,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_agree() {
        let g = Seeds::Groups {
            group: vec![1, NEUTRAL, 0],
            num_probes: 2,
        };
        let d = Seeds::from_mat(g.to_dense().as_ref()).unwrap();
        assert_eq!(d.to_dense(), g.to_dense());
        for c in 0..2 {
            assert_eq!(d.direction(c), g.direction(c));
            for j in 0..3 {
                assert_eq!(d.block().at(j, c), g.block().at(j, c));
            }
        }
        assert_eq!(
            d,
            Seeds::Dense {
                rows: 3,
                num_probes: 2,
                values: vec![0.0, 1.0, 0.0, 0.0, 1.0, 0.0]
            }
        );
        assert!(d.block().check(3).is_ok() && g.block().check(3).is_ok());
        assert!(d.block().check(2).is_err() && g.block().check(4).is_err());
    }

    #[test]
    fn dense_seeds_are_checked() {
        assert_eq!(
            Seeds::dense(2, 2, vec![0.0; 3]),
            Err(SeedsError::WrongLength {
                what: "dense seed values",
                len: 3,
                expected: 4
            })
        );
        assert_eq!(
            Seeds::dense(1 << 40, 1 << 40, vec![]),
            Err(SeedsError::Overflow {
                rows: 1 << 40,
                probes: 1 << 40
            })
        );
        assert!(matches!(
            Seeds::dense(2, 2, vec![0.0, 1.0, f64::NAN, 0.0]),
            Err(SeedsError::NonFinite {
                row: 1,
                probe: 0,
                ..
            })
        ));
        let empty = Seeds::dense(5, 0, vec![]).unwrap();
        assert_eq!((empty.dim(), empty.num_probes()), (5, 0));
        assert_eq!(empty.to_dense().nrows(), 5);
        let bad = Seeds::Dense {
            rows: 2,
            num_probes: 2,
            values: vec![0.0],
        };
        assert!(bad.as_mat().is_none() && bad.check().is_err());
    }
}
