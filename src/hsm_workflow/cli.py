"""The ``hsm-workflow`` command: thin wrappers over the service layer.

Every command exits 0 on success, or 1 with a one-line reason on stderr.
"""
from __future__ import annotations

import functools
import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from .config import Settings
from .domain.principals import COMMAND_LINE, Principal
from .domain.status import CaseStatus
from .errors import DeploymentRefused, HsmError, InvalidData
from .services import access, admin, cases, deployment, tasks
from .services.runtime import Runtime


def _runtime() -> Runtime:
    return Runtime(Settings.from_env())


def _json_option(name: str = "--data"):
    return click.option(name, "data", default="{}", help="JSON object", callback=_parse_json)


def _parse_json(_ctx, _param, value: str) -> dict:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise click.BadParameter("must be a JSON object")
    return parsed


def _actor(runtime: Runtime, username: str | None, system: bool) -> Principal:
    """The principal a command acts as: ``--user NAME`` (an active user) or ``--system``.

    With neither, the command acts as the system actor and says so on stderr; the case's
    record names ``system:cli`` either way, never a made-up user.
    """
    if username and system:
        raise click.UsageError("give --user NAME or --system, not both")
    if username:
        found = access.principal(runtime, username)
        if found is None:
            raise HsmError(f"no active user {username!r}")
        return found
    if not system:
        click.echo(f"note: acting as the system actor ({COMMAND_LINE.username}); "
                   "--user NAME acts as that person", err=True)
    return COMMAND_LINE


def acting(command):
    """``--user NAME`` / ``--system`` options, resolved to an ``actor`` argument."""
    @click.option("--system", is_flag=True, help="act as the system actor (recorded as system:cli)")
    @click.option("--user", "username", default=None, help="act as this user (must hold the rights)")
    @functools.wraps(command)
    def wrapped(username: str | None, system: bool, **kwargs):
        runtime = _runtime()
        return command(runtime=runtime, actor=_actor(runtime, username, system), **kwargs)
    return wrapped


def _print(value) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


class Main(click.Group):
    """Turns refusals into a one-line reason and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DeploymentRefused as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            click.echo(f"error: deployment refused ({len(error.problems)} problems); nothing deployed", err=True)
            sys.exit(1)
        except InvalidData as error:
            fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.errors.items())
            click.echo(f"error: {error} ({fields})", err=True)
            sys.exit(1)
        except HsmError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)


@click.group(cls=Main)
def main() -> None:
    """Run university harassment and sexual misconduct procedures."""


@main.command()
@click.option("--demo", is_flag=True, help="also create demo users and cases")
def init(demo: bool) -> None:
    """Create or upgrade the database and deploy processes/."""
    from .services.demo import seed_organisation
    from .services.directory import ensure_roles

    runtime = _runtime()
    runtime.create_schema()
    with runtime.transaction() as session:
        ensure_roles(session)
    if demo:
        seed_organisation(runtime)
    _deploy(runtime, COMMAND_LINE, [runtime.settings.processes_dir])
    if demo:
        from .services.demo_cases import seed_cases
        made = seed_cases(runtime)
        click.echo(f"demo: {made} demo cases created" if made else "demo: cases already present, none added")
        click.echo("demo: sign in as 'admin' or a role name (e.g. 'senior_tutor') with password 'demo'")


def _deploy(runtime: Runtime, actor: Principal, paths: list[Path]) -> None:
    files = deployment.read_bpmn(paths)
    for result in admin.deploy(runtime, actor, files):
        state = "deployed" if result.changed else "unchanged"
        click.echo(f"{result.process_id} v{result.version} {state}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@acting
def deploy(runtime: Runtime, actor: Principal, paths: tuple[Path, ...]) -> None:
    """Validate and deploy BPMN files (default: processes/)."""
    runtime.create_schema()
    _deploy(runtime, actor, list(paths) or [runtime.settings.processes_dir])


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check BPMN files exactly as a deployment would, without deploying."""
    from .domain.roles import ROLES

    settings = Settings.from_env()
    library = deployment.Library.load(settings.forms_dir, settings.letters_dir)
    processes, problems = deployment.validate(deployment.read_bpmn(list(paths)), library,
                                              {r.code for r in ROLES})
    if problems:
        raise DeploymentRefused(problems)
    click.echo(f"ok: {len(processes)} processes valid ({', '.join(sorted(processes))})")


