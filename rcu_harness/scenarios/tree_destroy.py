"""Scenario ``tree_destroy``: ``mtree_destroy()`` of an RCU-mode tree while
lockless readers are inside their read-side sections.

A maple tree user whose readers rely on RCU alone (no reference on the
tree's owner, as for the kernel's RCU-mode trees outside the mm) may
destroy the tree while readers walk it: ``mtree_destroy()`` takes the tree
lock, ``__mt_destroy()`` clears ``ma_root``, marks every node dead
(``mt_destroy_walk()``: the dead nodes' slots are reused to list the leaves
for the callback) and, in RCU mode, frees them from ``mt_free_walk()``
after a grace period; the entries go the same way (``kfree_rcu()``).  A
reader must see the old contents or an empty tree, and never freed memory.

Threads: ``owner`` makes ``ops`` changes (under the tree lock, as the
``rcu_transitions`` owner does), then destroys the tree and frees its
entries after a grace period; ``reader<k>`` read with any reader kind
under ``rcu_read_lock()`` only.  The mm around the tree is scaffolding: no
reader takes a reference on it (``fault`` falls back to the mm's
mmap_lock, which nobody holds for write).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from maple import ULONG_MAX, mt_set_in_rcu, mtree_destroy
from rcu_harness.kernel import kfree_rcu
from rcu_harness.scenarios.mm import (
    LAYOUT_PARAM,
    Design,
    Mm,
    Vma,
    mm_alloc,
    populate,
    vma_layout,
)
from rcu_harness.scenarios.readers import (
    READ_KIND_PARAM,
    READER_SEED_PARAM,
    aim_faults,
    aim_points,
    aim_windows,
    kinds_of,
    read_once,
)
from rcu_harness.scenarios.spec import Config, Param, Scenario
from rcu_harness.scenarios.transitions import do_op

if TYPE_CHECKING:
    from rcu_harness.runner.harness import Harness
    from rcu_harness.scenarios.readers import Targets


def owner(h: Harness, cfg: Config, mm: Mm, vmas: list[Vma]) -> None:
    """A few changes, then mtree_destroy() and the entries through RCU."""
    for k in range(cfg["ops"]):
        do_op(h, mm, vmas, ("mmap", "munmap", "split")[k % 3], k, cfg["layout"])
    mt = mm.mm_mt
    with h.span("writer.destroy"), h.writing(mt, 0, ULONG_MAX, None):
        mtree_destroy(mt)
    for vma in vmas:
        kfree_rcu(vma)
    vmas.clear()


def rcu_reader(h: Harness, cfg: Config, mm: Mm, targets: Targets, k: int) -> None:
    """A reader holding only rcu_read_lock() around each read."""
    for how in kinds_of(cfg, k, cfg["reads"]):
        read_once(h, cfg, mm, targets, how, True)


def build(h: Harness, cfg: Config) -> None:
    """Set up an RCU-mode tree and spawn the owner and the readers."""
    mm = mm_alloc(h, "tree", Design.D2021)
    with h.unobserved():
        mt_set_in_rcu(mm.mm_mt)
    layout = vma_layout(cfg["vmas"], seed=cfg["layout_seed"], layout=cfg["layout"])
    vmas = populate(h, mm, layout)
    targets = (aim_points(layout), aim_windows(mm, layout), aim_faults(layout))
    h.spawn("owner", owner, h, cfg, mm, vmas)
    for k in range(cfg["readers"]):
        h.spawn(f"reader{k}", partial(rcu_reader, k=k), h, cfg, mm, targets)


def work(cfg: Config) -> int:
    """Steps of one fair execution, from above (BENCHMARKS.md, *Step bounds*)."""
    reads = cfg["readers"] * cfg["reads"]
    return int(2000 + 300 * cfg["ops"] + cfg["vmas"] * (20 + 25 * reads))


SCENARIO = Scenario(
    "tree_destroy",
    "mtree_destroy() of an RCU-mode tree while lockless readers are inside "
    "their read-side sections",
    (
        LAYOUT_PARAM,
        Param("vmas", 16, "entries at the start", 1, 2000),
        Param("layout_seed", 6, "seed of the layout", 0),
        Param("ops", 2, "changes before the destroy", 0, 100),
        Param("readers", 2, "lockless readers", 1, 16),
        Param("reads", 2, "reads per reader", 1, 100),
        replace(READ_KIND_PARAM, default="all"),
        READER_SEED_PARAM,
    ),
    build,
    work,
)
