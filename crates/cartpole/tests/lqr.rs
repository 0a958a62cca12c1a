//! The LQR solvers against the spec's reference (crates/problems/spec/cartpole-swingup.md):
//! K, P and the closed-loop eigenvalues to 1e-8 relative; the DARE against the CARE limit
//! and against the plain fixed-point iteration; the named errors.

use cartpole::CartpoleError;
use cartpole::lqr::{
    RiccatiOptions, Weights, care, care4, closed_loop_eigenvalues, dare, dare_fixed_point,
    discretize,
};
use faer::Mat;

const A: [[f64; 4]; 4] = [
    [0.0, 1.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 1.0],
    [0.0, 0.0, 29.43, 0.0],
];
const B: [f64; 4] = [0.0, 1.0, 0.0, 3.0];
const K_SPEC: [f64; 4] = [-1.0000000000, -2.1117052005, 26.7778608771, 5.0329658518];
const P_SPEC: [[f64; 4]; 4] = [
    [2.1117052005, 1.7296494268, -5.0329658518, -0.9098831423],
    [1.7296494268, 3.1394652603, -9.7182570207, -1.7503901536],
    [-5.0329658518, -9.7182570207, 68.2273369658, 12.1653726326],
    [-0.9098831423, -1.7503901536, 12.1653726326, 2.2611186685],
];
/// The spec's eigenvalues, printed to 4 decimals.
const EIG_SPEC: [(f64, f64); 4] = [
    (-7.1281, 0.0),
    (-4.1305, 0.0),
    (-0.8643, -0.5026),
    (-0.8643, 0.5026),
];

fn a() -> Mat<f64> {
    Mat::from_fn(4, 4, |i, j| A[i][j])
}
fn b() -> Mat<f64> {
    Mat::from_fn(4, 1, |i, _| B[i])
}

fn rel(x: f64, y: f64) -> f64 {
    (x - y).abs() / y.abs().max(1e-300)
}

/// The spec prints 10 decimals: 1e-8 relative, or 1e-10 absolute for the entries near 1.
fn close(x: f64, y: f64) -> bool {
    rel(x, y) <= 1e-8 || (x - y).abs() <= 6e-11
}

fn check_k_p(k: &[f64; 4], p: &[[f64; 4]; 4]) {
    for j in 0..4 {
        assert!(close(k[j], K_SPEC[j]), "K[{j}] = {} vs {}", k[j], K_SPEC[j]);
        for i in 0..4 {
            assert!(
                close(p[i][j], P_SPEC[i][j]),
                "P[{i}][{j}] = {} vs {}",
                p[i][j],
                P_SPEC[i][j]
            );
        }
    }
}

#[test]
fn care_reproduces_the_spec() {
    let w = Weights::identity();
    let lqr = care(
        a().as_ref(),
        b().as_ref(),
        w.q.as_ref(),
        w.r.as_ref(),
        &RiccatiOptions::default(),
    )
    .expect("solves");
    let k: [f64; 4] = std::array::from_fn(|j| lqr.k[(0, j)]);
    let p: [[f64; 4]; 4] = std::array::from_fn(|i| std::array::from_fn(|j| lqr.p[(i, j)]));
    check_k_p(&k, &p);
    assert!(lqr.residual < 1e-12, "residual {}", lqr.residual);
    // eigenvalues: to 1e-8 relative against those of A − B·K_spec (the spec's K has 10
    // digits), and to the 4 printed decimals against the spec's list
    let k_spec = Mat::from_fn(1, 4, |_, j| K_SPEC[j]);
    let reference = closed_loop_eigenvalues(a().as_ref(), b().as_ref(), k_spec.as_ref()).unwrap();
    for ((re, im), ((rr, ri), (sr, si))) in lqr
        .closed_loop_eigenvalues
        .iter()
        .zip(reference.iter().zip(EIG_SPEC))
    {
        let modulus = rr.hypot(*ri);
        assert!(
            (re - rr).hypot(im - ri) <= 1e-8 * modulus,
            "{re}+{im}i vs {rr}+{ri}i"
        );
        assert!(
            (re - sr).abs() <= 5e-5 && (im - si).abs() <= 5e-5,
            "{re}+{im}i vs spec {sr}+{si}i"
        );
    }
}

