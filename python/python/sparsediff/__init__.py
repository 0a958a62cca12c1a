"""sparsediff: sparse Jacobians and Hessians from a few matrix-vector products.

Your framework (PyTorch, JAX, anything) computes the products; sparsediff designs the
probes, decodes the products into a ``scipy.sparse.csr_array`` and solves with it::

    import numpy as np, sparsediff as sd

    plan = sd.design("band:n=1000,k=3", kind="symmetric", method="acyclic")
    S = plan.seeds                      # 1000 x 4: four Hessian-vector products
    B = H @ S                           # ... computed by your framework
    H_rec = plan.decode(B)              # scipy.sparse.csr_array, 1000 x 1000

Patterns (``Pattern``) come from scipy sparse matrices or arrays, generator specs
(``"band:n=1000,k=3"``, ``"grid2d:nx=30,ny=30,stencil=5"``, ``"cartpole:N=100"``, ...),
Matrix Market files and index arrays ``(rows, cols)`` with ``shape=``. Every function that
takes a pattern takes any of these directly.

The framework adapters are optional imports: ``sparsediff.torch`` and ``sparsediff.jax``.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any, Optional

import numpy as np

from . import _native
from ._errors import (
    ColoringError,
    DecodeError,
    DesignError,
    PatternError,
    SavedPlanError,
    SolveError,
    SparseDiffError,
    VerifyError,
)

Pattern = _native.Pattern
Plan = _native.Plan
BidirectionalPlan = _native.BidirectionalPlan
DiagonalPlan = _native.DiagonalPlan
BandLDLT = _native.BandLDLT
SparseLDLT = _native.SparseLDLT
SparseCholesky = _native.SparseCholesky
probe_vector = _native.probe_vector
DEFAULT_RANK_TOL = _native.DEFAULT_RANK_TOL

__version__ = "0.1.0"

__all__ = [
    "Pattern",
    "Plan",
    "BidirectionalPlan",
    "design",
    "design_bidirectional",
    "DiagonalPlan",
    "design_diagonal",
    "color",
    "decode_from_samples",
    "load_plan",
    "probe_vector",
    "BandLDLT",
    "SparseLDLT",
    "SparseCholesky",
    "solve_banded",
    "minimize",
    "Coloring",
    "SampleDecode",
    "SparseDiffError",
    "PatternError",
    "ColoringError",
    "DesignError",
    "DecodeError",
    "SolveError",
    "SavedPlanError",
    "VerifyError",
]

#: What ``design`` accepts as ``method``.
METHODS = (
    "auto",
    "identity",
    "roll",
    "cpr",
    "cpr-row",
    "d2",
    "star",
    "acyclic",
    "random",
    "symmetric-random",
    "stencil-direct",
    "stencil-substitution",
)


def design(
    pattern: Any,
    kind: str = "symmetric",
    method: str = "auto",
    *,
    order: Optional[str] = None,
    seed: int = 0,
    oversampling: Optional[int] = None,
    probes: Optional[int] = None,
    distribution: str = "gaussian",
) -> Plan:
    """Designs probes for ``pattern`` and prepares their decoder.

    Parameters
    ----------
    pattern : Pattern, scipy sparse matrix/array, spec string, .mtx path, or (rows, cols, shape)
    kind : "symmetric" (a Hessian: products H·S), "column" (a Jacobian, products J·S:
        JVPs), "row" (a Jacobian, products Jᵀ·S: VJPs) or "bidirectional" (a Jacobian,
        some JVPs and some VJPs: returns a ``BidirectionalPlan``, see
        ``design_bidirectional``; ``method`` is then "auto", "star" or "acyclic").
    method : "auto" (the fewest probes among the exact designers, direct recovery
        preferred), "identity", "roll", "cpr", "cpr-row", "d2", "star", "acyclic",
        "random", "symmetric-random", "stencil-direct", "stencil-substitution".
    order : vertex order of the colourings ("natural", "largest-first", "smallest-last",
        "incidence-degree", "dynamic-largest-first", "dsatur", "perfect-elimination",
        "random:SEED", "best"); default: the designer's own (every order, best of
        them, for a single colouring designer; the fast orders for "auto").
    seed, oversampling, probes, distribution : the random designers' settings.

    Returns
    -------
    Plan with ``.seeds`` (n×p float64), ``.num_probes``, ``.lower_bound``, ``.info`` and
    ``.decode(products, triangle=None)``.
    """
    if isinstance(kind, str) and kind.lower() == "bidirectional":
        random_settings = {"seed": seed != 0, "oversampling": oversampling is not None,
                           "probes": probes is not None, "distribution": distribution != "gaussian"}
        given = [name for name, set_ in random_settings.items() if set_]
        if given:
            raise ValueError(f"{', '.join(given)}: random designers' settings, not for kind='bidirectional'")
        return design_bidirectional(pattern, method, order=order)
    return _native.design(
        pattern,
        kind,
        method,
        order=order,
        seed=seed,
        oversampling=oversampling,
        probes=probes,
        distribution=distribution,
    )


def design_bidirectional(pattern: Any, method: str = "auto", *, order: Optional[str] = None) -> BidirectionalPlan:
    """A Jacobian plan taking some products as JVPs and some as VJPs (Coleman–Verma
    bicolouring): on a Jacobian with a dense row *and* a dense column (an arrowhead), 3
    products where JVPs alone or VJPs alone need n.

    ``method``: "star" (every entry read from one product), "acyclic" (fewer products,
    recovered by substitution) or "auto" (both; the fewer products, a tie to star).
    ``order``: the colourings' vertex order, as for ``design`` (default: the best of every
    order).

    Returns a ``BidirectionalPlan``: compute ``B = J @ plan.column_seeds`` (m×pc, JVPs) and
    ``C = J.T @ plan.row_seeds`` (n×pr, VJPs), then ``plan.decode(B, C)`` →
    ``scipy.sparse.csr_array`` (None for a block of no products). Not picklable: design it
    again (the colouring is deterministic).
    """
    return _native.design_bidirectional(pattern, method, order=order)


def design_diagonal(
    pattern: Any = None,
    method: str = "exact",
    *,
    n: Optional[int] = None,
    probes: Optional[int] = None,
    seed: int = 0,
    order: Optional[str] = None,
) -> DiagonalPlan:
    """Probes for the diagonal of a Hessian alone.

    ``method="exact"``: a distance-1 colouring of ``pattern`` (no two neighbours share a
    probe), so row i of H·s_{colour(i)} is H[i, i] itself: β + 1 products on a band of
    half-bandwidth β, whatever n. ``method="hutchinson"``: ``probes`` Rademacher vectors z
    and diag ≈ mean of z ⊙ (H·z), unbiased, error ∝ 1/√probes, no pattern needed (``n``
    or a pattern gives the length; 1 ≤ probes ≤ 10 000).

    Returns a ``DiagonalPlan``: compute ``B = H @ plan.seeds`` (n×p), then
    ``plan.decode(B)`` → the diagonal, or ``plan.decode_with_errors(B)`` → (diagonal,
    standard errors; zeros for the exact method).
    """
    return _native.design_diagonal(pattern, method, n=n, probes=probes, seed=seed, order=order)


Coloring = namedtuple(
    "Coloring",
    [
        "colors",
        "num_colors",
        "lower_bound",
        "valid",
        "violation",
        "problem",
        "method",
        "order",
        "chosen_order",
        "neutral",
        "symmetrized",
        "seconds",
    ],
)
Coloring.__doc__ = """A colouring: ``colors`` (int64, one per column — row for the row problem —,
-1 for the neutral colour), ``num_colors``, ``lower_bound``, ``valid`` (the independent
checker's verdict) and how it was made."""


def color(
    pattern: Any,
    problem: Optional[str] = None,
    method: Optional[str] = None,
    order: str = "natural",
    *,
    postprocess: bool = False,
    recolor: int = 0,
    symmetrize: bool = False,
) -> Coloring:
    """Colours ``pattern`` as ``sparsediff color`` does.

    problem: "column" | "row" | "symmetric" (default: symmetric for symmetric patterns);
    method: "cpr" | "distance1" | "d2" | "star" | "acyclic" (default cpr, star for
    symmetric); order: a vertex order name or "best".
    """
    d = _native.color(
        pattern,
        problem,
        method,
        order,
        postprocess=postprocess,
        recolor=recolor,
        symmetrize=symmetrize,
    )
    return Coloring(**{k: d[k] for k in Coloring._fields})


SampleDecode = namedtuple("SampleDecode", ["matrix", "unrecoverable_rows", "values"])
SampleDecode.__doc__ = """What ``decode_from_samples`` recovered: ``matrix`` (csr_array on the
pattern; NaN in the unrecoverable rows), ``unrecoverable_rows`` (int64, ascending) and
``values`` (entry order)."""


def decode_from_samples(pattern: Any, seeds: Any, products: Any, tol: float = DEFAULT_RANK_TOL) -> SampleDecode:
    """Recovers a matrix on ``pattern`` from samples someone else chose.

    ``seeds`` is any n×p matrix S, ``products`` the m×p matrix B = A·S. Each row is solved by
    least squares on its support; rows whose sample matrix is rank deficient (relative
    tolerance ``tol``) or has fewer probes than unknowns cannot be recovered: they are
    returned in ``unrecoverable_rows`` and hold NaN.
    """
    values, rows, pat = _native.decode_from_samples(pattern, seeds, products, tol)
    from ._convert import csr

    m = csr(values, pat.indices.astype(np.int64), pat.indptr.astype(np.int64), tuple(pat.shape))
    return SampleDecode(m, rows, values)


def load_plan(path) -> Plan:
    """Reads a plan written by ``Plan.save`` (everything is re-checked)."""
    return Plan.load(path)


def solve_banded(matrix: Any, b: Any, *, shift: float = 0.0, beta: Optional[int] = None) -> np.ndarray:
    """Solves (A + shift·I)·x = b for a symmetric banded ``matrix`` (scipy sparse, reads
    the upper triangle) with the banded LDLᵀ. For repeated solves on one pattern, keep a
    ``BandLDLT(pattern)`` and call ``factorize`` / ``solve``."""
    f = BandLDLT(matrix, beta=beta)
    f.factorize(matrix, shift)
    return f.solve(b)


def minimize(fun, grad, hess, x0, pattern, *, method: str = "newton", grad_tol: float = 1e-8, max_iterations: int = 200) -> dict:
    """Minimises ``fun`` with the solver crate's drivers.

    ``method="newton"``: Newton with IPOPT's inertia correction and Armijo backtracking,
    the Hessian factorised by the banded or the sparse LDLᵀ (chosen from ``pattern``);
    ``"trust-region"``: Steihaug-CG trust region. ``fun(x) -> float``, ``grad(x) -> array``,
    ``hess(x)`` → the Hessian on ``pattern`` (a scipy matrix, e.g. ``plan.decode(...)``, or
    its values in entry order). Returns a dict: x, value, status, converged, iterations,
    grad_inf, evaluations, ... An exception raised by a callable is re-raised.
    """
    return _native.minimize(fun, grad, hess, x0, pattern, method=method, grad_tol=grad_tol, max_iterations=max_iterations)
