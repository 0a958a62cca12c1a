//! `Geometry::infer` and `Geometry::of_spec` on block bands: generated block bands are
//! recognised with their block size and half-bandwidths, near misses (one entry removed or
//! added) never are, and where a block band is also a band or a grid the documented reading
//! wins.

use proptest::prelude::*;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::testing;
use sparsediff_pattern::{Geometry, Pattern, PatternError, PatternSpec};

/// The pattern `g` describes on `n` vertices (what `infer` confirms against).
fn regenerate(g: Geometry, n: usize) -> Pattern {
    match g {
        Geometry::Band { beta } => generators::band(n, beta.unwrap(), beta.unwrap()).unwrap(),
        Geometry::BlockBand {
            block,
            lower,
            upper,
        } => generators::block_band(n / block, block, lower, upper).unwrap(),
        Geometry::Grid2d { nx, ny, stencil } => generators::grid2d(nx, ny, stencil).unwrap(),
        Geometry::Grid3d { nx, ny, nz } => generators::grid3d(nx, ny, nz).unwrap(),
    }
}

/// What `infer` must give for `block_band(nblocks, block, lower, upper)`.
fn expected(nblocks: usize, block: usize, lower: usize, upper: usize) -> Option<Geometry> {
    let n = nblocks * block;
    let dense = lower == nblocks - 1 && upper == nblocks - 1;
    if n < 2 {
        None
    } else if dense {
        Some(Geometry::Band { beta: Some(n - 1) })
    } else if block == 1 && lower == upper {
        (lower > 0).then_some(Geometry::Band { beta: Some(lower) })
    } else {
        Some(Geometry::BlockBand {
            block,
            lower,
            upper,
        })
    }
}

#[test]
fn block_bands_are_recognised() {
    for (nblocks, block, lower, upper) in [
        (12, 5, 1, 1),
        (20, 3, 2, 2),
        (10, 4, 0, 0),
        (9, 2, 0, 3),
        (9, 2, 3, 0),
        (6, 3, 5, 1),
        (6, 3, 1, 5),
        (30, 1, 1, 2),
        (30, 1, 0, 1),
    ] {
        let p = generators::block_band(nblocks, block, lower, upper).unwrap();
        assert_eq!(
            Geometry::infer(&p),
            expected(nblocks, block, lower, upper),
            "block_band({nblocks}, {block}, {lower}, {upper})"
        );
    }
}

#[test]
fn overlaps_resolve_as_documented() {
    // A symmetric scalar band stays a band; the diagonal is nothing; dense is a band.
    let band = generators::block_band(40, 1, 3, 3).unwrap();
    assert_eq!(
        Geometry::infer(&band),
        Some(Geometry::Band { beta: Some(3) })
    );
    assert_eq!(Geometry::infer(&Pattern::identity(10).unwrap()), None);
    let dense = generators::block_band(3, 4, 2, 2).unwrap();
    assert_eq!(
        Geometry::infer(&dense),
        Some(Geometry::Band { beta: Some(11) })
    );
    // An asymmetric scalar band is a block band of block 1 (no `Band` describes it).
    let asym = generators::band(50, 1, 4).unwrap();
    assert_eq!(
        Geometry::infer(&asym),
        Some(Geometry::BlockBand {
            block: 1,
            lower: 1,
            upper: 4
        })
    );
    // The 9-point grid two points wide is the block band of block 2, k = 1.
    let narrow = generators::grid2d(2, 15, Stencil2d::NinePoint).unwrap();
    assert_eq!(
        narrow,
        generators::block_band(15, 2, 1, 1).unwrap(),
        "the same pattern"
    );
    assert_eq!(
        Geometry::infer(&narrow),
        Some(Geometry::BlockBand {
            block: 2,
            lower: 1,
            upper: 1
        })
    );
    // Wider grids stay grids.
    for stencil in [Stencil2d::FivePoint, Stencil2d::NinePoint] {
        for nx in 2..6 {
            let g = generators::grid2d(nx, 7, stencil).unwrap();
            let inferred = Geometry::infer(&g);
            if nx == 2 && stencil == Stencil2d::NinePoint {
                continue;
            }
            assert_eq!(
                inferred,
                Some(Geometry::Grid2d { nx, ny: 7, stencil }),
                "{nx} {stencil:?}"
            );
        }
    }
    // A block band of block 4 is never read with a smaller block.
    let b4 = generators::block_band(8, 4, 1, 1).unwrap();
    assert_eq!(
        Geometry::infer(&b4),
        Some(Geometry::BlockBand {
            block: 4,
            lower: 1,
            upper: 1
        })
    );
}

