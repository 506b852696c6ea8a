"""Exceptions escaping a simulated thread, and which finding kind they are.

A Python exception in model or scenario code is a finding of kind
``exception`` whose report is the traceback restricted to model and
scenario frames.  ``maple.MaplePreallocExhausted`` (raised by the model's
``mas_pop_node()`` when an operation's bulk preallocation runs out) is the
finding ``prealloc-exhausted``.  ``maple.nullptr.NullPointerDereference`` (a
load or store through the NULL node, where C would dereference NULL) is the
finding ``null-ptr-deref``, reported in the layout of the kernel's oops.
``maple.node.MapleWarning`` (a ``WARN_ON()`` of lib/maple_tree.c fired, such
as ``mas_parent_type()`` asked about a root) is the finding ``warning``, in
the layout of the kernel's ``WARNING:`` splat; ``maple.node.MapleBug`` (a
``BUG_ON()`` fired) is the finding ``bug``, the kernel's oops.
``maple.node.MetadataMisread`` (the last slot of a full node read as its
metadata, the node seen as not full through a stale last pivot) is the
finding ``metadata-misread``: the kernel takes the word's low bytes as the
data end and gap and goes on, which the model cannot follow.
``maple.nullptr.NotANode`` (a load or store of a node word through the
tree a root's parent word points at, taken for a node) is the finding
``not-a-node``, in KASAN's layout: the access, the task's call chain, and
which bytes of ``struct maple_tree`` (or beyond it) the word overlays.
A node's metadata word (``MapleMetadata``, in the last slot of a node that
is not full) returned to a caller as an entry and dereferenced as the
pointer it is taken for (an attribute of it looked up: the model's
``AttributeError`` whose ``obj`` is the word) is the finding
``metadata-as-entry``, in KASAN's layout: the address the kernel would
load (the word's bits plus the field's offset, which KASAN calls a
null-ptr-deref below the first page), the field, the call chain, and the
node and slot the word was loaded from with that node's state.

Under a weak memory model the value behind either usually comes from a
stale load of the failing task (a slot read NULL before the node it points
to was published, a parent word read before the node was initialised), so
both reports name the loads behind the bad value: which store each read
(``init``: the value before any store) and the newer store it missed.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

from maple import nullptr
from maple.alloc import MaplePreallocExhausted
from maple.defs import MAPLE_PARENT_ROOT
from maple.node import (
    MapleBug,
    MapleMetadata,
    MapleWarning,
    MetadataMisread,
    enode_word,
    meta_bits,
)
from maple.nullptr import NotANode, NullPointerDereference
from rcu_harness.runtime.callchain import CallChain, from_traceback
from rcu_harness.runtime.finding import FindingKind, Violation
from rcu_harness.trace.events import EventKind, ReadsFrom, decode

if TYPE_CHECKING:
    from collections.abc import Callable

    from rcu_harness.runtime.execution import Execution
    from rcu_harness.runtime.thread import SimThread
    from rcu_harness.trace.events import RawEvent

_NODE_WORDS = frozenset({"slot", "parent", "ma_root"})
"""The words a node pointer is loaded from (a slot, a parent word, ma_root)."""
_ADDR_MASK = ~0xFF
PAGE_SIZE = 4096
TASK_SIZE = 0x00007FFFFFFFF000
"""x86-64's user address limit: KASAN calls a bad address below it a
user-memory-access, above it a wild-memory-access."""

STRUCT_FIELDS: dict[str, tuple[str, int]] = {}
"""Field name -> (struct, byte offset) of the instrumented structs, filled
by :mod:`rcu_harness.memory.simstruct` as they are defined (the first
struct to declare a name keeps it): where the dereference of a pointer that
is not one lands."""


def _load_lines(raws: list[RawEvent]) -> list[str]:
    return [_load_line(raw) for raw in raws]


def _load_line(raw: RawEvent) -> str:
    """One load of the failing task, with the store it read and the newer
    store it missed (weak memory)."""
    e = decode(raw)
    if not e.reads:  # sequential consistency: the newest store, not recorded
        return (f"  step {e.step}: ld {e.where} of {e.addr:#x} = {e.value}"
                f"{' in ' + e.function if e.function else ''}")
    read = ("read the initial value" if e.reads == "init"
            else f"read the store at {e.reads}")
    if e.stale == e.reads:
        read = (f"read an earlier store of {e.reads}; the last one of that step "
                "was not yet visible")
    elif e.stale:
        read += f"; the store at {e.stale} was not yet visible"
    return (f"  step {e.step}: ld {e.where} of {e.addr:#x} = {e.value}"
            f"{' in ' + e.function if e.function else ''} ({read})")


def _task_loads(ex: Execution, t: SimThread, wanted: Callable[[RawEvent], bool],
                last: int) -> list[RawEvent]:
    """The last @last recorded loads of task @t that @wanted accepts, newest
    first (none when the execution records no events)."""
    found: list[RawEvent] = []
    for raw in reversed(ex.events):
        if raw[1] == t.tid and raw[2] == EventKind.LOAD and wanted(raw):
            found.append(raw)
            if len(found) == last:
                break
    return found


def _null_pointer_value(raw: RawEvent) -> bool:
    """Did @raw, a load under weak memory, read a stale NULL node pointer?"""
    value = raw[6]
    if type(value) is not ReadsFrom or not value.stale_step \
            or raw[4] not in _NODE_WORDS:
        return False
    word = value.value
    return word is None or (isinstance(word, int) and not word & _ADDR_MASK)


def null_pointer_origin(ex: Execution, t: SimThread) -> list[str]:
    """Under weak memory: the stale load of @t that read the NULL node
    pointer behind its fault, as report lines ([] if it has none)."""
    if ex.memory_model is None:
        return []
    loads = _task_loads(ex, t, _null_pointer_value, 1)
    if not loads:
        return []
    lines = ["", f"The NULL node pointer: {t.label}'s last stale load of a node "
             "pointer that read NULL (weak memory):", *_load_lines(loads)]
    addr, word = loads[0][3], loads[0][4]
    if word == "parent":  # the loads of a parent word's other fields too
        lines += [f"{t.label}'s last loads of that parent word (newest first):",
                  *_load_lines(_task_loads(
                      ex, t, lambda r: r[3] == addr and r[4] == word, 4))]
    return lines


def exception_kind(exc: BaseException) -> FindingKind:
    """The finding kind of an exception raised by model or scenario code."""
    if isinstance(exc, NullPointerDereference):
        return FindingKind.NULL_DEREF
    if isinstance(exc, MapleWarning):
        return FindingKind.WARNING
    if isinstance(exc, MapleBug):
        return FindingKind.BUG
    if isinstance(exc, NotANode):
        return FindingKind.NOT_A_NODE
    if isinstance(exc, MetadataMisread):
        return FindingKind.METADATA_MISREAD
    if metadata_entry(exc) is not None:
        return FindingKind.METADATA_AS_ENTRY
    if isinstance(exc, MaplePreallocExhausted):
        return FindingKind.PREALLOC_EXHAUSTED
    return FindingKind.EXCEPTION


def null_deref_violation(ex: Execution, t: SimThread,
                         exc: NullPointerDereference) -> Violation:
    """The kernel's oops for a load or store through a NULL node pointer.

    The call trace starts at the model function that made the access (the
    frames of :mod:`maple.nullptr` that raise are not kernel code).
    """
    raw = from_traceback(exc.__traceback__)
    chain = CallChain(tuple(f for f in raw.frames
                            if f[0].co_filename != nullptr.__file__))
    access = "write" if exc.write else "read"
    body = "\n".join([
        f"BUG: kernel NULL pointer dereference, address: {exc.address:016x}",
        f"#PF: supervisor {access} access in kernel mode",
        f"#PF: error_code(0x000{2 if exc.write else 0}) - not-present page",
        "Oops: 0000 [#1] PREEMPT SMP",
        f"{t.label}: {access} of struct maple_node.{exc.word} through a NULL"
        f" node pointer at step {ex.step}",
        "Call Trace:",
        *chain.lines(),
        *null_pointer_origin(ex, t),
    ])
    return Violation(
        FindingKind.NULL_DEREF,
        f"kernel NULL pointer dereference in {' <- '.join(chain.names(4))}"
        f" ({access} of maple_node.{exc.word}, address {exc.address:#x})",
        body,
        key=("null-ptr-deref", *chain.names(3)),
        thread=t.label,
        step=ex.step,
    )


def warning_violation(ex: Execution, t: SimThread, exc: MapleWarning) -> Violation:
    """The kernel's ``WARNING:`` splat for a WARN_ON() the model stops at,
    with the task's loads of the parent word behind it (newest first) when
    the warning is about a node's parent word."""
    chain = from_traceback(exc.__traceback__)
    body = [
        "------------[ cut here ]------------",
        f"WARNING: task {t.label} at step {ex.step}: {exc.macro}({exc.condition}) "
        f"in {exc.function} (lib/maple_tree.c)",
        exc.detail,
        "Call Trace:",
        *chain.lines(),
    ]
    node = exc.node
    if node is not None:
        addr = node.addr
        loads = _task_loads(ex, t, lambda raw: raw[3] == addr and raw[4] == "parent",
                            4)
        if loads:
            body += ["", f"{t.label}'s last loads of that parent word (newest first):",
                     *_load_lines(loads)]
    body.append("---[ end trace ]---")
    return Violation(
        FindingKind.WARNING,
        f"WARNING in {' <- '.join(chain.names(4))}: {exc.macro}({exc.condition})"
        f" ({exc.summary})",
        "\n".join(body),
        key=("warning", exc.condition, *chain.names(3)),
        thread=t.label,
        step=ex.step,
    )


