"""PyTorch adapter: sparse Hessians and Jacobians of torch functions.

All p products of a plan are computed in one batched call — a batched backward pass over
the gradient's graph (reverse over reverse, ``is_grads_batched``; or ``torch.func.vmap``
of forward over reverse with ``mode="forward"``) for Hessians, ``torch.func.vmap`` over a
JVP (column plans) or a VJP (row plans) for Jacobians — and decoded by sparsediff into a ``scipy.sparse.csr_array``::

    import torch, sparsediff as sd, sparsediff.torch as sdt

    f = lambda x: ((x[1:] - x[:-1] ** 2) ** 2).sum() + (x ** 4).sum()
    x = torch.randn(1000, dtype=torch.float64)
    plan = sd.design("band:n=1000,k=1")      # 2 probes
    H = sdt.hessian(f, x, plan)              # csr_array, 2 HVPs in one vmap

Without a plan, the pattern is detected once by probing (dense products at a few points:
for moderate n only) and a plan designed for it.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np
import torch
from torch.func import grad, jvp, vmap

from . import BandLDLT, BidirectionalPlan, DiagonalPlan, Pattern, Plan, SparseLDLT, design, design_diagonal

__all__ = [
    "hessian",
    "jacobian",
    "hessian_products",
    "jacobian_products",
    "bidirectional_products",
    "hessian_diagonal",
    "hessian_pattern",
    "jacobian_pattern",
    "SparseHessian",
    "newton_step",
    "MAX_DETECT_N",
]

#: Largest dimension for which a pattern is detected by dense probing.
MAX_DETECT_N = 4096


def _seeds(plan: Plan, x: torch.Tensor) -> torch.Tensor:
    n = plan.pattern.ncols if plan.orientation == "columns" else plan.pattern.nrows
    if plan.orientation == "columns" and n != x.shape[0]:
        raise ValueError(f"the plan is for {n} variables, x has {x.shape[0]}")
    if plan.orientation == "rows" and plan.pattern.ncols != x.shape[0]:
        raise ValueError(f"the plan is for {plan.pattern.ncols} variables, x has {x.shape[0]}")
    return torch.as_tensor(plan.seeds, dtype=x.dtype, device=x.device)


def hessian_products(f: Callable, x: torch.Tensor, seeds: torch.Tensor, mode: str = "reverse") -> torch.Tensor:
    """H(x)·S for an n×p seed matrix S, all p HVPs in one batched call.

    ``mode="reverse"`` (default): reverse over reverse — one gradient with
    ``create_graph=True``, then one batched backward pass over the p seeds
    (``torch.autograd.grad(..., is_grads_batched=True)``, vmap inside autograd).
    ``mode="forward"``: ``torch.func.vmap`` of ``jvp`` of ``grad`` (forward over reverse).
    Both give the same products; on the cartpole L_A (N = 100, one thread) reverse took
    1.4 ms, forward 12–19 ms (torch 2.15, papers/python.md).
    """
    if mode == "reverse":
        xr = x.detach().requires_grad_(True)
        with torch.enable_grad():
            y = f(xr)
            (g,) = torch.autograd.grad(y, xr, create_graph=True)
            (hs,) = torch.autograd.grad(g, xr, grad_outputs=seeds.T.contiguous(), is_grads_batched=True)
        return hs.T
    if mode == "forward":
        g = grad(f)

        def hvp(v):
            return jvp(g, (x,), (v,))[1]

        return vmap(hvp, in_dims=1, out_dims=1)(seeds)
    raise ValueError(f"mode must be 'reverse' or 'forward', not {mode!r}")


def jacobian_products(f: Callable, x: torch.Tensor, seeds: torch.Tensor, orientation: str = "columns") -> torch.Tensor:
    """J(x)·S (orientation "columns", S n×p: JVPs in one ``torch.func.vmap``) or J(x)ᵀ·S
    ("rows", S m×p: VJPs, one batched backward pass)."""
    if orientation == "columns":
        def push(v):
            return jvp(f, (x,), (v,))[1]

        return vmap(push, in_dims=1, out_dims=1)(seeds)
    if orientation == "rows":
        # one forward pass, one batched backward pass over the p seeds
        xr = x.detach().requires_grad_(True)
        with torch.enable_grad():
            y = f(xr)
            (back,) = torch.autograd.grad(y, xr, grad_outputs=seeds.T.contiguous(), is_grads_batched=True)
        return back.T
    raise ValueError(f"orientation must be 'columns' or 'rows', not {orientation!r}")


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _check_x(x: Any) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D tensor, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
    return x


def _probe_points(x: torch.Tensor, points: int, seed: int):
    gen = torch.Generator(device="cpu").manual_seed(seed)
    yield x
    for _ in range(points - 1):
        noise = torch.randn(x.shape, generator=gen, dtype=x.dtype).to(x.device)
        yield x + 0.1 * noise * (1 + x.abs())


def hessian_pattern(f: Callable, x: torch.Tensor, *, points: int = 3, seed: int = 0, mode: str = "reverse") -> Pattern:
    """The Hessian's pattern by probing: the nonzeros of dense Hessians (n HVPs in one
    vmap) at x and ``points - 1`` random points near it, symmetrised. For n ≤
    ``MAX_DETECT_N``; an entry that is zero at every point is missed."""
    x = _check_x(x)
    n = x.shape[0]
    if n > MAX_DETECT_N:
        raise ValueError(f"pattern detection by probing is for n <= {MAX_DETECT_N} (n = {n}); pass a pattern or plan")
    eye = torch.eye(n, dtype=x.dtype, device=x.device)
    nz = np.zeros((n, n), dtype=bool)
    for y in _probe_points(x, points, seed):
        nz |= _numpy(hessian_products(f, y, eye, mode)) != 0
    nz |= nz.T
    np.fill_diagonal(nz, True)
    return Pattern(nz)


def jacobian_pattern(f: Callable, x: torch.Tensor, *, points: int = 3, seed: int = 0) -> Pattern:
    """The Jacobian's pattern by probing (n JVPs in one vmap at a few points)."""
    x = _check_x(x)
    n = x.shape[0]
    if n > MAX_DETECT_N:
        raise ValueError(f"pattern detection by probing is for n <= {MAX_DETECT_N} (n = {n}); pass a pattern or plan")
    eye = torch.eye(n, dtype=x.dtype, device=x.device)
    nz = None
    for y in _probe_points(x, points, seed):
        here = _numpy(jacobian_products(f, y, eye, "columns")) != 0
        nz = here if nz is None else nz | here
    return Pattern(nz)


