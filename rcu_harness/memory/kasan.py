"""Memory-error reports in the layout of KASAN and kmemleak.

Kernel developers read these every day, so the harness prints them the same
way: the headline names the bug and the faulting model function, then the
access (Read/Write, size, address, which word, which task, which step) with
its call chain, then ``Allocated by``, ``Freed by`` and ``Last call_rcu``
sections with steps, tasks, call chains and grace-period numbers, then the
object's cache and the offset of the access inside it.  The runner appends
the interleaving excerpt and the replay command.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from rcu_harness.runtime.callchain import capture
from rcu_harness.runtime.finding import FindingKind, Violation

if TYPE_CHECKING:
    from rcu_harness.memory.records import AllocRecord, Site
    from rcu_harness.runtime.execution import Execution

RULE = "=" * 66


def _site_section(title: str, site: Site | None, extra: str = "") -> list[str]:
    if site is None:
        return []
    return ["", f"{title} by task {site.thread} at step {site.step}{extra}:",
            *site.chain.lines()]


def _history(rec: AllocRecord) -> list[str]:
    lines = _site_section("Allocated", rec.alloc)
    if rec.free is not None:
        gp = (f" (callback after the end of grace period {rec.free_gp})"
              if rec.free_gp else "")
        lines += _site_section("Freed", rec.free, gp)
    if rec.call_rcu is not None:
        lines += _site_section(
            "Last call_rcu", rec.call_rcu,
            f" (gp_seq {rec.call_rcu_gp} when queued; grace period "
            f"{rec.call_rcu_gp + 1} or later must end before the free)")
    if rec.death is not None:
        lines += _site_section("Marked dead", rec.death)
    return lines


def lifecycle(rec: AllocRecord) -> tuple[tuple[str, str, int], ...]:
    """@rec's allocation, death, call_rcu and free as (what, thread, step)."""
    sites = (("alloc", rec.alloc), ("death", rec.death),
             ("call_rcu", rec.call_rcu), ("free", rec.free))
    return tuple((what, site.thread, site.step) for what, site in sites
                 if site is not None)


def _cache(rec: AllocRecord) -> str:
    kasan_type = getattr(rec.obj, "kasan_type", None)
    if callable(kasan_type):
        return f"{rec.type_name} of size {rec.size} (node type {kasan_type()})"
    size = 8
    while size < rec.size:
        size *= 2
    return f"kmalloc-{size} of size {rec.size} (struct {rec.type_name})"


def _object_lines(rec: AllocRecord, offset: int, state: str) -> list[str]:
    return [
        "",
        f"The buggy address belongs to the object at {rec.addr:x}",
        f" which belongs to the cache {_cache(rec)}",
        f"The buggy address is located {offset} bytes inside of",
        f" {state} {rec.size}-byte region [{rec.addr:x}, {rec.addr + rec.size:x})",
    ]


def word_offset(obj: Any, word: str, index: int) -> int:
    """Byte offset of @word[@index] inside @obj (0 if unknown)."""
    fn = getattr(obj, "word_offset", None)
    return int(fn(word, index)) if callable(fn) else 0


def use_after_free(ex: Execution, rec: AllocRecord, access: str, word: str,
                   index: int, size: int = 8) -> Violation:
    """KASAN slab-use-after-free for an access to freed @rec."""
    chain = capture(2)
    func = chain.top()
    where = f"{word}[{index}]" if index >= 0 else word
    offset = word_offset(rec.obj, word, index)
    t = ex.cur
    lines = [
        RULE,
        f"BUG: KASAN: slab-use-after-free in {func}",
        f"{access} of size {size} at addr {rec.addr + offset:x} ({where}) by task"
        f" {t.label} at step {ex.step}",
        f"RCU: gp_seq {ex.rcu.gp_seq}, last completed grace period "
        f"{ex.rcu.completed}; task RCU nest depth {t.rcu_nesting}",
        "",
        "Call trace:",
        *chain.lines(),
        *_history(rec),
        *_object_lines(rec, offset, "freed"),
        RULE,
    ]
    free_top = rec.free.chain.top() if rec.free else "?"
    rcu_top = rec.call_rcu.chain.top() if rec.call_rcu else "-"
    return Violation(
        FindingKind.USE_AFTER_FREE,
        f"KASAN: slab-use-after-free in {func}: {access} {where} of freed "
        f"{rec.type_name} by {t.label}",
        "\n".join(lines),
        key=(func, access, word, rec.alloc.chain.top(), free_top, rcu_top),
        thread=t.label, step=ex.step, addr=rec.addr, lifecycle=lifecycle(rec),
        access=f"{access} {where} of freed {rec.type_name}")


