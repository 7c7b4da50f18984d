"""The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1, and its settings."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from bot.settings import load_settings
from core.channels.base import SendError
from core.channels.email import EmailSender, mime_type
from office.config import ConfigError
from tests.harness import free_port

ROOT = Path(__file__).resolve().parents[1]
FROM = "pst6106@bps.go.id"
VISITOR = "budi.santoso@example.com"
PDF = b"%PDF-1.4\n% Ketapang Dalam Angka 2024\n%%EOF\n"


def authenticate(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Accept only pst / rahasia."""
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"pst", b"rahasia")
    return AuthResult(success=ok, handled=False)


def sender(port: int, **kwargs: Any) -> EmailSender:
    options: dict[str, Any] = {"username": None, "password": None, "starttls": False}
    return EmailSender("127.0.0.1", port, FROM, **(options | kwargs))


def payload(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "to": VISITOR,
        "subject": "Softcopy publikasi: Kabupaten Ketapang Dalam Angka 2024",
        "text": "Yth. Budi,\n\nTerlampir softcopy yang Anda minta.\n\nSalam, PST BPS Ketapang",
    }
    return base | changes


# --------------------------------------------------------------------------- delivery


def test_message_with_pdf_attachment(smtp, tmp_path: Path) -> None:
    recorder, port = smtp()
    pdf = tmp_path / "stamped-81a7.pdf"
    pdf.write_bytes(PDF)
    name = "Kabupaten Ketapang Dalam Angka 2024 – salinan.pdf"
    sender(port).send("email.send", payload(attachments=[{"path": str(pdf), "filename": name}]))

    (envelope,) = recorder.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == (FROM, [VISITOR])
    (message,) = recorder.messages()
    assert (message["From"], message["To"]) == (FROM, VISITOR)
    assert message["Subject"] == "Softcopy publikasi: Kabupaten Ketapang Dalam Angka 2024"
    assert message["Message-ID"].endswith("@bps.go.id>") and message["Date"]
    body = message.get_body(("plain",)).get_content()
    assert body.splitlines() == payload()["text"].splitlines()  # CRLF on the wire
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == name
    assert attachment.get_content() == PDF


def test_attachments_are_read_at_send_time_and_typed(smtp, tmp_path: Path) -> None:
    recorder, port = smtp()
    files = {
        "tabel.csv": b"kecamatan,penduduk\nDelta Pawan,1\n",
        "data.pstbot-unknown": b"\x00\x01",
    }
    for name in files:
        (tmp_path / name).write_bytes(b"old")
    email = payload(attachments=[{"path": str(tmp_path / n), "filename": n} for n in files])
    for name, content in files.items():  # changed after the row was written, before sending
        (tmp_path / name).write_bytes(content)
    sender(port).send("email.send", email)

    (message,) = recorder.messages()
    got = {
        a.get_filename(): (a.get_content_type(), a.get_payload(decode=True))
        for a in message.iter_attachments()
    }
    assert got == {
        "tabel.csv": ("text/csv", files["tabel.csv"]),
        "data.pstbot-unknown": ("application/octet-stream", files["data.pstbot-unknown"]),
    }


def test_mime_types() -> None:
    assert mime_type("LAPORAN.PDF") == ("application", "pdf")
    assert mime_type("foto.png") == ("image", "png")
    assert mime_type("tanpa-ekstensi") == ("application", "octet-stream")


def test_line_breaks_in_the_subject_stay_on_one_line(smtp) -> None:
    recorder, port = smtp()
    sender(port).send("email.send", payload(subject="Permintaan\r\nBcc: x@example.com  data"))
    (message,) = recorder.messages()
    assert message["Subject"] == "Permintaan Bcc: x@example.com data"
    assert message["Bcc"] is None and recorder.envelopes[0].rcpt_tos == [VISITOR]


