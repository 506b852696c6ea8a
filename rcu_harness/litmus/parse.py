"""C litmus tests (herd7's LKMM dialect): the subset the harness reads.

A test is ``C NAME``, an optional ``(* comment *)``, the initial state
``{ x=1; p=y; }`` (a name on the right is the address of that variable),
one ``Pn(int *x, ...) { ... }`` per process and an ``exists``,
``~exists`` or ``forall`` clause over registers (``1:r0=1``) and final
values (``x=2``) joined with ``/\\``, ``\\/``, ``~`` and parentheses.

Statements: declarations (``int r0;``, ``int *r1;``, ``int r = e;``),
``r = e;``, ``WRITE_ONCE(*x, e)``, ``smp_store_release(x, e)``,
``rcu_assign_pointer(*p, e)``, the barriers (``smp_mb()``, ``smp_wmb()``,
``smp_rmb()``, ``smp_mb__after_spinlock()``, a full barrier here),
``rcu_read_lock()``, ``rcu_read_unlock()``,
``synchronize_rcu()``, ``spin_lock(l)``, ``spin_unlock(l)``, ``if (c) s
[else s]`` and ``{ ... }`` blocks; expressions: integers, registers,
variable names (their address), ``READ_ONCE(*x)``, ``READ_ONCE(*r)``
(through a register: an address dependency), ``smp_load_acquire(x)``,
``rcu_dereference(*p)``, and ``==``, ``!=``, ``+``, ``-``, ``&``.
Atomics (``atomic_t *x`` parameters): ``atomic_read()``, ``atomic_set()``
and their acquire/release forms (the loads and stores above), the
read-modify-writes ``atomic_fetch_add()``, ``atomic_fetch_sub()``,
``atomic_add_return()``, ``atomic_sub_return()``, ``atomic_fetch_inc()``,
``atomic_fetch_dec()``, ``atomic_inc_return()``, ``atomic_dec_return()``,
``xchg()``, ``atomic_xchg()``, ``cmpxchg()``, ``atomic_cmpxchg()``, each
also ``_relaxed``, ``_acquire`` and ``_release`` (an ``rmw`` expression),
the fully ordered ``atomic_inc_and_test()``, ``atomic_dec_and_test()`` and
``atomic_sub_and_test()``, and the void ``atomic_add()``, ``atomic_sub()``,
``atomic_inc()``, ``atomic_dec()`` (relaxed; an ``eval`` statement).
Anything else (plain C accesses, other atomics) is a :class:`LitmusError`
naming the construct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"\s*(?:(/\\|\\/|==|!=|&&|\|\||->)|([A-Za-z_][A-Za-z_0-9]*)"
                    r"|(-?\d+)|(\S))")
ACCESSES = frozenset({"READ_ONCE", "smp_load_acquire", "rcu_dereference"})
STORES = frozenset({"WRITE_ONCE", "smp_store_release", "rcu_assign_pointer"})
ALIASES = {"atomic_read": "READ_ONCE", "atomic_read_acquire": "smp_load_acquire",
           "atomic_set": "WRITE_ONCE", "atomic_set_release": "smp_store_release"}
"""Atomic loads and stores that are the plain primitives (linux-kernel.def)."""
_RMW_BASES = ("atomic_fetch_add", "atomic_fetch_sub", "atomic_add_return",
              "atomic_sub_return", "atomic_fetch_inc", "atomic_fetch_dec",
              "atomic_inc_return", "atomic_dec_return", "xchg", "atomic_xchg",
              "cmpxchg", "atomic_cmpxchg")
RMWS = frozenset({*(base + sfx for base in _RMW_BASES
                    for sfx in ("", "_relaxed", "_acquire", "_release")),
                  "atomic_inc_and_test", "atomic_dec_and_test",
                  "atomic_sub_and_test"})
"""Value-returning read-modify-writes (no suffix: fully ordered)."""
VOID_RMWS = frozenset({"atomic_add", "atomic_sub", "atomic_inc", "atomic_dec"})
"""Read-modify-writes without a value (unordered)."""
CALLS = frozenset({"smp_mb", "smp_wmb", "smp_rmb", "rcu_read_lock",
                   "rcu_read_unlock", "synchronize_rcu", "spin_lock",
                   "spin_unlock", "smp_mb__after_spinlock"})


class LitmusError(ValueError):
    """The text is not a litmus test of the supported subset (one line)."""


@dataclass(frozen=True, slots=True)
class Expr:
    """An expression: ``int`` (value), ``reg``, ``addr`` (a variable's
    address), ``load`` (op is the primitive; arg the variable or register
    holding the address), ``rmw`` (op the atomic, value the variable, left
    its operand, right cmpxchg's new value), or a binary ``op`` over
    ``left`` and ``right``."""

    kind: str
    value: Any = None
    op: str = ""
    left: Expr | None = None
    right: Expr | None = None


@dataclass(frozen=True, slots=True)
class Stmt:
    """A statement: ``set`` (register := expr), ``store`` (op, target, expr),
    ``call`` (op, target), ``eval`` (a void atomic's ``rmw`` expr), ``if``
    (cond, then, else), ``block``."""

    kind: str
    op: str = ""
    target: str = ""
    target_is_reg: bool = False
    expr: Expr | None = None
    body: tuple[Stmt, ...] = ()
    orelse: tuple[Stmt, ...] = ()


@dataclass(frozen=True, slots=True)
class Cond:
    """The final condition: ``eq`` (``who`` is ``N:reg`` or a variable,
    ``value`` an int or a variable name), ``and``, ``or``, ``not``."""

    kind: str
    who: str = ""
    value: str = ""
    parts: tuple[Cond, ...] = ()

    def names(self) -> list[str]:
        """The registers and variables it mentions, in order, once each."""
        if self.kind == "eq":
            return [self.who]
        out: list[str] = []
        for p in self.parts:
            out += [n for n in p.names() if n not in out]
        return out

    def holds(self, state: dict[str, str]) -> bool:
        """Is the condition true in @state (name -> value text)?"""
        if self.kind == "eq":
            return state.get(self.who) == self.value
        if self.kind == "not":
            return not self.parts[0].holds(state)
        if self.kind == "and":
            return all(p.holds(state) for p in self.parts)
        return any(p.holds(state) for p in self.parts)


@dataclass(frozen=True, slots=True)
class LitmusTest:
    """A parsed test."""

    name: str
    init: dict[str, str]
    """Variable -> initial value (an integer or another variable's name)."""
    variables: tuple[str, ...]
    """Every shared variable, in order of first mention."""
    procs: tuple[tuple[Stmt, ...], ...]
    quantifier: str
    """``exists``, ``~exists`` or ``forall``."""
    cond: Cond
    expected: str = ""
    """The ``Result:`` the test's comment states (``Never``, ...), if any."""
    locks: tuple[str, ...] = field(default=())


class _Tokens:
    def __init__(self, text: str) -> None:
        self.items = [m.group(m.lastindex or 0) for m in _TOKEN.finditer(text)
                      if m.lastindex]
        self.pos = 0

    def peek(self, k: int = 0) -> str:
        i = self.pos + k
        return self.items[i] if i < len(self.items) else ""

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if want is not None and tok != want:
            raise LitmusError(f"expected {want!r}, found {tok or 'the end'!r}")
        self.pos += 1
        return tok


def _strip_comments(text: str) -> str:
    text = re.sub(r"\(\*(?![A-Za-z_&(]).*?\*\)", " ", text, flags=re.S)
    text = re.sub(r"\blocations\s*\[[^\]]*\]", " ", text)
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def parse(text: str) -> LitmusTest:
    """Parse a C litmus test; :class:`LitmusError` if it is not one."""
    m = re.search(r"Result:\s*(\w+)", text)
    expected = m.group(1) if m else ""
    body = _strip_comments(text)
    head = re.match(r"\s*C\s+(\S+)", body)
    if head is None:
        raise LitmusError("a C litmus test starts with 'C NAME'")
    rest = body[head.end():]
    init_m = re.search(r"\{(.*?)\}", rest, flags=re.S)
    if init_m is None:
        raise LitmusError("no initial state block { ... }")
    init = _init(init_m.group(1))
    rest = rest[init_m.end():]
    q = re.search(r"(~\s*exists|exists|forall)\s*(.*)$", rest, flags=re.S)
    if q is None:
        raise LitmusError("no exists, ~exists or forall clause")
    procs_text, quant = rest[:q.start()], re.sub(r"\s", "", q.group(1))
    cond = _cond(_Tokens(q.group(2)))
    variables = list(init)
    for value in init.values():
        if not re.fullmatch(r"-?\d+", value) and value not in variables:
            variables.append(value)
    procs, locks = _procs(procs_text, variables)
    for name in cond.names():
        if ":" not in name and name not in variables:
            variables.append(name)
    return LitmusTest(head.group(1), init, tuple(variables), tuple(procs), quant,
                      cond, expected, tuple(locks))


def _init(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        m = re.fullmatch(r"(?:[A-Za-z_][\w ]*?\*?\s*)?\b([A-Za-z_]\w*)\s*=\s*&?"
                         r"\s*([A-Za-z_]\w*|-?\d+)", item)
        if m is None:
            raise LitmusError(f"initial state {item!r} is not NAME=VALUE")
        out[m.group(1)] = m.group(2)
    return out


def _procs(text: str, variables: list[str]) -> tuple[list[tuple[Stmt, ...]],
                                                      list[str]]:
    procs: list[tuple[Stmt, ...]] = []
    locks: list[str] = []
    toks = _Tokens(text)
    while toks.peek():
        name = toks.take()
        if not re.fullmatch(r"P\d+", name) or int(name[1:]) != len(procs):
            raise LitmusError(f"expected P{len(procs)}(...), found {name!r}")
        toks.take("(")
        while toks.peek() != ")":
            words = []
            while toks.peek() not in (",", ")"):
                words.append(toks.take())
            param = words[-1]
            if "spinlock_t" in words:
                if param not in locks:
                    locks.append(param)
            elif param not in variables:
                variables.append(param)
            if toks.peek() == ",":
                toks.take()
        toks.take(")")
        procs.append(_block(toks))
    if not procs:
        raise LitmusError("no processes P0(...) { ... }")
    return procs, locks


def _block(toks: _Tokens) -> tuple[Stmt, ...]:
    toks.take("{")
    out: list[Stmt] = []
    while toks.peek() != "}":
        if not toks.peek():
            raise LitmusError("a process body is not closed with '}'")
        stmt = _stmt(toks)
        if stmt is not None:
            out.append(stmt)
    toks.take("}")
    return tuple(out)


def _stmt(toks: _Tokens) -> Stmt | None:
    tok = toks.peek()
    if tok == "{":
        return Stmt("block", body=_block(toks))
    if tok == "if":
        toks.take()
        toks.take("(")
        cond = _expr(toks)
        toks.take(")")
        then = _stmt(toks)
        orelse: Stmt | None = None
        if toks.peek() == "else":
            toks.take()
            orelse = _stmt(toks)
        return Stmt("if", expr=cond, body=(then,) if then else (),
                    orelse=(orelse,) if orelse else ())
    if tok in ("int", "unsigned", "long", "void"):
        while toks.peek() in ("int", "unsigned", "long", "void", "*"):
            toks.take()
        reg = toks.take()
        if toks.peek() == "=":
            toks.take()
            stmt = Stmt("set", target=reg, expr=_expr(toks))
        else:
            stmt = None
        toks.take(";")
        return stmt
    if tok in VOID_RMWS:
        expr = _rmw(toks)
        toks.take(";")
        return Stmt("eval", expr=expr)
    if tok in STORES or tok in ("atomic_set", "atomic_set_release"):
        op = ALIASES.get(toks.take(), tok)
        toks.take("(")
        if toks.peek() in ("*", "&"):
            toks.take()
        target = toks.take()
        toks.take(",")
        expr = _expr(toks)
        toks.take(")")
        toks.take(";")
        return Stmt("store", op=op, target=target, expr=expr)
    if tok in CALLS:
        op = toks.take()
        toks.take("(")
        arg = "" if toks.peek() == ")" else toks.take()
        toks.take(")")
        toks.take(";")
        return Stmt("call", op=op, target=arg)
    if re.fullmatch(r"[A-Za-z_]\w*", tok) and toks.peek(1) == "=":
        reg = toks.take()
        toks.take("=")
        stmt = Stmt("set", target=reg, expr=_expr(toks))
        toks.take(";")
        return stmt
    raise LitmusError(f"unsupported statement starting with {tok!r}")


def _expr(toks: _Tokens) -> Expr:
    left = _atom(toks)
    while toks.peek() in ("==", "!=", "+", "-", "&", "&&", "||"):
        op = toks.take()
        left = Expr("bin", op=op, left=left, right=_atom(toks))
    return left


def _atom(toks: _Tokens) -> Expr:
    tok = toks.take()
    if tok == "(":
        inner = _expr(toks)
        toks.take(")")
        return inner
    if re.fullmatch(r"-?\d+", tok):
        return Expr("int", int(tok))
    if tok == "&":
        return Expr("addr", toks.take())
    if tok in RMWS:
        return _rmw(toks, tok)
    if tok in ACCESSES or tok in ("atomic_read", "atomic_read_acquire"):
        tok = ALIASES.get(tok, tok)
        toks.take("(")
        if toks.peek() in ("*", "&"):
            toks.take()
        arg = toks.take()
        toks.take(")")
        return Expr("load", arg, op=tok)
    if tok == "*":
        raise LitmusError("plain C accesses (*x) are not supported; use "
                          "READ_ONCE()/WRITE_ONCE()")
    if re.fullmatch(r"[A-Za-z_]\w*", tok):
        if toks.peek() == "(":
            raise LitmusError(f"unsupported primitive {tok}()")
        return Expr("name", tok)
    raise LitmusError(f"unsupported expression at {tok!r}")


def _rmw(toks: _Tokens, op: str = "") -> Expr:
    """An atomic RMW call (its name taken already when @op is given):
    ``rmw`` with the variable in ``value``, the operand (cmpxchg: the
    expected value) in ``left``, cmpxchg's new value in ``right``."""
    if not op:
        op = toks.take()
    toks.take("(")
    operand: Expr | None = None
    if re.match(r"atomic_(fetch_)?(add|sub)", op):
        operand = _expr(toks)
        toks.take(",")
    if toks.peek() in ("*", "&"):
        toks.take()
    var = toks.take()
    new: Expr | None = None
    if "xchg" in op:
        toks.take(",")
        operand = _expr(toks)
        if "cmpxchg" in op:
            toks.take(",")
            new = _expr(toks)
    toks.take(")")
    return Expr("rmw", var, op=op, left=operand, right=new)


def _cond(toks: _Tokens) -> Cond:
    left = _cond_atom(toks)
    while toks.peek() in ("/\\", "\\/"):
        op = "and" if toks.take() == "/\\" else "or"
        right = _cond_atom(toks)
        if left.kind == op:
            left = Cond(op, parts=(*left.parts, right))
        else:
            left = Cond(op, parts=(left, right))
    return left


def _cond_atom(toks: _Tokens) -> Cond:
    tok = toks.take()
    if tok == "(":
        inner = _cond(toks)
        toks.take(")")
        return inner
    if tok == "~":
        return Cond("not", parts=(_cond_atom(toks),))
    who = tok
    if toks.peek() == ":":
        toks.take()
        who = f"{tok}:{toks.take()}"
    toks.take("=")
    value = toks.take()
    return Cond("eq", who=who, value=value)
