"""Bad input raises a clear Python exception (never a crash), with the Rust error's fields."""

import numpy as np
import pytest
import scipy.sparse as sp

import sparsediff as sd
from conftest import random_on


@pytest.fixture(scope="module")
def plan():
    return sd.design("band:n=20,k=2", method="star")


def test_error_hierarchy():
    for cls in (sd.PatternError, sd.DesignError, sd.DecodeError, sd.SolveError, sd.ColoringError, sd.SavedPlanError):
        assert issubclass(cls, sd.SparseDiffError)
        assert issubclass(cls, ValueError)


def test_nan_product(plan):
    B = np.ones(plan.products_shape)
    B[3, 1] = np.nan
    with pytest.raises(sd.DecodeError) as e:
        plan.decode(B)
    assert e.value.kind == "NonFinite"
    assert (e.value.row, e.value.probe) == (3, 1)
    assert np.isnan(e.value.value)
    assert e.value.fields["row"] == 3
    assert "not finite" in str(e.value)


def test_infinite_product(plan):
    B = np.ones(plan.products_shape)
    B[0, 0] = np.inf
    with pytest.raises(sd.DecodeError, match="not finite"):
        plan.decode_values(B)


def test_wrong_product_shape(plan):
    m, p = plan.products_shape
    with pytest.raises(sd.DecodeError) as e:
        plan.decode(np.ones((m, p + 1)))
    assert e.value.kind == "Shape"
    assert (e.value.rows, e.value.cols, e.value.expected_rows, e.value.expected_cols) == (m, p + 1, m, p)
    with pytest.raises(sd.DecodeError):
        plan.decode(np.ones((m + 1, p)))


def test_wrong_rank_and_dtype(plan):
    m, p = plan.products_shape
    with pytest.raises(ValueError, match="2-D"):
        plan.decode(np.ones(m * p))
    with pytest.raises(ValueError, match="2-D"):
        plan.decode(np.ones((m, p, 1)))
    with pytest.raises(TypeError, match="complex"):
        plan.decode(np.ones((m, p), dtype=complex))
    with pytest.raises(TypeError):
        plan.decode(np.full((m, p), "x"))
    with pytest.raises(TypeError):
        plan.decode(sp.csr_array(np.ones((m, p))))
    with pytest.raises(TypeError):
        plan.decode(None)


def test_out_buffer_checked(plan):
    B = np.ones(plan.products_shape)
    with pytest.raises(sd.DecodeError) as e:
        plan.decode_values(B, out=np.empty(plan.pattern.nnz + 1))
    assert e.value.kind == "ValuesLength"
    with pytest.raises(ValueError):
        plan.decode_values(B, out=np.empty(2 * plan.pattern.nnz)[::2])
    with pytest.raises(TypeError):
        plan.decode_values(B, out=np.empty(plan.pattern.nnz, dtype=np.float32))


def test_pattern_errors():
    with pytest.raises(sd.PatternError) as e:
        sd.Pattern("band:n=x,k=1")
    assert e.value.kind == "Spec"
    assert e.value.problem["variant"] == "BadValue"
    with pytest.raises(sd.PatternError):
        sd.Pattern("blob:n=3")
    with pytest.raises(sd.PatternError) as e:
        sd.Pattern(([0, 5], [1, 1]), shape=(3, 3))
    assert e.value.kind == "IndexOutOfBounds"
    assert (e.value.row, e.value.col, e.value.nrows, e.value.ncols) == (5, 1, 3, 3)
    with pytest.raises(ValueError, match="negative"):
        sd.Pattern(([0, -1], [1, 1]), shape=(3, 3))
    with pytest.raises(ValueError, match="shape"):
        sd.Pattern(([0, 1], [1, 1]))
    with pytest.raises(ValueError, match="lengths"):
        sd.Pattern(([0, 1], [1]), shape=(3, 3))
    with pytest.raises(TypeError, match="integer"):
        sd.Pattern(([0.5, 1], [1, 1]), shape=(3, 3))
    with pytest.raises(TypeError):
        sd.Pattern(3.5)
    with pytest.raises(sd.PatternError):
        sd.Pattern("/nonexistent/file.mtx")
    with pytest.raises(sd.PatternError) as e:
        sd.Pattern.from_csr(2, 2, np.array([0, 2, 1]), np.array([0, 1]))
    assert e.value.kind in ("RowPtrInvalid", "RowPtrLength")


