"""The maple-tree step of the known finding proc-maps-stale-iterator, on the
real lib/maple_tree.c.

lock_next_vma() (mm/mmap_lock.c, 6.17+) continues from the vma_iterator the
previous call left.  When a writer merged the VMA just shown with the ones
after it between that call's vma_end_read() and this call's
mmap_lock_speculate_try_begin(), the iterator points into a replaced node:
mas_find() rewalks to the shown VMA's old last index, lands in the merged
VMA and returns the one after it.  The speculation began after the writer,
so lock_next_vma() accepts it and the merged VMA's tail is never shown.

This test runs exactly that sequence of tree calls in the kernel's
userspace harness (ASan, UBSan) and checks every result against the
faithful model: the kernel's mas_find() skips the merged range as the
model's does, and mas_set(from_addr) first (the candidate fix
maps-restart-at-last-addr) returns the merged VMA.
"""

import pytest

from rcu_harness.oracle.build import OracleUnavailable
from rcu_harness.oracle.emit import build_and_run, c_program
from rcu_harness.oracle.model import run_model
from rcu_harness.oracle.ops import (
    ULONG_MAX,
    Init,
    MFind,
    MSet,
    RcuOn,
    RLock,
    RUnlock,
    Store,
)

pytestmark = [pytest.mark.oracle, pytest.mark.timeout(900)]

MM_MT_FLAGS = 0x3
"""MT_FLAGS_ALLOC_RANGE | MT_FLAGS_USE_RCU (the VMA tree's, less the external
lock the harness does not have)."""

OPS = [
    Init(MM_MT_FLAGS),
    Store(0x1000, 0x1FFF, 1),  # A, the VMA before the one shown
    Store(0x2000, 0x2FFF, 2),  # B, the VMA shown last
    Store(0x3000, 0x9FFF, 3),  # C, after it
    Store(0xA000, 0xAFFF, 4),  # D
    RcuOn(),
    RLock(),  # lock_vma_range(): one read() of /proc/PID/maps
    MSet(0),
    MFind(ULONG_MAX),  # lock_next_vma(): A
    MFind(ULONG_MAX),  # lock_next_vma(): B, shown; from_addr becomes 0x3000
    Store(0x1000, 0x9FFF, 1),  # the writer merges A, B and C (vma_expand())
    MFind(ULONG_MAX),  # the next lock_next_vma(): vma_next() from the old iterator
    MSet(0x3000),  # the candidate fix: vma_iter_set(vmi, from_addr)
    MFind(ULONG_MAX),
    RUnlock(),
]


def test_the_kernels_mas_find_skips_what_the_merge_covers():
    expected = run_model(OPS)
    stale, fixed = expected[11], expected[13]
    assert stale.startswith("v4@a000-afff/"), stale  # [0x3000, 0x9fff] skipped
    assert fixed.startswith("v1@1000-9fff/"), fixed
    program = c_program(OPS, expected, "proc-maps-stale-iterator: the tree step")
    try:
        status, stderr = build_and_run(program)
    except OracleUnavailable as err:
        pytest.skip(err.reason)
    assert status == 0, stderr
