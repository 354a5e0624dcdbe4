"""PostgreSQL 15 with role kestrel (the bootstrap superuser) and databases kestrel and mlflow."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from . import install
from .base import Server
from .procs import log_tail
from .render import postgres_conf
from .settings import DB_NAMES, DB_PASSWORD, DB_USER, InfraError

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SYSTEM_USER = "postgres"
INCLUDE_LINE = "include = 'kestrel.conf'"


class PostgresDb(Server):
    name = "postgres"
    port_fields = ("postgres",)
    # SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for MLflow's pool to leave.
    stop_signal = signal.SIGINT

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "data"

    def missing_packages(self) -> list[str]:
        return install.missing_commands({str(PG_BIN / "postgres"): "postgresql-15"})

    def run_as(self) -> str | None:
        # PostgreSQL refuses to run as root; anyone else runs it as themselves.
        return SYSTEM_USER if os.geteuid() == 0 else None

    def _chown(self, path: Path) -> None:
        user = self.run_as()
        if user is not None:
            shutil.chown(path, user, user)

    def prepare(self) -> None:
        super().prepare()
        user = self.run_as()
        if user is not None:
            install.ensure_system_user(user)
        self._chown(self.data_dir)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        conf = self.pgdata / "kestrel.conf"
        conf.write_text(postgres_conf(self.cfg))
        self._chown(conf)
        main_conf = self.pgdata / "postgresql.conf"
        if INCLUDE_LINE not in main_conf.read_text():
            with main_conf.open("a") as f:
                f.write(f"\n{INCLUDE_LINE}\n")

    def _initdb(self) -> None:
        pwfile = self.data_dir / "initdb.pw"
        pwfile.write_text(DB_PASSWORD + "\n")
        self._chown(pwfile)
        command = [
            str(PG_BIN / "initdb"), "--pgdata", str(self.pgdata), "--username", DB_USER,
            f"--pwfile={pwfile}", "--encoding=UTF8", "--locale=C.UTF-8",
            "--auth-host=scram-sha-256", "--auth-local=peer",
        ]  # fmt: skip
        user = self.run_as()
        try:
            with self.log_path.open("ab") as log:
                log.write(b"\n=== initdb\n")
                log.flush()
                result = subprocess.run(
                    command, stdout=log, stderr=subprocess.STDOUT, check=False, cwd=self.data_dir,
                    user=user, group=user, extra_groups=[] if user else None,
                )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise InfraError(
                f"initdb failed; see {self.log_path} (the {user or 'current'} user needs to reach "
                f"{self.data_dir}: every parent directory must be searchable). Last lines:\n"
                f"{log_tail(self.log_path)}"
            )

    def command(self) -> list[str]:
        return [str(PG_BIN / "postgres"), "-D", str(self.pgdata)]

    def psql(self, database: str, query: str) -> list[str]:
        """Run one SQL statement as kestrel over TCP; the rows, one per line, fields joined by |."""
        command = [
            str(PG_BIN / "psql"), "--no-psqlrc", "--tuples-only", "--no-align", "--set=ON_ERROR_STOP=1",
            "--host", self.cfg.host, "--port", str(self.cfg.ports.postgres), "--username", DB_USER,
            "--dbname", database, "--command", query,
        ]  # fmt: skip
        env = {**os.environ, "PGPASSWORD": DB_PASSWORD, "PGCONNECT_TIMEOUT": "2"}
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=30)
        if result.returncode != 0:
            raise InfraError(f"psql on {database} failed: {result.stderr.strip()}")
        return result.stdout.splitlines()

    def probe(self) -> None:
        isready = [str(PG_BIN / "pg_isready"), "-q", "-h", self.cfg.host, "-p", str(self.cfg.ports.postgres)]
        if subprocess.run(isready, check=False, timeout=10).returncode != 0:
            raise InfraError("pg_isready: not accepting connections")
        if self.psql("postgres", "SELECT 1") != ["1"]:
            raise InfraError("SELECT 1 did not answer 1")

    def after_ready(self) -> None:
        existing = set(self.psql("postgres", "SELECT datname FROM pg_database"))
        for database in DB_NAMES:
            if database not in existing:
                self.psql("postgres", f'CREATE DATABASE "{database}" OWNER "{DB_USER}"')
            # The real query the readiness contract asks for, in each database the clients use.
            if self.psql(database, "SELECT current_database()") != [database]:
                raise InfraError(f"database {database} is not reachable as {DB_USER}")
