"""Settings, read from environment variables (documented in the README)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _path(name: str, default: str) -> Path:
    return Path(os.environ.get(name, PROJECT_ROOT / default))


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    processes_dir: Path
    forms_dir: Path
    letters_dir: Path
    mail_file: Path
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_sender: str = "hsm-workflow@localhost"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "Settings":
        instance = PROJECT_ROOT / "instance"
        return cls(
            database_url=os.environ.get("HSM_DATABASE_URL", f"sqlite:///{instance / 'hsm.db'}"),
            secret_key=os.environ.get("HSM_SECRET_KEY", "dev-only-not-secret"),
            processes_dir=_path("HSM_PROCESSES_DIR", "processes"),
            forms_dir=_path("HSM_FORMS_DIR", "forms"),
            letters_dir=_path("HSM_LETTERS_DIR", "letters"),
            mail_file=_path("HSM_MAIL_FILE", "instance/outbox.log"),
            smtp_host=os.environ.get("HSM_SMTP_HOST") or None,
            smtp_port=int(os.environ.get("HSM_SMTP_PORT", "25")),
            mail_sender=os.environ.get("HSM_MAIL_SENDER", "hsm-workflow@localhost"),
        )

    def with_database(self, url: str) -> "Settings":
        return replace(self, database_url=url)
