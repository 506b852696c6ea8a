"""Campaign results on disk (see :mod:`rcu_harness.store.runstore`)."""

from rcu_harness.store.runstore import FORMAT_VERSION as FORMAT_VERSION
from rcu_harness.store.runstore import Batch as Batch
from rcu_harness.store.runstore import ExecutionRow as ExecutionRow
from rcu_harness.store.runstore import FindingRow as FindingRow
from rcu_harness.store.runstore import RunStore as RunStore
from rcu_harness.store.runstore import SampleChunk as SampleChunk
from rcu_harness.store.runstore import StoreError as StoreError
from rcu_harness.store.runstore import Totals as Totals
from rcu_harness.store.runstore import chunk_arrays as chunk_arrays

__all__ = ["FORMAT_VERSION", "Batch", "ExecutionRow", "FindingRow", "RunStore",
           "SampleChunk", "StoreError", "Totals", "chunk_arrays"]
