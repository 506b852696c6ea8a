"""The ``portfolio`` strategy: member strategies in turn, execution by execution.

Execution ``i`` is execution ``i`` of member ``i mod len(members)`` (same
base seed, same index, hence the same execution seed as that member alone),
so it depends on nothing but the seed and ``i``, and a bug that one member
finds within ``n`` executions is found by the portfolio within about
``len(members) * n``.  ``mix`` is the portfolio ``pct,random``, ``aimed``
(:mod:`rcu_harness.sched.aimed`) the portfolio
``pct,random-sync,pct-sync,random`` with aimed points, ``aimed-surw``
(:mod:`rcu_harness.sched.aimed_surw`) the portfolio
``pct,random-sync,pct-sync,surw,pct-sync`` with the same, ``aimed-site``
(:mod:`rcu_harness.sched.aimed_site`) the portfolio
``pct,random-sync,pct-site,surw,pct-site`` with the same, ``aimed-relay``
(:mod:`rcu_harness.sched.aimed_relay`) the portfolio
``pct,random-sync,pct-site,surw,pct-site,pct-relay`` with the same,
``aimed-stale`` (:mod:`rcu_harness.sched.aimed_stale`) aimed-relay with
``reads=oldest``, ``aimed-pct`` (:mod:`rcu_harness.sched.aimed_pct`)
aimed-stale with ``fallback=pct``, ``aimed-rcu``
(:mod:`rcu_harness.sched.aimed_rcu`) aimed-pct with ``stall_in=rcu-or-any``,
``aimed-class`` (:mod:`rcu_harness.sched.aimed_class`) aimed-rcu's
members with a turn list per program class, ``aimed-conflict``
(:mod:`rcu_harness.sched.aimed_conflict`) aimed-class with
``aim=conflict``, ``aimed-data`` (the project's default strategy,
:mod:`rcu_harness.sched.aimed_data`) aimed-conflict with the program's
draws aimed (``data``); the
default portfolio, ``pct,surw``, pairs PCT (a thread stalled across another's whole
operation) with SURW (fine-grained switches inside one operation, every
interleaving of the threads' events equally likely), see docs/search.md for
the measurements behind the choice.

Members are strategies of the registry that are neither sequential nor
portfolios.  Their parameters are the portfolio's (:data:`TAKEN_BY`):
``depth`` and ``steps`` go to ``pct``, ``depth`` to ``rff``, ``profile``
and ``interesting`` to ``surw``, ``depth`` and ``sync_steps`` and
``points`` to ``pct-sync``, ``sync_points`` (its ``points``) to
``random-sync``, ``sites``, ``points``, ``fallback_steps``, ``fallback``,
``stall_in`` and ``aim`` to ``pct-site`` and ``pct-relay``, ``acts`` to
``pct-site``, ``hold`` and ``conflicts`` to ``pct-relay``, ``data`` to
both (:mod:`rcu_harness.sched.data_aim`),
``reads`` to ``random-sync``, ``pct-site`` and ``pct-relay`` (the other
members always choose reads uniformly).  A parameter
given that none of the members takes is refused (:meth:`check_given`,
called by the registry's ``make``), never ignored: a mistyped portfolio
would measure something else.  Calibration fills, before a run, each only
with a member that takes it: ``steps`` (pct), ``profile`` (surw),
``sync_steps`` (pct-sync), ``sites`` (pct-site or pct-relay),
``fallback_steps`` when it finds fewer than 2 sites, and with
``aim=conflict`` ``acts`` (pct-site) and ``conflicts`` (pct-relay).  The
member's bound methods are installed on this object at
:meth:`new_execution`, so a decision costs what it costs in that member; a
read choice under a weak memory model is the member's too (every member
chooses reads).

With an ``rff`` member the portfolio is
:class:`~rcu_harness.sched.protocol.Guided` (its ``epoch_bounds`` and
``feed`` are the member's, set on the instance; without one it has
neither): the corpus is made by every execution of the portfolio, whichever
member ran it, and the rff member's executions mutate it.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from rcu_harness.sched.pct import PctStrategy
from rcu_harness.sched.pct_relay import PctRelayStrategy
from rcu_harness.sched.pct_site import PctSiteStrategy
from rcu_harness.sched.pct_sync import PctSyncStrategy
from rcu_harness.sched.pos import PosStrategy
from rcu_harness.sched.random_sync import RandomSyncStrategy
from rcu_harness.sched.random_walk import RandomStrategy
from rcu_harness.sched.rff import RffStrategy
from rcu_harness.sched.surw import SurwStrategy

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from rcu_harness.sched.protocol import Profiled

MEMBERS: dict[str, tuple[Callable[..., Any], dict[str, str]]] = {
    "pct": (PctStrategy, {"depth": "depth", "steps": "steps"}),
    "random": (RandomStrategy, {}),
    "pos": (PosStrategy, {}),
    "surw": (SurwStrategy, {"profile": "profile", "interesting": "interesting"}),
    "rff": (RffStrategy, {"depth": "depth"}),
    "pct-sync": (PctSyncStrategy, {"depth": "depth", "sync_steps": "sync_steps",
                                   "points": "points"}),
    "random-sync": (RandomSyncStrategy, {"points": "sync_points", "reads": "reads"}),
    "pct-site": (PctSiteStrategy, {"sites": "sites", "points": "points",
                                   "fallback_steps": "fallback_steps",
                                   "reads": "reads", "fallback": "fallback",
                                   "stall_in": "stall_in", "aim": "aim",
                                   "acts": "acts", "data": "data"}),
    "pct-relay": (PctRelayStrategy, {"sites": "sites", "points": "points",
                                     "hold": "hold",
                                     "fallback_steps": "fallback_steps",
                                     "reads": "reads", "fallback": "fallback",
                                     "stall_in": "stall_in", "aim": "aim",
                                     "conflicts": "conflicts", "data": "data"}),
}
"""How each possible member is made: its class and, for each of its keyword
arguments, the portfolio parameter passed to it."""

TAKEN_BY: dict[str, tuple[str, ...]] = {
    param: tuple(name for name, (_, kwargs) in MEMBERS.items()
                 if param in kwargs.values())
    for param in dict.fromkeys(v for _, kwargs in MEMBERS.values()
                               for v in kwargs.values())
}
"""Each member parameter of the portfolio and the members that take it
(derived from :data:`MEMBERS`, the one place a member's parameters are
named)."""


def make_member(name: str, seed: int, params: dict[str, Any]) -> Any:
    """Member @name with its keyword arguments from the portfolio's @params."""
    cls, kwargs = MEMBERS[name]
    return cls(seed, **{arg: params[param] for arg, param in kwargs.items()})


