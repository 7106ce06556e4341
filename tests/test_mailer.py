"""The mailer against a real SMTP server (aiosmtpd) on loopback: delivery, retries, TLS, the spool."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import wave
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from appliance.errors import NotFound, ValidationError
from appliance.mailer import EVERY_HOUR_S, RETRY_AFTER_S, Mailer, SmtpSettings
from tests.conftest import free_port

HOST = "127.0.0.1"


class FakeClock:
    def __init__(self, now: float = 1_780_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Inbox:
    """An SMTP server's handler that keeps what it receives; `refuse` answers RCPT or DATA."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse_rcpt: str | None = None
        self.refuse_data: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data.pop(0)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"

    def messages(self):
        return [message_from_bytes(raw, policy=policy.default) for _f, _t, raw in self.received]


@pytest.fixture
def smtp_server():
    """Start SMTP servers on loopback ports; each is stopped when the test ends."""
    started: list[Controller] = []

    def start(port: int | None = None, inbox: Inbox | None = None, **kw) -> tuple[Inbox, int]:
        inbox = inbox or Inbox()
        port = port or free_port(socket.SOCK_STREAM)
        ctl = Controller(inbox, hostname=HOST, port=port, ready_timeout=10, **kw)
        ctl.start()
        started.append(ctl)
        return inbox, port

    yield start
    for ctl in started:
        ctl.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def voicemail_wav(tmp_path) -> Path:
    path = tmp_path / "msg.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(range(256)) * 64)
    return path


def settings(port: int, **kw) -> SmtpSettings:
    return SmtpSettings(**{"host": HOST, "port": port, "starttls": False, "sender": "box@office.example",
                           "timeout_s": 10, **kw})


def text(part) -> str:
    return part.get_content().replace("\r\n", "\n")  # the wire's line ends


SUBJECT = "Nowa wiadomość głosowa od +48 601 234 567"
BODY = "Zażółć gęślą jaźń — a message of 12 s in box 1001.\n"


def test_a_message_with_its_recording_is_delivered(smtp_server, tmp_path, clock, voicemail_wav):
    inbox, port = smtp_server()
    mailer = Mailer(settings(port), tmp_path / "spool", clock)
    mail_id = mailer.queue("Ann <ann@office.example>", SUBJECT, BODY, voicemail_wav, "voicemail-1001.wav",
                           ref="voicemail/1001/m1")
    assert inbox.received == []  # queueing never sends
    [sent] = mailer.deliver_due()
    assert (sent["id"], sent["ref"], sent["status"]) == (mail_id, "voicemail/1001/m1", "sent")
    [(mail_from, rcpt, _raw)] = inbox.received
    assert (mail_from, rcpt) == ("box@office.example", ["ann@office.example"])
    [msg] = inbox.messages()
    assert msg["Subject"] == SUBJECT and msg["From"] == "box@office.example"
    assert text(msg.get_body(("plain",))) == BODY
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "voicemail-1001.wav"
    assert attachment.get_content_type() in ("audio/x-wav", "audio/wav")
    assert attachment.get_content() == voicemail_wav.read_bytes()
    [status] = mailer.status()
    assert status["id"] == mail_id and status["status"] == "sent" and status["attempts"] == 1
    assert status["sent_at"] == clock.now
    assert len(mailer.deliver_due()) == 0 and len(inbox.received) == 1  # sent once only
    assert not list((tmp_path / "spool").glob("*.eml"))


def test_a_message_without_attachment_is_plain_text(smtp_server, tmp_path, clock):
    inbox, port = smtp_server()
    mailer = Mailer(settings(port), tmp_path / "spool", clock)
    mailer.queue("bob@office.example", "No audio", "Just text.\n")
    mailer.deliver_due()
    [msg] = inbox.messages()
    assert msg.get_content_type() == "text/plain" and text(msg) == "Just text.\n"


def test_server_down_then_retried_on_schedule_and_delivered_when_back(smtp_server, tmp_path, clock):
    port = free_port(socket.SOCK_STREAM)  # nothing listens there yet
    mailer = Mailer(settings(port), tmp_path / "spool", clock)
    first = mailer.queue("ann@office.example", "one", "1")
    second = mailer.queue("bob@office.example", "two", "2")
    created = clock.now
    assert len(mailer.deliver_due()) == 0
    for s in mailer.status():
        assert s["status"] == "queued" and s["attempts"] == 1
        assert s["next_try"] == created + RETRY_AFTER_S[0] and s["last_error"]
    assert mailer.next_due() == created + RETRY_AFTER_S[0]
    clock.advance(RETRY_AFTER_S[0] - 1)
    assert len(mailer.deliver_due()) == 0
    assert {s["attempts"] for s in mailer.status()} == {1}  # not due yet: not tried
    inbox, _ = smtp_server(port)
    clock.advance(1)
    assert len(mailer.deliver_due()) == 2
    assert sorted(m["Subject"] for m in inbox.messages()) == ["one", "two"]
    assert {s["id"]: s["status"] for s in mailer.status()} == {first: "sent", second: "sent"}


