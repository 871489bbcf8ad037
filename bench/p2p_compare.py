#!/usr/bin/env python3
"""Runs, in one go on this machine, mc_perf p2p over shm and tcp next to the
ceilings: single-thread memcpy bandwidth and ucx_perftest (UCX_TLS=posix,cma
and UCX_TLS=tcp) for the same sizes. Prints a Markdown table of medians and
the ratios the targets are stated in.

    bench/p2p_compare.py [--build build] [-b 8] [-e 256M] [-f 4] [--out bench/results/p2p.md]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


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


def run(cmd, env=None, timeout=600):
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


def mc_perf(build, transport, lo, hi, factor, reps):
    out = run([f"{build}/bin/mc_perf", "--np", "2", "-b", str(lo), "-e", str(hi), "-f", str(factor),
               "-r", str(reps), "--check"], env={"MC_TRANSPORT": transport})
    result = {}
    for p in table_rows(out, 6):
        if p[5] not in ("0", "N/A"):
            sys.exit(f"mc_perf over {transport} reported {p[5]} wrong bytes at size {p[0]}")
        result[int(p[0])] = (float(p[2]), float(p[4]))  # lat us, bw GB/s
    return result


def memcpy_bw(build, lo, hi, factor, reps):
    out = run([f"{build}/bin/memcpy_bw", "-b", str(lo), "-e", str(hi), "-f", str(factor), "-r", str(reps)])
    return {int(p[0]): float(p[1]) for p in table_rows(out, 2)}


def ucx_one(tls, test, size, iters, port):
    env = dict(os.environ, UCX_TLS=tls)
    args = ["ucx_perftest", "-t", test, "-s", str(size), "-n", str(iters), "-p", str(port)]
    server = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for attempt in range(50):
            time.sleep(0.1)
            client = subprocess.run(["ucx_perftest", "localhost"] + args[1:], env=env, capture_output=True,
                                    text=True, timeout=300)
            final = [l for l in client.stdout.splitlines() if l.startswith("Final:")]
            if final:
                f = final[0].split()
                # Final: iters lat50 lat_avg lat_overall bw_avg bw_overall rate_avg rate_overall
                return float(f[2]), float(f[6]) * (1 << 20) / 1e9  # median latency us, bandwidth GB/s
        return None
    finally:
        server.kill()
        server.wait()


def ucx(tls, lo, hi, factor, reps, port):
    result = {}
    for s in sizes(lo, hi, factor):
        lat_iters = max(10, min(20000, (1 << 30) // max(s, 1)))
        bw_iters = max(10, min(20000, (4 << 30) // max(s, 1)))
        lats, bws = [], []
        for _ in range(reps):
            lat = ucx_one(tls, "tag_lat", s, lat_iters, port)
            bw = ucx_one(tls, "tag_bw", s, bw_iters, port)
            if lat is None or bw is None:
                sys.exit(f"ucx_perftest UCX_TLS={tls} size {s} gave no result")
            lats.append(lat[0])
            bws.append(bw[1])
        result[s] = (statistics.median(lats), statistics.median(bws))
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-b", default="8")
    ap.add_argument("-e", default="256M")
    ap.add_argument("-f", default="4")
    ap.add_argument("-r", default="5", help="repetitions; medians are reported")
    ap.add_argument("--ucx-reps", default="3")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    lo, hi, factor, reps = parse_size(a.b), parse_size(a.e), int(a.f), int(a.r)

    mem = memcpy_bw(a.build, lo, hi, factor, reps)
    shm = mc_perf(a.build, "shm", lo, hi, factor, reps)
    tcp = mc_perf(a.build, "tcp", lo, hi, factor, reps)
    ucx_shm = ucx("posix,cma,self", lo, hi, factor, int(a.ucx_reps), 13500)
    ucx_tcp = ucx("tcp,self", lo, hi, factor, int(a.ucx_reps), 13501)

    lines = [
        "| size (B) | memcpy GB/s | shm GB/s | shm/memcpy | ucx shm GB/s | shm lat us | ucx shm lat us | shm lat / ucx "
        "| tcp GB/s | ucx tcp GB/s | tcp/ucx bw | tcp lat us | ucx tcp lat us | tcp lat / ucx |",
        "|---:" * 14 + "|",
    ]
    for s in sizes(lo, hi, factor):
        m, (sl, sb), (usl, usb), (tl, tb), (utl, utb) = mem[s], shm[s], ucx_shm[s], tcp[s], ucx_tcp[s]
        lines.append(f"| {s} | {m:.2f} | {sb:.2f} | {sb / m:.2f} | {usb:.2f} | {sl:.2f} | {usl:.2f} | {sl / usl:.2f} "
                     f"| {tb:.2f} | {utb:.2f} | {tb / utb:.2f} | {tl:.2f} | {utl:.2f} | {tl / utl:.2f} |")
    table = "\n".join(lines)
    print(table)
    if a.out:
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