def test_design_errors():
    with pytest.raises(ValueError, match="unknown method"):
        sd.design("band:n=10,k=1", method="magic")
    with pytest.raises(ValueError, match="kind"):
        sd.design("band:n=10,k=1", kind="hermitian")
    rect = sp.random(5, 7, density=0.5, random_state=0)
    with pytest.raises(sd.SparseDiffError):
        sd.design(rect, "symmetric", "star")
    with pytest.raises(sd.ColoringError) as e:
        sd.design(rect, "symmetric", "acyclic")
    assert (e.value.nrows, e.value.ncols) == (5, 7)
    with pytest.raises(sd.DesignError):
        sd.design(sp.random(30, 30, density=0.1, random_state=0), method="stencil-direct")
    with pytest.raises(sd.DesignError) as e:
        sd.design("band:n=10,k=1", method="random", probes=1)
    assert e.value.kind == "TooFewProbes"
    assert e.value.probes == 1
    with pytest.raises(ValueError):
        sd.design("band:n=10,k=1", method="star", order="sideways")
    with pytest.raises(sd.DesignError):
        sd.design(sd.Pattern(([], []), shape=(4, 4)))


def test_values_of_wrong_size(plan):
    with pytest.raises(ValueError, match="entries"):
        plan.exact_products(np.ones(plan.pattern.nnz - 1))
    with pytest.raises(ValueError, match="shape"):
        plan.exact_products(sp.eye(21, format="csr"))
    A = sp.eye(20, format="csr") + sp.csr_array(([1.0], ([0], [19])), shape=(20, 20))
    with pytest.raises(ValueError, match="outside the pattern"):
        plan.exact_products(A)


def test_color_errors():
    with pytest.raises(ValueError):
        sd.color("band:n=10,k=1", method="rainbow")
    with pytest.raises(ValueError):
        sd.color("band:n=10,k=1", problem="diagonal")
    with pytest.raises(sd.ColoringError) as e:
        sd.color(sp.random(5, 7, density=0.5, random_state=0), problem="symmetric", method="star")
    assert e.value.kind == "NotSquare"


def test_solver_errors():
    with pytest.raises(sd.SolveError) as e:
        sd.BandLDLT(sp.random(5, 7, density=0.5, random_state=0))
    assert e.value.kind == "NotSquare"
    f = sd.BandLDLT("band:n=10,k=1")
    with pytest.raises(sd.SolveError) as e:
        f.solve(np.ones(10))
    assert e.value.kind == "NotFactorized"
    with pytest.raises(ValueError, match="entries"):
        f.factorize(np.ones(5))
    bad = np.ones(28)
    bad[4] = np.nan
    with pytest.raises(sd.SolveError) as e:
        f.factorize(bad)
    assert e.value.kind == "NonFinite"
    A = random_on("band:n=10,k=1")
    f.factorize(A)
    with pytest.raises(sd.SolveError) as e:
        f.solve(np.ones(9))
    assert e.value.kind == "LengthMismatch" and (e.value.expected, e.value.got) == (10, 9)
    with pytest.raises(sd.SolveError):
        sd.BandLDLT("band:n=10,k=1", pivot_tolerance=-1.0)
    with pytest.raises(sd.SolveError):
        sd.BandLDLT("band:n=10,k=3", beta=1)
    with pytest.raises(ValueError):
        sd.SparseLDLT("band:n=10,k=1", beta=2)
    with pytest.raises(sd.SolveError) as e:
        c = sd.SparseCholesky("band:n=10,k=1")
        c.factorize(-A)
    assert e.value.kind == "NotPositiveDefinite"


def test_saved_plan_errors(tmp_path):
    with pytest.raises(sd.SavedPlanError) as e:
        sd.Plan.from_json("{not json")
    assert e.value.kind == "Json"
    assert e.value.value["line"] == 1
    plan = sd.design("band:n=10,k=1", method="star")
    text = plan.to_json().replace('"version":1', '"version":7')
    with pytest.raises(sd.SavedPlanError) as e:
        sd.Plan.from_json(text)
    assert e.value.kind == "WrongFormat" and e.value.version == 7
    with pytest.raises(OSError):
        sd.load_plan(tmp_path / "missing.json")