def test_backoff_is_1_5_15_60_minutes_then_hourly_and_failed_after_a_day(smtp_server, tmp_path, clock):
    port = free_port(socket.SOCK_STREAM)
    mailer = Mailer(settings(port), tmp_path / "spool", clock)
    mailer.queue("ann@office.example", "late", "body")
    created = clock.now
    delays = []
    while clock.now - created < 24 * 3600:
        mailer.deliver_due()
        [s] = mailer.status()
        delays.append(s["next_try"] - clock.now)
        clock.now = s["next_try"]
    assert delays[:6] == [60, 5 * 60, 15 * 60, 60 * 60, 60 * 60, 60 * 60]
    assert set(delays[4:]) == {EVERY_HOUR_S}
    assert s["status"] == "queued"
    mailer.deliver_due()  # the first failure after 24 hours
    [s] = mailer.status()
    assert s["status"] == "failed" and s["failed_at"] == clock.now and s["last_error"]
    assert s["next_try"] == clock.now + EVERY_HOUR_S  # still tried: never dropped
    inbox, _ = smtp_server(port)
    clock.advance(EVERY_HOUR_S)
    assert len(mailer.deliver_due()) == 1 and inbox.messages()[0]["Subject"] == "late"
    assert mailer.status()[0]["status"] == "sent"


def test_a_temporary_refusal_is_retried(smtp_server, tmp_path, clock):
    inbox = Inbox()
    inbox.refuse_data = ["451 Try again later"]
    _, port = smtp_server(inbox=inbox)
    mailer = Mailer(settings(port), tmp_path / "spool", clock)
    mailer.queue("ann@office.example", "s", "b")
    assert len(mailer.deliver_due()) == 0
    [s] = mailer.status()
    assert s["status"] == "queued" and s["last_error"].startswith("451")
    clock.advance(RETRY_AFTER_S[0])
    assert len(mailer.deliver_due()) == 1 and len(inbox.received) == 1


def test_a_permanent_refusal_stops_retries_but_stays_visible(smtp_server, tmp_path, clock):
    inbox = Inbox()
    inbox.refuse_rcpt = "550 No such user here"
    _, port = smtp_server(inbox=inbox)
    mailer = Mailer(settings(port), tmp_path / "spool", clock)
    mail_id = mailer.queue("nobody@office.example", "s", "b")
    mailer.deliver_due()
    [s] = mailer.status()
    assert s["status"] == "failed" and s["last_error"].startswith("550") and s["next_try"] is None
    clock.advance(10 * EVERY_HOUR_S)
    assert len(mailer.deliver_due()) == 0 and mailer.status()[0]["attempts"] == 1
    inbox.refuse_rcpt = None  # the admin created the mailbox and asks for a retry
    mailer.retry(mail_id)
    assert len(mailer.deliver_due()) == 1 and mailer.status()[0]["status"] == "sent"
    with pytest.raises(ValidationError):
        mailer.retry(mail_id)


def test_the_spool_survives_a_new_mailer(smtp_server, tmp_path, clock, voicemail_wav):
    port = free_port(socket.SOCK_STREAM)
    spool = tmp_path / "spool"
    Mailer(settings(port), spool, clock).queue("ann@office.example", SUBJECT, BODY, voicemail_wav)
    (spool / "0000000000001-deadbeef.eml").write_bytes(b"queued when the power went")
    inbox, _ = smtp_server(port)
    restarted = Mailer(settings(port), spool, clock)
    assert not (spool / "0000000000001-deadbeef.eml").exists()
    assert [s["status"] for s in restarted.status()] == ["queued"]
    assert len(restarted.deliver_due()) == 1
    [msg] = inbox.messages()
    assert msg["Subject"] == SUBJECT
    assert next(msg.iter_attachments()).get_content() == voicemail_wav.read_bytes()


