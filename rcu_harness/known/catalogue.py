"""The catalogue of known kernel findings (like syzbot's known crashes).

Each :class:`KnownFinding` says how to recognise the bug (a signature rule:
the finding kind and a pattern of its one-line message, which names the
faulting function and its callers; for the oracle, patterns of both sides'
crash lines), what it is, which kernel versions have it, how it was
confirmed, and its candidate fix (:mod:`rcu_harness.known.fixes`).

Campaigns count a finding that matches an entry as known and show the entry;
a run whose findings are all known exits 0 (``--strict``: 1).  A finding
matches an entry only when the bug is present in its run: a run that applies
the entry's candidate fix (``kernel_fixes``) does not have the bug, so a
finding of that run with the same kind and message (a mutant's, typically:
``maps-skips-gap-check`` runs with the fix of ``proc-maps-stale-iterator``)
is a new finding, not the catalogued one; the same holds for the oracle's
crash lines on sides built with the fix.  The oracle
counts "both sides fail at the same op with a catalogued bug" as agreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection

PINNED = "6.12.117 (Debian linux-source-6.12 6.12.117-1~deb12u1)"
"""The kernel the oracle builds; other versions are not checked."""


@dataclass(frozen=True, slots=True)
class KnownFinding:
    """One known kernel bug and how to recognise it."""

    id: str
    title: str
    kind: str
    """The harness finding kind (``null-ptr-deref``, ...), or several separated
    by ``|`` when the bug shows in more than one way; "" if it has none."""
    message: str
    """A regex searched in the finding's one-line message."""
    kernel_crash: str
    """A regex searched in the oracle driver's crash line."""
    model_crash: str
    """A regex searched in the model's crash line in the oracle."""
    what: str
    versions: str
    confirmed: str
    fix: str
    """The name of the candidate fix, or "" if there is none yet."""
    reproducer: str
    """How to reproduce it (a command line)."""

    def present(self, fixes: Collection[str]) -> bool:
        """Is the bug in a run that applies the candidate fixes @fixes?"""
        return not self.fix or self.fix not in fixes

    def matches(self, kind: str, message: str, fixes: Collection[str] = ()) -> bool:
        """Does a harness finding of @kind with @message, in a run that
        applies the candidate fixes @fixes, match this entry?  Not when the
        run applies this entry's fix: the bug is not there to be found."""
        return bool(self.kind) and kind in self.kind.split("|") \
            and self.present(fixes) and bool(re.search(self.message, message))

    def matches_crashes(self, kernel: str, model: str,
                        fixes: Collection[str] = ()) -> bool:
        """Do the oracle's two crash lines of one op, with the candidate
        fixes @fixes built in, match this entry?"""
        return self.present(fixes) and bool(re.search(self.kernel_crash, kernel)) \
            and bool(re.search(self.model_crash, model))

    def describe(self) -> str:
        """Several lines for a campaign summary or a report."""
        fix = f"candidate fix: --set kernel_fixes={self.fix}" if self.fix else \
            "candidate fix: none yet"
        return "\n".join([f"known kernel bug {self.id}: {self.title}",
                          f"  kernel: {self.versions}",
                          f"  confirmed: {self.confirmed}", f"  {fix}"])


REWALK_NULL_NODE = KnownFinding(
    id="maple-rewalk-null-node",
    title=("NULL pointer dereference in ma_dead_node() when a lockless "
           "iteration rewalks into a tree emptied meanwhile"),
    kind="null-ptr-deref",
    message=r"in ma_dead_node <- mas_rewalk_if_dead <- mas_(next|prev)_slot\b",
    kernel_crash=(r"SEGV on unknown address 0x0+\b.*|null pointer.*maple_node"
                  r"|in ma_dead_node"),
    model_crash=r"NullPointerDereference: .*struct maple_node\.parent\)",
    what=("mas_next_slot()/mas_prev_slot() find their node dead, mas_rewalk() "
          "lands in a tree that is now empty (or holds one entry at index 0 in "
          "ma_root), leaving mas->node NULL; the goto retry computes "
          "mas_mn(mas) == NULL and ma_dead_node(NULL) loads node->parent: an "
          "oops in any RCU reader (mas_find, mas_next, mas_prev, mas_for_each, "
          "mt_find...) racing a writer that empties the tree."),
    versions=f"{PINNED} (the only version checked)",
    confirmed=("the real lib/maple_tree.c built with the kernel's userspace "
               "harness (ASan/UBSan), single-threaded at API-call granularity "
               "as check_rcu_simulated() does: ASan SEGV on address 0 in "
               "ma_dead_node <- mas_rewalk_if_dead <- mas_next_slot <- mas_find"),
    fix="rewalk-no-node",
    reproducer=("rcu-harness stress --scenario rcu_transitions --set vmas=2 "
                "--set ops_seed=5; rcu-harness oracle confirm FINDING.json"),
)

