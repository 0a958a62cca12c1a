//! Large scratch arrays of the compile and trace passes.

/// Bytes between two writes that map the pages of a zeroed allocation (a 4 KiB page).
const PAGE: usize = 4096;

/// `len` zeros (`T::default()` must be all-zero bits: integers, floats, `bool`) whose
/// pages are mapped now, in order.
///
/// A zeroed vector of this size is a fresh mapping whose pages are mapped on their first
/// write. When those first writes are scattered over a pass that also streams other
/// arrays, each costs more than when the pages are touched one after another up front:
/// on the 2-core VM of `papers/ad-backends.md` (about 1.5 µs per page fault) the first
/// pass of the segmented compile of the 1e6 Rosenbrock function, with 81 MB of fresh
/// flags and adjoints, took 118 ms, against 27 + 72 ms with the pages touched first.
///
/// On Linux a large array is mapped by one `madvise(MADV_POPULATE_WRITE)` instead of a
/// fault per page: 1.1 µs per page against 1.5–1.7 on that VM (200 MB; see
/// `papers/ad-backends.md`, session 24). Elsewhere, or where the kernel refuses (before
/// 5.14), the pages are touched one by one.
pub(crate) fn zeros_mapped<T: Copy + Default>(len: usize) -> Vec<T> {
    let mut v = vec![T::default(); len];
    let bytes = len * std::mem::size_of::<T>();
    if populate(v.as_mut_ptr().cast::<u8>(), bytes) {
        return v;
    }
    let step = (PAGE / std::mem::size_of::<T>().max(1)).max(1);
    let zero = T::default();
    for k in (0..len).step_by(step) {
        // SAFETY: `k < len`, in bounds of the initialised vector. A volatile write, so
        // that the store of a zero into zeroed memory is not optimised away.
        unsafe { std::ptr::write_volatile(v.as_mut_ptr().add(k), zero) };
    }
    v
}

/// Maps the pages of `bytes` bytes at `ptr` (an allocation of ours) for writing in one
/// call; false (nothing done) for a small or non-Linux array or when the kernel refuses.
#[cfg(target_os = "linux")]
fn populate(ptr: *mut u8, bytes: usize) -> bool {
    /// Below this a fault per page costs too little to matter.
    const MIN: usize = 1 << 16;
    if bytes < MIN {
        return false;
    }
    // The whole pages inside the allocation (madvise takes page-aligned ranges); the
    // partial pages at either end are written below.
    let start = (ptr as usize).next_multiple_of(PAGE);
    let end = (ptr as usize + bytes) & !(PAGE - 1);
    // SAFETY: [start, end) lies inside the allocation of `bytes` bytes at `ptr`;
    // MADV_POPULATE_WRITE maps its pages without changing their contents.
    let rc = unsafe {
        libc::madvise(
            start as *mut libc::c_void,
            end - start,
            libc::MADV_POPULATE_WRITE,
        )
    };
    if rc != 0 {
        return false;
    }
    // SAFETY: the first and last bytes of the allocation; volatile, as above (a zero byte
    // is part of a zero `T`, and the bytes are rewritten with the zero they hold).
    unsafe {
        std::ptr::write_volatile(ptr, 0);
        std::ptr::write_volatile(ptr.add(bytes - 1), 0);
    }
    true
}

#[cfg(not(target_os = "linux"))]
fn populate(_: *mut u8, _: usize) -> bool {
    false
}

/// How many elements ahead a streaming loop asks for ([`prefetch`]).
pub(crate) const AHEAD: usize = 128;

/// A hint to fetch `xs[k]` into the cache, if it exists: for loops that stream arrays
/// larger than the cache. On the 2-core VM of `papers/ad-backends.md` the hardware
/// prefetcher does not keep up with such a loop that does little per element: reading the
/// 1e6 Rosenbrock program (48 MB) in `Split::new`'s check took 15–18 ms, with a hint 128
/// elements ahead 7 ms (the grid's 26–29 → 11–12 ms), and the trace nodes of a program
/// 24–26 → 22 ms. Not everywhere: the compile's first and fusion passes, which stream the
/// recording backwards doing more per element, got slower with hints (58–62 → 66–70 ms).
#[inline(always)]
pub(crate) fn prefetch<T>(xs: &[T], k: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = xs.get(k) {
        // SAFETY: a prefetch is a hint; the address is that of an element in bounds.
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                (x as *const T).cast::<i8>(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (xs, k);
}

#[cfg(test)]
mod tests {
    #[test]
    fn mapped_zeros_are_zeros() {
        // 300 001 f64 (2.4 MB) and 2.4 MB of bytes: mapped by madvise on Linux.
        for len in [0, 1, 511, 512, 513, 100_000, 300_001, 2_400_003] {
            let v: Vec<f64> = super::zeros_mapped(len);
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x.to_bits() == 0));
            let b: Vec<u8> = super::zeros_mapped(len);
            assert!(b.len() == len && b.iter().all(|&x| x == 0));
        }
    }
}
