"""Plans: save/load, verification, samples the caller chose."""

import numpy as np
import pytest
import scipy.sparse as sp

import sparsediff as sd
from conftest import random_on


@pytest.mark.parametrize("method", ["star", "acyclic", "roll", "random", "symmetric-random", "stencil-substitution"])
def test_save_load_round_trip(tmp_path, method):
    spec = "band:n=40,k=2"
    plan = sd.design(spec, method=method)
    path = tmp_path / "plan.json"
    plan.save(path)
    loaded = sd.load_plan(path)
    assert loaded.num_probes == plan.num_probes
    assert loaded.designer == plan.designer
    assert loaded.recovery == plan.recovery
    np.testing.assert_array_equal(loaded.seeds, plan.seeds)
    A = random_on(spec, seed=11)
    B = A @ plan.seeds
    # (a loaded random plan re-factors its least squares with pivoting: rounding differs)
    assert abs(loaded.decode(B) - plan.decode(B)).max() <= 1e-12 * abs(A).max()
    assert sd.Plan.from_json(plan.to_json()).num_probes == plan.num_probes


def test_verify():
    spec = "grid2d:nx=10,ny=10,stencil=5"
    A = random_on(spec, seed=12)
    plan = sd.design(spec)
    H = plan.decode(A @ plan.seeds)
    z = sd.probe_vector(100, seed=99)
    report = plan.verify(H, z, A @ z)
    assert report["passed"] and report["max_rel_residual"] < 1e-12
    wrong = H.copy()
    wrong.data[5] += 1.0
    report = plan.verify(wrong, z, A @ z)
    assert not report["passed"]
    assert list(report["bad_rows"]) == [plan.pattern.rows[5]]
    with pytest.raises(sd.VerifyError):
        plan.verify(H, z[:-1], A @ z)


def test_decode_from_samples_lists_unrecoverable_rows():
    # rows 0..9 have 2 unknowns, row 10 has 6: with 4 samples row 10 cannot be recovered
    rows = list(range(10)) * 2 + [10] * 6
    cols = [i for i in range(10)] + [(i + 1) % 12 for i in range(10)] + list(range(6))
    pattern = sd.Pattern((rows, cols), shape=(11, 12))
    rng = np.random.default_rng(0)
    A = sp.csr_array((rng.uniform(1, 2, pattern.nnz), pattern.indices, pattern.indptr), shape=pattern.shape)
    S = rng.standard_normal((12, 4))
    out = sd.decode_from_samples(pattern, S, A @ S)
    assert list(out.unrecoverable_rows) == [10]
    M = out.matrix
    assert isinstance(M, sp.csr_array)
    good = M[:10].toarray()
    np.testing.assert_allclose(good, A[:10].toarray(), rtol=1e-10, atol=1e-12)
    assert np.isnan(M[[10]].data).all()
    # the plan form: decode refuses, naming the rows
    plan = sd.Plan.from_samples(pattern, S)
    assert list(plan.unrecoverable_rows) == [10]
    with pytest.raises(sd.DecodeError) as e:
        plan.decode(A @ S)
    assert e.value.kind == "Unrecoverable" and e.value.rows == [10]
    # enough samples: everything comes back
    S = rng.standard_normal((12, 8))
    out = sd.decode_from_samples(pattern, S, A @ S)
    assert out.unrecoverable_rows.size == 0
    assert abs(out.matrix - A).max() < 1e-10


def test_pattern_sources_agree(tmp_path):
    ref = sd.Pattern("band:n=12,k=2")
    A = random_on(ref)
    assert sd.Pattern(A) == ref
    assert sd.Pattern(sp.coo_matrix(A)) == ref
    assert sd.Pattern(A.toarray()) == ref
    rows, cols = ref.rows, ref.indices
    assert sd.Pattern((rows, cols), shape=ref.shape) == ref
    assert sd.Pattern((list(rows), list(cols), ref.shape)) == ref
    # duplicates and unsorted indices are merged
    assert sd.Pattern((np.r_[rows, rows][::-1], np.r_[cols, cols][::-1]), shape=ref.shape) == ref
    from scipy.io import mmwrite

    mmwrite(str(tmp_path / "a.mtx"), sp.coo_matrix(A))
    assert sd.Pattern(str(tmp_path / "a.mtx")) == ref
    assert sd.Pattern(tmp_path / "a.mtx") == ref
    assert ref.bandwidth() == (2, 2) and ref.is_symmetric()
    assert ref.position(0, 2) == 2 and ref.position(0, 3) is None
    assert len(ref) == ref.nnz == 54
    # a scipy matrix is its own pattern everywhere
    assert sd.design(A).num_probes == sd.design(ref).num_probes