RCU_DESTROY_DEAD_LEAVES = KnownFinding(
    id="maple-rcu-destroy-dead-leaves",
    title=("mt_destroy_walk() in RCU mode frees a corrupted pointer on a tree "
           "without MT_FLAGS_ALLOC_RANGE"),
    kind="",
    message="",
    kernel_crash=r"AddressSanitizer: .*\bin .*mt_free_walk|in mt_free_walk",
    model_crash=r"kmem_cache_free of an invalid pointer",
    what=("mte_dead_leaves() strips the type bits from the slots of a node "
          "whose children are leaves, so mt_clear_meta() on a full "
          "maple_range_64 start node zeroes the metadata bytes that overlap "
          "slot 15 and mt_free_walk() frees a corrupted pointer; reached by "
          "mtree_destroy() and by a spanning store's mas_mat_destroy() in RCU "
          "mode (flags 0)."),
    versions=PINNED,
    confirmed=("the oracle: random traces with flags 0 in RCU mode crash the "
               "real lib/maple_tree.c (ASan use-after-free or buffer overflow "
               "in mt_free_bulk <- mt_free_walk) and the model at the same op"),
    fix="",
    reproducer="python -m rcu_harness.oracle diff --random 40 --ops 1500 --flags 2",
)

OVERFLOW_STATE_NULL_NODE = KnownFinding(
    id="maple-overflow-state-null-node",
    title=("NULL pointer dereference in ma_dead_node() when mas_next()/mas_prev() "
           "continue from an overflow/underflow state that has no node"),
    kind="",
    message="",
    kernel_crash=REWALK_NULL_NODE.kernel_crash,
    model_crash=r"NullPointerDereference: .*rmas\.node NULL before the call",
    what=("single-threaded, no writer needed: the early exits of "
          "mas_next_setup() (mas->last >= max), mas_prev_setup() (mas->index <= "
          "min) and mas_find_setup() set ma_overflow/ma_underflow on a state "
          "that has no node (ma_start, ma_pause, ma_none); a later mas_next() "
          "or mas_prev() with a wider limit takes the 'overflowed before, but "
          "the max changed' path, marks the state active without walking and "
          "mas_next_slot()/mas_prev_slot() load mas_mn(mas)->parent of a NULL "
          "node. MA_STATE(mas, mt, 30, 30); mas_next(&mas, 10); "
          "mas_next(&mas, ULONG_MAX) oopses."),
    versions=PINNED,
    confirmed=("found by the oracle's reader-API differential: the real "
               "lib/maple_tree.c (ASan SEGV on address 0 in ma_dead_node <- "
               "mas_rewalk_if_dead <- mas_next_slot <- mas_next) and the model "
               "fail at the same call"),
    fix="overflow-state-no-node",
    reproducer=("printf 'init 0\\nstore 10 20 1\\nmset 30\\nmnext 10\\n"
                "mnext 18446744073709551615\\n' > t; python -m "
                "rcu_harness.oracle diff --trace t"),
)

NEVER = r"(?!)"
"""A crash-line pattern that matches nothing: a finding the oracle's
single-threaded driver cannot show."""

STACKROT = KnownFinding(
    id="stackrot-cve-2023-3269",
    title=("use-after-free of a maple node by a walker holding only the mmap read "
           "lock while a stack expansion replaces it (StackRot, CVE-2023-3269)"),
    kind="use-after-free",
    message=r"of freed maple_node by (locked|expander)\d+/",
    kernel_crash=NEVER,
    model_crash=NEVER,
    what=("Linux 6.1-6.4 expanded stacks under the mmap read lock; in RCU mode "
          "the node an expansion replaces (one that consumes the gap to a "
          "PROT_NONE neighbour, or crosses a node boundary) is freed after a grace "
          "period, and find_vma_prev() or another expansion's mas_prev(), which "
          "walk under the read lock without rcu_read_lock(), may still be in it."),
    versions="Linux 6.1 to 6.4 (design=2023); fixed in 6.5 by expanding the stack "
             "under the mmap write lock (design=modern)",
    confirmed=("public report CVE-2023-3269 (StackRot); the model's stack_expand "
               "scenario in the 2023 design reproduces it and is clean in the "
               "modern one"),
    fix="",
    reproducer="rcu-harness stress --scenario stack_expand --set guard_gap=false",
)

