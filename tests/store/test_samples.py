"""Each stored sample name's dtype and shape, and arrays made of executions'
plain lists by them."""

import numpy as np

from rcu_harness.runtime.metrics import RCU_SAMPLES
from rcu_harness.store.samples import (
    FLOAT,
    INT,
    ROWS,
    SAMPLE_KINDS,
    sample_kind,
    to_array,
)


def test_every_sample_name_has_the_kind_its_family_gives():
    kinds = dict(SAMPLE_KINDS)
    assert sample_kind("span.dup_mmap.store.steps") == kinds["span.<name>.steps"]
    assert sample_kind("span.reader.walk.ns") == kinds["span.<name>.ns"]
    assert sample_kind("span.reader.walk.restarts") == kinds["span.<name>.<key>"]
    assert sample_kind("value.rcu.gp_steps") == kinds["value.<name>"]
    assert sample_kind("cover.leaf.writer.store.wr_node_store") \
        == kinds["cover.<level>.<span>.<store>"]
    for key in RCU_SAMPLES:
        assert sample_kind(key) == kinds[key]
    assert {kind for _, kind in SAMPLE_KINDS} == {INT, FLOAT, ROWS}
    assert to_array("rcu.waiting", ([],)).shape == (0, 2)
    assert to_array("span.x.restarts", ([1, 2],)).dtype == np.float64
    assert to_array("span.x.steps", ([1], [2])).tolist() == [1, 2]
