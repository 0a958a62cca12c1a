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

/// Large allocations one pass is done with, kept for the next pass's arrays instead of
/// being returned to the system and mapped afresh.
///
/// An allocation above glibc's mmap threshold is a mapping of its own: freeing it unmaps
/// it, and the next large array maps new pages (about 1.0–1.4 µs each on the 2-core VM of
/// `papers/ad-backends.md`). The compile of a 1e6-variable function frees some 200 MB of
/// scratch just before the pattern detection maps about 140 MB; handed over instead, the
/// 1e6 grid's detection took 0.109–0.112 s instead of 0.147–0.153 s, Rosenbrock's
/// 0.080–0.082 s instead of 0.100–0.107 s (`papers/ad-backends.md`, session 27). The
/// pages are not saved, only moved: a later phase that used to reuse memory the
/// detection freed maps its own (the design's arrays: 4–13 ms back). Within the compile
/// too, the constant adjoints, read no more once the roots are fused, hold the
/// instructions (see `SIns`). Page faults of a 1e6 grid `bench hessian` run: 148 500
/// before any of this, 118 300 after (131 000 before the instructions' step).
///
/// Where several arrays compete for the buffers, the one that writes the most pages
/// should ask first: each request takes the smallest buffer that fits (with
/// [`for_about`](Self::for_about), else the largest there is), first come first served.
/// A buffer is handed out empty, as a `Vec<T>` of any `Copy` type (no drop) of the
/// alignment it was allocated with whose size divides its byte capacity: the allocation
/// keeps the layout it was made with, as `Vec::from_raw_parts` requires, and the vector
/// frees it normally. Its old contents are never read.
#[derive(Default)]
pub(crate) struct Spare {
    /// (alignment, pointer, byte capacity) of each buffer kept.
    bufs: Vec<(usize, std::ptr::NonNull<u8>, usize)>,
}

// SAFETY: the buffers are plain owned allocations, not shared with anything.
unsafe impl Send for Spare {}

/// Below this a buffer is not worth keeping (a fresh one costs little to map). Tests keep
/// small ones too, so that the small programs of the property tests run on reused,
/// dirty buffers.
const SPARE_MIN: usize = if cfg!(test) { 16 } else { 1 << 20 };

impl Spare {
    /// Keeps `v`'s allocation (its contents are dropped) if it is large.
    pub(crate) fn put<T: Copy>(&mut self, v: Vec<T>) {
        let bytes = v.capacity() * std::mem::size_of::<T>();
        // (`Drop` frees a buffer as bytes or 4- or 8-byte words: those alignments only.)
        if bytes < SPARE_MIN || ![1, 4, 8].contains(&std::mem::align_of::<T>()) {
            return;
        }
        let mut v = std::mem::ManuallyDrop::new(v);
        // SAFETY: a non-empty capacity: the pointer is the allocation's.
        let ptr = unsafe { std::ptr::NonNull::new_unchecked(v.as_mut_ptr().cast::<u8>()) };
        self.bufs.push((std::mem::align_of::<T>(), ptr, bytes));
    }

    /// A kept buffer as an empty vector with room for at least `cap` elements (the
    /// smallest that fits), if there is one; with `or_largest`, else the largest there is.
    fn take<T: Copy>(&mut self, cap: usize, or_largest: bool) -> Option<Vec<T>> {
        let (size, align) = (std::mem::size_of::<T>(), std::mem::align_of::<T>());
        let need = cap.checked_mul(size)?;
        if need == 0 {
            return None;
        }
        let usable = self
            .bufs
            .iter()
            .enumerate()
            .filter(|&(_, &(a, _, bytes))| a == align && bytes % size == 0);
        let fits = usable
            .clone()
            .filter(|&(_, &(_, _, bytes))| bytes >= need)
            .min_by_key(|&(_, &(_, _, bytes))| bytes);
        let (k, _) = match fits {
            Some(f) => f,
            None if or_largest => usable.max_by_key(|&(_, &(_, _, bytes))| bytes)?,
            None => return None,
        };
        let (_, ptr, bytes) = self.bufs.swap_remove(k);
        // SAFETY: `ptr` was allocated by a `Vec` of a type of alignment `align` with
        // `bytes` bytes of capacity (`put`); `T` has that alignment, and `bytes / size`
        // elements of it take exactly those bytes. Length 0: nothing is read.
        Some(unsafe { Vec::from_raw_parts(ptr.as_ptr().cast::<T>(), 0, bytes / size) })
    }

