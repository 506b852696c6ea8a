"""Fixtures of the cluster tests: a hand-started scheduler with two workers."""

import pytest

from tests.cluster.procs import DaskProcs


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` and two single-threaded ``dask worker`` processes on
    127.0.0.1, for the tests of one module."""
    procs = DaskProcs(tmp_path_factory.mktemp("dask"))
    try:
        procs.scheduler()
        procs.worker("w1")
        procs.worker("w2")
        procs.wait_for_workers(2)
        yield procs
    finally:
        procs.close()
