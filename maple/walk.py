"""Walking the tree: lib/maple_tree.c's read-side descent and ascent.

Readers follow the kernel's RCU protocol exactly: load the slot, read the
pivots and the data end, and only then check ``ma_dead_node()``; on a dead
node they reset (``mas_reset``) and retry from the root.  Write-side walks
(``mas_descend``) do not check, as in the kernel, since they hold the lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maple.defs import (
    MAPLE_HEIGHT_MAX,
    MAPLE_NODE_SLOTS,
    MAPLE_PARENT_RANGE64,
    MAPLE_PARENT_ROOT,
    MT_FLAGS_HEIGHT_MASK,
    MT_FLAGS_HEIGHT_OFFSET,
    ULONG_MAX,
    ma_active,
    ma_none,
    ma_root,
    ma_start,
    maple_arange_64,
    maple_dense,
    maple_range_64,
    mt_pivots,
)
from maple.node import MapleBug as MapleBug
from maple.node import (
    MapleEnode,
    ma_dead_node,
    ma_is_leaf,
    ma_is_root,
    ma_meta_end,
    mt_mk_node,
    mte_dead_node,
    mte_parent,
    mte_parent_slot,
    parent_type_bits,
    parent_word,
)
from maple.node import MapleWarning as MapleWarning
from maple.nullptr import NULL_NODE
from maple.state import (
    MaState,
    mas_is_none,
    mas_is_ptr,
    mas_is_start,
    mas_reset,
    mas_set,
)
from maple.tree import mt_height, mt_is_alloc

if TYPE_CHECKING:
    from collections.abc import MutableSequence

    from maple.node import MapleNode


def mas_root(mas: MaState) -> Any:
    """Model of mas_root(): rcu_dereference_check(mas->tree->ma_root)."""
    mt = mas.tree
    return mt.port.root_load(mt)


def mas_root_locked(mas: MaState) -> Any:
    """Model of mas_root_locked()."""
    mt = mas.tree
    return mt.port.root_load(mt)


def mas_tree_parent(mas: MaState) -> int:
    """Model of mas_tree_parent(): the parent word of the root node."""
    return mas.tree.addr | MAPLE_PARENT_ROOT


def mas_mt_height(mas: MaState) -> int:
    """Model of mas_mt_height()."""
    return mt_height(mas.tree)


def mas_set_height(mas: MaState) -> None:
    """Model of mas_set_height(): read-modify-write of ma_flags."""
    mt = mas.tree
    new_flags = mt.port.flags_load(mt)
    new_flags &= ~MT_FLAGS_HEIGHT_MASK
    if mas.depth > MAPLE_HEIGHT_MAX:
        raise MapleBug("mas_set_height", "mas->depth > MAPLE_HEIGHT_MAX",
                       f"depth {mas.depth}", macro="MAS_BUG_ON")
    new_flags |= mas.depth << MT_FLAGS_HEIGHT_OFFSET
    mt.port.flags_store(mt, new_flags)


def mas_safe_pivot(mas: MaState, pivots: MutableSequence[int], piv: int,
                   type: int) -> int:
    """Model of mas_safe_pivot(): pivot @piv, or mas->max past the last one."""
    if piv >= mt_pivots[type]:
        return mas.max
    return pivots[piv]


def mas_safe_min(mas: MaState, pivots: MutableSequence[int], offset: int) -> int:
    """Model of mas_safe_min(): the first index of slot @offset."""
    if offset:
        return (pivots[offset - 1] + 1) & ULONG_MAX
    return mas.min


def ma_data_end(node: MapleNode, type: int, pivots: MutableSequence[int],
                max: int) -> int:
    """Model of ma_data_end(): the last used offset, from metadata if possible."""
    if type == maple_dense:
        return 0  # a dense node has no pivots
    if type == maple_arange_64:
        return ma_meta_end(node, type)
    offset = mt_pivots[type] - 1
    piv = pivots[offset]
    if not piv:
        return ma_meta_end(node, type)
    if piv == max:
        return offset
    return mt_pivots[type]


def mas_data_end(mas: MaState) -> int:
    """Model of mas_data_end(): ma_data_end() for mas->node, dead-safe."""
    enode = mas.node
    node = enode[0] if enode is not None else NULL_NODE
    type = enode[1] if enode is not None else maple_dense
    if type == maple_arange_64:
        return ma_meta_end(node, type)
    pivots = node.pivot
    if ma_dead_node(node):
        return 0
    offset = mt_pivots[type] - 1
    piv = pivots[offset]
    if not piv:
        return ma_meta_end(node, type)
    if piv == mas.max:
        return offset
    return mt_pivots[type]


def mas_parent_type(mas: MaState, enode: MapleEnode) -> int:
    """Model of mas_parent_type(): the parent's type from the parent word."""
    node = enode[0]
    p_type = node.parent
    if p_type & MAPLE_PARENT_ROOT:
        raise MapleWarning(
            "mas_parent_type", "p_type & MAPLE_PARENT_ROOT",
            "the parent type of a root node",
            f"The parent word of {node!r} is {p_type:#x}: the tree with "
            "MAPLE_PARENT_ROOT, so the node is a root.  The kernel returns type 0 "
            "and mas_ascend() goes on with the struct maple_tree as the ancestor "
            "node (its lock and flags read as a parent word, its ma_root as a "
            "pivot).", node=node, word=p_type)
    if parent_type_bits(p_type) == MAPLE_PARENT_RANGE64:
        return maple_arange_64 if mt_is_alloc(mas.tree) else maple_range_64
    return 0


