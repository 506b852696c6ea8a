"""The NULL node: what ``mte_to_node(NULL)`` gives, and its faulting loads.

In C, ``mas_mn(mas)`` on a state whose ``node`` is NULL (the state of an
empty tree, or of a tree whose only entry sits in ``ma_root``) is a NULL
``struct maple_node *``.  Computing the address of one of its arrays
(``ma_pivots()``, ``ma_slots()``) is harmless; loading a word through it
faults at that word's address, which the kernel reports as
``BUG: kernel NULL pointer dereference, address: <address>``.  The type of a
NULL node pointer is ``maple_dense`` (its type bits are 0), so the arrays
are a dense node's: ``ma_pivots()`` and ``ma_gaps()`` return NULL (pivot or
gap *i* at ``8 * i``), ``ma_slots()`` the dense node's slots right after
the parent word (slot *i* at ``8 + 8 * i``); ``node->parent`` is at 0.

:data:`NULL_NODE` models that pointer: it is a :class:`MapleNode` whose words
were never set, so every word load ends in ``__getattr__`` and raises
:class:`NullPointerDereference` with the word's offset, while the arrays
(``pivot``, ``slot``, ``gap``) come back as :class:`FaultingWords`, which
fault on the element load.  Nothing of the tree is special-cased: model code
that would dereference NULL in C raises here, at the same access.

A lockless reader under weak memory can also *load* a NULL node pointer
where it expects a node: a slot of a node published before its contents
(``rcu_assign_pointer()`` weakened to a plain store), or a parent word of
0 (a node whose initialisation it does not see yet).  ``mte_to_node()`` of
such a word is NULL in C, and so it is in the model: ``mas_mn()`` and
:func:`walked_type` decode a slot value the reader walks into (the walks
of ``maple.walk`` do it inline), ``mte_parent()`` a parent word of 0, so
the access that follows faults as the kernel's would (``null-ptr-deref``),
not as a Python error of the model.  A root's parent word, read by such a
reader as its parent's, is the tree taken for a node: :class:`TreeAsNode`
(``not-a-node``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maple.defs import maple_dense
from maple.node import NOT_NODES, MapleNode

if TYPE_CHECKING:
    from collections.abc import Callable

NODE_WORD_OFFSETS = {"parent": 0, "pivot": 8, "slot": 128, "gap": 160,
                     "meta": 248}
"""offsetof(struct maple_node, ...) of the words the model names (range64
layout for pivots, slots and metadata; the arange64 gaps)."""
DENSE_ARRAY_OFFSETS = {"pivot": 0, "slot": 8, "gap": 0}
"""Where the arrays of a maple_dense node pointer start: ma_pivots() and
ma_gaps() return NULL for it, ma_slots() ``mn->slot`` (after the parent)."""
_ARRAYS = frozenset({"pivot", "slot", "gap"})
_WORD = 8
_ADDR_MASK = ~0xFF


class NullPointerDereference(Exception):
    """A load or store through a NULL node pointer (an oops in the kernel)."""

    def __init__(self, address: int, word: str, *, write: bool = False) -> None:
        access = "write" if write else "read"
        super().__init__(f"kernel NULL pointer dereference, address: {address:016x}"
                         f" ({access} of struct maple_node.{word})")
        self.address = address
        self.word = word
        self.write = write


class FaultingWords:
    """A word array of the NULL node (or of another pointer that is not a
    node): its address is fine, its elements fault."""

    __slots__ = ("_base", "_fault", "_word")

    def __init__(self, word: str,
                 fault: Callable[[int, str, bool], Exception] | None = None,
                 base: int | None = None) -> None:
        self._word = word
        self._base = NODE_WORD_OFFSETS[word] if base is None else base
        self._fault = fault or _null_fault

    def _address(self, i: Any) -> int:
        index = i.start or 0 if isinstance(i, slice) else int(i)
        return self._base + _WORD * index

    def __getitem__(self, i: Any) -> Any:
        raise self._fault(self._address(i), f"{self._word}[{i}]", False)

    def __setitem__(self, i: Any, value: Any) -> None:
        raise self._fault(self._address(i), f"{self._word}[{i}]", True)

    def __len__(self) -> int:
        raise self._fault(self._base, self._word, False)


def _null_fault(offset: int, word: str, write: bool) -> Exception:
    return NullPointerDereference(offset, word, write=write)


class NullNode(MapleNode):
    """``(struct maple_node *)NULL``: its address is 0 and every load faults;
    its arrays are those of the maple_dense type its pointer has."""

    __slots__ = ()

    def __init__(self) -> None:
        object.__setattr__(self, "addr", 0)
        object.__setattr__(self, "type", 0)

    def __getattr__(self, name: str) -> Any:
        if name in _ARRAYS:
            return FaultingWords(name, base=DENSE_ARRAY_OFFSETS[name])
        raise NullPointerDereference(NODE_WORD_OFFSETS.get(name, 0), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "type":
            return  # mt_mk_node()'s bookkeeping, not a word of the node
        raise NullPointerDereference(NODE_WORD_OFFSETS.get(name, 0), name,
                                     write=True)

    def __repr__(self) -> str:
        return "<maple_node NULL>"


NULL_NODE = NullNode()
"""mte_to_node(NULL)."""


def walked_type(enode: Any) -> int:
    """mte_node_type() of a slot value a reader walks into (``mas->node``):
    that of NULL is maple_dense (0); ``mas_mn()`` gives its node."""
    return maple_dense if enode is None else int(enode[1])


# -- the tree taken for a node ------------------------------------------------

MAPLE_TREE_SIZE = 16
"""sizeof(struct maple_tree): ma_lock (4 bytes), ma_flags (4), ma_root (8)."""


def _tree_bytes(offset: int) -> str:
    if offset == 0:
        return "ma_lock and ma_flags"
    if offset == 8:
        return "ma_root"
    return f"beyond the {MAPLE_TREE_SIZE}-byte struct maple_tree"


class NotANode(Exception):
    """A load or store of a node word through ``(struct maple_node *)mt``:
    the tree a root's parent word points at, taken for a node."""

    def __init__(self, tree: Any, offset: int, word: str, *,
                 write: bool = False) -> None:
        access = "write" if write else "read"
        super().__init__(f"{access} of struct maple_node.{word} at offset {offset} "
                         f"of {tree!r} ({_tree_bytes(offset)}): the tree taken for "
                         "a node")
        self.tree = tree
        self.offset = offset
        self.word = word
        self.write = write
        self.overlays = _tree_bytes(offset)


