import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[2]


def random_on(pattern, seed=0, symmetric=True):
    """A random matrix on `pattern` (csr_array), symmetric values when asked, diagonally
    dominant so that the factorisation tests can use it too."""
    import sparsediff as sd

    p = sd.Pattern(pattern)
    rows, cols = p.rows, p.indices
    rng = np.random.default_rng(seed)
    if symmetric:
        lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
        key = lo * p.ncols + hi
        uniq, inv = np.unique(key, return_inverse=True)
        vals = rng.uniform(-1, 1, uniq.size)[inv]
    else:
        vals = rng.uniform(-1, 1, rows.size)
    vals = np.where(np.abs(vals) < 0.05, 0.5, vals)
    diag = rows == cols
    vals[diag] = 4.0 + np.abs(vals[diag]) + np.bincount(rows, minlength=p.nrows)[rows[diag]]
    return sp.csr_array((vals, cols, p.indptr), shape=p.shape)


def cli_binary():
    """The Rust CLI, if built: $SPARSEDIFF_CLI, `sparsediff` on PATH, or the workspace's
    target directories ($CARGO_TARGET_DIR, target/) — CI builds it before the Python tests."""
    env = os.environ.get("SPARSEDIFF_CLI")
    if env and Path(env).exists():
        return env
    roots = [os.environ.get("CARGO_TARGET_DIR"), str(REPO / "target")]
    for root in filter(None, roots):
        for profile in ("release", "debug"):
            exe = Path(root) / profile / "sparsediff"
            if exe.exists():
                return str(exe)
    return shutil.which("sparsediff")


@pytest.fixture(scope="session")
def cli():
    exe = cli_binary()
    if exe is None:
        pytest.skip("the Rust CLI `sparsediff` is not built (set SPARSEDIFF_CLI or build crates/cli)")
    return exe