SYZBOT_STACK_GAP = KnownFinding(
    id="syzbot-stack-gap-2023",
    title=("a reader under the mmap read lock sees a node being rewritten when a "
           "stack expansion consumes the gap outside RCU mode (syzbot, March 2023)"),
    kind="result-inconsistent",
    message=r"^(locked|expander)\d+/\d+: ",
    kernel_crash=NEVER,
    model_crash=NEVER,
    what=("Linux 6.1/6.2 (tree not in RCU mode): an expansion that consumes the "
          "whole gap to a neighbour with no guard gap rewrites the leaf in place "
          "under tasks walking it with the mmap read lock (a BUG_ON in mm/mmap.c "
          "in the report)."),
    versions="Linux 6.1, 6.2 (design=2023, rcu=false); fixed by enabling RCU mode "
             "for the VMA tree (commit 3dd4432549415, 6.3 and 6.1.y)",
    confirmed=("syzbot report 8d95422d3537159ca390; the model's stack_expand "
               "scenario with rcu=false, guard_gap=false reproduces a torn read"),
    fix="",
    reproducer=("rcu-harness stress --scenario stack_expand --set rcu=false "
                "--set guard_gap=false --set readers=0"),
)

REBALANCE_STALE_PARENT_SLOT = KnownFinding(
    id="maple-rebalance-stale-parent-slot",
    title=("a lockless reverse walk ends early (and a forward one repeats "
           "entries) when a rebalance that shrinks the tree publishes nodes whose "
           "parent words name the wrong slot"),
    kind="result-inconsistent|warning",
    message=r"^reader\d+/\d+: (iterate-rev missed \[0x[0-9a-f]+, 0x[0-9a-f]+\] "
            r"-> \S+, present throughout the read|iteration not ascending: "
            r"\[0x[0-9a-f]+, 0x[0-9a-f]+\] -> \S+ after index 0x[0-9a-f]+)$"
            r"|^WARNING in mas_prev_slot <- mas_(find_rev|prev)\b.*: "
            r"WARN_ON_ONCE\(mas_is_underflow\(mas\)\)",
    kernel_crash=NEVER,
    model_crash=NEVER,
    what=("mas_spanning_rebalance() (from mas_rebalance() when a store leaves a "
          "node insufficient, or a spanning store) breaks out of its loop at the "
          "root's limits and builds the new top node from mast->bn, where "
          "mast_combine_cp_left() put the untouched slots left of the rebuilt "
          "subtree first; it then gives left/middle/right parent slots 0, 1, 2 "
          "(slot is never set on that path) although they sit at l_mas.offset "
          "onwards.  mas_topiary_replace() publishes the node (mas_put_in_tree()) "
          "before mas_adopt_children() rewrites those parent words.  A lockless "
          "reader in such a live child that ascends meanwhile trusts the slot -- "
          "nothing is dead, no check fires: mas_prev_node() underflows at 'slot "
          "0' (mas_prev_slot()'s WARN_ON_ONCE(mas_is_underflow(mas)) fires and "
          "mas_find_rev()/mas_prev() return NULL with entries present "
          "throughout left unseen) or steps to the wrong sibling; mas_next_node() "
          "goes back into the same node (entries returned again)."),
    versions=(f"{PINNED}, the only version checked; the loop's root-limits break "
              "still leaves slot at 0 in 'maple_tree: break on convergence in "
              "mas_spanning_rebalance()' (v2, February 2025), which sets slot = "
              "mast->l->offset only on the break it adds"),
    confirmed=("oracle confirm with the reads inside the write (the interleave "
               "point at the end of mas_put_in_tree()): the real lib/maple_tree.c "
               "fires mas_prev_slot()'s WARN_ON_ONCE(mas_is_underflow(mas)) (the "
               "userspace build prints 'assertion failed at lib/maple_tree.c', "
               "line 4544 of the interleave copy) and returns NULL from "
               "mas_find_rev() where the entry below is present "
               "throughout; a 24-op reproducer (docs/kernel-findings.md); clean "
               "with the candidate fix on both sides.  The forward form (an "
               "iteration that returns entries again) was found by the clean "
               "soak (tree_destroy, read_kind=all) and is attributed by the "
               "model alone: the same 400 executions show it (and the reverse "
               "form) without the fix and nothing with it; its API-granular "
               "trace does not express it on C"),
    fix="rebalance-parent-slot",
    reproducer=("rcu-harness stress --scenario rcu_transitions --set op_set=mprotect "
                "--set read_kind=reverse --executions 100; rcu-harness oracle "
                "confirm FINDING.json"),
)

