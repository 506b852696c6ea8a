"""Setup snapshots: build a piece of an execution's initial world once, then
replay it as straight-line code in every later execution.

A campaign runs the same program thousands of times, and the first part of
its setup (the VMAs and the maple tree of :func:`~rcu_harness.scenarios.mm.
populate`) draws no program data: given the same state before it, it makes
the same objects with the same contents, addresses, allocation records and
sites in every execution.  :class:`Recorder` runs such a step once, the
normal way, and compares every object reachable from the execution before
and after it (:func:`walk`):

* objects that existed before may change only if they are *roles* (the
  heap, its record and object maps, the port's node lists, the tree, the
  mm: objects every execution has at the same place), and a role container
  only by growing at its end;
* every object the step made must be of a type :func:`_copyable` accepts
  (plain instances with slots or ``__dict__``, lists, dicts, tuples, and
  their subclasses), and may refer only to constants (ints, strings, enums,
  classes, module-level functions, immutable call chains, tuples of these),
  to roles, or to other new objects.

If so it writes a Python function (:func:`_codegen`) that makes the same
objects with the same classes and values (``object.__new__`` and
attribute stores, in C where Python allows), grows the roles by the same
entries and sets the same role attributes, and returns the step's result;
if not, the step is never replayed (:data:`UNCACHEABLE`, with the reason).
The replay does not run the model, so it must only be used where the step
cannot depend on anything but the recorded key (the caller's business:
:func:`rcu_harness.scenarios.mm.populate` keys on the program, the layout,
the heap's next addresses, the tree, the model patches, the access hook,
the memory model and the recording level).
"""

from __future__ import annotations

import keyword
import types
from enum import Enum
from typing import TYPE_CHECKING, Any

from rcu_harness.runtime.callchain import CallChain

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

ATOMS: tuple[type, ...] = (int, str, bytes, float, bool, type(None), CallChain,
                           types.CodeType, type, types.ModuleType, Enum)
"""Values kept by identity, never walked (immutable, or shared by design)."""
_OPAQUE = (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
           types.MethodWrapperType, types.FrameType,
           types.GeneratorType, types.CoroutineType)
"""Walked as leaves: their identity is their state for the comparison."""
ENABLED = True
"""Replays are made and used (False: every step runs through the model; for
comparisons)."""
MAX_LINES = 40_000
"""A longer replay is not compiled (``compile()`` is one uninterruptible C
call, about 10 us per line)."""
_SKIP_SLOTS = frozenset(("__dict__", "__weakref__"))
_MISSING = object()
_slot_cache: dict[type, tuple[tuple[str, Any], ...]] = {}


class Uncacheable(Exception):
    """The step did something a replay would not reproduce."""


