#!/usr/bin/env python3
"""Turns reduce_kernels_bench's JSON (with --benchmark_repetitions) into the
markdown tables of bench/results/reduce_kernels.md: the median GB/s (1e9 B/s)
of each benchmark, by buffer size, and each kernel's fraction of memcpy's."""
import json
import sys

SIZES = [4 << 10, 256 << 10, 4 << 20, 64 << 20]
SIZE_NAMES = ["4 KiB", "256 KiB", "4 MiB", "64 MiB"]
TYPES = ["f32", "f64", "f16", "bf16", "i8", "u8", "i32", "i64", "bool"]


def medians(path):
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        out[b["run_name"].removesuffix("/real_time")] = b["bytes_per_second"] / 1e9
    return data["context"], out


def row(label, values, memcpy=None):
    cells = []
    for size, v in zip(SIZES, values):
        if v is None:
            cells.append("-")
        elif memcpy is None:
            cells.append(f"{v:.1f}")
        else:
            cells.append(f"{v:.1f} ({v / memcpy[size]:.2f})")
    return f"| {label} | " + " | ".join(cells) + " |"


def main():
    context, gbs = medians(sys.argv[1])
    header = "| | " + " | ".join(SIZE_NAMES) + " |\n|---|" + "---:|" * len(SIZES)
    memcpy = {s: gbs[f"memcpy/{s}"] for s in SIZES}
    print(f"Active ISA: {context.get('reduce_isa', '?')}. "
          "GB/s (1e9 B/s), median of the repetitions; in brackets, the fraction of memcpy's GB/s.\n")
    print(header)
    print(row("memcpy", [memcpy[s] for s in SIZES]))
    for t in TYPES:
        print(row(f"{t} sum", [gbs.get(f"reduce_into/{t}/sum/{s}") for s in SIZES], memcpy))
    for op in ["prod", "min", "max"]:
        print(row(f"f32 {op}", [gbs.get(f"reduce_into/f32/{op}/{s}") for s in SIZES], memcpy))

    isa_rows = sorted({name.split("/")[1] for name in gbs if name.startswith("isa/")},
                      key=["generic", "avx2", "avx512"].index)
    if isa_rows:
        print("\nOne ISA's sum kernel at a time (GB/s):\n")
        print(header)
        for t in ["f32", "f16", "bf16", "i8"]:
            for isa in isa_rows:
                print(row(f"{t} {isa}", [gbs.get(f"isa/{isa}/{t}/sum/{s}") for s in SIZES]))


if __name__ == "__main__":
    main()
