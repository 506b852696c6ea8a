"""Maple nodes, encoded node pointers and the parent word.

A :class:`MapleNode` is the 256-byte ``struct maple_node``.  Its words are
kept in named arrays so that model code reads like the kernel's
(``pivots[offset]``, ``slots[offset]``):

=========  =======================================  ===========================
word       range64 / leaf64 (16 slots, 15 pivots)   arange64 (10 slots, 9 piv.)
=========  =======================================  ===========================
parent     ``parent``                               ``parent``
pivots     ``pivot[0..14]``                         ``pivot[0..8]``
slots      ``slot[0..15]``                          ``slot[0..9]``
gaps       --                                       ``gap[0..9]``
metadata   ``slot[15]`` (shares the last slot)      ``meta``
=========  =======================================  ===========================

As in the kernel, range64 metadata lives in the word of the last slot and is
read only when the node is not full; an arange64 node has a separate word.
The dead-node bookkeeping that the kernel overlays on a node (``rcu_head`` on
pivots 0-1, the topiary ``next`` on pivot 0, ``piv_parent``, ``parent_slot``,
``type`` and ``slot_len`` on pivots 2-4) is written to those same pivot words,
so a reader that races with it sees what a kernel reader would.

Not modelled: the byte-level overlap of the arange64 arrays with the range64
ones (the model gives every node both sets of arrays; only a type confusion
bug could tell them apart), and the ``maple_alloc`` view of a node.

Pointers are modelled with fake kernel addresses: every node and tree has a
256-byte aligned ``addr``, and words that hold a pointer with tag bits (the
parent word, the topiary ``next``) hold an ``int``.  ``heap`` maps addresses
back to objects.  A node pointer stored in a slot is a :class:`MapleEnode`,
the pair (node, type) that ``mt_mk_node()`` encodes in the pointer's bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maple.defs import (
    MAPLE_ARANGE64_SLOTS,
    MAPLE_NODE_MASK,
    MAPLE_PARENT_16B_SLOT_MASK,
    MAPLE_PARENT_16B_SLOT_SHIFT,
    MAPLE_PARENT_NOT_RANGE16,
    MAPLE_PARENT_RANGE64,
    MAPLE_PARENT_ROOT,
    MAPLE_PARENT_SLOT_MASK,
    MAPLE_PARENT_SLOT_SHIFT,
    MAPLE_RANGE64_SLOTS,
    maple_arange_64,
    maple_dense,
    maple_leaf_64,
    maple_range_64,
)

if TYPE_CHECKING:
    from collections.abc import Callable, MutableSequence

NODE_SIZE = 256
NODE_WORDS = NODE_SIZE // 8
_ADDR_MASK = ~MAPLE_NODE_MASK


class _Sequential:
    """The barriers of a node no port instruments: under sequential
    consistency there is nothing to order."""

    __slots__ = ()

    def smp_wmb(self) -> None:
        """smp_wmb(): nothing to do."""

    def smp_rmb(self) -> None:
        """smp_rmb(): nothing to do."""

    def smp_mb(self) -> None:
        """smp_mb(): nothing to do."""


SEQUENTIAL = _Sequential()


class MapleCorruption(Exception):
    """A word was read as something it does not hold (a torn or stale read)."""


class MapleBug(Exception):
    """A BUG_ON() of lib/maple_tree.c fired (``MAS_BUG_ON()``, ``MT_BUG_ON()``
    and ``MAS_WR_BUG_ON()`` are BUG_ON() without CONFIG_DEBUG_MAPLE_TREE): the
    kernel oopses there, and the model stops there.

    @function is the kernel function, @condition the C condition as written
    there, @macro the macro that tests it and @detail what the model saw.
    """

    def __init__(self, function: str, condition: str, detail: str = "", *,
                 macro: str = "BUG_ON") -> None:
        super().__init__(f"{macro}({condition}) in {function}"
                         + (f": {detail}" if detail else ""))
        self.function = function
        self.condition = condition
        self.detail = detail
        self.macro = macro


class MapleWarning(Exception):
    """A WARN_ON() of lib/maple_tree.c fired (``MAS_WARN_ON()`` and
    ``MT_WARN_ON()`` are WARN_ON() without CONFIG_DEBUG_MAPLE_TREE): the
    kernel prints its ``WARNING:`` splat there, a bug report, and the model
    stops there, as the kernel does with ``panic_on_warn``.

    @function is the kernel function, @condition the C condition as written
    there, @macro the macro that tests it, @summary a few words for the
    finding's message and @detail what the model saw and what the kernel
    does next.  @node, with @word, is the node whose parent word the
    warning is about (the report lists the task's loads of that word).
    """

    def __init__(self, function: str, condition: str, summary: str, detail: str,
                 *, macro: str = "WARN_ON", node: MapleNode | None = None,
                 word: int | None = None) -> None:
        super().__init__(f"{macro}({condition}) in {function}: {detail}")
        self.function = function
        self.condition = condition
        self.summary = summary
        self.detail = detail
        self.macro = macro
        self.node = node
        self.word = word


class MetadataMisread(MapleCorruption):
    """ma_meta() of a node whose metadata word holds something else: the last
    slot of a full range64 node, read as metadata because the reader saw the
    node as not full (a stale last pivot of 0, under weak memory).

    The kernel reads the word's low bytes as the data end and the gap offset
    and goes on with them; the model, whose node words are separate arrays,
    cannot follow offsets that run past them, so it stops here.
    """

    def __init__(self, node: MapleNode, word: Any) -> None:
        super().__init__(f"{node!r}: metadata word holds {word!r} (read as "
                         "metadata of a full node)")
        self.node = node
        self.word = word


@dataclass(frozen=True, slots=True)
class MapleMetadata:
    """struct maple_metadata: the data end and the offset of the largest gap."""

    end: int
    gap: int


def meta_bits(meta: MapleMetadata) -> int:
    """The word a struct maple_metadata is in C, on a little-endian machine
    (end in the low byte, gap above it; a popped node is zeroed)."""
    return meta.end | meta.gap << 8


_META = [[MapleMetadata(e, g) for g in range(16)] for e in range(16)]


def mk_meta(end: int, gap: int) -> MapleMetadata | None:
    """The metadata word for (end, gap); the all-zero word is NULL."""
    if not end and not gap:
        return None
    if end < 16 and gap < 16:
        return _META[end][gap]
    return MapleMetadata(end & 0xFF, gap & 0xFF)


class MapleNode:
    """struct maple_node: one 256-byte tree node.

    ``type`` is bookkeeping for reports and the dead-node walk, not a memory
    word: the kernel keeps a live node's type in the pointers to it.
    ``port`` is the port that allocated the node, where the barriers of the
    node-level functions go (``mte_set_node_dead()``'s ``smp_wmb()``,
    ``ma_dead_node()``'s ``smp_rmb()``); a plain node has the sequential
    one, whose barriers do nothing.
    """

    port: Any = SEQUENTIAL

    __slots__ = ("addr", "gap", "heap", "meta", "parent", "pivot", "slot",
                 "type")

    parent: int
    pivot: MutableSequence[int]
    slot: MutableSequence[Any]
    gap: MutableSequence[int]
    meta: MapleMetadata | None

    def __init__(self, addr: int, heap: dict[int, Any]) -> None:
        self.addr = addr
        self.heap = heap
        self.type = maple_dense
        self.parent = 0
        self.pivot = [0] * (MAPLE_RANGE64_SLOTS - 1)
        self.slot = [None] * MAPLE_RANGE64_SLOTS
        self.gap = [0] * MAPLE_ARANGE64_SLOTS
        self.meta = None
        heap[addr] = self

    def __repr__(self) -> str:
        return f"<maple_node {self.addr:#x}>"


class MapleEnode(tuple[MapleNode, int]):
    """struct maple_enode: a node pointer with the node type in its low bits."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<enode {self[0].addr:#x} type {self[1]}>"


_tuple_new = tuple.__new__


def mt_mk_node(node: MapleNode, type: int) -> MapleEnode:
    """Model of lib/maple_tree.c:mt_mk_node(): encode @type into the pointer.

    The first encoding of a fresh node also records its type as bookkeeping.
    """
    if not node.type:
        node.type = type
    return _tuple_new(MapleEnode, (node, type))


def mte_to_node(enode: MapleEnode) -> MapleNode:
    """Model of mte_to_node(): strip the type bits."""
    return enode[0]


def mte_node_type(enode: MapleEnode) -> int:
    """Model of mte_node_type(): the type bits of an encoded node."""
    return enode[1]


def decode_slot(word: Any) -> tuple[MapleNode | None, int]:
    """(mte_to_node(word), mte_node_type(word)) for any slot value.

    A reader may load a slot of a node that is being killed, before it checks
    that node: the value may be an enode, a bare node (``mte_dead_leaves``
    strips the type bits), NULL or metadata.  Decoding it must not fail, as
    it does not in C; the dead check that follows discards the result.
    """
    if isinstance(word, MapleEnode):
        return word[0], word[1]
    if isinstance(word, MapleNode):
        return word, maple_dense
    return None, maple_dense


def xa_is_node(entry: object) -> bool:
    """Model of xa_is_node(): is this root word a node (not an entry)?"""
    return isinstance(entry, MapleEnode)


def mte_mk_root(enode: MapleEnode) -> MapleEnode:
    """Model of mte_mk_root(); the root bit is implied by the MapleEnode type."""
    return enode


def mte_safe_root(enode: MapleEnode) -> MapleEnode:
    """Model of mte_safe_root()."""
    return enode


def ma_is_dense(type: int) -> bool:
    """Model of ma_is_dense()."""
    return type < maple_leaf_64


def ma_is_leaf(type: int) -> bool:
    """Model of ma_is_leaf()."""
    return type < maple_range_64


def mte_is_leaf(enode: MapleEnode) -> bool:
    """Model of mte_is_leaf()."""
    return enode[1] < maple_range_64


# -- the parent word --------------------------------------------------------


def ma_is_root(node: MapleNode) -> bool:
    """Model of ma_is_root(): bit 0 of the parent word marks the root."""
    return bool(node.parent & MAPLE_PARENT_ROOT)


def mte_is_root(enode: MapleEnode) -> bool:
    """Model of mte_is_root()."""
    return bool(enode[0].parent & MAPLE_PARENT_ROOT)


def mte_parent(enode: MapleEnode) -> MapleNode:
    """Model of mte_parent(): the parent node.

    For a root that is the tree, as a node pointer
    (:class:`maple.nullptr.TreeAsNode`, whose loads fault); a parent word
    of 0 (a node whose initialisation a reader does not see yet, under
    weak memory) is the NULL node pointer, whose loads fault
    (:mod:`maple.nullptr`).
    """
    node = enode[0]
    word = node.parent
    if word & MAPLE_PARENT_ROOT:
        return NOT_NODES.tree_as_node(node.heap, word & _ADDR_MASK | MAPLE_PARENT_ROOT)
    if not word & _ADDR_MASK:
        return NOT_NODES.null
    parent: MapleNode = node.heap[word & _ADDR_MASK]
    return parent


class _NotNodes:
    """The node pointers :func:`mte_parent` gives for a parent word that
    holds no node: :mod:`maple.nullptr` builds them on :class:`MapleNode`
    and sets them here when it is imported (``import maple`` does), since
    this module cannot import it."""

    null: MapleNode
    """The NULL node (a parent word of 0)."""
    tree_as_node: Callable[[dict[int, Any], int], MapleNode]
    """The tree as a node, by the heap and a root's parent word."""


NOT_NODES = _NotNodes()


def ma_dead_node(node: MapleNode) -> bool:
    """Model of ma_dead_node(): smp_rmb() ("do not reorder reads from the
    node prior to the parent check"), then a dead node's parent word points
    at itself."""
    node.port.smp_rmb()
    return (node.parent & _ADDR_MASK) == node.addr


def mte_dead_node(enode: MapleEnode) -> bool:
    """Model of mte_dead_node(): smp_rmb(), then the parent check."""
    node = enode[0]
    node.port.smp_rmb()
    return (node.parent & _ADDR_MASK) == node.addr


def mte_set_node_dead(enode: MapleEnode) -> None:
    """Model of mte_set_node_dead(): parent := itself, then smp_wmb()
    ("needed for RCU")."""
    node = enode[0]
    node.parent = node.addr
    node.port.smp_wmb()


def mte_parent_shift(parent: int) -> int:
    """Model of mte_parent_shift()."""
    if parent & MAPLE_PARENT_NOT_RANGE16:
        return MAPLE_PARENT_SLOT_SHIFT
    return MAPLE_PARENT_16B_SLOT_SHIFT


def mte_parent_slot_mask(parent: int) -> int:
    """Model of mte_parent_slot_mask()."""
    if parent & MAPLE_PARENT_NOT_RANGE16:
        return MAPLE_PARENT_SLOT_MASK
    return MAPLE_PARENT_16B_SLOT_MASK


def mte_parent_slot(enode: MapleEnode) -> int:
    """Model of mte_parent_slot(): the slot of @enode in its parent."""
    val = enode[0].parent
    if val & MAPLE_PARENT_ROOT:
        return 0
    return (val & MAPLE_PARENT_16B_SLOT_MASK) >> mte_parent_shift(val)


def parent_word(parent: MapleEnode, slot: int) -> int:
    """The parent word that mas_set_parent() builds for @parent and @slot."""
    p_type = parent[1]
    if p_type in (maple_range_64, maple_arange_64):
        return parent[0].addr | (slot << MAPLE_PARENT_SLOT_SHIFT) | MAPLE_PARENT_RANGE64
    return parent[0].addr


def parent_type_bits(parent: int) -> int:
    """The type bits of a parent word, as mas_parent_type() extracts them."""
    p_type = parent & MAPLE_NODE_MASK
    return p_type & ~mte_parent_slot_mask(p_type)


# -- per-type views of the node words ----------------------------------------


def ma_pivots(node: MapleNode, type: int) -> MutableSequence[int]:
    """Model of ma_pivots()."""
    return node.pivot


def ma_slots(node: MapleNode, type: int) -> MutableSequence[Any]:
    """Model of ma_slots()."""
    return node.slot


def ma_gaps(node: MapleNode, type: int) -> MutableSequence[int] | None:
    """Model of ma_gaps(): only arange64 nodes have gaps."""
    if type == maple_arange_64:
        return node.gap
    return None


# -- metadata -----------------------------------------------------------------


def _meta_word(mn: MapleNode, mt: int) -> MapleMetadata | None:
    """The word holding the metadata of @mn as type @mt (ma_meta())."""
    word = mn.meta if mt == maple_arange_64 else mn.slot[MAPLE_RANGE64_SLOTS - 1]
    if word is None or type(word) is MapleMetadata:
        return word
    raise MetadataMisread(mn, word)


def ma_meta_end(mn: MapleNode, mt: int) -> int:
    """Model of ma_meta_end(): the data end recorded in the metadata."""
    meta = _meta_word(mn, mt)
    return meta.end if meta is not None else 0


def ma_meta_gap(mn: MapleNode) -> int:
    """Model of ma_meta_gap(): the offset of the largest gap (arange64)."""
    meta = _meta_word(mn, maple_arange_64)
    return meta.gap if meta is not None else 0


def ma_set_meta(mn: MapleNode, mt: int, offset: int, end: int) -> None:
    """Model of ma_set_meta(): record the gap offset and the data end."""
    if mt == maple_arange_64:
        mn.meta = mk_meta(end, offset)
    else:
        mn.slot[MAPLE_RANGE64_SLOTS - 1] = mk_meta(end, offset)


def ma_set_meta_gap(mn: MapleNode, mt: int, offset: int) -> None:
    """Model of ma_set_meta_gap(): store the gap byte, keep the end byte."""
    meta = _meta_word(mn, mt)
    end = meta.end if meta is not None else 0
    if mt == maple_arange_64:
        mn.meta = mk_meta(end, offset)
    else:
        mn.slot[MAPLE_RANGE64_SLOTS - 1] = mk_meta(end, offset)


def mt_clear_meta(mn: MapleNode, type: int) -> None:
    """Model of mt_clear_meta(): zero the metadata if the node has any."""
    if type == maple_range_64:
        if mn.pivot[MAPLE_RANGE64_SLOTS - 2]:
            nxt = mn.slot[MAPLE_RANGE64_SLOTS - 1]
            if isinstance(nxt, MapleEnode) and nxt[1]:
                return  # no metadata, could be node
        mn.slot[MAPLE_RANGE64_SLOTS - 1] = None
    elif type == maple_arange_64:
        mn.meta = None


def enode_word(enode: MapleEnode) -> int:
    """An encoded node as the integer word the kernel would store."""
    return enode[0].addr | (enode[1] << 3) | 0x04


def enode_from_word(heap: dict[int, Any], word: int) -> MapleEnode:
    """Decode a word written by enode_word() (used by the dead-node walk)."""
    node = heap[word & _ADDR_MASK]
    return _tuple_new(MapleEnode, (node, (word >> 3) & 0x0F))


def node_zero(node: MapleNode) -> None:
    """memset(node, 0, sizeof(struct maple_node))."""
    node.parent = 0
    node.pivot[:] = [0] * (MAPLE_RANGE64_SLOTS - 1)
    node.slot[:] = [None] * MAPLE_RANGE64_SLOTS
    node.gap[:] = [0] * MAPLE_ARANGE64_SLOTS
    node.meta = None


def node_copy(dst: MapleNode, src: MapleNode) -> None:
    """memcpy(dst, src, sizeof(struct maple_node)): every word, parent included."""
    dst.parent = src.parent
    dst.pivot[:] = src.pivot[:]
    dst.slot[:] = src.slot[:]
    dst.gap[:] = src.gap[:]
    dst.meta = src.meta


# -- dead-node overlays (struct maple_node's second union member) -----------
# pad(word 0) | rcu_head (words 1-2) | piv_parent (word 3) |
# parent_slot, type (word 4) | slot_len, ma_flags (word 5).
# Word k >= 1 is pivot[k - 1] in both range64 and arange64 layouts.

RCU_HEAD_NEXT = 0
RCU_HEAD_FUNC = 1
PIV_PARENT = 2
PARENT_SLOT_TYPE = 3
SLOT_LEN = 4


def dead_set_info(node: MapleNode, piv_parent: int, parent_slot: int,
                     type: int) -> None:
    """node->piv_parent, node->parent_slot and node->type of a dead node."""
    node.pivot[PIV_PARENT] = piv_parent
    node.pivot[PARENT_SLOT_TYPE] = (parent_slot & 0xFF) | (type << 32)


def dead_set_type(node: MapleNode, type: int) -> None:
    """node->type = type, keeping node->parent_slot."""
    word = node.pivot[PARENT_SLOT_TYPE]
    node.pivot[PARENT_SLOT_TYPE] = (word & 0xFF) | (type << 32)


def dead_type(node: MapleNode) -> int:
    """node->type of a dead node."""
    return (node.pivot[PARENT_SLOT_TYPE] >> 32) & 0x0F


def dead_parent_slot(node: MapleNode) -> int:
    """node->parent_slot of a dead node."""
    return node.pivot[PARENT_SLOT_TYPE] & 0xFF


def dead_set_slot_len(node: MapleNode, slot_len: int) -> None:
    """node->slot_len of a dead node."""
    node.pivot[SLOT_LEN] = slot_len & 0xFF


def dead_slot_len(node: MapleNode) -> int:
    """node->slot_len of a dead node."""
    return node.pivot[SLOT_LEN] & 0xFF


__all__ = [
    "NODE_SIZE",
    "NODE_WORDS",
    "MapleCorruption",
    "MapleEnode",
    "MapleMetadata",
    "MapleNode",
    "maple_dense",
]
