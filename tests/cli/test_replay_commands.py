"""Every printed replay command reproduces its finding, whatever options made
the run: the step bound, scenario parameters, the mutant, every strategy and
its parameters, the seed, a user's program (``--program``, with ``--set``
of its keyword parameters, and under dfs at an execution after the first,
which replay by seed must regenerate from the ones before).  Each command
is run as printed (the words after the harness's own name) and must fail
the same way, with the event stream of the trace-file replay, and print
the report headline the run recorded: the checker's own rendering of the
finding's kind (``BUG: per-VMA lock violated`` for ``vma-lock``), so no
test keeps a second spelling of the kinds."""

import re

import pytest

from rcu_harness.trace.tracefile import load_trace
from tests.cli.helpers import cli, command_args, stress_json

CASES = {
    "max-steps": ("--scenario", "mmput_race", "--set", "vmas=2", "--max-steps",
                  "100"),
    "set-random-seed": ("--mutant", "free-without-grace-period", "--set", "vmas=8",
                        "--strategy", "random", "--seed", "2"),
    "pct-depth": ("--mutant", "gp-ignores-readers", "--strategy", "pct",
                  "--strategy-param", "depth=2", "--seed", "3"),
    "mix-steps": ("--mutant", "resume-without-pause", "--strategy", "mix",
                  "--strategy-param", "steps=50"),
    "dfs-bound": ("--mutant", "resume-without-pause", "--strategy", "dfs",
                  "--strategy-param", "preemption_bound=1"),
    "rff-later-epoch": ("--mutant", "vma-used-after-rcu-unlock", "--strategy",
                        "rff"),
    "pct-sync-depth": ("--mutant", "vma-freed-without-rcu", "--strategy",
                       "pct-sync", "--strategy-param", "depth=4", "--seed", "1"),
    "random-sync-points": ("--mutant", "vma-used-after-rcu-unlock",
                           "--strategy", "random-sync", "--strategy-param",
                           "points=field", "--seed", "2"),
    "pct-site-points": ("--mutant", "vma-freed-without-rcu", "--strategy",
                        "pct-site", "--strategy-param", "points=access", "--seed",
                        "1"),
    "aimed-depth": ("--mutant", "vma-freed-without-rcu", "--strategy", "aimed",
                    "--strategy-param", "depth=4", "--seed", "3"),
    "aimed-surw-interesting": ("--mutant", "vma-freed-without-rcu", "--strategy",
                               "aimed-surw", "--strategy-param",
                               "interesting=accesses", "--seed", "3"),
    "aimed-site-sites": ("--mutant", "vma-freed-without-rcu", "--strategy",
                         "aimed-site", "--strategy-param", "sites=9", "--seed",
                         "2"),
    "default-vma-lock": ("--mutant", "vma-reuse-skips-mm-check", "--seed", "7"),
    "aimed-relay-sites": ("--mutant", "vma-freed-without-rcu", "--strategy",
                          "aimed-relay", "--strategy-param", "sites=9", "--seed",
                          "2"),
    "aimed-stale-reads": ("--mutant", "vma-freed-without-rcu", "--strategy",
                          "aimed-stale", "--strategy-param", "reads=uniform",
                          "--seed", "2"),
    "aimed-pct-fallback": ("--mutant", "destroy-frees-at-once", "--strategy",
                           "aimed-pct", "--strategy-param", "fallback=sync",
                           "--seed", "2"),
    "default-below-two-sites": ("--mutant", "destroy-frees-at-once", "--seed",
                                "15"),
    "default-one-reader-site": ("--mutant", "vma-used-after-rcu-unlock", "--seed",
                                "3"),
    "aimed-rcu-stall-in": ("--mutant", "vma-reuse-skips-mm-check", "--strategy",
                           "aimed-rcu", "--strategy-param", "stall_in=any",
                           "--seed", "2"),
    "default-weak": ("--mutant", "dead-mark-no-wmb", "--seed", "1"),
    "default-conflict-words": ("--mutant", "maps-skips-gap-check", "--seed", "2"),
    "aimed-class-site": ("--mutant", "maps-skips-gap-check", "--strategy",
                         "aimed-class", "--seed", "2"),
    "aimed-class-given": ("--mutant", "vma-reuse-skips-mm-check", "--strategy",
                          "aimed-class", "--strategy-param", "program_class=other",
                          "--seed", "2"),
    "pct-site-reads": ("--mutant", "vma-start-read-refcount-relaxed", "--strategy",
                       "pct-site", "--strategy-param", "reads=oldest", "--seed",
                       "1"),
    "pct-relay-hold": ("--mutant", "vma-freed-without-rcu", "--strategy",
                       "pct-relay", "--strategy-param", "hold=2", "--seed", "1"),
    "program-set": ("--program", "tests.programs.sessions:program", "--seed", "1",
                    "--set", "readers=3"),
    "program-dfs-history": ("--program", "tests.programs.sessions:program",
                            "--strategy", "dfs", "--strategy-param",
                            "preemption_bound=1"),
}


def _digest(text):
    return re.search(r"events digest ([0-9a-f]{32})", text).group(1)


def _named(argv):
    """The options of @argv a replay command must carry (KEY VALUE pairs)."""
    pairs = [(argv[i], argv[i + 1]) for i in range(0, len(argv) - 1)
             if argv[i].startswith("--")]
    return [f"{k} {v}" for k, v in pairs
            if k in ("--set", "--strategy-param", "--max-steps", "--mutant",
                     "--strategy", "--seed", "--program")
            and (k, v) != ("--seed", "0")]


@pytest.mark.parametrize("argv", list(CASES.values()), ids=list(CASES))
def test_every_printed_replay_command_reproduces_its_finding(capsys, tmp_path,
                                                             argv):
    code, out = stress_json(capsys, tmp_path, *argv, "--executions", "300")
    assert code == 1, out
    f = out["findings"][0]
    recorded = load_trace(f["trace"], check_fingerprint=False).finding
    assert recorded is not None
    assert recorded.kind == f["kind"]
    headline = recorded.report.splitlines()[0]
    for option in _named(argv):
        assert option in f["replay"], (option, f["replay"])
    code, by_trace, err = cli(capsys, *command_args(f["replay_trace"]))
    assert code == 1, err
    assert "The event stream matches the trace's" in by_trace
    assert "the trace recorded" not in err  # the same signature: kind and key
    assert by_trace.splitlines()[0] == headline
    code, by_seed, err = cli(capsys, *command_args(f["replay"]))
    assert code == 1, err
    assert f"Execution {f['first_execution']}," in by_seed
    assert _digest(by_seed) == _digest(by_trace)
    assert by_seed.splitlines()[0] == headline
