"""Mail adapters: SMTP in production, a file in development."""
from __future__ import annotations

import smtplib
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from .config import Settings


class Mailer(Protocol):
    def send(self, recipient: str, subject: str, body: str) -> None: ...


class FileMailer:
    """Appends each message to a file (development and tests)."""

    def __init__(self, path: Path):
        self.path = path

    def send(self, recipient: str, subject: str, body: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(f"--- {datetime.now(timezone.utc).isoformat()}\nTo: {recipient}\nSubject: {subject}\n\n{body}\n")


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str):
        self.host, self.port, self.sender = host, port, sender

    def send(self, recipient: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, recipient, subject
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            smtp.send_message(message)


def mailer_for(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_sender)
    return FileMailer(settings.mail_file)
