"""Starts N real rank processes running worker.py and collects what they did.

    from harness import launch
    res = launch("diff", world_size=3, timeout=120)
    res.check()                      # every rank exited 0 and wrote its result
    res.results[0]["failures"]       # what rank 0's worker reported

Each rank is `python3 worker.py <scenario> [args...]` with MASTER_ADDR,
MASTER_PORT (a free port, 20000-30000), RANK, WORLD_SIZE set and the rest of
the environment (PYTHONPATH included) inherited. A worker reports through a
JSON file (MCT_RESULT_DIR/rank<r>.json, written at the end) and progress lines
on stdout. Every launch has a hard timeout: on expiry every rank still alive is
SIGKILLed (by pid: only the processes this module started) and the launch is
reported as timed out, never left hanging.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "worker.py")

# MOONCOMM_TEST_BACKEND=gloo runs the differential scenario with gloo as the
# backend under test (a self-check of the suite when mooncomm is not built).
BACKEND_UNDER_TEST = os.environ.get("MOONCOMM_TEST_BACKEND", "mooncomm")


def free_port() -> int:
    """A port in 20000-30000 that nothing is bound to right now."""
    for _ in range(500):
        port = random.randint(20000, 30000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port in 20000-30000")


def mooncomm_findable() -> bool:
    import importlib.util

    return importlib.util.find_spec("mooncomm") is not None


@dataclass
class RankResult:
    rank: int
    returncode: Optional[int]
    stdout: str
    stderr: str
    result: Optional[dict]  # the worker's JSON report, None if it wrote none
    killed_by_harness: bool = False

    @property
    def sigkilled(self) -> bool:
        return self.returncode == -signal.SIGKILL


@dataclass
class LaunchResult:
    scenario: str
    world_size: int
    ranks: list[RankResult]
    elapsed: float
    timed_out: bool
    env: dict = field(default_factory=dict)

    @property
    def results(self) -> dict[int, dict]:
        return {r.rank: r.result for r in self.ranks if r.result is not None}

    def describe(self, tail: int = 4000) -> str:
        lines = [
            f"launch {self.scenario!r} world_size={self.world_size} elapsed={self.elapsed:.1f}s "
            f"timed_out={self.timed_out} env={self.env}"
        ]
        for r in self.ranks:
            lines.append(
                f"--- rank {r.rank}: returncode={r.returncode} killed_by_harness={r.killed_by_harness} "
                f"result={'yes' if r.result is not None else 'no'}"
            )
            if r.stdout.strip():
                lines.append(f"[stdout, last {tail} chars]\n{r.stdout[-tail:]}")
            if r.stderr.strip():
                lines.append(f"[stderr, last {tail} chars]\n{r.stderr[-tail:]}")
        return "\n".join(lines)

    def check(self, expect_sigkill: tuple[int, ...] = ()) -> None:
        """Asserts: no timeout; ranks in expect_sigkill died of SIGKILL; every
        other rank exited 0 and wrote its report."""
        assert not self.timed_out, "launch timed out (ranks were killed)\n" + self.describe()
        for r in self.ranks:
            if r.rank in expect_sigkill:
                assert r.sigkilled, f"rank {r.rank} should have died of SIGKILL\n" + self.describe()
            else:
                assert r.returncode == 0, f"rank {r.rank} exited {r.returncode}\n" + self.describe()
                assert r.result is not None, f"rank {r.rank} wrote no report\n" + self.describe()


def launch(
    scenario: str,
    world_size: int,
    args: tuple = (),
    env: Optional[dict] = None,
    timeout: float = 120.0,
    retries_on_port_clash: int = 2,
) -> LaunchResult:
    """Runs world_size ranks of `worker.py scenario *args`; never outlives `timeout` seconds."""
    for attempt in range(retries_on_port_clash + 1):
        res = _launch_once(scenario, world_size, args, env, timeout)
        clash = any(
            "address already in use" in r.stderr.lower() or "eaddrinuse" in r.stderr.lower() for r in res.ranks
        )
        if not clash or attempt == retries_on_port_clash:
            return res
    return res


def _launch_once(scenario, world_size, args, env, timeout) -> LaunchResult:
    port = free_port()
    result_dir = tempfile.mkdtemp(prefix=f"mct-{scenario}-")
    base = dict(os.environ)
    base.update(
        {
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "WORLD_SIZE": str(world_size),
            "MCT_RESULT_DIR": result_dir,
            "MOONCOMM_TEST_BACKEND": BACKEND_UNDER_TEST,
            # 2 cores for up to 4 ranks: no intra-op thread pools.
            "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONWARNINGS": "ignore",
        }
    )
    # Launcher variables of other launchers would win over torchrun's.
    for k in ("MC_RANK", "MC_WORLD_SIZE", "MC_BOOTSTRAP", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
              "SLURM_PROCID", "SLURM_NTASKS", "LOCAL_RANK"):
        base.pop(k, None)
    if env:
        base.update({k: str(v) for k, v in env.items()})
    shown_env = {k: base[k] for k in (env or {})}

    procs: list[subprocess.Popen] = []
    files = []
    start = time.monotonic()
    try:
        for rank in range(world_size):
            renv = dict(base, RANK=str(rank), LOCAL_RANK=str(rank))
            out = open(os.path.join(result_dir, f"rank{rank}.stdout"), "w+")
            err = open(os.path.join(result_dir, f"rank{rank}.stderr"), "w+")
            files.append((out, err))
            procs.append(
                subprocess.Popen(
                    [sys.executable, WORKER, scenario, *map(str, args)],
                    env=renv,
                    stdout=out,
                    stderr=err,
                    stdin=subprocess.DEVNULL,
                    cwd=HERE,
                )
            )
        deadline = start + timeout
        timed_out = False
        killed = set()
        while any(p.poll() is None for p in procs):
            if time.monotonic() > deadline:
                timed_out = True
                for i, p in enumerate(procs):
                    if p.poll() is None:
                        p.kill()  # SIGKILL, by pid: only what this launch started
                        killed.add(i)
                break
            time.sleep(0.05)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        elapsed = time.monotonic() - start
        ranks = []
        for rank, p in enumerate(procs):
            out, err = files[rank]
            out.seek(0)
            err.seek(0)
            report = None
            path = os.path.join(result_dir, f"rank{rank}.json")
            if os.path.exists(path):
                with open(path) as f:
                    report = json.load(f)
            ranks.append(RankResult(rank, p.returncode, out.read(), err.read(), report, rank in killed))
        return LaunchResult(scenario, world_size, ranks, elapsed, timed_out, shown_env)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        for out, err in files:
            out.close()
            err.close()
        for name in os.listdir(result_dir):
            try:
                os.unlink(os.path.join(result_dir, name))
            except OSError:
                pass
        try:
            os.rmdir(result_dir)
        except OSError:
            pass
