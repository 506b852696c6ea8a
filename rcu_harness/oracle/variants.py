"""Oracle variants: the driver built against a patched copy of lib/maple_tree.c.

A candidate kernel fix (:mod:`rcu_harness.known.fixes`) or a mutant's defect
(:mod:`rcu_harness.oracle.confirm`) is applied to a copy of the file, kept
beside the original in the kernel tree's ``lib/`` so that its own includes
resolve, and the driver (or a C reproducer) includes the copy instead
(``-DMAPLE_TREE_C``).  Copies and binaries are keyed on the patched text.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from rcu_harness.oracle.build import (
    HARNESS_DIR,
    OracleInfo,
    OracleUnavailable,
    compile_driver,
    ensure_oracle,
    locked,
    read_record,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def tree_source(info: OracleInfo) -> Path:
    """The kernel's lib/maple_tree.c in the oracle's source tree."""
    return info.source_dir / "lib" / "maple_tree.c"


def variant_source(name: str, patch: Callable[[str], str]) -> Path:
    """Write lib/maple_tree.c as @patch rewrites it beside the original.

    The copy is ``lib/maple_tree.<name>-<sha>.c`` (in lib/, so that its own
    includes resolve); an existing copy is reused.

    Raises:
        OracleUnavailable: the oracle cannot be built, or @patch raised
            ValueError (its message is the reason).
    """
    ensure_oracle()
    info = read_record()
    if info is None:  # pragma: no cover - ensure_oracle() wrote it
        raise OracleUnavailable("the oracle build left no record")
    try:
        patched = patch(tree_source(info).read_text())
    except ValueError as err:
        raise OracleUnavailable(str(err)) from None
    sha = hashlib.sha256(patched.encode()).hexdigest()[:12]
    label = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    source = tree_source(info).with_name(f"maple_tree.{label}-{sha}.c")
    if not source.is_file():
        tmp = source.with_suffix(".tmp")
        tmp.write_text(patched)
        tmp.rename(source)
    return source


def ensure_variant(name: str, patch: Callable[[str], str], *,
                   verbose: bool = False) -> Path:
    """A driver built against lib/maple_tree.c as @patch rewrites it.

    @name labels the files (:func:`variant_source`,
    ``driver-<sha>-<name>-<sha>``); the binary is keyed on driver.c and the
    patched source, so an edited patch rebuilds it.

    Raises:
        OracleUnavailable: as :func:`variant_source`, or the build fails.
    """
    source = variant_source(name, patch)
    info = read_record()
    assert info is not None
    binary = info.binary.with_name(f"{info.binary.name}-{source.stem[11:]}")
    with locked(info.cache_dir / "build.lock"):
        if not binary.is_file():
            harness = info.source_dir / HARNESS_DIR
            compile_driver(harness, binary, verbose, tree_source=source)
    return binary
