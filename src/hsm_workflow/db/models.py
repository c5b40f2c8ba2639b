"""The stored domain: deployed processes, cases, tasks, timers, events, people and roles.

Task, timer and event rows are written in the same transaction as the case's engine
state, so the inbox and the scheduler query indexed rows and never load a workflow.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ..domain.status import CaseStatus, TaskStatus, TimerStatus


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc) if value is not None else None


def _status(kind: type) -> Enum:
    """A status enum stored as its value in a plain VARCHAR (no database enum type to migrate)."""
    return Enum(kind, native_enum=False, create_constraint=False, length=20,
                values_callable=lambda members: [member.value for member in members])


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, date: Date}


class ProcessVersion(Base):
    """One deployed version of a process (with the versions of the processes it calls)."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(200))
    source_xml: Mapped[bytes] = mapped_column(LargeBinary)
    spec_json: Mapped[str] = mapped_column(Text)
    assets: Mapped[dict[str, Any]]  # {"forms": {id: json}, "letters": {id: text}} as deployed
    deployed_by: Mapped[str] = mapped_column(String(100))
    deployed_at: Mapped[datetime]


class Unit(Base):
    """An organisational unit: the University, a college, a department."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    parent: Mapped[Unit | None] = relationship(remote_side=[id])


class Role(Base):
    __tablename__ = "roles"
    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    oversight: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoleAssignment(Base):
    """A user holds a role in a unit (and, through it, in the unit's descendants)."""

    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("user_id", "role_code", "unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role_code: Mapped[str] = mapped_column(ForeignKey("roles.code"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user: Mapped[User] = relationship()
    unit: Mapped[Unit] = relationship()


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    parent_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(_status(CaseStatus), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    engine_state: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    process_version: Mapped[ProcessVersion] = relationship()
    unit: Mapped[Unit] = relationship()
    parent_case: Mapped[Case | None] = relationship(remote_side=[id], back_populates="linked_cases")
    linked_cases: Mapped[list[Case]] = relationship(back_populates="parent_case", order_by=id)
    __mapper_args__ = {"version_id_col": lock_version}


class Task(Base):
    """A human task: a user task of a case, open for its role or done."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_open_by_role", "status", "role", "unit_id", "due_at"),
        Index("ix_tasks_case", "case_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    engine_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(50))
    form_id: Mapped[str] = mapped_column(String(100))
    instructions: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[TaskStatus] = mapped_column(_status(TaskStatus))
    opened_at: Mapped[datetime]
    due_on: Mapped[date | None]
    due_at: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]
    escalate_to: Mapped[str] = mapped_column(String(200), default="")
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None]
    submitted: Mapped[dict[str, Any] | None]
    case: Mapped[Case] = relationship()
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])


class Timer(Base):
    """A timer a case waits on; the scheduler fires it at ``due_at``."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "status", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    engine_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime]
    status: Mapped[TimerStatus] = mapped_column(_status(TimerStatus))
    fired_at: Mapped[datetime | None]
    case: Mapped[Case] = relationship()


class CaseEvent(Base):
    """The append-only record of everything that happened in a case."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(50))
    summary: Mapped[str] = mapped_column(String(500))
    data: Mapped[dict[str, Any] | None]


class Letter(Base):
    """A written notification produced at a step and attached to the case."""

    __tablename__ = "letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    template: Mapped[str] = mapped_column(String(100))
    element_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ClosureDay(Base):
    """A day the institution's offices are closed (not a working day)."""

    __tablename__ = "closure_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="")


class ClockPause(Base):
    """A pause of a case's clock (police investigation, another procedure first)."""

    __tablename__ = "clock_pauses"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Notification(Base):
    """The outbox: a message to send (reminder, escalation); retried until sent."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    kind: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_notifications_pending", "status", "next_attempt_at"),
                      UniqueConstraint("task_id", "kind", "recipient"))


class Sequence(Base):
    """Counters for human references (``HSM-2026-0001``), one row per year."""

    __tablename__ = "reference_counters"
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class ApiToken(Base):
    """A personal API token (Bearer); only the SHA-256 hash of the token is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    user: Mapped[User] = relationship()


class WebSession(Base):
    """A signed-in browser session; the cookie carries only its id, stored here as a SHA-256 hash.

    A session is live until it is ended (sign-out, a new sign-in) or it expires: idle for the
    idle timeout, or older than the absolute lifetime (both in settings).
    """

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    user: Mapped[User] = relationship()


class SignIn(Base):
    """One sign-in attempt, successful or not, local or single sign-on."""

    __tablename__ = "sign_ins"
    __table_args__ = (Index("ix_sign_ins_username_at", "username", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(100))
    success: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(100))
    remote_addr: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
