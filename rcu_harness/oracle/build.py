"""Build the kernel oracle: the real lib/maple_tree.c behind the project's driver.

:func:`ensure_oracle` returns the path of the compiled driver
(``driver.c``), doing only the steps not already cached:

1. check the platform (Debian, ``apt-get``, ``dpkg-deb``, ``make``, ``gcc``)
   and install ``liburcu-dev`` if ``urcu.h`` is missing (root only);
2. ``apt-get download linux-source-6.12`` (the pinned version first) into
   the cache (``~/.cache/rcu-harness/kernel-oracle/``, or
   ``$RCU_HARNESS_CACHE``);
3. extract only what the userspace test harness needs from the tarball in
   the package;
4. ``make maple`` in ``tools/testing/radix-tree`` (builds the harness
   objects and the kernel's own ``maple`` test binary);
5. compile ``driver.c`` with the Makefile's ``CFLAGS`` and link it the way
   the Makefile links ``maple`` (``LDFLAGS``, ``LDLIBS``), against the
   Makefile's ``SHARED_OFILES``: the driver includes lib/maple_tree.c itself
   and replaces ``maple.o``; the other ``CORE_OFILES`` (``xarray.o``,
   ``test.o``) hold only test code.  The binary is keyed on the kernel
   version and the sha256 of ``driver.c``.

A file lock keeps two processes (pytest workers) from building at once.
Every failure is an :class:`OracleUnavailable` with a one-line reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

PACKAGE = "linux-source-6.12"
PINNED_VERSION = "6.12.117-1~deb12u1"
"""The version the Python model was written against (maple/__init__.py)."""
TARBALL = f"usr/src/{PACKAGE}.tar.xz"
TOP = PACKAGE
"""The top directory inside the source tarball."""
CACHE_ENV = "RCU_HARNESS_CACHE"
DRIVER_SOURCE = Path(__file__).with_name("driver.c")
HARNESS_DIR = "tools/testing/radix-tree"

EXTRACT_PATHS = (
    "tools/testing/radix-tree",
    "tools/testing/shared",
    "tools/include",
    "tools/lib",
    "tools/arch/x86/include",
    "include",
    "lib/maple_tree.c",
    "lib/test_maple_tree.c",
    "lib/xarray.c",
    "lib/test_xarray.c",
    "lib/radix-tree.c",
    "lib/radix-tree.h",
    "lib/idr.c",
    "lib/test_ida.c",
)
"""What the userspace harness reads from the kernel tree (nothing else)."""


_PRINT_VAR_MAKEFILE = "print-%:\n\t@echo '$($*)'\n"


class OracleUnavailable(Exception):
    """The oracle cannot be built here; ``reason`` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OracleInfo:
    """Where the oracle's parts are and what they were built from."""

    binary: Path
    cache_dir: Path
    deb: Path
    package: str
    version: str
    source_dir: Path
    driver_sha256: str
    cflags: str


# -- small helpers ---------------------------------------------------------------


def cache_dir() -> Path:
    """The cache directory ($RCU_HARNESS_CACHE or ~/.cache/...)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "rcu-harness" / "kernel-oracle"


def _log(verbose: bool, message: str) -> None:
    """Print a progress message when @verbose."""
    if verbose:
        print(f"[oracle] {message}", flush=True)  # noqa: T201


def _last_line(text: str) -> str:
    """The last non-empty line of @text (for one-line error reasons)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def _run(argv: list[str], what: str, *, cwd: Path | None = None,
         verbose: bool = False) -> str:
    """Run @argv; return its stdout, or raise OracleUnavailable naming @what."""
    _log(verbose, "$ " + " ".join(argv))
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                              check=False)
    except OSError as err:
        raise OracleUnavailable(f"{what} failed: {err}") from None
    if proc.returncode != 0:
        detail = _last_line(proc.stderr or proc.stdout)
        raise OracleUnavailable(f"{what} failed: {detail}")
    return proc.stdout


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on @path for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def driver_sha256() -> str:
    """The sha256 of driver.c, which keys the driver binary."""
    return hashlib.sha256(DRIVER_SOURCE.read_bytes()).hexdigest()


# -- step 1: the platform ----------------------------------------------------------


def check_platform() -> None:
    """Raise OracleUnavailable unless this is a Debian system with the tools."""
    if not Path("/etc/debian_version").is_file():
        raise OracleUnavailable("not a Debian system")
    for tool in ("apt-get", "dpkg-deb", "tar", "make"):
        if shutil.which(tool) is None:
            raise OracleUnavailable(f"{tool} not found")
    if shutil.which(os.environ.get("CC", "gcc")) is None:
        raise OracleUnavailable("no C compiler (gcc) found")