def hessian(
    f: Callable,
    x: torch.Tensor,
    plan: Optional[Any] = None,
    *,
    method: str = "auto",
    triangle: Optional[str] = None,
    mode: str = "reverse",
):
    """The sparse Hessian of scalar ``f`` at ``x`` as a ``scipy.sparse.csr_array``.

    ``plan``: a symmetric Plan, or anything ``design`` takes as a pattern (it is then
    designed with ``method``), or None (the pattern is detected by probing first).
    ``mode``: how the products are taken (see ``hessian_products``).
    """
    x = _check_x(x)
    plan = _plan(plan, lambda: hessian_pattern(f, x, mode=mode), "symmetric", method)
    B = hessian_products(f, x, _seeds(plan, x), mode)
    return plan.decode(_numpy(B), triangle=triangle)


def jacobian(f: Callable, x: torch.Tensor, plan: Optional[Any] = None, *, method: str = "auto", kind: str = "column"):
    """The sparse Jacobian of vector-valued ``f`` at ``x`` as a ``scipy.sparse.csr_array``
    (column plans: JVPs; row plans, ``design(p, kind="row")``: VJPs; a
    ``BidirectionalPlan``: its JVPs in one vmap and its VJPs in one batched backward pass).
    ``kind`` is what a pattern (or the detected one) is designed as: "column", "row" or
    "bidirectional"."""
    x = _check_x(x)
    plan = _plan(plan, lambda: jacobian_pattern(f, x), kind, method)
    if isinstance(plan, BidirectionalPlan):
        return plan.decode(*bidirectional_products(f, x, plan))
    B = jacobian_products(f, x, _seeds(plan, x), plan.orientation)
    return plan.decode(_numpy(B))


def bidirectional_products(f: Callable, x: torch.Tensor, plan: BidirectionalPlan):
    """The two blocks of a ``BidirectionalPlan`` as numpy arrays: J·Sc (JVPs) and Jᵀ·Sr
    (VJPs); None for a block of no products."""
    m, n = plan.pattern.nrows, plan.pattern.ncols
    if n != x.shape[0]:
        raise ValueError(f"the plan is for {n} variables, x has {x.shape[0]}")
    B = C = None
    if plan.num_column_probes > 0:
        sc = torch.as_tensor(plan.column_seeds, dtype=x.dtype, device=x.device)
        B = _numpy(jacobian_products(f, x, sc, "columns"))
    if plan.num_row_probes > 0:
        sr = torch.as_tensor(plan.row_seeds, dtype=x.dtype, device=x.device)
        C = _numpy(jacobian_products(f, x, sr, "rows"))
    if B is not None and B.shape[0] != m or C is not None and C.shape[0] != n:
        raise ValueError(f"f(x) does not match the plan's {m}×{n} pattern")
    return B, C


