"""``mining monitor --email-to``: the digest, against a real SMTP server (aiosmtpd) started here.

The message arrives once per run, in plain text and HTML with the report
attached, and its summary is the report's; a second run on the same data sends
nothing; an unreachable server, a refused login and bad options are clear
errors with exit code 1, and nothing is recorded then.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from mining.cli import cli
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store
from tests.test_monitor_run import CALM, ROLES, write_weeks

aiosmtpd = pytest.importorskip("aiosmtpd", reason="the digest tests need aiosmtpd (the test extra)")

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

USER, PASSWORD = "monitor", "s3cret"


class Inbox:
    """An aiosmtpd handler that keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _login(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    # handled=False: aiosmtpd answers a refusal with 535 itself.
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=_login, auth_require_tls=False
    )
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws.duckdb"
    with Store(ws) as store:
        path = write_weeks(tmp_path / "weeks.csv", (*CALM[:11], 20.0))
        ingest_file(store, path, IngestOptions(name="weeks", roles=ROLES))
    return ws


def run(ws: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(
        cli, ["--workspace", str(ws), "monitor", "weeks", "--timezone", "UTC", *args], env=env
    )


def _summary(page: str) -> list[str]:
    section = re.search(r'<section id="summary" class="summary">(.*?)</section>', page, re.S)
    assert section is not None
    return [html.unescape(p) for p in re.findall(r"<p>(.*?)</p>", section.group(1))]


def _parts(message: email.message.EmailMessage) -> tuple[str, str, bytes, str]:
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    page = message.get_body(preferencelist=("html",)).get_content()
    [attachment] = list(message.iter_attachments())
    return text, page, attachment.get_payload(decode=True), attachment.get_filename()


def test_the_digest_arrives_once_with_the_reports_summary_and_the_report(smtp, workspace, tmp_path):
    inbox, port = smtp
    before = len(inbox.messages)
    report = tmp_path / "report.html"
    args = [
        "--email-to",
        "ops@example.com",
        "--smtp",
        f"127.0.0.1:{port}",
        "--email-from",
        "mining@example.com",
    ]
    first = run(workspace, *args, "--report", str(report))
    assert first.exit_code == 3, first.output  # an alert fired: cron still sees it
    assert "digest e-mailed" in first.output
    assert len(inbox.messages) == before + 1
    message = inbox.messages[-1]
    assert inbox.envelopes[-1] == ("mining@example.com", ["ops@example.com"])
    assert message["Subject"] == "[mining] weeks: 2 alerts need attention"
    assert (message["To"], message["From"]) == ("ops@example.com", "mining@example.com")
    text, page, attached, name = _parts(message)
    written = report.read_text(encoding="utf-8")
    # The attachment is the very report the run wrote; the mail's summary is the report's.
    assert name == "weeks-monitoring.html" and attached.decode("utf-8") == written
    sentences = _summary(written)
    assert _summary(page) == sentences
    assert 1 <= len(sentences) <= 5
    assert text.startswith("\n\n".join(sentences))
    assert "Median cycle time in the week of 2024-03-18 is worse than usual" in text
    # Same data, same parameters: already reported, nothing sent.
    second = run(workspace, *args)
    assert second.exit_code == 3
    assert "digest already sent for this run: nothing e-mailed" in second.output
    assert len(inbox.messages) == before + 1
    # Someone new on the list is sent this run's digest; the others are not sent it again.
    third = run(workspace, *args, "--email-to", "lead@example.com")
    assert "digest e-mailed" in third.output
    assert inbox.envelopes[-1][1] == ["ops@example.com", "lead@example.com"]
    with Store(workspace, read_only=True) as store:
        rows = store.query("SELECT recipients FROM monitor_digests ORDER BY sent_at").rows
    assert [r[0] for r in rows] == ["ops@example.com", "lead@example.com,ops@example.com"]


def test_an_unreachable_server_is_a_clear_error_and_nothing_is_recorded(smtp, workspace):
    inbox, port = smtp
    closed = _free_port()
    res = run(workspace, "--email-to", "ops@example.com", "--smtp", f"127.0.0.1:{closed}")
    assert res.exit_code == 1
    assert f"Error: cannot reach the SMTP server 127.0.0.1:{closed}: Connection refused" in res.output
    assert "Hint: check --smtp HOST:PORT and that the server runs" in res.output
    with Store(workspace, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM monitor_runs") == 0
    # The next run, with the server up, sends it: nothing was taken as reported.
    before = len(inbox.messages)
    assert (
        "digest e-mailed"
        in run(workspace, "--email-to", "ops@example.com", "--smtp", f"127.0.0.1:{port}").output
    )
    assert len(inbox.messages) == before + 1


def test_a_login_with_the_password_from_the_environment(smtp, workspace):
    inbox, port = smtp
    args = ["--email-to", "ops@example.com", "--smtp", f"127.0.0.1:{port}", "--smtp-user", USER]
    wrong = run(workspace, *args, "--smtp-password-env", "PASS", env={"PASS": "guess"})
    assert wrong.exit_code == 1
    assert f"Error: the SMTP server 127.0.0.1:{port} refused the login of 'monitor': 535" in wrong.output
    before = len(inbox.messages)
    right = run(workspace, *args, "--smtp-password-env", "PASS", env={"PASS": PASSWORD})
    assert right.exit_code == 3 and "digest e-mailed" in right.output
    assert len(inbox.messages) == before + 1


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_starttls_verifies_the_server_and_sends(workspace, tmp_path, monkeypatch):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
            ),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_login,
    )
    controller.start()
    try:
        args = ["--email-to", "ops@example.com", "--smtp", f"127.0.0.1:{port}"]
        refused = run(workspace, *args)  # the server insists on TLS first
        assert refused.exit_code == 1 and "refused" in refused.output
        untrusted = run(workspace, *args, "--starttls")
        assert untrusted.exit_code == 1
        assert f"Error: STARTTLS with the SMTP server 127.0.0.1:{port} failed: CERTIFICATE_VERIFY_FAILED" in (
            untrusted.output
        )
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        login = ["--smtp-user", USER, "--smtp-password-env", "PASS"]
        sent = run(workspace, *args, "--starttls", *login, env={"PASS": PASSWORD, "SSL_CERT_FILE": str(cert)})
        assert sent.exit_code == 3, sent.output
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--email-to", "ops at example"],
            "Error: 'ops at example' is not an e-mail address such as ops@example.com",
        ),
        (["--email-to", "ops@example.com\nBcc: x@y.z"], "is not an e-mail address"),
        (
            ["--email-to", "a@b.c", "--smtp", "mail:99999"],
            "Error: port 99999 of 'mail:99999' is not between 1 and",
        ),
        (["--email-to", "a@b.c", "--smtp-user", "bob"], "an SMTP login needs both --smtp-user USER and"),
        (
            ["--email-to", "a@b.c", "--smtp-user", "bob", "--smtp-password-env", "MINING_NOT_SET"],
            "Error: the environment variable MINING_NOT_SET (from --smtp-password-env) is not set",
        ),
        (["--starttls"], "Error: --starttls is for the digest e-mail; add --email-to ADDR"),
    ],
)
def test_bad_mail_options_are_refused_before_any_work(workspace, args, message):
    res = run(workspace, *args)
    assert res.exit_code == 1
    assert message in res.output
    with Store(workspace, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM monitor_runs") == 0
