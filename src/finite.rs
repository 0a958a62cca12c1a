//! Finiteness checks of the point and of the products, split across the prepared object's
//! threads when it has more than one ([`Options::threads`](crate::Options)): on one thread
//! they are a serial remainder of a parallel evaluation (at n = 1e6, about 6 % of a
//! one-thread grid Hessian evaluation, `papers/ad-backends.md`).

use rayon::prelude::*;

/// Below this many values one thread checks (splitting costs more than it saves).
const PARALLEL_MIN: usize = 1 << 16;
/// Values per task of a split check.
const CHUNK: usize = 1 << 14;

/// The index of the first NaN or ±∞ of `v`, the same for every number of threads.
pub(crate) fn first_non_finite(v: &[f64], pool: Option<&rayon::ThreadPool>) -> Option<usize> {
    match pool {
        Some(pool) if v.len() >= PARALLEL_MIN => pool.install(|| {
            v.par_chunks(CHUNK).enumerate().find_map_first(|(k, c)| {
                sparsediff_pattern::first_non_finite(c).map(|i| k * CHUNK + i)
            })
        }),
        _ => sparsediff_pattern::first_non_finite(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_non_finite_value_is_found_on_any_number_of_threads() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let n = 3 * PARALLEL_MIN + 17;
        let mut v = vec![1.0; n];
        assert_eq!(first_non_finite(&v, Some(&pool)), None);
        for (bad, at) in [
            (f64::NAN, n - 1),
            (f64::INFINITY, 2 * CHUNK + 5),
            (f64::NEG_INFINITY, 3),
        ] {
            v[at] = bad;
            assert_eq!(first_non_finite(&v, Some(&pool)), Some(at.min(first(&v))));
            assert_eq!(
                first_non_finite(&v, None),
                first_non_finite(&v, Some(&pool))
            );
        }
        fn first(v: &[f64]) -> usize {
            v.iter().position(|x| !x.is_finite()).unwrap()
        }
    }
}
