//! Test vocabulary shared by every stage's tests, written once: proptest strategies for
//! patterns and the proptest configuration (feature `proptest`), and an allocation counter
//! for "this allocates nothing" tests (feature `testing`).
//!
//! Stage crates take it as a dev-dependency:
//! `sparsediff-pattern = { workspace = true, features = ["proptest", "testing"] }`.

#[cfg(feature = "testing")]
mod alloc;
#[cfg(feature = "proptest")]
mod strategies;

#[cfg(feature = "testing")]
pub use alloc::CountingAllocator;
#[cfg(feature = "proptest")]
pub use strategies::{
    Diagonal, assert_cases_come_from_the_environment, banded_patterns, cases, config,
    config_in_memory, patterns, symmetric_patterns, uniform_symmetric_patterns,
};

#[cfg(feature = "testing")]
mod shipped;
#[cfg(feature = "testing")]
pub use shipped::{block_chain, shipped};
#[cfg(feature = "testing")]
mod randoms;
#[cfg(feature = "testing")]
pub use randoms::randoms;
