"""maple/ keeps the kernel's names: every kernel-prefixed function models one."""

import importlib
import inspect
import pkgutil
import re

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
