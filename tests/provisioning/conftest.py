"""Shared values for the provisioning tests: two extensions with awkward names, one site."""

from __future__ import annotations

import pytest

from appliance.provisioning.site import PhoneAccount, PhoneSite
from appliance.provisioning.timezones import parse_posix_tz
from tests.fake_clock import FakeClock as _Clock


class FakeClock(_Clock):
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        super().__init__(now)


EXTENSIONS = {
    "1001": {"number": "1001", "name": 'Smith & <Sons> "Ä"', "secret": "Xk3vQ9pL2mZ7wR4t",
             "class_of_service": "national"},
    "1002": {"number": "1002", "name": "Zoë 中文 O'Brien", "secret": "Hy7Tg2Nc5Bq8Jw1e",
             "class_of_service": "internal"},
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def site() -> PhoneSite:
    return PhoneSite(sip_server="192.0.2.10", sip_port=5070,
                     timezone=parse_posix_tz("Europe/Warsaw", "CET-1CEST,M3.5.0,M10.5.0/3"),
                     language="pl", voicemail_number="*97")


@pytest.fixture(params=["1001", "1002"])
def account(request) -> PhoneAccount:
    return PhoneAccount.from_extension(EXTENSIONS[request.param])