def _slots(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, member descriptor) of every slot of @cls, base classes first."""
    out = _slot_cache.get(cls)
    if out is None:
        items = []
        for klass in reversed(cls.__mro__):
            names = klass.__dict__.get("__slots__", ())
            for name in (names,) if isinstance(names, str) else names:
                if name not in _SKIP_SLOTS:
                    items.append((name, klass.__dict__[name]))
        out = _slot_cache[cls] = tuple(items)
    return out


def _is_const(v: Any) -> bool:
    if isinstance(v, ATOMS):
        return True
    if type(v) is types.FunctionType:
        return v.__closure__ is None and "<locals>" not in v.__qualname__
    if type(v) is tuple:
        return all(_is_const(x) for x in v)
    params = getattr(type(v), "__dataclass_params__", None)
    return (params is not None and params.frozen
            and all(_is_const(x) for _, x in _slot_values(v)))


def _slot_values(obj: Any) -> list[tuple[str, Any]]:
    out = []
    for name, desc in _slots(type(obj)):
        try:
            out.append((name, desc.__get__(obj, type(obj))))
        except AttributeError:
            continue
    d = getattr(obj, "__dict__", None)
    if d is not None and not isinstance(obj, type):
        out += list(d.items())
    return out


def _items(obj: Any) -> list[Any]:
    """The items of a list, tuple or set, past any instrumented ``__iter__``
    or ``__getitem__`` of a subclass (node words)."""
    if isinstance(obj, list):
        return list.copy(obj)
    return list(obj)


def children(obj: Any) -> list[Any]:
    """What @obj refers to, for the walk (constants and opaque objects: nothing)."""
    if isinstance(obj, (ATOMS, _OPAQUE)):
        return []
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = _items(obj)
        if type(obj) not in (list, tuple, set, frozenset):
            items += [v for _, v in _slot_values(obj)]
        return items
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    return [v for _, v in _slot_values(obj)]


def shallow(obj: Any) -> Any:
    """@obj's own state: atoms by value, everything else by identity."""
    def sv(v: Any) -> Any:
        return v if isinstance(v, ATOMS) else ("@", id(v))
    if isinstance(obj, (ATOMS, _OPAQUE)):
        return None
    if isinstance(obj, dict):
        return (type(obj), tuple((sv(k), sv(v)) for k, v in obj.items()))
    if isinstance(obj, (set, frozenset)):
        return (type(obj), frozenset(sv(v) for v in obj))
    state: list[Any] = [type(obj)]
    if isinstance(obj, (list, tuple)):
        state.append(tuple(sv(v) for v in _items(obj)))
    state += [(k, sv(v)) for k, v in _slot_values(obj)]
    return tuple(state)


def walk(roots: Iterable[Any]) -> dict[int, Any]:
    """Every object reachable from @roots, by id, in discovery order."""
    seen: dict[int, Any] = {}
    stack = list(roots)
    stack.reverse()
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, ATOMS):
            continue
        seen[id(obj)] = obj
        kids = children(obj)
        kids.reverse()
        stack += kids
    return seen


class Recorder:
    """Watches one run of a step; :meth:`finish` makes its replay.

    @roles: the objects every execution has at the same place, by name
    (the replay gets the new execution's, by the same names); @roots: more
    objects the step reads (walked, never changed).
    """

    def __init__(self, roles: dict[str, Any], roots: Iterable[Any] = ()) -> None:
        import gc

        self.roles = roles
        self.roots = [*roles.values(), *roots]
        self.tracked = gc.get_objects()
        """Every container alive before the step (kept alive, so that no id
        is reused): a "new" object among them is an old global."""
        self.before = walk(self.roots)
        self.states = {i: shallow(o) for i, o in self.before.items()}

    def finish(self, result: Any) -> Callable[[dict[str, Any]], Any]:
        """The replay of the step that returned @result (raises
        :class:`Uncacheable`)."""
        try:
            return _Codegen(self, result).compile()
        finally:
            self.tracked = []
            self.before = {}
            self.states = {}


