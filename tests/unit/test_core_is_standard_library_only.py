"""order_core depends on the standard library only."""

from __future__ import annotations

import ast
import subprocess
import sys
import sysconfig
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "src" / "order_core"
ALLOWED = set(sys.stdlib_module_names) | {"order_core", "__future__"}


def test_no_module_of_order_core_imports_outside_the_standard_library() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [
                f"{path.relative_to(CORE)}:{node.lineno} imports {name}"
                for name in names
                if name.split(".")[0] not in ALLOWED
            ]
    assert offenders == []


def test_every_module_imports_with_nothing_but_the_standard_library_on_the_path() -> None:
    stdlib = sysconfig.get_paths()["stdlib"]
    script = f"""
import sys, pkgutil, importlib
sys.path[:] = [{str(CORE.parent)!r}, {stdlib!r}, {stdlib + "/lib-dynload"!r}]
import order_core
for module in pkgutil.walk_packages(order_core.__path__, "order_core."):
    importlib.import_module(module.name)
third_party = sorted(
    name for name, module in sys.modules.items()
    if getattr(module, "__file__", None) and "site-packages" in module.__file__
)
print(third_party)
"""
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
