"""Conversions between Python objects and what the native module takes.

The native module accepts float64 numpy arrays without copying; everything else (lists,
float32 arrays, torch or jax arrays on the CPU, scipy matrices) comes through here, with a
clear TypeError or ValueError for what cannot be a real array of the right rank.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple

import numpy as np

from . import _native


def _real_array(obj: Any, what: str) -> np.ndarray:
    if hasattr(obj, "detach") and hasattr(obj, "cpu"):  # a torch tensor
        obj = obj.detach().cpu().numpy()
    try:
        a = np.asarray(obj)
    except Exception as e:  # pragma: no cover - numpy's own message
        raise TypeError(f"{what}: cannot be converted to a numpy array ({e})") from None
    if a.dtype == np.float64:
        return a
    if a.dtype.kind in "biuf":
        return a.astype(np.float64)
    if a.dtype.kind == "c":
        raise TypeError(f"{what}: complex values (dtype {a.dtype}) are not supported; pass real float64")
    raise TypeError(f"{what}: expected real numbers, got an array of dtype {a.dtype}")


def float_matrix(obj: Any, what: str = "array") -> np.ndarray:
    """A 2-D float64 array (no copy when it already is one)."""
    if _is_sparse(obj):
        raise TypeError(f"{what}: expected a dense 2-D array, got a sparse matrix")
    a = _real_array(obj, what)
    if a.ndim != 2:
        raise ValueError(f"{what}: expected a 2-D array, got {a.ndim} dimension(s) (shape {a.shape})")
    return a


def float_vector(obj: Any, what: str = "array") -> np.ndarray:
    """A 1-D contiguous float64 array."""
    a = _real_array(obj, what)
    if a.ndim != 1:
        raise ValueError(f"{what}: expected a 1-D array, got shape {a.shape}")
    return np.ascontiguousarray(a)


def float_array(obj: Any, what: str = "array") -> np.ndarray:
    """A 1-D or 2-D float64 array."""
    a = _real_array(obj, what)
    if a.ndim not in (1, 2):
        raise ValueError(f"{what}: expected a 1-D or 2-D array, got shape {a.shape}")
    return a


def _is_sparse(obj: Any) -> bool:
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover
        return False
    return sp.issparse(obj)


def _index_array(obj: Any, what: str) -> np.ndarray:
    a = np.asarray(obj)
    if a.ndim != 1:
        raise ValueError(f"{what}: expected a 1-D index array, got shape {a.shape}")
    if a.size == 0:
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
            a = a.astype(np.int64)
        else:
            raise TypeError(f"{what}: expected integer indices, got dtype {a.dtype}")
    if a.dtype.kind == "u" and a.size and int(a.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"{what}: index too large")
    return np.ascontiguousarray(a, dtype=np.int64)


def _shape(shape: Any) -> Tuple[int, int]:
    try:
        m, n = (int(s) for s in shape)
    except Exception:
        raise ValueError(f"shape must be a pair of non-negative integers, not {shape!r}") from None
    if m < 0 or n < 0:
        raise ValueError(f"shape must be non-negative, not {shape!r}")
    return m, n


def to_pattern(obj: Any, shape: Optional[Any] = None) -> "_native.Pattern":
    """Any accepted pattern description -> Pattern (see ``sparsediff.Pattern``)."""
    if isinstance(obj, _native.Pattern):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        text = os.fspath(obj)
        if shape is not None:
            raise ValueError("shape is not used with a spec or file")
        if text.lower().endswith(".mtx") or (os.path.exists(text) and ":" not in text):
            return _native.Pattern.from_mtx(text)
        return _native.Pattern.from_spec(text)
    if _is_sparse(obj):
        import scipy.sparse as sp

        m = sp.csr_array(obj)  # a copy for non-CSR input, a view for CSR
        if shape is not None and _shape(shape) != m.shape:
            raise ValueError(f"shape {tuple(shape)} differs from the matrix's {m.shape}")
        nrows, ncols = m.shape
        indptr = np.asarray(m.indptr, dtype=np.int64)
        indices = np.asarray(m.indices, dtype=np.int64)
        return _native.Pattern.from_csr(nrows, ncols, indptr, indices, bool(m.has_sorted_indices and _no_duplicates(m)))
    if isinstance(obj, tuple) and len(obj) in (2, 3) and not isinstance(obj[0], (int, np.integer)):
        # (rows, cols) with shape=, or (rows, cols, shape)
        if len(obj) == 3:
            if shape is not None:
                raise ValueError("shape given twice")
            rows, cols, shape = obj
        else:
            rows, cols = obj
        if shape is None:
            raise ValueError("index arrays (rows, cols) need shape=(m, n)")
        m, n = _shape(shape)
        r = _index_array(rows, "rows")
        c = _index_array(cols, "cols")
        if r.shape != c.shape:
            raise ValueError(f"rows and cols have different lengths ({r.size} vs {c.size})")
        return _native.Pattern.from_coo(m, n, r, c)
    if hasattr(obj, "__array__") or isinstance(obj, list):
        a = np.asarray(obj)
        if a.ndim != 2:
            raise ValueError(f"a dense pattern must be 2-D, got shape {a.shape}")
        if a.dtype.kind not in "biufc":
            raise TypeError(f"a dense pattern must be boolean or numeric, got dtype {a.dtype}")
        r, c = np.nonzero(a)
        return _native.Pattern.from_coo(a.shape[0], a.shape[1], r.astype(np.int64), c.astype(np.int64))
    raise TypeError(
        "a pattern is a scipy sparse matrix or array, a spec string ('band:n=100,k=2'), "
        "a Matrix Market path, (rows, cols) index arrays with shape=, a dense array or a "
        f"Pattern; got {type(obj).__name__}"
    )


def _no_duplicates(m) -> bool:
    # sorted indices: duplicates are equal neighbours within a row
    idx = m.indices
    if idx.size < 2:
        return True
    same = idx[1:] == idx[:-1]
    if not same.any():
        return True
    # equal neighbours across a row boundary are fine
    starts = np.zeros(idx.size, dtype=bool)
    starts[m.indptr[1:-1][m.indptr[1:-1] < idx.size]] = True
    return not np.any(same & ~starts[1:])


def values_on(pattern: "_native.Pattern", matrix: Any) -> np.ndarray:
    """Values of ``matrix`` at the entries of ``pattern`` (entry order).

    ``matrix`` is a 1-D array of nnz values (returned as float64), a scipy sparse matrix or
    a dense 2-D array of the pattern's shape. A nonzero outside the pattern is an error.
    """
    shape = tuple(pattern.shape)
    if not _is_sparse(matrix):
        a = _real_array(matrix, "values")
        if a.ndim == 1:
            if a.size != pattern.nnz:
                raise ValueError(f"values have {a.size} entries, the pattern has {pattern.nnz}")
            return np.ascontiguousarray(a)
        if a.ndim != 2:
            raise ValueError(f"values: expected nnz values or a matrix, got shape {a.shape}")
        if a.shape != shape:
            raise ValueError(f"matrix shape {a.shape} differs from the pattern's {shape}")
        rows, cols = pattern.rows, pattern.indices
        v = np.ascontiguousarray(a[rows, cols], dtype=np.float64)
        outside = np.count_nonzero(a) - np.count_nonzero(v)
        if outside:
            raise ValueError(f"the matrix has {outside} nonzeros outside the pattern")
        return v
    import scipy.sparse as sp

    m = sp.csr_array(matrix)
    if m.shape != shape:
        raise ValueError(f"matrix shape {m.shape} differs from the pattern's {shape}")
    m.sum_duplicates()
    if m.nnz == pattern.nnz and np.array_equal(m.indptr, pattern.indptr) and np.array_equal(m.indices, pattern.indices):
        return np.ascontiguousarray(m.data, dtype=np.float64)
    rows, cols = pattern.rows, pattern.indices
    v = np.ascontiguousarray(np.asarray(m[rows, cols]).ravel(), dtype=np.float64)
    if np.count_nonzero(m.data) != np.count_nonzero(v):
        raise ValueError(
            f"the matrix has {np.count_nonzero(m.data) - np.count_nonzero(v)} nonzeros outside the pattern"
        )
    return v


def csr(values: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: Tuple[int, int]):
    """A scipy csr_array on the given (checked, sorted) structure, without copying."""
    import scipy.sparse as sp

    m = sp.csr_array((values, indices, indptr), shape=shape, copy=False)
    m.has_sorted_indices = True
    m.has_canonical_format = True
    return m


def csr_template(indices: np.ndarray, indptr: np.ndarray, shape: Tuple[int, int]):
    """A csr_array on the structure, made by scipy's constructor (with its checks): the
    template that ``csr_like`` copies."""
    return csr(np.zeros(len(indices)), indices, indptr, shape)


def csr_like(template, values: np.ndarray):
    """A new csr_array with ``template``'s structure and attributes and ``values`` as its
    data, without scipy's constructor (its checks cost ~14 µs; the structure was checked
    when the template was made)."""
    m = object.__new__(type(template))
    m.__dict__.update(template.__dict__)
    m.data = values
    return m
