"""sparsediff.jax against jax.hessian / jax.jacfwd."""

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX is not installed: pip install './python[jax]'")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

import sparsediff as sd  # noqa: E402
import sparsediff.jax as sdj  # noqa: E402


def chain(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum() + (x**4).sum() + (x[2:] * x[:-2]).sum()


def residuals(x):
    return jnp.sin(x[1:]) * x[:-1] + x[0] ** 2 - x[1:] ** 3


def rel(a, b):
    b = np.asarray(b)
    return np.abs(np.asarray(a) - b).max() / np.abs(b).max()


X = np.linspace(-1.2, 1.3, 40)


@pytest.mark.parametrize("method", ["auto", "acyclic", "star", "roll", "symmetric-random"])
@pytest.mark.parametrize("jit", [False, True])
def test_hessian_matches_jax_hessian(method, jit):
    x = jnp.asarray(X)
    plan = sd.design("band:n=40,k=2", method=method)
    H = sdj.hessian(chain, x, plan, jit=jit)
    assert rel(H.toarray(), jax.hessian(chain)(x)) <= 1e-12


def test_sparse_hessian_jitted_reuse():
    h = sdj.SparseHessian(chain, "band:n=40,k=2")
    for shift in (0.0, 0.3):
        x = jnp.asarray(X + shift)
        assert rel(h(x).toarray(), jax.hessian(chain)(x)) <= 1e-12
    # the product part is a jitted pure function of (x, S)
    B = h.products(jnp.asarray(X))
    assert B.shape == (40, h.plan.num_probes)


def test_pattern_detection():
    x = jnp.asarray(X)
    assert sdj.hessian_pattern(chain, x) == sd.Pattern("band:n=40,k=2")
    H = sdj.hessian(chain, x)
    assert rel(H.toarray(), jax.hessian(chain)(x)) <= 1e-12


@pytest.mark.parametrize("kind", ["column", "row"])
def test_jacobian_matches_jacfwd(kind):
    x = jnp.asarray(X)
    plan = sd.design(sdj.jacobian_pattern(residuals, x), kind)
    J = sdj.jacobian(residuals, x, plan, jit=True)
    assert rel(J.toarray(), jax.jacfwd(residuals)(x)) <= 1e-12
    J2 = sdj.jacobian(residuals, x)
    assert rel(J2.toarray(), jax.jacfwd(residuals)(x)) <= 1e-12


def test_bad_input():
    with pytest.raises(ValueError, match="variables"):
        sdj.hessian(chain, jnp.ones(40), sd.design("band:n=41,k=1"))
    with pytest.raises(ValueError):
        sdj.hessian(chain, jnp.ones((2, 20)), sd.design("band:n=40,k=1"))
    with pytest.raises(TypeError):
        sdj.hessian(chain, jnp.ones(40, dtype=jnp.int32), sd.design("band:n=40,k=1"))
    with pytest.raises(sd.DecodeError):
        sdj.hessian(lambda x: jnp.sqrt(x).sum(), -jnp.ones(40), sd.design("band:n=40,k=2"))


def arrow_residuals(x):
    return jnp.concatenate([x.sum().reshape(1), x[1:] ** 3 + x[0] * x[1:]])


@pytest.mark.parametrize("jit", [False, True])
def test_bidirectional_jacobian_matches_jacfwd(jit):
    x = jnp.linspace(-1.0, 1.0, 120)
    dense = np.asarray(jax.jacfwd(arrow_residuals)(x))
    plan = sd.design(sd.Pattern(dense != 0), "bidirectional")
    assert plan.num_probes <= 3
    J = sdj.jacobian(arrow_residuals, x, plan, jit=jit)
    assert rel(J.toarray(), dense) <= 1e-13
    sj = sdj.SparseJacobian(arrow_residuals, plan)
    b, c = sj.products(x)
    assert b.shape == plan.column_products_shape and c.shape == plan.row_products_shape
    assert rel(sdj.jacobian(arrow_residuals, x, kind="bidirectional").toarray(), dense) <= 1e-13


def test_hessian_diagonal_matches_jax_hessian():
    x = jnp.asarray(X)
    dense = np.diag(np.asarray(jax.hessian(chain)(x)))
    assert rel(sdj.hessian_diagonal(chain, x), dense) <= 1e-12
    d, e = sdj.hessian_diagonal(chain, x, method="hutchinson", probes=2000, with_errors=True)
    assert np.abs((d - dense) / e).max() < 5.5
