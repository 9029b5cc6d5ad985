"""Fixtures of the reliability checks (tests/reliability/harness.py): one PostgreSQL cluster and one Stripe
stand-in per session, a migrated demo database made once and copied for each test that serves the project."""

import itertools
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.reliability.harness import PostgresCluster, Served, StripeStandIn, Worker, manage, project_env

HERE = Path(__file__).resolve().parent
SEEDED = "seeded"


def pytest_collection_modifyitems(config, items):
    # Every test in this folder is a reliability check: its own step of make test (scripts/test.sh).
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="session")
def reliability_root():
    # Not pytest's tmp_path: its parent is private to the user running the tests, and PostgreSQL runs as the
    # postgres user when the tests run as root.
    root = Path(tempfile.mkdtemp(prefix="patent-market-reliability-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster(reliability_root):
    """A PostgreSQL cluster of the reliability checks' own: they restart it, dump it and restore into it."""
    pg = PostgresCluster(reliability_root / "pg").init()
    yield pg
    pg.destroy()


@pytest.fixture(scope="session")
def stripe_stand_in(reliability_root):
    stand_in = StripeStandIn(reliability_root / "stripe").start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="session")
def seeded_database(cluster, stripe_stand_in, reliability_root) -> str:
    """The demo as `make run` makes it (migrate, seed_demo), once per session, as a template to copy."""
    cluster.execute(f'CREATE DATABASE "{SEEDED}"')
    env = project_env(cluster.url(SEEDED), stripe_stand_in.url, reliability_root / "seed")
    # One process for both commands (call_command, as manage.py runs them): each process spends seconds importing
    # the project before it starts.
    manage(env, "shell", "-c", "from django.core.management import call_command\n"
                               "call_command('migrate', interactive=False)\ncall_command('seed_demo')")
    return SEEDED


@dataclass
class Deployment:
    """One served copy of the demo: its database (a copy of the seeded one), gunicorn, and workers on demand."""

    cluster: PostgresCluster
    database: str
    env: dict
    workdir: Path
    server: Served
    workers: list = field(default_factory=list)

    def worker(self, name: str = "worker", *args: str) -> Worker:
        worker = Worker(self.env, self.workdir, name).start(*args)
        self.workers.append(worker)
        return worker

    def manage(self, *args: str, timeout: float = 600):
        return manage(self.env, *args, timeout=timeout)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.server.stop()


_numbers = itertools.count(1)


@pytest.fixture
def deploy(cluster, seeded_database, stripe_stand_in, reliability_root):
    """deploy(workers=2, **env) -> a Deployment serving a fresh copy of the demo, its Stripe events sent to it."""
    made = []

    def make(workers: int = 2, stripe: StripeStandIn | None = None, **extra_env: str) -> Deployment:
        number = next(_numbers)
        name = f"site_{number}"
        workdir = reliability_root / name
        stand_in = stripe or stripe_stand_in
        url = cluster.clone(seeded_database, name)
        env = project_env(url, stand_in.url, workdir, **extra_env)
        deployment = Deployment(cluster, name, env, workdir, Served(env, workdir, workers))
        made.append(deployment)
        deployment.server.start()
        stand_in.send_webhooks_to(deployment.server, name)
        return deployment

    yield make
    for deployment in made:
        deployment.stop()


@pytest.fixture(scope="session")
def shared_site(cluster, seeded_database, stripe_stand_in, reliability_root) -> Deployment:
    """One served copy of the demo shared by the API fuzzing (read-only, first), the load, restart and backup checks
    and the harness's own check (test_api_fuzzing.py, test_load.py, test_restart.py, test_backup_restore.py,
    test_served.py): starting gunicorn on a loaded machine costs more than each of them does with it.
    Persistent, health-checked connections as in production (marketplace/settings/production.py). Each check takes
    its licences on declarations its licensees have not licensed yet, so it does not depend on the others' runs."""
    name = f"site_{next(_numbers)}"
    workdir = reliability_root / name
    env = project_env(cluster.url(name), stripe_stand_in.url, workdir, CONN_MAX_AGE="60", CONN_HEALTH_CHECKS="true")
    cluster.clone(seeded_database, name)
    # The files the demo uploaded (its inventories, in the private media) go with its database, as on a server.
    for folder in ("media", "private-media"):
        if (reliability_root / "seed" / folder).exists():
            shutil.copytree(reliability_root / "seed" / folder, workdir / folder, dirs_exist_ok=True)
    site = Deployment(cluster, name, env, workdir, Served(env, workdir, 2))
    site.server.start()
    stripe_stand_in.send_webhooks_to(site.server, name)
    yield site
    site.stop()
