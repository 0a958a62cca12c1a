"""The examples run (small sizes, no timing) and reproduce the spec's reference values."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(script, *args):
    out = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_banded_hessian_torch():
    pytest.importorskip("torch", reason="PyTorch is not installed")
    out = run("banded_hessian_torch.py", "--knots", "100")
    assert "acyclic 6 products" in out
    assert "‖∇²L_A‖_F 4.852312730720e+02 (spec 4.852312730720e+02)" in out
    assert "Σ H 8.437066722164e+01 (spec 8.437066722164e+01)" in out


def test_banded_hessian_jax():
    pytest.importorskip("jax", reason="JAX is not installed")
    out = run("banded_hessian_jax.py", "--knots", "100")
    assert "6 HVPs; ‖∇²L_A‖_F = 4.852312730720e+02, Σ H = 8.437066722164e+01" in out

