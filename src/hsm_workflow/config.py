"""Settings, read from environment variables (documented in the README)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY_FILE = "secret_key"


def _path(name: str, default: Path) -> Path:
    return Path(os.environ.get(name, default))


def _flag(name: str) -> bool | None:
    """``1``/``true``/``yes`` or ``0``/``false``/``no``; None when unset or empty."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1 or 0, not {value!r}")


def _minutes(name: str, default: int) -> timedelta:
    return timedelta(minutes=int(os.environ.get(name, default)))


@dataclass(frozen=True)
class Settings:
    database_url: str
    processes_dir: Path
    forms_dir: Path
    letters_dir: Path
    mail_file: Path
    instance_dir: Path = PROJECT_ROOT / "instance"
    secret_key: str | None = None  # None: generated once into instance_dir (see signing_key)
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_sender: str = "hsm-workflow@localhost"
    script_cpu_seconds: float = 1.0
    secure_cookies: bool | None = None  # None: Secure unless served on a loopback address
    session_idle_timeout: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=8)
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    rate_limit_storage: str = "memory://"
    sign_in_limit_per_user: str = "5/minute;20/hour"
    sign_in_limit_per_address: str = "30/minute"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "Settings":
        instance = _path("HSM_INSTANCE_DIR", PROJECT_ROOT / "instance")
        return cls(
            database_url=os.environ.get("HSM_DATABASE_URL", f"sqlite:///{instance / 'hsm.db'}"),
            processes_dir=_path("HSM_PROCESSES_DIR", PROJECT_ROOT / "processes"),
            forms_dir=_path("HSM_FORMS_DIR", PROJECT_ROOT / "forms"),
            letters_dir=_path("HSM_LETTERS_DIR", PROJECT_ROOT / "letters"),
            mail_file=_path("HSM_MAIL_FILE", instance / "outbox.log"),
            instance_dir=instance,
            secret_key=os.environ.get("HSM_SECRET_KEY") or None,
            smtp_host=os.environ.get("HSM_SMTP_HOST") or None,
            smtp_port=int(os.environ.get("HSM_SMTP_PORT", "25")),
            mail_sender=os.environ.get("HSM_MAIL_SENDER", "hsm-workflow@localhost"),
            script_cpu_seconds=float(os.environ.get("HSM_SCRIPT_CPU_SECONDS", "1")),
            secure_cookies=_flag("HSM_SECURE_COOKIES"),
            session_idle_timeout=_minutes("HSM_SESSION_IDLE_MINUTES", 30),
            session_lifetime=_minutes("HSM_SESSION_LIFETIME_MINUTES", 8 * 60),
            oidc_issuer=os.environ.get("HSM_OIDC_ISSUER", ""),
            oidc_client_id=os.environ.get("HSM_OIDC_CLIENT_ID", ""),
            oidc_client_secret=os.environ.get("HSM_OIDC_CLIENT_SECRET", ""),
            rate_limit_storage=os.environ.get("HSM_RATE_LIMIT_STORAGE", "memory://"),
            sign_in_limit_per_user=os.environ.get("HSM_SIGN_IN_LIMIT_PER_USER", "5/minute;20/hour"),
            sign_in_limit_per_address=os.environ.get("HSM_SIGN_IN_LIMIT_PER_ADDRESS", "30/minute"),
        )

    def with_database(self, url: str) -> "Settings":
        return replace(self, database_url=url)

    def signing_key(self) -> str:
        """HSM_SECRET_KEY, or the random key kept in ``instance_dir`` (written on first use).

        There is no built-in key: a key anyone can read in the source would let anyone sign a
        session cookie.
        """
        return self.secret_key or _instance_key(self.instance_dir / SECRET_KEY_FILE)


def _instance_key(path: Path) -> str:
    """The key in ``path``; a new random one (mode 0600) when there is none yet.

    The new key is written to a temporary file and linked into place, so processes starting
    together agree on one key and none reads a half-written file.
    """
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process wrote it first: use theirs
        finally:
            temporary.unlink()
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it to have a new key made, or set HSM_SECRET_KEY")
    return key