def test_a_retry_sends_the_same_message_id(smtp_server, tmp_path, clock):
    inbox = Inbox()
    inbox.refuse_data = ["451 later"]
    _, port = smtp_server(inbox=inbox)
    spool = tmp_path / "spool"
    mailer = Mailer(settings(port), spool, clock)
    mailer.queue("ann@office.example", "s", "b")
    queued_id = message_from_bytes(next(spool.glob("*.eml")).read_bytes())["Message-ID"]
    mailer.deliver_due()
    clock.advance(RETRY_AFTER_S[0])
    mailer.deliver_due()
    assert inbox.messages()[0]["Message-ID"] == queued_id


def test_forget_removes_a_message(tmp_path, clock):
    mailer = Mailer(settings(free_port(socket.SOCK_STREAM)), tmp_path / "spool", clock)
    mail_id = mailer.queue("ann@office.example", "s", "b")
    mailer.forget(mail_id)
    assert mailer.status() == [] and mailer.next_due() is None
    with pytest.raises(NotFound):
        mailer.forget(mail_id)


@pytest.mark.parametrize("to, subject", [("not an address", "s"), ("a@b.c, d@e.f", "s"),
                                         ("a@b.c\r\nBcc: x@y.z", "s"), ("ann@office.example", "two\r\nlines")])
def test_bad_addresses_and_subjects_are_refused_and_nothing_is_queued(tmp_path, clock, to, subject):
    mailer = Mailer(settings(1), tmp_path / "spool", clock)
    with pytest.raises(ValidationError):
        mailer.queue(to, subject, "b")
    assert mailer.status() == []


def test_a_missing_server_setting_keeps_the_message_queued(tmp_path, clock):
    mailer = Mailer(SmtpSettings(host="", sender="box@office.example"), tmp_path / "spool", clock)
    mailer.queue("ann@office.example", "s", "b")
    assert len(mailer.deliver_due()) == 0
    [s] = mailer.status()
    assert s["status"] == "queued" and "no SMTP server" in s["last_error"]


# --- STARTTLS with authentication -----------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed on this machine, so no test certificate can be made")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={HOST}",
                    "-addext", f"subjectAltName=IP:{HOST}"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def tls_server(smtp_server, certificate) -> tuple[Inbox, int, list]:
    cert, key = certificate
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    logins: list[tuple[str, str]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        login = (auth_data.login.decode(), auth_data.password.decode())
        logins.append(login)
        return AuthResult(success=login == ("box", "s3cret pässword"), handled=False)

    inbox, port = smtp_server(tls_context=ctx, require_starttls=True, authenticator=authenticator,
                              auth_required=True)
    return inbox, port, logins


def test_starttls_and_login(smtp_server, certificate, tmp_path, clock, voicemail_wav):
    inbox, port, logins = tls_server(smtp_server, certificate)
    cfg = settings(port, starttls=True, username="box", password="s3cret pässword",
                   ca_file=str(certificate[0]))
    mailer = Mailer(cfg, tmp_path / "spool", clock)
    mailer.queue("ann@office.example", SUBJECT, BODY, voicemail_wav)
    assert len(mailer.deliver_due()) == 1, mailer.status()
    assert logins == [("box", "s3cret pässword")]
    assert next(inbox.messages()[0].iter_attachments()).get_content() == voicemail_wav.read_bytes()


def test_an_untrusted_certificate_is_not_sent_to(smtp_server, certificate, tmp_path, clock):
    inbox, port, logins = tls_server(smtp_server, certificate)
    cfg = settings(port, starttls=True, username="box", password="s3cret pässword")
    mailer = Mailer(cfg, tmp_path / "spool", clock)
    mailer.queue("ann@office.example", "s", "b")
    assert len(mailer.deliver_due()) == 0
    [s] = mailer.status()
    assert s["status"] == "queued" and "CERTIFICATE" in s["last_error"].upper()
    assert logins == [] and inbox.received == []
    # An admin who accepts the relay's own certificate turns verification off.
    relaxed = Mailer(settings(port, starttls=True, username="box", password="s3cret pässword",
                              verify_tls=False), tmp_path / "spool", clock)
    clock.advance(RETRY_AFTER_S[0])
    assert len(relaxed.deliver_due()) == 1


def test_a_wrong_password_is_retried_not_dropped(smtp_server, certificate, tmp_path, clock):
    _inbox, port, _logins = tls_server(smtp_server, certificate)
    cfg = settings(port, starttls=True, username="box", password="wrong", ca_file=str(certificate[0]))
    mailer = Mailer(cfg, tmp_path / "spool", clock)
    mailer.queue("ann@office.example", "s", "b")
    assert len(mailer.deliver_due()) == 0
    [s] = mailer.status()
    assert s["status"] == "queued" and s["last_error"].startswith("535")
