"""Email out of the box (voicemail to email) through the office's SMTP server.

`queue()` only writes the message to a spool directory and returns; the
core calls `deliver_due()` off its event loop (on a timer, and after each
queue). A message is built once, when it is queued, so every retry sends the
same bytes with the same Message-ID and a recipient's mail system can drop
a duplicate.

Spool, one pair of files per message, both written atomically:

    <id>.eml    the message as it goes on the wire (removed once sent)
    <id>.json   to, subject, status, attempts, next try, last error

The metadata is written after the message, so a crash between the two
leaves an .eml without metadata, which the next start removes: the caller of
`queue()` was never told it was queued.

A message that cannot be delivered is retried after 1, 5, 15 and 60 minutes,
then every hour. After 24 hours it shows as failed, and is still retried
every hour: nothing is dropped, an unreachable mail server may come back.
A permanent refusal (a 5xx answer to the sender, the recipient or the data)
stops the retries at once; the message stays listed as failed until
`retry(id)` or `forget(id)`.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email import policy, utils
from email.message import EmailMessage
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.errors import NotFound, StoreCorrupt, StoreError, ValidationError
from appliance.store.atomic import atomic_write_bytes, encode_json, fsync_dir

if TYPE_CHECKING:
    import smtplib

# smtplib (and the email generator it brings) is imported by the functions that talk to the server:
# the core imports this module at every start and sends mail only when there is some.

log = logging.getLogger(__name__)

RETRY_AFTER_S = (60, 5 * 60, 15 * 60, 60 * 60)  # then every hour
EVERY_HOUR_S = 60 * 60
FAILED_AFTER_S = 24 * 60 * 60
KEEP_SENT_S = 7 * 24 * 60 * 60
# 7-bit transfer encodings: the UTF-8 text and the WAV go through any
# server, even one without 8BITMIME.
WIRE_POLICY = policy.SMTP.clone(cte_type="7bit")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    starttls: bool = True
    username: str = ""
    password: str = ""
    sender: str = ""
    timeout_s: float = 30.0
    ca_file: str = ""  # trust this certificate authority too (a relay with its own certificate)
    verify_tls: bool = True


class MailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class _Permanent(Exception):
    """The server refused for good (5xx): retrying the same message cannot help."""


def _unreachable() -> tuple[type[BaseException], ...]:
    """The errors that say the server cannot be reached at all."""
    import smtplib
    return (ConnectionError, TimeoutError, socket.gaierror, smtplib.SMTPConnectError,
            smtplib.SMTPServerDisconnected)


def _retry_delay(attempts: int) -> float:
    return RETRY_AFTER_S[attempts - 1] if attempts <= len(RETRY_AFTER_S) else EVERY_HOUR_S


def _one_address(to: str) -> str:
    to = to.strip()
    _name, addr = utils.parseaddr(to)
    if not addr or "@" not in addr or any(c in to for c in "\r\n,;"):
        raise ValidationError(f"{to!r} is not one email address")
    return to


class Mailer:
    def __init__(self, settings: SmtpSettings, spool_dir: Path,
                 clock: Callable[[], float] = time.time, keep_sent_s: float = KEEP_SENT_S):
        self.settings = settings
        self.spool = Path(spool_dir)
        self.clock = clock
        self.keep_sent_s = keep_sent_s
        self._lock = threading.RLock()
        self._delivering = threading.Lock()
        try:
            self.spool.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the mail spool {self.spool}: {e.strerror or e}") from e
        self._clean_up()

    # -- queueing ---------------------------------------------------------------------

    def queue(self, to: str, subject: str, body: str, attachment_path: Path | None = None,
              attachment_name: str | None = None, ref: str = "") -> str:
        """Put a message in the spool; returns its id. Delivery happens in deliver_due().

        `ref` is the caller's own label (e.g. "voicemail/1001/<message id>"),
        handed back with the message when it is sent.
        """
        to = _one_address(to)
        if any(c in subject for c in "\r\n"):
            raise ValidationError("a subject is one line")
        now = self.clock()
        msg = EmailMessage(policy=WIRE_POLICY)
        msg["From"] = self.settings.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = utils.formatdate(now, localtime=True)
        domain = self.settings.sender.rpartition("@")[2] or "callbox.local"
        msg["Message-ID"] = utils.make_msgid(domain=domain)
        msg.set_content(body)
        if attachment_path is not None:
            path = Path(attachment_path)
            try:
                data = path.read_bytes()
            except OSError as e:
                raise NotFound(f"cannot read the attachment {path}: {e.strerror or e}") from e
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            maintype, subtype = ctype.split("/", 1)
            msg.add_attachment(data, maintype=maintype, subtype=subtype,
                               filename=attachment_name or path.name)
        mail_id = f"{int(now * 1000):013d}-{uuid.uuid4().hex[:8]}"
        meta = {"id": mail_id, "ref": ref, "to": to, "subject": subject, "status": MailStatus.QUEUED.value,
                "created": now, "attempts": 0, "next_try": now, "last_error": "",
                "sent_at": None, "failed_at": None, "permanent": False}
        with self._lock:
            atomic_write_bytes(self._eml(mail_id), msg.as_bytes(policy=WIRE_POLICY), 0o600)
            self._write(meta)
        log.info("mail %s to %s queued: %s", mail_id, to, subject)
        return mail_id

    # -- delivering -------------------------------------------------------------------

    def deliver_due(self) -> list[dict[str, Any]]:
        """Send every message whose time has come; returns the status of each one sent.

        Blocking (smtplib): the core runs it in a thread, never on its loop.
        """
        with self._delivering:
            now = self.clock()
            due = [m for m in self._all() if m["next_try"] is not None and m["next_try"] <= now
                   and m["status"] != MailStatus.SENT]
            due.sort(key=lambda m: m["next_try"])
            self._prune_sent(now)
            sent: list[dict[str, Any]] = []
            for i, meta in enumerate(due):
                try:
                    raw = self._eml(meta["id"]).read_bytes()
                    self._send(meta["to"], raw)
                except _Permanent as e:
                    self._failed(meta, str(e), permanent=True)
                except _unreachable() as e:
                    # The server is unreachable: the rest would wait out the same
                    # timeout one by one, so they are put off together.
                    for m in due[i:]:
                        self._failed(m, _describe(e))
                    break
                except (OSError, ValueError) as e:  # smtplib's and ssl's errors are OSErrors
                    self._failed(meta, _describe(e))
                else:
                    self._sent(meta)
                    sent.append(_public(meta))
            return sent

    def _send(self, to: str, raw: bytes) -> None:
        import smtplib
        s = self.settings
        if not s.host:
            raise smtplib.SMTPException("no SMTP server is set")
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as smtp:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if s.username:
                _log_in(smtp, s.username, s.password)
            try:
                smtp.sendmail(s.sender, [to], raw)
            except smtplib.SMTPRecipientsRefused as e:
                code, text = next(iter(e.recipients.values()))
                if code >= 500:
                    raise _Permanent(f"{code} {_text(text)}") from e
                raise
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
                if e.smtp_code >= 500:
                    raise _Permanent(f"{e.smtp_code} {_text(e.smtp_error)}") from e
                raise

    def _tls_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if self.settings.ca_file:
            ctx.load_verify_locations(cafile=self.settings.ca_file)
        if not self.settings.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _sent(self, meta: dict[str, Any]) -> None:
        now = self.clock()
        meta.update(status=MailStatus.SENT.value, attempts=meta["attempts"] + 1, sent_at=now,
                    next_try=None, last_error="")
        with self._lock:
            self._write(meta)
            self._eml(meta["id"]).unlink(missing_ok=True)
        log.info("mail %s to %s sent", meta["id"], meta["to"])

    def _failed(self, meta: dict[str, Any], error: str, permanent: bool = False) -> None:
        now = self.clock()
        attempts = meta["attempts"] + 1
        meta.update(attempts=attempts, last_error=error, permanent=permanent)
        if permanent:
            meta.update(status=MailStatus.FAILED.value, next_try=None, failed_at=now)
        else:
            meta["next_try"] = now + _retry_delay(attempts)
            if now - meta["created"] >= FAILED_AFTER_S and meta["status"] != MailStatus.FAILED:
                meta.update(status=MailStatus.FAILED.value, failed_at=now)
        with self._lock:
            self._write(meta)
        log.warning("mail %s to %s not sent (attempt %d): %s", meta["id"], meta["to"], attempts, error)

    # -- looking and managing ---------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """Every message in the spool, oldest first: queued, sent (for a week) and failed."""
        return [_public(m) for m in self._all()]

    def next_due(self) -> float | None:
        """When deliver_due() has work next (for the core's timer); None when nothing waits."""
        times = [m["next_try"] for m in self._all()
                 if m["next_try"] is not None and m["status"] != MailStatus.SENT]
        return min(times, default=None)

    def retry(self, mail_id: str) -> None:
        """Try a failed message again at the next deliver_due()."""
        with self._lock:
            meta = self._read(mail_id)
            if meta["status"] == MailStatus.SENT:
                raise ValidationError(f"mail {mail_id} was sent already")
            meta.update(status=MailStatus.QUEUED.value, next_try=self.clock(), permanent=False,
                        created=self.clock(), failed_at=None)
            self._write(meta)

    def forget(self, mail_id: str) -> None:
        """Remove a message from the spool (an admin gave up on it)."""
        with self._lock:
            self._read(mail_id)
            self._meta_path(mail_id).unlink(missing_ok=True)
            self._eml(mail_id).unlink(missing_ok=True)
            fsync_dir(self.spool)

    # -- spool files ------------------------------------------------------------------

    def _meta_path(self, mail_id: str) -> Path:
        if not mail_id or not all(c.isalnum() or c == "-" for c in mail_id):
            raise NotFound(f"no mail {mail_id!r}")
        return self.spool / f"{mail_id}.json"

    def _eml(self, mail_id: str) -> Path:
        return self.spool / f"{mail_id}.eml"

    def _write(self, meta: dict[str, Any]) -> None:
        atomic_write_bytes(self._meta_path(meta["id"]), encode_json(meta), 0o600)

    def _read(self, mail_id: str) -> dict[str, Any]:
        path = self._meta_path(mail_id)
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise NotFound(f"no mail {mail_id}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise StoreCorrupt(f"{path} does not parse ({e})") from e
        if not isinstance(data, dict) or "id" not in data:
            raise StoreCorrupt(f"{path} is not a spooled mail")
        return data

    def _all(self) -> list[dict[str, Any]]:
        out = []
        with self._lock:
            for path in sorted(self.spool.glob("*.json")):
                try:
                    out.append(self._read(path.stem))
                except (StoreCorrupt, NotFound) as e:
                    log.warning("mail spool: skipping %s: %s", path.name, e)
        return out

    def _prune_sent(self, now: float) -> None:
        with self._lock:
            for m in self._all():
                if m["status"] == MailStatus.SENT and now - (m["sent_at"] or now) > self.keep_sent_s:
                    self._meta_path(m["id"]).unlink(missing_ok=True)

    def _clean_up(self) -> None:
        with self._lock:
            for leftover in self.spool.glob(".*.tmp"):
                leftover.unlink(missing_ok=True)
            for eml in self.spool.glob("*.eml"):
                if not eml.with_suffix(".json").exists():
                    log.info("mail spool: removing %s, queued when the power went", eml.name)
                    eml.unlink(missing_ok=True)


def _log_in(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH PLAIN in UTF-8 (RFC 4616) where offered; smtplib's own login sends ASCII only."""
    import smtplib
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        smtp.login(username, password)
        return
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode("ascii")
    code, reply = smtp.docmd("AUTH", "PLAIN " + token)
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, reply)


def _public(meta: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "ref", "to", "subject", "status", "created", "attempts", "next_try", "last_error",
            "sent_at", "failed_at")
    return {k: meta.get(k) for k in keys}


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _describe(e: BaseException) -> str:
    import smtplib
    if isinstance(e, smtplib.SMTPResponseException):
        return f"{e.smtp_code} {_text(e.smtp_error)}"
    if isinstance(e, OSError) and e.strerror:
        return f"{type(e).__name__}: {e.strerror}"
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
