//! Large buffers one stage is done with, handed to the next stage's arrays.

use std::ptr::NonNull;

/// Large allocations a stage is done with, kept for a later stage's arrays instead of being
/// returned to the system and mapped afresh.
///
/// An allocation above the allocator's mapping threshold (glibc: at most 32 MB, often
/// far less) is a mapping of its own: freeing it unmaps it, and the next large array maps
/// new pages, each at the cost of a page fault and of zeroing it in the kernel — about
/// 1.5 µs per 4 KiB page on the 2-core VM of `papers/ad-backends.md`, up to 8 µs when
/// the host is busy. A `prepare` at n = 10⁶ maps some 300 MB; the tape's compile, its
/// pattern detection and the facade's recovered matrix pass their scratch on through a
/// `Scratch` (`papers/ad-backends.md`, sessions 27 and 28).
///
/// Where several arrays compete for the buffers, the one that writes the most pages
/// should ask first: each request takes the smallest buffer that fits (with
/// [`for_about`](Self::for_about), else the largest there is), first come first served.
/// A buffer is handed out empty, as a `Vec<T>` of any `Copy` type (no drop) **of the
/// alignment it was allocated with** whose size divides its byte capacity: the
/// allocation keeps the layout it was made with, as `Vec::from_raw_parts` requires, and
/// the vector frees (or grows) it normally. Its old contents are never read. So an
/// array of `u32` can only ever serve arrays of alignment 4; a stage that wants its pages
/// to serve `usize` or `f64` arrays later allocates them at alignment 8.
///
/// ```
/// use sparsediff_pattern::Scratch;
/// let mut scratch = Scratch::default();
/// let done: Vec<f64> = vec![1.0; 1 << 18]; // 2 MB, above the 1 MB kept by default
/// let pages = done.as_ptr() as usize;
/// scratch.put(done);
/// // An array of another 8-byte type gets the same pages, empty.
/// let mut next: Vec<usize> = scratch.with_capacity(1000);
/// assert_eq!(next.as_ptr() as usize, pages);
/// assert!(next.is_empty() && next.capacity() == 1 << 18);
/// next.extend(0..1000);
/// assert!(scratch.is_empty());
/// // Nothing kept: a new allocation.
/// let fresh: Vec<usize> = scratch.with_capacity(10);
/// assert!(fresh.capacity() >= 10);
/// ```
pub struct Scratch {
    /// (alignment, pointer, byte capacity) of each buffer kept.
    bufs: Vec<(usize, NonNull<u8>, usize)>,
    /// Buffers below this many bytes are not kept.
    min_bytes: usize,
}

// SAFETY: the buffers are plain owned allocations, not shared with anything.
unsafe impl Send for Scratch {}

/// Below this a buffer is not worth keeping: a fresh one costs little to map.
pub const SCRATCH_MIN_BYTES: usize = 1 << 20;

impl Default for Scratch {
    /// Keeps buffers of at least [`SCRATCH_MIN_BYTES`].
    fn default() -> Scratch {
        Scratch::keeping_from(SCRATCH_MIN_BYTES)
    }
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch")
            .field("buffers", &self.bufs.len())
            .field("bytes", &self.bytes())
            .finish()
    }
}

impl Scratch {
    /// Keeps buffers of at least `min_bytes` bytes (tests keep small ones too, so that
    /// small inputs run on reused, dirty buffers).
    pub fn keeping_from(min_bytes: usize) -> Scratch {
        Scratch {
            bufs: Vec::new(),
            min_bytes,
        }
    }

    /// Number of buffers kept.
    pub fn len(&self) -> usize {
        self.bufs.len()
    }

    /// Whether no buffer is kept.
    pub fn is_empty(&self) -> bool {
        self.bufs.is_empty()
    }

    /// Bytes kept, over all buffers.
    pub fn bytes(&self) -> usize {
        self.bufs.iter().map(|&(_, _, bytes)| bytes).sum()
    }

    /// Keeps `v`'s allocation (its contents are dropped) if it is large enough and of
    /// alignment 1, 4 or 8 (what [`Drop`] frees buffers as); else frees it.
    pub fn put<T: Copy>(&mut self, v: Vec<T>) {
        let bytes = v.capacity() * std::mem::size_of::<T>();
        if bytes < self.min_bytes.max(1) || ![1, 4, 8].contains(&std::mem::align_of::<T>()) {
            return;
        }
        let mut v = std::mem::ManuallyDrop::new(v);
        // SAFETY: a non-empty capacity of a non-zero-sized type: the pointer is the
        // allocation's.
        let ptr = unsafe { NonNull::new_unchecked(v.as_mut_ptr().cast::<u8>()) };
        self.bufs.push((std::mem::align_of::<T>(), ptr, bytes));
    }

    /// Keeps the buffers of `other` too.
    pub fn append(&mut self, mut other: Scratch) {
        self.bufs.append(&mut other.bufs);
    }

