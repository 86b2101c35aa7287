"""``python -m vigie_kit.migrate <migrations folder> <service name>``: upgrade the database named by
``VIGIE_DATABASE_URL`` (from the environment, never the command line, where any user could read
its password) to the newest revision, then exit. A service runs it before it starts its work, and
passes its log lines (JSON, as the service's own, on standard error) into its log.

Exit status: 0 migrated; 75 (``EX_TEMPFAIL``) the database could not be reached, try again; 1 a
migration failed (its traceback is in the last log line)."""

import asyncio
import logging
import os
import sys
from pathlib import Path

import sqlalchemy as sa

from .db import create_engine, migrate
from .telemetry import setup_logging

log = logging.getLogger(__name__)

UNREACHABLE = 75


async def _run(url: str, migrations: Path) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        await migrate(engine, migrations)
    finally:
        await engine.dispose()


def main() -> int:
    if len(sys.argv) != 3 or "VIGIE_DATABASE_URL" not in os.environ:
        sys.stderr.write("usage: VIGIE_DATABASE_URL=… python -m vigie_kit.migrate <migrations folder> <service>\n")
        return 2
    setup_logging(sys.argv[2], os.environ.get("VIGIE_LOG_LEVEL", "INFO"))
    try:
        asyncio.run(_run(os.environ["VIGIE_DATABASE_URL"], Path(sys.argv[1])))
    except (OSError, sa.exc.OperationalError, sa.exc.InterfaceError) as error:
        log.warning("database unreachable: %s", error)
        return UNREACHABLE
    except Exception:
        log.exception("migrating the database failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