class TreeAsNode(MapleNode):
    """``mte_parent()`` of a root: ``(struct maple_node *)mt``.

    A root's parent word holds the tree with ``MAPLE_PARENT_ROOT``; code that
    takes it for a node (a lockless reader that saw the node as not a root
    through a stale parent word, then its root word) reads the tree's
    ``ma_lock``/``ma_flags`` as a parent word, ``ma_root`` as a pivot, and
    beyond.  The model stops at the first such load or store
    (:class:`NotANode`); computing its address, encoding it, comparing it
    and taking its arrays' addresses are harmless, as in C.
    """

    __slots__ = ("tree",)

    def __init__(self, tree: Any) -> None:
        object.__setattr__(self, "addr", tree.addr)
        object.__setattr__(self, "type", 0)
        object.__setattr__(self, "tree", tree)

    def _fault(self, offset: int, word: str, write: bool) -> Exception:
        return NotANode(self.tree, offset, word, write=write)

    def __getattr__(self, name: str) -> Any:
        if name in _ARRAYS:
            return FaultingWords(name, self._fault)
        raise self._fault(NODE_WORD_OFFSETS.get(name, 0), name, False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "type":
            return  # mt_mk_node()'s bookkeeping, not a word of the node
        raise self._fault(NODE_WORD_OFFSETS.get(name, 0), name, True)

    def __repr__(self) -> str:
        return f"<maple_node {self.addr:#x}: {self.tree!r}>"


def tree_as_node(heap: dict[int, Any], word: int) -> TreeAsNode:
    """The :class:`TreeAsNode` of the tree whose root parent word is @word,
    one per tree (kept in the heap under the tagged word: the same pointer
    compares equal)."""
    node = heap.get(word)
    if node is None:
        node = heap[word] = TreeAsNode(heap[word & _ADDR_MASK])
    return node


NOT_NODES.null = NULL_NODE
NOT_NODES.tree_as_node = tree_as_node
