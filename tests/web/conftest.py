"""Fixtures for the admin page tests: a fake control API over real HTTP and a fake clock."""

from __future__ import annotations

import pytest

from tests.web.fake_api import FakeControlApi
from tests.web.wsgi_client import WsgiClient
from web.api_client import ApiClient
from web.app import WebSettings, create_app
from web.kit import hash_password

ADMIN_PASSWORD = "correct horse battery"


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_api():
    api = FakeControlApi().start()
    yield api
    api.stop()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def app(fake_api, clock):
    return create_app(WebSettings(clock=clock, event_idle_s=0.5, event_relay_max_s=5),
                      ApiClient(fake_api.url, fake_api.token))


@pytest.fixture
def browser(app):
    return WsgiClient(app)


def add_user(fake_api: FakeControlApi, username: str, role: str, password: str) -> None:
    fake_api.users[username] = {"username": username, "role": role,
                                "password_hash": hash_password(password), "created": "2024-01-01"}


def log_in(browser: WsgiClient, username: str, password: str):
    return browser.submit("/login", "/login", {"username": username, "password": password})


@pytest.fixture
def admin(fake_api, browser):
    """A browser logged in as the admin `boss`."""
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    reply = log_in(browser, "boss", ADMIN_PASSWORD)
    assert reply.status == 303, reply.text
    return browser
