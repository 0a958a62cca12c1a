#!/usr/bin/env python3
"""Summarises run.py output: per case, tool and order, min and median over the rounds."""
import json, sys, statistics as st, collections
recs = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
ups = [r["uptime"].split("load average:")[1].strip() for r in recs if "uptime" in r]
print("load averages (1, 5, 15 min) before rounds:", "; ".join(ups))
g = collections.defaultdict(list)
for r in recs:
    if "tool" in r: g[(r["case"], r["tool"], r["order"])].append(r)
def ms(x): return f"{x*1e3:.3f}"
for k in sorted(g):
    v = g[k]
    if k[1] == "colpack":
        c = [x["color_s"] for x in v]; o = [x["order_s"] for x in v]; t = [x["total_s"] for x in v]
        print(f"{k[0]:>9} {k[1]:>16} {k[2]:>27} n={len(v):2} colours {sorted(set(x['colors'] for x in v))} valid {all(x['valid'] for x in v)} "
              f"| colour min {ms(min(c))} med {ms(st.median(c))} | order min {ms(min(o))} med {ms(st.median(o))} | total min {ms(min(t))} med {ms(st.median(t))}"
              f" | cpu colour min {ms(min(x['cp_color_s'] for x in v))}")
    else:
        t = [x["tried_s"] for x in v]; s = [x["seconds"] for x in v]
        o = [x["order_s"] for x in v if x["order_s"] is not None]
        c = [x["tried_s"] - x["order_s"] for x in v if x["order_s"] is not None]
        print(f"{k[0]:>9} {k[1]:>16} {k[2]:>27} n={len(v):2} colours {sorted(set(x['colors'] for x in v))} valid {all(x['valid'] for x in v)} "
              + (f"| colour min {ms(min(c))} med {ms(st.median(c))} | order min {ms(min(o))} med {ms(st.median(o))} " if o else "")
              + f"| order+colour min {ms(min(t))} med {ms(st.median(t))} | seconds min {ms(min(s))} med {ms(st.median(s))}")