def double_free(ex: Execution, rec: AllocRecord, via: str = "kfree") -> Violation:
    """KASAN double-free (or a second call_rcu of a queued object)."""
    chain = capture(2)
    func = chain.top()
    t = ex.cur
    lines = [
        RULE,
        f"BUG: KASAN: double-free in {func}",
        f"Free of addr {rec.addr:x} by task {t.label} at step {ex.step}"
        f" ({via})",
        "",
        "Call trace:",
        *chain.lines(),
        *_history(rec),
        *_object_lines(rec, 0, "freed" if rec.free else "queued"),
        RULE,
    ]
    first = (rec.free or rec.call_rcu or rec.alloc).chain.top()
    return Violation(FindingKind.DOUBLE_FREE,
                     f"KASAN: double-free in {func} of {rec.type_name} "
                     f"({via}); first freed in {first}",
                     "\n".join(lines), key=(func, via, first),
                     thread=t.label, step=ex.step, addr=rec.addr,
                     lifecycle=lifecycle(rec))


def invalid_free(ex: Execution, obj: object) -> Violation:
    """KASAN invalid-free: the object was never allocated by the heap."""
    chain = capture(2)
    func = chain.top()
    t = ex.cur
    addr = getattr(obj, "addr", 0)
    lines = [
        RULE,
        f"BUG: KASAN: invalid-free in {func}",
        f"Free of addr {addr:x} ({type(obj).__name__}) by task {t.label} at step"
        f" {ex.step}: the object was not allocated by the heap",
        "",
        "Call trace:",
        *chain.lines(),
        RULE,
    ]
    return Violation(FindingKind.INVALID_FREE,
                     f"KASAN: invalid-free in {func} of {type(obj).__name__}",
                     "\n".join(lines), key=(func, type(obj).__name__),
                     thread=t.label, step=ex.step)


def leak(ex: Execution, leaked: list[AllocRecord]) -> Violation:
    """kmemleak: objects still allocated at the end of the execution."""
    lines = [f"kmemleak: {len(leaked)} new suspected memory leaks"]
    for rec in leaked[:8]:
        lines += [
            f"unreferenced object 0x{rec.addr:x} (size {rec.size}):",
            f"  comm \"{rec.alloc.thread}\", step {rec.alloc.step}, "
            f"type {rec.type_name}, state {rec.state.value}",
            "  backtrace:",
            *("   " + line for line in rec.alloc.chain.lines()),
        ]
    if len(leaked) > 8:
        lines.append(f"... and {len(leaked) - 8} more")
    if any(r.alloc.thread == ex.setup_thread.label for r in leaked):
        lines += textwrap.wrap(
            "hint: objects the program allocated while setting the world up are "
            "still allocated at the end.  Every object must be freed by the end of "
            "an execution: register a teardown with h.at_exit(fn), which runs "
            "after every thread finished and RCU was drained, that destroys the "
            "trees (mtree_destroy(mt)) and frees what they and the program still "
            "hold (kfree(entry)).", 78, subsequent_indent="  ")
    sites = sorted({r.alloc.chain.top() for r in leaked})
    return Violation(FindingKind.LEAK,
                     f"kmemleak: {len(leaked)} objects leaked, allocated in "
                     + ", ".join(sites),
                     "\n".join(lines), key=tuple(sites),
                     thread=leaked[0].alloc.thread, step=ex.step)
