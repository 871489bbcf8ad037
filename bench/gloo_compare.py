#!/usr/bin/env python3
"""Runs, in one go on this machine, mc_perf's collectives over shm next to Gloo
(PyTorch's CPU backend, torch.distributed with backend="gloo") for the same
sizes, world sizes and collectives, and single-thread memcpy at 64 MiB as the
ceiling. Writes a Markdown report with the ours/Gloo speedup and bus bandwidth
per size, and a PNG.

    bench/gloo_compare.py [--build build] [-b 1K] [-e 64M] [-f 4] [--np 2,4] [-r 5]
                          [--ops allreduce,allgather,broadcast,alltoall,reduce_scatter]
                          [--out bench/results/gloo_compare.md] [--png bench/results/gloo_compare.png]

Both sides are timed the same way: f32 (sum for the reductions), out of place,
sizes as nccl-tests prints them (the whole buffer: allgather's output,
reduce_scatter's input, alltoall's buffer), a repetition is the mean time of
up to 1000 calls (fewer past 256 MiB per repetition, at least 2) after a warmup,
each repetition's time is the slowest rank's, and the median of the repetitions
is reported. busbw uses nccl-tests' factors. Ours also runs --check.

Gloo comes from PyPI: pip install torch (the CPU wheel where that index can be
reached; the default wheel works too, its CUDA libraries just go unused).
"""
import argparse
import json
import os
import platform
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time

UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
OPS = ["allreduce", "allgather", "broadcast", "alltoall", "reduce_scatter"]
REP_BUDGET = 256 << 20  # as mc_perf: sizes moved per repetition
MAX_ITERS = 1000
WARMUP = 5


def parse_size(text):
    text = text.strip().lower()
    if text[-1] in UNITS:
        return int(text[:-1]) * UNITS[text[-1]]
    return int(text)


def sizes(lo, hi, factor):
    s = lo
    while s <= hi:
        yield s
        s *= factor


def busbw_factor(op, n):
    if op == "allreduce":
        return 2 * (n - 1) / n
    if op in ("allgather", "reduce_scatter", "alltoall"):
        return (n - 1) / n
    return 1.0


