"""Outgoing mail (password-reset links; later reminders and digests). With OBMI_SMTP_HOST set,
mail goes to that server; otherwise each message is written as an .eml file to
OBMI_MAIL_OUTBOX (development and tests read it there)."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from obmi.errors import Conflict
from obmi.settings import Settings


def send(settings: Settings, *, to: str, subject: str, body: str) -> str:
    """Send one plain-text message; returns where it went (a file path or the SMTP host)."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or "localhost")
    message.set_content(body)
    if settings.smtp_host:
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise Conflict(f"the mail could not be sent through {settings.smtp_host}: {exc}") from None
        return settings.smtp_host
    outbox = Path(settings.mail_outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{uuid.uuid4().hex}.eml"
    path.write_bytes(message.as_bytes())
    return str(path)
