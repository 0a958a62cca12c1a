#!/usr/bin/env python3
"""Interleaved same-run comparison: ColPack driver vs sparsediff binaries (distance-2).

usage: run.py ROUNDS OUT.jsonl CASE[:REPEATS] ... -- BIN ...
(CASE: a NAME.mtx in $D2_DATA; REPEATS: how often per round; BIN: sparsediff binaries)
Each round runs, for each case in turn, ColPack (NATURAL, DISTANCE_TWO_SMALLEST_LAST,
SMALLEST_LAST, one process each: read, order, colour) then every sparsediff binary with
--order natural and --order smallest-last (one process each). `uptime` is logged before every round.
"""
import json, os, subprocess, sys, time
rounds = int(sys.argv[1]); out = open(sys.argv[2], "a")
i = sys.argv.index("--"); cases = sys.argv[3:i]; bins = sys.argv[i + 1:]
CP = os.environ.get("COLPACK_D2", "/work/colpack/colpack_d2")   # the driver d2_driver.cpp
DATA = os.environ.get("D2_DATA", "/work/d2-data")                 # NAME.mtx from --write-mtx
def log(rec):
    out.write(json.dumps(rec) + "\n"); out.flush()
for r in range(rounds):
    log({"round": r, "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), "time": time.time()})
    for case in cases:
        name, _, mult = case.partition(":")
        f = f"{DATA}/{name}.mtx"
        for rep in range(int(mult or 1)):
            for cpo in ["NATURAL", "DISTANCE_TWO_SMALLEST_LAST", "SMALLEST_LAST"]:
                # One order per process, like sparsediff: read, order, colour.
                p = subprocess.run([CP, f, cpo, "--check"], capture_output=True, text=True, check=True)
                for line in p.stdout.splitlines():
                    j = json.loads(line); j.update(tool="colpack", case=name, round=r); log(j)
            for b in bins:
                for o in ["natural", "smallest-last"]:
                    p = subprocess.run([b, "color", f, "--problem", "symmetric", "--method", "d2", "--order", o, "--json"], capture_output=True, text=True, check=True)
                    j = json.loads(p.stdout); t = j["tried"][0]
                    log(dict(tool=b.split("/")[-1], case=name, round=r, order=o, colors=j["colors"], valid=j["valid"],
                             seconds=j["seconds"], tried_s=t["seconds"], order_s=t.get("order_seconds")))