    /// An empty vector with room for at least `cap` elements: the smallest kept buffer
    /// that fits, else a new allocation.
    pub(crate) fn with_capacity<T: Copy>(&mut self, cap: usize) -> Vec<T> {
        self.take(cap, false)
            .unwrap_or_else(|| Vec::with_capacity(cap))
    }

    /// An empty vector for about `cap` elements, a generous bound of what will be pushed:
    /// the smallest kept buffer that fits, else the largest kept one (the vector grows
    /// past it if need be, which for a buffer this large moves no data where the
    /// allocator remaps it, as glibc does), else a new allocation.
    pub(crate) fn for_about<T: Copy>(&mut self, cap: usize) -> Vec<T> {
        self.take(cap, true)
            .unwrap_or_else(|| Vec::with_capacity(cap))
    }

    /// `len` zeros: a kept buffer that fits, zeroed (a write of `len` elements, a
    /// fraction of the cost of mapping them), else [`zeros_mapped`].
    pub(crate) fn zeros<T: Copy + Default>(&mut self, len: usize) -> Vec<T> {
        match self.take::<T>(len, false) {
            Some(mut v) => {
                v.resize(len, T::default());
                v
            }
            None => zeros_mapped(len),
        }
    }
}

/// Four bytes at alignment 4 and eight at alignment 8 on every target (`u64` is aligned
/// to 4 on some 32-bit ones): what a kept buffer is freed as.
#[derive(Clone, Copy)]
#[repr(C, align(4))]
struct Word4([u8; 4]);
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Word8([u8; 8]);

impl Drop for Spare {
    fn drop(&mut self) {
        for &(align, ptr, bytes) in &self.bufs {
            // SAFETY: each buffer is a `Vec` allocation of `bytes` bytes at alignment
            // `align` ∈ {1, 4, 8} (`put`), a whole number of elements of a type of that
            // alignment, hence of `align` bytes; rebuilt as a vector of such words, it is
            // freed with the layout it was made with.
            unsafe {
                match align {
                    1 => drop(Vec::from_raw_parts(ptr.as_ptr(), 0, bytes)),
                    4 => drop(Vec::from_raw_parts(
                        ptr.as_ptr().cast::<Word4>(),
                        0,
                        bytes / 4,
                    )),
                    _ => drop(Vec::from_raw_parts(
                        ptr.as_ptr().cast::<Word8>(),
                        0,
                        bytes / 8,
                    )),
                }
            }
        }
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

    /// How many buffers are kept.
    #[cfg(test)]
    pub(crate) fn kept(&self) -> usize {
        self.0.lock().map_or(0, |s| s.bufs.len())
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
    fn spare_buffers_are_reused_with_their_layout_and_zeroed() {
        let mut spare = Spare::default();
        let wide = vec![1.5f64; 1000];
        let wide_ptr = wide.as_ptr() as usize;
        spare.put(wide);
        let narrow = vec![u32::MAX; 2001]; // odd: not a whole number of [u32; 2]
        let narrow_ptr = narrow.as_ptr() as usize;
        spare.put(narrow);
        spare.put(vec![7u8; 4096]);
        // Alignment 8 from the f64 buffer, zeroed; a larger request is a new allocation.
        let z: Vec<usize> = spare.zeros(900);
        assert_eq!(z.as_ptr() as usize, wide_ptr);
        assert!(z.len() == 900 && z.iter().all(|&v| v == 0));
        let big: Vec<u64> = spare.with_capacity(5000);
        assert!(big.is_empty() && big.capacity() >= 5000);
        // Pairs do not divide the odd u32 buffer; u32 does.
        let pairs: Vec<[u32; 2]> = spare.with_capacity(10);
        assert_ne!(pairs.as_ptr() as usize, narrow_ptr);
        let mut ints: Vec<u32> = spare.with_capacity(2000);
        assert_eq!(ints.as_ptr() as usize, narrow_ptr);
        assert_eq!(ints.capacity(), 2001);
        ints.extend(0..3000); // grows as any vector: the allocation's layout is its own
        assert_eq!(ints[2999], 2999);
        // The u8 buffer is kept and freed by the spare's drop.
        drop(spare);
        drop((z, big, pairs, ints));
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