#[test]
fn care4_reproduces_the_spec() {
    let w = Weights::identity();
    let lqr = care4(&A, &B, &w.q_array(), 1.0, &RiccatiOptions::default()).expect("solves");
    check_k_p(&lqr.k, &lqr.p);
    assert!(lqr.residual < 1e-13, "residual {}", lqr.residual);
    let full = lqr.to_lqr(&A, &B).unwrap();
    assert_eq!(full.closed_loop_eigenvalues.len(), 4);
    for (re, im) in &full.closed_loop_eigenvalues {
        assert!(
            EIG_SPEC
                .iter()
                .any(|(sr, si)| (re - sr).abs() <= 5e-5 && (im - si).abs() <= 5e-5)
        );
    }
}

#[test]
fn care_and_care4_agree_on_scaled_weights() {
    let q = [
        [2.0, 0.1, 0.0, 0.0],
        [0.1, 0.5, 0.0, 0.0],
        [0.0, 0.0, 25.0, 0.0],
        [0.0, 0.0, 0.0, 0.1],
    ];
    let small = care4(&A, &B, &q, 0.3, &RiccatiOptions::default()).unwrap();
    let qm = Mat::from_fn(4, 4, |i, j| q[i][j]);
    let rm = Mat::from_fn(1, 1, |_, _| 0.3);
    let full = care(
        a().as_ref(),
        b().as_ref(),
        qm.as_ref(),
        rm.as_ref(),
        &RiccatiOptions::default(),
    )
    .unwrap();
    for j in 0..4 {
        assert!(rel(small.k[j], full.k[(0, j)]) < 1e-9, "{j}");
    }
}

#[test]
fn dare_approaches_care_as_dt_shrinks() {
    let w = Weights::identity();
    let continuous = care(
        a().as_ref(),
        b().as_ref(),
        w.q.as_ref(),
        w.r.as_ref(),
        &RiccatiOptions::default(),
    )
    .unwrap();
    let mut errors = Vec::new();
    for dt in [1e-2, 1e-3, 1e-4] {
        let (ad, bd) = discretize(a().as_ref(), b().as_ref(), dt).unwrap();
        // the continuous cost ∫ eᵀQe + uᵀRu dt, sampled: Q·dt, R·dt
        let qd = Mat::from_fn(4, 4, |i, j| w.q[(i, j)] * dt);
        let rd = Mat::from_fn(1, 1, |_, _| dt);
        let disc = dare(
            ad.as_ref(),
            bd.as_ref(),
            qd.as_ref(),
            rd.as_ref(),
            &RiccatiOptions::default(),
        )
        .unwrap();
        let err = (&disc.p - &continuous.p).norm_l2() / continuous.p.norm_l2();
        errors.push(err);
    }
    // first order in dt
    assert!(
        errors[1] < 0.2 * errors[0] && errors[2] < 0.2 * errors[1],
        "{errors:?}"
    );
    assert!(errors[2] < 1e-3, "{errors:?}");
}

#[test]
fn dare_matches_the_fixed_point_iteration() {
    let w = Weights::identity();
    let (ad, bd) = discretize(a().as_ref(), b().as_ref(), 0.02).unwrap();
    let fast = dare(
        ad.as_ref(),
        bd.as_ref(),
        w.q.as_ref(),
        w.r.as_ref(),
        &RiccatiOptions::default(),
    )
    .unwrap();
    let slow = dare_fixed_point(
        ad.as_ref(),
        bd.as_ref(),
        w.q.as_ref(),
        w.r.as_ref(),
        1e-15,
        100_000,
    )
    .unwrap();
    let err = (&fast.p - &slow.p).norm_l2() / slow.p.norm_l2();
    assert!(err < 1e-10, "{err}");
    assert!(fast.iterations < 30, "{}", fast.iterations);
}

