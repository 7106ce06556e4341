"""What the registrar's tests share: a clock that moves when told, and REGISTERs made short."""

from __future__ import annotations

import json

from appliance.sip.bindings import ContactRequest, RegisterRequest
from appliance.sip.registrar import Registrar
from appliance.sip.source import Source
from tests.fake_clock import FakeClock  # noqa: F401  (the registrar tests import it from here)


PHONE = Source("udp", "127.0.0.1", 5062)
OTHER_PHONE = Source("udp", "127.0.0.1", 5064)


def contact(uri: str, expires: int | None = None, q: float | None = None) -> ContactRequest:
    return ContactRequest(uri=uri, expires=expires, q=q, raw=f"<{uri}>")


def star() -> ContactRequest:
    return ContactRequest(uri="*", expires=None, q=None, raw="*", star=True)


def register(
    *contacts: ContactRequest,
    aor: str = "1001",
    call_id: str = "call-1",
    cseq: int = 1,
    expires: int | None = None,
    source: Source = PHONE,
    **extra,
) -> RegisterRequest:
    return RegisterRequest(
        aor=aor,
        call_id=call_id,
        cseq=cseq,
        contacts=list(contacts),
        expires_header=expires,
        source=source,
        user_agent="Yealink SIP-T46S 66.86.0.15",
        **extra,
    )


def state(registrar: Registrar) -> list[dict]:
    return sorted((b.to_dict() for b in registrar.all_bindings()), key=json.dumps)
