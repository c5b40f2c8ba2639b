"""Live tests: the product as deployed, on the wall clock, a real port and real processes.

Every command runs as a subprocess (``python -m hsm_workflow ...``) in a process group of
its own, with its output in a log file; teardown kills every group. When a live assertion
fails, put ``live_processes.logs()`` in its message.

Fixtures for live tests:

- ``live_database`` -> :class:`LiveDatabase`: a temporary SQLite file, and a fresh PostgreSQL
  schema when HSM_TEST_DATABASE_URL is set; ``hsm-workflow init`` has created it and deployed
  ``tests/live/fixtures/processes``, the demo organisation (one user per role, e-mail
  ``<username>@example.ac.uk``) is in it, and ``token`` is an API token of ``admin`` made by
  ``hsm-workflow token create``. ``env`` is the environment every command gets.
- ``serve(scheduler=True, extra_env=None)`` -> :class:`ServedApp`: ``hsm-workflow serve`` on a
  free port (``--no-scheduler`` when ``scheduler`` is false), once ``/health`` answers.
  ``served_app`` is ``serve()``: the app with its in-process scheduler.
- ``scheduler_process(extra_env=None)`` -> :class:`LiveProcess`: one ``hsm-workflow scheduler``.
- ``smtp_listener`` -> :class:`SmtpListener`: an SMTP server on a free port collecting what it
  receives; pass ``smtp_listener.env`` as ``extra_env`` to point the product at it.
- ``live_processes``: every process started in the test, for ``logs()`` and ``kill()``.
"""
from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hsm_workflow.config import Settings
from hsm_workflow.db.session import make_engine
from hsm_workflow.services.demo import seed_organisation
from hsm_workflow.services.runtime import Runtime
from conftest import BACKENDS, postgresql_schema

LIVE_FIXTURES = Path(__file__).resolve().parent / "fixtures"
STARTUP_SECONDS = 30
LOG_TAIL_CHARS = 4000
T = TypeVar("T")


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hsm_workflow", *args]


def product_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of every product command: this test's database, fixtures and outbox only."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HSM_")}
    return env | {
        "HSM_DATABASE_URL": database_url,
        "HSM_PROCESSES_DIR": str(LIVE_FIXTURES / "processes"),
        "HSM_FORMS_DIR": str(LIVE_FIXTURES / "forms"),
        "HSM_LETTERS_DIR": str(LIVE_FIXTURES / "letters"),
        "HSM_MAIL_FILE": str(tmp_path / "outbox.log"),
        "HSM_SECRET_KEY": uuid.uuid4().hex,
        "PYTHONUNBUFFERED": "1",
    }


