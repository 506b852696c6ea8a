#!/usr/bin/env bash
# Regenerate the command outputs shown in README.md and docs/.
#
# Usage: stress/doc_examples.sh [OUT_DIR]      (default /tmp/rcu-harness-doc-examples)
#
# Runs every command the documentation shows, from the repository root with
# the worktree's .venv/bin first on PATH, and writes one file per example into
# OUT_DIR, each in the documentation's form:
#
#     $ command
#     output (stdout and stderr interleaved as a terminal would show them)
#     [exit N]
#
# Runs go to reports/runs/ (git-ignored), as a user's would.  The only edit
# made to the output is the checkout's absolute path, replaced by
# /path/to/rcu-harness.
# Then `python stress/doc_fill.py OUT_DIR` puts each output into its block of
# the docs, cut where the docs mark cuts with "…"; check the prose that quotes
# numbers from the outputs.  A few minutes on a quiet machine, about fifteen
# on the shared 2-core VM under load; timings and rates differ from run to
# run, everything else is deterministic.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${1:-/tmp/rcu-harness-doc-examples}
RUNS=reports/runs
export PATH="$ROOT/.venv/bin:$PATH"
mkdir -p "$OUT" "$RUNS"

# ex NAME COMMAND...: run COMMAND through bash, write "$ COMMAND", its output
# and "[exit N]" to OUT/NAME.txt (appending: several commands may share a file).
ex() {
    local name=$1; shift
    {
        echo "\$ $*"
        bash -c "$*" 2>&1
        echo "[exit $?]"
    } | sed "s#$ROOT#/path/to/rcu-harness#g" >>"$OUT/$name.txt"
}

# last_run PATTERN: the newest run directory under RUNS matching PATTERN
last_run() { ls -d "$RUNS"/*"$1" | sort | tail -1; }

rm -f "$OUT"/*.txt

# -- README: a seeded bug found and replayed (default --out, as a newcomer runs it)
ex readme 'rcu-harness stress --mutant gp-ignores-readers'
trace=$(ls "$(last_run -rcu_transitions-gp-ignores-readers-aimed-data)"/findings/*.json | head -1)
ex readme "rcu-harness replay $trace"

# -- list
ex list 'rcu-harness list scenarios'
ex list 'rcu-harness list strategies'
ex list 'rcu-harness list mutants'

# -- stress: the default job, a mutant, --keep-going --json on two processes
ex stress-default "rcu-harness stress"
ex stress-json "rcu-harness stress --scenario rcu_transitions --mutant free-without-grace-period --strategy random --executions 200 --keep-going --jobs 2 --json"

# -- interrupt (SIGINT to the process group after 5 s, as Ctrl-C does) and resume
{
    cmd="rcu-harness stress --scenario dup_mmap --strategy random --executions 100000 --time 0 --jobs 2"
    echo "\$ $cmd"
    set -m
    bash -c "$cmd" 2>&1 &
    pid=$!
    sleep 5
    kill -INT -- "-$pid"
    echo "^C   (after 5 seconds)"
    wait "$pid"
    echo "[exit $?]"
    set +m
} | sed "s#$ROOT#/path/to/rcu-harness#g" >>"$OUT/stress-resume.txt"
ex stress-resume "rcu-harness stress --resume $(last_run -dup_mmap-random) --executions 3000"

# -- replay --events and --minimize of the README's finding
trace=$(ls "$(last_run -rcu_transitions-gp-ignores-readers-aimed-data)"/findings/*.json | head -1)
args=$(grep -o 'rcu-harness replay --scenario.*' "$OUT/readme.txt" | head -1)
ex replay-events "rcu-harness replay ${args#rcu-harness replay } --events | head -12"
rm -f ./*.min.json
ex replay-minimize "rcu-harness replay $trace --minimize"
mv ./*.min.json "$RUNS"/ 2>/dev/null

# -- the finding shown in the README and in docs/finding-reports.md
ex finding-stress "rcu-harness stress --mutant free-without-grace-period"
trace=$(ls "$(last_run -rcu_transitions-free-without-grace-period-aimed-data)"/findings/*.json | head -1)
ex finding "rcu-harness replay $trace"

# -- other finding kinds: lockdep-RCU, an inconsistent reader result, a leak
for mutant in reader-without-rcu-lock publish-before-fill error-path-skips-destroy; do
    ex "kind-$mutant" "rcu-harness stress --mutant $mutant --quiet"
    trace=$(ls "$(last_run "-$mutant-aimed-data")"/findings/*.json | head -1)
    ex "kind-$mutant" "rcu-harness replay $trace"
done

# -- a node's metadata word taken for an entry (rff seed 4: its first execution)
ex kind-resume-without-pause "rcu-harness stress --mutant resume-without-pause --strategy rff --seed 4 --quiet"
trace=$(ls "$(last_run -resume-without-pause-rff)"/findings/*.json | head -1)
ex kind-resume-without-pause "rcu-harness replay $trace"

# -- docs/scenarios-and-mutants.md: child_visible_early
ex scenario-cve 'rcu-harness stress --scenario dup_mmap --set child_visible_early=true --quiet'

# -- bad input
ex errors 'rcu-harness stress --scenario dup_map'
ex errors 'rcu-harness stress --scenario mmput_race --set vmas=0'
ex errors 'rcu-harness stress --seed -1'
ex errors 'rcu-harness stress --jobs two'
ex errors 'rcu-harness stress stress/nope.toml'
ex errors 'rcu-harness stress --out /etc/passwd'
head -c 300 "$(ls "$(last_run -rcu_transitions-free-without-grace-period-aimed-data)"/findings/*.json | head -1)" >/tmp/cut.json
ex errors "rcu-harness replay /tmp/cut.json"
ex errors 'rcu-harness report /tmp'

# -- reports: a clean run, a buggy run of the same seed and size, the comparison
ex report-stress "rcu-harness stress --scenario dup_mmap --strategy random --seed 1 --executions 200 --time 0 --quiet"
ex report "rcu-harness report $(last_run -dup_mmap-random)"
ex report-buggy "rcu-harness stress --scenario rcu_transitions --mutant gp-ignores-readers --strategy random --seed 1 --executions 200 --time 0 --keep-going --quiet"
ex report-buggy "rcu-harness report $(last_run -rcu_transitions-gp-ignores-readers-random)"
ex report-clean "rcu-harness stress --scenario rcu_transitions --strategy random --seed 1 --executions 200 --time 0 --quiet"
ex report-compare "rcu-harness report $(last_run -rcu_transitions-gp-ignores-readers-random) --compare $(last_run -rcu_transitions-random)"
ex report-html "rcu-harness report $(last_run -rcu_transitions-gp-ignores-readers-random) --html"

ls "$OUT"
