"""API fuzzing: schemathesis against the OpenAPI schema a live deployment serves (gunicorn on a copy of the demo),
as each role (anonymous, licensee, holder, IP office), every operation, every check, a fixed number of examples
and a fixed seed (the same cases on every run). Zero server errors and zero schema violations.

Each role fuzzes fully (the coverage phase's boundary values, the fuzzing phase, the stateful phase) the
operations where its answers depend on the parameters: the public ones for the anonymous caller, and what its
token opens for the others. Every other operation (one that answers the role 401 or 403 whatever is sent, or a
public one another role already fuzzed fully) is still sent a few generated cases under every check. The roles
are checked, not assumed: the operations schemathesis reports as answering only 401/403 must be exactly the
ones the role may not use.

Run it alone: DJANGO_SETTINGS_MODULE=marketplace.settings.test .venv/bin/pytest tests/reliability/test_api_fuzzing.py
-q -p no:cacheprovider (the counts go to test-output/reliability-fuzz.json, schemathesis' reports beside them)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.reliability.harness import BIN, ROOT

SEED = 21
MAX_EXAMPLES = 4  # per operation and phase, where the role fuzzes fully
GLANCE_EXAMPLES = 2  # per operation elsewhere: the checks still run on what comes back
# The coverage phase sends each path the methods the API does not serve; the writes are the ones that matter
# for a read-only API (every other method is refused by the same code).
UNEXPECTED_METHODS = ["post", "delete"]
REQUEST_TIMEOUT = 60
OUTPUT = ROOT / "test-output"

PUBLIC = {"/api/", "/api/listings/", "/api/declarations/", "/api/declarations/{id}/", "/api/gazette/"}
LICENCES = {"/api/licences/", "/api/licences/{id}/"}
STATEMENTS = {"/api/statements/", "/api/statements/{slug}/"}
STATISTICS = {"/api/statistics/", "/api/statistics/breakdown/", "/api/statistics/declarations/"}
EVERY = PUBLIC | LICENCES | STATEMENTS | STATISTICS | {"/api/patents/", "/api/needs/"}


@dataclass(frozen=True)
class Role:
    name: str
    email: str | None
    opens: frozenset  # the operations whose answers depend on the parameters for this role
    fuzzes: frozenset  # fuzzed fully: what it opens, less the public ones another role fuzzes fully

    unguessable: frozenset = frozenset()  # open only with a value the fuzzer cannot guess

    @property
    def shut(self) -> set[str]:
        """The operations that answer this role only 401/403."""
        return EVERY - self.opens - self.unguessable


# Each operation is fuzzed fully by one role, the one whose answers it was written for; the same code with
# another user's rows is glanced at by the others (the whole run stays within about 90 s on a loaded machine).
ROLES = [
    Role("anonymous", None, frozenset(PUBLIC), frozenset(PUBLIC)),
    Role("licensee", "licensee@demo.test", frozenset(PUBLIC | LICENCES | STATEMENTS | {"/api/needs/"}),
         frozenset(LICENCES | STATEMENTS | {"/api/needs/"})),
    Role("holder", "holder@demo.test", frozenset(PUBLIC | LICENCES | STATEMENTS | {"/api/patents/"}),
         frozenset({"/api/patents/"})),
    # The IP office reads a holder's patents only when it names one (?holder=slug; without it, 403: it holds
    # none itself), and generated values name none: to the fuzzer /api/patents/ answers it 403 or 404.
    # Its three statistics operations parse their parameters through one function (office.dashboard and its
    # forms): the breakdown (every parameter, and `by`) and the drill-down are fuzzed fully, the figures glanced.
    Role("ip_office", "ipoffice@demo.test", frozenset(PUBLIC | LICENCES | STATEMENTS | STATISTICS),
         frozenset(STATISTICS - {"/api/statistics/"}), unguessable=frozenset({"/api/patents/"})),
]


def _toml_list(values) -> str:
    return "[" + ", ".join(json.dumps(value) for value in sorted(values)) + "]"


def schemathesis_config(role: Role) -> str:
    """schemathesis.toml for one role: the seed, the example counts, every check, and the one exception the
    schema cannot state (below)."""
    glance = sorted(EVERY - role.fuzzes)
    lines = [
        f"seed = {SEED}",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        "unique-inputs = true",
        "[checks]",
        "enabled = true",
        # An answer counts whenever it comes within the request timeout: speed is measured by bench/, not here.
        f"max_response_time = {REQUEST_TIMEOUT}",
        "[phases.coverage]",
        f"unexpected-methods = {_toml_list(UNEXPECTED_METHODS)}",
        # Rules between parameters that OpenAPI 3.0 cannot express: a statistics period's first month must not
        # follow its last nor span more than 36 months; a statement's `view` must be a side the organisation is
        # on. Schema-valid values may break them, and the answer is then a 400 naming the parameter.
        "[[operations]]",
        f"include-path = {_toml_list(STATISTICS | {'/api/statements/{slug}/'})}",
        'checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]',
    ]
    if glance:
        lines += [
            "[[operations]]",
            f"include-path = {_toml_list(glance)}",
            f"generation.max-examples = {GLANCE_EXAMPLES}",
            "phases.coverage.enabled = false",
            "phases.stateful.enabled = false",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class RoleRun:
    role: str
    cases: int
    failures: list
    shut: list  # operations answering only 401/403, as schemathesis saw them
    seconds: float
    output: str

    def summary(self) -> dict:
        return {"role": self.role, "cases": self.cases, "failures": len(self.failures),
                "operations_answering_only_401_403": self.shut, "seconds": round(self.seconds, 1)}


def served_schema(base_url: str, path: Path) -> Path:
    """The schema as the deployment serves it at /api/schema/, saved once: generating it takes seconds on a
    loaded machine, longer than schemathesis waits for it, and it is the same for every role."""
    response = requests.get(f"{base_url}/api/schema/", timeout=300,
                            headers={"Accept": "application/vnd.oai.openapi+json"})
    response.raise_for_status()
    path.write_bytes(response.content)
    return path


def fuzz(base_url: str, schema: Path, role: Role, token: str | None, workdir: Path) -> RoleRun:
    """One schemathesis run (its CLI, as a developer would run it) for one role; its JSON report read back."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    config = workdir / "schemathesis.toml"
    config.write_text(schemathesis_config(role))
    reports = workdir / "reports"
    command = [str(BIN / "schemathesis"), "--config-file", str(config), "run", str(schema), "--url", base_url,
               "--request-timeout", str(REQUEST_TIMEOUT), "--checks", "all", "--workers", "1", "--no-color",
               "--report", "json,junit", "--report-dir", str(reports), "--report-json-path", str(reports / "report.json")]
    if token:
        command += ["--header", f"Authorization: Token {token}"]
    started = time.monotonic()
    finished = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900, check=False)
    seconds = time.monotonic() - started
    report_file = reports / "report.json"
    assert report_file.exists(), finished.stdout + finished.stderr  # schemathesis could not start
    report = json.loads(report_file.read_text())
    return RoleRun(role=role.name, cases=report["test_cases"]["generated"], failures=report["failures"],
                   shut=sorted(report["warnings"]["missing_auth"]), seconds=seconds,
                   output=finished.stdout + finished.stderr)


