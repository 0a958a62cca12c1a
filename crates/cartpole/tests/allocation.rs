//! The per-call paths allocate nothing: `Controller::control` of both controllers (in
//! every mode) and the 4×4 CARE.

use std::f64::consts::PI;

use cartpole::controller::{Controller, EnergySwingUp, LqrBalance, SwingUpParams};
use cartpole::lqr::{RiccatiOptions, Weights, care4};
use cartpole::model::{AccelerationCart, AccelerationParams};
use sparsediff_pattern::testing::CountingAllocator;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::new();

#[test]
fn controllers_and_care4_do_not_allocate() {
    let cart = AccelerationCart::new(AccelerationParams::default()).unwrap();
    let mut lqr = LqrBalance::new(&cart, &Weights::identity()).unwrap();
    let mut energy = EnergySwingUp::new(&cart, &SwingUpParams::default()).unwrap();
    let states = [
        [0.0, 0.0, 0.0, 0.0],
        [0.1, 0.2, 1.0, 3.0],
        [0.0, 0.0, PI - 0.1, 0.2],
        [0.0, 0.0, PI - 1.0, 0.2],
    ];
    let (sum, n) = ALLOC.count(|| {
        let mut sum = 0.0;
        for (k, s) in states.iter().enumerate() {
            sum += lqr.control(k as f64, s).unwrap();
            sum += energy.control(k as f64 * 0.01, s).unwrap();
        }
        sum
    });
    assert!(sum.is_finite());
    assert_eq!(n, 0, "controller calls allocated {n} times");
    let a = [
        [0.0, 1.0, 0.0, 0.0],
        [0.0; 4],
        [0.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 29.43, 0.0],
    ];
    let q = Weights::identity().q_array();
    let options = RiccatiOptions::default();
    let (k, n) = ALLOC.count(|| {
        care4(&a, &[0.0, 1.0, 0.0, 3.0], &q, 1.0, &options)
            .unwrap()
            .k
    });
    assert!(k[2] > 26.0);
    assert_eq!(n, 0, "care4 allocated {n} times");
}
