"""`make backup` and `make restore`: one backup file of the whole database, and back.

Which database (BACKUP_TARGET):
  native   DATABASE_URL as the app reads it (get_settings()):
             SQLite: a copy by SQLite's online backup API (.sqlite3), safe while the
               app writes.
             PostgreSQL: pg_dump's custom format (.dump), with this machine's
               pg_dump, pg_restore and psql (the server's major version or newer).
             MariaDB: mariadb-dump, gzipped (.sql.gz); needs mariadb-dump and mariadb.
  compose  the db service of the local compose project (compose/compose.yaml, or
           the files COMPOSE_FILE names), through `docker compose exec`: the db
           image's own tools, so always the server's version.
  swarm    the db task of the Swarm stack STACK_NAME, through the Docker engine that
           DOCKER_HOST or DOCKER_CONTEXT points at; BACKUP_DB_DOCKER names the engine
           of the node the task runs on when that is another one.

A restore replaces everything, after asking (--yes skips the question). On
PostgreSQL the schema `public` is dropped and rebuilt in one transaction (a failure
changes nothing); a missing database is created (native). Objects are owned by the
account that restores; grants are not restored. A backup restores only into the
same kind of database it came from.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from app.core.config import BACKEND_DIR, REPO_DIR, Settings, identity_source
from app.db.session import _normalise_url

Kind = Literal["postgresql", "sqlite", "mariadb"]
KIND_NAMES: dict[str, str] = {"postgresql": "PostgreSQL", "sqlite": "SQLite", "mariadb": "MariaDB"}
# The first bytes of each kind of backup file.
MAGIC: dict[bytes, Kind] = {
    b"PGDMP": "postgresql",
    b"SQLite format 3\0": "sqlite",
    b"\x1f\x8b": "mariadb",
}
# mariadb-dump's last line: a dump without it was cut short.
MARIADB_DUMP_END = b"-- Dump completed"
POSTGRES_SCRIPT = resources.files("app.ops").joinpath("postgres.sh").read_text(encoding="utf-8")
CONNECT_TIMEOUT = 10


class BackupError(Exception):
    """Stops the command with this message, and nothing half done."""


class BackupSettings(BaseSettings):
    """Where backups go and which database: the environment, then .env, as the app's
    own settings (these are the tool's, not the app's)."""

    model_config = Settings.model_config

    BACKUP_DIR: Path = REPO_DIR / "backups"
    BACKUP_TARGET: Literal["native", "compose", "swarm"] = "native"
    STACK_NAME: str = "app"
    # The engine of the node the Swarm db task runs on: ssh://, tcp://, unix://, or a context.
    BACKUP_DB_DOCKER: str = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Then the project's identity: its compose project's name (STACK_NAME).
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            identity_source(settings_cls),
        )


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            raise BackupError(f"{tool} is needed here (or use BACKUP_TARGET=compose/swarm)")


# --- The databases -------------------------------------------------------------------


@dataclass
class Database:
    kind: Kind
    description: str
    # The backup file's name, before its timestamp.
    stem: str

    @property
    def extension(self) -> str:
        return {"postgresql": "dump", "sqlite": "sqlite3", "mariadb": "sql.gz"}[self.kind]

    def dump(self, target: Path) -> None:
        raise NotImplementedError

    def check(self, file: Path) -> None:
        """Refuses a backup that cannot be restored whole, before anything is touched."""

    def restore(self, file: Path) -> None:
        raise NotImplementedError


@dataclass
class SqliteDatabase(Database):
    path: Path = Path()

    def dump(self, target: Path) -> None:
        if not self.path.is_file():
            raise BackupError(f"no database at {self.path}")
        _sqlite_copy(sqlite3.connect(self.path), str(target), journal_mode="DELETE")

    def check(self, file: Path) -> None:
        try:
            connection = sqlite3.connect(f"file:{quote(str(file))}?mode=ro&immutable=1", uri=True)
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            connection.close()
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            raise BackupError(
                f"{file} is not a readable SQLite backup (truncated or corrupt?): "
                + "; ".join(problems[:5])
            )

    def restore(self, file: Path) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{quote(str(file))}?mode=ro", uri=True)
        _sqlite_copy(source, str(self.path))


def _sqlite_copy(source: sqlite3.Connection, target_path: str, journal_mode: str = "") -> None:
    """The whole database, page by page, by SQLite's online backup API: consistent
    while others write. A backup is left in rollback-journal mode, so that reading
    it creates no -wal file; a restored database keeps its own mode."""
    target = sqlite3.connect(target_path)
    try:
        with target:
            source.backup(target)
        if journal_mode:
            target.execute(f"PRAGMA journal_mode={journal_mode}")
    finally:
        source.close()
        target.close()


@dataclass
class PostgresDatabase(Database):
    """Dumped and restored by postgres.sh, here or in a container (`runner`)."""

    runner: list[str] = field(default_factory=lambda: ["sh"])
    # Native only: the server's URL (psycopg's), to create a missing database.
    url: URL | None = None

    def _script(self, action: str) -> list[str]:
        args = [*self.runner, "-c", POSTGRES_SCRIPT, "sh", action]
        if self.url is not None:
            uri = self.url.set(drivername="postgresql", password=None)
            args.append(uri.render_as_string(hide_password=False))
        return args

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.url is not None:
            need("pg_dump", "pg_restore", "psql")
            if self.url.password is not None:
                env["PGPASSWORD"] = str(self.url.password)
            env.setdefault("PGCONNECT_TIMEOUT", str(CONNECT_TIMEOUT))
        return env

    def dump(self, target: Path) -> None:
        with target.open("wb") as out:
            done = subprocess.run(self._script("dump"), stdout=out, env=self._environment())
        if done.returncode:
            raise BackupError("pg_dump failed: see above")
        with target.open("rb") as written:
            if written.read(5) != b"PGDMP":
                raise BackupError("the dump is not a PostgreSQL archive")

    def restore(self, file: Path) -> None:
        env = self._environment()
        if self.url is not None:
            _create_missing_database(self.url, maintenance="postgres")
        with file.open("rb") as backup:
            done = subprocess.run(self._script("restore"), stdin=backup, env=env)
        if done.returncode:
            raise BackupError("nothing was restored: the database is unchanged")


@dataclass
class MariadbDatabase(Database):
    url: URL = field(default_factory=lambda: make_url("mariadb://"))

    def _client(self, tool: str, *args: str) -> tuple[list[str], dict[str, str]]:
        url = self.url
        command = [tool, f"--user={url.username or ''}", "--default-character-set=utf8mb4"]
        socket = url.query.get("unix_socket")
        if socket:
            command.append(f"--socket={socket}")
        else:
            # As the app connects: over TCP, even to localhost (the client would
            # otherwise take the Unix socket, with another account's rights).
            command += [
                "--protocol=TCP",
                f"--host={url.host or 'localhost'}",
                f"--port={url.port or 3306}",
            ]
        env = dict(os.environ)
        if url.password is not None:
            env["MYSQL_PWD"] = str(url.password)
        return [*command, *args], env

    def dump(self, target: Path) -> None:
        need("mariadb-dump")
        # One consistent snapshot without locking the tables (InnoDB).
        command, env = self._client(
            "mariadb-dump",
            "--single-transaction",
            "--hex-blob",
            "--no-tablespaces",
            str(self.url.database),
        )
        with gzip.open(target, "wb") as compressed:
            dumper = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
            assert dumper.stdout is not None
            shutil.copyfileobj(dumper.stdout, compressed)
            if dumper.wait():
                raise BackupError("mariadb-dump failed: see above")

    def check(self, file: Path) -> None:
        try:
            with gzip.open(file, "rb") as dump:
                tail = b""
                while chunk := dump.read(1 << 20):
                    tail = (tail + chunk)[-4096:]
        except (OSError, EOFError, zlib.error) as exc:
            raise BackupError(
                f"{file} is not a readable gzip file (truncated or corrupt?): {exc}"
            ) from exc
        last_line = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        if not last_line.startswith(MARIADB_DUMP_END):
            raise BackupError(
                f"{file} is incomplete (truncated or corrupt?): it does not end as a "
                "finished mariadb-dump does"
            )

    def restore(self, file: Path) -> None:
        need("mariadb")
        _create_missing_database(self.url, maintenance=None)
        # Empty first, then load: what the backup does not hold must not stay.
        engine = create_engine(
            _normalise_url(self.url.render_as_string(hide_password=False)),
            connect_args={"connect_timeout": CONNECT_TIMEOUT},
        )
        try:
            with engine.connect() as connection:
                tables = connection.execute(
                    text(
                        "SELECT table_name, table_type FROM information_schema.tables"
                        " WHERE table_schema = DATABASE()"
                    )
                ).all()
                quote_name = connection.dialect.identifier_preparer.quote_identifier
        finally:
            engine.dispose()
        drops = "".join(
            f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS {quote_name(name)};\n"
            for name, kind in tables
        )
        command, env = self._client("mariadb", f"--database={self.url.database}")
        loader = subprocess.Popen(command, stdin=subprocess.PIPE, env=env)
        assert loader.stdin is not None
        try:
            loader.stdin.write(f"SET FOREIGN_KEY_CHECKS = 0;\n{drops}".encode())
            with gzip.open(file, "rb") as dump:
                shutil.copyfileobj(dump, loader.stdin)
            loader.stdin.close()
        except BrokenPipeError:
            pass
        if loader.wait():
            raise BackupError("the restore failed part-way: see above")


def _create_missing_database(url: URL, *, maintenance: str | None) -> None:
    """Creates the database when the server lacks it, through a database it has
    (PostgreSQL's maintenance database; none on MariaDB), with the app's drivers."""
    server = make_url(_normalise_url(url.render_as_string(hide_password=False)))
    # URL.set cannot clear a field: a new URL, with the maintenance database or none.
    server = URL.create(
        server.drivername,
        username=server.username,
        password=server.password,
        host=server.host,
        port=server.port,
        database=maintenance,
        query=server.query,
    )
    engine = create_engine(
        server,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": CONNECT_TIMEOUT},
    )
    name = str(url.database)
    try:
        with engine.connect() as connection:
            quoted = connection.dialect.identifier_preparer.quote_identifier(name)
            if server.get_backend_name() == "postgresql":
                exists = connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
                if exists is None:
                    say(f"creating the database {name}")
                    connection.execute(text(f"CREATE DATABASE {quoted}"))
            else:
                connection.execute(
                    text(
                        f"CREATE DATABASE IF NOT EXISTS {quoted}"
                        " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
                )
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise BackupError(
            f"cannot reach the server or create the database {name}: {reason}"
        ) from exc
    finally:
        engine.dispose()


# --- Where the database is -------------------------------------------------------------


def native_database(settings: Settings) -> Database:
    url = make_url(settings.DATABASE_URL)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError(f"not a database file: {settings.DATABASE_URL}")
        # Relative to the backend directory, where the app runs.
        path = BACKEND_DIR / url.database
        return SqliteDatabase(
            "sqlite", f"the SQLite database {path}", f"sqlite-{path.stem}", path=path
        )
    if not url.database:
        raise BackupError("DATABASE_URL names no database")
    if backend == "postgresql":
        described = url.set(drivername="postgresql").render_as_string()
        return PostgresDatabase(
            "postgresql",
            f"the PostgreSQL database {described}",
            f"postgresql-{url.database}",
            url=url,
        )
    if backend in ("mysql", "mariadb"):
        where = url.host or url.query.get("unix_socket")
        return MariadbDatabase(
            "mariadb",
            f"the MariaDB database {url.database} on {where}",
            f"mariadb-{url.database}",
            url=url,
        )
    raise BackupError(f"unsupported database: {backend} (PostgreSQL, SQLite or MariaDB)")


def compose_database(options: BackupSettings) -> Database:
    # COMPOSE_FILE, when set, names the files (and so the project) as compose reads it.
    files = (
        [] if os.environ.get("COMPOSE_FILE") else ["-f", str(REPO_DIR / "compose" / "compose.yaml")]
    )
    runner = [*_compose_command(), "--project-directory", str(REPO_DIR), *files]
    return PostgresDatabase(
        "postgresql",
        f"the db service of the compose project {options.STACK_NAME}",
        f"compose-{options.STACK_NAME}",
        runner=[*runner, "exec", "-T", "db", "sh"],
    )


def _compose_command() -> list[str]:
    """`docker compose`, or a standalone docker-compose (the dev tools' venv has one)."""
    if shutil.which("docker") and _succeeds(["docker", "compose", "version"]):
        return ["docker", "compose"]
    for candidate in (shutil.which("docker-compose"), Path(sys.prefix) / "bin" / "docker-compose"):
        if candidate and Path(candidate).exists():
            return [str(candidate)]
    raise BackupError("Docker Compose is needed for BACKUP_TARGET=compose")


def swarm_database(options: BackupSettings) -> Database:
    need("docker")
    service = f"{options.STACK_NAME}_db"
    engine_name = (
        os.environ.get("DOCKER_HOST")
        or os.environ.get("DOCKER_CONTEXT")
        or "of the current context"
    )
    found = _output(
        [
            "docker",
            "service",
            "ps",
            service,
            "--filter",
            "desired-state=running",
            "--no-trunc",
            "--quiet",
        ]
    )
    task = found.splitlines()[0] if found else ""
    if not task.isalnum():
        raise BackupError(
            f"no running task of the service {service} on the engine {engine_name}: {found}"
        )
    node, container, state = _output(
        [
            "docker",
            "inspect",
            "--type",
            "task",
            "--format",
            "{{.NodeID}} {{.Status.ContainerStatus.ContainerID}} {{.Status.State}}",
            task,
        ]
    ).split(" ")
    if state != "running" or not container:
        raise BackupError(f"the task {task} of {service} is {state}, not running")
    engine: list[str] = []
    if options.BACKUP_DB_DOCKER:
        flag = "--host" if "://" in options.BACKUP_DB_DOCKER else "--context"
        engine = [flag, options.BACKUP_DB_DOCKER]
    if _output(["docker", *engine, "info", "--format", "{{.Swarm.NodeID}}"]) != node:
        where = _output(
            [
                "docker",
                "node",
                "inspect",
                "--format",
                "{{.Description.Hostname}} (address {{.Status.Addr}})",
                node,
            ]
        )
        raise BackupError(
            f"{service} runs on the node {where}, which this engine is not: set "
            "BACKUP_DB_DOCKER to that node's engine, e.g. ssh://USER@ADDRESS"
        )
    return PostgresDatabase(
        "postgresql",
        f"the db task of the stack {options.STACK_NAME}",
        f"swarm-{options.STACK_NAME}",
        runner=["docker", *engine, "exec", "-i", container, "sh"],
    )


def _succeeds(command: Sequence[str]) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0


def _output(command: Sequence[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    return (done.stdout if done.returncode == 0 else done.stderr).strip()


# --- The commands ----------------------------------------------------------------------


def target_database(options: BackupSettings, settings: Settings | None) -> Database:
    if options.BACKUP_TARGET == "compose":
        return compose_database(options)
    if options.BACKUP_TARGET == "swarm":
        return swarm_database(options)
    assert settings is not None
    return native_database(settings)


def backup(database: Database, backup_dir: Path) -> Path:
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    file = backup_dir / f"{database.stem}-{stamp}.{database.extension}"
    if file.exists():
        raise BackupError(f"{file} already exists")
    # Written under another name, renamed when complete: a failed backup never
    # looks like one.
    partial = file.with_name(file.name + ".partial")
    say(f"backing up {database.description}")
    try:
        database.dump(partial)
        partial.rename(file)
    finally:
        partial.unlink(missing_ok=True)
    say(f"wrote {_shown(file)} ({file.stat().st_size / 1024:.0f} KiB)")
    return file


def backup_kind(file: Path) -> Kind | None:
    with file.open("rb") as opened:
        head = opened.read(16)
    return next((kind for magic, kind in MAGIC.items() if head.startswith(magic)), None)


def restore(database: Database, file: Path | None, *, backup_dir: Path, assume_yes: bool) -> None:
    if file is None:
        raise BackupError(
            "say which backup to restore: make restore FILE=backups/NAME" + _newest(backup_dir)
        )
    if not file.is_file():
        raise BackupError(f"no such backup file: {file}")
    if file.stat().st_size == 0:
        raise BackupError(f"{file} is empty: not a backup")
    kind = backup_kind(file)
    if kind is None:
        raise BackupError(
            f"{file} is not a backup this command wrote (not a PostgreSQL archive, SQLite "
            "database or gzipped dump), or it is corrupt"
        )
    if kind != database.kind:
        raise BackupError(
            f"{file} is a backup of a {KIND_NAMES[kind]} database: it cannot be restored "
            f"into {database.description}"
        )
    database.check(file)
    _confirm(database, file, assume_yes)
    say(f"restoring {file} into {database.description}")
    database.restore(file)
    say("restored")


def _confirm(database: Database, file: Path, assume_yes: bool) -> None:
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise BackupError(
            "no terminal to confirm on: set FORCE=1 (--yes) to restore without asking"
        )
    answer = input(f"Replace the whole contents of {database.description} with {file}? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise BackupError("nothing restored")


def _newest(backup_dir: Path) -> str:
    files = sorted(
        (f for f in backup_dir.glob("*") if f.is_file() and not f.name.endswith(".partial")),
        key=lambda f: f.stat().st_mtime,
        reverse=True,
    )[:3]
    if not files:
        return ""
    return f"\nnewest in {_shown(backup_dir)}:\n" + "\n".join(f"  {_shown(f)}" for f in files)


def _shown(path: Path) -> str:
    """A path as the user typed it: relative to the checkout when inside it."""
    try:
        return str(path.resolve().relative_to(REPO_DIR))
    except ValueError:
        return str(path)
