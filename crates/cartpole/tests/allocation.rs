//! The per-call paths allocate nothing: `Controller::control` of every controller (in
//! every mode; the MPC after its first period) and the 4×4 CARE.

use std::f64::consts::PI;

use cartpole::controller::{
    Catch, Controller, EnergySwingUp, LqrBalance, MpcController, SwingUpParams, TrackerParams,
    TvlqrTracker,
};
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
    let mut tvlqr = TvlqrTracker::swing_up(&cart, 40, &TrackerParams::default()).unwrap();
    let nlp = cartpole::swingup::transcribed_with_track(&cart, 40, 0.85).unwrap();
    let mut mpc = MpcController::new(&nlp, trajectory::mpc::MpcParams::default())
        .unwrap()
        .with_catch(Catch::default())
        .unwrap();
    let period = mpc.period();
    mpc.control(0.0, &states[0]).unwrap();
    let (sum, n) = ALLOC.count(|| {
        let mut sum = 0.0;
        for (k, s) in states.iter().enumerate() {
            // the tracker along its plan and after it
            sum += tvlqr.control(k as f64 * 0.01, s).unwrap();
            sum += tvlqr.control(10.0 + k as f64 * 0.01, s).unwrap();
            // the MPC in both modes (the last two states are near upright)
            sum += mpc.control((k + 1) as f64 * period, s).unwrap();
        }
        sum
    });
    assert!(sum.is_finite());
    assert_eq!(n, 0, "tvlqr/mpc calls allocated {n} times");
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
