#!/usr/bin/env python3
"""Times MoonComm's torch.distributed backend ("mooncomm") against Gloo on CPU
tensors, in the same processes and the same run, and measures what the
Python/c10d layer adds on top of the C++ library (mc_perf).

    PYTHONPATH=build/python bench/torch_compare.py [--np 2,4] [--sizes 1K:64M] [-f 4] [--iters 1000]
        [--warmup 20] [--reps 5] [--ops all_reduce,all_gather,broadcast,all_to_all,send_recv]
        [--out bench/results/torch_compare] [--quick] [--mc-perf overhead|all|none] [--build build]

Each world size is one set of ranks started here (subprocess, env://, a free
MASTER_PORT): the default group is `dist.init_process_group("mooncomm")`, the
other `dist.new_group(backend="gloo")`. For each op and size both groups are
checked once for correct results, warmed up, then timed repetition by
repetition, alternating which backend goes first, so that whatever else runs
on the machine hits both. A repetition is: a barrier of the group being timed,
then a timing loop of up to --iters calls with no barrier inside (fewer at
large sizes: 256 MiB moved per repetition, at least 2 calls), timed with
perf_counter; its time is the slowest rank's mean per call (as mc_perf and
bench/gloo_compare.py do). The table gives the median over --reps repetitions.

Ops, f32 CPU tensors, size as nccl-tests prints it (the whole buffer):
all_reduce (sum, in place), all_gather (all_gather_into_tensor; size = the
output), broadcast (root 0), all_to_all (all_to_all_single, even splits; size
= the input), send_recv (ping-pong between ranks 0 and 1, dist.send/dist.recv;
the one-way time = round trip / 2; other ranks wait).

Overhead: with 2 ranks the script also runs
`mc_perf --op allreduce -b 1K -e 1K --np 2 --inplace` with the same -n/-w/-r,
alternating with a torch run that times all_reduce at 1 KiB the same way
through three layers (dist.all_reduce, ProcessGroup.allreduce().wait(),
the mooncomm Backend object's allreduce().wait()), and reports
torch minus mc_perf. --mc-perf all also runs mc_perf for every op, world size
and size and adds its time as a column.

MC_TRANSPORT comes from the environment (default here: shm).

Time: on 2 cores, 4 ranks oversubscribe the CPU and Gloo takes ~5 ms per small
call there, so --iters 1000 makes the full run take ~20 minutes; --iters 200
brings 2 and 4 ranks, 1K..64M, to ~5 minutes. Other work on the machine
decides the numbers (the ranks poll): run it on an otherwise idle machine.
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
OPS = ["all_reduce", "all_gather", "broadcast", "all_to_all", "send_recv"]
MC_PERF_OP = {"all_reduce": "allreduce", "all_gather": "allgather", "broadcast": "broadcast",
              "all_to_all": "alltoall", "send_recv": "p2p"}
BACKENDS = ["mooncomm", "gloo"]
REP_BUDGET = 256 << 20  # bytes moved per repetition, as mc_perf
OVERHEAD_SIZE = 1 << 10
FR_VAR = "TORCH_FR_BUFFER_SIZE"
OVERHEAD_TARGET_US = 10.0
SPEEDUP_TARGET = 5.0
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def parse_size(text):
    text = text.strip().lower().removesuffix("ib").removesuffix("b")
    if text and text[-1] in UNITS:
        return int(text[:-1]) * UNITS[text[-1]]
    return int(text)


def parse_range(text):
    for sep in (":", "..", "-"):
        if sep in text:
            lo, hi = text.split(sep, 1)
            return parse_size(lo), parse_size(hi)
    s = parse_size(text)
    return s, s


def size_list(lo, hi, factor):
    out, s = [], lo
    while s <= hi:
        out.append(s)
        s *= factor
    return out


def size_label(b):
    for unit, div in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if b >= div and b % div == 0:
            return f"{b // div}{unit}"
    return str(b)


def iters_for(size, cap, budget):
    return min(cap, max(2, budget // max(size, 1)))


# ---------------------------------------------------------------- one rank

def make_buffers(torch, op, size, rank, n):
    """The tensors for one op and size (size = the whole buffer as nccl-tests prints it)."""
    if op in ("all_reduce", "broadcast", "send_recv"):
        count = max(1, size // 4)
        return {"t": torch.zeros(count)}, count * 4
    block = max(1, size // (4 * n))
    if op == "all_gather":
        return {"in": torch.zeros(block), "out": torch.zeros(block * n)}, block * n * 4
    return {"in": torch.zeros(block * n), "out": torch.zeros(block * n)}, block * n * 4  # all_to_all


def make_call(dist, op, bufs, group, rank):
    if op == "all_reduce":
        t = bufs["t"]
        return lambda: dist.all_reduce(t, group=group)
    if op == "broadcast":
        t = bufs["t"]
        return lambda: dist.broadcast(t, src=0, group=group)
    if op == "all_gather":
        i, o = bufs["in"], bufs["out"]
        return lambda: dist.all_gather_into_tensor(o, i, group=group)
    if op == "all_to_all":
        i, o = bufs["in"], bufs["out"]
        return lambda: dist.all_to_all_single(o, i, group=group)
    t = bufs["t"]  # send_recv: one round trip per call
    if rank == 0:
        def ping():
            dist.send(t, 1, group=group)
            dist.recv(t, 1, group=group)
        return ping
    if rank == 1:
        def pong():
            dist.recv(t, 0, group=group)
            dist.send(t, 0, group=group)
        return pong
    return None


def check(torch, dist, op, bufs, group, rank, n, backend):
    """One call with rank-dependent data; raises when the result is wrong."""
    def fail(what):
        raise RuntimeError(f"{backend} {op}: wrong result on rank {rank}: {what}")
    if op == "all_reduce":
        bufs["t"].fill_(rank + 1)
        dist.all_reduce(bufs["t"], group=group)
        if not torch.all(bufs["t"] == n * (n + 1) / 2):
            fail("sum")
    elif op == "broadcast":
        bufs["t"].fill_(7.0 if rank == 0 else -1.0)
        dist.broadcast(bufs["t"], src=0, group=group)
        if not torch.all(bufs["t"] == 7.0):
            fail("root's data")
    elif op == "all_gather":
        bufs["in"].fill_(rank + 1)
        bufs["out"].fill_(-1)
        dist.all_gather_into_tensor(bufs["out"], bufs["in"], group=group)
        want = torch.arange(1, n + 1, dtype=torch.float32).repeat_interleave(bufs["in"].numel())
        if not torch.equal(bufs["out"], want):
            fail("blocks")
    elif op == "all_to_all":
        block = bufs["in"].numel() // n
        bufs["in"].copy_((rank * n + torch.arange(n, dtype=torch.float32)).repeat_interleave(block))
        bufs["out"].fill_(-1)
        dist.all_to_all_single(bufs["out"], bufs["in"], group=group)
        want = (torch.arange(n, dtype=torch.float32) * n + rank).repeat_interleave(block)
        if not torch.equal(bufs["out"], want):
            fail("blocks")
    elif op == "send_recv" and rank in (0, 1):
        t = bufs["t"]
        if rank == 0:
            t.copy_(torch.arange(t.numel(), dtype=torch.float32))
            dist.send(t, 1, group=group)
            t.fill_(-1)
            dist.recv(t, 1, group=group)
        else:
            t.fill_(-1)
            dist.recv(t, 0, group=group)
            dist.send(t, 0, group=group)
        if not torch.equal(t, torch.arange(t.numel(), dtype=torch.float32)):
            fail("echoed data")
    for v in bufs.values():
        v.zero_()  # timing runs on zeros: repeated in-place sums stay finite


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def slowest_per_rep(torch, dist, mine, gloo):
    """Element-wise max over ranks (through the Gloo group, so mooncomm's timing stays clean)."""
    t = torch.tensor(mine, dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX, group=gloo)
    return t.tolist()


def worker(a):
    import torch
    import torch.distributed as dist
    import mooncomm  # noqa: F401  registers "mooncomm"

    torch.set_num_threads(1)
    dist.init_process_group("mooncomm")  # env://: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
    gloo = dist.new_group(backend="gloo")
    rank, n = dist.get_rank(), dist.get_world_size()
    groups = {"mooncomm": None, "gloo": gloo}
    lo, hi = parse_range(a.sizes)
    out = {"table": {}, "overhead": None}

    def log(msg):
        if rank == 0:
            print(msg, file=sys.stderr, flush=True)

    if a.worker == "table":
        for op in a.ops.split(","):
            if op == "send_recv" and n < 2:
                continue
            for size in size_list(lo, hi, a.factor):
                bufs, nbytes = make_buffers(torch, op, size, rank, n)
                for b in BACKENDS:
                    check(torch, dist, op, bufs, groups[b], rank, n, b)
                iters = iters_for(nbytes, a.iters, a.budget)
                calls = {b: make_call(dist, op, bufs, groups[b], rank) for b in BACKENDS}
                # send/recv: the idle ranks wait in Gloo's barrier, which sleeps.
                sync = {b: (lambda: dist.barrier(group=gloo)) if op == "send_recv" else
                        (lambda g=groups[b]: dist.barrier(group=g)) for b in BACKENDS}
                for b in BACKENDS:
                    if calls[b]:
                        for _ in range(min(a.warmup, iters)):
                            calls[b]()
                mine = {b: [] for b in BACKENDS}
                for rep in range(a.reps):
                    for b in (BACKENDS if rep % 2 == 0 else BACKENDS[::-1]):
                        sync[b]()
                        call = calls[b]
                        if call is None:
                            mine[b].append(0.0)
                            continue
                        t0 = time.perf_counter()
                        for _ in range(iters):
                            call()
                        per_call = (time.perf_counter() - t0) / iters * 1e6
                        mine[b].append(per_call / 2 if op == "send_recv" else per_call)
                slow = slowest_per_rep(torch, dist, mine["mooncomm"] + mine["gloo"], gloo)
                row = {"iters": iters, "load": os.getloadavg()[0],
                       "mooncomm": spread(slow[:a.reps]), "gloo": spread(slow[a.reps:])}
                out["table"].setdefault(op, {})[nbytes] = row
                log(f"np={n} {op} {size_label(nbytes)}: mooncomm {row['mooncomm']['median']:.2f} us, "
                    f"gloo {row['gloo']['median']:.2f} us ({iters} iters)")
                del bufs, calls
    else:  # overhead: all_reduce 1 KiB through the layers, timed as mc_perf times it
        t = torch.zeros(OVERHEAD_SIZE // 4)
        pg = dist.group.WORLD
        backend = pg._get_backend(torch.device("cpu"))
        layers = {
            "dist.all_reduce": lambda: dist.all_reduce(t),
            "ProcessGroup.allreduce().wait()": lambda: pg.allreduce([t]).wait(),
            "Backend.allreduce().wait()": lambda: backend.allreduce([t]).wait(),
        }
        # torch's own cost per layer: the same calls on torch's FakeProcessGroup, a backend that does nothing.
        try:
            import torch.testing._internal.distributed.fake_pg  # noqa: F401  registers "fake"
            fake = dist.new_group(backend="fake")
            fake_backend = fake._get_backend(torch.device("cpu"))
            layers.update({
                "null: dist.all_reduce": lambda: dist.all_reduce(t, group=fake),
                "null: ProcessGroup.allreduce().wait()": lambda: fake.allreduce([t]).wait(),
                "null: Backend.allreduce().wait()": lambda: fake_backend.allreduce([t]).wait(),
            })
        except Exception as e:  # noqa: BLE001  the fake backend is internal to torch
            log(f"torch's fake backend is not usable here ({e}); no null-backend reference")
        for name in [n for n in layers if "Backend" in n]:
            try:
                layers[name]()
            except Exception as e:  # noqa: BLE001  an older torch without the binding
                log(f"{name} is not callable here ({e}); skipped")
                del layers[name]
        names = list(layers)
        for name in names:
            for _ in range(a.warmup):
                layers[name]()
        mine = {name: [] for name in names}
        for rep in range(a.reps):
            for name in (names if rep % 2 == 0 else names[::-1]):
                dist.barrier()
                call = layers[name]
                t0 = time.perf_counter()
                for _ in range(a.iters):
                    call()
                mine[name].append((time.perf_counter() - t0) / a.iters * 1e6)
        flat = slowest_per_rep(torch, dist, [x for name in names for x in mine[name]], gloo)
        out["overhead"] = {name: spread(flat[i * a.reps:(i + 1) * a.reps]) for i, name in enumerate(names)}
    dist.destroy_process_group()
    if rank == 0:
        with open(a.result, "w") as f:
            json.dump(out, f)


# ---------------------------------------------------------------- driver

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(a):
    env = dict(os.environ)
    env.setdefault("MC_TRANSPORT", "shm")
    py = os.path.join(os.path.abspath(a.build), "python")
    env["PYTHONPATH"] = py + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["OMP_NUM_THREADS"] = "1"
    return env


def launch(a, np, mode, tmpdir, timeout, extra_env=None):
    result = os.path.join(tmpdir, f"{mode}_{np}_{time.monotonic_ns()}.json")
    port = free_port()
    args = [sys.executable, os.path.abspath(__file__), "--worker", mode, "--result", result,
            "--ops", ",".join(a.ops_list), "--sizes", f"{a.lo}:{a.hi}", "-f", str(a.factor),
            "--iters", str(a.iters), "--warmup", str(a.warmup), "--reps", str(a.reps), "--budget", str(a.budget)]
    procs = []
    for rank in range(np):
        env = base_env(a)
        env.update(extra_env or {})
        env.update(RANK=str(rank), WORLD_SIZE=str(np), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(np),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        procs.append(subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                      stderr=None if rank == 0 else subprocess.PIPE, text=True))
    deadline = time.monotonic() + timeout
    failed = None
    while any(p.poll() is None for p in procs):
        bad = [r for r, p in enumerate(procs) if p.poll() not in (None, 0)]
        if bad or time.monotonic() > deadline:
            failed = f"ranks {bad} failed" if bad else f"timed out after {timeout} s"
            break
        time.sleep(0.2)
    if failed is None:
        bad = [r for r, p in enumerate(procs) if p.returncode != 0]
        if bad:
            failed = f"ranks {bad} failed"
    if failed:
        for p in procs:  # only the ranks started here
            if p.poll() is None:
                p.kill()
        msgs = []
        for r, p in enumerate(procs):
            p.wait()
            if r and p.stderr:
                msgs.append(f"--- rank {r} (exit {p.returncode}):\n{p.stderr.read()[-3000:]}")
        sys.exit(f"torch_compare.py: {mode} run with {np} ranks: {failed}\n" + "\n".join(msgs))
    for p in procs[1:]:
        p.stderr.read()
    with open(result) as f:
        out = json.load(f)
    out["table"] = {op: {int(k): v for k, v in rows.items()} for op, rows in out.get("table", {}).items()}
    return out


def run_cmd(cmd, env, timeout=1800):
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        sys.exit(f"command failed ({out.returncode}): {shlex.join(cmd)}\n{out.stdout}\n{out.stderr}")
    return out.stdout


def data_rows(text, ncols):
    rows = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split()
        if len(parts) >= ncols and parts[0].isdigit():
            rows.append(parts)
    return rows


def mc_perf_coll(a, op, np, lo, hi, factor, iters, warmup, reps, check=True):
    """{size: time_us} from mc_perf's table (column 7: time(us)), and the command."""
    cmd = [os.path.join(a.build, "bin", "mc_perf"), "--op", MC_PERF_OP[op], "-b", str(lo), "-e", str(hi),
           "-f", str(factor), "--np", str(np), "-n", str(iters), "-w", str(warmup), "-r", str(reps)]
    if op == "all_reduce":
        cmd.append("--inplace")  # as torch's all_reduce
    if check:
        cmd.append("--check")
    out = run_cmd(cmd, base_env(a))
    res = {}
    if op == "send_recv":
        # p2p: size, then one-way latency (us) first among its columns; parsed by the header line.
        header = next((ln for ln in out.splitlines() if ln.startswith("#") and "size" in ln and "lat(" in ln), None)
        col = 2
        if header:
            names = header.lstrip("#").split()
            col = next((i for i, h in enumerate(names) if h.startswith("lat(")), 2)
        for p in data_rows(out, col + 1):
            res[int(p[0])] = {"time_us": float(p[col]), "algorithm": "p2p"}
    else:
        for p in data_rows(out, 10):
            # size count type redop root algorithm time algbw busbw #wrong
            if p[9] not in ("0", "N/A", "-1"):
                sys.exit(f"mc_perf {op} --np {np} reported {p[9]} wrong elements at size {p[0]}")
            res[int(p[0])] = {"time_us": float(p[6]), "algorithm": p[5]}
    return shlex.join(cmd), res, out


def cpu_busy(seconds=2.0):
    """Fraction of all CPUs busy over `seconds` (from /proc/stat), before anything of ours runs."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
        return 1.0 - (i1 - i0) / max(1, t1 - t0)
    except OSError:
        return None


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            if m:
                model = m.group(1).strip()
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return f"{platform.node()}: {model}, nproc {usable} (of {os.cpu_count()}), Linux {platform.release()}"


def plot(path, table, lib, nps, ops):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, NullFormatter
    except ImportError:
        print("torch_compare.py: matplotlib is missing (pip install matplotlib); no PNG", file=sys.stderr)
        return False
    ops = [op for op in ops if any(op in table[np] for np in nps)]
    fig, axes = plt.subplots(2, len(ops), figsize=(4.2 * len(ops), 7.4), squeeze=False)
    styles = {2: "-", 4: "--"}
    for col, op in enumerate(ops):
        top, bottom = axes[0][col], axes[1][col]
        ticks = set()
        for np in nps:
            rows = table[np].get(op, {})
            xs = sorted(rows)
            if not xs:
                continue
            ticks.update(xs)
            ls = styles.get(np, ":")
            top.plot(xs, [rows[s]["mooncomm"]["median"] for s in xs], "o" + ls, color="tab:blue", markersize=3,
                     label=f"mooncomm {np} ranks")
            top.plot(xs, [rows[s]["gloo"]["median"] for s in xs], "s" + ls, color="tab:orange", markersize=3,
                     label=f"gloo {np} ranks")
            lx = sorted(s for s in lib.get(np, {}).get(op, {}) if s in rows)
            if lx:
                top.plot(lx, [lib[np][op][s]["time_us"] for s in lx], "^" + ls, color="tab:gray", markersize=3,
                         alpha=0.7, label=f"mc_perf (C++) {np} ranks")
            bottom.plot(xs, [rows[s]["gloo"]["median"] / rows[s]["mooncomm"]["median"] for s in xs], "o" + ls,
                        color="tab:green" if np == 2 else "tab:purple", markersize=3, label=f"{np} ranks")
        bottom.axhline(SPEEDUP_TARGET, color="red", linewidth=0.8, linestyle=":", label="5x target (2 ranks)")
        for ax in (top, bottom):
            ax.set_xscale("log", base=2)
            t = sorted(ticks)
            ax.set_xticks(t)
            ax.set_xticklabels([size_label(x) for x in t], fontsize=7, rotation=45)
            ax.grid(True, which="both", alpha=0.3)
        top.set_yscale("log")
        bottom.set_yscale("log")
        blo, bhi = bottom.get_ylim()
        bottom.set_yticks([v for v in (0.1, 0.2, 0.3, 0.5, 1, 1.5, 2, 3, 5, 10, 20, 30, 50, 100) if blo <= v <= bhi])
        bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        bottom.yaxis.set_minor_formatter(NullFormatter())
        top.set_title(op + (" (one-way)" if op == "send_recv" else ""))
        top.set_ylabel("time per call (us)")
        bottom.set_ylabel("speedup (gloo / mooncomm)")
        bottom.set_xlabel("size (bytes, whole buffer)")
        top.legend(fontsize=6)
        bottom.legend(fontsize=6)
    fig.suptitle("torch.distributed on CPU tensors: mooncomm vs gloo, same processes, f32, medians")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--np", default=None, help="world sizes, comma list (default 2,4; --quick: 2)")
    ap.add_argument("--sizes", default=None, help="size range MIN:MAX, K/M/G suffixes (default 1K:64M; --quick: 1K:1M)")
    ap.add_argument("-f", "--factor", type=int, default=4, help="size step (default 4)")
    ap.add_argument("--iters", type=int, default=None, help="timed calls per repetition at small sizes (default 1000; --quick 200)")
    ap.add_argument("--warmup", type=int, default=20, help="warmup calls per backend, op and size (default 20)")
    ap.add_argument("--reps", type=int, default=None, help="repetitions; medians are reported (default 5; --quick 3)")
    ap.add_argument("--budget", default=None, help="bytes per repetition that cap the calls at large sizes (default 256M)")
    ap.add_argument("--ops", default=",".join(OPS), help="comma list of " + ", ".join(OPS))
    ap.add_argument("--out", default=None, help="output prefix: writes PREFIX.md and PREFIX.png "
                    "(default bench/results/torch_compare)")
    ap.add_argument("--quick", action="store_true", help="2 ranks, 1K:1M, 3 reps, 200 iters, one overhead round")
    ap.add_argument("--mc-perf", choices=("overhead", "all", "none"), default="overhead",
                    help="overhead (default): mc_perf allreduce 1 KiB for the overhead section; all: also an "
                    "mc_perf column for every op and size; none: skip mc_perf")
    ap.add_argument("--overhead-rounds", type=int, default=None,
                    help="alternating mc_perf / torch rounds for the overhead (default 5; --quick 1)")
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="build directory (bin/mc_perf, python/)")
    ap.add_argument("--note", default=None, help="a paragraph for the report")
    ap.add_argument("--worker", choices=("table", "overhead"), help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    a = ap.parse_args()

    q = a.quick
    a.np = a.np or ("2" if q else "2,4")
    a.sizes = a.sizes or ("1K:1M" if q else "1K:64M")
    a.iters = a.iters or (200 if q else 1000)
    a.reps = a.reps or (3 if q else 5)
    a.budget = parse_size(a.budget) if a.budget else REP_BUDGET
    rounds = a.overhead_rounds if a.overhead_rounds is not None else (1 if q else 5)
    if a.worker:
        worker(a)
        return

    a.lo, a.hi = parse_range(a.sizes)
    a.ops_list = [o.strip() for o in a.ops.split(",") if o.strip()]
    unknown = [o for o in a.ops_list if o not in OPS]
    if unknown:
        sys.exit(f"torch_compare.py: unknown ops {unknown} (expected some of {', '.join(OPS)})")
    nps = [int(x) for x in a.np.split(",")]
    if max(nps) > 4:
        print("torch_compare.py: more than 4 ranks on one machine; fine if it has the cores", file=sys.stderr)
    prefix = a.out or os.path.join(REPO, "bench", "results", "torch_compare")
    prefix = prefix.removesuffix(".md")
    mc_perf_bin = os.path.join(a.build, "bin", "mc_perf")
    if a.mc_perf != "none" and not os.access(mc_perf_bin, os.X_OK):
        sys.exit(f"torch_compare.py: {mc_perf_bin} is missing (build first, or --mc-perf none)")

    env = base_env(a)
    try:
        probe = subprocess.run([sys.executable, "-c", "import torch, mooncomm; print(torch.__version__); "
                                "print(mooncomm._C.__file__)"], env=env, capture_output=True, text=True, check=True)
        torch_version, ext_path = probe.stdout.split()
    except subprocess.CalledProcessError as e:
        sys.exit(f"torch_compare.py: cannot import torch and mooncomm (PYTHONPATH={env['PYTHONPATH']}):\n{e.stderr}")

    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    t_start = time.monotonic()
    load_before = os.getloadavg()
    busy_before = cpu_busy()
    tmpdir = tempfile.mkdtemp(prefix="torch_compare.")
    table, lib, lib_cmds = {}, {}, []
    for np in nps:
        if a.mc_perf == "all":
            lib[np] = {}
            for op in a.ops_list:
                cmd, res, _ = mc_perf_coll(a, op, np, a.lo, a.hi, a.factor, a.iters, a.warmup, a.reps)
                lib[np][op] = res
                lib_cmds.append(cmd)
                print(f"mc_perf np={np} {op}: done", file=sys.stderr, flush=True)
        table[np] = launch(a, np, "table", tmpdir, timeout=3600)["table"]

    overhead = []  # per round: mc_perf time, torch layers
    oh_cmd = None
    if 2 in nps and a.mc_perf != "none" and "all_reduce" in a.ops_list:
        for rnd in range(rounds):
            oh_cmd, res, raw = mc_perf_coll(a, "all_reduce", 2, OVERHEAD_SIZE, OVERHEAD_SIZE, 2, a.iters, a.warmup,
                                            a.reps, check=False)
            lib_time = res[OVERHEAD_SIZE]
            layers = launch(a, 2, "overhead", tmpdir, timeout=600)["overhead"]
            entry = {"mc_perf": lib_time, "layers": layers}
            if FR_VAR not in os.environ:
                # torch attaches its FlightRecorderHook to groups of out-of-tree backends (not to Gloo's):
                # the same measurement with it off shows what it costs per call.
                fr_off = launch(a, 2, "overhead", tmpdir, timeout=600, extra_env={FR_VAR: "0"})["overhead"]
                for k, v in fr_off.items():
                    if not k.startswith("null:"):
                        layers[f"{k}, {FR_VAR}=0"] = v
            overhead.append(entry)
            print(f"overhead round {rnd + 1}: mc_perf {lib_time['time_us']:.2f} us, " +
                  ", ".join(f"{k} {v['median']:.2f} us" for k, v in layers.items()), file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    elapsed = time.monotonic() - t_start

    # ------------------------------------------------------------ report
    argv = shlex.join(["python3", os.path.relpath(os.path.abspath(__file__), os.getcwd())] + sys.argv[1:])
    mc_env = {k: v for k, v in sorted(os.environ.items())
              if k.startswith(("MC_", "GLOO_", "OMP_")) or k in ("PYTHONPATH", "TP_SOCKET_IFNAME")}
    mc_env.setdefault("MC_TRANSPORT", "shm (set by this script: not in the environment)")
    lines = [
        "# torch.distributed: mooncomm against gloo on CPU tensors",
        "",
        f"Command: `{argv}`",
        "",
        f"Environment: torch {torch_version}, Python {platform.python_version()}, extension `{ext_path}`; "
        f"{machine()}. Started {started}, took {elapsed:.0f} s. Load average (1, 5, 15 min) before: "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; after: "
        f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}.",
        "",
        "Variables: " + ", ".join(f"`{k}={v}`" for k, v in mc_env.items()) + ".",
    ]
    if a.note:
        lines += ["", a.note]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cores and max(nps) > cores:
        lines += ["", f"With {max(nps)} ranks on {cores} cores the ranks oversubscribe the CPU: those rows measure "
                  "time-sharing as much as the backends, for both."]
    if busy_before is not None:
        lines += ["", f"CPU busy in the 2 s before the run (/proc/stat, all cores): {busy_before * 100:.0f}%. "
                  "The load column and the load averages count the benchmark's own ranks too (a rank that polls "
                  f"counts as running: about {max(nps)} with {max(nps)} ranks)."]
        if busy_before > 0.25:
            lines += ["", "Other work was running when the run started: absolute times are noisy; the two "
                      "backends ran interleaved in the same processes, so their ratio is the steadier number."]
    lines += [
        "",
        "Method: the same ranks hold both groups (default group `init_process_group(\"mooncomm\")` over env://, "
        "plus `new_group(backend=\"gloo\")`); for each op and size both are checked once for correct results, "
        f"warmed up ({a.warmup} calls), then timed in {a.reps} repetitions that alternate which backend goes first. "
        f"A repetition is a barrier of the group timed, then up to {a.iters} calls with no barrier inside "
        f"(at least 2, fewer past {size_label(a.budget)} moved); its time is the slowest rank's mean per call "
        "(as mc_perf and nccl-tests' max over ranks); the table gives the median of the repetitions "
        "[min-max in brackets]; load is the 1-minute load average when the row finished. f32; size is the whole buffer (all_gather: the output, all_to_all: the input); "
        "all_reduce sums in place; broadcast from rank 0; send_recv is dist.send/dist.recv ping-pong between ranks "
        "0 and 1, reported one way (round trip / 2), the other ranks waiting in Gloo's barrier. "
        "Speedup = gloo / mooncomm.",
        "",
    ]
    below = []
    npoints2 = 0
    for np in nps:
        has_lib = np in lib
        head = "| op | ranks | size | mooncomm us | gloo us | speedup |" + (" mc_perf us | mooncomm - mc_perf us |" if has_lib else "") + " load |"
        lines += [f"## {np} ranks", "", head, "|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if has_lib else "") + "---:|"]
        for op in a.ops_list:
            for s in sorted(table[np].get(op, {})):
                r = table[np][op][s]
                m, g = r["mooncomm"], r["gloo"]
                sp = g["median"] / m["median"]
                row = (f"| {op} | {np} | {size_label(s)} | {m['median']:.2f} [{m['min']:.1f}-{m['max']:.1f}] "
                       f"| {g['median']:.2f} [{g['min']:.1f}-{g['max']:.1f}] | {sp:.2f}x |")
                if has_lib:
                    lt = lib[np].get(op, {}).get(s)
                    row += (f" {lt['time_us']:.2f} | {m['median'] - lt['time_us']:+.2f} |" if lt else " - | - |")
                row += f" {r.get('load', float('nan')):.1f} |"
                lines.append(row)
                if np == 2:
                    npoints2 += 1
                    if sp < SPEEDUP_TARGET:
                        below.append((op, s, sp))
        lines.append("")

    if overhead:
        names = list(overhead[0]["layers"])
        nr = len(overhead)
        lat_rounds = [r["mc_perf"]["time_us"] for r in overhead]
        lat = statistics.median(lat_rounds)
        lines += ["## Python/c10d overhead: all_reduce 1 KiB, 2 ranks", "",
                  f"mc_perf (the C++ library alone): `{oh_cmd}`, same MC_TRANSPORT. Each of {nr} rounds runs "
                  "mc_perf, then a fresh pair of torch ranks that times the same all_reduce the same way (barrier, "
                  f"{a.iters} calls, slowest rank's mean, median of {a.reps} repetitions) through three layers, "
                  "interleaved: `dist.all_reduce` (the Python API), `ProcessGroup.allreduce([t]).wait()` (the "
                  "c10d dispatcher, no Python wrapper), and `Backend.allreduce([t]).wait()` on the backend "
                  "object (pybind straight into ProcessGroupMoonComm). The `null:` rows time the same calls on "
                  "torch's FakeProcessGroup (a backend that returns a finished Work and moves nothing), in the same "
                  "processes and repetitions: what torch itself costs per call at that layer."
                  + (f" Rows ending `{FR_VAR}=0` come from a second pair of ranks per round started with "
                     f"{FR_VAR}=0, which keeps torch from attaching its FlightRecorderHook to the mooncomm group "
                     "(torch attaches it to out-of-tree backends' groups, not to Gloo's or the fake one's)."
                     if any(FR_VAR in n for n in names) else ""),
                  "",
                  "| layer | " + " | ".join(f"round {i + 1} us" for i in range(nr)) + " | median us | "
                  "minus mc_perf us |",
                  "|---|" + "---:|" * nr + "---:|---:|",
                  "| mc_perf (C++ library) | " + " | ".join(f"{x:.2f}" for x in lat_rounds) + f" | {lat:.2f} | |"]
        layer_meds = {}
        for n in names:
            vals = [r["layers"][n] for r in overhead]
            layer_meds[n] = statistics.median(v["median"] for v in vals)
            minus = "" if n.startswith("null:") else f"{layer_meds[n] - lat:+.2f}"
            lines.append(f"| {n} | " + " | ".join(f"{v['median']:.2f} [{v['min']:.1f}-{v['max']:.1f}]" for v in vals)
                         + f" | {layer_meds[n]:.2f} | {minus} |")
        lines.append("")
        diffs = [r["layers"]["dist.all_reduce"]["median"] - r["mc_perf"]["time_us"] for r in overhead]
        med = statistics.median(diffs)
        if "null: dist.all_reduce" in layer_meds:
            parts = []
            for n in ("dist.all_reduce", "ProcessGroup.allreduce().wait()", "Backend.allreduce().wait()"):
                if n in layer_meds and f"null: {n}" in layer_meds:
                    own = layer_meds[n] - lat - layer_meds[f"null: {n}"]
                    parts.append(f"{n}: {layer_meds[n] - lat:+.2f} us over mc_perf, of which torch's null "
                                 f"backend accounts for {layer_meds[f'null: {n}']:.2f} us, leaving {own:+.2f} us")
            lines += ["Medians over rounds: " + "; ".join(parts) + ". What is left is the mooncomm backend's "
                      "own per-call cost plus how those costs add up on the two ranks' critical path.", ""]
        best = min(r["layers"]["dist.all_reduce"]["min"] for r in overhead) - min(lat_rounds)
        lines += [f"Best case (the fastest repetition of dist.all_reduce over all rounds minus the fastest mc_perf "
                  f"round): {best:+.2f} us.", ""]
        if min(diffs) < 0 or max(lat_rounds) > 3 * min(lat_rounds):
            lines += ["Noise warning: mc_perf's time varied more than 3x between rounds, or came out slower than "
                      "torch's in some round; on this machine other work decided these numbers more than the "
                      "layers did. Rerun on an idle machine.", ""]
        overhead_verdict = (med, "met" if med < OVERHEAD_TARGET_US else "not met")
        fr_name = f"dist.all_reduce, {FR_VAR}=0"
        if fr_name in names:
            fr_med = statistics.median(r["layers"][fr_name]["median"] - r["mc_perf"]["time_us"] for r in overhead)
            overhead_verdict += (fr_med,)
    else:
        overhead_verdict = None

    lines += ["## Targets", ""]
    if 2 in nps:
        verdict = "met" if not below else f"not met at {len(below)} of {npoints2} points"
        worst = min(((table[2][op][s]["gloo"]["median"] / table[2][op][s]["mooncomm"]["median"], op, s)
                     for op in table[2] for s in table[2][op]), default=None)
        line = f"- At least {SPEEDUP_TARGET:g}x faster than gloo at every size with 2 ranks: **{verdict}**"
        if worst:
            line += f"; the smallest speedup is {worst[0]:.2f}x ({worst[1]} at {size_label(worst[2])})"
        lines.append(line + ".")
        if below:
            lines.append("  Below target: " + ", ".join(f"{op} {size_label(s)} {x:.2f}x" for op, s, x in below) + ".")
            if 2 in lib:
                lib_ok = [(op, s) for op, s, _ in below if lib[2].get(op, {}).get(s) and
                          table[2][op][s]["gloo"]["median"] / lib[2][op][s]["time_us"] >= SPEEDUP_TARGET]
                lines.append(f"  With mc_perf's time (the C++ library alone) in place of mooncomm's, {len(lib_ok)} of "
                             f"these {len(below)} would reach {SPEEDUP_TARGET:g}x against the same Gloo time"
                             + (": " + ", ".join(f"{op} {size_label(s)}" for op, s in lib_ok) +
                                " (there the torch layer is what misses)" if lib_ok else "")
                             + "; the others miss in the library/transport as well.")
    if overhead_verdict:
        lines.append(f"- dist.all_reduce at 1 KiB, 2 ranks, minus mc_perf's time: under {OVERHEAD_TARGET_US:g} us: "
                     f"**{overhead_verdict[1]}**: {overhead_verdict[0]:+.2f} us (median over {len(overhead)} "
                     "rounds)" + (f"; with {FR_VAR}=0 {overhead_verdict[2]:+.2f} us" if len(overhead_verdict) > 2
                                  else "") + ".")
    if lib_cmds:
        lines += ["", f"mc_perf commands for the mc_perf column (MC_TRANSPORT={env['MC_TRANSPORT']}):", ""] + \
                 [f"    {c}" for c in lib_cmds]
    report = "\n".join(lines) + "\n"
    print(report)
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    with open(prefix + ".md", "w") as f:
        f.write(report)
    png = plot(prefix + ".png", table, lib, nps, a.ops_list)
    print(f"wrote {prefix}.md" + (f" and {prefix}.png" if png else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
