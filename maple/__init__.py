"""A faithful Python model of the Linux kernel maple tree (lib/maple_tree.c).

Pinned kernel: Linux 6.12.117 (Debian ``linux-source-6.12`` 6.12.117-1~deb12u1),
``lib/maple_tree.c`` and ``include/linux/maple_tree.h``.
"""

KERNEL_VERSION = "6.12.117"
KERNEL_SOURCE = "Debian linux-source-6.12 6.12.117-1~deb12u1"
