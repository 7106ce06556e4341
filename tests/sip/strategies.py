"""Hypothesis strategies for the pieces of SIP: tokens, hosts, ports, parameters, URIs."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from appliance.sip.grammar import SipUri

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~",
                 min_size=1, max_size=12)
users = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()&=+$,", min_size=1, max_size=12)
labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
hosts = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)
ports = st.one_of(st.none(), st.integers(1, 65535))
param_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
param_values = st.one_of(st.just(""), st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1,
                                              max_size=10))
params = st.dictionaries(param_names, param_values, max_size=4)


@st.composite
def sip_uris(draw):
    user = draw(st.one_of(st.none(), users.filter(lambda u: ";" not in u and "?" not in u)))
    password = draw(st.one_of(st.none(), st.text(alphabet="abc123-_.", min_size=1, max_size=8))) if user else None
    headers = draw(st.dictionaries(st.text(alphabet="abcxyz", min_size=1, max_size=5),
                                   st.text(alphabet="abc123", max_size=5), max_size=2))
    return SipUri(draw(st.sampled_from(["sip", "sips"])), user, password, draw(hosts), draw(ports),
                  draw(params), headers)
