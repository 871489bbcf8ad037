#!/usr/bin/env python3
"""Draws mc_tune's measurements: time against size per algorithm, log-log,
one panel per collective, the winner at each size marked.

    plot_tuning.py --csv tuning.csv --out tuning.png [--title TEXT]

The CSV is mc_tune's: op,bytes,algorithm,time_us,busbw_gbps,winner.
Exits 3 when matplotlib is missing (mc_tune says so and goes on without a chart).
"""
import argparse
import csv
import math
import sys
from collections import OrderedDict


def size_label(b):
    for unit, div in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if b >= div and b % div == 0:
            return f"{b // div}{unit}"
    return str(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--title", default="mc_tune")
    a = ap.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_tuning.py: matplotlib is not installed (pip install matplotlib)", file=sys.stderr)
        return 3

    ops = OrderedDict()  # op -> algorithm -> [(bytes, time_us, winner)]
    with open(a.csv, newline="") as f:
        for row in csv.DictReader(f):
            algos = ops.setdefault(row["op"], OrderedDict())
            algos.setdefault(row["algorithm"], []).append(
                (int(row["bytes"]), float(row["time_us"]), row["winner"] == "1", row.get("current") == "1"))
    if not ops:
        print(f"plot_tuning.py: {a.csv} holds no measurements", file=sys.stderr)
        return 1

    cols = min(3, len(ops))
    rows = math.ceil(len(ops) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.9 * rows), squeeze=False)
    for ax in axes.flat[len(ops):]:
        ax.set_visible(False)
    for ax, (op, algos) in zip(axes.flat, ops.items()):
        sizes = sorted({b for pts in algos.values() for b, *_ in pts})
        if len(sizes) == 1:
            # One size (barrier): a bar per algorithm, the winner outlined.
            names = list(algos)
            times = [algos[n][0][1] for n in names]
            bars = ax.bar(names, times, color=[f"C{i}" for i in range(len(names))])
            for bar, n in zip(bars, names):
                if algos[n][0][2]:
                    bar.set_edgecolor("black")
                    bar.set_linewidth(2.5)
            ax.set_title(f"{op} (size {size_label(sizes[0])})")
            ax.set_ylabel("time per call (us)")
            ax.set_xlabel("algorithm (outlined: winner)")
            ax.grid(True, axis="y", alpha=0.3)
            continue
        for name, pts in algos.items():
            pts.sort()
            xs = [max(b, 1) for b, *_ in pts]
            ys = [t for _, t, *_ in pts]
            line, = ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.2, label=name)
            wx = [max(b, 1) for b, _, w, _ in pts if w]
            wy = [t for _, t, w, _ in pts if w]
            ax.scatter(wx, wy, s=90, facecolors="none", edgecolors=line.get_color(), linewidths=1.8, zorder=3)
            cx = [max(b, 1) for b, _, _, c in pts if c]
            cy = [t for _, t, _, c in pts if c]
            ax.scatter(cx, cy, s=40, marker="x", color="black", linewidths=1.0, zorder=4)
        ax.set_xscale("log", base=2)
        ticks = sizes if len(sizes) <= 8 else sizes[:: math.ceil(len(sizes) / 8)]
        ax.set_xticks([max(t, 1) for t in ticks])
        ax.set_xticklabels([size_label(t) for t in ticks], fontsize=8)
        ax.set_yscale("log")
        ax.set_title(op)
        ax.set_xlabel("size (bytes, whole buffer)")
        ax.set_ylabel("time per call (us)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, title="circled: winner; x: choice before", title_fontsize=7)
    fig.suptitle(a.title)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