#[test]
fn unstabilizable_pair_is_a_named_error() {
    // an unstable mode (λ = 1) that B cannot reach
    let a = faer::mat![[1.0, 0.0], [0.0, -1.0]];
    let b = faer::mat![[0.0], [1.0]];
    let q = Mat::<f64>::identity(2, 2);
    let r = faer::mat![[1.0]];
    let err = care(
        a.as_ref(),
        b.as_ref(),
        q.as_ref(),
        r.as_ref(),
        &RiccatiOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, CartpoleError::NotStabilizable { re, .. } if (re - 1.0).abs() < 1e-12),
        "{err:?}"
    );
    let (ad, bd) = discretize(a.as_ref(), b.as_ref(), 0.1).unwrap();
    let err = dare(
        ad.as_ref(),
        bd.as_ref(),
        q.as_ref(),
        r.as_ref(),
        &RiccatiOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, CartpoleError::NotStabilizable { .. }),
        "{err:?}"
    );
}

#[test]
fn bad_weights_are_named_errors() {
    let q = Mat::<f64>::identity(4, 4);
    let r_neg = faer::mat![[-1.0]];
    assert!(matches!(
        care(
            a().as_ref(),
            b().as_ref(),
            q.as_ref(),
            r_neg.as_ref(),
            &RiccatiOptions::default()
        ),
        Err(CartpoleError::NotPositiveDefinite { which: "R", .. })
    ));
    let q_bad = Mat::from_fn(4, 4, |i, j| {
        if i == j {
            if i == 2 { -1.0 } else { 1.0 }
        } else {
            0.0
        }
    });
    let r = faer::mat![[1.0]];
    assert!(matches!(
        care(
            a().as_ref(),
            b().as_ref(),
            q_bad.as_ref(),
            r.as_ref(),
            &RiccatiOptions::default()
        ),
        Err(CartpoleError::NotPositiveDefinite { which: "Q", .. })
    ));
    let q_nan = Mat::from_fn(4, 4, |i, j| if i == j { f64::NAN } else { 0.0 });
    assert!(matches!(
        care(
            a().as_ref(),
            b().as_ref(),
            q_nan.as_ref(),
            r.as_ref(),
            &RiccatiOptions::default()
        ),
        Err(CartpoleError::NonFinite { what: "Q", .. })
    ));
    let b3 = Mat::<f64>::zeros(3, 1);
    assert!(matches!(
        care(
            a().as_ref(),
            b3.as_ref(),
            q.as_ref(),
            r.as_ref(),
            &RiccatiOptions::default()
        ),
        Err(CartpoleError::DimensionMismatch { what: "B", .. })
    ));
    assert!(matches!(
        care4(
            &A,
            &B,
            &Weights::identity().q_array(),
            0.0,
            &RiccatiOptions::default()
        ),
        Err(CartpoleError::NotPositiveDefinite { which: "R", .. })
    ));
    assert!(matches!(
        Weights::diagonal([1.0, -1.0, 1.0, 1.0], 1.0),
        Err(CartpoleError::InvalidParameter { name: "q_v", .. })
    ));
    assert!(matches!(
        discretize(a().as_ref(), b().as_ref(), 0.0),
        Err(CartpoleError::InvalidParameter { name: "dt", .. })
    ));
}

#[test]
fn tvlqr_far_from_the_end_is_the_dare() {
    use cartpole::lqr::tvlqr;
    use cartpole::model::{AccelerationCart, AccelerationParams};
    let cart = AccelerationCart::new(AccelerationParams::default()).unwrap();
    let dt = 0.01;
    // 20 s holding the upright: the slowest closed-loop mode (|λ| ≈ 0.991) has long decayed
    let states = vec![[0.0, 0.0, std::f64::consts::PI, 0.0]; 2001];
    let controls = vec![0.0; 2001];
    let w = Weights::identity();
    let tv = tvlqr(&cart, &states, &controls, dt, &w, &w.q).unwrap();
    let (ad, bd) = discretize(a().as_ref(), b().as_ref(), dt).unwrap();
    let steady = dare(
        ad.as_ref(),
        bd.as_ref(),
        w.q.as_ref(),
        w.r.as_ref(),
        &RiccatiOptions::default(),
    )
    .unwrap();
    for j in 0..4 {
        assert!(
            rel(tv.gains[0][j], steady.k[(0, j)]) < 1e-8,
            "K[{j}]: {} vs {}",
            tv.gains[0][j],
            steady.k[(0, j)]
        );
    }
    // bad input
    assert!(matches!(
        tvlqr(&cart, &states[..1], &controls[..1], dt, &w, &w.q),
        Err(CartpoleError::TrajectoryLength {
            states: 1,
            controls: 1
        })
    ));
}
