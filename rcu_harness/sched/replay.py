"""The ``replay`` strategy: follow a recorded schedule strictly.

Each decision must be the recorded one: the recorded thread must be
runnable, and a random draw must come where one was recorded.  Otherwise
:class:`~rcu_harness.sched.errors.ReplayDivergence` names the decision
number, what the schedule expected and what the program offered.  Random
values are regenerated from the schedule's seed, or, where the schedule
carries them (:attr:`~rcu_harness.sched.schedule.Schedule.values`: a
strategy chose them), returned as recorded.

With ``log=True`` every thread choice is also kept as a
:class:`~rcu_harness.sched.schedule.Decision` (what the strategy was shown
and what it chose), and every read choice per thread, for counting
preemptions and for the shrinker.  This is
the only strict replay: the runner's replay, the diagnosing re-run of a
finding and the shrinker all use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.sched.errors import ReplayDivergence
from rcu_harness.sched.schedule import RANDOM, Decision, Schedule, read_index
from rcu_harness.sched.seeds import DataSource

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class ReplayStrategy:
    """Strict replay of one :class:`Schedule` (one execution)."""

    name = "replay"

    def __init__(self, schedule: Schedule | str, *, log: bool = False) -> None:
        if isinstance(schedule, str):
            schedule = Schedule.decode(schedule)
        self.schedule = schedule
        self.execution_seed = schedule.seed
        self.log = log
        self.decisions: list[Decision] = []
        """The thread choices of the execution, when logging."""
        self.reads: dict[int, list[int]] = {}
        """Per thread, its read choices in order (weak memory), when logging."""
        self._pos = 0
        self._used = False
        self._data = DataSource(schedule.seed)
        self._values = 0
        """The recorded values returned so far."""
        self.next_value: Callable[[int, int], int] | None = (
            self._recorded_value if schedule.values else None)
        """With recorded values, the draws are recorded again in the
        execution's schedule (:class:`~rcu_harness.sched.protocol.ChoosesData`)."""

    @property
    def remaining(self) -> int:
        """Recorded decisions not consumed yet."""
        return len(self.schedule.steps) - self._pos

    def new_execution(self, index: int) -> bool:
        """One execution only."""
        if self._used:
            return False
        self._used = True
        self._pos = 0
        self.decisions = []
        self.reads = {}
        self._data = DataSource(self.schedule.seed)
        self._values = 0
        return True

    def _next(self, wanted: str, runnable: Sequence[int] | None) -> int:
        pos = self._pos
        offered = (f"runnable threads {list(runnable)}" if runnable is not None
                   else "a random draw")
        if pos >= len(self.schedule.steps):
            raise ReplayDivergence(
                f"replay diverged at decision {pos}: the schedule has ended "
                f"but the program asked for {wanted} ({offered})")
        step = self.schedule.steps[pos]
        self._pos = pos + 1
        return step

    def next_thread(self, runnable: Sequence[int], current: int | None,
                    yielding: bool = False) -> int:
        """The recorded thread; it must be runnable."""
        step = self._next("a thread choice", runnable)
        if step == RANDOM:
            raise ReplayDivergence(
                f"replay diverged at decision {self._pos - 1}: expected a random"
                f" draw, the program asked for a thread among {list(runnable)}")
        if step not in runnable:
            raise ReplayDivergence(
                f"replay diverged at decision {self._pos - 1}: expected thread "
                f"{step}, runnable threads are {list(runnable)}")
        if self.log:
            self.decisions.append(Decision(current, yielding, tuple(runnable), step))
        return step

    def next_read(self, options: int, thread: int) -> int:
        """The recorded read choice; it must be one of the @options."""
        step = self._next("a read choice", None)
        k = read_index(step)
        if k < 0:
            raise ReplayDivergence(
                f"replay diverged at decision {self._pos - 1}: expected "
                f"{'a random draw' if step == RANDOM else f'thread {step}'}, "
                f"the program asked which of {options} stores a load reads")
        if k >= options:
            raise ReplayDivergence(
                f"replay diverged at decision {self._pos - 1}: the schedule "
                f"reads the store {k} back, the load may read {options}")
        if self.log:
            self.reads.setdefault(thread, []).append(k)
        return k

    def read_map(self) -> dict[int, tuple[int, ...]]:
        """The logged read choices, per thread."""
        return {t: tuple(ks) for t, ks in sorted(self.reads.items())}

    def next_u64(self) -> int:
        """The recorded random draw: its recorded value, else regenerated
        from the seed."""
        step = self._next("a random draw", None)
        if step != RANDOM:
            raise ReplayDivergence(
                f"replay diverged at decision {self._pos - 1}: expected thread "
                f"{step} to be chosen, the program drew a random value")
        values = self.schedule.values
        if values:
            self._values += 1
            return values[self._values - 1]
        return self._data.next_u64()

    def _recorded_value(self, n: int, thread: int) -> int:
        """The recorded value of the next random draw (within @n)."""
        return self.next_u64() % n
