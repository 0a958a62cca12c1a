"""CasADi on the cartpole L_A Hessian (problems/cartpole-swingup.md), for papers/ad-backends.md.

    pip install casadi        # 3.8.2 was used
    python3 papers/peers/casadi_cartpole.py [N ...]

For each N: builds L_A in SX, its sparse Hessian, checks ‖H‖_F and the entry sum against
the spec, times the SX virtual machine (the Hessian mapped 200 times in one call, so
Python's per-call cost is spread out), then generates C, compiles it with gcc
(-O3, or $CASADI_GCC_OPT) and
times it from a C loop (clock_gettime, median of 31 runs of 1000 calls). Prints one JSON
line per N.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import casadi as ca
import numpy as np

# gcc optimisation level (environment CASADI_GCC_OPT, default -O3).
OPT = os.environ.get("CASADI_GCC_OPT", "-O3")

SPEC = {
    100: (4.852312730720e02, 8.437066722164e01, 0.05),
    1000: (1.548117169561e03, 7.948006483865e01, 0.005),
}


def lagrangian(n, dt):
    z = ca.SX.sym("z", 5 * n)
    rho, lam, mu = 10.0, 0.1, 0.1
    s = lambda k: [z[5 * k + r] for r in range(4)]
    a = lambda k: z[5 * k + 4]

    def f(st, ak):
        x, v, th, om = st
        return [v, ak, om, -3.0 * (9.81 * ca.sin(th) + ak * ca.cos(th))]

    cost = 0
    for k in range(n):
        x, v, th, om = s(k)
        cost += dt * (a(k) ** 2 + 1e-3 * (x**2 + v**2 + om**2))
    c = list(s(0))
    for k in range(n - 1):
        f0, f1 = f(s(k), a(k)), f(s(k + 1), a(k + 1))
        c += [s(k + 1)[r] - s(k)[r] - dt / 2 * (f0[r] + f1[r]) for r in range(4)]
    c += [s(n - 1)[r] - t for r, t in enumerate([0, 0, math.pi, 0])]
    g = []
    for k in range(n):
        g += [z[5 * k] - 1, -z[5 * k] - 1, a(k) - 4, -a(k) - 4]
    la = cost
    for ci in c:
        la += lam * ci + rho / 2 * ci**2
    for gj in g:
        la += 1 / (2 * rho) * (ca.fmax(0, mu + rho * gj) ** 2 - mu**2)
    return z, la


def point(n, dt):
    t_end = (n - 1) * dt
    z = np.zeros(5 * n)
    for k in range(n):
        t = k * dt
        z[5 * k : 5 * k + 5] = [
            0.5 * math.sin(2 * math.pi * t / t_end),
            0.5 * (2 * math.pi / t_end) * math.cos(2 * math.pi * t / t_end),
            math.pi * t / t_end,
            math.pi / t_end,
            math.sin(3 * t),
        ]
    return z


C_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "la_hess.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  double *z = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) if (scanf("%lf", &z[i]) != 1) return 1;
  casadi_int sz_arg, sz_res, sz_iw, sz_w;
  la_hess_work(&sz_arg, &sz_res, &sz_iw, &sz_w);
  const double **arg = malloc(sizeof(double *) * sz_arg);
  double **res = malloc(sizeof(double *) * sz_res);
  casadi_int *iw = malloc(sizeof(casadi_int) * (sz_iw + 1));
  double *w = malloc(sizeof(double) * (sz_w + 1));
  const casadi_int *sp = la_hess_sparsity_out(0);
  casadi_int nnz = sp[2 + sp[1]];
  double *h = malloc(sizeof(double) * nnz);
  arg[0] = z; res[0] = h;
  double times[31];
  for (int r = 0; r < 31; r++) {
    double t0 = now();
    for (int i = 0; i < 1000; i++) la_hess(arg, res, iw, w, 0);
    times[r] = (now() - t0) / 1000;
  }
  qsort(times, 31, sizeof(double), cmp);
  double fro = 0, sum = 0;
  for (casadi_int i = 0; i < nnz; i++) { fro += h[i] * h[i]; sum += h[i]; }
  printf("%.9g %.12e %.12e %lld\n", times[15], fro, sum, (long long)nnz);
  return 0;
}
"""


def run(n):
    fro_ref, sum_ref, dt = SPEC[n]
    z, la = lagrangian(n, dt)
    t0 = time.perf_counter()
    h_sym = ca.hessian(la, z)[0]
    hess = ca.Function("la_hess", [z], [h_sym])
    build = time.perf_counter() - t0
    x = point(n, dt)
    hd = hess(x)
    values = np.array(hd.nonzeros())
    fro = math.sqrt((values**2).sum())
    total = values.sum()
    assert abs(fro / fro_ref - 1) < 1e-12, (fro, fro_ref)
    assert abs(total / sum_ref - 1) < 1e-11, (total, sum_ref)
    reps = 200
    mapped = hess.map(reps, "serial")
    xs = np.tile(x.reshape(-1, 1), (1, reps))
    vm = []
    for _ in range(7):
        t0 = time.perf_counter()
        mapped(xs)
        vm.append((time.perf_counter() - t0) / reps)
    vm.sort()
    with tempfile.TemporaryDirectory() as d:
        cwd = os.getcwd()
        os.chdir(d)
        try:
            hess.generate("la_hess.c", {"with_header": True})
            with open("main.c", "w") as f:
                f.write(C_MAIN)
            t0 = time.perf_counter()
            subprocess.run(
                ["gcc", OPT, "-o", "bench", "main.c", "la_hess.c", "-lm"], check=True
            )
            compile_s = time.perf_counter() - t0
            out = subprocess.run(
                ["./bench", str(5 * n)],
                input=" ".join("%.17g" % v for v in x),
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
        finally:
            os.chdir(cwd)
    c_time, c_fro2, c_sum, c_nnz = float(out[0]), float(out[1]), float(out[2]), int(out[3])
    assert abs(math.sqrt(c_fro2) / fro_ref - 1) < 1e-12
    print(
        json.dumps(
            {
                "N": n,
                "casadi": ca.__version__,
                "hessian_nnz": int(hd.nnz()),
                "build_seconds": build,
                "vm_evaluate_seconds": vm[len(vm) // 2],
                "gcc": OPT,
                "c_compile_seconds": compile_s,
                "c_evaluate_seconds": c_time,
                "c_nnz": c_nnz,
                "max_rel_error_frobenius": abs(fro / fro_ref - 1),
            }
        )
    )


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["100", "1000"]:
        run(int(arg))
