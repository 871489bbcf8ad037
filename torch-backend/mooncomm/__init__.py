"""MoonComm's backend for torch.distributed (CPU tensors).

    import torch.distributed as dist, mooncomm   # importing registers "mooncomm"
    dist.init_process_group("mooncomm")          # under torchrun, or with init_method/rank/world_size

Failure reporting: pass ``pg_options=mooncomm.Options(active_ranks=t)`` with
``t`` an int32 CPU tensor of the group's size; after every operation the
backend writes 1 (alive) or 0 (failed) per group rank into it.
``mooncomm.get_active_ranks(group)`` returns the same, and
``mooncomm.work_participants(work)`` the group ranks a finished operation
covered. When a rank dies, collectives finish over the survivors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.distributed as dist

from . import _C

__all__ = ["Options", "get_active_ranks", "work_participants", "describe_tuning", "BACKEND_NAME"]

BACKEND_NAME = "mooncomm"


@dataclass
class Options:
    """Backend options, passed as ``pg_options`` to init_process_group / new_group.

    active_ranks: an int32 CPU tensor with one entry per rank of the group;
    the backend keeps it up to date (1 alive, 0 failed). None: the backend
    keeps its own, readable through get_active_ranks().
    """

    active_ranks: Optional[torch.Tensor] = None


def _create_backend(dist_options, backend_options):
    active = None
    if backend_options is not None:
        if not isinstance(backend_options, Options):
            raise TypeError(
                f"mooncomm: pg_options must be a mooncomm.Options, not {type(backend_options).__name__}"
            )
        active = backend_options.active_ranks
    timeout_ms = int(dist_options.timeout.total_seconds() * 1000)
    return _C.ProcessGroupMoonComm(
        dist_options.store, dist_options.group_rank, dist_options.group_size, timeout_ms, active
    )


def _backend_of(group) -> "_C.ProcessGroupMoonComm":
    if group is None:
        group = dist.distributed_c10d._get_default_group()
    backend = group._get_backend(torch.device("cpu"))
    if not isinstance(backend, _C.ProcessGroupMoonComm):
        raise ValueError(f"mooncomm: the group's CPU backend is {type(backend).__name__}, not mooncomm")
    return backend


def get_active_ranks(group=None) -> torch.Tensor:
    """1 (alive) or 0 (failed) per rank of `group` (default: the world), as of its last operation."""
    return _backend_of(group).active_ranks().clone()


def work_participants(work) -> list[int]:
    """The ranks of the group (ascending) whose data took part in a finished mooncomm operation."""
    ranks = _C.work_participants(work)
    if ranks is None:
        raise ValueError("mooncomm: not a Work of the mooncomm backend")
    return ranks


def describe_tuning(group=None) -> str:
    """The tuner's size-to-algorithm map for the group (what MC_LOG_LEVEL=info prints)."""
    return _backend_of(group).describe_tuning()


if BACKEND_NAME not in dist.Backend.backend_list:
    dist.Backend.register_backend(BACKEND_NAME, _create_backend, extended_api=True, devices=["cpu"])
