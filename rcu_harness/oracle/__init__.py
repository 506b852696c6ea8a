"""The kernel oracle: differential testing of the model against lib/maple_tree.c.

``build`` compiles the project's driver (``driver.c``) inside the kernel's
userspace test harness, also from patched copies of lib/maple_tree.c;
``ops`` is the operation vocabulary and its text format; ``erase2``
converts the kernel's recorded erase2 sets and ``tracegen`` generates random
write traces; ``reader`` is the model side of the reader API, ``readgen``
and ``readrun`` generate and run reader-API sequences; ``diff`` runs a trace
through both the driver and the Python model and reports the first
divergence, ``agree`` counts catalogued kernel bugs as agreement;
``record``, ``confirm`` and ``emit`` confirm a finding of the model on the
real code with a C reproducer.  ``FORMAT.md`` specifies the line format.
"""