class _Codegen:
    """Writes the replay function of one recorded step."""

    def __init__(self, rec: Recorder, result: Any) -> None:
        self.rec = rec
        self.consts: dict[str, Any] = {}
        self._const_ids: dict[int, str] = {}
        self.role_ids = {id(o): f"R_{name}" for name, o in rec.roles.items()}
        after = walk([*rec.roots, result])
        old_globals = {id(o) for o in rec.tracked}
        self.new: dict[int, Any] = {}
        for i, obj in after.items():
            if i in rec.before or _is_const(obj):
                continue
            if i in old_globals:
                raise Uncacheable(f"reaches an older {type(obj).__name__}")
            _check_copyable(obj)
            self.new[i] = obj
        self.names = {i: f"o{n}" for n, i in enumerate(self.new)}
        self.lines: list[str] = []
        self.result = result

    def const(self, v: Any) -> str:
        name = self._const_ids.get(id(v))
        if name is None:
            name = self._const_ids[id(v)] = f"K{len(self.consts)}"
            self.consts[name] = v
        return name

    def expr(self, v: Any) -> str:
        """The replay's expression for value @v."""
        i = id(v)
        name = self.names.get(i) or self.role_ids.get(i)
        if name is not None:
            return name
        if type(v) in (int, bool, str, type(None)):
            return repr(v)
        if _is_const(v):
            return self.const(v)
        raise Uncacheable(f"refers to an older {type(v).__name__} that is no role")

    def compile(self) -> Callable[[dict[str, Any]], Any]:
        out = self.lines
        out += [f"    {r} = R[{name!r}]" for name, r in
                ((n, f"R_{n}") for n in self.rec.roles)]
        tuples = []
        for i, obj in self.new.items():
            cls = self.const(type(obj))
            if isinstance(obj, tuple):
                tuples.append(obj)
            elif type(obj) is types.FunctionType:
                continue
            elif isinstance(obj, list):
                out.append(f"    {self.names[i]} = _lnew({cls})")
            elif isinstance(obj, dict):
                out.append(f"    {self.names[i]} = {{}}")
            else:
                out.append(f"    {self.names[i]} = _onew({cls})")
        for i, obj in self.new.items():
            if type(obj) is types.FunctionType:
                self._closure(self.names[i], obj)
        self._tuples(tuples)
        for i, obj in self.new.items():
            if not isinstance(obj, (tuple, types.FunctionType)):
                self._fill(self.names[i], obj)
        self._roles()
        out.append(f"    return {self.expr(self.result)}")
        if len(out) > MAX_LINES:
            raise Uncacheable(f"a replay of {len(out)} lines (at most {MAX_LINES})")
        src = "def replay(R):\n" + "\n".join(out) + "\n"
        ns: dict[str, Any] = {"_onew": object.__new__, "_lnew": list.__new__,
                              "_tnew": tuple.__new__, "_lext": list.extend,
                              "_fnew": types.FunctionType, "_cell": types.CellType,
                              **self.consts}
        exec(compile(src, "<setup snapshot>", "exec"), ns)
        replay: Callable[[dict[str, Any]], Any] = ns["replay"]
        return replay

    def _tuples(self, tuples: list[tuple[Any, ...]]) -> None:
        """Tuples that hold new objects, each after the tuples it holds."""
        done: set[int] = set()

        def emit(t: tuple[Any, ...]) -> None:
            if id(t) in done:
                return
            done.add(id(t))
            for x in t:
                if isinstance(x, tuple) and id(x) in self.names:
                    emit(x)
            items = ", ".join(self.expr(x) for x in t) + ("," if len(t) == 1 else "")
            self.lines.append(f"    {self.names[id(t)]} = "
                              f"_tnew({self.const(type(t))}, ({items}))")
            for name, desc in _slots(type(t)):
                raise Uncacheable(f"tuple subclass with slot {name} {desc}")
        for t in tuples:
            emit(t)

    def _closure(self, var: str, fn: types.FunctionType) -> None:
        """A closure made by the step (an RCU callback): the same code,
        globals, name and defaults, new cells with the values remapped."""
        values = [c.cell_contents for c in fn.__closure__ or ()]
        if any(isinstance(v, tuple) and id(v) in self.names for v in values):
            raise Uncacheable("a closure holds a tuple made by the step")
        cells = ", ".join(f"_cell({self.expr(v)})" for v in values)
        self.lines.append(
            f"    {var} = _fnew({self.const(fn.__code__)}, "
            f"{self.const(fn.__globals__)}, {fn.__name__!r}, "
            f"{self.expr(fn.__defaults__)}, ({cells},))")

    def _fill(self, var: str, obj: Any) -> None:
        out = self.lines
        if isinstance(obj, list):
            out.append(f"    _lext({var}, [{', '.join(map(self.expr, _items(obj)))}])")
        elif isinstance(obj, dict):
            items = ", ".join(f"{self.expr(k)}: {self.expr(v)}" for k, v in obj.items())
            out.append(f"    {var}.update({{{items}}})")
        self._attrs(var, obj, _slot_values(obj))

    def _attrs(self, var: str, obj: Any, values: list[tuple[str, Any]]) -> None:
        cls: Any = type(obj)
        slots = dict(_slots(cls))
        plain_setattr = cls.__setattr__ is object.__setattr__
        for name, value in values:
            desc = slots.get(name)
            if desc is None and plain_setattr and name.isidentifier() \
                    and not keyword.iskeyword(name) \
                    and not hasattr(getattr(cls, name, None), "__set__"):
                # a plain store keeps CPython 3.11's inline values (a store
                # through __dict__ makes the object a dictionary of its own,
                # and every later access of its attributes slower)
                self.lines.append(f"    {var}.{name} = {self.expr(value)}")
            elif desc is None:  # __dict__, past a __setattr__ or a descriptor
                self.lines.append(f"    {var}.__dict__[{name!r}] = {self.expr(value)}")
            elif getattr(cls, name, None) is desc and plain_setattr:
                self.lines.append(f"    {var}.{name} = {self.expr(value)}")
            else:  # shadowed by a property, or a __setattr__ (frozen dataclass)
                self.lines.append(f"    {self.const(desc)}.__set__({var}, "
                                  f"{self.expr(value)})")

    def _roles(self) -> None:
        """The changes of older objects: roles only, containers only grown."""
        rec = self.rec
        for i, obj in rec.before.items():
            now = shallow(obj)
            if now == rec.states[i]:
                continue
            var = self.role_ids.get(i)
            if var is None:
                raise Uncacheable(f"changes an older {type(obj).__name__} "
                                  f"that is no role: {_diff(rec.states[i], now)}")
            old = rec.states[i]
            if isinstance(obj, list):
                if type(obj) is not list or now[1][:len(old[1])] != old[1]:
                    raise Uncacheable(f"{var} changed other than at its end")
                tail = ", ".join(map(self.expr, obj[len(old[1]):]))
                self.lines.append(f"    _lext({var}, [{tail}])")
            elif isinstance(obj, dict):
                if type(obj) is not dict or now[1][:len(old[1])] != old[1]:
                    raise Uncacheable(f"{var} changed other than at its end")
                tail = ", ".join(f"{self.expr(k)}: {self.expr(v)}" for k, v in
                                 list(obj.items())[len(old[1]):])
                self.lines.append(f"    {var}.update({{{tail}}})")
            elif isinstance(obj, (tuple, set, frozenset)):
                raise Uncacheable(f"{var} is a {type(obj).__name__}")
            else:
                before = dict(old[1:])
                changed = [(k, v) for k, v in _slot_values(obj)
                           if before.get(k, _MISSING) != (
                               v if isinstance(v, ATOMS) else ("@", id(v)))]
                if len(_slot_values(obj)) != len(before):
                    raise Uncacheable(f"{var} gained or lost attributes")
                self._attrs(var, obj, changed)


