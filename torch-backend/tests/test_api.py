"""The backend's API around the collectives: subgroups, errors on bad input,
and the lifecycle (init / destroy leave nothing behind). Each test is one
launch of real rank processes (worker.py), whose checks come back as a list
of failures per rank."""

import pytest

import harness

pytestmark = pytest.mark.skipif(
    harness.BACKEND_UNDER_TEST != "mooncomm" or not harness.mooncomm_findable(),
    reason="needs the mooncomm backend (build it and set PYTHONPATH=<build>/python)",
)


def assert_no_failures(res):
    failures = {r: rep["failures"] for r, rep in res.results.items() if rep["failures"]}
    assert not failures, "\n".join(f"rank {r}: {f}" for r, fs in sorted(failures.items()) for f in fs)


def test_subgroups():
    """World size 3: new_group([0, 2]) (with Options(active_ranks)) and new_group([1, 2])
    run all_reduce, all_gather, broadcast from a global rank, send/recv, barrier, gather;
    group ranks in work_participants and active ranks; the world keeps working; a
    new_group([0, 1]) with use_local_synchronization works."""
    res = harness.launch("subgroup", 3, timeout=90)
    res.check()
    assert_no_failures(res)


def test_bad_input_raises_clear_errors():
    """World size 3, MC_TIMEOUT_MS=20000. Each of these raises on every rank an
    exception that names the problem, and an all_reduce right after still works:
    ReduceOp.BAND / BXOR (ValueError naming the op); int16, uint16, float8
    tensors (ValueError naming the dtype); a sparse tensor; an all_gather output
    list of the wrong length, an output of the wrong size or dtype;
    all_gather_into_tensor / reduce_scatter_tensor with wrong sizes; all_to_all_single
    splits that do not add up; an all_to_all input list of the wrong length;
    send to self; recv from any source; pg_options with active_ranks of the
    wrong size or not a mooncomm.Options. Calls that differ across ranks (sizes
    10 vs 12 in all_reduce, broadcast, all_gather_into_tensor; int32 vs float32;
    MAX vs SUM; broadcast roots 0 vs 1) raise ValueError/RuntimeError on every
    rank within 5 s (not a timeout), leave active ranks all 1, and the next
    collective covers every rank."""
    res = harness.launch("errors", 3, env={"MC_TIMEOUT_MS": 20000}, timeout=90)
    res.check()
    assert_no_failures(res)
    for r, rep in res.results.items():
        assert len(rep["timings"]) == 6, rep["timings"]
        slow = {k: v for k, v in rep["timings"].items() if v > 5.0}
        assert not slow, f"rank {r}: mismatched calls took long to fail (a timeout, not a check?): {slow}"


@pytest.mark.parametrize("transport", ["shm", "tcp"])
def test_init_destroy_leaves_nothing_behind(transport):
    """World size 2, mooncomm only (the store made by hand so its own thread and
    sockets are in the baseline): init_process_group, all_reduce, all_gather,
    isend/recv, a subgroup, destroy_process_group, twice in one process. After
    each destroy the threads (/proc/self/task), fds (/proc/self/fd) and shared
    mappings (memfd, /dev/shm) are those of before the first init."""
    res = harness.launch("lifecycle", 2, env={"MC_TRANSPORT": transport}, timeout=90)
    res.check()
    assert_no_failures(res)
    for r, rep in res.results.items():
        snaps = rep["snapshots"]
        assert len(snaps) == 2, snaps
        for s in snaps:
            # The check can see the backend's resources at all: it has threads and fds while up.
            assert s["threads_during"] > s["threads_before"], s
            assert s["fds_during"] > s["fds_before"], s
            assert s["threads_after"] == s["threads_before"] and s["fds_after"] == s["fds_before"], s
            assert s["maps_after"] == s["maps_before"], s
