"""Bidirectional Jacobian plans (JVPs and VJPs together) from Python."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

import sparsediff as sd
from conftest import random_on

SPECS = ["arrow:n=100,width=3", "band:n=60,k=2", "grid2d:nx=8,ny=7,stencil=5", "cartpole:N=10"]


def arrowhead(n):
    """Dense first row, dense first column and the diagonal."""
    rows = np.r_[np.zeros(n, dtype=np.int64), np.arange(1, n), np.arange(1, n)]
    cols = np.r_[np.arange(n), np.zeros(n - 1, dtype=np.int64), np.arange(1, n)]
    return sd.Pattern((rows, cols), shape=(n, n))


def unsymmetric(n=50, seed=3):
    rng = np.random.default_rng(seed)
    m = sp.random_array((n + 7, n), density=0.06, rng=rng, format="csr")
    return sd.Pattern(m + sp.eye_array(n + 7, n, format="csr"))


@pytest.mark.parametrize("spec", SPECS + ["unsymmetric"])
@pytest.mark.parametrize("method", ["star", "acyclic", "auto"])
def test_round_trip_random_matrix(spec, method):
    pattern = unsymmetric() if spec == "unsymmetric" else sd.Pattern(spec)
    plan = sd.design(pattern, "bidirectional", method)
    assert isinstance(plan, sd.BidirectionalPlan)
    J = random_on(pattern, seed=7, symmetric=False)
    B = J @ plan.column_seeds
    C = J.T @ plan.row_seeds
    assert B.shape == plan.column_products_shape and C.shape == plan.row_products_shape
    got = plan.decode(B, C)
    assert isinstance(got, sp.csr_array) and got.shape == J.shape
    assert np.abs((got - J).toarray()).max() <= 1e-12 * np.abs(J.data).max()
    # the plan's own exact products agree with the matrix products
    eb, ec = plan.exact_products(J.data)
    assert np.allclose(eb, B, rtol=1e-14, atol=1e-14) and np.allclose(ec, C, rtol=1e-14, atol=1e-14)
    values = np.empty(pattern.nnz)
    assert plan.decode_values(eb, ec, out=values) is not None
    assert np.abs(values - J.data).max() <= 1e-12 * np.abs(J.data).max()
    assert plan.num_probes == plan.num_column_probes + plan.num_row_probes >= plan.lower_bound
    if plan.designer == "bidirectional-star":
        assert plan.recovery == "direct"


def test_arrowhead_takes_three_products_where_one_side_takes_n():
    n = 300
    p = arrowhead(n)
    assert sd.design(p, "column", "cpr").num_probes == n
    assert sd.design(p, "row", "cpr").num_probes == n
    plan = sd.design_bidirectional(p)
    assert plan.num_probes <= 3
    assert plan.num_column_probes >= 1 and plan.num_row_probes >= 1
    # every column and row is in at most one probe
    for S in (plan.column_seeds, plan.row_seeds):
        assert set(np.unique(S)) <= {0.0, 1.0} and (S.sum(axis=1) <= 1).all()
    for groups, S in ((plan.column_groups, plan.column_seeds), (plan.row_groups, plan.row_seeds)):
        expected = np.where(S.sum(axis=1) == 0, -1, np.argmax(S, axis=1))
        assert (groups == expected).all()


def test_auto_takes_the_fewer_products():
    for spec in SPECS:
        star = sd.design_bidirectional(spec, "star")
        acyclic = sd.design_bidirectional(spec, "acyclic")
        auto = sd.design_bidirectional(spec)
        assert auto.num_probes == min(star.num_probes, acyclic.num_probes)
        if star.num_probes <= acyclic.num_probes:
            assert auto.designer == "bidirectional-star"


def test_one_sided_plan_decodes_with_none_for_the_empty_block():
    p = sd.Pattern("band:n=30,k=1")
    plan = sd.design_bidirectional(p, "star")
    J = random_on(p, seed=1, symmetric=False)
    B = J @ plan.column_seeds if plan.num_column_probes else None
    C = J.T @ plan.row_seeds if plan.num_row_probes else None
    assert plan.num_column_probes == 0 or plan.num_row_probes == 0  # a band needs one side only
    got = plan.decode(B, C)
    assert np.abs((got - J).toarray()).max() <= 1e-12


def test_bad_blocks_are_named_decode_errors():
    plan = sd.design_bidirectional(arrowhead(40))
    m, pc = plan.column_products_shape
    n, pr = plan.row_products_shape
    with pytest.raises(sd.DecodeError) as e:
        plan.decode(np.ones((m, pc + 1)), np.ones((n, pr)))
    assert e.value.kind == "BlockShape"
    assert (e.value.cols, e.value.expected_cols) == (pc + 1, pc)
    C = np.ones((n, pr))
    C[5, 0] = np.nan
    with pytest.raises(sd.DecodeError, match="not finite") as e:
        plan.decode(np.ones((m, pc)), C)
    assert e.value.kind == "BlockNonFinite" and (e.value.row, e.value.probe) == (5, 0)
    with pytest.raises(sd.DecodeError):
        plan.decode(np.ones((m, pc)), None)  # the VJP block is not empty
    with pytest.raises(ValueError, match="probes"):
        sd.design(arrowhead(10), "bidirectional", probes=4)
    with pytest.raises(ValueError, match="bidirectional method"):
        sd.design_bidirectional(arrowhead(10), "cpr")
    with pytest.raises(ValueError, match="out"):
        plan.decode_values(np.ones((m, pc)), np.ones((n, pr)), out=np.ones(3)[::2])
    with pytest.raises(TypeError):
        pickle.dumps(plan)


def test_info_and_repr():
    plan = sd.design("arrow:n=100,width=3", "bidirectional")
    info = plan.info
    assert info["kind"] == "bidirectional" and info["num_probes"] == plan.num_probes
    assert info["strategy"] in {"cover-columns", "cover-rows", "augmented", "columns", "rows"}
    assert "JVPs" in repr(plan) and "VJPs" in repr(plan)
