"""The layout's promises, checked on the code itself: services never import each other, and
the domain of each service does no I/O."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ["declaration", "enrichment", "notification", "stats"]
IO_LIBRARIES = {
    "sqlalchemy",
    "sqlmodel",
    "asyncpg",
    "aiokafka",
    "faststream",
    "httpx",
    "fastapi",
    "uvicorn",
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    others = {f"vigie_{name}" for name in SERVICES if name != service}
    for path in (ROOT / "services" / service).rglob("*.py"):
        crossing = {name for name in imports_of(path) if name.split(".")[0] in others}
        assert not crossing, f"{path.relative_to(ROOT)} imports {crossing}"


@pytest.mark.parametrize("service", SERVICES)
def test_a_services_domain_does_no_io(service: str) -> None:
    domain = ROOT / "services" / service / f"vigie_{service}" / "domain"
    for path in domain.rglob("*.py"):
        io = {name for name in imports_of(path) if name.split(".")[0] in IO_LIBRARIES}
        assert not io, f"{path.relative_to(ROOT)} imports {io}"


def test_contracts_depend_on_nothing_but_pydantic() -> None:
    for path in (ROOT / "contracts" / "vigie_contracts").rglob("*.py"):
        foreign = {name for name in imports_of(path) if name.split(".")[0] in IO_LIBRARIES | {"vigie_kit"}}
        assert not foreign, f"{path.relative_to(ROOT)} imports {foreign}"