@main.group()
def case() -> None:
    """Start, inspect and act on cases."""


@case.command("start")
@click.argument("process")
@_json_option()
@click.option("--unit", default=None)
@click.option("--parent", default=None, help="reference of the case this one is linked to")
@acting
def case_start(runtime: Runtime, actor: Principal, process: str, data: dict, unit: str | None,
               parent: str | None) -> None:
    summary = cases.start_case(runtime, actor, process, data, unit=unit, parent=parent)
    click.echo(summary.reference)


@case.command("show")
@click.argument("reference")
@acting
def case_show(runtime: Runtime, actor: Principal, reference: str) -> None:
    _print(asdict(access.case_file(runtime, actor, reference)))


@case.command("message")
@click.argument("reference")
@click.argument("name")
@_json_option()
@click.option("--reason", default=None, help="needed when acting on behalf of the roles that send it")
@acting
def case_message(runtime: Runtime, actor: Principal, reference: str, name: str, data: dict,
                 reason: str | None) -> None:
    """Deliver a message the case waits for (only the roles its diagram names may send it)."""
    cases.deliver_message(runtime, actor, reference, name, data, reason=reason)
    click.echo(f"{reference}: {name} delivered")


def _status_command(name: str, status: CaseStatus):
    @case.command(name)
    @click.argument("reference")
    @click.option("--reason", required=True)
    @acting
    def command(runtime: Runtime, actor: Principal, reference: str, reason: str) -> None:
        cases.set_status(runtime, actor, reference, status, reason=reason)
        click.echo(f"{reference}: {status}")
    command.__doc__ = f"{name.capitalize()} a case (the reason is logged)."
    return command


_status_command("suspend", CaseStatus.SUSPENDED)
_status_command("resume", CaseStatus.RUNNING)
_status_command("terminate", CaseStatus.TERMINATED)


@case.command("retry")
@click.argument("reference")
@click.option("--reason", required=True)
@acting
def case_retry(runtime: Runtime, actor: Principal, reference: str, reason: str) -> None:
    """Run a case in error again once its cause is fixed (the reason is logged)."""
    fired = cases.retry(runtime, actor, reference, reason=reason)
    click.echo(f"{reference}: running again ({fired} timers fired)")


@main.group()
def task() -> None:
    """List, claim and complete tasks."""


@task.command("list")
@acting
def task_list(runtime: Runtime, actor: Principal) -> None:
    """A user's inbox (--user), or every open task (--system)."""
    for item in tasks.list_tasks(runtime, actor):
        due = item.due_on.isoformat() if item.due_on else "-"
        flag = " OVERDUE" if item.overdue else ""
        click.echo(f"{item.id}\t{item.case}\t{item.role}\t{due}{flag}\t{item.name}")


@task.command("complete")
@click.argument("task_id", type=int)
@_json_option()
@acting
def task_complete(runtime: Runtime, actor: Principal, task_id: int, data: dict) -> None:
    following = tasks.complete(runtime, actor, task_id, data)
    click.echo(f"task {task_id} completed" + (f"; next: task {following.id} {following.name}" if following else ""))


@task.command("claim")
@click.argument("task_id", type=int)
@acting
def task_claim(runtime: Runtime, actor: Principal, task_id: int) -> None:
    claimed = tasks.claim(runtime, actor, task_id)
    click.echo(f"task {task_id} claimed by {actor.username}" if claimed else
               f"task {task_id} is already yours; nothing changed")


@task.command("unclaim")
@click.argument("task_id", type=int)
@acting
def task_unclaim(runtime: Runtime, actor: Principal, task_id: int) -> None:
    tasks.unclaim(runtime, actor, task_id)
    click.echo(f"task {task_id} released")


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--no-scheduler", is_flag=True)
def serve(host: str, port: int, no_scheduler: bool) -> None:
    """Serve the web app (with the scheduler in the same process unless told not to)."""
    from .web import RequestHandler, create_app

    runtime = _runtime()
    runtime.create_schema()
    app = create_app(runtime, host=host)
    if not no_scheduler:
        from .scheduler import start_background
        start_background(runtime)
    click.echo(f"serving on http://{host}:{port}/")
    app.run(host=host, port=port, threaded=True, request_handler=RequestHandler)


