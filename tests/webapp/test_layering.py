"""``workers`` imports ``webapp``, never the reverse: jobs reach their tasks by name through the job seam."""

import ast
from pathlib import Path

import webapp

WEBAPP_DIR = Path(webapp.__file__).parent


def imported_modules(source: str) -> list[str]:
    """Every module an ``import``/``from ... import`` names, at any depth (function-level imports too)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module", "__import__",
        ) and node.args and isinstance(node.args[0], ast.Constant):  # fmt: skip
            names.append(str(node.args[0].value))
    return names


def workers_imports(path: Path) -> list[str]:
    return [name for name in imported_modules(path.read_text()) if name.split(".")[0] == "workers"]


def test_no_module_under_webapp_imports_workers():
    offenders = {
        str(path.relative_to(WEBAPP_DIR)): found
        for path in sorted(WEBAPP_DIR.rglob("*.py"))
        if (found := workers_imports(path))
    }
    assert offenders == {}


def test_the_check_sees_imports_at_any_depth(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\nfrom workers.jobs import run_job\n"
        "def f():\n    import workers.inline\n    importlib.import_module('workers.probing')\n"
    )
    assert workers_imports(sample) == ["workers.jobs", "workers.inline", "workers.probing"]
