//! Timing of the banded Cholesky through `bench_banded` (medians, one thread):
//! `cargo run --release -p sparsediff-solve --example band_timing -- N BETA REPEATS`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let n = args.next().transpose()?.unwrap_or(5000);
    let beta = args.next().transpose()?.unwrap_or(9);
    let repeats = args.next().transpose()?.unwrap_or(2000);
    let b = sparsediff_solve::bench_banded(n, beta, repeats)?;
    println!(
        "n = {n}, beta = {beta}: factor {:.2} us, solve {:.2} us, residual {:.2e}",
        b.factor_seconds * 1e6,
        b.solve_seconds * 1e6,
        b.residual
    );
    Ok(())
}
