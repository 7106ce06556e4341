"""Cutting a TCP byte stream into SIP messages by Content-Length (RFC 3261 §18.3).

Pure: bytes in, whole messages (still bytes, for the parser) out, no I/O.
"""

from __future__ import annotations

import re

from appliance.errors import SipParseError
from appliance.sip.grammar import parse_error
from appliance.sip.parser import MAX_BODY, MAX_MESSAGE_BYTES

__all__ = ["StreamFramer"]

_CONTENT_LENGTH_RE = re.compile(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)", re.I)


class StreamFramer:
    """Cut a TCP byte stream into messages by Content-Length (RFC 3261 §18.3).

    Once bytes fail to frame, the stream cannot be resynchronised: the framer
    is broken and every later call reports the same error.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scanned = 0  # where the search for the blank line resumes
        self.error: SipParseError | None = None

    @property
    def pending(self) -> int:
        """Bytes received that are not yet a whole message (a message begun, or junk)."""
        return len(self._buf)

    def rest(self) -> bytes:
        """The bytes not cut into messages: after an error, the garbage (for an answer to it)."""
        return bytes(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """The messages completed by `data`; raises SipParseError when the stream breaks
        (the messages completed before the bad bytes are then lost: use read())."""
        messages, error = self.read(data)
        if error is not None:
            raise error
        return messages

    def read(self, data: bytes) -> tuple[list[bytes], SipParseError | None]:
        """The messages completed by `data`, and the error when bytes after them fail to frame."""
        if self.error is not None:
            return [], self.error
        out: list[bytes] = []
        try:
            self._cut(data, out)
        except SipParseError as e:
            self.error = e
        return out, self.error

    def _cut(self, data: bytes, out: list[bytes]) -> None:
        self._buf += data
        buf = self._buf
        while True:
            skip = 0
            while buf.startswith(b"\r\n", skip):
                skip += 2
            if skip:
                # CRLF keep-alives (RFC 5626 §3.5.1) between messages.
                del buf[:skip]
                self._scanned = 0
            if not buf or buf == b"\r":
                return
            end = buf.find(b"\r\n\r\n", max(0, self._scanned - 3))
            if end < 0:
                if len(buf) > MAX_MESSAGE_BYTES:
                    raise parse_error("header section too large", 413)
                self._scanned = len(buf)
                return
            if end > MAX_MESSAGE_BYTES:
                raise parse_error("header section too large", 413)
            lengths = {m.group(1).strip(b" \t") for m in _CONTENT_LENGTH_RE.finditer(buf, 0, end + 2)}
            if not lengths:
                raise parse_error("Content-Length is required on a stream")
            if len(lengths) > 1:
                raise parse_error("conflicting Content-Length headers")
            raw = lengths.pop()
            if not raw.isdigit():
                raise parse_error("bad Content-Length")
            if len(raw) > 9 or int(raw) > MAX_BODY:
                raise parse_error("body too large", 413)
            total = end + 4 + int(raw)
            if total > MAX_MESSAGE_BYTES:
                raise parse_error("message too large", 413)
            if len(buf) < total:
                self._scanned = end
                return
            out.append(bytes(buf[:total]))
            del buf[:total]
            self._scanned = 0
