//! [`CountingAllocator`]: the system allocator, counting each thread's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Allocations (and reallocations) made by this thread through [`CountingAllocator`].
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting the allocations and reallocations of each thread, to test
/// that a call allocates nothing. Tests run in parallel threads: the count is per thread, so
/// what another test allocates meanwhile is not counted.
///
/// Install it as the test binary's global allocator, then measure a closure with
/// [`CountingAllocator::count`]:
///
/// ```
/// use sparsediff_pattern::testing::CountingAllocator;
///
/// #[global_allocator]
/// static ALLOC: CountingAllocator = CountingAllocator::new();
///
/// fn main() {
///     let mut buffer = Vec::with_capacity(16);
///     let ((), n) = ALLOC.count(|| buffer.extend([1.0f64, 2.0, 3.0]));
///     assert_eq!(n, 0, "within capacity: no allocation");
///     let (v, n) = ALLOC.count(|| vec![0u8; 100]);
///     assert_eq!((v.len(), n), (100, 1));
/// }
/// ```
///
/// Counting works only in a binary that installed it: [`CountingAllocator::count`] panics
/// when it sees no allocation at all where it makes one on purpose.
#[derive(Debug, Default)]
pub struct CountingAllocator {
    _private: (),
}

impl CountingAllocator {
    /// The allocator, for `#[global_allocator] static ALLOC: CountingAllocator = …`.
    pub const fn new() -> Self {
        Self { _private: () }
    }

    /// Allocations (and reallocations) the current thread has made so far.
    pub fn allocations(&self) -> usize {
        ALLOCATIONS.with(Cell::get)
    }

    /// Runs `f` and returns its result with the number of allocations (and reallocations)
    /// the current thread made meanwhile.
    ///
    /// # Panics
    /// If this allocator is not the global allocator (the count would be 0 whatever `f`
    /// did).
    #[track_caller]
    pub fn count<R>(&self, f: impl FnOnce() -> R) -> (R, usize) {
        let before = self.allocations();
        drop(std::hint::black_box(Box::new(0u64)));
        assert!(
            self.allocations() > before,
            "CountingAllocator counts only as the #[global_allocator]"
        );
        let before = self.allocations();
        let out = f();
        (out, self.allocations() - before)
    }
}

fn bump() {
    // `try_with`: a thread's allocations after its locals are destroyed are not counted.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to the system allocator with the caller's arguments; the
// counter is a const-initialised thread local, whose access does not allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from System, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: `ptr` came from System with `layout`; the caller upholds the rest.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
