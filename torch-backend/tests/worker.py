"""One rank of a mooncomm backend test: `python3 worker.py <scenario> [args]`.

Started by harness.launch() with MASTER_ADDR / MASTER_PORT / RANK / WORLD_SIZE
set. Writes its report as JSON to $MCT_RESULT_DIR/rank<r>.json at the end;
progress goes to stdout. Scenarios:

  diff        every collective and point-to-point op on mooncomm (the default
              group) and on a gloo group over the same ranks, compared
  subgroup    new_group subsets (world size 3)
  errors      bad input: exceptions that name the problem; the group survives
  lifecycle   init / destroy cycles leave no thread, fd or mapping behind
  train <k>   a training-style loop; rank 2 SIGKILLs itself at iteration k
"""

from __future__ import annotations

import gc
import json
import os
import random
import signal
import sys
import threading
import time
import traceback
import warnings
import zlib

warnings.filterwarnings("ignore")

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

torch.set_num_threads(1)

BACKEND = os.environ.get("MOONCOMM_TEST_BACKEND", "mooncomm")
if BACKEND == "mooncomm":
    import mooncomm  # noqa: E402  (registers the backend)
else:
    mooncomm = None

VERBOSE = os.environ.get("MCT_VERBOSE") == "1"
RANK = int(os.environ["RANK"])
WS = int(os.environ["WORLD_SIZE"])


def log(msg: str) -> None:
    print(f"[rank {RANK} {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def write_report(report: dict) -> None:
    d = os.environ["MCT_RESULT_DIR"]
    tmp = os.path.join(d, f"rank{RANK}.json.tmp")
    with open(tmp, "w") as f:
        json.dump(report, f, indent=1, default=str)
    os.replace(tmp, os.path.join(d, f"rank{RANK}.json"))


def exc_text(e: BaseException) -> str:
    lines = [ln for ln in str(e).splitlines() if ln.strip()]
    return f"{type(e).__name__}: {' | '.join(lines[:3])[:600]}"


# ---------------------------------------------------------------------------
# Inputs and references
# ---------------------------------------------------------------------------

DTYPES = [
    torch.float32, torch.float64, torch.float16, torch.bfloat16,
    torch.int8, torch.uint8, torch.int32, torch.int64, torch.bool,
]
FLOATS = {torch.float32, torch.float64, torch.float16, torch.bfloat16}
ROPS = {
    "SUM": dist.ReduceOp.SUM,
    "PRODUCT": dist.ReduceOp.PRODUCT,
    "MIN": dist.ReduceOp.MIN,
    "MAX": dist.ReduceOp.MAX,
    "AVG": dist.ReduceOp.AVG,
}
SIZES = [0, 1, 7]
# 1 MiB of float32 / int32 and 3 elements more.
LARGE = (1 << 20) // 4 + 3
# (rtol, atol) where float results may differ in rounding (AVG, random values).
TOL = {
    torch.float32: (1e-5, 1e-5),
    torch.float64: (1e-12, 1e-12),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (2e-2, 2e-2),
}


def dname(dtype) -> str:
    return str(dtype).replace("torch.", "")


def gen(key: str, who, shape, dtype, mode: str = "move") -> torch.Tensor:
    """Deterministic input of `who` (a rank, or a 'src->dst' string) for case `key`.

    Modes: 'sum' small values whose sums are exact in every dtype (quarters for
    floats); 'prod' values in {-2,-1,1,2} ({1,2} for uint8); 'minmax'/'move'
    values over the dtype's range (randn for floats); 'rand' randn.
    """
    if isinstance(shape, int):
        shape = (shape,)
    g = torch.Generator().manual_seed(zlib.crc32(f"{key}|{who}".encode()))
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=g).bool()
    if mode == "prod":
        vals = torch.tensor([1, 2] if dtype == torch.uint8 else [-2, -1, 1, 2])
        return vals[torch.randint(0, len(vals), shape, generator=g)].to(dtype)
    if mode == "sum":
        if dtype == torch.uint8:
            return torch.randint(0, 50, shape, generator=g).to(dtype)
        if dtype in FLOATS:
            return (torch.randint(-16, 17, shape, generator=g).double() / 4).to(dtype)
        return torch.randint(-20, 21, shape, generator=g).to(dtype)
    if dtype in FLOATS:
        return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)
    info = torch.iinfo(dtype)
    lo, hi = max(info.min, -(2**62)), min(info.max, 2**62)
    return torch.randint(lo, hi + 1, shape, generator=g, dtype=torch.int64).to(dtype)


def ref_reduce(tensors, rop: str, dtype, world=None) -> torch.Tensor:
    """What a reduction of `tensors` should give: exact for ints/bools (AVG of
    ints truncates toward zero, of bools is OR), one rounding for floats."""
    world = world or len(tensors)
    if dtype == torch.bool:
        x = torch.stack([t.contiguous().view(torch.uint8) != 0 for t in tensors])
        if rop in ("PRODUCT", "MIN"):
            return x.all(dim=0)
        return x.any(dim=0)
    if dtype in FLOATS:
        x = torch.stack([t.double() for t in tensors])
    else:
        x = torch.stack([t.long() for t in tensors])
    if rop == "SUM":
        r = x.sum(dim=0)
    elif rop == "PRODUCT":
        r = x.prod(dim=0)
    elif rop == "MIN":
        r = x.amin(dim=0)
    elif rop == "MAX":
        r = x.amax(dim=0)
    else:  # AVG
        r = x.sum(dim=0)
        r = r / world if dtype in FLOATS else torch.div(r, world, rounding_mode="trunc")
    return r.to(dtype)


