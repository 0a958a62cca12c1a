//! Timing of the banded Cholesky (one thread): medians of individually timed calls.
//! `cargo run --release -p sparsediff-solve --example band_timing -- N BETA REPEATS`.
//!
//! Prints the factorisation and the solve timed apart (`bench_banded`: the solve with the
//! factor hot in cache), then both in one call, as the criterion `factor+solve` bench
//! does: there the factorisation has just streamed the CSR values through the caches,
//! so the solve starts with part of the factor evicted. Medians of single calls are
//! robust to the time slices a loaded machine takes away; criterion's batch means are
//! not.
use std::time::Instant;

use sparsediff_solve::band::BandSymbolic;
use sparsediff_solve::{bench_banded, mat_vec, random_spd_band};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let n = args.next().transpose()?.unwrap_or(5000);
    let beta = args.next().transpose()?.unwrap_or(9);
    let repeats = args.next().transpose()?.unwrap_or(2000);
    let b = bench_banded(n, beta, repeats)?;
    // Factor + solve in one call (the seed of `bench_banded`'s matrix).
    let (p, values) = random_spd_band(n, beta, 42)?;
    let s = BandSymbolic::from_pattern_with_beta(&p, beta)?;
    let mut storage = vec![0.0; s.factor_len()];
    let rhs = mat_vec(&p, &values, &vec![1.0; n]);
    let mut x = rhs.clone();
    let mut both = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        x.copy_from_slice(&rhs);
        let t = Instant::now();
        s.cholesky_in_place(&values, &mut storage)?
            .solve_slice_in_place(&mut x)?;
        both.push(t.elapsed().as_secs_f64());
    }
    both.sort_by(f64::total_cmp);
    println!(
        "n = {n}, beta = {beta}: factor {:.2} us, solve {:.2} us, factor+solve {:.2} us, residual {:.2e}",
        b.factor_seconds * 1e6,
        b.solve_seconds * 1e6,
        both[both.len() / 2] * 1e6,
        b.residual
    );
    Ok(())
}