def test_explicit_zeros_are_entries():
    A = sp.csr_array(([1.0, 0.0, 2.0], [0, 1, 1], [0, 2, 3]), shape=(2, 2))
    assert sd.Pattern(A).nnz == 3


def test_threads_share_a_plan_with_the_gil_released():
    from concurrent.futures import ThreadPoolExecutor

    spec = "grid2d:nx=120,ny=100,stencil=5"  # large enough for decode to release the GIL
    A = random_on(spec, seed=13)
    plan = sd.design(spec)
    Bs = [A @ plan.seeds * (k + 1) for k in range(8)]
    with ThreadPoolExecutor(4) as pool:
        out = list(pool.map(plan.decode, Bs))
    for k, H in enumerate(out):
        assert abs(H - (k + 1) * A).max() <= 1e-12 * (k + 1) * abs(A).max()
    # errors raised while the GIL is released come back as exceptions
    bad = Bs[0].copy()
    bad[7, 0] = np.nan
    with ThreadPoolExecutor(2) as pool:
        fut = pool.submit(plan.decode, bad)
        with pytest.raises(sd.DecodeError):
            fut.result()
    S = np.random.default_rng(0).standard_normal((plan.pattern.ncols, 6))
    P = A @ S
    P[3, 2] = np.inf
    with pytest.raises(sd.DecodeError) as e:
        sd.decode_from_samples(spec, S, P)
    assert (e.value.row, e.value.probe) == (3, 2)


def test_decoded_matrix_shares_read_only_indices():
    A = random_on("band:n=30,k=2", seed=14)
    plan = sd.design("band:n=30,k=2")
    H = plan.decode(A @ plan.seeds)
    assert not H.indices.flags.writeable
    H2 = H.copy()
    H2.data[:] = 0
    H2.eliminate_zeros()
    assert H2.nnz == 0
    assert plan.decode(A @ plan.seeds).nnz == A.nnz


def test_unsorted_and_duplicate_csr_input():
    m = sp.csr_array((np.ones(5), np.array([2, 0, 0, 1, 1]), np.array([0, 3, 5])), shape=(2, 3))
    p = sd.Pattern(m)
    assert list(p.indptr) == [0, 2, 3] and list(p.indices) == [0, 2, 1]
    m = sp.csr_array((np.ones(4), np.array([0, 2, 1, 1]), np.array([0, 2, 4])), shape=(2, 3))
    p = sd.Pattern(m)
    assert list(p.indptr) == [0, 2, 3] and list(p.indices) == [0, 2, 1]


def test_pickle():
    import pickle

    plan = sd.design("band:n=30,k=2", method="acyclic")
    again = pickle.loads(pickle.dumps(plan))
    assert again.num_probes == plan.num_probes and again.designer == plan.designer
    np.testing.assert_array_equal(again.seeds, plan.seeds)
    p = sd.Pattern("grid2d:nx=5,ny=4,stencil=9")
    assert pickle.loads(pickle.dumps(p)) == p


def test_decoded_matrices_are_ordinary_csr_arrays():
    spec = "cartpole:N=10"
    A = random_on(spec, seed=15)
    plan = sd.design(spec, method="acyclic")
    B = A @ plan.seeds
    H1 = plan.decode(B)
    H2 = plan.decode(2 * B)
    assert type(H1) is sp.csr_array and H1.format == "csr"
    assert H1.data is not H2.data
    assert abs(2 * H1 - H2).max() <= 1e-12 * abs(H2).max()
    x = np.linspace(0, 1, A.shape[0])
    np.testing.assert_allclose(H1 @ x, A @ x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H1.toarray(), A.toarray(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(H1.T.toarray(), A.toarray().T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(H1[3:7, 2:9].toarray(), A.toarray()[3:7, 2:9], rtol=1e-12, atol=1e-14)
    assert H1.shape == A.shape and H1.nnz == A.nnz and H1.has_canonical_format
    assert "sparse array" in repr(H1)
    H1.data[:] = 0.0  # the values are the caller's: a later decode is unaffected
    assert abs(plan.decode(B) - A).max() <= 1e-12 * abs(A).max()
