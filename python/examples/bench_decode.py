"""Decode time through the Python layer, for papers/python.md (the Rust side:
python/examples/decode_timing.rs, the same plans and values).

    python python/examples/bench_decode.py
"""

import statistics
import time

import numpy as np

import sparsediff as sd


def values_on(pattern):
    r, c = pattern.rows, pattern.indices
    lo, hi = np.minimum(r, c), np.maximum(r, c)
    return 1.0 + ((lo * 31 + hi * 17) % 101) / 101.0


def bench(fn, repeats):
    fn()
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t), statistics.median(t)


def main():
    for spec, method, repeats in [
        ("cartpole:N=100", "acyclic", 5000),
        ("cartpole:N=1000", "acyclic", 1000),
        ("grid2d:nx=1000,ny=1000,stencil=5", "auto", 21),
    ]:
        p = sd.Pattern(spec)
        plan = sd.design(p, method=method)
        v = values_on(p)
        B = plan.exact_products(v)
        buf = np.empty(p.nnz)
        assert np.allclose(plan.decode_values(B), v, rtol=1e-12)
        rows = [
            ("decode_values(B, out=buf)", lambda: plan.decode_values(B, out=buf)),
            ("decode_values(B)", lambda: plan.decode_values(B)),
            ("decode(B) -> csr_array", lambda: plan.decode(B)),
        ]
        print(f"{spec}: {plan.designer} {plan.num_probes} probes, nnz {p.nnz}")
        for label, fn in rows:
            lo, med = bench(fn, repeats)
            print(f"  {label:28s} min {lo * 1e6:12.3f} µs  median {med * 1e6:12.3f} µs  ({repeats} repeats)")


if __name__ == "__main__":
    main()
