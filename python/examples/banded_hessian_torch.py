"""The prototype, redone: banded Hessians of PyTorch functions through sparsediff.

1. A chain example (N = 12, half-bandwidth B = 3): the recovered band, printed.
2. The cartpole augmented Lagrangian of the benchmark spec (crates/problems/spec/
   cartpole-swingup.md) written in PyTorch: its Hessian from sparsediff's acyclic
   colouring (6 Hessian-vector products in one torch.func.vmap) against the prototype's
   stride probes and torch.autograd.functional.hessian, checked against the spec's
   reference values; then a Newton step with the banded LDLᵀ.

    python python/examples/banded_hessian_torch.py [--knots 100] [--time] [--threads 1]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import torch

import sparsediff as sd
import sparsediff.torch as sdt

G = 9.81
POLE = 0.5


def chain(x, B=3):
    """Σ_i Σ_{d=1..B} (x_i·x_{i+d})² / d + Σ x_i⁴: a band of half-bandwidth B."""
    s = (x**4).sum()
    for d in range(1, B + 1):
        s = s + ((x[:-d] * x[d:]) ** 2).sum() / d
    return s


def lagrangian(z, knots, dt, lam=0.1, mu=0.1, rho=10.0):
    """L_A(z; λ, μ, ρ) of the benchmark spec, z knot-major (x, v, θ, ω, a)."""
    Z = z.reshape(knots, 5)
    x, v, th, om, a = Z.unbind(1)
    J = dt * (a**2 + 1e-3 * (x**2 + v**2 + om**2)).sum()
    s = Z[:, :4]
    f = torch.stack([v, a, om, -(3.0 / (2.0 * POLE)) * (G * torch.sin(th) + a * torch.cos(th))], 1)
    defects = s[1:] - s[:-1] - (dt / 2) * (f[1:] + f[:-1])
    goal = torch.tensor([0.0, 0.0, math.pi, 0.0], dtype=z.dtype)
    c = torch.cat([s[0], defects.reshape(-1), s[-1] - goal])
    g = torch.stack([x - 1, -x - 1, a - 4, -a - 4], 1).reshape(-1)
    active = torch.clamp(mu + rho * g, min=0.0)
    return J + lam * c.sum() + (rho / 2) * (c**2).sum() + (active**2 - mu**2).sum() / (2 * rho)


def eval_point(knots, dt):
    t = torch.arange(knots, dtype=torch.float64) * dt
    T = (knots - 1) * dt
    w = 2 * math.pi / T
    return torch.stack(
        [0.5 * torch.sin(w * t), 0.5 * w * torch.cos(w * t), math.pi * t / T, torch.full_like(t, math.pi / T), torch.sin(3 * t)],
        1,
    ).reshape(-1)


REFERENCE = {  # the spec's table: L_A, ‖∇L_A‖₂, ‖∇²L_A‖_F, Σ H
    100: (5.626250945601e02, 8.118068551222e01, 4.852312730720e02, 8.437066722164e01),
    1000: (7.280844334764e01, 1.302093507383e01, 1.548117169561e03, 7.948006483865e01),
}


def timed(fn, repeats):
    fn()  # warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--knots", type=int, nargs="*", default=[100])
    ap.add_argument("--time", action="store_true", help="time the three methods")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dense-max", type=int, default=1000, help="largest N for the dense torch Hessian timing")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    # 1. the chain example
    n, B = 12, 3
    x = torch.linspace(0.5, 1.6, n, dtype=torch.float64)
    plan = sd.design(f"band:n={n},k={B}", method="acyclic")
    H = sdt.hessian(chain, x, plan)
    ref = torch.autograd.functional.hessian(chain, x).numpy()
    print(f"chain: n = {n}, B = {B}: {plan.num_probes} probes ({plan.designer}), "
          f"max error {np.abs(H.toarray() - ref).max():.1e}")
    np.set_printoptions(precision=2, suppress=True, linewidth=140)
    print(H.toarray())

    # 2. the cartpole augmented Lagrangian
    for knots in args.knots:
        dt = {100: 0.05, 1000: 0.005}.get(knots, 5.0 / knots)  # the spec's two sizes
        z = eval_point(knots, dt)
        f = lambda z: lagrangian(z, knots, dt)  # noqa: E731
        pattern = sd.Pattern(f"cartpole:N={knots}")
        plan = sd.design(pattern, method="acyclic")
        stride = sd.design(pattern, method="roll")
        H = sdt.hessian(f, z, plan)
        g = torch.func.grad(f)(z).numpy()
        print(f"\ncartpole N = {knots}: {5 * knots} variables, {pattern.nnz} entries; "
              f"acyclic {plan.num_probes} products, stride probes {stride.num_probes} "
              f"(the prototype's knot-block bound: 19)")
        if knots in REFERENCE:
            la, gn, hf, hs = REFERENCE[knots]
            print(f"  L_A {float(f(z)):.12e} (spec {la:.12e})")
            print(f"  ‖∇L_A‖ {np.linalg.norm(g):.12e} (spec {gn:.12e})")
            print(f"  ‖∇²L_A‖_F {sp_norm(H):.12e} (spec {hf:.12e})")
            print(f"  Σ H {H.sum():.12e} (spec {hs:.12e})")
        # the Newton step with the banded LDLᵀ (H is indefinite at this point)
        f_ldlt = sd.BandLDLT(pattern)
        inertia = f_ldlt.factorize(H)
        d = f_ldlt.solve(-g)
        print(f"  Newton step: β = {f_ldlt.beta}, inertia {inertia}, ‖H·d + ∇L_A‖ = {np.linalg.norm(H @ d + g):.1e}")

        if args.time:
            seeds = torch.as_tensor(plan.seeds)
            roll_seeds = torch.as_tensor(stride.seeds)
            buf = np.empty(pattern.nnz)
            ours = timed(lambda: plan.decode_values(sdt.hessian_products(f, z, seeds).numpy(), out=buf), args.repeats)
            ours_csr = timed(lambda: plan.decode(sdt.hessian_products(f, z, seeds).numpy()), args.repeats)
            ours_fwd = timed(lambda: plan.decode_values(sdt.hessian_products(f, z, seeds, "forward").numpy(), out=buf), args.repeats)
            rolled = timed(lambda: stride.decode_values(sdt.hessian_products(f, z, roll_seeds).numpy(), out=buf), args.repeats)
            print(f"  time (min / median over {args.repeats}, {args.threads} thread):")
            print(f"    sparsediff acyclic, {plan.num_probes} HVPs + decode to values  {fmt(ours)}")
            print(f"    sparsediff acyclic, {plan.num_probes} HVPs + decode to csr     {fmt(ours_csr)}")
            print(f"    the same, HVPs by torch.func vmap(jvp(grad))  {fmt(ours_fwd)}")
            print(f"    stride probes, {stride.num_probes} HVPs + roll decode          {fmt(rolled)}")
            if knots <= args.dense_max:
                dense = timed(lambda: torch.autograd.functional.hessian(f, z, vectorize=True), max(3, args.repeats // 5))
                print(f"    torch.autograd.functional.hessian (dense, vectorize)  {fmt(dense)}")
                print(f"    ratio dense / sparsediff (median): {dense[1] / ours[1]:.1f}×")


def sp_norm(H):
    return float(np.sqrt((H.data**2).sum()))


def fmt(t):
    lo, med = t
    return f"{lo * 1e3:8.3f} / {med * 1e3:8.3f} ms"


if __name__ == "__main__":
    main()
