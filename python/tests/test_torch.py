"""sparsediff.torch against torch.autograd.functional.hessian / jacobian."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: pip install './python[torch]'")

import sparsediff as sd  # noqa: E402
import sparsediff.torch as sdt  # noqa: E402


def chain(x):
    # chained Rosenbrock + quartic + a coupling two apart: a band of half-bandwidth 2
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum() + (x**4).sum() + (x[2:] * x[:-2]).sum()


def residuals(x):
    # m = n - 1 rows, each touching x[i], x[i+1] and x[0]
    return torch.sin(x[1:]) * x[:-1] + x[0] ** 2 - x[1:] ** 3


def grid_energy(x, nx=6, ny=5):
    u = x.reshape(ny, nx)
    return ((u[:, 1:] - u[:, :-1]) ** 4).sum() + ((u[1:, :] - u[:-1, :]) ** 4).sum() + (u**2).sum()


def rel(a, b):
    a = np.asarray(a)
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.fixture
def x():
    return torch.linspace(-1.2, 1.3, 40, dtype=torch.float64)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("method", ["auto", "acyclic", "star", "roll", "cpr", "symmetric-random", "random"])
def test_hessian_matches_dense(x, method, mode):
    plan = sd.design("band:n=40,k=2", method=method)
    H = sdt.hessian(chain, x, plan, mode=mode)
    ref = torch.autograd.functional.hessian(chain, x).numpy()
    assert rel(H.toarray(), ref) <= 1e-12


def test_hessian_of_grid_with_spec(x):
    y = torch.linspace(-1, 1, 30, dtype=torch.float64)
    H = sdt.hessian(grid_energy, y, "grid2d:nx=6,ny=5,stencil=5")
    ref = torch.autograd.functional.hessian(grid_energy, y).numpy()
    assert rel(H.toarray(), ref) <= 1e-12


def test_hessian_pattern_detected(x):
    p = sdt.hessian_pattern(chain, x)
    assert p == sd.Pattern("band:n=40,k=2")
    H = sdt.hessian(chain, x)  # detect + design + products + decode
    ref = torch.autograd.functional.hessian(chain, x).numpy()
    assert rel(H.toarray(), ref) <= 1e-12


@pytest.mark.parametrize("kind", ["column", "row"])
def test_jacobian_matches_dense(x, kind):
    pattern = sdt.jacobian_pattern(residuals, x)
    assert pattern.shape == (39, 40)
    plan = sd.design(pattern, kind)
    J = sdt.jacobian(residuals, x, plan)
    ref = torch.autograd.functional.jacobian(residuals, x).numpy()
    assert rel(J.toarray(), ref) <= 1e-12
    assert plan.num_probes <= 3 if kind == "column" else True


def test_jacobian_detected(x):
    J = sdt.jacobian(residuals, x)
    ref = torch.autograd.functional.jacobian(residuals, x).numpy()
    assert rel(J.toarray(), ref) <= 1e-12


def test_sparse_hessian_object_and_newton_step(x):
    plan = sd.design("band:n=40,k=2", method="acyclic")
    h = sdt.SparseHessian(chain, plan)
    ref = torch.autograd.functional.hessian(chain, x).numpy()
    assert rel(h(x).toarray(), ref) <= 1e-12
    assert rel(h(x, triangle="lower").toarray(), np.tril(ref)) <= 1e-12
    y = torch.full((40,), 0.5, dtype=torch.float64)
    d = sdt.newton_step(chain, y, plan)
    g = torch.func.grad(chain)(y).numpy()
    Hy = torch.autograd.functional.hessian(chain, y).numpy()
    np.testing.assert_allclose(Hy @ d.numpy(), -g, rtol=1e-9, atol=1e-9)


def test_modes_agree_on_products(x):
    S = torch.as_tensor(sd.design("band:n=40,k=2").seeds)
    a = sdt.hessian_products(chain, x, S, "reverse")
    b = sdt.hessian_products(chain, x, S, "forward")
    assert torch.allclose(a, b, rtol=1e-13, atol=1e-12)
    with pytest.raises(ValueError):
        sdt.hessian_products(chain, x, S, "sideways")


def test_bad_input():
    plan = sd.design("band:n=40,k=2")
    with pytest.raises(TypeError):
        sdt.hessian(chain, np.ones(40), plan)
    with pytest.raises(ValueError):
        sdt.hessian(chain, torch.ones(4, 10, dtype=torch.float64), plan)
    with pytest.raises(ValueError, match="41 variables"):
        sdt.hessian(chain, torch.ones(40, dtype=torch.float64), sd.design("band:n=41,k=1"))
    with pytest.raises(sd.DecodeError) as e:
        sdt.hessian(lambda x: (x.sqrt()).sum(), -torch.ones(40, dtype=torch.float64), plan)
    assert e.value.kind == "NonFinite"


def arrow_residuals(x):
    # F0 = Σ x (a dense row), Fi = x_i³ + x_0·x_i (a dense column): n JVPs or n VJPs alone
    return torch.cat([x.sum().reshape(1), x[1:] ** 3 + x[0] * x[1:]])


def test_bidirectional_jacobian_matches_dense():
    n = 120
    x = torch.linspace(-1, 1, n, dtype=torch.float64)
    dense = torch.autograd.functional.jacobian(arrow_residuals, x).numpy()
    pattern = sd.Pattern(dense != 0)
    plan = sd.design(pattern, "bidirectional")
    assert plan.num_probes <= 3
    J = sdt.jacobian(arrow_residuals, x, plan)
    assert rel(J.toarray(), dense) <= 1e-13
    # detected pattern, designed as bidirectional
    J2 = sdt.jacobian(arrow_residuals, x, kind="bidirectional")
    assert rel(J2.toarray(), dense) <= 1e-13
    B, C = sdt.bidirectional_products(arrow_residuals, x, plan)
    assert B.shape == plan.column_products_shape and C.shape == plan.row_products_shape
    with pytest.raises(ValueError, match="variables"):
        sdt.jacobian(arrow_residuals, x[:-1], plan)


@pytest.mark.parametrize("method", ["exact", "hutchinson"])
def test_hessian_diagonal_matches_dense(method):
    x = torch.linspace(-0.8, 0.9, 40, dtype=torch.float64)
    dense = torch.autograd.functional.hessian(chain, x).numpy()
    if method == "exact":
        d = sdt.hessian_diagonal(chain, x)  # pattern detected, 3 HVPs
        assert rel(d, np.diag(dense)) <= 1e-12
        plan = sd.design_diagonal("band:n=40,k=2")
        assert plan.num_probes == 3
        assert rel(sdt.hessian_diagonal(chain, x, plan), np.diag(dense)) <= 1e-12
    else:
        d, e = sdt.hessian_diagonal(chain, x, method="hutchinson", probes=2000, with_errors=True)
        assert np.abs((d - np.diag(dense)) / e).max() < 5.5
    with pytest.raises(ValueError, match="variables"):
        sdt.hessian_diagonal(chain, x[:-1], sd.design_diagonal("band:n=40,k=2"))