def bug_violation(ex: Execution, t: SimThread, exc: MapleBug) -> Violation:
    """The kernel's oops for a BUG_ON() of lib/maple_tree.c."""
    chain = from_traceback(exc.__traceback__)
    body = [
        "------------[ cut here ]------------",
        f"kernel BUG at lib/maple_tree.c: {exc.macro}({exc.condition}) in "
        f"{exc.function}",
        "Oops: invalid opcode: 0000 [#1] PREEMPT SMP",
        f"task {t.label} at step {ex.step}"
        + (f": {exc.detail}" if exc.detail else ""),
        "Call Trace:",
        *chain.lines(),
        "---[ end trace ]---",
    ]
    return Violation(
        FindingKind.BUG,
        f"kernel BUG in {' <- '.join(chain.names(4))}: {exc.macro}({exc.condition})",
        "\n".join(body),
        key=("bug", exc.condition, *chain.names(3)),
        thread=t.label,
        step=ex.step,
    )


def not_a_node_violation(ex: Execution, t: SimThread, exc: NotANode) -> Violation:
    """A KASAN-style report of an access to the tree taken for a node, with
    the task's loads of the parent word that gave the pointer."""
    raw = from_traceback(exc.__traceback__)
    chain = CallChain(tuple(f for f in raw.frames
                            if f[0].co_filename != nullptr.__file__))
    func = chain.names(1)[0] if chain.frames else "?"
    access = "Write" if exc.write else "Read"
    tree = exc.tree
    root_word = tree.addr | MAPLE_PARENT_ROOT
    body = [
        "=" * 66,
        f"BUG: maple node pointer to a struct maple_tree in {func}",
        f"{access} of size 8 at addr {tree.addr + exc.offset:x} (struct "
        f"maple_node.{exc.word}) by task {t.label} at step {ex.step}",
        f"The pointer is {tree!r}, which mte_parent() returns for a root (its "
        f"parent word {root_word:#x} holds the tree with MAPLE_PARENT_ROOT); "
        f"the access reads offset {exc.offset}: {exc.overlays}.",
        "",
        "Call trace:",
        *chain.lines(),
    ]
    origin = _task_loads(
        ex, t, lambda r: r[4] == "parent" and _value(r) == root_word, 1)
    if origin:
        addr = origin[0][3]
        loads = _task_loads(ex, t, lambda r: r[3] == addr and r[4] == "parent", 4)
        body += ["", f"{t.label}'s last loads of the parent word that gave the "
                 "pointer (newest first):", *_load_lines(loads)]
    body.append("=" * 66)
    return Violation(
        FindingKind.NOT_A_NODE,
        f"maple node pointer to a struct maple_tree in "
        f"{' <- '.join(chain.names(4))}: {access.lower()} of maple_node."
        f"{exc.word} ({exc.overlays})",
        "\n".join(body),
        key=("not-a-node", exc.word, *chain.names(3)),
        thread=t.label,
        step=ex.step,
    )


