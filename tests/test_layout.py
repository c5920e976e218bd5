"""The package's layering: which subpackage may import which.

Read from the source with :mod:`ast`, so that an import inside a
function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import hyperspy_eelspecnet

PACKAGE = Path(hyperspy_eelspecnet.__file__).parent

#: Each part of the package and the parts it may import (besides itself).
#: A part lower in the list never imports one higher up.
ALLOWED = {
    "_strict_model": set(),
    "io": set(),
    "restoration": set(),
    "metrics": {"restoration"},
    "simulation": {"_strict_model", "restoration", "metrics", "io"},
    "models": {"_strict_model"},
    "inference": {"models", "metrics", "restoration"},
    "signals": {"inference", "models", "restoration", "_package"},
    "data": {"simulation", "io"},
    "evaluation": {"inference", "models", "restoration", "simulation", "metrics"},
    "training": {"_strict_model", "simulation", "inference", "models", "metrics"},
    "tools": {"signals", "inference", "models", "restoration", "data", "simulation", "_package"},
    "cli": {"tools", "training", "evaluation", "models", "inference", "restoration"},
}


def _part(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 or \
        relative.name != "__init__.py" else "_package"


def _imported_parts(path: Path) -> set[str]:
    parts = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] if node.level == 0 else []
            assert node.level == 0, f"{path}: relative import of {node.module}"
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            pieces = name.split(".")
            if pieces[0] != "hyperspy_eelspecnet":
                continue
            if len(pieces) == 1:
                # "from hyperspy_eelspecnet import x": x is a part or a name of the package
                parts |= {a.name if a.name in ALLOWED else "_package" for a in node.names}
            else:
                parts.add(pieces[1])
    return parts


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if _part(p) != "_package")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_part_above_its_own(path):
    part = _part(path)
    assert part in ALLOWED, f"{part} is a new part of the package: add it to ALLOWED"
    forbidden = _imported_parts(path) - ALLOWED[part] - {part}
    assert not forbidden, f"{path.relative_to(PACKAGE)} imports {sorted(forbidden)}"


def test_only_the_command_line_reaches_into_training():
    users = {_part(p) for p in MODULES if "training" in _imported_parts(p)}
    assert users <= {"training", "cli"}, users


def test_importing_the_package_loads_no_network_generator_or_training_code():
    code = (
        "import sys, hyperspy_eelspecnet\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')\n"
        "       or m.startswith(tuple('hyperspy_eelspecnet.' + p for p in\n"
        "                        ('training', 'simulation', 'evaluation', 'models.layers')))]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_public_name_imports():
    import inspect

    # The top-level names are the subpackages' own, not copies.
    assert hyperspy_eelspecnet.list_models is hyperspy_eelspecnet.models.list_models
    assert hyperspy_eelspecnet.register_methods is hyperspy_eelspecnet.signals.register_methods
    for part in hyperspy_eelspecnet.__all__:
        if part in ("__version__", "list_models", "register_methods"):
            continue
        module = getattr(hyperspy_eelspecnet, part)
        assert inspect.ismodule(module), part
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)  # AttributeError: a name in __all__ that is not there
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # a constant
            # The package's own, documented (the API reference renders it).
            assert obj.__module__.startswith("hyperspy_eelspecnet."), f"{part}.{name}"
            assert (obj.__doc__ or "").strip(), f"{part}.{name} has no docstring"


def test_version_is_the_installed_distributions():
    from importlib.metadata import version

    assert hyperspy_eelspecnet.__version__ == version("hyperspy_eelspecnet")