def _diff(old: Any, now: Any) -> str:
    """What changed between two :func:`shallow` states (for the reason)."""
    if not (isinstance(old, tuple) and isinstance(now, tuple)):
        return "?"
    pairs = [x for x in now[1:] if x not in old[1:]]
    return ", ".join(str(p[0]) if isinstance(p, tuple) and p else "items"
                     for p in pairs)[:200] or "items"


def _check_copyable(obj: Any) -> None:
    """Raise :class:`Uncacheable` unless :class:`_Codegen` can remake @obj."""
    cls: Any = type(obj)
    if type(obj) is types.FunctionType:
        ok = (not obj.__dict__ and obj.__kwdefaults__ is None
              and _is_const(obj.__defaults__) and obj.__closure__ is not None)
    elif isinstance(obj, tuple):
        ok = cls.__new__ is tuple.__new__
    elif isinstance(obj, list):
        ok = cls.__new__ is list.__new__ and cls.__init__ is list.__init__
    elif isinstance(obj, dict):
        ok = cls is dict
    else:
        ok = (cls.__new__ is object.__new__ and not isinstance(obj, _OPAQUE)
              and not isinstance(obj, (set, frozenset))
              and type(cls) is type)
    if not ok:
        raise Uncacheable(f"made a {cls.__name__}, which a replay cannot remake")