def _word_bits(word: Any) -> int | None:
    """The integer a slot word holds in C, where the model knows it."""
    if isinstance(word, tuple) and len(word) == 2 and hasattr(word[0], "addr"):
        return enode_word(word)  # type: ignore[arg-type]
    addr = getattr(word, "addr", None)
    return addr if isinstance(addr, int) else None


def metadata_misread_violation(ex: Execution, t: SimThread,
                               exc: MetadataMisread) -> Violation:
    """A reader took a full node's last slot for its metadata: the report
    names what the kernel would read there and the task's stale loads of
    the node that made it look not full."""
    chain = from_traceback(exc.__traceback__)
    node = exc.node
    bits = _word_bits(exc.word)
    kernel = (f"the kernel takes its low bytes as data end {bits & 0xFF:#x} and "
              f"gap offset {bits >> 8 & 0xFF:#x} and goes on with them"
              if bits is not None else "the kernel takes its low bytes as data "
              "end and gap offset and goes on with them")
    body = [
        f"BUG: metadata misread in {chain.top()}",
        f"task {t.label} at step {ex.step} read the metadata word of {node!r} "
        f"(its last slot) and found {exc.word!r}: the node is full, but the "
        f"task saw it as not full; {kernel}, past what the model's node words "
        "can follow.",
        "",
        "Call trace:",
        *chain.lines(),
    ]
    stale = _task_loads(ex, t, lambda r: r[3] == node.addr and _stale(r), 4)
    if stale:
        body += ["", f"{t.label}'s last stale loads of {node!r} (newest first):",
                 *_load_lines(stale)]
    return Violation(
        FindingKind.METADATA_MISREAD,
        f"metadata misread in {' <- '.join(chain.names(4))}: the last slot of a "
        "full node read as its metadata",
        "\n".join(body),
        key=("metadata-misread", *chain.names(3)),
        thread=t.label,
        step=ex.step,
    )