@main.command()
@click.option("--until-idle", is_flag=True, help="sweep until nothing is due, then exit")
def scheduler(until_idle: bool) -> None:
    """Fire due timers and send reminders (several may run at once on one database)."""
    from .scheduler import run_forever, run_until_idle

    runtime = _runtime()
    runtime.create_schema()
    if until_idle:
        click.echo(f"fired {run_until_idle(runtime)} timers")
    else:
        run_forever(runtime)


@main.group()
def scenario() -> None:
    """Check diagrams against scenarios written in YAML (docs/scenarios.md)."""


@scenario.command("run")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def scenario_run(files: tuple[Path, ...]) -> None:
    from .scenarios import Workspace, run_file

    workspace = Workspace(Settings.from_env())
    failed = 0
    try:
        for file in files:
            for path in sorted(file.rglob("*.yaml")) if file.is_dir() else [file]:
                outcome = run_file(path, workspace)
                failed += not outcome.passed
                click.echo(f"{'PASS' if outcome.passed else 'FAIL'} {path}: {outcome.title}")
                if not outcome.passed:
                    click.echo(f"     {outcome.detail}")
    finally:
        workspace.close()
    if failed:
        raise HsmError(f"{failed} scenario(s) failed")


@main.group()
def calendar() -> None:
    """The working-day calendar (bank holidays of England and Wales plus closure days)."""


@calendar.command("add-working-days")
@click.argument("start", type=click.DateTime(["%Y-%m-%d"]))
@click.argument("days", type=int)
def calendar_add(start, days: int) -> None:
    from .services.calendar_admin import add_working_days

    click.echo(add_working_days(_runtime(), start.date(), days).isoformat())


@calendar.command("working-days")
@click.argument("start", type=click.DateTime(["%Y-%m-%d"]))
@click.argument("end", type=click.DateTime(["%Y-%m-%d"]))
def calendar_count(start, end) -> None:
    """Working days after START up to and including END."""
    from .services.calendar_admin import working_days_between

    click.echo(working_days_between(_runtime(), start.date(), end.date()))


@calendar.command("closure")
@click.argument("action", type=click.Choice(["add", "remove", "list"]))
@click.argument("day", required=False, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--description", default="")
def calendar_closure(action: str, day, description: str) -> None:
    """Add, remove or list days the offices are closed."""
    from .services import calendar_admin

    runtime = _runtime()
    if action == "list":
        for closed, text in calendar_admin.closure_days(runtime):
            click.echo(f"{closed.isoformat()}\t{text}")
        return
    if day is None:
        raise HsmError(f"closure {action} needs a DATE")
    if action == "add":
        calendar_admin.add_closure_day(runtime, day.date(), description)
    else:
        calendar_admin.remove_closure_day(runtime, day.date())
    click.echo(f"{day.date().isoformat()} {'added' if action == 'add' else 'removed'}")


@main.group()
def token() -> None:
    """API tokens for integrations."""


@token.command("create")
@click.argument("username")
@click.option("--days", default=None, type=int, help="days until it expires (default 90)")
def token_create(username: str, days: int | None) -> None:
    """Create an API token for USERNAME and print it (it is shown only once)."""
    from .services import tokens

    click.echo(tokens.create_token(_runtime(), username, days=days))


def _moment(value) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


@token.command("list")
@click.argument("username", required=False)
def token_list(username: str | None) -> None:
    """Every token, or USERNAME's: id, user, created, expires, last used, revoked (never the token)."""
    from .services import tokens

    click.echo("id\tuser\tcreated\texpires\tlast used\trevoked")
    for entry in tokens.list_tokens(_runtime(), COMMAND_LINE, username):
        expires = _moment(entry.expires_at) + (" (expired)" if entry.expired else "")
        revoked = f"{_moment(entry.revoked_at)} by {entry.revoked_by}" if entry.revoked_at else "-"
        click.echo(f"{entry.id}\t{entry.username}\t{_moment(entry.created_at)}\t{expires}\t"
                   f"{_moment(entry.last_used_at)}\t{revoked}")


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke token ID (from ``token list``): it stops working at once."""
    from .services import tokens

    revoked = tokens.revoke_token(_runtime(), COMMAND_LINE, token_id)
    click.echo(f"token {token_id} revoked" if revoked else f"token {token_id} was already revoked; nothing changed")