#[test]
fn a_dense_first_row_is_refused_without_regenerating_a_dense_band() {
    // Row 0 of the arrowhead is full: read as a band of β = n − 1 it would regenerate
    // n² ≈ 1.2·10⁸ entries (the generator reserves n·(2n − 1) ≈ 2.4·10⁸, 1.9 GB, just
    // under its limit) before comparing; the entry count refuses it first.
    let arrow = generators::arrowhead(11_000, 1).unwrap();
    let start = std::time::Instant::now();
    assert_eq!(Geometry::infer(&arrow), None);
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
}

#[test]
fn specs_carry_the_block_band_geometry() {
    let spec: PatternSpec = "block_band:nblocks=10,block=3,lower=1,upper=2"
        .parse()
        .unwrap();
    assert_eq!(
        Geometry::of_spec(&spec),
        Some(Geometry::BlockBand {
            block: 3,
            lower: 1,
            upper: 2
        })
    );
    let spec: PatternSpec = "block_band:nblocks=10,block=1,k=2".parse().unwrap();
    assert_eq!(
        Geometry::of_spec(&spec),
        Some(Geometry::BlockBand {
            block: 1,
            lower: 2,
            upper: 2
        })
    );
}

#[test]
fn a_zero_block_is_a_named_error() {
    let err = Geometry::block_band(0, 1, 1).unwrap_err();
    assert!(
        matches!(
            &err,
            PatternError::InvalidParameter {
                generator: "block_band",
                param: "block",
                value,
                ..
            } if value == "0"
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("block"), "{err}");
    assert_eq!(
        Geometry::block_band(2, 0, 3).unwrap(),
        Geometry::BlockBand {
            block: 2,
            lower: 0,
            upper: 3
        }
    );
}

/// `block_band` parameters: (nblocks, block, lower, upper) with lower, upper < nblocks.
fn shapes() -> impl Strategy<Value = (usize, usize, usize, usize)> {
    (1usize..=12, 1usize..=5).prop_flat_map(|(nblocks, block)| {
        (
            Just(nblocks),
            Just(block),
            0..nblocks.min(4),
            0..nblocks.min(4),
        )
    })
}

/// The proptest block runs `PROPTEST_CASES` cases when it is set.
#[test]
fn proptest_cases_come_from_the_environment() {
    testing::assert_cases_come_from_the_environment(
        "proptest_cases_come_from_the_environment",
        128,
    );
}

proptest! {
    #![proptest_config(testing::config(128))]

    /// Every generated block band is recognised as documented.
    #[test]
    fn generated_block_bands_are_inferred((nblocks, block, lower, upper) in shapes()) {
        let p = generators::block_band(nblocks, block, lower, upper).unwrap();
        prop_assert_eq!(Geometry::infer(&p), expected(nblocks, block, lower, upper));
    }

    /// One entry removed or added: never the block band's geometry, and whatever is
    /// inferred regenerates the perturbed pattern exactly.
    #[test]
    fn near_misses_are_refused(
        (nblocks, block, lower, upper) in shapes(),
        pick in any::<usize>(),
        add in any::<bool>(),
    ) {
        let p = generators::block_band(nblocks, block, lower, upper).unwrap();
        let n = p.nrows();
        let entries: Vec<(usize, usize)> = p.iter().collect();
        let near = if add {
            let missing: Vec<(usize, usize)> = (0..n)
                .flat_map(|i| (0..n).map(move |j| (i, j)))
                .filter(|&(i, j)| !p.contains(i, j))
                .collect();
            prop_assume!(!missing.is_empty());
            let extra = missing[pick % missing.len()];
            Pattern::from_entries(n, n, entries.iter().copied().chain([extra])).unwrap()
        } else {
            let gone = pick % entries.len();
            Pattern::from_entries(
                n,
                n,
                entries.iter().enumerate().filter(|&(k, _)| k != gone).map(|(_, &e)| e),
            )
            .unwrap()
        };
        let inferred = Geometry::infer(&near);
        if let Some(original) = expected(nblocks, block, lower, upper) {
            prop_assert_ne!(inferred, Some(original));
        }
        if let Some(g) = inferred {
            prop_assert_eq!(regenerate(g, n), near);
        }
    }
}
