//! Four `f64` lanes: the register the banded factorisation kernel works in.
//!
//! The kernel is written once against [`Lanes`]; [`F4`] implements it with plain arrays
//! (any target; the compiler vectorises what it can), [`Avx`] with AVX2 + FMA intrinsics.
//! The intrinsics are there for control, not for speed per operation: with plain arrays
//! LLVM packed the pivot's scalar terms into the column update's vectors and spilled
//! them, which put a stack round trip and two shuffles on the pivot chain (≈ 32 instead
//! of ≈ 18 cycles per column at β = 9).

// The column kernels index lanes by position: the index is the lane.
#![allow(clippy::needless_range_loop)]

/// Four lanes of `f64`.
pub(crate) trait Lanes: Copy {
    fn zero() -> Self;
    fn splat(x: f64) -> Self;
    fn load(s: &[f64; 4]) -> Self;
    /// Lanes `0..k` from `s[0..k]`, the rest zero (`k` in 1..=4, a constant at every call).
    fn load_first(s: &[f64], k: usize) -> Self;
    fn store(self, d: &mut [f64; 4]);
    /// Stores lanes `0..k` into `d[0..k]` (`k` in 1..=4, a constant at every call).
    fn store_first(self, d: &mut [f64], k: usize);
    /// Lane 0.
    fn first(self) -> f64;
    /// `self − a·b`, lane by lane.
    fn nmadd(self, a: Self, b: Self) -> Self;
    fn add(self, b: Self) -> Self;
    fn mul(self, b: Self) -> Self;
    fn div(self, b: Self) -> Self;
    /// Whether some lane is NaN.
    fn any_nan(self) -> bool;
    /// Lane 0, 1 or 2 in every lane.
    fn bcast0(self) -> Self;
    fn bcast1(self) -> Self;
    fn bcast2(self) -> Self;
    /// `self` with lane 0 taken from `x`.
    fn with_first(self, x: Self) -> Self;
    /// Lanes `1, 2, 3` of `self` and lane 0 of `next`: a column one row further on.
    fn shift1(self, next: Self) -> Self;
    /// Lanes `2, 3` of `self` and `0, 1` of `next`: a column two rows further on.
    fn shift2(self, next: Self) -> Self;
}

/// Portable lanes.
#[derive(Clone, Copy)]
pub(crate) struct F4([f64; 4]);

impl F4 {
    #[inline(always)]
    fn map2(self, b: Self, f: impl Fn(f64, f64) -> f64) -> Self {
        let mut r = [0.0; 4];
        for i in 0..4 {
            r[i] = f(self.0[i], b.0[i]);
        }
        Self(r)
    }
}

