"""Litmus tests: herd7's C dialect read, run on the harness, written back.

* :mod:`.parse`: the C litmus subset the harness reads;
* :mod:`.run`: a test as a harness program, every outcome a memory model
  allows enumerated with ``dfs``;
* :mod:`.herd`: finding and running herd7 with the kernel's
  tools/memory-model;
* :mod:`.export`: a finding's weak-memory pattern as a litmus test
  (``rcu-harness replay TRACE.json --litmus OUT.litmus``).
"""
