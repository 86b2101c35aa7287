"""``python -m vigie_kit.migrate <migrations folder>``: upgrade the database named by
``VIGIE_DATABASE_URL`` (from the environment, never the command line, where any user could read
its password) to the newest revision, then exit. A service runs it before it starts its work.

Exit status: 0 migrated; 75 (``EX_TEMPFAIL``) the database could not be reached, try again; 1 a
migration failed, with its traceback on standard error."""

import asyncio
import os
import sys
from pathlib import Path

import sqlalchemy as sa

from .db import create_engine, migrate

UNREACHABLE = 75


async def _run(url: str, migrations: Path) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        await migrate(engine, migrations)
    finally:
        await engine.dispose()


def main() -> int:
    if len(sys.argv) != 2 or "VIGIE_DATABASE_URL" not in os.environ:
        sys.stderr.write("usage: VIGIE_DATABASE_URL=… python -m vigie_kit.migrate <migrations folder>\n")
        return 2
    try:
        asyncio.run(_run(os.environ["VIGIE_DATABASE_URL"], Path(sys.argv[1])))
    except (OSError, sa.exc.OperationalError, sa.exc.InterfaceError) as error:
        sys.stderr.write(f"database unreachable: {error}\n")
        return UNREACHABLE
    return 0


if __name__ == "__main__":
    sys.exit(main())
