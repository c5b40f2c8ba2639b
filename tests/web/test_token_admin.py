"""API tokens expire and can be revoked: ``hsm-workflow token create|list|revoke`` as a subprocess,
the administrators' token page, and the API refusing expired or revoked tokens."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import select, update
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from hsm_workflow.db.models import ApiToken
from hsm_workflow.db.schema import alembic_config, upgrade
from hsm_workflow.db.session import make_engine
from hsm_workflow.services import tokens

from .helpers import post, text
from .processes import product_env, run

HEADER = "id\tuser\tcreated\texpires\tlast used\trevoked"


@pytest.fixture
def cli(runtime, settings, tmp_path):
    """``cli("token", "list")``: the command's result on this test's database."""
    env = product_env(settings.database_url, tmp_path / "instance")
    return lambda *args: run(env, *args)


def _rows(output: str) -> list[list[str]]:
    lines = output.splitlines()
    assert lines[0] == HEADER
    return [line.split("\t") for line in lines[1:]]


def _expires_at(runtime, token_id: int) -> datetime:
    with runtime.reading() as session:
        return session.scalar(select(ApiToken.expires_at).where(ApiToken.id == token_id))


def _api_status(app, token: str) -> int:
    return app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code


def test_tokens_are_created_listed_and_revoked_at_the_command_line(cli, runtime, app):
    made = cli("token", "create", "master")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("hsm_")
    short = cli("token", "create", "caseworker", "--days", "7").stdout.strip()

    listed = cli("token", "list")
    assert listed.returncode == 0 and token not in listed.stdout and short not in listed.stdout
    rows = _rows(listed.stdout)
    assert [(r[0], r[1], r[4], r[5]) for r in rows] == [("2", "caseworker", "-", "-"), ("1", "master", "-", "-")]
    for token_id, days in ((1, 90), (2, 7)):
        with runtime.reading() as session:
            row = session.get(ApiToken, token_id)
            assert row.expires_at - row.created_at == timedelta(days=days)
    assert [r[1] for r in _rows(cli("token", "list", "master").stdout)] == ["master"]

    assert _api_status(app, token) == 200  # the app's virtual clock is long before the expiry
    assert re.match(r"\d{4}-\d\d-\d\d", _rows(cli("token", "list", "master").stdout)[0][4])  # last used

    revoked = cli("token", "revoke", "1")
    assert (revoked.returncode, revoked.stdout.strip()) == (0, "token 1 revoked")
    assert _api_status(app, token) == 401
    assert _rows(cli("token", "list", "master").stdout)[0][5].endswith(" by system:cli")
    again = cli("token", "revoke", "1")
    assert again.returncode == 0 and "already revoked" in again.stdout
    missing = cli("token", "revoke", "99")
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: no API token 99")


def test_a_token_of_zero_days_is_refused(cli):
    refused = cli("token", "create", "master", "--days", "0")
    assert refused.returncode == 1 and "at least a day" in refused.stderr
    assert _rows(cli("token", "list").stdout) == []


def test_the_list_marks_expired_tokens(cli, runtime):
    cli("token", "create", "master", "--days", "1")
    with runtime.transaction() as session:
        session.execute(update(ApiToken).values(expires_at=datetime(2020, 1, 1, tzinfo=timezone.utc)))
    [row] = _rows(cli("token", "list").stdout)
    assert row[3] == "2020-01-01T00:00:00+00:00 (expired)"


def test_an_expired_token_gets_401(app, runtime, clock):
    token = tokens.create_token(runtime, "master", days=2)
    assert _api_status(app, token) == 200
    clock.advance(timedelta(days=2) - timedelta(seconds=1))
    assert _api_status(app, token) == 200
    clock.advance(timedelta(seconds=1))
    assert _api_status(app, token) == 401


def test_a_token_lasts_90_days_unless_asked(app, runtime, clock):
    token = tokens.create_token(runtime, "master")
    assert _expires_at(runtime, 1) == clock.now() + timedelta(days=90)
    clock.advance(timedelta(days=90))
    assert _api_status(app, token) == 401


# --- the administrators' page ------------------------------------------------------------------
def test_administrators_see_every_token_but_never_the_secret(client_for, runtime, clock):
    first = tokens.create_token(runtime, "master")
    clock.advance(timedelta(days=1))
    tokens.create_token(runtime, "caseworker", days=1)
    clock.advance(timedelta(days=1))
    admin = client_for("admin")
    assert 'href="/admin/tokens"' in text(admin.get("/admin"))
    page = text(admin.get("/admin/tokens"))
    assert "2 tokens" in page and first not in page and first[4:12] not in page
    assert '<tr id="token-1">' in page and '<tr id="token-2">' in page
    assert page.count(">Revoke</button>") == 1 and ">expired<" in page  # the caseworker's has expired
    assert "1 token of master" in text(admin.get("/admin/tokens?user=master"))


def test_an_administrator_revokes_a_token_on_the_page(client_for, runtime, app):
    token = tokens.create_token(runtime, "master")
    admin = client_for("admin")
    response = post(admin, "/admin/tokens/1/revoke", token_from="/admin/tokens")
    assert response.location == "/admin/tokens"
    page = text(admin.get("/admin/tokens"))
    assert "Token 1 revoked." in page and "revoked <time" in page and "by admin" in page
    assert _api_status(app, token) == 401
    assert "already revoked" in text(post(admin, "/admin/tokens/1/revoke", token_from="/admin/tokens",
                                          follow_redirects=True))


def test_the_token_page_is_for_administrators_only(client_for, runtime, app):
    token = tokens.create_token(runtime, "master")
    master = client_for("master")
    assert master.get("/admin/tokens").status_code == 403
    assert post(master, "/admin/tokens/1/revoke").status_code == 403
    assert _api_status(app, token) == 200
    assert app.test_client().get("/admin/tokens").status_code == 302


def test_tokens_made_before_the_migration_expire_90_days_after_they_were_made(database_url):
    engine = make_engine(database_url)
    made = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(engine, connection), "0002")
            connection.execute(sql("INSERT INTO users (id, username, display_name, is_admin, active) "
                                   "VALUES (1, 'master', 'Master', false, true)"))
            connection.execute(sql("INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES (1, 'h', :at)"),
                               {"at": made})
        upgrade(engine)
        with Session(engine) as session:
            [row] = session.scalars(select(ApiToken))
            assert (row.expires_at, row.revoked_at, row.last_used_at) == (made + timedelta(days=90), None, None)
        with engine.begin() as connection:
            command.downgrade(alembic_config(engine, connection), "0002")
    finally:
        engine.dispose()