def iters_for(size):
    return min(MAX_ITERS, max(2, REP_BUDGET // max(size, 1)))


def run(cmd, env=None, timeout=3600):
    full_env = dict(os.environ)
    full_env.update(env or {})
    out = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        sys.exit(f"command failed ({out.returncode}): {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
    return out.stdout


def table_rows(text, ncols):
    rows = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split()
        if len(parts) >= ncols:
            rows.append(parts)
    return rows


# ---------------------------------------------------------------- ours

def mc_perf(build, op, np, lo, hi, factor, reps):
    cmd = [f"{build}/bin/mc_perf", "--np", str(np), "--op", op, "-b", str(lo), "-e", str(hi), "-f", str(factor),
           "-r", str(reps), "-n", str(MAX_ITERS), "-w", str(WARMUP), "--check"]
    out = run(cmd, env={"MC_TRANSPORT": "shm"})
    result = {}
    for p in table_rows(out, 10):
        # size count type redop root algorithm time algbw busbw #wrong
        if p[9] not in ("0", "N/A"):
            sys.exit(f"mc_perf {op} --np {np} reported {p[9]} wrong elements at size {p[0]}")
        result[int(p[0])] = {"time_us": float(p[6]), "busbw": float(p[8]), "algorithm": p[5]}
    return " ".join(cmd), result


def memcpy_bw(build, size, reps):
    out = run([f"{build}/bin/memcpy_bw", "-b", str(size), "-e", str(size), "-f", "2", "-r", str(reps)])
    return float(table_rows(out, 2)[0][1])


# ---------------------------------------------------------------- Gloo

def gloo_worker(args):
    """One rank: times every op and size, rank 0 writes the medians as JSON."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    rank, n = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=rank, world_size=n)
    results = {}
    for op in args.ops.split(","):
        for size in sizes(args.lo, args.hi, args.factor):
            if op in ("allreduce", "broadcast"):
                count = size // 4
                nbytes = count * 4
                send = torch.full((count,), float(rank + 1))
                recv = None
            else:
                block = size // (4 * n)
                nbytes = block * n * 4
                if op == "allgather":
                    send, recv = torch.full((block,), float(rank + 1)), torch.empty(block * n)
                elif op == "reduce_scatter":
                    send, recv = torch.full((block * n,), float(rank + 1)), torch.empty(block)
                else:  # alltoall
                    send, recv = torch.full((block * n,), float(rank + 1)), torch.empty(block * n)

            def call():
                if op == "allreduce":
                    dist.all_reduce(send)
                elif op == "broadcast":
                    dist.broadcast(send, src=0)
                elif op == "allgather":
                    dist.all_gather_into_tensor(recv, send)
                elif op == "reduce_scatter":
                    dist.reduce_scatter_tensor(recv, send)
                else:
                    dist.all_to_all_single(recv, send)

            iters = iters_for(nbytes)
            for _ in range(min(WARMUP, iters)):
                call()
            mine = []
            for _ in range(args.reps):
                dist.barrier()
                t0 = time.perf_counter()
                for _ in range(iters):
                    call()
                mine.append((time.perf_counter() - t0) / iters * 1e6)
            # The slowest rank's time per repetition, as mc_perf does.
            t = torch.tensor(mine, dtype=torch.float64)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            if rank == 0:
                results.setdefault(op, {})[nbytes] = statistics.median(t.tolist())
                print(f"gloo np={n} {op} {nbytes}: {results[op][nbytes]:.2f} us", file=sys.stderr, flush=True)
    dist.destroy_process_group()
    if rank == 0:
        with open(args.result, "w") as f:
            json.dump(results, f)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gloo(np, ops, lo, hi, factor, reps, tmpdir):
    result_path = os.path.join(tmpdir, f"gloo_{np}.json")
    port = free_port()
    procs = []
    for rank in range(np):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE=str(np), OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--gloo-worker", "--port", str(port), "--result", result_path,
             "--ops", ",".join(ops), "-b", str(lo), "-e", str(hi), "-f", str(factor), "-r", str(reps)],
            env=env, stdout=subprocess.DEVNULL, stderr=None if rank == 0 else subprocess.DEVNULL))
    codes = [p.wait(timeout=7200) for p in procs]
    if any(codes):
        sys.exit(f"gloo ranks exited with {codes}")
    with open(result_path) as f:
        return {op: {int(k): v for k, v in d.items()} for op, d in json.load(f).items()}


# ---------------------------------------------------------------- report

def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            if m:
                model = m.group(1).strip()
    except OSError:
        pass
    return f"{platform.node()}: {model}, {os.cpu_count()} cores, Linux {platform.release()}"


def size_label(b):
    for unit, div in (("M", 1 << 20), ("K", 1 << 10)):
        if b >= div and b % div == 0:
            return f"{b // div}{unit}"
    return str(b)


def plot(path, ours, theirs, nps, ops):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, NullFormatter
    except ImportError:
        print("gloo_compare.py: matplotlib is missing (pip install matplotlib); no PNG", file=sys.stderr)
        return False
    fig, axes = plt.subplots(2, len(ops), figsize=(4.2 * len(ops), 7.2), squeeze=False)
    styles = {2: "-", 4: "--"}
    for col, op in enumerate(ops):
        top, bottom = axes[0][col], axes[1][col]
        for np in nps:
            xs = sorted(ours[np][op])
            ls = styles.get(np, ":")
            top.plot(xs, [ours[np][op][s]["time_us"] for s in xs], "o" + ls, color="tab:blue", markersize=3,
                     label=f"MoonComm {np} ranks")
            gx = sorted(theirs[np][op])
            top.plot(gx, [theirs[np][op][s] for s in gx], "s" + ls, color="tab:orange", markersize=3,
                     label=f"Gloo {np} ranks")
            common = [s for s in xs if s in theirs[np][op]]
            bottom.plot(common, [theirs[np][op][s] / ours[np][op][s]["time_us"] for s in common], "o" + ls,
                        color="tab:green" if np == 2 else "tab:purple", markersize=3, label=f"{np} ranks")
        bottom.axhline(5, color="red", linewidth=0.8, linestyle=":", label="5x target (2 ranks)")
        for ax in (top, bottom):
            ax.set_xscale("log", base=2)
            ticks = sorted(ours[nps[0]][op])
            ax.set_xticks(ticks)
            ax.set_xticklabels([size_label(t) for t in ticks], fontsize=7)
            ax.grid(True, which="both", alpha=0.3)
        top.set_yscale("log")
        bottom.set_yscale("log")
        lo, hi = bottom.get_ylim()
        bottom.set_yticks([t for t in (0.1, 0.2, 0.3, 0.5, 1, 1.5, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000) if lo <= t <= hi])
        bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        bottom.yaxis.set_minor_formatter(NullFormatter())
        top.set_title(op)
        top.set_ylabel("time per call (us)")
        bottom.set_ylabel("speedup (Gloo time / ours)")
        bottom.set_xlabel("size (bytes, whole buffer)")
        top.legend(fontsize=7)
        bottom.legend(fontsize=7)
    fig.suptitle("MoonComm (shm) vs Gloo (torch.distributed), f32, medians")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-b", default="1K")
    ap.add_argument("-e", default="64M")
    ap.add_argument("-f", default="4")
    ap.add_argument("-r", default="5", help="repetitions; medians are reported")
    ap.add_argument("--np", default="2,4")
    ap.add_argument("--ops", default=",".join(OPS))
    ap.add_argument("--out", default=None)
    ap.add_argument("--png", default=None)
    ap.add_argument("--note", default=None, help="a paragraph for the report, after the machine line")
    # Internal: one Gloo rank.
    ap.add_argument("--gloo-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.lo, a.hi, a.factor, a.reps = parse_size(a.b), parse_size(a.e), int(a.f), int(a.r)
    if a.gloo_worker:
        gloo_worker(a)
        return
    ops = a.ops.split(",")
    nps = [int(x) for x in a.np.split(",")]
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        sys.exit("gloo_compare.py: torch is missing: pip install torch")

    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    mem = memcpy_bw(a.build, 64 << 20, a.reps)
    ours, theirs, commands = {}, {}, []
    tmpdir = tempfile.mkdtemp(prefix="gloo_compare.")
    for np in nps:
        ours[np] = {}
        for op in ops:
            cmd, ours[np][op] = mc_perf(a.build, op, np, a.lo, a.hi, a.factor, a.reps)
            commands.append(cmd)
            print(f"ours np={np} {op}: done", file=sys.stderr, flush=True)
        theirs[np] = gloo(np, ops, a.lo, a.hi, a.factor, a.reps, tmpdir)
    mem_after = memcpy_bw(a.build, 64 << 20, a.reps)
    load_after = os.getloadavg()

    argv = shlex.join(["bench/gloo_compare.py"] + sys.argv[1:])
    lines = [
        "# MoonComm collectives against Gloo",
        "",
        f"Command: `{argv}` (one run: memcpy_bw, mc_perf over MC_TRANSPORT=shm with --check, "
        f"Gloo through torch {torch_version} with backend=\"gloo\", same sizes, world sizes and collectives).",
        "",
        f"Machine: {machine()}. Started {started}. Load average (1, 5, 15 min) before: "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; after: "
        f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}.",
    ]
    if a.note:
        lines += ["", a.note]
    if os.cpu_count() and max(nps) > os.cpu_count():
        lines.append(f"With {max(nps)} ranks on {os.cpu_count()} cores the ranks oversubscribe the CPU: those rows "
                     "measure time-sharing as much as the algorithms, for both libraries.")
    lines += [
        "",
        "Both sides: f32, sum, out of place; size is the whole buffer as nccl-tests prints it; a repetition is the "
        f"mean of up to {MAX_ITERS} calls (at least 2, fewer past 256 MiB per repetition) after {WARMUP} warmup "
        f"calls; the slowest rank's repetition counts; median of {a.reps} repetitions. busbw (GB/s, 1e9 B/s) uses "
        "nccl-tests' factors: allreduce 2(n-1)/n, allgather, reduce_scatter and alltoall (n-1)/n, broadcast 1. "
        "Speedup = Gloo time / our time.",
        "",
        f"Single-thread memcpy at 64 MiB (`memcpy_bw -b 64M -e 64M`): {mem:.2f} GB/s before the collectives, "
        f"{mem_after:.2f} GB/s after.",
        "",
    ]
    worst2 = None
    for np in nps:
        lines += [f"## {np} ranks", "",
                  "| op | size (B) | ours us | algorithm | Gloo us | speedup | ours busbw | Gloo busbw |",
                  "|---|---:|---:|---|---:|---:|---:|---:|"]
        for op in ops:
            for s in sorted(ours[np][op]):
                o = ours[np][op][s]
                g = theirs[np][op].get(s)
                if g is None:
                    continue
                speed = g / o["time_us"]
                gbus = s / g / 1e3 * busbw_factor(op, np)
                lines.append(f"| {op} | {s} | {o['time_us']:.2f} | {o['algorithm']} | {g:.2f} | {speed:.2f}x "
                             f"| {o['busbw']:.3f} | {gbus:.3f} |")
                if np == 2 and (worst2 is None or speed < worst2[0]):
                    worst2 = (speed, op, s)
        lines.append("")

    lines += ["## Targets", ""]
    if worst2 is not None:
        below = [(op, s, theirs[2][op][s] / ours[2][op][s]["time_us"]) for op in ops for s in sorted(ours[2][op])
                 if s in theirs[2][op] and theirs[2][op][s] / ours[2][op][s]["time_us"] < 5]
        verdict = "met" if not below else f"not met at {len(below)} of {sum(len(ours[2][op]) for op in ops)} points"
        lines.append(f"- At least 5x faster than Gloo at every size with 2 ranks over shm: **{verdict}**; the "
                     f"smallest speedup is {worst2[0]:.2f}x ({worst2[1]} at {worst2[2]} B).")
        if below:
            lines.append("  Below 5x: " + ", ".join(f"{op} {size_label(s)} {x:.2f}x" for op, s, x in below) + ".")
    for np in nps:
        if "allreduce" in ours[np] and (64 << 20) in ours[np]["allreduce"]:
            bus = ours[np]["allreduce"][64 << 20]["busbw"]
            ok = "met" if bus >= mem / 2 else "not met"
            lines.append(f"- Allreduce busbw at 64 MiB >= half of single-thread memcpy ({mem / 2:.2f} GB/s), "
                         f"{np} ranks: **{ok}**: {bus:.3f} GB/s = {bus / mem:.2f}x memcpy "
                         f"({ours[np]['allreduce'][64 << 20]['algorithm']}).")
    lines += ["", "mc_perf commands (each with MC_TRANSPORT=shm):", ""] + [f"    {c}" for c in commands]
    report = "\n".join(lines) + "\n"
    print(report)
    if a.out:
        os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
        with open(a.out, "w") as f:
            f.write(report)
    if a.png:
        plot(a.png, ours, theirs, nps, ops)


if __name__ == "__main__":
    main()