def _stale(raw: RawEvent) -> bool:
    value = raw[6]
    return type(value) is ReadsFrom and bool(value.stale_step)


def _value(raw: RawEvent) -> Any:
    """The value a recorded load read."""
    value = raw[6]
    return value.value if type(value) is ReadsFrom else value


def metadata_entry(exc: BaseException) -> MapleMetadata | None:
    """The metadata word @exc dereferenced as a pointer, if it is one: an
    attribute looked up on a :class:`MapleMetadata` (a word, not a struct)."""
    if isinstance(exc, AttributeError):
        obj = exc.obj
        if type(obj) is MapleMetadata and exc.name not in ("end", "gap"):
            return obj
    return None


def kasan_wild_bug_type(addr: int) -> str:
    """KASAN's name for a bad access to @addr outside any object
    (mm/kasan/report.c, get_wild_bug_type())."""
    if addr < PAGE_SIZE:
        return "null-ptr-deref"
    if addr < TASK_SIZE:
        return "user-memory-access"
    return "wild-memory-access"


def _node_state(ex: Execution, addr: int) -> str:
    """What the heap knows of the node at @addr now: live, or marked dead
    and freed, with task and step."""
    rec = ex.heap.records.get(addr)
    if rec is None:
        return "not a heap object"
    kind = getattr(rec.obj, "kasan_type", None)
    what = f"{rec.type_name} ({kind()})" if callable(kind) else rec.type_name
    parts = []
    for verb, site in (("marked dead", rec.death), ("freed", rec.free)):
        if site is not None:
            parts.append(f"{verb} by {site.thread} at step {site.step}")
    return f"{what}, {rec.state.value}" + (f": {', '.join(parts)}" if parts else "")


