"""The layers of docs/architecture.md hold: import contracts, and no imports hidden in functions.

The import contracts live in pyproject.toml (``[tool.importlinter]``): core → boundaries →
drills → readiness → report → app → cli, report importing only the core, the core never
importing boto3/botocore/pulumi/moto, and no cycles between packages. grimp sees imports inside
functions too, so an import cannot dodge a contract by hiding in a function.

Imports inside functions are allowed in ``cli/`` only (the lazy heavy imports that keep
``georesil --help`` fast). Elsewhere each must be on an allow-list with its reason.
"""

from __future__ import annotations

import ast
import contextlib
import io
import subprocess
import sys
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "georesil"

#: Imports inside functions that stay, each with why.
_PULUMI = ("pulumi and pulumi_aws take seconds to import: provision's modules load them only "
           "when a Pulumi program runs, so `georesil.provision` (outputs, naming, plans, "
           "dns_zone_of for drills) stays light, as its docstring promises")
_MOTO = ("moto and botocore are loaded only when the moto engine provisions, not by the "
         "modules that merely name what it creates")
ALLOWED: dict[tuple[str, str], str] = {
    ("provision/__init__.py", "georesil.provision.moto_engine"):
        "a lazy attribute: `import georesil.provision` must not load pulumi (see _PULUMI)",
    ("provision/_moto_handlers.py", "boto3"): _MOTO,
    ("provision/_moto_handlers.py", "botocore.config"): _MOTO,
    ("provision/_moto_handlers.py", "botocore.exceptions"): _MOTO,
    ("provision/automation.py", "pulumi"): _PULUMI,
    ("provision/moto_engine.py", "botocore.exceptions"): _MOTO,
    ("provision/moto_engine.py", "moto"): _MOTO,
    ("provision/moto_engine.py", "moto.core.models"): _MOTO,
    ("provision/moto_engine.py", "pulumi.runtime"): _PULUMI,
    ("provision/moto_engine.py", "pulumi.runtime.settings"): _PULUMI,
    ("provision/moto_engine.py", "pulumi.runtime.stack"): _PULUMI,
    ("provision/stack.py", "georesil.provision.components"):
        "the components subclass pulumi.ComponentResource at import (see _PULUMI)",
    ("provision/stack.py", "pulumi"): _PULUMI,
    ("provision/stack.py", "pulumi_aws"): _PULUMI,
    ("analysis/kernel.py", "numba"):
        "numba takes seconds to import and compiles only for sweeps large enough to repay it",
    ("risk/_jit.py", "numba"):
        "numba takes seconds to import: only when trials run, never for `import georesil.risk`",
}

#: PENDING — imports inside functions in packages other branches of issue 11 are reworking
#: (owner in the comment). The lead deletes entries as those branches land: an entry that no
#: longer matches fails test_allow_list_has_no_stale_entries. Never add one.
PENDING: dict[tuple[str, str], str] = {}


def imports_in_functions(source: str) -> set[str]:
    """The modules imported inside a function (or method) of ``source``."""
    found: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        if in_function and isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif in_function and isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(source), False)
    return found


def offenders() -> set[tuple[str, str]]:
    """(file relative to the package, module) of every import inside a function outside cli/."""
    out = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if not rel.startswith("cli/"):
            out.update((rel, module) for module in imports_in_functions(path.read_text("utf-8")))
    return out


def test_import_contracts_hold() -> None:
    """Every import-linter contract of pyproject.toml is kept."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True,
                            no_logo=True)
    assert code == 0, out.getvalue()


def test_no_imports_inside_functions_outside_cli() -> None:
    """Outside cli/, an import inside a function is allowed only with a reason on record."""
    unexplained = sorted(offenders() - set(ALLOWED) - set(PENDING))
    assert unexplained == [], ("move these imports to the top of the module (or, for a heavy "
                               f"library, put them on ALLOWED with the reason): {unexplained}")


def test_allow_list_has_no_stale_entries() -> None:
    """Every allow-list entry still matches an import (delete the ones that do not)."""
    stale = sorted((set(ALLOWED) | set(PENDING)) - offenders())
    assert stale == [], f"delete from tests/unit/test_layers.py: {stale}"


def test_the_checker_sees_nested_imports() -> None:
    """Imports in functions and methods are found; module-level ones are not."""
    source = ("import os\n"
              "def f():\n    import json\n"
              "class C:\n    def m(self):\n        from . import sibling\n"
              "        def inner():\n            from a.b import c\n")
    assert imports_in_functions(source) == {"json", ".", "a.b"}


def test_lab_drills_readiness_and_report_do_not_load_pulumi() -> None:
    """Only provisioning needs Pulumi and the moto engine: importing the lab, drills, readiness
    or the report's inputs must not load them (about half a second of every start-up)."""
    code = ("import sys\n"
            "import georesil.lab, georesil.drills, georesil.readiness, georesil.app.report\n"
            "print(sorted(m for m in ('pulumi', 'pulumi_aws', 'moto', "
            "'georesil.provision.moto_engine') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