    /// A kept buffer as an empty vector with room for at least `cap` elements (the
    /// smallest that fits), if there is one; with `or_largest`, else the largest there is.
    fn take_buffer<T: Copy>(&mut self, cap: usize, or_largest: bool) -> Option<Vec<T>> {
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

    /// The smallest kept buffer with room for `cap` elements of `T` (at `T`'s
    /// alignment), as an empty vector; `None` if there is none.
    pub fn take<T: Copy>(&mut self, cap: usize) -> Option<Vec<T>> {
        self.take_buffer(cap, false)
    }

    /// An empty vector with room for at least `cap` elements: the smallest kept buffer
    /// that fits, else a new allocation.
    pub fn with_capacity<T: Copy>(&mut self, cap: usize) -> Vec<T> {
        self.take(cap).unwrap_or_else(|| Vec::with_capacity(cap))
    }

    /// An empty vector for about `cap` elements, a generous bound of what will be pushed:
    /// the smallest kept buffer that fits, else the largest kept one (the vector grows
    /// past it if need be, which for a buffer this large moves no data where the
    /// allocator remaps it, as glibc does), else a new allocation.
    pub fn for_about<T: Copy>(&mut self, cap: usize) -> Vec<T> {
        self.take_buffer(cap, true)
            .unwrap_or_else(|| Vec::with_capacity(cap))
    }

    /// Frees the buffers that cannot hold an array of `T` (another alignment, or a size
    /// that is not a whole number of `T`s), so that they do not outlive their use.
    pub fn retain_for<T: Copy>(&mut self) {
        let (size, align) = (std::mem::size_of::<T>(), std::mem::align_of::<T>());
        self.bufs.retain(|&(a, ptr, bytes)| {
            let keep = size > 0 && a == align && bytes % size == 0;
            if !keep {
                // SAFETY: a buffer kept by `put` and removed from the list here.
                unsafe { free(a, ptr, bytes) };
            }
            keep
        });
    }

    /// `len` copies of `T::default()` in the smallest kept buffer that fits (a write of
    /// `len` elements, a fraction of the cost of mapping them), if there is one.
    pub fn take_filled<T: Copy + Default>(&mut self, len: usize) -> Option<Vec<T>> {
        let mut v = self.take::<T>(len)?;
        v.resize(len, T::default());
        Some(v)
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

/// Frees a kept buffer.
///
/// # Safety
///
/// `(align, ptr, bytes)` is a buffer [`Scratch::put`] kept, not handed out since, and is
/// forgotten by the caller.
unsafe fn free(align: usize, ptr: NonNull<u8>, bytes: usize) {
    // SAFETY: the buffer is a `Vec` allocation of `bytes` bytes at alignment `align` ∈
    // {1, 4, 8} (`put`), a whole number of elements of a type of that alignment, hence of
    // `align` bytes; rebuilt as a vector of such words, it is freed with the layout it was
    // made with.
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

impl Drop for Scratch {
    fn drop(&mut self) {
        for &(align, ptr, bytes) in &self.bufs {
            // SAFETY: each buffer was kept by `put`; the list is dropped with `self`.
            unsafe { free(align, ptr, bytes) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Scratch;

    #[test]
    fn buffers_are_reused_with_their_layout_and_filled() {
        let mut scratch = Scratch::keeping_from(16);
        let wide = vec![1.5f64; 1000];
        let wide_ptr = wide.as_ptr() as usize;
        scratch.put(wide);
        let narrow = vec![u32::MAX; 2001]; // odd: not a whole number of [u32; 2]
        let narrow_ptr = narrow.as_ptr() as usize;
        scratch.put(narrow);
        scratch.put(vec![7u8; 4096]);
        scratch.put(vec![1u8; 8]); // below the minimum: freed
        assert_eq!(scratch.len(), 3);
        assert_eq!(scratch.bytes(), 8000 + 8004 + 4096);
        // Alignment 8 from the f64 buffer, zeroed; a larger request is a new allocation.
        let z: Vec<usize> = scratch.take_filled(900).unwrap();
        assert_eq!(z.as_ptr() as usize, wide_ptr);
        assert!(z.len() == 900 && z.iter().all(|&v| v == 0));
        let big: Vec<u64> = scratch.with_capacity(5000);
        assert!(big.is_empty() && big.capacity() >= 5000);
        // Pairs do not divide the odd u32 buffer; u32 does.
        let pairs: Vec<[u32; 2]> = scratch.with_capacity(10);
        assert_ne!(pairs.as_ptr() as usize, narrow_ptr);
        let mut ints: Vec<u32> = scratch.with_capacity(2000);
        assert_eq!(ints.as_ptr() as usize, narrow_ptr);
        assert_eq!(ints.capacity(), 2001);
        ints.extend(0..3000); // grows as any vector: the allocation's layout is its own
        assert_eq!(ints[2999], 2999);
        // The largest buffer when none fits, grown past.
        let mut other = Scratch::keeping_from(16);
        other.put(vec![0u64; 100]);
        other.put(vec![0u64; 300]);
        scratch.append(other);
        let mut most: Vec<f64> = scratch.for_about(10_000);
        assert_eq!(most.capacity(), 300);
        most.resize(10_000, 2.0);
        assert_eq!(scratch.take::<f64>(1000), None);
        // The u8 and the other u64 buffers are kept; only the latter can hold u64s.
        assert_eq!(scratch.len(), 2);
        scratch.put(vec![0u32; 10]);
        scratch.retain_for::<u64>();
        assert_eq!(scratch.len(), 1);
        assert_eq!(scratch.bytes(), 800);
        drop(scratch);
        drop((z, big, pairs, ints, most));
    }
}