def run_command(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run one product command to its end; its stdout, or a failed assertion with its output."""
    done = subprocess.run(command(*args), env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"hsm-workflow {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def wait_for(probe: Callable[[], T | None], *, timeout: float, interval: float = 0.05,
             failure: Callable[[], str] = lambda: "") -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``failure()`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout} s\n{failure()}")
        time.sleep(interval)


@dataclass
class LiveProcess:
    """A product process started by a test, with its output in ``log``."""

    name: str
    popen: subprocess.Popen
    log: Path

    def output(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-LOG_TAIL_CHARS:]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group and wait for the process to end."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


class LiveProcesses:
    """The processes a test started: their logs for assertion messages, and teardown."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.started: list[LiveProcess] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> LiveProcess:
        log = self.directory / f"{len(self.started):02d}-{name}.log"
        with log.open("w") as out:
            popen = subprocess.Popen(command(*args), env=env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        process = LiveProcess(name, popen, log)
        self.started.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (pid {p.popen.pid}, exit {p.popen.poll()}) ---\n{p.output()}"
                         for p in self.started)

    def stop_all(self) -> None:
        for process in self.started:
            process.kill(signal.SIGTERM)


@dataclass
class LiveDatabase:
    url: str
    env: dict[str, str]
    token: str
    tmp_path: Path
    engine: Engine

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session on the product's database, for checks the API does not show."""
        with Session(self.engine) as session:
            yield session


@dataclass
class ServedApp:
    """``hsm-workflow serve`` on a real port, and an API client for it (as ``admin``)."""

    database: LiveDatabase
    port: int
    process: LiveProcess
    processes: LiveProcesses
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return self.database.env

    @property
    def log(self) -> Path:
        return self.process.log

    def api(self, method: str, path: str, expect: int = 200, **kwargs) -> Any:
        response = self.http.request(method, f"{self.base_url}/api/v1{path}", timeout=30,
                                     headers={"Authorization": f"Bearer {self.database.token}"}, **kwargs)
        assert response.status_code == expect, (
            f"{method} {path} -> {response.status_code} {response.text}\n{self.processes.logs()}")
        return response.json()

    def start_case(self, process_id: str, variables: dict | None = None, unit: str | None = None) -> str:
        body = {"process_id": process_id, "variables": variables or {}, "unit": unit}
        return self.api("POST", "/cases", expect=201, json=body)["reference"]

    def case(self, reference: str) -> dict:
        return self.api("GET", f"/cases/{reference}")


@pytest.fixture
def live_processes(tmp_path) -> Iterator[LiveProcesses]:
    processes = LiveProcesses(tmp_path)
    yield processes
    processes.stop_all()


def _prepare(url: str, tmp_path: Path) -> LiveDatabase:
    env = product_env(url, tmp_path)
    run_command(env, "init")
    users = Runtime(Settings.from_env().with_database(url))
    seed_organisation(users)
    users.dispose()
    token = run_command(env, "token", "create", "admin").strip()
    return LiveDatabase(url, env, token, tmp_path, make_engine(url))


@pytest.fixture(params=BACKENDS)
def live_database(request, tmp_path) -> Iterator[LiveDatabase]:
    """A prepared database on each backend: schema, live fixture processes, demo users, a token."""
    if request.param == "sqlite":
        database = _prepare(f"sqlite:///{tmp_path / 'live.db'}", tmp_path)
        yield database
        database.engine.dispose()
        return
    with postgresql_schema() as url:
        database = _prepare(url, tmp_path)
        yield database
        database.engine.dispose()


@pytest.fixture
def serve(live_database, live_processes) -> Callable[..., ServedApp]:
    def start(scheduler: bool = True, extra_env: dict[str, str] | None = None) -> ServedApp:
        port = free_port()
        args = ["serve", "--host", "127.0.0.1", "--port", str(port)] + ([] if scheduler else ["--no-scheduler"])
        process = live_processes.start("serve", args, live_database.env | (extra_env or {}))
        app = ServedApp(live_database, port, process, live_processes)

        def healthy() -> bool:
            assert process.popen.poll() is None, f"serve exited early\n{live_processes.logs()}"
            try:
                return app.http.get(f"{app.base_url}/health", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(healthy, timeout=STARTUP_SECONDS, interval=0.1, failure=live_processes.logs)
        return app
    return start


@pytest.fixture
def served_app(serve) -> ServedApp:
    """The web app with its in-process scheduler, as ``make run`` serves it."""
    return serve()


@pytest.fixture
def scheduler_process(live_database, live_processes) -> Callable[..., LiveProcess]:
    def start(extra_env: dict[str, str] | None = None) -> LiveProcess:
        return live_processes.start("scheduler", ["scheduler"], live_database.env | (extra_env or {}))
    return start


@dataclass(frozen=True)
class ReceivedMail:
    recipients: tuple[str, ...]
    subject: str
    body: str
    at: datetime


class _Collector:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self, mails: list[ReceivedMail], lock: threading.Lock):
        self.mails, self.lock = mails, lock

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        body = message.get_body(("plain",))
        with self.lock:
            self.mails.append(ReceivedMail(tuple(envelope.rcpt_tos), str(message["Subject"]).strip(),
                                           body.get_content() if body else "", datetime.now().astimezone()))
        return "250 Message accepted"


@dataclass
class SmtpListener:
    host: str
    port: int
    _mails: list[ReceivedMail]
    _lock: threading.Lock

    @property
    def env(self) -> dict[str, str]:
        return {"HSM_SMTP_HOST": self.host, "HSM_SMTP_PORT": str(self.port)}

    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._mails)


@pytest.fixture
def smtp_listener() -> Iterator[SmtpListener]:
    from aiosmtpd.controller import Controller

    mails: list[ReceivedMail] = []
    lock = threading.Lock()
    controller = Controller(_Collector(mails, lock), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SmtpListener(controller.hostname, controller.port, mails, lock)
    controller.stop()
