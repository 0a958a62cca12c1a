"""JAX adapter: sparse Hessians and Jacobians of JAX functions.

The products are ``jax.vmap`` over ``jax.jvp`` of ``jax.grad`` (Hessians), ``jax.jvp``
(column plans) or ``jax.vjp`` (row plans); the product part is a pure function of
(x, S), jitted once per function (``SparseHessian`` / ``SparseJacobian`` keep it), and
sparsediff decodes the products on the host into a ``scipy.sparse.csr_array``::

    import jax, jax.numpy as jnp, sparsediff as sd, sparsediff.jax as sdj
    jax.config.update("jax_enable_x64", True)   # float64 products: 1e-15 decodes

    h = sdj.SparseHessian(f, sd.design("band:n=1000,k=2"))
    H = h(x)                                       # csr_array

Use float64 (``jax_enable_x64``) for exact decodes; float32 products decode to float32
accuracy.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from . import BidirectionalPlan, DiagonalPlan, Pattern, Plan, design, design_diagonal

__all__ = [
    "hessian",
    "jacobian",
    "hessian_products",
    "hessian_diagonal",
    "jacobian_products",
    "hessian_pattern",
    "jacobian_pattern",
    "SparseHessian",
    "SparseJacobian",
    "MAX_DETECT_N",
]

#: Largest dimension for which a pattern is detected by dense probing.
MAX_DETECT_N = 4096


def hessian_products(f: Callable, x, seeds):
    """H(x)·S for an n×p seed matrix S: ``vmap`` of ``jvp`` of ``grad`` (jit-compatible)."""
    g = jax.grad(f)

    def hvp(v):
        return jax.jvp(g, (x,), (v,))[1]

    return jax.vmap(hvp, in_axes=1, out_axes=1)(seeds)


def jacobian_products(f: Callable, x, seeds, orientation: str = "columns"):
    """J(x)·S ("columns": JVPs) or J(x)ᵀ·S ("rows": VJPs), vmapped (jit-compatible)."""
    if orientation == "columns":
        return jax.vmap(lambda v: jax.jvp(f, (x,), (v,))[1], in_axes=1, out_axes=1)(seeds)
    if orientation == "rows":
        _, pull = jax.vjp(f, x)
        return jax.vmap(lambda u: pull(u)[0], in_axes=1, out_axes=1)(seeds)
    raise ValueError(f"orientation must be 'columns' or 'rows', not {orientation!r}")


def _check_x(x):
    x = jnp.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array, got shape {x.shape}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"x must be a floating-point array, got {x.dtype}")
    return x


def _check_plan(plan: Plan, x) -> None:
    if plan.pattern.ncols != x.shape[0]:
        raise ValueError(f"the plan is for {plan.pattern.ncols} variables, x has {x.shape[0]}")


def _points(x, points: int, seed: int):
    key = jax.random.PRNGKey(seed)
    yield x
    for _ in range(points - 1):
        key, sub = jax.random.split(key)
        yield x + 0.1 * jax.random.normal(sub, x.shape, x.dtype) * (1 + jnp.abs(x))


def hessian_pattern(f: Callable, x, *, points: int = 3, seed: int = 0) -> Pattern:
    """The Hessian's pattern by probing (dense Hessians at x and nearby points,
    symmetrised; n ≤ ``MAX_DETECT_N``)."""
    x = _check_x(x)
    n = x.shape[0]
    if n > MAX_DETECT_N:
        raise ValueError(f"pattern detection by probing is for n <= {MAX_DETECT_N} (n = {n}); pass a pattern or plan")
    eye = jnp.eye(n, dtype=x.dtype)
    nz = np.zeros((n, n), dtype=bool)
    for y in _points(x, points, seed):
        nz |= np.asarray(hessian_products(f, y, eye)) != 0
    nz |= nz.T
    np.fill_diagonal(nz, True)
    return Pattern(nz)


def jacobian_pattern(f: Callable, x, *, points: int = 3, seed: int = 0) -> Pattern:
    """The Jacobian's pattern by probing (n JVPs at a few points)."""
    x = _check_x(x)
    n = x.shape[0]
    if n > MAX_DETECT_N:
        raise ValueError(f"pattern detection by probing is for n <= {MAX_DETECT_N} (n = {n}); pass a pattern or plan")
    eye = jnp.eye(n, dtype=x.dtype)
    nz = None
    for y in _points(x, points, seed):
        here = np.asarray(jacobian_products(f, y, eye)) != 0
        nz = here if nz is None else nz | here
    return Pattern(nz)