PROC_MAPS_STALE_ITERATOR = KnownFinding(
    id="proc-maps-stale-iterator",
    title=("/proc/PID/maps under per-VMA locks leaves out mapped memory when a "
           "writer changes the VMA just shown before the next lock_next_vma() "
           "begins its speculation"),
    kind="result-inconsistent",
    message=r"^maps\d+/\d+: showed a hole",
    kernel_crash=NEVER,
    model_crash=NEVER,
    what=("get_next_vma() drops the shown VMA's lock (vma_end_read()), then "
          "lock_next_vma() calls mmap_lock_speculate_try_begin() and vma_next() "
          "from the iterator the previous call left. A writer that ran in between "
          "(it waited for that reader: a merge or mremap() growing the shown VMA, "
          "a stack expansion) left that iterator in a dead node: mas_find() "
          "rewalks to the shown VMA's old last index, lands inside the VMA that "
          "now covers it, and resumes after it. The next VMA found lies ahead of "
          "from_addr, but the speculation began after the writer finished and "
          "sees no change: the range in between is never shown (and a NULL from "
          "vma_next() is not verified at all: with nothing after, the output "
          "ends early)."),
    versions=("Linux 6.17+ (lockless /proc/PID/maps: lock_next_vma() in "
              "mm/mmap_lock.c, get_next_vma() in fs/proc/task_mmu.c; design "
              "vma_refcnt), in both the posted form (fallback when the "
              "speculation failed) and the later one (verification by a re-find "
              "from from_addr): neither runs when the speculation began after "
              "the writer"),
    confirmed=("the tree step on the real lib/maple_tree.c 6.12 "
               "(tests/oracle/test_known_maps_iterator.py: after a store merging "
               "the shown VMA with the next ones, mas_find() from the reader's "
               "state returns the VMA after the merged one, as the model does; "
               "mas_set(from_addr) first returns the merged VMA); lock_next_vma() "
               "itself is modelled from the 6.17+ source, not built (the pinned "
               "kernel source is 6.12, which has no lock_next_vma(), and the "
               "oracle builds lib/maple_tree.c only); not reproduced on a running "
               "kernel"),
    fix="maps-restart-at-last-addr",
    reproducer=("rcu-harness replay --scenario page_fault --set design=vma_refcnt "
                "--strategy pct --seed 7 --execution 164"),
)

CATALOGUE: tuple[KnownFinding, ...] = (REWALK_NULL_NODE, OVERFLOW_STATE_NULL_NODE,
                                       RCU_DESTROY_DEAD_LEAVES, STACKROT,
                                       SYZBOT_STACK_GAP, REBALANCE_STALE_PARENT_SLOT,
                                       PROC_MAPS_STALE_ITERATOR)
"""Every known kernel finding."""


def known_finding(kind: str, message: str, fixes: Collection[str] = ()
                  ) -> KnownFinding | None:
    """The catalogue entry a harness finding matches, if any (@fixes: the
    candidate kernel fixes its run applies, ``Config.fixes``)."""
    for entry in CATALOGUE:
        if entry.matches(kind, message, fixes):
            return entry
    return None


def known_crash(kernel: str, model: str, fixes: Collection[str] = ()
                ) -> KnownFinding | None:
    """The catalogue entry both sides' crash lines of one op match, if any
    (@fixes: the candidate fixes both sides were built with)."""
    for entry in CATALOGUE:
        if entry.matches_crashes(kernel, model, fixes):
            return entry
    return None