def mas_set_parent(mas: MaState, enode: MapleEnode, parent: MapleEnode,
                   slot: int) -> None:
    """Model of mas_set_parent(): encode @parent and @slot in the parent word."""
    if parent[1] not in (maple_range_64, maple_arange_64):
        raise MapleBug("mas_set_parent", "p_type == maple_dense"
                       if parent[1] == maple_dense else "p_type == maple_leaf_64",
                       f"parent type {parent[1]} cannot have children",
                       macro="MAS_BUG_ON")
    enode[0].parent = parent_word(parent, slot)


def mas_start(mas: MaState) -> Any:
    """Model of mas_start(): set up the state for a walk from the root.

    Returns the root entry for a single-entry tree at index 0, else None.
    """
    if mas.status != ma_start:
        return None
    mas.min = 0
    mas.max = ULONG_MAX
    while True:
        mas.depth = 0
        root = mas_root(mas)
        if isinstance(root, MapleEnode):
            mas.depth = 1
            mas.status = ma_active
            mas.node = root
            mas.offset = 0
            if mte_dead_node(root):
                continue
            return None
        mas.node = None
        if root is None:
            mas.status = ma_none
            mas.offset = MAPLE_NODE_SLOTS
            return None
        mas.status = ma_root
        mas.offset = MAPLE_NODE_SLOTS
        if mas.index > 0:
            return None
        return root


def mas_descend(mas: MaState) -> None:
    """Model of mas_descend(): step into slot mas->offset (write side only)."""
    enode = mas.node
    node = enode[0]
    type = enode[1]
    pivots = node.pivot
    offset = mas.offset
    if offset:
        mas.min = (pivots[offset - 1] + 1) & ULONG_MAX
    mas.max = mas_safe_pivot(mas, pivots, offset, type)
    mas.node = node.slot[offset]


def mas_ascend(mas: MaState) -> int:
    """Model of mas_ascend(): walk up one level, fixing min and max.

    Returns 1 if a dead node was found (the caller must rewalk), else 0.
    """
    a_node = mas.node[0]
    if ma_is_root(a_node):
        mas.offset = 0
        return 0
    p_node = mte_parent(mas.node)
    if a_node is p_node:
        return 1
    a_type = mas_parent_type(mas, mas.node)
    mas.offset = mte_parent_slot(mas.node)
    a_enode = mt_mk_node(p_node, a_type)
    # Check to make sure all parent information is still accurate.
    if p_node is not mte_parent(mas.node):
        return 1
    mas.node = a_enode
    if ma_is_root(p_node):
        mas.max = ULONG_MAX
        mas.min = 0
        return 0

    min = 0
    max = ULONG_MAX
    set_min = set_max = False
    if not mas.offset:
        min = mas.min
        set_min = True
    if mas.max == ULONG_MAX:
        set_max = True
    while True:
        p_enode = a_enode
        a_type = mas_parent_type(mas, p_enode)
        a_node = mte_parent(p_enode)
        a_slot = mte_parent_slot(p_enode)
        a_enode = mt_mk_node(a_node, a_type)
        pivots = a_node.pivot
        if ma_dead_node(a_node):
            return 1
        if not set_min and a_slot:
            set_min = True
            min = (pivots[a_slot - 1] + 1) & ULONG_MAX
        if not set_max and a_slot < mt_pivots[a_type]:
            set_max = True
            max = pivots[a_slot]
        if ma_dead_node(a_node):
            return 1
        if ma_is_root(a_node):
            break
        if set_min and set_max:
            break
    mas.max = max
    mas.min = min
    return 0


