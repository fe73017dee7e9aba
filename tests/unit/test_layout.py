"""The layout rule: a service imports ``shared`` and its own folder, never another; ``shared`` imports no service."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports, at any depth (a lazy import inside a function counts too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_service_imports_another_service() -> None:
    crossings = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        own = path.relative_to(ROOT / "services").parts[0]
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "services" and len(parts) > 1 and parts[1] != own:
                crossings.append(f"{path.relative_to(ROOT)} imports {module}")
    assert crossings == []


def test_shared_imports_no_service() -> None:
    crossings = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / "shared").rglob("*.py"))
        for module in imported_modules(path)
        if module == "services" or module.startswith("services.")
    ]
    assert crossings == []


def test_every_main_only_wires() -> None:
    """A ``__main__.py`` parses arguments and starts its process; the logic lives in the folder's other modules."""
    too_long = {
        str(path.relative_to(ROOT)): length
        for path in sorted((ROOT / "services").glob("*/__main__.py"))
        if (length := len(path.read_text().splitlines())) > 60
    }
    assert too_long == {}