def test_login_when_a_username_is_given(smtp) -> None:
    recorder, port = smtp(authenticator=authenticate, auth_require_tls=False)
    sender(port, username="pst", password="rahasia").send("email.send", payload())
    assert len(recorder.envelopes) == 1
    with pytest.raises(SendError, match="SMTPAuthenticationError: 535") as caught:
        sender(port, username="pst", password="salah").send("email.send", payload())
    assert caught.value.temporary  # operators fix the credentials, then the row goes out
    assert len(recorder.envelopes) == 1


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("stage", "reply", "temporary"),
    [
        ("rcpt", "451 4.3.0 Mailbox temporarily unavailable", True),
        ("rcpt", "550 5.1.1 No such user", False),
        ("data", "451 4.3.0 Try again later", True),
        ("data", "554 5.7.1 Message rejected as spam", False),
    ],
)
def test_reply_class_decides(smtp, stage: str, reply: str, temporary: bool) -> None:
    recorder, port = smtp()
    setattr(recorder, f"{stage}_reply", reply)
    with pytest.raises(SendError) as caught:
        sender(port).send("email.send", payload())
    assert caught.value.temporary is temporary
    assert reply.split()[0] in str(caught.value) and recorder.envelopes == []


def test_server_down_is_temporary() -> None:
    with pytest.raises(SendError, match="ConnectionRefusedError") as caught:
        sender(free_port()).send("email.send", payload())
    assert caught.value.temporary


def test_silent_server_times_out_temporarily() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(SendError, match=r"(?i)timed out") as caught:
            sender(port, timeout=0.3).send("email.send", payload())
    assert caught.value.temporary


def test_starttls_not_offered_is_temporary(smtp) -> None:
    recorder, port = smtp()
    with pytest.raises(SendError, match=r"(?i)STARTTLS extension not supported") as caught:
        sender(port, starttls=True).send("email.send", payload())
    assert caught.value.temporary and recorder.envelopes == []


@pytest.mark.parametrize(
    ("method", "changes", "match"),
    [
        ("email.send", {"to": "bukan-alamat"}, "malformed email payload"),
        ("email.send", {"text": None}, "malformed email payload"),
        ("email.send", {"attachments": [{"path": "/x.pdf"}]}, "malformed email payload"),
        ("email.send", {"attachment": []}, "malformed email payload"),
        ("email.send", {"attachments": [{"path": "/nope.pdf", "filename": "a.pdf"}]}, "unread"),
        ("sendMessage", {}, "unknown email method"),
    ],
)
def test_bad_rows_fail_for_good_without_connecting(
    method: str, changes: dict[str, Any], match: str
) -> None:
    # Nothing listens on the port: reaching the network would be a temporary error instead.
    with pytest.raises(SendError, match=match) as caught:
        sender(free_port()).send(method, payload(**changes))
    assert caught.value.temporary is False


# --------------------------------------------------------------------------- settings


def settings(**env: str):
    return load_settings(PSTBOT_CONFIG=str(ROOT / "config.yaml"), **env)[0]


def test_email_settings() -> None:
    assert settings().email_enabled is False
    on = settings(SMTP_HOST="smtp.bps.go.id", SMTP_FROM="PST6106@BPS.go.id")
    assert on.email_enabled and (on.smtp_port, on.smtp_starttls) == (587, True)
    assert on.smtp_from == "PST6106@bps.go.id"  # the domain is normalized, the local part kept
    off = settings(SMTP_HOST="h", SMTP_FROM=FROM, SMTP_PORT="25", SMTP_STARTTLS="false")
    assert (off.smtp_port, off.smtp_starttls) == (25, False)


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"SMTP_HOST": "smtp.bps.go.id"}, "SMTP_FROM is required"),
        ({"SMTP_HOST": "h", "SMTP_FROM": "pst at bps"}, r"SMTP_FROM: .*not an email address"),
        ({"SMTP_HOST": "h", "SMTP_FROM": FROM, "SMTP_USERNAME": "u"}, "set together"),
        ({"SMTP_PORT": "70000"}, "SMTP_PORT"),
    ],
)
def test_email_settings_rejected(env: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        settings(**env)
