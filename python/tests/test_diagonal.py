"""Hessian diagonals alone: exact by distance-1 colouring, or Hutchinson's estimate."""

import numpy as np
import pytest

import sparsediff as sd
from conftest import random_on


@pytest.mark.parametrize("spec", ["band:n=200,k=3", "grid2d:nx=15,ny=12,stencil=5", "cartpole:N=20"])
def test_exact_diagonal_round_trips(spec):
    p = sd.Pattern(spec)
    plan = sd.design_diagonal(p)
    assert plan.exact and plan.method == "exact"
    H = random_on(p, seed=2)
    S = plan.seeds
    assert S.shape == plan.products_shape == (p.nrows, plan.num_probes)
    d, e = plan.decode_with_errors(H @ S)
    assert np.array_equal(d, H.diagonal())
    assert not e.any()
    # no two neighbours share a probe
    colour = S.argmax(axis=1)
    rows, cols = p.rows, p.indices
    off = rows != cols
    assert (colour[rows[off]] != colour[cols[off]]).all()


def test_exact_diagonal_of_a_band_takes_half_bandwidth_plus_one():
    for k in (1, 2, 5):
        assert sd.design_diagonal(f"band:n=1000,k={k}").num_probes == k + 1


def test_hutchinson_is_unbiased_within_its_standard_errors():
    p = sd.Pattern("band:n=300,k=2")
    H = random_on(p, seed=4)
    plan = sd.design_diagonal(method="hutchinson", n=300, probes=400, seed=9)
    assert not plan.exact and plan.num_probes == 400
    assert set(np.unique(plan.seeds)) == {-1.0, 1.0}
    d, e = plan.decode_with_errors(H @ plan.seeds)
    z = (d - H.diagonal()) / e
    assert np.all(e > 0) and np.abs(z).max() < 5.5
    assert 0.6 < np.std(z) < 1.4  # standard errors of the right size
    # the same seed gives the same probes; more probes extend the fewer
    more = sd.design_diagonal(method="hutchinson", n=300, probes=500, seed=9)
    assert np.array_equal(more.seeds[:, :400], plan.seeds)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="pattern"):
        sd.design_diagonal()
    with pytest.raises(ValueError, match="probes"):
        sd.design_diagonal(method="hutchinson", n=10)
    with pytest.raises(ValueError, match="n="):
        sd.design_diagonal(method="hutchinson", probes=3)
    with pytest.raises(ValueError, match="columns"):
        sd.design_diagonal("band:n=10,k=1", "hutchinson", n=11, probes=3)
    with pytest.raises(ValueError, match="hutchinson"):
        sd.design_diagonal("band:n=10,k=1", probes=3)
    with pytest.raises(ValueError, match="diagonal method"):
        sd.design_diagonal("band:n=10,k=1", "star")
    with pytest.raises(sd.DesignError) as e:
        sd.design_diagonal(method="hutchinson", n=10, probes=0)
    assert e.value.kind == "Parameter"
    with pytest.raises(sd.DesignError):
        sd.design_diagonal(method="hutchinson", n=10, probes=10_001)
    with pytest.raises(sd.DesignError) as e:
        sd.design_diagonal(method="hutchinson", n=10**6, probes=10_000)  # 10¹⁰ probe entries
    assert e.value.kind == "DenseTooLarge"
    plan = sd.design_diagonal("band:n=10,k=1")
    with pytest.raises(sd.DecodeError):
        plan.decode(np.ones((10, plan.num_probes + 1)))
    B = np.ones((10, plan.num_probes))
    B[2, 0] = np.nan
    with pytest.raises(sd.DecodeError, match="not finite"):
        plan.decode(B)
