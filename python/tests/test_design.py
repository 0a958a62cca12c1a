"""Designers round-trip random matrices on their patterns; probe counts match the Rust
library's known answers and the CLI."""

import json
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp

import sparsediff as sd
from conftest import random_on

RECT = sp.random(30, 20, density=0.15, random_state=3, format="csr")
_RS = sp.random(40, 40, density=0.08, random_state=3)
RANDSYM = (_RS + _RS.T + sp.eye(40)).tocsr()

SYMMETRIC_CASES = {
    "band": "band:n=60,k=3",
    "grid": "grid2d:nx=8,ny=7,stencil=5",
    "grid9": "grid2d:nx=6,ny=5,stencil=9",
    "randsym": RANDSYM,
    "cartpole": "cartpole:N=10",
    "arrow": "arrow:n=30,width=2",
}

SYMMETRIC_METHODS = ["auto", "identity", "roll", "cpr", "d2", "star", "acyclic", "random", "symmetric-random"]
COLUMN_METHODS = ["auto", "identity", "roll", "cpr", "random"]


def rel_err(a, b):
    a, b = sp.csr_array(a), sp.csr_array(b)
    scale = abs(b).max()
    return abs(a - b).max() / scale


def products(plan, A):
    S = plan.seeds
    if plan.orientation == "rows":
        return A.T @ S
    return A @ S


@pytest.mark.parametrize("case", sorted(SYMMETRIC_CASES))
@pytest.mark.parametrize("method", SYMMETRIC_METHODS)
def test_symmetric_designers_round_trip(case, method):
    pattern = SYMMETRIC_CASES[case]
    A = random_on(pattern, seed=1)
    plan = sd.design(pattern, "symmetric", method)
    assert plan.seeds.shape == (A.shape[1], plan.num_probes)
    assert plan.products_shape == (A.shape[0], plan.num_probes)
    assert plan.lower_bound <= plan.num_probes
    H = plan.decode(products(plan, A))
    assert isinstance(H, sp.csr_array)
    assert H.shape == A.shape
    assert rel_err(H, A) <= 1e-12, (case, method, plan)


@pytest.mark.parametrize("case", ["band", "grid"])
@pytest.mark.parametrize("method", ["stencil-direct", "stencil-substitution"])
def test_stencil_designers_round_trip(case, method):
    pattern = SYMMETRIC_CASES[case]
    A = random_on(pattern, seed=2)
    plan = sd.design(pattern, "symmetric", method)
    assert plan.designer == method
    assert rel_err(plan.decode(products(plan, A)), A) <= 1e-12


@pytest.mark.parametrize("pattern", [RECT, "band:n=60,k=3", "grid2d:nx=8,ny=7,stencil=5"], ids=["rect", "band", "grid"])
@pytest.mark.parametrize("method", COLUMN_METHODS)
def test_column_designers_round_trip(pattern, method):
    A = random_on(pattern, seed=3, symmetric=False)
    plan = sd.design(pattern, "column", method)
    assert plan.kind == "general" and plan.orientation == "columns"
    assert rel_err(plan.decode(A @ plan.seeds), A) <= 1e-12


@pytest.mark.parametrize("pattern", [RECT, "band:n=60,k=3"], ids=["rect", "band"])
@pytest.mark.parametrize("method", ["auto", "cpr"])
def test_row_designers_round_trip(pattern, method):
    A = random_on(pattern, seed=4, symmetric=False)
    plan = sd.design(pattern, "row", method)
    assert plan.orientation == "rows"
    assert plan.seeds.shape == (A.shape[0], plan.num_probes)
    assert rel_err(plan.decode(A.T @ plan.seeds), A) <= 1e-12


def test_triangles():
    A = random_on("band:n=20,k=2", seed=5)
    plan = sd.design("band:n=20,k=2", method="star")
    B = A @ plan.seeds
    lower = plan.decode(B, triangle="lower")
    upper = plan.decode(B, triangle="upper")
    assert rel_err(lower, sp.tril(A)) <= 1e-12
    assert rel_err(upper, sp.triu(A)) <= 1e-12
    assert lower.nnz == (A.nnz + 20) // 2
    with pytest.raises(ValueError):
        plan.decode(B, triangle="diagonal")


def test_decode_values_fast_path_and_out():
    A = random_on("band:n=30,k=2", seed=6)
    plan = sd.design("band:n=30,k=2", method="acyclic")
    B = A @ plan.seeds
    v = plan.decode_values(B)
    np.testing.assert_allclose(v, A.data, rtol=1e-12)
    out = np.empty(plan.pattern.nnz)
    r = plan.decode_values(B, out=out)
    assert r is out or np.shares_memory(r, out)
    np.testing.assert_allclose(out, A.data, rtol=1e-12)


