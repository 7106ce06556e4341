"""The registrar and location service (RFC 3261 §10.3), as pure logic.

The edge turns a parsed REGISTER into a `RegisterRequest` and the
`RegisterResult` back into a SIP response (appliance.sip.bindings holds
those and the `Binding`s kept); this module does no I/O and reads
time only through the clocks it is given.

Decisions worth knowing:

- Two clocks. `clock` is monotonic-like (the edge passes `time.monotonic`);
  every `expires_at` and `registered_at` held in memory and returned by
  `Binding.to_dict()` is in its units. `wall_clock` (default `time.time`) is
  used only by `snapshot()` and `restore()`: in a snapshot `expires_at` and
  `registered_at` are wall-clock epoch seconds, so that registrations survive
  a restart of the core (the monotonic clock starts again at boot).
  A box without a real-time clock may boot with a wrong wall clock, so
  `restore()` never grants a binding more than `max_expires` from now.
- Contact URIs are compared as strings after lowercasing the scheme and the
  host/port; the user part and the parameters keep their case and order.
  That is simpler than RFC 3261 §19.1.4 and enough for phones, which send the
  same Contact on every refresh.
- A binding whose Call-ID is the one stored and whose CSeq is not higher
  fails the whole request with 500 (§10.3 steps 6 and 7): nothing changes.
- More live contacts than `max_contacts_per_aor` fails with 403 "Too many
  contacts"; old contacts are never pushed out silently.
- Bindings that expired are collected by `expire()`. When a REGISTER finds
  expired bindings of its AOR first, it drops them at once (so they do not
  count against the limit) and `expire()` still reports them next time
  (unless the same contact was registered again meanwhile), so every removal
  is announced exactly once.
- `RegisterResult.changed` is true when a binding was added or removed, or
  when a binding's Call-ID, source or q changed (a rebooted phone, a phone
  that moved port). A plain refresh is not a change: the core should also
  write `snapshot()` from time to time, so that refreshed expiry times are
  kept across a restart.
- When a request carries `+sip.instance` and `reg-id` (RFC 5626), a new
  contact replaces the AOR's other bindings with the same pair, so a phone
  that changes its Contact after a network change leaves no stale binding.
- A Contact points at the phone that registered (`contact_refusal`, in
  appliance.sip.contact_rules): the edge refuses a REGISTER that breaks the
  rule, and `restore()` leaves out a binding written before it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from typing import Any, Callable

from appliance.errors import SettingError, ValidationError
from appliance.sip.bindings import Binding, ContactRequest, RegisterRequest, RegisterResult, contact_key
from appliance.sip.contact_rules import contact_refusal
from appliance.sip.source import Source

log = logging.getLogger(__name__)

Clock = Callable[[], float]

# Heap entries superseded by a refresh stay until their time comes; rebuild the
# heap when they outnumber the live ones by this factor.
_HEAP_SLACK = 2
# RFC 3261 Timer F (64 × T1): a client stops re-sending a REGISTER after this long.
_RESEND_WINDOW_S = 32.0


def _sort_key(binding: Binding) -> tuple[float, float]:
    # RFC 3261 leaves a missing q unspecified; phones treat it as the top rank.
    q = 1.0 if binding.q is None else binding.q
    return (-q, -binding.registered_at)


class Registrar:
    """The location service: which contacts each extension is reachable at."""

    def __init__(
        self,
        clock: Clock,
        *,
        min_expires: int = 60,
        max_expires: int = 3600,
        default_expires: int = 3600,
        max_contacts_per_aor: int = 10,
        wall_clock: Clock = time.time,
    ) -> None:
        if min_expires < 1:
            raise SettingError("min_expires", "must be at least 1 second")
        if max_expires < min_expires:
            raise SettingError("max_expires", "must not be below min_expires")
        if default_expires < min_expires:
            raise SettingError("default_expires", "must not be below min_expires")
        if max_contacts_per_aor < 1:
            raise SettingError("max_contacts_per_aor", "must be at least 1")
        self._clock = clock
        self._wall_clock = wall_clock
        self.min_expires = min_expires
        self.max_expires = max_expires
        # Lowering max_expires alone must not make the default invalid.
        self.default_expires = min(default_expires, max_expires)
        self.max_contacts_per_aor = max_contacts_per_aor
        # aor -> contact_key -> Binding
        self._aors: dict[str, dict[str, Binding]] = {}
        # source -> (aor, contact_key) -> Binding, for is_registered_source()
        self._by_source: dict[Source, dict[tuple[str, str], Binding]] = {}
        # ip -> the sources with bindings at that address, for is_registered_address()
        self._by_ip: dict[str, set[Source]] = {}
        self._count = 0
        # (expires_at, sequence, binding); stale entries are skipped lazily
        self._heap: list[tuple[float, int, Binding]] = []
        self._sequence = itertools.count()
        # expired bindings a REGISTER dropped before expire() saw them
        self._dropped_expired: list[Binding] = []

    # ---- REGISTER ---------------------------------------------------------

    def register(self, req: RegisterRequest) -> RegisterResult:
        """Apply a REGISTER (§10.3 steps 6–8) and say what to answer."""
        now = self._clock()
        current = self._live_of(req.aor, now)
        if not req.contacts:
            return RegisterResult(200, "OK", self._sorted(current.values()))
        if any(c.star for c in req.contacts):
            return self._remove_all(req, current, now)

        wanted: dict[str, tuple[ContactRequest, int]] = {}
        for contact in req.contacts:
            if contact.expires is not None:
                expiry = contact.expires
            elif req.expires_header is not None:
                expiry = req.expires_header
            else:
                # The limits may be changed at run time; keep the default inside them.
                expiry = min(max(self.default_expires, self.min_expires), self.max_expires)
            if expiry < 0:
                return RegisterResult(400, "Bad Expires")
            if 0 < expiry < self.min_expires:
                return RegisterResult(423, "Interval Too Brief", min_expires=self.min_expires)
            if contact.q is not None and not 0.0 <= contact.q <= 1.0:
                return RegisterResult(400, "Bad q value")
            # A contact listed twice: the last one wins, as if sent in order.
            wanted[contact_key(contact.uri)] = (contact, min(expiry, self.max_expires))

        retransmitted = 0
        for key, (contact, expiry) in wanted.items():
            old = current.get(key)
            if old is not None and old.call_id == req.call_id and req.cseq <= old.cseq:
                if (req.cseq == old.cseq and old.source == req.source and expiry > 0
                        and old.q == contact.q
                        and 0 <= expiry - (old.expires_at - now) <= _RESEND_WINDOW_S):
                    # The same REGISTER again (its 200 was lost and the edge's answer cache
                    # has let it go): answer as before rather than call it out of order.
                    # Same Call-ID and CSeq asking for something else is out of order.
                    retransmitted += 1
                    continue
                return RegisterResult(500, "Out of order request")
        if wanted and retransmitted == len(wanted):
            return RegisterResult(200, "OK", self._sorted(current.values()))

        replaced: set[str] = set()
        if req.instance and req.reg_id and any(e > 0 for _, e in wanted.values()):
            replaced = {
                key
                for key, b in current.items()
                if key not in wanted and b.instance == req.instance and b.reg_id == req.reg_id
            }

        kept = set(current) - replaced
        for key, (_, expiry) in wanted.items():
            if expiry == 0:
                kept.discard(key)
            else:
                kept.add(key)
        if len(kept) > self.max_contacts_per_aor:
            return RegisterResult(403, "Too many contacts")

        changed = False
        for key in replaced:
            self._drop(req.aor, key)
            changed = True
        for key, (contact, expiry) in wanted.items():
            old = current.get(key)
            if expiry == 0:
                if old is not None:
                    self._drop(req.aor, key)
                    changed = True
                continue
            same_phone = old is not None and old.call_id == req.call_id
            self._put(
                key,
                Binding(
                    aor=req.aor,
                    contact=contact.uri,
                    expires_at=now + expiry,
                    call_id=req.call_id,
                    cseq=req.cseq,
                    q=contact.q,
                    source=req.source,
                    user_agent=req.user_agent,
                    registered_at=old.registered_at if same_phone else now,
                    instance=req.instance,
                    reg_id=req.reg_id,
                ),
            )
            if not same_phone or old.source != req.source or old.q != contact.q:
                changed = True
                # A new contact or a phone that moved is news; a new Call-ID from the same place is not.
                new_place = old is None or old.source != req.source
                (log.info if new_place else log.debug)("registered %s at %s from %s", req.aor, contact.uri,
                                                       req.source.ip)
        return RegisterResult(
            200, "OK", self._sorted(self._aors.get(req.aor, {}).values()), changed=changed
        )

    def _remove_all(
        self, req: RegisterRequest, current: dict[str, Binding], now: float
    ) -> RegisterResult:
        star = req.contacts[0]
        if len(req.contacts) != 1 or req.expires_header != 0 or star.expires not in (None, 0):
            return RegisterResult(400, "Invalid wildcard Contact")
        for old in current.values():
            if old.call_id == req.call_id and req.cseq <= old.cseq:
                return RegisterResult(500, "Out of order request")
        for key in list(current):
            self._drop(req.aor, key)
        if current:
            log.info("unregistered all contacts of %s", req.aor)
        return RegisterResult(200, "OK", changed=bool(current))

    # ---- queries ----------------------------------------------------------

    def bindings(self, aor: str) -> list[Binding]:
        """The AOR's unexpired bindings, in registration order."""
        now = self._clock()
        return [b for b in self._aors.get(aor, {}).values() if b.expires_at > now]

    def all_bindings(self) -> list[Binding]:
        """Every unexpired binding of every AOR."""
        now = self._clock()
        return [b for per_aor in self._aors.values() for b in per_aor.values() if b.expires_at > now]

    def lookup(self, aor: str) -> list[Binding]:
        """Where to reach an AOR: highest q first, then the newest registration."""
        return self._sorted(self.bindings(aor))

    def is_registered_source(self, source: Source) -> str | None:
        """The AOR with a live binding made from exactly this transport, IP and port."""
        per_source = self._by_source.get(source)
        if not per_source:
            return None
        now = self._clock()
        for binding in per_source.values():
            if binding.expires_at > now:
                return binding.aor
        return None

    def is_registered_address(self, ip: str) -> bool:
        """Whether any live binding was made from this IP address (any port or transport)."""
        return any(self.is_registered_source(s) for s in self._by_ip.get(ip, ()))

    def __len__(self) -> int:
        """Bindings held, counting expired ones that expire() has not collected yet."""
        return self._count

    # ---- housekeeping -----------------------------------------------------

    def expire(self, now: float | None = None) -> list[Binding]:
        """Remove the bindings that expired and return them, each once."""
        if now is None:
            now = self._clock()
        # A contact registered again since a REGISTER dropped its expired
        # binding is live: announcing its removal now would be false.
        gone = [
            b
            for b in self._dropped_expired
            if contact_key(b.contact) not in self._aors.get(b.aor, {})
        ]
        self._dropped_expired = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, binding = heapq.heappop(heap)
            key = contact_key(binding.contact)
            if self._aors.get(binding.aor, {}).get(key) is binding:
                self._drop(binding.aor, key)
                gone.append(binding)
        if gone:
            log.info("expired %d binding(s)", len(gone))
        return gone

    def remove_aor(self, aor: str) -> list[Binding]:
        """Forget every binding of an AOR (its extension was deleted)."""
        per_aor = self._aors.get(aor)
        if not per_aor:
            return []
        removed = list(per_aor.values())
        for key in list(per_aor):
            self._drop(aor, key)
        self._dropped_expired = [b for b in self._dropped_expired if b.aor != aor]
        return removed

    def snapshot(self) -> list[dict[str, Any]]:
        """Live bindings as JSON-safe dicts, times in wall-clock epoch seconds."""
        offset = self.wall_offset()
        return [self.snapshot_item(binding, offset) for binding in self.all_bindings()]

    def wall_offset(self) -> float:
        """What turns a time of this registrar's clock into wall-clock epoch seconds (added to it)."""
        return self._wall_clock() - self._clock()

    @staticmethod
    def snapshot_item(binding: Binding, offset: float) -> dict[str, Any]:
        """One binding of snapshot(), its times moved by `offset` (wall_offset())."""
        item = binding.to_dict()
        item["expires_at"] = binding.expires_at + offset
        item["registered_at"] = binding.registered_at + offset
        return item

    def restore(self, items: list[dict[str, Any]]) -> int:
        """Replace all bindings with a snapshot's unexpired ones; returns how many.

        A binding whose Contact does not point at the phone that registered it (a snapshot
        written before that rule) is left out.

        A malformed snapshot raises ValidationError and changes nothing.
        """
        if not isinstance(items, list):
            raise ValidationError("snapshot: expected a list of bindings")
        parsed = [Binding.from_dict(item) for item in items]
        now, wall = self._clock(), self._wall_clock()
        self._aors.clear()
        self._by_source.clear()
        self._by_ip.clear()
        self._heap.clear()
        self._dropped_expired.clear()
        self._count = 0
        restored = 0
        for binding in parsed:
            left = binding.expires_at - wall
            if left <= 0:
                continue
            refusal = contact_refusal(binding.contact, binding.source)
            if refusal is not None:
                # Written before Contacts had to point at the phone that registered.
                log.warning("not restoring %s at %s from %s: %s", binding.aor, binding.contact,
                            binding.source.ip, refusal)
                continue
            binding.expires_at = now + min(left, self.max_expires)
            binding.registered_at = min(now, binding.registered_at - wall + now)
            key = contact_key(binding.contact)
            per_aor = self._aors.get(binding.aor, {})
            if key not in per_aor and len(per_aor) >= self.max_contacts_per_aor:
                continue
            self._put(key, binding)
            restored += 1
        return restored

    # ---- internals --------------------------------------------------------

    def _live_of(self, aor: str, now: float) -> dict[str, Binding]:
        """The AOR's bindings after dropping expired ones (kept for expire())."""
        per_aor = self._aors.get(aor)
        if not per_aor:
            return {}
        stale = [key for key, b in per_aor.items() if b.expires_at <= now]
        for key in stale:
            self._dropped_expired.append(per_aor[key])
            self._drop(aor, key)
        return dict(self._aors.get(aor, {}))

    def _put(self, key: str, binding: Binding) -> None:
        per_aor = self._aors.setdefault(binding.aor, {})
        old = per_aor.get(key)
        if old is not None:
            self._unindex(old, key)
        else:
            self._count += 1
        per_aor[key] = binding
        self._by_source.setdefault(binding.source, {})[(binding.aor, key)] = binding
        self._by_ip.setdefault(binding.source.ip, set()).add(binding.source)
        heapq.heappush(self._heap, (binding.expires_at, next(self._sequence), binding))
        if len(self._heap) > _HEAP_SLACK * self._count + 64:
            self._rebuild_heap()

    def _drop(self, aor: str, key: str) -> None:
        per_aor = self._aors[aor]
        binding = per_aor.pop(key)
        if not per_aor:
            del self._aors[aor]
        self._unindex(binding, key)
        self._count -= 1

    def _unindex(self, binding: Binding, key: str) -> None:
        per_source = self._by_source.get(binding.source)
        if per_source is None:
            return
        per_source.pop((binding.aor, key), None)
        if not per_source:
            del self._by_source[binding.source]
            sources = self._by_ip.get(binding.source.ip)
            if sources is not None:
                sources.discard(binding.source)
                if not sources:
                    del self._by_ip[binding.source.ip]

    def _rebuild_heap(self) -> None:
        self._heap = [
            (b.expires_at, next(self._sequence), b)
            for per_aor in self._aors.values()
            for b in per_aor.values()
        ]
        heapq.heapify(self._heap)

    @staticmethod
    def _sorted(bindings: Any) -> list[Binding]:
        return sorted(bindings, key=_sort_key)
