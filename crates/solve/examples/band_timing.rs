//! Quick timing of the banded Cholesky: `cargo run --release -p sparsediff-solve --example band_timing -- N BETA REPEATS`.
use std::time::Instant;
fn med(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2] * 1e6
}
fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("number"))
        .collect();
    let (n, beta, repeats) = (
        args.first().copied().unwrap_or(5000),
        args.get(1).copied().unwrap_or(9),
        args.get(2).copied().unwrap_or(2000),
    );
    let b = sparsediff_solve::bench_banded(n, beta, repeats).expect("bench");
    println!(
        "n = {n}, beta = {beta}: factor {:.2} us, solve {:.2} us, residual {:.2e}",
        b.factor_seconds * 1e6,
        b.solve_seconds * 1e6,
        b.residual
    );
    let (p, v) = sparsediff_solve::random_spd_band(n, beta, 1).unwrap();
    let s = sparsediff_solve::band::BandSymbolic::from_pattern(&p).unwrap();
    let mut filled = vec![0.0; s.factor_len()];
    s.fill_band(&v, 0.0, &mut filled).unwrap();
    let mut st = filled.clone();
    let (mut tf, mut tc, mut tg) = (vec![], vec![], vec![]);
    for _ in 0..repeats {
        let t = Instant::now();
        st.copy_from_slice(&filled);
        tc.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        s.cholesky_band_in_place(&mut st).unwrap();
        tf.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        s.fill_band(&v, 0.0, &mut st).unwrap();
        tg.push(t.elapsed().as_secs_f64());
    }
    println!(
        "copy {:.2} us, factor prefilled {:.2} us (incl. its finite scan), fill_band {:.2} us",
        med(tc),
        med(tf),
        med(tg)
    );
}