def raw(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous().view(torch.uint8) if t.dtype == torch.bool else t


def differ(got: torch.Tensor, exp: torch.Tensor, approx: bool, canon: bool = True) -> str | None:
    """None when equal (within the dtype's tolerance if approx), else what differs."""
    if not isinstance(got, torch.Tensor):
        return f"got a {type(got).__name__}, expected a tensor"
    if got.dtype != exp.dtype or tuple(got.shape) != tuple(exp.shape):
        return f"got {got.dtype}{tuple(got.shape)}, expected {exp.dtype}{tuple(exp.shape)}"
    if exp.numel() == 0:
        return None
    if got.dtype == torch.bool:
        g, e = raw(got) != 0, raw(exp) != 0
        if not torch.equal(g, e):
            bad = (g != e).nonzero().flatten()[:5].tolist()
            return f"bool values differ at {bad}: got {g.flatten()[bad].tolist()} expected {e.flatten()[bad].tolist()}"
        noncanon = (raw(got) > 1).nonzero().flatten()[:5].tolist()
        if canon and noncanon and not bool((raw(exp) > 1).any()):
            return f"bool result holds bytes other than 0/1 at {noncanon}: {raw(got).flatten()[noncanon].tolist()}"
        return None
    if approx and got.dtype in FLOATS:
        rtol, atol = TOL[got.dtype]
        if torch.allclose(got.double(), exp.double(), rtol=rtol, atol=atol, equal_nan=True):
            return None
        close = torch.isclose(got.double(), exp.double(), rtol=rtol, atol=atol, equal_nan=True).flatten()
    else:
        if torch.equal(got, exp):
            return None
        close = (got == exp).flatten()
        if got.dtype in FLOATS:
            close |= (torch.isnan(got) & torch.isnan(exp)).flatten()
        if bool(close.all()):
            return None
    bad = (~close).nonzero().flatten()[:5].tolist()
    gf, ef = got.flatten(), exp.flatten()
    return (f"{int((~close).sum())} of {exp.numel()} elements differ, first at {bad}: "
            f"got {gf[bad].tolist()} expected {ef[bad].tolist()}")


# ---------------------------------------------------------------------------
# The differential runner
# ---------------------------------------------------------------------------

class Diff:
    """Runs each case on mooncomm (MC) and on gloo (GLOO) and compares.

    A case is fn(group) -> list of tensors to compare on this rank (outputs,
    and the inputs of non-in-place ops, which must come back unchanged). The
    expected value is gloo's result; where gloo raises and the case has a
    reference (ref), mooncomm must match the reference or raise as well.
    """

    def __init__(self, mc, gloo):
        self.mc, self.gloo = mc, gloo
        self.failures: list[str] = []
        self.notes: list[str] = []
        self.cases = 0
        self.compared = 0
        self.both_raised = 0
        self.against_ref = 0
        self.timings: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def fail(self, name: str, why: str) -> None:
        msg = f"{name}: {why}"
        self.failures.append(msg)
        log("FAIL " + msg)

    def run(self, family: str, name: str, fn, ref=None, approx=False, gloo_fallback=None):
        self.cases += 1
        if VERBOSE:
            log(f"case {name}")
        self.counts[family] = self.counts.get(family, 0) + 1
        t0 = time.perf_counter()
        try:
            got, mc_err = fn(self.mc), None
        except Exception as e:  # noqa: BLE001
            got, mc_err = None, e
        t1 = time.perf_counter()
        self.timings[family] = self.timings.get(family, 0.0) + (t1 - t0)
        try:
            exp, g_err = fn(self.gloo), None
        except Exception as e:  # noqa: BLE001
            exp, g_err = None, e
        if g_err is not None and gloo_fallback is not None:
            try:
                exp, g_err = gloo_fallback(self.gloo), None
            except Exception as e:  # noqa: BLE001
                g_err = e
        if g_err is not None:
            if ref is None:
                if mc_err is None:
                    self.notes.append(f"{name}: gloo raised ({exc_text(g_err)}); mooncomm ran, not compared")
                else:
                    self.both_raised += 1
                return
            exp = ref() if callable(ref) else ref
            if mc_err is not None:
                self.both_raised += 1
                self.notes.append(f"{name}: gloo and mooncomm both raised: {exc_text(mc_err)}")
                return
            self.against_ref += 1
        elif ref is not None and BACKEND != "mooncomm":
            # Self-check of the suite (gloo under test): gloo must match the reference.
            r = ref() if callable(ref) else ref
            for i, (e, rr) in enumerate(zip(exp, r)):
                why = differ(e, rr, approx, canon=False)
                if why:
                    self.fail(name + f" [gloo vs reference, output {i}]", why)
        if mc_err is not None:
            self.fail(name, "mooncomm raised " + exc_text(mc_err) +
                      ("" if g_err else " where gloo did not"))
            return
        if len(got) != len(exp):
            self.fail(name, f"{len(got)} outputs, expected {len(exp)}")
            return
        self.compared += 1
        whys = [(i, differ(g, e, approx)) for i, (g, e) in enumerate(zip(got, exp))]
        whys = [(i, w) for i, w in whys if w]
        if whys:
            i, why = whys[0]
            more = f" (outputs {[j for j, _ in whys]} of {len(exp)} differ)" if len(whys) > 1 else ""
            self.fail(name + f" [output {i}]", why + more)


def _redop_fallback(fn_rop, rop, dtype):
    """gloo without AVG on floats: gloo SUM / world size."""
    if rop != "AVG" or dtype not in FLOATS:
        return None

    def fb(g):
        outs = fn_rop(g, "SUM")
        return [o / WS for o in outs]

    return fb


def reduction_cases(d: Diff) -> None:
    for dtype in DTYPES:
        for rop_name, rop in ROPS.items():
            mode = {"PRODUCT": "prod", "MIN": "minmax", "MAX": "minmax"}.get(rop_name, "sum")
            approx = rop_name == "AVG"
            for n in SIZES:
                tag = f"{dname(dtype)} {rop_name} n={n}"

                # all_reduce
                key = f"ar|{tag}"
                inps = [gen(key, p, n, dtype, mode) for p in range(WS)]

                def ar(g, r=rop_name, inps=inps):
                    t = inps[RANK].clone()
                    dist.all_reduce(t, op=ROPS[r], group=g)
                    return [t]

                d.run("all_reduce", f"all_reduce {tag}", lambda g: ar(g), approx=approx,
                      ref=lambda inps=inps, r=rop_name: [ref_reduce(inps, r, dtype)],
                      gloo_fallback=_redop_fallback(ar, rop_name, dtype))

                # reduce, root rotating
                key = f"red|{tag}"
                root = zlib.crc32(key.encode()) % WS
                inps = [gen(key, p, n, dtype, mode) for p in range(WS)]

                def red(g, r=rop_name, inps=inps, root=root):
                    t = inps[RANK].clone()
                    dist.reduce(t, dst=root, op=ROPS[r], group=g)
                    return [t] if RANK == root else []

                d.run("reduce", f"reduce root={root} {tag}", lambda g: red(g), approx=approx,
                      ref=lambda inps=inps, r=rop_name, root=root:
                      [ref_reduce(inps, r, dtype)] if RANK == root else [],
                      gloo_fallback=_redop_fallback(red, rop_name, dtype))

                # reduce_scatter (list) and reduce_scatter_tensor
                key = f"rs|{tag}"
                inps = [gen(key, p, WS * n, dtype, mode) for p in range(WS)]
                want = lambda inps=inps, r=rop_name: [  # noqa: E731
                    ref_reduce([x[RANK * n:(RANK + 1) * n] for x in inps], r, dtype), inps[RANK]]

                def rs(g, r=rop_name, inps=inps):
                    src = inps[RANK].clone()
                    lst = [src[i * n:(i + 1) * n] for i in range(WS)]
                    out = torch.full((n,), 3, dtype=dtype)
                    dist.reduce_scatter(out, lst, op=ROPS[r], group=g)
                    return [out, src]

                d.run("reduce_scatter", f"reduce_scatter {tag}", lambda g: rs(g), approx=approx, ref=want,
                      gloo_fallback=_redop_fallback(rs, rop_name, dtype))

                def rst(g, r=rop_name, inps=inps):
                    src = inps[RANK].clone()
                    out = torch.full((n,), 3, dtype=dtype)
                    dist.reduce_scatter_tensor(out, src, op=ROPS[r], group=g)
                    return [out, src]

                d.run("reduce_scatter_tensor", f"reduce_scatter_tensor {tag}", lambda g: rst(g), approx=approx,
                      ref=want, gloo_fallback=_redop_fallback(rst, rop_name, dtype))

                # all_reduce_coalesced (the deprecated call) and through _coalescing_manager
                key = f"arc|{tag}"
                a_in = [gen(key + "a", p, n, dtype, mode) for p in range(WS)]
                b_in = [gen(key + "b", p, n + 2, dtype, mode) for p in range(WS)]
                want = lambda a_in=a_in, b_in=b_in, r=rop_name: [  # noqa: E731
                    ref_reduce(a_in, r, dtype), ref_reduce(b_in, r, dtype)]

                def arc(g, r=rop_name, a_in=a_in, b_in=b_in):
                    a, b = a_in[RANK].clone(), b_in[RANK].clone()
                    dist.all_reduce_coalesced([a, b], op=ROPS[r], group=g)
                    return [a, b]

                if hasattr(dist, "all_reduce_coalesced"):
                    d.run("all_reduce_coalesced", f"all_reduce_coalesced {tag}", lambda g: arc(g), approx=approx,
                          ref=want, gloo_fallback=_redop_fallback(arc, rop_name, dtype))

                def arcm(g, r=rop_name, a_in=a_in, b_in=b_in):
                    a, b = a_in[RANK].clone(), b_in[RANK].clone()
                    with dist._coalescing_manager(group=g):
                        dist.all_reduce(a, op=ROPS[r], group=g)
                        dist.all_reduce(b, op=ROPS[r], group=g)
                    return [a, b]

                d.run("coalescing_manager all_reduce", f"_coalescing_manager all_reduce {tag}", lambda g: arcm(g),
                      approx=approx, ref=want, gloo_fallback=_redop_fallback(arcm, rop_name, dtype))

        # all_reduce on a non-contiguous view (a transposed (3, n)), SUM and MAX
        for rop_name in ("SUM", "MAX"):
            mode = "sum" if rop_name == "SUM" else "minmax"
            for n in SIZES:
                key = f"arnc|{dname(dtype)} {rop_name} n={n}"
                bases = [gen(key, p, (3, n), dtype, mode) for p in range(WS)]

                def arnc(g, r=rop_name, bases=bases):
                    t = bases[RANK].clone().t()  # (n, 3), strides (1, n)
                    assert n <= 1 or not t.is_contiguous()
                    dist.all_reduce(t, op=ROPS[r], group=g)
                    return [t]

                d.run("all_reduce non-contiguous", f"all_reduce non-contiguous {dname(dtype)} {rop_name} n={n}",
                      lambda g: arnc(g), ref=lambda bases=bases, r=rop_name: [
                          ref_reduce([b.t() for b in bases], r, dtype)])


def gloo_side(g) -> bool:
    """True when `g` runs on gloo (the reference group, or everything in the self-check)."""
    return g is not None or BACKEND != "mooncomm"


def recv_target(g, view: torch.Tensor):
    """gloo cannot receive into a non-contiguous tensor: give it a contiguous one
    and copy after; mooncomm receives into the view itself."""
    if gloo_side(g) and not view.is_contiguous():
        tmp = torch.empty(view.shape, dtype=view.dtype)
        return tmp, lambda: view.copy_(tmp)
    return view, lambda: None


def movement_cases(d: Diff) -> None:
    for dtype in DTYPES:
        for n in SIZES:
            tag = f"{dname(dtype)} n={n}"
            key = f"mv|{tag}"
            inps = [gen(key, p, n, dtype) for p in range(WS)]

            def ag(g):
                inp = inps[RANK].clone()
                out = [torch.full((n,), 1, dtype=dtype) for _ in range(WS)]
                dist.all_gather(out, inp, group=g)
                return out + [inp]

            d.run("all_gather", f"all_gather {tag}", ag, ref=lambda: inps + [inps[RANK]])

            def ag_nc(g):
                inp = inps[RANK].clone()
                bases = [torch.zeros(2 * n, dtype=dtype) for _ in range(WS)]
                out = [b[1::2] for b in bases]  # stride 2
                dist.all_gather(out, inp, group=g)
                return bases

            def ag_nc_ref():
                res = []
                for p in range(WS):
                    b = torch.zeros(2 * n, dtype=dtype)
                    b[1::2] = inps[p]
                    res.append(b)
                return res

            d.run("all_gather non-contiguous out", f"all_gather strided outputs {tag}", ag_nc, ref=ag_nc_ref)

            def agit(g):
                inp = inps[RANK].clone()
                out = torch.full((WS * n,), 1, dtype=dtype)
                dist.all_gather_into_tensor(out, inp, group=g)
                return [out, inp]

            d.run("all_gather_into_tensor", f"all_gather_into_tensor {tag}", agit,
                  ref=lambda: [torch.cat(inps), inps[RANK]])

            b_in = [gen(key + "b", p, n + 2, dtype) for p in range(WS)]

            def agit_cm(g):
                a, b = inps[RANK].clone(), b_in[RANK].clone()
                oa = torch.full((WS * n,), 1, dtype=dtype)
                ob = torch.full((WS * (n + 2),), 1, dtype=dtype)
                with dist._coalescing_manager(group=g):
                    dist.all_gather_into_tensor(oa, a, group=g)
                    dist.all_gather_into_tensor(ob, b, group=g)
                return [oa, ob]

            d.run("coalescing_manager all_gather_into_tensor", f"_coalescing_manager all_gather_into_tensor {tag}",
                  agit_cm, ref=lambda: [torch.cat(inps), torch.cat(b_in)])

            if hasattr(dist, "all_gather_coalesced"):
                def agc(g):
                    a, b = inps[RANK].clone(), b_in[RANK].clone()
                    # PyTorch's layout: output_tensor_lists[rank][input index]
                    out = [[torch.full((n,), 1, dtype=dtype), torch.full((n + 2,), 1, dtype=dtype)]
                           for _ in range(WS)]
                    dist.all_gather_coalesced(out, [a, b], group=g)
                    return [t for lst in out for t in lst]

                d.run("all_gather_coalesced", f"all_gather_coalesced {tag}", agc,
                      ref=lambda: [t for p in range(WS) for t in (inps[p], b_in[p])])

                # as many inputs as ranks, all of one size: a transposed layout would pass the size checks
                sq_in = [[gen(key + f"sq{i}", p, n, dtype) for i in range(WS)] for p in range(WS)]

                def agc_sq(g):
                    out = [[torch.full((n,), 1, dtype=dtype) for _ in range(WS)] for _ in range(WS)]
                    dist.all_gather_coalesced(out, [t.clone() for t in sq_in[RANK]], group=g)
                    return [t for lst in out for t in lst]

                d.run("all_gather_coalesced", f"all_gather_coalesced {WS} inputs of one size {tag}", agc_sq,
                      ref=lambda: [sq_in[p][i] for p in range(WS) for i in range(WS)])

            root = zlib.crc32(key.encode()) % WS

            def bc(g):
                t = inps[RANK].clone() if RANK == root else torch.full((n,), 1, dtype=dtype)
                dist.broadcast(t, src=root, group=g)
                return [t]

            d.run("broadcast", f"broadcast root={root} {tag}", bc, ref=lambda: [inps[root]])

            nc = [gen(key + "nc", p, (3, n), dtype) for p in range(WS)]

            def bc_nc(g):
                t = (nc[RANK] if RANK == root else torch.zeros(3, n, dtype=dtype)).clone().t()
                dist.broadcast(t, src=root, group=g)
                return [t]

            d.run("broadcast non-contiguous", f"broadcast non-contiguous root={root} {tag}", bc_nc,
                  ref=lambda: [nc[root].t()])

            def gather(g):
                inp = inps[RANK].clone()
                out = [torch.full((n,), 1, dtype=dtype) for _ in range(WS)] if RANK == root else None
                dist.gather(inp, out, dst=root, group=g)
                return (out if RANK == root else []) + [inp]

            d.run("gather", f"gather root={root} {tag}", gather,
                  ref=lambda: (inps if RANK == root else []) + [inps[RANK]])

            def scat(g):
                src = [gen(key, f"{root}->{p}", n, dtype) for p in range(WS)] if RANK == root else None
                out = torch.full((n,), 1, dtype=dtype)
                dist.scatter(out, src, src=root, group=g)
                return [out] + (src if RANK == root else [])

            d.run("scatter", f"scatter root={root} {tag}", scat,
                  ref=lambda: [gen(key, f"{root}->{RANK}", n, dtype)] +
                  ([gen(key, f"{root}->{p}", n, dtype) for p in range(WS)] if RANK == root else []))

            # all_to_all with uneven sizes: src s sends sz(s, d) elements to d
            def sz(s, dd):
                return n + (s + 2 * dd) % 3 if n else 0

            def a2a(g):
                ins = [gen(key, f"{RANK}->{p}", sz(RANK, p), dtype) for p in range(WS)]
                outs = [torch.full((sz(p, RANK),), 1, dtype=dtype) for p in range(WS)]
                dist.all_to_all(outs, ins, group=g)
                return outs

            d.run("all_to_all", f"all_to_all uneven {tag}", a2a,
                  ref=lambda: [gen(key, f"{p}->{RANK}", sz(p, RANK), dtype) for p in range(WS)])

            a2s_in = [gen(key + "a2s", p, WS * n, dtype) for p in range(WS)]
            a2s_want = lambda: [torch.cat([a2s_in[p][RANK * n:(RANK + 1) * n] for p in range(WS)]),  # noqa: E731
                                a2s_in[RANK]]

            def a2s(g):
                inp = a2s_in[RANK].clone()
                out = torch.full((WS * n,), 1, dtype=dtype)
                dist.all_to_all_single(out, inp, group=g)
                return [out, inp]

            d.run("all_to_all_single", f"all_to_all_single even {tag}", a2s, ref=a2s_want)

            def a2s_splits(g):
                inp = a2s_in[RANK].clone()
                out = torch.full((WS * n,), 1, dtype=dtype)
                dist.all_to_all_single(out, inp, [n] * WS, [n] * WS, group=g)
                return [out, inp]

            d.run("all_to_all_single", f"all_to_all_single equal splits {tag}", a2s_splits, ref=a2s_want)

            # uneven splits of 2-D tensors (rows of 2), zero-row splits included
            def rows(s, dd):
                return (n + s + 2 * dd) % 4 if n else 0

            a2u_in = [gen(key + "a2u", p, (sum(rows(p, q) for q in range(WS)), 2), dtype) for p in range(WS)]

            def a2u(g):
                inp = a2u_in[RANK].clone()
                out = torch.full((sum(rows(p, RANK) for p in range(WS)), 2), 1, dtype=dtype)
                dist.all_to_all_single(out, inp, [rows(p, RANK) for p in range(WS)],
                                       [rows(RANK, p) for p in range(WS)], group=g)
                return [out, inp]

            def a2u_ref():
                blocks = []
                for p in range(WS):
                    off = sum(rows(p, q) for q in range(RANK))
                    blocks.append(a2u_in[p][off:off + rows(p, RANK)])
                return [torch.cat(blocks), a2u_in[RANK]]

            d.run("all_to_all_single", f"all_to_all_single uneven splits {tag}", a2u, ref=a2u_ref)

            # send/recv around the ring (isend + irecv), into a strided receive buffer too
            nxt, prv = (RANK + 1) % WS, (RANK - 1) % WS

            def ring(g):
                s = gen(key, f"{RANK}->{nxt}", n, dtype)
                r = torch.full((n,), 1, dtype=dtype)
                rb = torch.zeros(2 * n, dtype=dtype)
                ws = [dist.isend(s, dst=nxt, group=g, tag=3), dist.irecv(r, src=prv, group=g, tag=3)]
                for w in ws:
                    w.wait()
                tgt, done = recv_target(g, rb[::2])
                ws = [dist.irecv(tgt, src=prv, group=g, tag=4), dist.isend(s, dst=nxt, group=g, tag=4)]
                for w in ws:
                    w.wait()
                done()
                return [r, rb, s]

            def ring_ref():
                v = gen(key, f"{prv}->{RANK}", n, dtype)
                rb = torch.zeros(2 * n, dtype=dtype)
                rb[::2] = v
                return [v, rb, gen(key, f"{RANK}->{nxt}", n, dtype)]

            d.run("send/recv", f"isend/irecv ring (+strided recv) {tag}", ring, ref=ring_ref)

            # blocking send / recv between ranks 0 and 1, recv into a transposed view
            def pair(g):
                if RANK > 1:
                    return []
                peer = 1 - RANK
                mine = gen(key + "pair", RANK, (3, n), dtype)
                got = torch.zeros(n, 3, dtype=dtype).t()  # (3, n) non-contiguous
                tgt, done = recv_target(g, got)
                if RANK == 0:
                    dist.send(mine, dst=peer, group=g, tag=7)
                    dist.recv(tgt, src=peer, group=g, tag=7)
                else:
                    dist.recv(tgt, src=peer, group=g, tag=7)
                    dist.send(mine, dst=peer, group=g, tag=7)
                done()
                return [got]

            d.run("send/recv", f"send/recv blocking into a transposed view {tag}", pair,
                  ref=lambda: [gen(key + "pair", 1 - RANK, (3, n), dtype)] if RANK <= 1 else [])

            # batch_isend_irecv with every peer, two messages per pair, posting order differing by rank
            def bsz(s, dd, which):
                return n + (s + dd + which) % 3 if n else 0

            def batch(g):
                ops, recvs = [], []
                for p in range(WS):
                    if p == RANK:
                        continue
                    for which in (0, 1):
                        ops.append(dist.P2POp(dist.isend, gen(key, f"b{which}:{RANK}->{p}", bsz(RANK, p, which), dtype),
                                              p, group=g, tag=10 + which))
                        buf = torch.full((bsz(p, RANK, which),), 1, dtype=dtype)
                        recvs.append(buf)
                        ops.append(dist.P2POp(dist.irecv, buf, p, group=g, tag=10 + which))
                order = random.Random(RANK * 7919 + n).sample(range(len(ops)), len(ops))
                if RANK % 2:
                    order.sort(key=lambda i: ops[i].op is dist.isend)  # receives first
                for w in dist.batch_isend_irecv([ops[i] for i in order]):
                    w.wait()
                return recvs

            d.run("batch_isend_irecv", f"batch_isend_irecv mixed order {tag}", batch,
                  ref=lambda: [gen(key, f"b{which}:{p}->{RANK}", bsz(p, RANK, which), dtype)
                               for p in range(WS) if p != RANK for which in (0, 1)])

    def barrier(g):
        dist.barrier(group=g)
        return []

    d.run("barrier", "barrier", barrier)


def async_cases(d: Diff) -> None:
    """async_op=True: wait() and get_future().wait() give what gloo gives;
    work_participants is every rank (collectives) or self and the peer (p2p)."""
    n = 7
    for dtype in (torch.float32, torch.int32, torch.bfloat16):
        key = f"async|{dname(dtype)}"
        inps = [gen(key, p, n, dtype, "sum") for p in range(WS)]
        parts: list = []

        def check_work(g, w, want_parts):
            ok = w.wait()
            fut = w.get_future().wait()
            if g is d.mc and mooncomm is not None:
                parts.append((mooncomm.work_participants(w), want_parts, w.is_completed(), ok))
            return fut

        def ar(g):
            t = inps[RANK].clone()
            w = dist.all_reduce(t, async_op=True, group=g)
            fut = check_work(g, w, list(range(WS)))
            return [t] + list(fut)

        d.run("async", f"async all_reduce {dname(dtype)}", ar,
              ref=lambda: [ref_reduce(inps, "SUM", dtype)] * 2)

        def ag(g):
            out = [torch.zeros(n, dtype=dtype) for _ in range(WS)]
            w = dist.all_gather(out, inps[RANK].clone(), async_op=True, group=g)
            check_work(g, w, list(range(WS)))
            return out

        d.run("async", f"async all_gather {dname(dtype)}", ag, ref=lambda: list(inps))

        def bc(g):
            t = inps[RANK].clone()
            w = dist.broadcast(t, src=WS - 1, async_op=True, group=g)
            fut = check_work(g, w, list(range(WS)))
            return [t] + list(fut)

        d.run("async", f"async broadcast {dname(dtype)}", bc, ref=lambda: [inps[WS - 1]] * 2)

        def rst(g):
            src = torch.cat(inps)
            out = torch.zeros(n, dtype=dtype)
            w = dist.reduce_scatter_tensor(out, src.clone(), async_op=True, group=g)
            fut = check_work(g, w, list(range(WS)))
            return [out] + list(fut)

        d.run("async", f"async reduce_scatter_tensor {dname(dtype)}", rst,
              ref=lambda: [ref_reduce([torch.cat(inps)[RANK * n:(RANK + 1) * n]] * WS, "SUM", dtype)] * 2)

        def a2s(g):
            out = torch.zeros(WS * 2, dtype=dtype)
            inp = torch.cat([inps[RANK][:2]] * WS)
            w = dist.all_to_all_single(out, inp, async_op=True, group=g)
            check_work(g, w, list(range(WS)))
            return [out]

        d.run("async", f"async all_to_all_single {dname(dtype)}", a2s,
              ref=lambda: [torch.cat([inps[p][:2] for p in range(WS)])])

        def bar(g):
            w = dist.barrier(async_op=True, group=g)
            check_work(g, w, list(range(WS)))
            return []

        d.run("async", f"async barrier {dname(dtype)}", bar)

        def p2p(g):
            nxt, prv = (RANK + 1) % WS, (RANK - 1) % WS
            r = torch.zeros(n, dtype=dtype)
            ws = [dist.isend(inps[RANK].clone(), dst=nxt, group=g), dist.irecv(r, src=prv, group=g)]
            check_work(g, ws[0], sorted({RANK, nxt}))
            check_work(g, ws[1], sorted({RANK, prv}))
            return [r]

        d.run("async", f"async isend/irecv {dname(dtype)}", p2p, ref=lambda: [inps[(RANK - 1) % WS]])

        for got, want, completed, ok in parts:
            d.compared += 1
            if got != want or not completed or ok is not True:
                d.fail(f"async {dname(dtype)} work", f"work_participants={got} (want {want}), "
                       f"is_completed()={completed}, wait()={ok!r}")


def large_cases(d: Diff) -> None:
    """1 MiB + 3 elements, float32 and int32: all_reduce SUM/MAX, all_gather_into_tensor,
    reduce_scatter_tensor SUM, broadcast, all_to_all_single with uneven splits."""
    N = LARGE
    for dtype in (torch.float32, torch.int32):
        tag = f"{dname(dtype)} n={N}"
        for rop_name in ("SUM", "MAX"):
            mode = "rand" if dtype == torch.float32 and rop_name == "SUM" else (
                "sum" if rop_name == "SUM" else "minmax")
            key = f"L|ar|{tag}|{rop_name}"
            inps = [gen(key, p, N, dtype, mode) for p in range(WS)]

            def ar(g, r=rop_name, inps=inps):
                t = inps[RANK].clone()
                dist.all_reduce(t, op=ROPS[r], group=g)
                return [t]

            d.run("large", f"all_reduce {rop_name} {tag}", ar, approx=(mode == "rand"),
                  ref=lambda inps=inps, r=rop_name: [ref_reduce(inps, r, dtype)])
        key = f"L|mv|{tag}"
        inp = gen(key, RANK, N, dtype)

        def agit(g):
            out = torch.zeros(WS * N, dtype=dtype)
            dist.all_gather_into_tensor(out, inp, group=g)
            return [out]

        d.run("large", f"all_gather_into_tensor {tag}", agit,
              ref=lambda: [torch.cat([gen(key, p, N, dtype) for p in range(WS)])])

        rmode = "rand" if dtype == torch.float32 else "sum"
        rs_in = [gen(key + "rs", p, WS * N, dtype, rmode) for p in range(WS)]

        def rst(g):
            out = torch.zeros(N, dtype=dtype)
            dist.reduce_scatter_tensor(out, rs_in[RANK].clone(), group=g)
            return [out]

        d.run("large", f"reduce_scatter_tensor SUM {tag}", rst, approx=(rmode == "rand"),
              ref=lambda: [ref_reduce([x[RANK * N:(RANK + 1) * N] for x in rs_in], "SUM", dtype)])

        def bc(g):
            t = inp.clone() if RANK == 1 else torch.zeros(N, dtype=dtype)
            dist.broadcast(t, src=1, group=g)
            return [t]

        d.run("large", f"broadcast {tag}", bc, ref=lambda: [gen(key, 1, N, dtype)])

        def cnt(s, dd):  # elements s sends to dd: uneven, about N in all per rank
            return N // WS + (s * 37 + dd * 101) % 977

        a_in = [gen(key + "a2a", p, sum(cnt(p, q) for q in range(WS)), dtype) for p in range(WS)]

        def a2u(g):
            out = torch.zeros(sum(cnt(p, RANK) for p in range(WS)), dtype=dtype)
            dist.all_to_all_single(out, a_in[RANK], [cnt(p, RANK) for p in range(WS)],
                                   [cnt(RANK, p) for p in range(WS)], group=g)
            return [out]

        def a2u_ref():
            blocks = []
            for p in range(WS):
                off = sum(cnt(p, q) for q in range(RANK))
                blocks.append(a_in[p][off:off + cnt(p, RANK)])
            return [torch.cat(blocks)]

        d.run("large", f"all_to_all_single uneven splits {tag}", a2u, ref=a2u_ref)


def barrier_timing(d: Diff) -> None:
    """barrier really waits: rank 0 arrives 0.4 s late, the others wait for it."""
    dist.barrier()
    if RANK == 0:
        time.sleep(0.4)
    t0 = time.perf_counter()
    dist.barrier()
    waited = time.perf_counter() - t0
    d.compared += 1
    if RANK != 0 and waited < 0.3:
        d.fail("barrier timing", f"rank {RANK} left the barrier after {waited:.3f}s; rank 0 arrived 0.4s late")


def scenario_diff() -> dict:
    dist.init_process_group(BACKEND)
    gloo = dist.new_group(backend="gloo")
    d = Diff(None, gloo)
    t_all = time.perf_counter()
    for fn in (reduction_cases, movement_cases, async_cases, large_cases, barrier_timing):
        t0 = time.perf_counter()
        fn(d)
        log(f"{fn.__name__}: {time.perf_counter() - t0:.2f}s, {d.cases} cases so far, "
            f"{len(d.failures)} failures")
    report = {
        "cases": d.cases, "compared": d.compared, "both_raised": d.both_raised, "against_ref": d.against_ref,
        "failures": d.failures, "notes": d.notes, "counts": d.counts,
        "mooncomm_seconds": {k: round(v, 3) for k, v in d.timings.items()},
        "seconds": round(time.perf_counter() - t_all, 2),
    }
    dist.destroy_process_group()
    return report


# ---------------------------------------------------------------------------
# API scenarios
# ---------------------------------------------------------------------------

def expect_raise(name, fn, types, needles, failures, notes=None):
    """fn() must raise one of `types` whose message holds every string in `needles`
    (each needle may be a tuple of alternatives)."""
    try:
        fn()
    except types as e:  # noqa: PERF203
        msg = str(e)
        for nd in needles:
            alts = nd if isinstance(nd, tuple) else (nd,)
            if not any(a.lower() in msg.lower() for a in alts):
                failures.append(f"{name}: message does not name {alts}: {exc_text(e)}")
                return msg
        if notes is not None:
            notes.append(f"{name}: {exc_text(e)}")
        return msg
    except Exception as e:  # noqa: BLE001
        failures.append(f"{name}: raised {exc_text(e)}, expected one of {[t.__name__ for t in types]}")
        return None
    failures.append(f"{name}: did not raise")
    return None


def sanity(failures, what, group=None, ranks=None):
    """An all_reduce that must work and cover `ranks` (default: all)."""
    ranks = ranks if ranks is not None else list(range(WS))
    t = torch.tensor([float(2 ** RANK)])
    try:
        w = dist.all_reduce(t, group=group, async_op=True)
        w.wait()
        want = float(sum(2 ** r for r in ranks))
        if t.item() != want:
            failures.append(f"after {what}: all_reduce gave {t.item()}, expected {want}")
        return w
    except Exception as e:  # noqa: BLE001
        failures.append(f"after {what}: all_reduce raised {exc_text(e)}")
        return None


def scenario_subgroup() -> dict:
    """World size 3: groups [0, 2] and [1, 2] work next to the world."""
    failures, notes = [], []
    dist.init_process_group(BACKEND)
    act02 = torch.zeros(2, dtype=torch.int32)
    sub02 = dist.new_group([0, 2], pg_options=mooncomm.Options(active_ranks=act02))
    sub12 = dist.new_group([1, 2])
    if RANK in (0, 2):
        grank = dist.get_group_rank(sub02, RANK)
        if grank != [0, 2].index(RANK):
            failures.append(f"group rank of {RANK} in [0,2] is {grank}")
        t = torch.tensor([RANK + 1.0, 10.0 * (RANK + 1)])
        w = dist.all_reduce(t, group=sub02, async_op=True)
        w.wait()
        if t.tolist() != [4.0, 40.0]:
            failures.append(f"[0,2] all_reduce gave {t.tolist()}, expected [4.0, 40.0]")
        if mooncomm.work_participants(w) != [0, 1]:
            failures.append(f"[0,2] work_participants {mooncomm.work_participants(w)}, expected group ranks [0, 1]")
        if act02.tolist() != [1, 1] or mooncomm.get_active_ranks(sub02).tolist() != [1, 1]:
            failures.append(f"[0,2] active ranks {act02.tolist()} / {mooncomm.get_active_ranks(sub02).tolist()}")
        out = [torch.zeros(3, dtype=torch.int64) for _ in range(2)]
        dist.all_gather(out, torch.arange(3) + 100 * RANK, group=sub02)
        if [o.tolist() for o in out] != [[0, 1, 2], [200, 201, 202]]:
            failures.append(f"[0,2] all_gather gave {[o.tolist() for o in out]}")
        b = torch.tensor([7, 7, 7], dtype=torch.int32) if RANK == 2 else torch.zeros(3, dtype=torch.int32)
        dist.broadcast(b, src=2, group=sub02)  # global rank 2 = group rank 1
        if b.tolist() != [7, 7, 7]:
            failures.append(f"[0,2] broadcast from global rank 2 gave {b.tolist()}")
        if RANK == 0:
            dist.send(torch.tensor([5.0, 6.0]), dst=2, group=sub02)
        else:
            r = torch.zeros(2)
            dist.recv(r, src=0, group=sub02)
            if r.tolist() != [5.0, 6.0]:
                failures.append(f"[0,2] recv from 0 gave {r.tolist()}")
        dist.barrier(group=sub02)
    if RANK in (1, 2):
        t = torch.tensor([RANK * 3.0])
        dist.all_reduce(t, group=sub12, op=dist.ReduceOp.MAX)
        if t.item() != 6.0:
            failures.append(f"[1,2] all_reduce MAX gave {t.item()}, expected 6.0")
        g = [torch.zeros(2, dtype=torch.int32) for _ in range(2)] if RANK == 1 else None
        dist.gather(torch.tensor([RANK, RANK], dtype=torch.int32), g, dst=1, group=sub12)
        if RANK == 1 and [x.tolist() for x in g] != [[1, 1], [2, 2]]:
            failures.append(f"[1,2] gather gave {[x.tolist() for x in g]}")
    # The world still works, and a subgroup made after subgroups were used too.
    w = sanity(failures, "subgroup ops")
    if w is not None and mooncomm.work_participants(w) != list(range(WS)):
        failures.append(f"world work_participants {mooncomm.work_participants(w)}")
    sub01 = dist.new_group([0, 1], use_local_synchronization=True) if RANK in (0, 1) else None
    if RANK in (0, 1):
        sanity(failures, "new_group([0, 1]) with local synchronization", group=sub01, ranks=[0, 1])
    sanity(failures, "all subgroup work")
    dist.destroy_process_group()
    return {"failures": failures, "notes": notes}


def scenario_errors() -> dict:
    """World size 3: bad input raises an exception naming the problem, and the
    group keeps working. MC_TIMEOUT_MS is set high by the test, so a mismatch
    that were only caught by a timeout would show as slow."""
    failures, notes, timings = [], [], {}
    dist.init_process_group(BACKEND)
    V = (ValueError,)

    expect_raise("all_reduce with ReduceOp.BAND",
                 lambda: dist.all_reduce(torch.ones(4, dtype=torch.int32), op=dist.ReduceOp.BAND),
                 V, ["BAND"], failures, notes)
    expect_raise("reduce_scatter_tensor with ReduceOp.BXOR",
                 lambda: dist.reduce_scatter_tensor(torch.ones(2, dtype=torch.int32),
                                                    torch.ones(2 * WS, dtype=torch.int32), op=dist.ReduceOp.BXOR),
                 V, ["BXOR"], failures, notes)
    sanity(failures, "BAND / BXOR")
    expect_raise("all_reduce of int16", lambda: dist.all_reduce(torch.ones(4, dtype=torch.int16)),
                 V, [("Short", "int16"), "not supported"], failures, notes)
    expect_raise("broadcast of uint16", lambda: dist.broadcast(torch.ones(4, dtype=torch.uint16), src=0),
                 V, [("UInt16", "uint16"), "not supported"], failures, notes)
    expect_raise("all_gather_into_tensor of float8_e4m3fn",
                 lambda: dist.all_gather_into_tensor(torch.zeros(4 * WS, dtype=torch.float8_e4m3fn),
                                                     torch.zeros(4, dtype=torch.float8_e4m3fn)),
                 (ValueError, RuntimeError), [("Float8", "float8")], failures, notes)
    # complex64: torch.distributed hands the backend a float32 view; the sum must be right.
    c = torch.tensor([1 + 2j, 3 - 1j], dtype=torch.complex64) * (RANK + 1)
    try:
        dist.all_reduce(c)
        s = WS * (WS + 1) // 2
        if c.tolist() != [complex(s, 2 * s), complex(3 * s, -s)]:
            failures.append(f"complex64 all_reduce SUM gave {c.tolist()}")
    except Exception as e:  # noqa: BLE001
        failures.append(f"complex64 all_reduce SUM raised {exc_text(e)}")
    expect_raise("all_reduce of a sparse tensor", lambda: dist.all_reduce(torch.ones(4).to_sparse()),
                 V, ["sparse", "dense"], failures, notes)
    # A meta tensor never reaches a backend: torch's Meta kernel of the c10d ops makes
    # the call a no-op (gloo alike). It must not disturb the group.
    try:
        dist.all_reduce(torch.ones(4, device="meta"))
        notes.append("all_reduce of a meta tensor: no-op (torch's Meta kernel; gloo does the same)")
    except Exception as e:  # noqa: BLE001
        if "meta" not in str(e).lower():
            failures.append(f"all_reduce of a meta tensor: {exc_text(e)} does not name the device")
    sanity(failures, "dtype / device errors")

    expect_raise("all_gather with an output list of WS-1 tensors",
                 lambda: dist.all_gather([torch.zeros(3) for _ in range(WS - 1)], torch.ones(3)),
                 V, [str(WS - 1), str(WS), "output"], failures, notes)
    expect_raise("all_gather with an output tensor of the wrong size",
                 lambda: dist.all_gather([torch.zeros(3) for _ in range(WS - 1)] + [torch.zeros(4)], torch.ones(3)),
                 V, ["4", "3"], failures, notes)
    expect_raise("all_gather with an output of another dtype",
                 lambda: dist.all_gather([torch.zeros(3, dtype=torch.float64) for _ in range(WS)], torch.ones(3)),
                 (ValueError, RuntimeError), [("Double", "float64")], failures, notes)
    expect_raise("all_gather_into_tensor with a short output",
                 lambda: dist.all_gather_into_tensor(torch.zeros(3 * WS - 1), torch.ones(3)),
                 V, [str(3 * WS - 1)], failures, notes)
    expect_raise("reduce_scatter_tensor with a wrong-sized input",
                 lambda: dist.reduce_scatter_tensor(torch.zeros(3), torch.ones(3 * WS + 1)),
                 V, [str(3 * WS + 1)], failures, notes)
    expect_raise("all_to_all_single with splits that do not add up",
                 lambda: dist.all_to_all_single(torch.zeros(WS + 1), torch.ones(WS + 1),
                                                [1] * WS, [2] + [1] * (WS - 1)),
                 V, ["split"], failures, notes)
    expect_raise("all_to_all with an input list of WS+1 tensors",
                 lambda: dist.all_to_all([torch.zeros(1) for _ in range(WS)], [torch.ones(1) for _ in range(WS + 1)]),
                 V, [str(WS + 1)], failures, notes)
    expect_raise("send to self", lambda: dist.send(torch.ones(2), dst=RANK), (ValueError, RuntimeError),
                 [("this rank", "self", "itself", "same as the rank")], failures, notes)
    expect_raise("recv from any source", lambda: dist.recv(torch.ones(2)), (ValueError, RuntimeError),
                 [("source", "src")], failures, notes)
    sanity(failures, "argument errors")

    # Calls that differ across ranks (rank 1 differs from the others): an exception on
    # every rank, at the call or at wait(), quickly (MC_TIMEOUT_MS is 20 s here).
    odd = RANK == 1
    for what, call in (
        ("all_reduce with 10 elements on rank 0 and 12 on rank 1",
         lambda: dist.all_reduce(torch.ones(12 if odd else 10), async_op=True).wait()),
        ("broadcast with 10 elements on rank 0 and 12 on rank 1",
         lambda: dist.broadcast(torch.ones(12 if odd else 10), src=0, async_op=True).wait()),
        ("all_gather_into_tensor with 10 elements on rank 0 and 12 on rank 1",
         lambda: dist.all_gather_into_tensor(torch.zeros((12 if odd else 10) * WS), torch.ones(12 if odd else 10),
                                             async_op=True).wait()),
        ("all_reduce of int32 on rank 1 and float32 elsewhere",
         lambda: dist.all_reduce(torch.ones(10, dtype=torch.int32 if odd else torch.float32))),
        ("all_reduce MAX on rank 1 and SUM elsewhere",
         lambda: dist.all_reduce(torch.ones(10), op=dist.ReduceOp.MAX if odd else dist.ReduceOp.SUM)),
        ("broadcast from root 1 on rank 1 and root 0 elsewhere",
         lambda: dist.broadcast(torch.ones(10), src=1 if odd else 0)),
    ):
        t0 = time.perf_counter()
        expect_raise(what, call, (ValueError, RuntimeError), [], failures, notes)
        timings[f"mismatch {what}"] = round(time.perf_counter() - t0, 3)
        w = sanity(failures, f"mismatched {what}")
        if w is not None and mooncomm.work_participants(w) != list(range(WS)):
            failures.append(f"after mismatched {what}: participants {mooncomm.work_participants(w)}")
        act = mooncomm.get_active_ranks().tolist()
        if act != [1] * WS:
            failures.append(f"after mismatched {what}: active ranks {act} (a size mismatch is no failed rank)")

    # Options that do not fit the group: the creator says what is wrong, on every rank.
    expect_raise("new_group with active_ranks of the wrong size",
                 lambda: dist.new_group(list(range(WS)),
                                        pg_options=mooncomm.Options(active_ranks=torch.zeros(WS + 2, dtype=torch.int32))),
                 V, ["active_ranks", str(WS)], failures, notes)
    expect_raise("new_group with pg_options that are not mooncomm.Options",
                 lambda: dist.new_group(list(range(WS)), pg_options={"active_ranks": None}),
                 (TypeError, ValueError), ["Options"], failures, notes)
    sanity(failures, "bad pg_options")
    dist.destroy_process_group()
    return {"failures": failures, "notes": notes, "timings": timings}


def _resources():
    threads = sorted(os.listdir("/proc/self/task"))
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    with open("/proc/self/maps") as f:
        maps = [ln.split(None, 5)[-1].strip() for ln in f if "memfd:" in ln or "/dev/shm" in ln]
    names = {}
    for tid in threads:
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                names[tid] = f.read().strip()
        except OSError:
            pass
    return {"threads": names, "fds": fds, "maps": maps}


def _diff_resources(before, after):
    extra_t = {t: n for t, n in after["threads"].items() if t not in before["threads"]}
    extra_fd = {fd: p for fd, p in after["fds"].items() if before["fds"].get(fd) != p}
    extra_maps = [m for m in after["maps"] if m not in before["maps"]] + \
        [f"(count {after['maps'].count(m)} vs {before['maps'].count(m)}) {m}"
         for m in set(after["maps"]) if after["maps"].count(m) > before["maps"].count(m) and m in before["maps"]]
    return extra_t, extra_fd, extra_maps


def scenario_lifecycle() -> dict:
    """mooncomm only (no gloo): init, use, destroy twice; nothing stays behind."""
    failures, notes = [], []
    torch.ones(8).sum()  # torch's lazy state before the baseline
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), WS, is_master=RANK == 0,
                          wait_for_workers=True)
    transport = os.environ.get("MC_TRANSPORT", "auto")
    gc.collect()
    before = _resources()
    snapshots = []
    for cycle in range(2):
        dist.init_process_group(BACKEND, store=dist.PrefixStore(f"cycle{cycle}", store), rank=RANK, world_size=WS)
        sanity(failures, f"init (cycle {cycle})")
        out = [torch.zeros(2) for _ in range(WS)]
        dist.all_gather(out, torch.full((2,), float(RANK)))
        if [o.tolist() for o in out] != [[float(p)] * 2 for p in range(WS)]:
            failures.append(f"cycle {cycle}: all_gather gave {[o.tolist() for o in out]}")
        peer = (RANK + 1) % WS
        w = dist.isend(torch.ones(1000), dst=peer)
        r = torch.zeros(1000)
        dist.recv(r, src=(RANK - 1) % WS)
        w.wait()
        if r.sum().item() != 1000:
            failures.append(f"cycle {cycle}: recv gave {r.sum().item()}")
        sub = dist.new_group(list(range(WS)))
        sanity(failures, f"subgroup (cycle {cycle})", group=sub)
        during = _resources()
        dist.barrier()
        dist.destroy_process_group()
        del sub, w
        gc.collect()
        # Threads are joined by shutdown; give a detached one a moment anyway.
        deadline = time.monotonic() + 2.0
        while True:
            after = _resources()
            et, efd, em = _diff_resources(before, after)
            if not (et or efd or em) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        snapshots.append({
            "cycle": cycle,
            "threads_before": len(before["threads"]), "threads_during": len(during["threads"]),
            "threads_after": len(after["threads"]),
            "fds_before": len(before["fds"]), "fds_during": len(during["fds"]), "fds_after": len(after["fds"]),
            "maps_before": len(before["maps"]), "maps_during": len(during["maps"]), "maps_after": len(after["maps"]),
        })
        if et:
            failures.append(f"cycle {cycle} ({transport}): threads left after destroy_process_group: {et}")
        if efd:
            failures.append(f"cycle {cycle} ({transport}): fds left after destroy_process_group: {efd}")
        if em:
            failures.append(f"cycle {cycle} ({transport}): shared mappings left after destroy_process_group: {em}")
        if len(during["threads"]) <= len(before["threads"]) and BACKEND == "mooncomm":
            notes.append(f"cycle {cycle}: no thread seen while the group was up (the check may be blind)")
    # No rank leaves before every rank has measured: a rank that exits closes its
    # store connection, which would change rank 0's fds (the store's server).
    store.set(f"measured{RANK}", "1")
    store.wait([f"measured{p}" for p in range(WS)])
    # Rank 0 hosts the store: it leaves last, after every other rank's last store call.
    if RANK != 0:
        store.set(f"left{RANK}", "1")
    else:
        store.wait([f"left{p}" for p in range(1, WS)])
    return {"failures": failures, "notes": notes, "snapshots": snapshots}


