//! What a backend sees of the branches a function takes.
//!
//! A function written generic over the scalar may branch: on a comparison of scalars
//! (`if x[0] > 0.0`), which every scalar of this crate observes
//! ([`Elementary::observe_comparison`](crate::Elementary::observe_comparison)), or on a raw
//! value (`if x[0].re() > 0.0`), which no scalar can follow — it can only notice that the
//! value was read ([`Elementary::observe_value_read`](crate::Elementary::observe_value_read)).
//!
//! A pattern traced at x0 and a tape recorded at x0 hold wherever the function takes the
//! same branches as at x0. Backends therefore report a [`BranchStatus`]: whether they can
//! see branches at all, how often the branches changed under them, whether the function
//! reads raw values, and whether their products replay a recording (and so may describe
//! another branch than the one the function takes at x). The facade uses it to re-trace
//! the pattern, re-design the probes, or check the recording against a plain evaluation.

use std::cell::RefCell;
use std::cmp::Ordering;

/// What a backend has seen of the branches of the function it differentiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BranchStatus {
    /// The backend observes the function's comparisons (the tape, forward lanes). False
    /// for finite differences of a plain `f64` function and for closures: a branch change
    /// under them is only caught by verification.
    pub visible: bool,
    /// How many times products came from other branches than the previous products did
    /// (the tape re-recorded; forward lanes saw other comparison outcomes). The first
    /// products of a backend anchored at x0 compare with x0.
    pub changes: usize,
    /// The comparison, in evaluation order, that first came out differently at the last
    /// change.
    pub last_changed_comparison: Option<usize>,
    /// The function read raw values (`DualNum::re()`) when the backend last recorded or
    /// evaluated it: branches on those values are invisible to every backend.
    pub reads_values: bool,
    /// Products replay a recording made at an earlier point (the tape): if the function
    /// branched on a raw value, the replay may follow the recorded branch rather than the
    /// function's. Such a backend can be checked by comparing its value with a plain
    /// evaluation and re-recorded ([`HessianBackend::rerecord`](crate::HessianBackend::rerecord)).
    pub replays_recording: bool,
}

impl BranchStatus {
    /// A backend that cannot see the function's branches (closures, finite differences of
    /// plain functions).
    pub const BLIND: BranchStatus = BranchStatus {
        visible: false,
        changes: 0,
        last_changed_comparison: None,
        reads_values: false,
        replays_recording: false,
    };
}

/// The comparisons (outcomes, in order) and raw value reads of one evaluation on forward
/// lanes, filled through a thread-local while [`ComparisonLog::record`] runs.
#[derive(Debug, Default)]
pub(crate) struct ComparisonLog {
    pub(crate) outcomes: Vec<Option<Ordering>>,
    pub(crate) value_reads: usize,
}

thread_local! {
    static ACTIVE: RefCell<Option<ComparisonLog>> = const { RefCell::new(None) };
}

/// Takes the active log back out of the thread-local, also when the evaluation unwinds.
struct Restore<'a> {
    log: &'a mut ComparisonLog,
    outer: Option<ComparisonLog>,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        let outer = self.outer.take();
        let _ = ACTIVE.try_with(|a| {
            if let Ok(mut a) = a.try_borrow_mut()
                && let Some(inner) = std::mem::replace(&mut *a, outer)
            {
                *self.log = inner;
            }
        });
    }
}

impl ComparisonLog {
    /// Runs `f` with this log active on the thread (cleared first; its buffers are moved
    /// in and out, so nothing is allocated once they have grown). A log active on entry
    /// (a nested evaluation) is restored afterwards.
    pub(crate) fn record<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.outcomes.clear();
        self.value_reads = 0;
        let mine = std::mem::take(self);
        let outer = ACTIVE.with(|a| a.borrow_mut().replace(mine));
        let _restore = Restore { log: self, outer };
        f()
    }
}

/// Notes a comparison in the active log, if any.
#[inline]
pub(crate) fn note_comparison(outcome: Option<Ordering>) {
    let _ = ACTIVE.try_with(|a| {
        if let Ok(mut a) = a.try_borrow_mut()
            && let Some(log) = a.as_mut()
        {
            log.outcomes.push(outcome);
        }
    });
}

/// Notes a raw value read in the active log, if any.
#[inline]
pub(crate) fn note_value_read() {
    let _ = ACTIVE.try_with(|a| {
        if let Ok(mut a) = a.try_borrow_mut()
            && let Some(log) = a.as_mut()
        {
            log.value_reads += 1;
        }
    });
}

/// The first position where two comparison sequences differ (a shorter sequence differs
/// where it ends).
pub(crate) fn first_difference(a: &[Option<Ordering>], b: &[Option<Ordering>]) -> Option<usize> {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(k) => Some(k),
        None if a.len() != b.len() => Some(a.len().min(b.len())),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_collects_and_restores() {
        let mut log = ComparisonLog::default();
        log.record(|| {
            note_comparison(Some(Ordering::Less));
            note_value_read();
            let mut inner = ComparisonLog::default();
            inner.record(|| note_comparison(None));
            assert_eq!(inner.outcomes, [None]);
            note_comparison(Some(Ordering::Greater));
        });
        assert_eq!(
            log.outcomes,
            [Some(Ordering::Less), Some(Ordering::Greater)]
        );
        assert_eq!(log.value_reads, 1);
        // nothing active afterwards
        note_comparison(None);
        assert_eq!(log.outcomes.len(), 2);
    }

    #[test]
    fn differences() {
        let (l, g) = (Some(Ordering::Less), Some(Ordering::Greater));
        assert_eq!(first_difference(&[l, g], &[l, g]), None);
        assert_eq!(first_difference(&[l, g], &[l, l]), Some(1));
        assert_eq!(first_difference(&[l], &[l, g]), Some(1));
    }
}
