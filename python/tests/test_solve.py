"""The solver crate's factorisations against scipy."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import sparsediff as sd
from conftest import random_on


@pytest.mark.parametrize("cls", [sd.BandLDLT, sd.SparseLDLT, sd.SparseCholesky])
def test_factorisations_solve_spd(cls):
    spec = "band:n=80,k=3" if cls is sd.BandLDLT else "grid2d:nx=9,ny=8,stencil=5"
    A = random_on(spec, seed=21)
    f = cls(spec)
    inertia = f.factorize(A)
    if cls is not sd.SparseCholesky:
        assert inertia == (A.shape[0], 0, 0)
    b = np.arange(A.shape[0], dtype=float)
    x = f.solve(b)
    np.testing.assert_allclose(A @ x, b, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(x, spla.spsolve(A.tocsc(), b), rtol=1e-10)
    X = f.solve(np.stack([b, 2 * b, -b], axis=1))
    np.testing.assert_allclose(A @ X, np.stack([b, 2 * b, -b], axis=1), rtol=1e-10, atol=1e-10)
    # refactorise with new values, same object
    f.factorize(2.0 * A.data)
    np.testing.assert_allclose(f.solve(b), x / 2, rtol=1e-10)


def test_band_ldlt_inertia_and_shift():
    spec = "band:n=30,k=2"
    A = random_on(spec, seed=22)
    f = sd.BandLDLT(spec)
    assert f.beta == 2 and f.n == 30
    shift = -float(np.max(A.diagonal())) - 10
    pos, neg, zero = f.factorize(A, shift=shift)
    assert (pos, neg, zero) == (0, 30, 0)
    b = np.ones(30)
    x = f.solve(b)
    np.testing.assert_allclose((A + shift * sp.eye(30)) @ x, b, rtol=1e-10, atol=1e-12)
    assert f.inertia == (0, 30, 0)


def test_solve_banded_decoded_hessian():
    spec = "cartpole:N=20"
    A = random_on(spec, seed=23)
    plan = sd.design(spec, method="acyclic")
    H = plan.decode(A @ plan.seeds)
    b = np.linspace(-1, 1, A.shape[0])
    x = sd.solve_banded(H, b)
    np.testing.assert_allclose(A @ x, b, rtol=1e-9, atol=1e-10)


def rosenbrock(x):
    return float((100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum())


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    t = x[1:] - x[:-1] ** 2
    g[:-1] += -400 * x[:-1] * t - 2 * (1 - x[:-1])
    g[1:] += 200 * t
    return g


def rosenbrock_hess(x):
    n = x.size
    d = np.zeros(n)
    d[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    d[1:] += 200
    off = -400 * x[:-1]
    return sp.diags([off, d, off], [-1, 0, 1], format="csr")


@pytest.mark.parametrize("method", ["newton", "trust-region"])
def test_minimize_rosenbrock(method):
    n = 50
    x0 = np.full(n, -1.0)
    x0[::2] = 1.2
    res = sd.minimize(rosenbrock, rosenbrock_grad, rosenbrock_hess, x0, "band:n=50,k=1", method=method, max_iterations=500)
    assert res["converged"], res["status"]
    np.testing.assert_allclose(res["x"], np.ones(n), atol=1e-6)
    assert res["grad_inf"] <= 1e-8
    if method == "newton":
        assert res["factorization"] == "band"


def test_minimize_errors():
    with pytest.raises(ZeroDivisionError):
        sd.minimize(lambda x: 1 / 0, rosenbrock_grad, rosenbrock_hess, np.ones(5), "band:n=5,k=1")
    with pytest.raises(ValueError, match="grad returned"):
        sd.minimize(rosenbrock, lambda x: np.ones(3), rosenbrock_hess, np.zeros(5), "band:n=5,k=1")
    with pytest.raises(ValueError, match="method"):
        sd.minimize(rosenbrock, rosenbrock_grad, rosenbrock_hess, np.zeros(5), "band:n=5,k=1", method="bfgs")
    with pytest.raises(sd.SolveError):
        sd.minimize(rosenbrock, rosenbrock_grad, rosenbrock_hess, np.full(5, np.nan), "band:n=5,k=1")