# ---------------------------------------------------------------------------
# Failure scenario
# ---------------------------------------------------------------------------

def scenario_train(kill_at: int, iters: int, victim: int, mode: str) -> dict:
    """A training-style loop; `victim` SIGKILLs itself at iteration `kill_at`:
    mode 'before': before the iteration's first collective; 'during': a timer
    thread kills it a few ms into the iteration, in the middle of its
    collectives on 8 MiB tensors (and if the iteration finishes first it waits
    there to be killed).

    Every iteration: all_reduce SUM of 2**rank (the value tells who took part),
    all_gather of rank-tagged blocks, broadcast from a survivor. Each survivor
    records per iteration its time, results, participants and active ranks.
    """
    timeout_ms = int(os.environ.get("MC_TIMEOUT_MS", "30000"))
    active = torch.full((WS,), -1, dtype=torch.int32)
    dist.init_process_group("mooncomm", pg_options=mooncomm.Options(active_ranks=active))
    log(f"up, transport {os.environ.get('MC_TRANSPORT')}, active {active.tolist()}")
    rec = {"iterations": [], "errors": [], "init_active": active.tolist()}
    n = 1000 if mode == "before" else 1 << 20
    for it in range(iters):
        if RANK == victim and it == kill_at:
            if mode == "before":
                log("SIGKILL myself")
                os.kill(os.getpid(), signal.SIGKILL)
            else:
                delay = random.Random(os.getpid()).uniform(0.0005, 0.008)
                log(f"SIGKILL myself in {delay * 1000:.1f} ms")
                threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
        if RANK == victim and it == kill_at + 1:
            time.sleep(60)  # the timer kills it here if the iteration finished first
        entry = {"it": it}
        t0 = time.perf_counter()
        try:
            x = torch.full((n,), float(2 ** RANK), dtype=torch.float64)
            w = dist.all_reduce(x, async_op=True)
            w.wait()
            entry["allreduce"] = [x.min().item(), x.max().item()]
            entry["allreduce_parts"] = mooncomm.work_participants(w)
            out = [torch.full((3,), -1, dtype=torch.int64) for _ in range(WS)]
            w = dist.all_gather(out, torch.full((3,), 100 * it + RANK + 1, dtype=torch.int64), async_op=True)
            w.wait()
            entry["allgather"] = [o.tolist() for o in out]
            entry["allgather_parts"] = mooncomm.work_participants(w)
            root = 0 if it % 2 == 0 else WS - 1
            b = torch.full((5,), float(1000 * it + root) if RANK == root else -1.0)
            dist.broadcast(b, src=root)
            entry["broadcast"] = [b.min().item(), b.max().item(), root]
        except Exception as e:  # noqa: BLE001
            entry["error"] = exc_text(e)
            entry["error_type"] = type(e).__name__
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        entry["active"] = active.tolist()
        rec["iterations"].append(entry)
        log(f"it {it}: {entry}")

    # After the loop: the world still works among survivors.
    checks = {}
    try:
        t0 = time.perf_counter()
        dist.barrier()
        checks["barrier_seconds"] = round(time.perf_counter() - t0, 3)
        x = torch.tensor([float(2 ** RANK)])
        w = dist.all_reduce(x, async_op=True)
        w.wait()
        checks["final_allreduce"] = x.item()
        checks["final_parts"] = mooncomm.work_participants(w)
    except Exception as e:  # noqa: BLE001
        checks["final_error"] = exc_text(e)
    # A broadcast from the dead rank: an error (DistBackendError) on every survivor, no hang.
    t0 = time.perf_counter()
    try:
        dist.broadcast(torch.zeros(4), src=victim)
        checks["dead_root_broadcast"] = "no error"
    except Exception as e:  # noqa: BLE001
        checks["dead_root_broadcast"] = type(e).__name__
        checks["dead_root_broadcast_msg"] = exc_text(e)
    checks["dead_root_broadcast_seconds"] = round(time.perf_counter() - t0, 3)
    # Point-to-point with the dead rank fails with DistBackendError (rank 0 sends, rank 1 receives).
    if RANK in (0, 1):
        t0 = time.perf_counter()
        try:
            if RANK == 0:
                dist.isend(torch.ones(10), dst=victim).wait()
            else:
                dist.irecv(torch.ones(10), src=victim).wait()
            checks["p2p_dead"] = "no error"
        except Exception as e:  # noqa: BLE001
            checks["p2p_dead"] = type(e).__name__
            checks["p2p_dead_msg"] = exc_text(e)
        checks["p2p_dead_seconds"] = round(time.perf_counter() - t0, 3)
    # Point-to-point among survivors: 0 -> 1.
    try:
        if RANK == 0:
            dist.send(torch.full((4,), 9.0), dst=1)
        elif RANK == 1:
            r = torch.zeros(4)
            dist.recv(r, src=0)
            checks["p2p_survivors"] = r.tolist()
    except Exception as e:  # noqa: BLE001
        checks["p2p_survivors_error"] = exc_text(e)
    try:
        x = torch.tensor([float(2 ** RANK)])
        dist.all_reduce(x)
        checks["allreduce_after_errors"] = x.item()
    except Exception as e:  # noqa: BLE001
        checks["allreduce_after_errors"] = exc_text(e)
    # A new group of the survivors.
    survivors = [r for r in range(WS) if r != victim]
    try:
        t0 = time.perf_counter()
        sub_active = torch.zeros(len(survivors), dtype=torch.int32)
        sub = dist.new_group(survivors, use_local_synchronization=True,
                             pg_options=mooncomm.Options(active_ranks=sub_active))
        x = torch.tensor([float(2 ** RANK)])
        w = dist.all_reduce(x, group=sub, async_op=True)
        w.wait()
        checks["subgroup_allreduce"] = x.item()
        checks["subgroup_parts"] = mooncomm.work_participants(w)
        checks["subgroup_active"] = sub_active.tolist()
        checks["subgroup_seconds"] = round(time.perf_counter() - t0, 3)
    except Exception as e:  # noqa: BLE001
        checks["subgroup_error"] = exc_text(e)
    checks["final_active"] = active.tolist()
    checks["final_get_active_ranks"] = mooncomm.get_active_ranks().tolist()
    rec["checks"] = checks
    rec["timeout_ms"] = timeout_ms
    print(f"FINAL_ACTIVE_RANKS rank={RANK} {active.tolist()}", flush=True)
    t0 = time.perf_counter()
    dist.destroy_process_group()
    rec["destroy_seconds"] = round(time.perf_counter() - t0, 3)
    return rec


def main() -> None:
    scenario = sys.argv[1]
    t0 = time.perf_counter()
    try:
        if scenario == "diff":
            report = scenario_diff()
        elif scenario == "subgroup":
            report = scenario_subgroup()
        elif scenario == "errors":
            report = scenario_errors()
        elif scenario == "lifecycle":
            report = scenario_lifecycle()
        elif scenario == "train":
            report = scenario_train(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        else:
            raise SystemExit(f"unknown scenario {scenario!r}")
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        raise
    report["rank"] = RANK
    report["wall_seconds"] = round(time.perf_counter() - t0, 2)
    write_report(report)
    log(f"done in {report['wall_seconds']}s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