def hessian_diagonal(
    f: Callable,
    x: torch.Tensor,
    plan: Optional[Any] = None,
    *,
    method: str = "exact",
    probes: Optional[int] = None,
    seed: int = 0,
    with_errors: bool = False,
    mode: str = "reverse",
):
    """The diagonal of the Hessian of scalar ``f`` at ``x`` (numpy), from a ``DiagonalPlan``
    (all its HVPs in one batched call). ``plan``: a DiagonalPlan, a pattern (designed with
    ``method``), or None: ``method="exact"`` detects the pattern by probing first (n ≤
    ``MAX_DETECT_N``), ``method="hutchinson"`` needs only ``probes``. ``with_errors=True``
    returns (diagonal, standard errors)."""
    x = _check_x(x)
    if not isinstance(plan, DiagonalPlan):
        if plan is None and method == "exact":
            plan = hessian_pattern(f, x, mode=mode)
        plan = design_diagonal(plan, method, n=x.shape[0], probes=probes, seed=seed)
    if plan.n != x.shape[0]:
        raise ValueError(f"the plan is for {plan.n} variables, x has {x.shape[0]}")
    seeds = torch.as_tensor(plan.seeds, dtype=x.dtype, device=x.device)
    B = _numpy(hessian_products(f, x, seeds, mode))
    return plan.decode_with_errors(B) if with_errors else plan.decode(B)


def _plan(plan, detect, kind, method) -> Plan:
    if isinstance(plan, (Plan, BidirectionalPlan)):
        return plan
    if plan is None:
        plan = detect()
    return design(plan, kind, method)


class SparseHessian:
    """A prepared sparse Hessian of ``f``: the plan's seeds kept as a tensor, products and
    decode on every call. ``SparseHessian(f, plan)(x)`` → csr_array."""

    def __init__(self, f: Callable, plan: Any, *, method: str = "auto", dtype=torch.float64, device=None, mode: str = "reverse"):
        self.f = f
        self.mode = mode
        self.plan = plan if isinstance(plan, Plan) else design(plan, "symmetric", method)
        self.seeds = torch.as_tensor(self.plan.seeds, dtype=dtype, device=device)

    def products(self, x: torch.Tensor) -> torch.Tensor:
        x = _check_x(x)
        _seeds(self.plan, x)  # checks the size
        return hessian_products(self.f, x, self.seeds.to(dtype=x.dtype, device=x.device), self.mode)

    def values(self, x: torch.Tensor, out: Optional[np.ndarray] = None) -> np.ndarray:
        """The Hessian's values in the pattern's entry order."""
        return self.plan.decode_values(_numpy(self.products(x)), out=out)

    def __call__(self, x: torch.Tensor, triangle: Optional[str] = None):
        return self.plan.decode(_numpy(self.products(x)), triangle=triangle)


def newton_step(f: Callable, x: torch.Tensor, plan: Any, *, factor=None, shift: float = 0.0, mode: str = "reverse") -> torch.Tensor:
    """The Newton step d solving (H + shift·I)·d = −∇f(x), with the Hessian recovered through
    ``plan`` and factorised by ``factor`` (a ``BandLDLT`` / ``SparseLDLT`` for the plan's
    pattern, reused across steps; default: a BandLDLT, or SparseLDLT if the band is wide)."""
    x = _check_x(x)
    plan = plan if isinstance(plan, Plan) else design(plan, "symmetric")
    if factor is None:
        lower, upper = plan.pattern.bandwidth()
        n = plan.pattern.nrows
        factor = BandLDLT(plan.pattern) if max(lower, upper) * max(lower, upper) <= 4 * plan.pattern.nnz // max(n, 1) + 64 else SparseLDLT(plan.pattern)
    g = grad(f)(x)
    B = hessian_products(f, x, _seeds(plan, x), mode)
    values = plan.decode_values(_numpy(B))
    factor.factorize(values, shift)
    d = factor.solve(-_numpy(g).astype(np.float64))
    return torch.as_tensor(d, dtype=x.dtype, device=x.device)
