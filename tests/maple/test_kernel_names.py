"""maple/ keeps the kernel's names: every kernel-prefixed function models one."""

import ast
import importlib
import inspect
import pkgutil
import re
import textwrap

import pytest

import maple

KERNEL_PREFIXES = ("mas_", "mte_", "ma_", "mt_", "mtree_", "mab_", "mast_", "mat_",
                   "__mt_")
MODEL_ONLY = {"mt_dump_canonical", "mt_accounting"}


def kernel_named_functions():
    for info in pkgutil.iter_modules(maple.__path__):
        module = importlib.import_module(f"maple.{info.name}")
        for name, fn in vars(module).items():
            if (inspect.isfunction(fn) and fn.__module__ == module.__name__
                    and fn.__name__ == name  # aliases are checked under their name
                    and name.startswith(KERNEL_PREFIXES) and name not in MODEL_ONLY):
                yield module.__name__, name, fn


def test_every_kernel_named_function_says_which_kernel_function_it_models():
    missing = [f"{mod}.{name}" for mod, name, fn in kernel_named_functions()
               if not re.search(rf"Model of (\S+:)?{re.escape(name)}\(",
                                fn.__doc__ or "")]
    assert missing == []


def test_there_are_many_modelled_functions():
    assert sum(1 for _ in kernel_named_functions()) > 150


def test_pinned_kernel_version_is_named():
    assert maple.KERNEL_VERSION == "6.12.117"
    assert "linux-source-6.12" in maple.KERNEL_SOURCE


@pytest.fixture(scope="module")
def kernel_source():
    """lib/maple_tree.c of the pinned kernel (fetched by the oracle's build)."""
    from rcu_harness.oracle.build import OracleUnavailable, build_oracle, read_record

    record = read_record()
    if record is None or not (record.source_dir / "lib" / "maple_tree.c").is_file():
        try:
            record = build_oracle()
        except OracleUnavailable as err:
            pytest.skip(err.reason)
    return (record.source_dir / "lib" / "maple_tree.c").read_text()


def _kernel_body(source, name):
    m = re.search(r"\n[^\n;]*\b" + re.escape(name) + r"\([^)]*\)\s*\n\{", source)
    if m is None:
        return None
    depth, i = 0, m.end() - 1
    while True:
        depth += {"{": 1, "}": -1}.get(source[i], 0)
        if depth == 0:
            return source[m.start():i]
        i += 1


def _node_type_names(fn):
    """Names @fn uses for a node type (enum maple_type): mtype, or mt when it
    is an int parameter or taken from an encoded node (enode[1])."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.arg in ("mt", "mtype") and \
                node.annotation is not None and ast.unparse(node.annotation) == "int":
            out.add(node.arg)
        targets = node.targets if isinstance(node, ast.Assign) else []
        for t in targets:
            for name in ast.walk(t):
                if isinstance(name, ast.Name) and name.id == "mtype":
                    out.add("mtype")
                elif isinstance(name, ast.Name) and name.id == "mt" and (
                        isinstance(node.value, ast.Subscript)
                        and ast.unparse(node.value.slice) == "1"):
                    out.add("mt")
    return out


def test_node_type_variables_keep_the_kernels_names(kernel_source):
    """The kernel calls an enum maple_type ``type`` in some functions and
    ``mt`` in others; the model says ``mtype`` for the first (``type`` is a
    Python builtin) and ``mt`` for the second, function by function."""
    wrong = []
    for mod, name, fn in kernel_named_functions():
        body = _kernel_body(kernel_source, name)
        if body is None:
            continue
        kernel = set(re.findall(r"enum maple_type\s+(\w+)", body))
        for model in _node_type_names(fn):
            want = "type" if model == "mtype" else "mt"
            if kernel and want not in kernel:
                wrong.append(f"{mod}.{name}: the model says {model}, the kernel "
                             f"{' / '.join(sorted(kernel))}")
    assert wrong == []