impl Lanes for F4 {
    #[inline(always)]
    fn zero() -> Self {
        Self([0.0; 4])
    }
    #[inline(always)]
    fn splat(x: f64) -> Self {
        Self([x; 4])
    }
    #[inline(always)]
    fn load(s: &[f64; 4]) -> Self {
        Self(*s)
    }
    #[inline(always)]
    fn load_first(s: &[f64], k: usize) -> Self {
        let mut r = [0.0; 4];
        r[..k].copy_from_slice(&s[..k]);
        Self(r)
    }
    #[inline(always)]
    fn store(self, d: &mut [f64; 4]) {
        *d = self.0;
    }
    #[inline(always)]
    fn store_first(self, d: &mut [f64], k: usize) {
        d[..k].copy_from_slice(&self.0[..k]);
    }
    #[inline(always)]
    fn first(self) -> f64 {
        self.0[0]
    }
    #[inline(always)]
    fn nmadd(self, a: Self, b: Self) -> Self {
        let mut r = self.0;
        for i in 0..4 {
            r[i] -= a.0[i] * b.0[i];
        }
        Self(r)
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        self.map2(b, |x, y| x + y)
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        self.map2(b, |x, y| x * y)
    }
    #[inline(always)]
    fn any_nan(self) -> bool {
        self.0.iter().any(|x| x.is_nan())
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        self.map2(b, |x, y| x / y)
    }
    #[inline(always)]
    fn bcast0(self) -> Self {
        Self([self.0[0]; 4])
    }
    #[inline(always)]
    fn bcast1(self) -> Self {
        Self([self.0[1]; 4])
    }
    #[inline(always)]
    fn bcast2(self) -> Self {
        Self([self.0[2]; 4])
    }
    #[inline(always)]
    fn with_first(self, x: Self) -> Self {
        let mut r = self.0;
        r[0] = x.0[0];
        Self(r)
    }
    #[inline(always)]
    fn shift1(self, next: Self) -> Self {
        let (a, b) = (self.0, next.0);
        Self([a[1], a[2], a[3], b[0]])
    }
    #[inline(always)]
    fn shift2(self, next: Self) -> Self {
        let (a, b) = (self.0, next.0);
        Self([a[2], a[3], b[0], b[1]])
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use avx::Avx;

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    use super::Lanes;

    /// AVX2 + FMA lanes.
    ///
    /// SAFETY (for every `unsafe` block below): values of this type are only created and
    /// used inside the kernels compiled with `#[target_feature(enable = "avx2,fma")]`,
    /// which the dispatch calls only after `is_x86_feature_detected!` confirmed both
    /// features; loads and stores go through references to four (or `k ≤ 4`) valid
    /// `f64`s.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx(__m256d);

    impl Lanes for Avx {
        #[inline(always)]
        fn zero() -> Self {
            Self(unsafe { _mm256_setzero_pd() })
        }
        #[inline(always)]
        fn splat(x: f64) -> Self {
            Self(unsafe { _mm256_set1_pd(x) })
        }
        #[inline(always)]
        fn load(s: &[f64; 4]) -> Self {
            Self(unsafe { _mm256_loadu_pd(s.as_ptr()) })
        }
        #[inline(always)]
        fn load_first(s: &[f64], k: usize) -> Self {
            let s = &s[..k];
            unsafe {
                Self(match k {
                    1 => _mm256_zextpd128_pd256(_mm_load_sd(s.as_ptr())),
                    2 => _mm256_zextpd128_pd256(_mm_loadu_pd(s.as_ptr())),
                    3 => _mm256_insertf128_pd::<1>(
                        _mm256_zextpd128_pd256(_mm_loadu_pd(s.as_ptr())),
                        _mm_load_sd(s[2..].as_ptr()),
                    ),
                    _ => _mm256_loadu_pd(s.as_ptr()),
                })
            }
        }
        #[inline(always)]
        fn store(self, d: &mut [f64; 4]) {
            unsafe { _mm256_storeu_pd(d.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        fn store_first(self, d: &mut [f64], k: usize) {
            let d = &mut d[..k];
            unsafe {
                let lo = _mm256_castpd256_pd128(self.0);
                match k {
                    1 => _mm_store_sd(d.as_mut_ptr(), lo),
                    2 => _mm_storeu_pd(d.as_mut_ptr(), lo),
                    3 => {
                        _mm_storeu_pd(d.as_mut_ptr(), lo);
                        _mm_store_sd(d[2..].as_mut_ptr(), _mm256_extractf128_pd::<1>(self.0));
                    }
                    _ => _mm256_storeu_pd(d.as_mut_ptr(), self.0),
                }
            }
        }
        #[inline(always)]
        fn first(self) -> f64 {
            unsafe { _mm256_cvtsd_f64(self.0) }
        }
        #[inline(always)]
        fn nmadd(self, a: Self, b: Self) -> Self {
            Self(unsafe { _mm256_fnmadd_pd(a.0, b.0, self.0) })
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            Self(unsafe { _mm256_add_pd(self.0, b.0) })
        }
        #[inline(always)]
        fn mul(self, b: Self) -> Self {
            Self(unsafe { _mm256_mul_pd(self.0, b.0) })
        }
        #[inline(always)]
        fn any_nan(self) -> bool {
            unsafe { _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_UNORD_Q>(self.0, self.0)) != 0 }
        }
        #[inline(always)]
        fn div(self, b: Self) -> Self {
            Self(unsafe { _mm256_div_pd(self.0, b.0) })
        }
        #[inline(always)]
        fn bcast0(self) -> Self {
            Self(unsafe { _mm256_permute4x64_pd::<0b00_00_00_00>(self.0) })
        }
        #[inline(always)]
        fn bcast1(self) -> Self {
            Self(unsafe { _mm256_permute4x64_pd::<0b01_01_01_01>(self.0) })
        }
        #[inline(always)]
        fn bcast2(self) -> Self {
            Self(unsafe { _mm256_permute4x64_pd::<0b10_10_10_10>(self.0) })
        }
        #[inline(always)]
        fn with_first(self, x: Self) -> Self {
            Self(unsafe { _mm256_blend_pd::<0b0001>(self.0, x.0) })
        }
        #[inline(always)]
        fn shift1(self, next: Self) -> Self {
            unsafe {
                // [s2, s3, n0, n1], then lanes (s1, ·2 = s2, s3, ·0 = n0).
                let t = _mm256_permute2f128_pd::<0x21>(self.0, next.0);
                Self(_mm256_shuffle_pd::<0b0101>(self.0, t))
            }
        }
        #[inline(always)]
        fn shift2(self, next: Self) -> Self {
            Self(unsafe { _mm256_permute2f128_pd::<0x21>(self.0, next.0) })
        }
    }
}
