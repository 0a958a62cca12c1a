"""The cartpole augmented Lagrangian of the benchmark spec in JAX: its Hessian through
sparsediff (acyclic colouring, 6 HVPs: vmap of jvp of grad, jitted) against jax.hessian
(dense, jitted), and a Newton step with the banded LDLᵀ.

    python python/examples/banded_hessian_jax.py [--knots 100 1000] [--time]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import sparsediff as sd  # noqa: E402
import sparsediff.jax as sdj  # noqa: E402

G = 9.81
POLE = 0.5


def lagrangian(z, knots, dt, lam=0.1, mu=0.1, rho=10.0):
    Z = z.reshape(knots, 5)
    x, v, th, om, a = (Z[:, i] for i in range(5))
    J = dt * (a**2 + 1e-3 * (x**2 + v**2 + om**2)).sum()
    s = Z[:, :4]
    f = jnp.stack([v, a, om, -(3.0 / (2.0 * POLE)) * (G * jnp.sin(th) + a * jnp.cos(th))], 1)
    defects = s[1:] - s[:-1] - (dt / 2) * (f[1:] + f[:-1])
    c = jnp.concatenate([s[0], defects.reshape(-1), s[-1] - jnp.array([0.0, 0.0, math.pi, 0.0])])
    g = jnp.stack([x - 1, -x - 1, a - 4, -a - 4], 1).reshape(-1)
    active = jnp.maximum(mu + rho * g, 0.0)
    return J + lam * c.sum() + (rho / 2) * (c**2).sum() + (active**2 - mu**2).sum() / (2 * rho)


def eval_point(knots, dt):
    t = jnp.arange(knots) * dt
    T = (knots - 1) * dt
    w = 2 * math.pi / T
    return jnp.stack(
        [0.5 * jnp.sin(w * t), 0.5 * w * jnp.cos(w * t), math.pi * t / T, jnp.full_like(t, math.pi / T), jnp.sin(3 * t)], 1
    ).reshape(-1)


def timed(fn, repeats):
    fn()
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t), statistics.median(t)


def fmt(t):
    return f"{t[0] * 1e3:8.3f} / {t[1] * 1e3:8.3f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--knots", type=int, nargs="*", default=[100])
    ap.add_argument("--time", action="store_true")
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()
    for knots in args.knots:
        dt = {100: 0.05, 1000: 0.005}.get(knots, 5.0 / knots)
        z = eval_point(knots, dt)
        f = lambda z: lagrangian(z, knots, dt)  # noqa: E731
        plan = sd.design(f"cartpole:N={knots}", method="acyclic")
        h = sdj.SparseHessian(f, plan)
        H = h(z)
        g = np.asarray(jax.grad(f)(z))
        print(f"cartpole N = {knots}: {plan.num_probes} HVPs; ‖∇²L_A‖_F = {np.sqrt((H.data ** 2).sum()):.12e}, Σ H = {H.sum():.12e}")
        ldlt = sd.BandLDLT(plan.pattern)
        inertia = ldlt.factorize(H)
        d = ldlt.solve(-g)
        print(f"  Newton step: inertia {inertia}, ‖H·d + ∇L_A‖ = {np.linalg.norm(H @ d + g):.1e}")
        if args.time:
            buf = np.empty(plan.pattern.nnz)
            prod = timed(lambda: h.products(z).block_until_ready(), args.repeats)
            ours = timed(lambda: h.values(z, out=buf), args.repeats)
            ours_csr = timed(lambda: h(z), args.repeats)
            dense_fn = jax.jit(jax.hessian(f))
            dense = timed(lambda: dense_fn(z).block_until_ready(), max(3, args.repeats // 5))
            print(f"  time (min / median), 1 thread:")
            print(f"    jitted products only ({plan.num_probes} HVPs)        {fmt(prod)}")
            print(f"    products + decode to values                {fmt(ours)}")
            print(f"    products + decode to csr_array             {fmt(ours_csr)}")
            print(f"    jax.jit(jax.hessian) dense                 {fmt(dense)}")
            print(f"    ratio dense / sparsediff values (median): {dense[1] / ours[1]:.1f}×")


if __name__ == "__main__":
    main()