def tokens_for(site, emails: list[str]) -> dict[str, str]:
    """Tokens made on the deployment by the management command an operator would use (called in one process:
    each manage.py process spends seconds importing the project)."""
    script = "from django.core.management import call_command\n" + "".join(
        f"call_command('drf_create_token', {email!r})\n" for email in emails)
    out = site.manage("shell", "-c", script).stdout
    made = re.findall(r"Generated token (\S+) for user (\S+)", out)
    assert sorted(email for _token, email in made) == sorted(emails), out
    return {email: token for token, email in made}


def test_fuzzing_as_every_role_finds_no_server_error_and_no_schema_violation(shared_site, reliability_root):
    # The session's served copy of the demo (conftest.shared_site): the API is read-only, so fuzzing it leaves the
    # demo as the other checks expect it, and a deployment of its own cost ~20 s to start and stop.
    site = shared_site
    workdir = reliability_root / "fuzz"
    workdir.mkdir()
    schema = served_schema(site.server.url, workdir / "schema.json")
    made = tokens_for(site, [role.email for role in ROLES if role.email])
    tokens = {role.name: made.get(role.email) for role in ROLES}
    # The roles side by side, one request at a time each: the server's two workers and the four clients
    # overlap (a single run leaves the server idle while schemathesis generates and checks).
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(ROLES)) as pool:
        runs = list(pool.map(lambda role: fuzz(site.server.url, schema, role, tokens[role.name],
                                                workdir / role.name), ROLES))
    seconds = time.monotonic() - started
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "reliability-fuzz.json").write_text(json.dumps(
        {"seed": SEED, "max_examples": MAX_EXAMPLES, "glance_examples": GLANCE_EXAMPLES,
         "seconds": round(seconds, 1), "roles": [run.summary() for run in runs]}, indent=2))
    for run in runs:
        print(f"fuzzing as {run.role}: {run.cases} cases, {len(run.failures)} failures, {run.seconds:.1f} s")

    for role, run in zip(ROLES, runs, strict=True):
        # The failures with schemathesis' own account of each (the request as curl, the response, the check).
        assert run.failures == [], f"as {role.name}:\n" + run.output[-20000:]
        assert run.cases > 0, run.output[-5000:]
        # The token worked, and opened what the role may use and nothing more (an operation with a path
        # parameter also answers 404 to an address its route refuses, so it is never reported as only 401/403).
        assert set(run.shut) - {f"GET {path}" for path in role.unguessable} == {
            f"GET {path}" for path in role.shut if "{" not in path}, f"as {role.name}:\n" + run.output[-5000:]