def urcu_present() -> bool:
    """Is liburcu's urcu.h visible to the compiler?"""
    if any(Path(d, "urcu.h").is_file() for d in ("/usr/include",
                                                 "/usr/local/include")):
        return True
    return any(Path("/usr/include").glob("*/urcu.h"))


def ensure_urcu(verbose: bool) -> None:
    """Install liburcu-dev with apt-get when urcu.h is missing (root only)."""
    if urcu_present():
        return
    if os.geteuid() != 0:
        raise OracleUnavailable(
            "liburcu-dev missing and cannot be installed (not root)")
    _log(verbose, "installing liburcu-dev")
    install = ["apt-get", "install", "-y", "--no-install-recommends",
               "liburcu-dev"]
    try:
        _run(install, "apt-get install liburcu-dev", verbose=verbose)
    except OracleUnavailable:
        _run(["apt-get", "update"], "apt-get update", verbose=verbose)
        _run(install, "apt-get install liburcu-dev", verbose=verbose)
    if not urcu_present():
        raise OracleUnavailable("liburcu-dev installed but urcu.h not found")


# -- step 2: the source package ------------------------------------------------------


def deb_version(deb: Path) -> str:
    """The Version field of a .deb."""
    return _run(["dpkg-deb", "-f", str(deb), "Version"],
                f"dpkg-deb -f {deb.name}").strip()


def cached_deb(debs: Path) -> Path | None:
    """A previously downloaded package: the pinned version if there, else any."""
    found = sorted(debs.glob(f"{PACKAGE}_*.deb"))
    for deb in found:
        if deb.name.startswith(f"{PACKAGE}_{PINNED_VERSION}_".replace(":", "%3a")):
            return deb
    return found[-1] if found else None


def download_deb(debs: Path, verbose: bool) -> Path:
    """apt-get download the source package (pinned version first)."""
    debs.mkdir(parents=True, exist_ok=True)
    attempts = [f"{PACKAGE}={PINNED_VERSION}", PACKAGE]
    errors: list[str] = []
    for update in (False, True):
        if update:
            if os.geteuid() != 0:
                break
            with contextlib.suppress(OracleUnavailable):
                _run(["apt-get", "update"], "apt-get update", verbose=verbose)
        for spec in attempts:
            try:
                _run(["apt-get", "download", spec], f"apt-get download {spec}",
                     cwd=debs, verbose=verbose)
            except OracleUnavailable as err:
                errors.append(err.reason)
                continue
            deb = cached_deb(debs)
            if deb is not None:
                return deb
    raise OracleUnavailable(errors[-1] if errors else
                            f"apt-get download {PACKAGE} failed: no .deb")


# -- step 3: the sources the harness needs ------------------------------------------