def test_products_in_any_layout_and_float_dtype():
    A = random_on("band:n=30,k=2", seed=7)
    plan = sd.design("band:n=30,k=2", method="star")
    B = A @ plan.seeds
    ref = plan.decode(B)
    for b in [np.asfortranarray(B), np.ascontiguousarray(B), B.tolist()]:
        assert rel_err(plan.decode(b), ref) == 0
    wide = np.zeros((B.shape[0], 2 * B.shape[1]))
    wide[:, ::2] = B  # a strided view: no copy
    assert rel_err(plan.decode(wide[:, ::2]), ref) == 0
    f32 = plan.decode(B.astype(np.float32))
    assert rel_err(f32, ref) < 1e-6


# --- the Rust library's known answers ------------------------------------------------------


def test_known_probe_counts():
    # a band of half-bandwidth β: acyclic β+1, star and roll 2β+1 (crates/probe docs)
    band = "band:n=100,k=2"
    assert sd.design(band, method="acyclic").num_probes == 3
    assert sd.design(band, method="roll").num_probes == 5
    assert sd.design(band, method="star").num_probes == 5
    # tridiagonal: acyclic 2 colours, star 3
    assert sd.color("band:n=100,k=1", method="acyclic").num_colors == 2
    assert sd.color("band:n=100,k=1", method="star").num_colors == 3
    # the 5-point grid: the closed-form substitution design, 3 probes (AutoDesigner docs)
    plan = sd.design("grid2d:nx=30,ny=30,stencil=5")
    assert (plan.num_probes, plan.designer) == (3, "stencil-substitution")
    # the cartpole L_A Hessian: 4470 entries at N = 100 (CLI tests), acyclic 6 products
    cart = sd.Pattern("cartpole:N=100")
    assert cart.nnz == 4470 and cart.shape == (500, 500)
    assert sd.design(cart, method="acyclic").num_probes == 6
    # the README example: 1000 tridiagonal → 2 probes
    assert sd.design("band:n=1000,k=1").num_probes == 2


def test_plan_info_reports_candidates():
    plan = sd.design("band:n=50,k=3")
    info = plan.info
    assert info["designer"] == plan.designer
    assert info["num_probes"] == plan.num_probes == 4
    assert info["kind"] == "symmetric"
    names = [c["designer"] for c in info["candidates"]]
    assert "acyclic" in names and "star" in names
    assert any(c["probes"] == plan.num_probes for c in info["candidates"])
    assert "Plan(" in repr(plan)


def test_groups_match_seeds():
    plan = sd.design("band:n=40,k=2", method="star")
    g = plan.groups
    S = plan.seeds
    assert g.shape == (40,)
    for j in range(40):
        assert S[j, g[j]] == 1.0 and S[j].sum() == 1.0
    assert sd.design("band:n=40,k=2", method="random").groups is None


# --- against the CLI -----------------------------------------------------------------------

CLI_SPECS = ["band:n=200,k=3", "grid2d:nx=20,ny=20,stencil=5", "grid2d:nx=12,ny=10,stencil=9", "arrow:n=100,width=3", "cartpole:N=20"]


@pytest.mark.parametrize("spec", CLI_SPECS)
def test_probe_counts_match_cli_compare(cli, spec):
    out = subprocess.run([cli, "compare", spec, "--json", "--repeats", "1"], check=True, capture_output=True, text=True)
    report = json.loads(out.stdout)
    assert report["nnz"] == sd.Pattern(spec).nnz
    checked = 0
    for d in report["designers"]:
        if d["probes"] is None:
            continue
        if d["designer"].startswith("bidirectional-"):
            # a plan type of its own (J·Sc and Jᵀ·Sr): BidirectionalPlan
            ours = sd.design_bidirectional(spec, d["designer"])
            assert ours.num_probes == d["probes"], (spec, d)
            continue
        ours = sd.design(spec, "symmetric", d["designer"])
        assert ours.num_probes == d["probes"], (spec, d)
        checked += 1
    assert checked >= 4


@pytest.mark.parametrize("spec", CLI_SPECS)
@pytest.mark.parametrize("method", ["star", "acyclic"])
def test_bidirectional_colors_match_cli_color(cli, spec, method):
    out = subprocess.run(
        [cli, "color", spec, "--json", "--method", method, "--problem", "bidirectional"],
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(out.stdout)
    ours = sd.color(spec, problem="bidirectional", method=method)
    assert ours.num_colors == report["colors"] == report["column_colors"] + report["row_colors"]
    assert ours.valid and report["valid"]


@pytest.mark.parametrize("spec", CLI_SPECS)
@pytest.mark.parametrize("method", ["star", "acyclic", "cpr", "d2"])
def test_colors_match_cli_color(cli, spec, method):
    problem = "column" if method == "cpr" else "symmetric"
    out = subprocess.run(
        [cli, "color", spec, "--json", "--method", method, "--problem", problem], check=True, capture_output=True, text=True
    )
    report = json.loads(out.stdout)
    ours = sd.color(spec, problem=problem, method=method)
    assert ours.num_colors == report["colors"]
    assert ours.lower_bound == report["lower_bound"]
    assert ours.valid and report["valid"]
