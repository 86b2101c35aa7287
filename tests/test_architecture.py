"""The layout's promises, checked on the code itself: services never import each other, and
the domain of each service does no I/O."""

import ast
import re
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


# The same house in every service: a reader finds a use case, a rule or a table by its folder.
HOUSE_MODULES = {"__init__.py", "__main__.py", "bootstrap.py", "config.py", "handlers.py", "py.typed"}
HOUSE_FOLDERS = {"adapters", "domain", "entrypoints", "migrations"}
# Data shipped with a service, not code: the enrichment's sample threat intelligence.
HOUSE_DATA = {"enrichment": {"samples"}}


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_built_the_same_way(service: str) -> None:
    package = ROOT / "services" / service / f"vigie_{service}"
    modules = {path.name for path in package.iterdir() if path.is_file()}
    folders = {path.name for path in package.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert modules == HOUSE_MODULES, f"vigie_{service}: modules {sorted(modules ^ HOUSE_MODULES)} out of place"
    assert folders == HOUSE_FOLDERS | HOUSE_DATA.get(service, set()), f"vigie_{service}: folders {sorted(folders)}"
    assert (ROOT / "services" / service / "README.md").is_file(), f"services/{service} has no README.md"


SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|\(declaration_id)\b", re.IGNORECASE)
# The services whose use cases hold no statement: a service joins once its statements live in
# adapters/
STATEMENTS_IN_ADAPTERS = ["declaration", "enrichment", "notification", "stats"]


@pytest.mark.parametrize("service", STATEMENTS_IN_ADAPTERS)
def test_use_cases_hold_no_sql(service: str) -> None:
    """A use case reads as the domain's sentence: its statements live in ``adapters/``, behind
    functions named for what they do. The unit of work's types may be named, nothing else of
    the database's libraries."""
    handlers = ROOT / "services" / service / f"vigie_{service}" / "handlers.py"
    tree = ast.parse(handlers.read_text())
    strings = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    assert not [s for s in strings if SQL.match(s)], f"{handlers.relative_to(ROOT)} holds SQL"
    builders = {"sqlalchemy", "sqlmodel", "sqlalchemy.dialects.postgresql"}
    assert not imports_of(handlers) & builders, f"{handlers.relative_to(ROOT)} builds statements"


# The stats rebuild reads each topic's partitions from their beginning to a fixed end, assigned by
# hand and never committed: a replay, not a subscription a consumer group follows.
KAFKA_CLIENTS_OF_THEIR_OWN = {"services/stats/vigie_stats/entrypoints/rebuild.py"}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_reaches_kafka_only_through_its_declared_channels(service: str) -> None:
    """Subscribers and publishers are declared in entrypoints/events.py and made by the kit, so
    that contracts/asyncapi.json holds every topic a service takes or writes."""
    for path in (ROOT / "services" / service).rglob("*.py"):
        name = str(path.relative_to(ROOT))
        clients = {m for m in imports_of(path) if m.split(".")[0] in {"faststream", "aiokafka"}}
        if name in KAFKA_CLIENTS_OF_THEIR_OWN:
            continue
        assert not clients, f"{name} imports {clients}: declare its channels in entrypoints/events.py"