def metadata_entry_violation(ex: Execution, t: SimThread, exc: BaseException,
                             meta: MapleMetadata) -> Violation:
    """KASAN's report of a node's metadata word dereferenced as a pointer:
    the address, the field, the call chain, and where the word came from."""
    chain = from_traceback(exc.__traceback__)
    func = chain.names(1)[0] if chain.frames else "?"
    field = getattr(exc, "name", None) or "?"
    bits = meta_bits(meta)
    struct, offset = STRUCT_FIELDS.get(field, ("?", 0))
    addr = bits + offset
    bug = kasan_wild_bug_type(addr)
    where = (f"{struct}.{field} at offset {offset}" if struct != "?"
             else f"{field} (offset unknown)")
    body = [
        "=" * 66,
        f"BUG: KASAN: {bug} in {func}",
        f"Read of size 8 at addr {addr:016x} by task {t.label} at step {ex.step}",
        f"The pointer is {bits:#x}: a maple node's metadata word (struct "
        f"maple_metadata: data end {meta.end:#x}, gap offset {meta.gap:#x}) that "
        f"the tree returned as an entry, dereferenced as the pointer it was "
        f"taken for ({where}).",
        "",
        "Call trace:",
        *chain.lines(),
    ]
    loads = _task_loads(ex, t, lambda r: r[4] == "slot" and
                        type(_value(r)) is MapleMetadata, 1)
    if loads:
        raw = loads[0]
        body += ["", f"The word: {t.label}'s last load of a metadata word from a "
                 "slot, where a node that is not full keeps its metadata:",
                 *_load_lines(loads),
                 f"  slot {raw[5]} is past the data end {meta.end} the word records; "
                 f"the node at {raw[3]:#x} is now {_node_state(ex, raw[3])}"]
    body.append("=" * 66)
    return Violation(
        FindingKind.METADATA_AS_ENTRY,
        f"KASAN: {bug} in {' <- '.join(chain.names(4))}: a node's metadata word "
        f"{bits:#x} taken for an entry, read of {field} at {addr:#x}",
        "\n".join(body),
        key=("metadata-as-entry", field, *chain.names(3)),
        thread=t.label,
        step=ex.step,
    )


def exception_violation(ex: Execution, t: SimThread,
                        exc: BaseException) -> Violation:
    """A violation for @exc escaping thread @t."""
    if isinstance(exc, NullPointerDereference):
        return null_deref_violation(ex, t, exc)
    if isinstance(exc, MapleWarning):
        return warning_violation(ex, t, exc)
    if isinstance(exc, MapleBug):
        return bug_violation(ex, t, exc)
    if isinstance(exc, NotANode):
        return not_a_node_violation(ex, t, exc)
    if isinstance(exc, MetadataMisread):
        return metadata_misread_violation(ex, t, exc)
    meta = metadata_entry(exc)
    if meta is not None:
        return metadata_entry_violation(ex, t, exc, meta)
    chain = from_traceback(exc.__traceback__)
    kind = exception_kind(exc)
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    head = ("BUG: maple tree bulk preallocation exhausted"
            if kind is FindingKind.PREALLOC_EXHAUSTED
            else f"BUG: unhandled exception in task {t.label}")
    body = "\n".join([
        head,
        f"{text}",
        f"in task {t.label} at step {ex.step}",
        "Traceback (model and scenario frames, innermost first):",
        *chain.lines(),
    ])
    return Violation(
        kind,
        f"{type(exc).__name__} in {chain.top()}: {str(exc)[:120]}",
        body,
        key=(type(exc).__name__, *chain.names(3)),
        thread=t.label,
        step=ex.step,
    )
