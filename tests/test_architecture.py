"""Services know each other only through events: no service imports another, the kernel none."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from services.kernel.config import SERVICE_NAMES

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
PACKAGES = ("kernel", *SERVICE_NAMES)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def forbidden_imports(package: str, root: Path = SERVICES_DIR) -> list[str]:
    """Imports in `package` that reach into a service other than itself."""
    others = {f"services.{name}" for name in SERVICE_NAMES if name != package}
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for module in sorted(imported_modules(path)):
            if any(module == other or module.startswith(other + ".") for other in others):
                found.append(f"{path.relative_to(root)} imports {module}")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_no_other_service(package: str) -> None:
    assert forbidden_imports(package) == []


def test_the_check_catches_a_cross_service_import(tmp_path: Path) -> None:
    (tmp_path / "routing").mkdir()
    (tmp_path / "routing" / "handlers.py").write_text("from services.intake.models import Case\n")
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel" / "bus.py").write_text("import services.notify.sms\n")
    assert forbidden_imports("routing", tmp_path) == [
        "routing/handlers.py imports services.intake.models",
        "routing/handlers.py imports services.intake.models.Case",
    ]
    assert forbidden_imports("kernel", tmp_path) == ["kernel/bus.py imports services.notify.sms"]