def extract_sources(deb: Path, dest: Path, verbose: bool) -> None:
    """Extract only EXTRACT_PATHS of the kernel tarball in @deb into @dest."""
    marker = dest / ".extracted"
    if marker.is_file():
        return
    _log(verbose, f"extracting the harness sources from {deb.name}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix="extract-") as tmp:
        tmpdir = Path(tmp)
        _run(["dpkg-deb", "-x", str(deb), str(tmpdir / "deb")],
             f"dpkg-deb -x {deb.name}", verbose=verbose)
        tarball = tmpdir / "deb" / TARBALL
        if not tarball.is_file():
            raise OracleUnavailable(f"{deb.name} has no {TARBALL}")
        members = [f"{TOP}/{p}" for p in EXTRACT_PATHS]
        _run(["tar", "-xJf", str(tarball), "-C", str(tmpdir), *members],
             f"extracting {TARBALL}", verbose=verbose)
        if dest.exists():
            shutil.rmtree(dest)
        (tmpdir / TOP).rename(dest)
    marker.write_text(deb.name + "\n")


# -- steps 4 and 5: the harness objects and the driver ---------------------------------


def make_harness(harness: Path, verbose: bool) -> None:
    """Run ``make maple`` in tools/testing/radix-tree unless already built."""
    if (harness / "maple").is_file():
        return
    jobs = str(os.cpu_count() or 1)
    _log(verbose, "make maple (the harness objects)")
    _run(["make", f"-j{jobs}", "maple"], f"make maple in {HARNESS_DIR}",
         cwd=harness, verbose=verbose)


def make_variable(harness: Path, name: str) -> str:
    """The value of a variable of the harness Makefile, as make expands it."""
    with tempfile.NamedTemporaryFile("w", suffix=".mk", delete=False) as mk:
        mk.write(_PRINT_VAR_MAKEFILE)
    try:
        out = _run(["make", "-s", "--no-print-directory", "-f", "Makefile",
                    "-f", mk.name, f"print-{name}"],
                   f"reading {name} from the harness Makefile", cwd=harness)
    finally:
        os.unlink(mk.name)
    return " ".join(out.split())


def compile_driver(harness: Path, binary: Path, verbose: bool,
                   tree_source: Path | None = None) -> str:
    """Compile and link driver.c in @harness into @binary; return the CFLAGS.

    @tree_source, if given, is a patched copy of lib/maple_tree.c (in the
    kernel's lib/ directory, so that its own includes resolve) that the
    driver includes instead of the original.
    """
    return compile_source(harness, DRIVER_SOURCE, binary, verbose,
                          tree_source=tree_source)


def compile_source(harness: Path, source: Path, binary: Path, verbose: bool,
                   tree_source: Path | None = None) -> str:
    """Compile and link @source (driver.c or a reproducer) as compile_driver()."""
    cflags = make_variable(harness, "CFLAGS")
    define = [f'-DMAPLE_TREE_C="{tree_source}"'] if tree_source else []
    ldflags = make_variable(harness, "LDFLAGS")
    ldlibs = make_variable(harness, "LDLIBS")
    ofiles = make_variable(harness, "SHARED_OFILES")
    cc = os.environ.get("CC", "gcc")
    binary.parent.mkdir(parents=True, exist_ok=True)
    _log(verbose, f"compiling {source.name}")
    with tempfile.TemporaryDirectory(dir=binary.parent) as tmp:
        obj = Path(tmp) / "driver.o"
        out = Path(tmp) / "driver"
        _run([cc, *cflags.split(), *define, "-c", str(source), "-o", str(obj)],
             f"compiling {source.name}", cwd=harness, verbose=verbose)
        _run([cc, *ldflags.split(), str(obj), *ofiles.split(), *ldlibs.split(),
              "-o", str(out)], "linking the driver", cwd=harness,
             verbose=verbose)
        out.rename(binary)
    return cflags


# -- the whole thing ---------------------------------------------------------------


def _binary_path(root: Path, version: str, sha: str) -> Path:
    """Where the driver built from driver.c with hash @sha lives."""
    return root / "bin" / version / f"driver-{sha[:16]}"


def _record_path(root: Path) -> Path:
    """The JSON file that records the last build."""
    return root / "oracle.json"


def read_record() -> OracleInfo | None:
    """The recorded build, if the cache has one."""
    path = _record_path(cache_dir())
    try:
        data = json.loads(path.read_text())
        paths = {"binary", "cache_dir", "deb", "source_dir"}
        fields: dict[str, Any] = {k: Path(v) if k in paths else v
                                  for k, v in data.items()}
        return OracleInfo(**fields)
    except (OSError, ValueError, TypeError):
        return None


def _write_record(info: OracleInfo) -> None:
    """Record @info in the cache (atomically)."""
    path = _record_path(info.cache_dir)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({k: str(v) for k, v in asdict(info).items()},
                              indent=2) + "\n")
    tmp.rename(path)


def build_oracle(*, verbose: bool = False) -> OracleInfo:
    """Do every step not done yet (under the build lock) and describe the result."""
    root = cache_dir()
    sha = driver_sha256()
    check_platform()
    ensure_urcu(verbose)
    with locked(root / "build.lock"):
        deb = cached_deb(root / "debs") or download_deb(root / "debs", verbose)
        version = deb_version(deb)
        source = root / "src" / version / TOP
        extract_sources(deb, source, verbose)
        harness = source / HARNESS_DIR
        make_harness(harness, verbose)
        binary = _binary_path(root, version, sha)
        record = read_record()
        cflags = record.cflags if record and record.binary == binary else ""
        if not binary.is_file():
            started = time.monotonic()
            cflags = compile_driver(harness, binary, verbose)
            _log(verbose, f"driver built in {time.monotonic() - started:.1f} s")
        info = OracleInfo(binary=binary, cache_dir=root, deb=deb, package=PACKAGE,
                          version=version, source_dir=source,
                          driver_sha256=sha, cflags=cflags)
        _write_record(info)
    return info


def ensure_oracle(*, verbose: bool = False) -> Path:
    """The path of the compiled driver, building whatever is missing.

    Raises:
        OracleUnavailable: with a one-line reason when it cannot be built.
    """
    record = read_record()
    if (record is not None and record.driver_sha256 == driver_sha256()
            and record.binary.is_file()):
        return record.binary
    return build_oracle(verbose=verbose).binary
