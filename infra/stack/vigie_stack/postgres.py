"""A real PostgreSQL server from Debian's packages, its data in the stack's state folder.

Credentials are generated on first start and never leave the state folder: PostgreSQL keeps only
their SCRAM-SHA-256 hashes. Each service gets its own role and its own database, which no other
role may open: services cannot read each other's tables even by mistake.
"""

import asyncio
import hashlib
import os
import pwd
import shutil
import ssl
import subprocess
from pathlib import Path

import asyncpg

from .config import SERVICES, StackConfig
from .mailbox import local_tls
from .process import port_open, wait_for

ADMIN = "vigie_admin"


def _bin_dir() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not versions:
        raise RuntimeError("PostgreSQL server binaries not found; run infra/bin/setup")
    return versions[-1].parent


def _as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root; as root, run it as the ``postgres`` system user."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def _server_user() -> pwd.struct_passwd | None:
    return pwd.getpwnam("postgres") if os.geteuid() == 0 else None


def _reachable_by_server_user(path: Path) -> bool:
    user = _server_user()
    if user is None:
        return True
    probe = [*_as_server_user(), "test", "-x", str(path)]
    return subprocess.run(probe, check=False, capture_output=True).returncode == 0  # noqa: S603


class PostgresServer:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.link = config.state / "postgres"

    @property
    def home(self) -> Path:
        # Resolved: the server's user may reach the target of the link, not the link's folder.
        return self.link.resolve()

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_file(self) -> Path:
        # Beside the data, where the server's user can always write; linked from logs/.
        return self.home / "postgres.log"

    def _place_home(self) -> None:
        """Keep the server's files in the state folder; when the ``postgres`` user cannot reach
        it (a checkout under /root, say), keep them in /var/lib/vigie and link them from there."""
        if self.link.exists() or self.link.is_symlink():
            return
        self.config.state.mkdir(parents=True, exist_ok=True)
        if _reachable_by_server_user(self.config.state):
            return
        digest = hashlib.sha256(str(self.link.absolute()).encode()).hexdigest()[:16]
        elsewhere = Path("/var/lib/vigie") / digest / "postgres"
        elsewhere.mkdir(parents=True, exist_ok=True)
        elsewhere.parent.chmod(0o755)
        self.link.symlink_to(elsewhere, target_is_directory=True)

    def password(self, role: str) -> str:
        return self.config.secret(f"postgres-{role}.password")

    def dsn(self, service: str, database: str | None = None) -> str:
        """A service's database (or another of its role's), as asyncpg and psql take it: over TLS,
        the server's certificate and host name verified against the stack's authority."""
        role = f"vigie_{service}"
        tls = f"sslmode=verify-full&sslrootcert={local_tls(self.config).ca_file}"
        return (
            f"postgresql://{role}:{self.password(role)}@127.0.0.1:{self.config.postgres_port}/{database or role}?{tls}"
        )

    async def connect_as_admin(self) -> asyncpg.Connection:
        """The server's administrator, over TLS like everyone."""
        context = ssl.create_default_context(cafile=local_tls(self.config).ca_file)
        return await asyncpg.connect(
            host="127.0.0.1",
            port=self.config.postgres_port,
            user=ADMIN,
            password=self.password(ADMIN),
            database="postgres",
            ssl=context,
        )

    def database_url(self, service: str) -> str:
        """A service's database, as SQLAlchemy takes it (``VIGIE_DATABASE_URL``)."""
        return self.dsn(service).replace("postgresql://", "postgresql+asyncpg://", 1)

    def _run(self, *command: str) -> None:
        done = subprocess.run([*_as_server_user(), *command], check=False, capture_output=True)  # noqa: S603
        if done.returncode != 0:
            output = (done.stderr or done.stdout).decode(errors="replace").strip()
            raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}): {output}")

    def _own(self, *paths: Path) -> None:
        user = _server_user()
        for path in paths:
            path.mkdir(parents=True, exist_ok=True)
            if user is not None:
                shutil.chown(path, user.pw_uid, user.pw_gid)

    def init(self) -> None:
        self._place_home()
        if (self.data / "PG_VERSION").is_file():
            return
        self._own(self.home, self.socket_dir)
        self.config.logs.mkdir(parents=True, exist_ok=True)
        password_file = self.home / "initdb.pwfile"
        password_file.write_text(self.password(ADMIN) + "\n")
        user = _server_user()
        if user is not None:
            shutil.chown(password_file, user.pw_uid, user.pw_gid)
        password_file.chmod(0o600)
        try:
            self._run(
                str(_bin_dir() / "initdb"),
                "-D",
                str(self.data),
                "-U",
                ADMIN,
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            password_file.unlink(missing_ok=True)

    def running(self) -> bool:
        return self.link.exists() and (self.data / "postmaster.pid").is_file() and port_open(self.config.postgres_port)

    def start(self, *, timeout: float = 60.0) -> None:
        self.init()
        if self.running():
            return
        self._own(self.socket_dir)
        log = self.log_file
        if not log.exists():
            log.touch()
        user = _server_user()
        if user is not None:
            shutil.chown(log, user.pw_uid, user.pw_gid)
        linked = self.config.logs / "postgres.log"
        if not linked.is_symlink():
            linked.unlink(missing_ok=True)
            linked.symlink_to(log)
        certificate, key = self._tls_files()
        self._only_over_tls()
        options = " ".join(
            [
                f"-p {self.config.postgres_port}",
                "-c listen_addresses=127.0.0.1",
                # TLS for every connection over the network (pg_hba.conf refuses the others).
                "-c ssl=on",
                f"-c ssl_cert_file={certificate}",
                f"-c ssl_key_file={key}",
                f"-c unix_socket_directories={self.socket_dir}",
                "-c max_connections=200",
                "-c shared_buffers=256MB",
                # Durable commits, always: Vigie never trades a committed declaration for speed.
                "-c synchronous_commit=on",
                "-c fsync=on",
            ]
        )
        self._run(
            str(_bin_dir() / "pg_ctl"),
            "start",
            "-D",
            str(self.data),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            str(int(timeout)),
        )
        wait_for(self.running, timeout=timeout, what="PostgreSQL", log_file=log)

    def _tls_files(self) -> tuple[Path, Path]:
        """The stack's server certificate and key where the server's user may read them (the key
        its own, as PostgreSQL demands)."""
        tls = local_tls(self.config)
        folder = self.home / "tls"
        self._own(folder)
        certificate, key = folder / "server.crt", folder / "server.key"
        certificate.write_bytes(tls.cert_file.read_bytes())
        key.write_bytes(tls.key_file.read_bytes())
        key.chmod(0o600)
        user = _server_user()
        if user is not None:
            for path in (certificate, key):
                shutil.chown(path, user.pw_uid, user.pw_gid)
        return certificate, key

    def _only_over_tls(self) -> None:
        """Password authentication, and over the network only with TLS: a connection in clear is
        refused (the socket in the state folder stays for the server's own tools)."""
        (self.data / "pg_hba.conf").write_text(
            "# Written by the Vigie stack at each start.\n"
            "local   all all              scram-sha-256\n"
            "hostssl all all 127.0.0.1/32 scram-sha-256\n"
            "hostssl all all ::1/128      scram-sha-256\n"
        )
        user = _server_user()
        if user is not None:
            shutil.chown(self.data / "pg_hba.conf", user.pw_uid, user.pw_gid)

    def stop(self, *, kill: bool = False) -> bool:
        if not self.link.exists() or not (self.data / "postmaster.pid").is_file():
            return False
        mode = "immediate" if kill else "fast"
        self._run(str(_bin_dir() / "pg_ctl"), "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")
        return True

    def provision(self) -> None:
        """One role and one database per service (idempotent)."""
        asyncio.run(self._provision())

    async def _provision(self) -> None:
        admin = await self.connect_as_admin()
        try:
            for service in SERVICES:
                role = f"vigie_{service}"
                password = self.password(role)
                exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
                verb = "ALTER" if exists else "CREATE"
                # Role names are ours; the password is quoted by PostgreSQL's own function.
                quoted = await admin.fetchval("SELECT quote_literal($1)", password)
                await admin.execute(f"{verb} ROLE {role} LOGIN PASSWORD {quoted}")
                if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", role):
                    await admin.execute(f"CREATE DATABASE {role} OWNER {role}")
                await admin.execute(f"REVOKE ALL ON DATABASE {role} FROM PUBLIC")
        finally:
            await admin.close()
