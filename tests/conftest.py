"""Shared fixtures: every database test runs on SQLite and, when HSM_TEST_DATABASE_URL
is set, on PostgreSQL too (each test in a schema of its own)."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from hsm_workflow.clock import VirtualClock
from hsm_workflow.config import Settings
from hsm_workflow.domain.principals import Principal
from hsm_workflow.services import access
from hsm_workflow.services.demo import seed_organisation
from hsm_workflow.services.runtime import Runtime

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PG_URL = os.environ.get("HSM_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_driver(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@contextmanager
def postgresql_schema():
    """A URL for a fresh PostgreSQL schema of its own, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_driver(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{_pg_driver(PG_URL)}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A fresh, empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hsm.db'}"
        return
    with postgresql_schema() as url:
        yield url


def make_settings(database_url: str, tmp_path: Path, *, fixtures: bool) -> Settings:
    base = Settings.from_env()
    where = FIXTURES if fixtures else ROOT
    return replace(base, database_url=database_url, processes_dir=where / "processes",
                   forms_dir=where / "forms", letters_dir=where / "letters", mail_file=tmp_path / "mail.log",
                   instance_dir=tmp_path / "instance")


START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return VirtualClock(START)


@pytest.fixture
def settings(database_url, tmp_path):
    return make_settings(database_url, tmp_path, fixtures=True)


@pytest.fixture
def runtime(settings, clock):
    """A runtime on a fresh database with the demo organisation and the test diagrams."""
    runtime = Runtime(settings, clock)
    runtime.create_schema()
    seed_organisation(runtime)
    yield runtime
    runtime.dispose()


TESTER = Principal("tester", "Test harness", is_admin=False, is_system=True)
"""A system actor for set-up steps a test does not check the permissions of."""


def as_user(runtime: Runtime, username: str) -> Principal:
    """The principal of an active demo user, as the web app or API would pass it."""
    found = access.principal(runtime, username)
    assert found is not None, f"no active user {username!r}"
    return found
