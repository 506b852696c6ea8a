"""Reader-API sequences: legal by construction, deterministic, well formed."""

from rcu_harness.oracle.ops import (
    Erase,
    Init,
    MFind,
    MNext,
    MPause,
    MSet,
    RcuOn,
    RLock,
    RUnlock,
    Store,
    format_trace,
    parse_trace,
)
from rcu_harness.oracle.readgen import (
    NAVIGATING,
    batch,
    count_calls,
    legalize,
    reader_sequence,
)

MAX = (1 << 64) - 1


def test_a_write_outside_an_rcu_section_makes_the_next_call_pause_first():
    ops = legalize([Init(0), MSet(0), MFind(MAX), Store(1, 2, 3), MNext(MAX)])
    assert ops == [Init(0), MSet(0), MFind(MAX), Store(1, 2, 3), MPause(),
                   MNext(MAX)]


def test_a_write_under_the_readers_lock_in_rcu_mode_keeps_the_state():
    ops = [Init(2), RLock(), MSet(0), MFind(MAX), Erase(5), MFind(MAX), RUnlock()]
    assert legalize(ops) == ops
    # ... but not outside RCU mode, where nodes are rewritten in place
    assert MPause() in legalize([Init(0), RLock(), MSet(0), MFind(MAX), Erase(5),
                                 MFind(MAX)])


def test_runlock_stales_the_state_and_the_lock_is_balanced():
    ops = legalize([Init(2), RUnlock(), RLock(), RLock(), MSet(0), MFind(MAX),
                    RUnlock(), MFind(MAX), RcuOn(), RLock(), Init(0)])
    assert ops == [Init(2), RLock(), MSet(0), MFind(MAX), RUnlock(), MPause(),
                   MFind(MAX), RcuOn(), RLock(), RUnlock()]


def test_sequences_are_deterministic_legal_and_parse_back():
    for seed in range(40):
        ops = reader_sequence(seed, 50, flags=seed % 4)
        assert ops == reader_sequence(seed, 50, flags=seed % 4)
        assert legalize(ops) == ops
        assert isinstance(ops[0], Init)
        assert count_calls(ops) >= 50
        assert parse_trace(format_trace(ops)) == ops
    kinds = {type(op) for seed in range(40) for op in reader_sequence(seed, 50,
                                                                      flags=0)}
    assert set(NAVIGATING) <= kinds


def test_a_batch_separates_sequences_with_a_fresh_tree_and_state():
    one, two = reader_sequence(1, 5, flags=2), reader_sequence(2, 5, flags=1)
    ops, starts = batch([one, two])
    assert ops[: len(one)] == one
    assert starts == [0, len(one) + 3]
    assert ops[len(one):len(one) + 3][1:] == [Init(1), ops[len(one) + 2]]
    assert ops[starts[1]:] == two[1:]
