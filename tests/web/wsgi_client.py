"""Calls a WSGI app directly, like a browser with a cookie jar, without a server."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    text: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "set-cookie"]

    @property
    def location(self) -> str:
        loc = self.header("Location") or ""
        parts = urlsplit(loc)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def csrf(self) -> str:
        match = CSRF_RE.search(self.text)
        assert match, "the page has no CSRF token"
        return match.group(1)


class WsgiClient:
    """A browser stand-in: keeps cookies, sends forms, reads one remote address."""

    def __init__(self, app, remote_addr: str = "127.0.0.1", scheme: str = "https"):
        self.app = app
        self.remote_addr = remote_addr
        self.scheme = scheme
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None,
                headers: dict | None = None, raw: tuple[bytes, str] | None = None) -> Reply:
        url = urlsplit(path)
        body = raw[0] if raw else urlencode(form or {}, doseq=True).encode()
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": url.path, "QUERY_STRING": url.query,
            "SERVER_NAME": "callbox.test", "SERVER_PORT": "8443", "HTTP_HOST": "callbox.test:8443",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": self.remote_addr,
            "wsgi.url_scheme": self.scheme, "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0), "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": raw[1] if raw else
            "application/x-www-form-urlencoded" if form is not None else "",
        }
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        captured: dict = {}

        def start_response(status, response_headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            captured["headers"] = response_headers

        chunks = self.app(environ, start_response)
        try:
            raw = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        reply = Reply(captured["status"], captured["headers"], raw.decode("utf-8", "replace"))
        for header in reply.cookies():
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "-1" or morsel["expires"] and "1970" in morsel["expires"] \
                        or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, form: dict | None = None, **kw) -> Reply:
        return self.request("POST", path, form=form or {}, **kw)

    def submit(self, page: str, action: str, form: dict) -> Reply:
        """GET page, take its CSRF token, POST form to action, like a person filling it in."""
        token = self.get(page).csrf()
        return self.post(action, {**form, "csrf_token": token})

    def post_multipart(self, path: str, fields: dict[str, str],
                       files: dict[str, tuple[str, bytes]]) -> Reply:
        """POST a multipart/form-data form, as a browser sends a file upload."""
        boundary = "----callboxtest" + "7" * 16
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                         f"{value}\r\n".encode())
        for name, (filename, data) in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                         f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                         + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, raw=(body, f"multipart/form-data; boundary={boundary}"))
