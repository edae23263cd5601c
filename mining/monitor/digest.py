"""The monitoring digest: the manager's summary by e-mail, with the report attached, once per run.

A scheduled ``mining monitor ... --email-to ADDR`` sends the summary of
:mod:`mining.monitor.summary` (the same sentences the report opens with) as
plain text and HTML, with the HTML report attached, when the run is new to
those recipients; :func:`already_sent` tells from ``monitor_digests`` whether
this run (its key hashes the data and every parameter) was mailed to them
before, so a cron job over unchanged data stays silent.  The CLI records the
digest only after the server accepted it: a failed send is retried by the
next run.

Sending uses :mod:`smtplib` with a timeout, optionally STARTTLS (verified
against the system's certificate authorities) and a login.  Every failure is
a :class:`~mining.errors.DigestError` naming the server and what went wrong.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from mining.errors import DigestError, Option, phrase
from mining.monitor.html import render_html, summary_html
from mining.monitor.summary import manager_summary

if TYPE_CHECKING:
    from mining.monitor.run import MonitorRun
    from mining.store import Store

__all__ = [
    "SMTP_TIMEOUT",
    "SmtpServer",
    "already_sent",
    "digest_message",
    "parse_address",
    "parse_smtp",
    "recipients_key",
    "record_sent",
    "report_name",
    "send",
]

#: Seconds to wait for the SMTP server at each step.
SMTP_TIMEOUT = 30.0

_TABLE_SQL = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'monitor_digests'"


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send: ``password`` is read from the environment by the caller, never stored."""

    host: str
    port: int
    user: str | None = None
    password: str | None = None
    starttls: bool = False

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def parse_smtp(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:25`` for IPv6) or ``HOST`` (port 25).

    Examples
    --------
    >>> parse_smtp("mail.example.com:587"), parse_smtp("localhost")
    (('mail.example.com', 587), ('localhost', 25))
    """
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?|([^:\s\[\]]+)(?::(\d+))?", text.strip())
    if not m:
        msg = phrase(f"{text!r} is not an SMTP server such as mail.example.com:587 (", Option("smtp"), ")")
        raise DigestError(msg)
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4) or 25)
    if not 0 < port < 65536:
        msg = phrase(f"port {port} of {text!r} is not between 1 and 65535 (", Option("smtp"), ")")
        raise DigestError(msg)
    return host, port


def parse_address(text: str, what: Option) -> str:
    """One e-mail address, checked: ``name@example.com``; nothing that could smuggle in a header."""
    value = text.strip()
    if not value or any(c in value for c in "\r\n,;<>\"' \t") or value.count("@") != 1:
        msg = phrase(f"{text!r} is not an e-mail address such as ops@example.com (", what, ")")
        raise DigestError(msg)
    local, domain = value.split("@")
    if not local or not domain or domain.startswith(".") or domain.endswith("."):
        msg = phrase(f"{text!r} is not an e-mail address such as ops@example.com (", what, ")")
        raise DigestError(msg)
    return value


def recipients_key(recipients: Sequence[str]) -> str:
    """The recipients as stored: lower case, sorted, comma-separated."""
    return ",".join(sorted({r.lower() for r in recipients}))


def report_name(log: str) -> str:
    """The attached report's file name: the log's name made safe for a file."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", log).strip("._") or "log"
    return f"{name}-monitoring.html"


def already_sent(store: Store, key: str, recipients: Sequence[str]) -> bool:
    """Whether this run's digest went to these recipients before (a workspace without the table: no)."""
    if not store.scalar(_TABLE_SQL):
        return False
    return bool(
        store.scalar(
            "SELECT count(*) FROM monitor_digests WHERE run_key = ? AND recipients = ?",
            [key, recipients_key(recipients)],
        )
    )


def record_sent(store: Store, key: str, recipients: Sequence[str], at: dt.datetime) -> None:
    """Note that the digest of run ``key`` went to ``recipients`` (``store`` open for writing)."""
    store.execute(
        "INSERT INTO monitor_digests VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [key, recipients_key(recipients), at],
    )