def hessian_diagonal(
    f: Callable,
    x,
    plan: Optional[Any] = None,
    *,
    method: str = "exact",
    probes: Optional[int] = None,
    seed: int = 0,
    with_errors: bool = False,
):
    """The diagonal of the Hessian of scalar ``f`` at ``x`` (numpy) from a ``DiagonalPlan``
    (its HVPs vmapped); as ``sparsediff.torch.hessian_diagonal``."""
    x = _check_x(x)
    if not isinstance(plan, DiagonalPlan):
        if plan is None and method == "exact":
            plan = hessian_pattern(f, x)
        plan = design_diagonal(plan, method, n=x.shape[0], probes=probes, seed=seed)
    if plan.n != x.shape[0]:
        raise ValueError(f"the plan is for {plan.n} variables, x has {x.shape[0]}")
    B = np.asarray(hessian_products(f, x, jnp.asarray(plan.seeds, dtype=x.dtype)))
    return plan.decode_with_errors(B) if with_errors else plan.decode(B)


def _plan(plan, detect, kind, method) -> Plan:
    if isinstance(plan, (Plan, BidirectionalPlan)):
        return plan
    if plan is None:
        plan = detect()
    return design(plan, kind, method)


class SparseHessian:
    """A prepared sparse Hessian: seeds on the device, the product function jitted once.
    ``SparseHessian(f, plan)(x)`` → csr_array; ``.products(x)`` is the jitted part."""

    def __init__(self, f: Callable, plan: Any, *, method: str = "auto", jit: bool = True):
        self.f = f
        self.plan = plan if isinstance(plan, Plan) else design(plan, "symmetric", method)
        self.seeds = jnp.asarray(self.plan.seeds)
        fn = lambda x, s: hessian_products(f, x, s)  # noqa: E731
        self._products = jax.jit(fn) if jit else fn

    def products(self, x):
        x = _check_x(x)
        _check_plan(self.plan, x)
        return self._products(x, self.seeds.astype(x.dtype))

    def values(self, x, out: Optional[np.ndarray] = None) -> np.ndarray:
        return self.plan.decode_values(np.asarray(self.products(x)), out=out)

    def __call__(self, x, triangle: Optional[str] = None):
        return self.plan.decode(np.asarray(self.products(x)), triangle=triangle)


class SparseJacobian:
    """A prepared sparse Jacobian (column plans: JVPs; row plans: VJPs; a
    ``BidirectionalPlan``: both, ``products`` then returns the pair), jitted products."""

    def __init__(self, f: Callable, plan: Any, *, method: str = "auto", kind: str = "column", jit: bool = True):
        self.f = f
        self.plan = plan if isinstance(plan, (Plan, BidirectionalPlan)) else design(plan, kind, method)
        if isinstance(self.plan, BidirectionalPlan):
            self.seeds = (jnp.asarray(self.plan.column_seeds), jnp.asarray(self.plan.row_seeds))
            with_jvps = self.plan.num_column_probes > 0
            with_vjps = self.plan.num_row_probes > 0

            def fn(x, s):
                b = jacobian_products(f, x, s[0], "columns") if with_jvps else None
                c = jacobian_products(f, x, s[1], "rows") if with_vjps else None
                return b, c
        else:
            self.seeds = jnp.asarray(self.plan.seeds)
            orientation = self.plan.orientation
            fn = lambda x, s: jacobian_products(f, x, s, orientation)  # noqa: E731
        self._products = jax.jit(fn) if jit else fn

    def products(self, x):
        x = _check_x(x)
        _check_plan(self.plan, x)
        if isinstance(self.seeds, tuple):
            return self._products(x, tuple(s.astype(x.dtype) for s in self.seeds))
        return self._products(x, self.seeds.astype(x.dtype))

    def __call__(self, x):
        if isinstance(self.plan, BidirectionalPlan):
            b, c = self.products(x)
            return self.plan.decode(None if b is None else np.asarray(b), None if c is None else np.asarray(c))
        return self.plan.decode(np.asarray(self.products(x)))


def hessian(f: Callable, x, plan: Optional[Any] = None, *, method: str = "auto", triangle: Optional[str] = None, jit: bool = False):
    """The sparse Hessian of scalar ``f`` at ``x`` (csr_array). ``plan``: a Plan, a pattern
    for ``design``, or None (detected by probing). For repeated calls keep a
    ``SparseHessian`` (its product function is jitted once)."""
    x = _check_x(x)
    plan = _plan(plan, lambda: hessian_pattern(f, x), "symmetric", method)
    return SparseHessian(f, plan, jit=jit)(x, triangle=triangle)


def jacobian(f: Callable, x, plan: Optional[Any] = None, *, method: str = "auto", kind: str = "column", jit: bool = False):
    """The sparse Jacobian of vector-valued ``f`` at ``x`` (csr_array). ``plan``: a Plan, a
    ``BidirectionalPlan``, a pattern designed as ``kind`` ("column", "row" or
    "bidirectional"), or None (detected by probing)."""
    x = _check_x(x)
    plan = _plan(plan, lambda: jacobian_pattern(f, x), kind, method)
    return SparseJacobian(f, plan, jit=jit)(x)