def mtree_range_walk(mas: MaState) -> Any:
    """Model of mtree_range_walk(): walk to mas->index, keeping the state.

    Sets index/last to the range found and node/min/max/offset/end to the
    leaf; on a dead node resets the state and returns None.
    """
    nxt = mas.node
    min = mas.min
    max = mas.max
    index = mas.index
    while True:
        last = nxt
        node = nxt[0] if nxt is not None else NULL_NODE
        type = nxt[1] if nxt is not None else maple_dense
        pivots = node.pivot
        end = ma_data_end(node, type, pivots, max)
        prev_min = min
        prev_max = max
        if pivots[0] >= index:
            offset = 0
            max = pivots[0]
        else:
            offset = 1
            while offset < end:
                if pivots[offset] >= index:
                    max = pivots[offset]
                    break
                offset += 1
            min = (pivots[offset - 1] + 1) & ULONG_MAX
        nxt = node.slot[offset]
        if ma_dead_node(node):
            mas_reset(mas)
            return None
        if ma_is_leaf(type):
            break
    mas.end = end
    mas.offset = offset
    mas.index = min
    mas.last = max
    mas.min = prev_min
    mas.max = prev_max
    mas.node = last
    return nxt


def mtree_lookup_walk(mas: MaState) -> Any:
    """Model of mtree_lookup_walk(): a quick lookup that leaves mas undefined.

    Returns the entry at mas->index, or None after a reset on a dead node.
    """
    nxt = mas.node
    index = mas.index
    while True:
        node = nxt[0] if nxt is not None else NULL_NODE
        type = nxt[1] if nxt is not None else maple_dense
        pivots = node.pivot
        end = mt_pivots[type]
        offset = 0
        while True:
            if pivots[offset] >= index:
                break
            offset += 1
            if offset >= end:
                break
        nxt = node.slot[offset]
        if ma_dead_node(node):
            mas_reset(mas)
            return None
        if ma_is_leaf(type):
            return nxt


def mas_state_walk(mas: MaState) -> Any:
    """Model of mas_state_walk()."""
    entry = mas_start(mas)
    if mas_is_none(mas):
        return None
    if mas_is_ptr(mas):
        return entry
    return mtree_range_walk(mas)


def mas_walk(mas: MaState) -> Any:
    """Model of mas_walk(): walk to mas->index; index/last become its range."""
    # Kernel quirk, kept verbatim: "!mas_is_active(mas) || !mas_is_start(mas)"
    # is always true (a state is never both active and start), so mas_walk()
    # always restarts from the root; the kernel presumably meant "&&".
    if mas.status != ma_active or mas.status != ma_start:
        mas.status = ma_start
    while True:
        entry = mas_state_walk(mas)
        if not mas_is_start(mas):
            break
    if mas_is_none(mas):
        mas.index = 0
        mas.last = ULONG_MAX
    elif mas_is_ptr(mas):
        if not mas.index:
            mas.last = 0
            return entry
        mas.index = 1
        mas.last = ULONG_MAX
        mas.status = ma_none
        return None
    return entry


def mas_rewalk(mas: MaState, index: int) -> None:
    """Model of mas_rewalk(): walk afresh to @index, retrying on dead nodes."""
    while True:
        mas_set(mas, index)
        mas_state_walk(mas)
        if not mas_is_start(mas):
            return


def mas_rewalk_if_dead(mas: MaState, node: MapleNode, index: int) -> bool:
    """Model of mas_rewalk_if_dead()."""
    if ma_dead_node(node):
        mas_rewalk(mas, index)
        return True
    return False


def mte_set_pivot(enode: MapleEnode, piv: int, val: int) -> None:
    """Model of mte_set_pivot()."""
    if piv >= mt_pivots[enode[1]]:
        raise MapleBug("mte_set_pivot", "piv >= mt_pivots[type]", f"pivot {piv}")
    enode[0].pivot[piv] = val


def mte_set_gap(enode: MapleEnode, gap: int, val: int) -> None:
    """Model of mte_set_gap(): only arange64 nodes have gaps."""
    if enode[1] == maple_arange_64:
        enode[0].gap[gap] = val

