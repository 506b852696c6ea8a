"""Campaign results on disk (see :mod:`rcu_harness.store.runstore`)."""

from rcu_harness.store.runstore import (
    FORMAT_VERSION as FORMAT_VERSION,
)
from rcu_harness.store.runstore import (
    ExecutionRow as ExecutionRow,
)
from rcu_harness.store.runstore import (
    FindingRow as FindingRow,
)
from rcu_harness.store.runstore import (
    RunStore as RunStore,
)
from rcu_harness.store.runstore import (
    StoreError as StoreError,
)
from rcu_harness.store.runstore import (
    chunk_arrays as chunk_arrays,
)

__all__ = ["FORMAT_VERSION", "ExecutionRow", "FindingRow", "RunStore", "StoreError",
           "chunk_arrays"]
