"""The NULL node: what ``mte_to_node(NULL)`` gives, and its faulting loads.

In C, ``mas_mn(mas)`` on a state whose ``node`` is NULL (the state of an
empty tree, or of a tree whose only entry sits in ``ma_root``) is a NULL
``struct maple_node *``.  Computing the address of one of its arrays
(``ma_pivots()``, ``ma_slots()``) is harmless; loading a word through it
faults at ``offsetof(struct maple_node, word)``, which the kernel reports as
``BUG: kernel NULL pointer dereference, address: <offset>``.

:data:`NULL_NODE` models that pointer: it is a :class:`MapleNode` whose words
were never set, so every word load ends in ``__getattr__`` and raises
:class:`NullPointerDereference` with the word's offset, while the arrays
(``pivot``, ``slot``, ``gap``) come back as :class:`FaultingWords`, which
fault on the element load.  Nothing of the tree is special-cased: model code
that would dereference NULL in C raises here, at the same access.
"""

from __future__ import annotations

from typing import Any

from maple.node import MapleNode

NODE_WORD_OFFSETS = {"parent": 0, "pivot": 8, "slot": 128, "gap": 160,
                     "meta": 248}
"""offsetof(struct maple_node, ...) of the words the model names (range64
layout for pivots, slots and metadata; the arange64 gaps)."""
_ARRAYS = frozenset({"pivot", "slot", "gap"})
_WORD = 8


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
    """A word array of the NULL node: its address is fine, its elements fault."""

    __slots__ = ("_base", "_word")

    def __init__(self, word: str) -> None:
        self._word = word
        self._base = NODE_WORD_OFFSETS[word]

    def _address(self, i: Any) -> int:
        index = i.start or 0 if isinstance(i, slice) else int(i)
        return self._base + _WORD * index

    def __getitem__(self, i: Any) -> Any:
        raise NullPointerDereference(self._address(i), f"{self._word}[{i}]")

    def __setitem__(self, i: Any, value: Any) -> None:
        raise NullPointerDereference(self._address(i), f"{self._word}[{i}]",
                                     write=True)

    def __len__(self) -> int:
        raise NullPointerDereference(self._base, self._word)


class NullNode(MapleNode):
    """``(struct maple_node *)NULL``: its address is 0 and every load faults."""

    __slots__ = ()

    def __init__(self) -> None:
        object.__setattr__(self, "addr", 0)
        object.__setattr__(self, "type", 0)

    def __getattr__(self, name: str) -> Any:
        if name in _ARRAYS:
            return FaultingWords(name)
        raise NullPointerDereference(NODE_WORD_OFFSETS.get(name, 0), name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise NullPointerDereference(NODE_WORD_OFFSETS.get(name, 0), name,
                                     write=True)

    def __repr__(self) -> str:
        return "<maple_node NULL>"


NULL_NODE = NullNode()
"""mte_to_node(NULL)."""