class MembersInTurn:
    """Members in turn: execution ``i`` is member ``i mod n``'s execution ``i``.

    The portfolio without a profile (``aimed`` is one: it has no ``surw``
    member, so it is not :class:`~rcu_harness.sched.protocol.Profiled`)."""

    name = "portfolio"

    def __init__(self, seed: int = 0, *, members: str = "pct,surw", depth: int = 3,
                 steps: int = 0, profile: str = "",
                 interesting: str = "points", sync_steps: int = 0,
                 points: str = "sync", sync_points: str = "access",
                 sites: int = 0, fallback_steps: int = 0, hold: int = 4,
                 reads: str = "uniform", fallback: str = "sync",
                 stall_in: str = "any", aim: str = "site", acts: str = "",
                 conflicts: str = "", data: str = "") -> None:
        names = [m.strip() for m in str(members).split(",") if m.strip()]
        unknown = [m for m in names if m not in MEMBERS]
        if not names or unknown:
            raise ValueError(f"portfolio members must be a comma-separated list "
                             f"of {', '.join(MEMBERS)} (got {members!r})")
        params = {"depth": depth, "steps": steps, "profile": profile,
                  "interesting": interesting, "sync_steps": sync_steps,
                  "points": points, "sync_points": sync_points, "sites": sites,
                  "fallback_steps": fallback_steps, "hold": hold, "reads": reads,
                  "fallback": fallback, "stall_in": stall_in, "aim": aim,
                  "acts": acts, "conflicts": conflicts, "data": data}
        self.seed = seed
        self.member_names = tuple(names)
        """The members, in turn, as named."""
        self.takes = frozenset({"members"} | {
            key for key, takers in TAKEN_BY.items()
            if any(m in takers for m in names)})
        """The parameters it uses: ``members`` and those a member takes."""
        # made directly, not by the registry (which checks the keys given):
        # refuse at least a value other than the default
        defaults = inspect.signature(MembersInTurn.__init__).parameters
        self.check_given(k for k, v in params.items() if v != defaults[k].default)
        self.members: list[Any] = [make_member(m, seed, params) for m in names]
        self.counts_sync = "sync_steps" in self.takes
        """It takes ``sync_steps`` (for its ``pct-sync`` member)."""
        self.counts_sites = "sites" in self.takes
        """It takes ``sites`` (for its ``pct-site`` or ``pct-relay`` member)."""
        self._inner: Any = self.members[0]
        self.execution_seed = self._inner.execution_seed
        self.next_thread: Callable[..., int] = self._inner.next_thread
        self.next_u64: Callable[[], int] = self._inner.next_u64
        self.next_read: Callable[[int, int], int] = self._inner.next_read
        self.next_value: Callable[[int, int], int] | None = getattr(
            self._inner, "next_value", None)
        """The member's choice of the program's draws
        (:class:`~rcu_harness.sched.protocol.ChoosesData`), or None."""
        self.keeper: Any = getattr(self._inner, "keeper", None)
        """The member's :class:`~rcu_harness.sched.protocol.Keeping` (or None)."""
        self.uniform: Callable[[], float] | None = getattr(self._inner, "uniform", None)
        """The member's :class:`~rcu_harness.sched.protocol.Uniform` draw (or None)."""
        for member in self.members:
            if isinstance(member, RffStrategy):
                self.epoch_bounds = member.epoch_bounds
                self.feed = member.feed
                break

    def check_given(self, given: Iterable[str]) -> None:
        """Refuse (ValueError) a parameter of @given that no member takes: a
        portfolio would run without it, silently."""
        for key in given:
            if key in TAKEN_BY and key not in self.takes:
                raise ValueError(
                    f"{self.name} parameter {key} is taken by none of its members "
                    f"{','.join(self.member_names)} (only by "
                    f"{', '.join(TAKEN_BY[key])})")

    def new_execution(self, index: int) -> bool:
        """Prepare execution @index with member ``index mod n``."""
        inner = self._inner = self.members[index % len(self.members)]
        inner.new_execution(index)
        self.execution_seed = inner.execution_seed
        self.next_thread = inner.next_thread
        self.next_u64 = inner.next_u64
        self.next_read = inner.next_read
        self.next_value = getattr(inner, "next_value", None)
        self.keeper = getattr(inner, "keeper", None)
        self.uniform = getattr(inner, "uniform", None)
        return True

    def watch(self, threads: Sequence[Any]) -> bool:
        """What the current member says (False for members that do not watch)."""
        watch = getattr(self._inner, "watch", None)
        return bool(watch(threads)) if watch is not None else False


class PortfolioStrategy(MembersInTurn):
    """Members in turn, with the profile of its ``surw`` member (if any)."""

    def profile_probe(self) -> Profiled:
        """The probe of the first member that takes a profile."""
        for member in self.members:
            if isinstance(member, SurwStrategy):
                return member.profile_probe()
        return SurwStrategy(self.seed).profile_probe()

    def measured_profile(self) -> str:
        """Measured on the probe, never on the portfolio itself."""
        raise TypeError("measure the profile on profile_probe()")
