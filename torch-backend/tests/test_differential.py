"""mooncomm against gloo, op by op, on the same ranks and the same inputs.

One launch per world size (2, 3, 4) runs every case (worker.py, scenario
"diff"); each rank compares mooncomm's result (the default group) with gloo's
(a gloo group over the same ranks) and reports what differs.

What runs (see worker.py for the inputs):
  - reductions: all_reduce, reduce (rotating root), reduce_scatter,
    reduce_scatter_tensor, all_reduce_coalesced and all_reduce under
    _coalescing_manager x float32, float64, float16, bfloat16, int8, uint8,
    int32, int64, bool x SUM, PRODUCT, MIN, MAX, AVG x 0, 1, 7 elements;
    all_reduce of a transposed view (SUM, MAX) for every dtype and size.
    Inputs avoid overflow: PRODUCT multiplies values in {-2,-1,1,2} ({1,2}
    for uint8), SUM adds small integers (quarters for floats, so float sums
    are exact in any order and compared exactly). AVG is compared with a
    tolerance per dtype; where gloo has no AVG (integers, bool) mooncomm must
    match the documented result (truncated integer mean, OR for bool) or
    raise as gloo does.
  - data movement, every dtype x 0, 1, 7 elements, compared exactly:
    all_gather (also into strided outputs), all_gather_into_tensor (also
    under _coalescing_manager), all_gather_coalesced (inputs of two sizes, and
    world-size inputs of one size), broadcast (also a
    transposed view), gather, scatter, all_to_all (uneven sizes),
    all_to_all_single (even, equal splits, uneven 2-D splits with zero-row
    splits), isend/irecv around a ring (also into a strided buffer), blocking
    send/recv into a transposed view, batch_isend_irecv with every peer (two
    messages a pair, posting order different on every rank), barrier (and
    that it waits for a late rank).
  - async_op=True for all_reduce, all_gather, broadcast, reduce_scatter_tensor,
    all_to_all_single, barrier, isend/irecv (float32, int32, bfloat16):
    wait() and get_future().wait() give gloo's values; work_participants is
    every rank (collectives) or this rank and its peer (point-to-point).
  - large: 1 MiB + 3 elements (262147) of float32 and int32: all_reduce SUM
    (random floats, tolerance) and MAX, all_gather_into_tensor,
    reduce_scatter_tensor SUM, broadcast, all_to_all_single with uneven splits.
Non-in-place ops also return their inputs, which must come back unchanged.
"""

import pytest

import harness

pytestmark = pytest.mark.skipif(
    harness.BACKEND_UNDER_TEST == "mooncomm" and not harness.mooncomm_findable(),
    reason="mooncomm is not importable (build it and set PYTHONPATH=<build>/python)",
)


@pytest.mark.parametrize("world_size,transport", [(2, "auto"), (3, "auto"), (4, "auto"), (3, "tcp")])
def test_matches_gloo(world_size, transport):
    """auto is shm between these local ranks; tcp once more at world size 3."""
    res = harness.launch("diff", world_size, env={"MC_TRANSPORT": transport}, timeout=240)
    res.check()
    reports = res.results
    cases = {r: rep["cases"] for r, rep in reports.items()}
    assert len(set(cases.values())) == 1, f"ranks ran different numbers of cases: {cases}"
    any_rep = reports[0]
    # Every family ran, and (nearly) every case was compared with gloo or the reference.
    for family in ("all_reduce", "reduce", "reduce_scatter", "reduce_scatter_tensor", "all_reduce_coalesced",
                   "coalescing_manager all_reduce", "all_reduce non-contiguous", "all_gather",
                   "all_gather non-contiguous out", "all_gather_into_tensor", "broadcast",
                   "broadcast non-contiguous", "gather", "scatter", "all_to_all", "all_to_all_single", "send/recv",
                   "batch_isend_irecv", "barrier", "async", "large"):
        assert any_rep["counts"].get(family, 0) > 0, f"no {family} case ran: {any_rep['counts']}"
    assert any_rep["cases"] > 1200
    assert any_rep["compared"] > 1100, any_rep
    failures = {r: rep["failures"] for r, rep in reports.items() if rep["failures"]}
    if failures:
        lines = []
        for r, fs in sorted(failures.items()):
            lines.append(f"rank {r}: {len(fs)} failures")
            lines.extend("  " + f for f in fs[:60])
        pytest.fail(f"world size {world_size}, MC_TRANSPORT={transport}: mooncomm differs from gloo\n"
                    + "\n".join(lines))
