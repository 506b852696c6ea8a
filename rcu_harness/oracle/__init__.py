"""The kernel oracle: differential testing of the model against lib/maple_tree.c.

``build`` compiles the project's driver (``driver.c``) inside the kernel's
userspace test harness; ``ops`` is the operation vocabulary and its text
format; ``erase2`` converts the kernel's recorded erase2 sets and
``tracegen`` generates random traces; ``diff`` runs a trace through both the
driver and the Python model and reports the first divergence.
``FORMAT.md`` specifies the line format.
"""
