"""``workers`` imports ``webapp``, never the reverse: jobs reach their tasks by name through the job seam. And
numerics (the network, prior samples, interpolations, latent means, occlusion) live in ``scoring``: ``webapp``
calls it and caches what it returns, never touching torch itself."""

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


def imports_of(path: Path, package: str) -> list[str]:
    return [name for name in imported_modules(path.read_text()) if name.split(".")[0] == package]


def webapp_modules_importing(package: str) -> dict[str, list[str]]:
    return {
        str(path.relative_to(WEBAPP_DIR)): found
        for path in sorted(WEBAPP_DIR.rglob("*.py"))
        if (found := imports_of(path, package))
    }


def test_no_module_under_webapp_imports_workers():
    assert webapp_modules_importing("workers") == {}


def test_no_module_under_webapp_runs_the_network_itself():
    assert webapp_modules_importing("torch") == {}


def test_the_check_sees_imports_at_any_depth(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\nfrom workers.jobs import run_job\n"
        "def f():\n    import workers.inline\n    importlib.import_module('workers.probing')\n"
    )
    assert imports_of(sample, "workers") == ["workers.jobs", "workers.inline", "workers.probing"]