def digest_message(run: MonitorRun, *, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The digest of ``run``: the summary as text and HTML, the alerts, and the report attached."""
    summary = manager_summary(run)
    s = run.series
    when = "-" if s.as_of is None else s.as_of.strftime("%Y-%m-%d %H:%M UTC")
    footer = (
        f"{run.log}: {s.cases:,} cases, data up to {when}, {s.period}s in {s.timezone}. "
        f"Run {run.key[:12]}; the full report is attached ({report_name(run.log)})."
    )
    alerts = [a.sentence for a in run.alerts]
    text = "\n\n".join(summary.sentences)
    if alerts:
        text += "\n\nAlerts:\n" + "\n".join(f"- {a}" for a in alerts)
    text += "\n\n-- \n" + footer + "\n"
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head>'
        '<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;'
        'color:#1b1f24;line-height:1.45;max-width:760px">'
        f'<h2 style="font-size:1.2rem">Monitoring: {_e(run.log)}</h2>'
        + summary_html(summary)
        + (
            '<h3 style="font-size:1rem">Alerts</h3><ul>'
            + "".join(f"<li>{_e(a)}</li>" for a in alerts)
            + "</ul>"
            if alerts
            else ""
        )
        + f'<p style="color:#57606a;font-size:.9rem">{_e(footer)}</p></body></html>'
    )
    msg = EmailMessage()
    msg["Subject"] = f"[mining] {summary.subject}"
    msg["From"] = Address(addr_spec=sender)
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.split("@", 1)[1])
    msg["X-Mining-Run"] = run.key
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg.add_attachment(
        render_html(run).encode("utf-8"),
        maintype="text",
        subtype="html",
        filename=report_name(run.log),
    )
    return msg


def send(message: EmailMessage, server: SmtpServer) -> None:
    """Hand ``message`` to the SMTP server; any failure is a :class:`DigestError` naming the server."""
    where = server.where
    try:
        with smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT) as smtp:
            smtp.ehlo()
            if server.starttls:
                if not smtp.has_extn("starttls"):
                    msg = f"the SMTP server {where} does not offer STARTTLS"
                    raise DigestError(
                        msg, hint=phrase("drop ", Option("starttls"), " or use a server that offers it")
                    )
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if server.user is not None:
                smtp.login(server.user, server.password or "")
            refused = smtp.send_message(message)
    except DigestError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        msg = f"the SMTP server {where} refused the login of {server.user!r}: {_reply(exc.smtp_code, exc.smtp_error)}"
        raise DigestError(
            msg, hint=phrase("check ", Option("smtp_user"), " and ", Option("smtp_password_env"))
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        who = ", ".join(f"{r} ({_reply(*v)})" for r, v in sorted(exc.recipients.items()))
        msg = f"the SMTP server {where} refused every recipient: {who}"
        raise DigestError(msg) from None
    except smtplib.SMTPNotSupportedError as exc:
        msg = f"the SMTP server {where} does not support what was asked: {exc}"
        raise DigestError(msg) from None
    except smtplib.SMTPResponseException as exc:
        msg = f"the SMTP server {where} refused the message: {_reply(exc.smtp_code, exc.smtp_error)}"
        raise DigestError(msg) from None
    except ssl.SSLError as exc:
        msg = f"STARTTLS with the SMTP server {where} failed: {exc.reason or exc}"
        raise DigestError(msg) from None
    except (smtplib.SMTPException, OSError) as exc:
        if isinstance(exc, TimeoutError | socket.timeout):
            reason = f"no answer within {SMTP_TIMEOUT:g} seconds"
        elif isinstance(exc, OSError):
            reason = exc.strerror or str(exc) or type(exc).__name__
        else:
            reason = str(exc) or type(exc).__name__
        msg = f"cannot reach the SMTP server {where}: {reason}"
        raise DigestError(
            msg, hint=phrase("check ", Option("smtp", "HOST:PORT"), " and that the server runs")
        ) from None
    if refused:
        who = ", ".join(sorted(refused))
        msg = f"the SMTP server {where} refused some recipients: {who}; the others were sent the digest"
        raise DigestError(msg)


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {words}".strip()


def _e(text: str) -> str:
    return html.escape(text, quote=True)
