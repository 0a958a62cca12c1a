//! Large scratch arrays of the compile and trace passes.

use sparsediff_pattern::Scratch;

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

/// The large allocations the compile and trace passes are done with, kept for the next
/// pass's arrays: a [`Scratch`] (see there for the rules of reuse) whose zeroed arrays,
/// when none is kept that fits, are [`zeros_mapped`].
///
/// The compile of a 1e6-variable function frees some 200 MB of scratch just before the
/// pattern detection maps about 140 MB; handed over instead, the 1e6 grid's detection
/// took 0.109–0.112 s instead of 0.147–0.153 s, Rosenbrock's 0.080–0.082 s instead of
/// 0.100–0.107 s (`papers/ad-backends.md`, session 27). Within the compile too, the
/// constant adjoints, read no more once the roots are fused, hold the instructions (see
/// `SIns`). The detection's own arrays are kept in turn, for the facade's recovered
/// matrix (`Tape::take_scratch`; session 28), and the arrays that can serve 8-byte ones
/// later (the node flags, the roots, the records) are made at alignment 8. Page faults
/// of a 1e6 grid `bench hessian` run: 148 500 before any of this, 118 300 after the
/// detection's step, 107 500 after the matrix's (Rosenbrock 108 000, 90 300, 82 400).
#[derive(Debug)]
pub(crate) struct Spare(Scratch);

/// Below this a buffer is not worth keeping (a fresh one costs little to map). Tests keep
/// small ones too, so that the small programs of the property tests run on reused,
/// dirty buffers.
const SPARE_MIN: usize = if cfg!(test) {
    16
} else {
    sparsediff_pattern::SCRATCH_MIN_BYTES
};

impl Default for Spare {
    fn default() -> Spare {
        Spare(Scratch::keeping_from(SPARE_MIN))
    }
}

impl Spare {
    /// Keeps `v`'s allocation (its contents are dropped) if it is large.
    pub(crate) fn put<T: Copy>(&mut self, v: Vec<T>) {
        self.0.put(v);
    }

    /// [`Scratch::with_capacity`].
    pub(crate) fn with_capacity<T: Copy>(&mut self, cap: usize) -> Vec<T> {
        self.0.with_capacity(cap)
    }

    /// [`Scratch::for_about`].
    pub(crate) fn for_about<T: Copy>(&mut self, cap: usize) -> Vec<T> {
        self.0.for_about(cap)
    }

    /// `len` zeros: a kept buffer that fits, zeroed (a write of `len` elements, a
    /// fraction of the cost of mapping them), else [`zeros_mapped`].
    pub(crate) fn zeros<T: Copy + Default>(&mut self, len: usize) -> Vec<T> {
        self.0.take_filled(len).unwrap_or_else(|| zeros_mapped(len))
    }

    /// The buffers, for another stage.
    pub(crate) fn into_scratch(self) -> Scratch {
        self.0
    }

    /// Keeps the buffers of `other` too.
    pub(crate) fn append(&mut self, other: Spare) {
        self.0.append(other.0);
    }
}

/// A [`Spare`] kept by a long-lived object for a later `&self` pass (hence the lock,
/// never contended); a clone keeps none.
#[derive(Default)]
pub(crate) struct SpareCell(std::sync::Mutex<Spare>);

impl SpareCell {
    pub(crate) fn new(spare: Spare) -> SpareCell {
        SpareCell(std::sync::Mutex::new(spare))
    }

    /// The buffers kept (none after the first call).
    pub(crate) fn take(&self) -> Spare {
        match self.0.lock() {
            Ok(mut s) => std::mem::take(&mut *s),
            // (a panic while the lock was held can only have been inside `take` itself)
            Err(_) => Spare::default(),
        }
    }

    /// Keeps the buffers of `spare` too.
    pub(crate) fn give(&self, spare: Spare) {
        if let Ok(mut s) = self.0.lock() {
            s.append(spare);
        }
    }

    /// How many buffers are kept.
    #[cfg(test)]
    pub(crate) fn kept(&self) -> usize {
        self.0.lock().map_or(0, |s| s.0.len())
    }

    /// Frees the buffers kept.
    pub(crate) fn clear(&mut self) {
        if let Ok(s) = self.0.get_mut() {
            *s = Spare::default();
        }
    }
}

impl Clone for SpareCell {
    fn clone(&self) -> SpareCell {
        SpareCell::default()
    }
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
    use super::Spare;

    #[test]
    fn spare_zeros_reuse_a_dirty_buffer_else_map_new_pages() {
        let mut spare = Spare::default();
        let dirty = vec![f64::NAN; 1000];
        let dirty_ptr = dirty.as_ptr() as usize;
        spare.put(dirty);
        let z: Vec<u64> = spare.zeros(900);
        assert_eq!(z.as_ptr() as usize, dirty_ptr);
        assert!(z.len() == 900 && z.iter().all(|&v| v == 0));
        let fresh: Vec<u64> = spare.zeros(2000);
        assert!(fresh.len() == 2000 && fresh.iter().all(|&v| v == 0));
        assert!(spare.into_scratch().is_empty());
    }

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
