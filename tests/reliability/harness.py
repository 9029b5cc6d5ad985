"""Served processes for the reliability checks: a throwaway PostgreSQL cluster, the project under gunicorn, the
Stripe stand-in and task workers, each on loopback, each started and stopped by the test that needs it.

The rest of the suite runs the project inside pytest (the test client, Django's live server thread). These
checks need what only separate processes show: a server that keeps answering while the database restarts, a
worker killed mid-task, a dump restored into another database, throughput of real worker processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 30, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"process {process.args!r} exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s") from None
            time.sleep(0.1)


def pg_bin() -> Path:
    """The PostgreSQL binaries: $PGBIN (set by scripts/test.sh) or the newest Debian install."""
    if os.environ.get("PGBIN"):
        return Path(os.environ["PGBIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (scripts/test.sh installs the Debian package)")
    return found[-1]


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command; if it fails, raise with its output (a failed initdb or pg_ctl says why only there)."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; the test script runs as root on CI machines.
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


@dataclass
class PostgresCluster:
    """One PostgreSQL server in its own data directory on a free loopback port (fsync off: throwaway)."""

    root: Path
    port: int = field(default_factory=free_port)
    settings: str = ""  # more `-c name=value` options for the server

    @property
    def data(self) -> Path:
        return self.root / "pgdata"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> PostgresCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            shutil.chown(self.root, "postgres")
            self.root.chmod(0o755)
        run(_as_postgres([str(pg_bin() / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                          "-E", "UTF8", "--locale=C.UTF-8"]))
        return self.start()

    def pg_ctl(self, *args: str) -> None:
        run(_as_postgres([str(pg_bin() / "pg_ctl"), "-D", str(self.data), *args]))

    def start(self) -> PostgresCluster:
        self.pg_ctl("-w", "-l", str(self.root / "postgres.log"), "-o",
                    f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                    f"-c synchronous_commit=off -c full_page_writes=off {self.settings}", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-w", "-m", mode, "stop")

    def restart(self, mode: str = "fast") -> None:
        self.pg_ctl("-w", "-m", mode, "-l", str(self.root / "postgres.log"), "restart")

    def execute(self, sql: str, database: str = "postgres") -> list[tuple]:
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def clone(self, template: str, name: str) -> str:
        """A new database copied from `template` (no one may be connected to it); returns its URL."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def replicate_to(self, standby: PostgresCluster) -> PostgresCluster:
        """Make `standby` (a cluster not initialised yet) a hot standby of this one: pg_basebackup over the
        replication protocol on loopback (-R: it streams from this cluster from then on), started read-only."""
        standby.root.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            shutil.chown(standby.root, "postgres")
            standby.root.chmod(0o755)
        run(_as_postgres([str(pg_bin() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                          "-D", str(standby.data), "-R", "-X", "stream", "-c", "fast"]))
        return standby.start()


def spawn(command: list[str], workdir: Path, log_name: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a served process from the project root, its output appended to workdir/log_name."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = (workdir / log_name).open("ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_process(process: subprocess.Popen | None, timeout: float = 15) -> None:
    """SIGTERM (each process's own clean shutdown), then SIGKILL if it is not gone within `timeout`."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def project_env(database_url: str, stripe_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a served process: the development settings without DEBUG, the given database, a cache
    every process on this machine shares (files: a change one gunicorn worker makes is seen by the others),
    the Stripe stand-in with the test keys, and background work in the database (django-tasks-db)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "CACHE_URL": f"filecache://{workdir / 'cache'}",
        "PROGRESS_CACHE_URL": f"filecache://{workdir / 'progress'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "PRIVATE_MEDIA_ROOT": str(workdir / "private-media"),
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_JS_URL": f"{stripe_url}/js.stripe.com/v3/",
        "STRIPE_SECRET_KEY": "sk_test_localstripe_reliability",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_localstripe_reliability",
        "STRIPE_WEBHOOK_SECRET": "whsec_localstripe_reliability",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PGBIN", None)
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """`manage.py ARGS` in its own process; raises with its output if it fails."""
    return run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, timeout=timeout)


@dataclass
class Served:
    """The project served by gunicorn (`workers` sync worker processes) on a free loopback port."""

    env: dict[str, str]
    workdir: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Served:
        self.process = spawn(
            [str(BIN / "gunicorn"), "marketplace.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--timeout", "60", "--graceful-timeout", "5"],
            self.workdir, f"gunicorn-{self.port}.log", self.env)
        wait_for_port(self.port, process=self.process)
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 120) -> None:
        # Generous: each worker imports the whole project before it answers, which on a machine running the
        # other test steps beside this one took more than 30 s (the figure an answer must come within is not
        # this check's business; bench/ measures start-up).
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn on {self.url} is not healthy; log in {self.workdir}")
            time.sleep(0.2)

    def stop(self) -> None:
        stop_process(self.process)

    def log(self) -> str:
        return (self.workdir / f"gunicorn-{self.port}.log").read_text(errors="replace")


@dataclass
class Worker:
    """A task worker process on the served database: the Procfile's `run_worker`, as production runs it
    (django-tasks-db's `db_worker` with retries and the recovery of lost workers' tasks)."""

    env: dict[str, str]
    workdir: Path
    name: str = "worker"
    process: subprocess.Popen | None = None
    command: str = "run_worker"

    def start(self, *args: str) -> Worker:
        self.process = spawn([PYTHON, "manage.py", self.command, *args], self.workdir, f"{self.name}.log", self.env)
        return self

    def kill(self) -> None:
        """SIGKILL: the worker dies as on a lost machine, without finishing or releasing anything."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        stop_process(self.process)

    def log(self) -> str:
        return (self.workdir / f"{self.name}.log").read_text(errors="replace")


@dataclass
class RedisServer:
    """Debian's redis-server on a free loopback port, in memory only (no snapshot, no append-only file)."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (scripts/test.sh installs the Debian package)")
        self.process = spawn([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(self.workdir)], self.workdir, f"redis-{self.port}.log")
        wait_for_port(self.port, process=self.process)
        return self

    def stop(self) -> None:
        stop_process(self.process)


@dataclass
class StripeStandIn:
    """A localstripe process of a test's own (one it may stop and start again), its state in a file so that a
    restart keeps the customers and intents made before it."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StripeStandIn:
        self.process = spawn(
            [PYTHON, str(ROOT / "scripts" / "localstripe_server.py"), "--port", str(self.port),
             "--state-file", str(self.workdir / f"localstripe-{self.port}.pickle")],
            self.workdir, f"localstripe-{self.port}.log")
        wait_for_port(self.port, process=self.process)
        return self

    def stop(self) -> None:
        stop_process(self.process, timeout=10)

    def send_webhooks_to(self, served: Served, name: str = "reliability") -> None:
        """Stripe's events for this stand-in go to the served site's webhook, signed with its secret."""
        requests.post(f"{self.url}/_config/webhooks/{name}", timeout=10, data={
            "url": f"{served.url}/stripe/webhook/", "secret": served.env["STRIPE_WEBHOOK_SECRET"]}).raise_for_status()

