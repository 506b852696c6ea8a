"""``python -m rcu_harness``: the command line (see :mod:`rcu_harness.cli`)."""

import sys

from rcu_harness.cli import main

if __name__ == "__main__":
    sys.exit(main())
