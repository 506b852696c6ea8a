from rcu_harness.testing import check
from tests.programs.sessions import program


@check(executions=200, seed=1, expect="use-after-free")
def test_the_planted_bug_is_found(h):
    program(h)


@check(executions=200, seed=1)
def test_the_correct_writer_is_clean(h):
    program(h, planted_bug=False)
