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
pub(crate) fn zeros_mapped<T: Copy + Default>(len: usize) -> Vec<T> {
    let mut v = vec![T::default(); len];
    let step = (PAGE / std::mem::size_of::<T>().max(1)).max(1);
    let zero = T::default();
    for k in (0..len).step_by(step) {
        // SAFETY: `k < len`, in bounds of the initialised vector. A volatile write, so
        // that the store of a zero into zeroed memory is not optimised away.
        unsafe { std::ptr::write_volatile(v.as_mut_ptr().add(k), zero) };
    }
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn mapped_zeros_are_zeros() {
        for len in [0, 1, 511, 512, 513, 100_000] {
            let v: Vec<f64> = super::zeros_mapped(len);
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x.to_bits() == 0));
            let b: Vec<u8> = super::zeros_mapped(len);
            assert!(b.len() == len && b.iter().all(|&x| x == 0));
        }
    }
}
