"""The control API's campaign calls (docs/api.md, "Campaigns"), part of web.api_client.ApiClient.

Outbound campaigns, their call lists and results, the agent's card, the do-not-call list and
the satisfaction (CSAT) figures. Kept apart so that each file stays one reading; the client's
plumbing (`_request`, `download`) is ApiClient's.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Iterator


def _part(text: str) -> str:
    return urllib.parse.quote(str(text), safe="")


class CampaignCalls:
    """Mixed into ApiClient: every call goes through its `_request` or `download`."""

    def _request(self, method: str, path: str, body: Any = None, raw: bytes | None = None,
                 content_type: str = "", timeout: float | None = None) -> Any:
        raise NotImplementedError

    def download(self, path: str) -> Iterator[bytes]:
        raise NotImplementedError

    # -- campaigns ----------------------------------------------------------------------

    def campaigns(self) -> list[dict]:
        """Every campaign with its settings, `state` and `progress` {total, states, done_pct}."""
        return self._request("GET", "/api/campaigns")["campaigns"]

    def campaign(self, campaign_id: str) -> dict:
        return self._request("GET", f"/api/campaigns/{_part(campaign_id)}")

    def save_campaign(self, campaign: dict[str, Any]) -> dict:
        """Create a campaign, or change one that is not running; a 400 names what is wrong."""
        return self._request("POST", "/api/campaigns", campaign)

    def delete_campaign(self, campaign_id: str) -> None:
        self._request("DELETE", f"/api/campaigns/{_part(campaign_id)}")

    def campaign_action(self, campaign_id: str, action: str) -> dict:
        """start, pause, resume or stop; 409 when the campaign's state does not allow it."""
        return self._request("POST", f"/api/campaigns/{_part(campaign_id)}/{_part(action)}")

    def campaign_list_csv(self, campaign_id: str) -> Iterator[bytes]:
        """The call list as CSV with each entry's state, attempts, result, agent and notes."""
        return self.download(f"/api/campaigns/{_part(campaign_id)}/list.csv")

    def import_campaign_csv(self, campaign_id: str, data: bytes) -> dict:
        """{"added", "duplicates", "errors": [{"line", "error"}], "encoding"}."""
        return self._request("POST", f"/api/campaigns/{_part(campaign_id)}/list.csv", raw=data,
                             content_type="text/csv")

    def add_campaign_people(self, campaign_id: str, source: dict[str, Any]) -> dict:
        """{"people": [...]}, {"contacts": [ids]} or {"called": {queue, days}}; as the CSV import."""
        return self._request("POST", f"/api/campaigns/{_part(campaign_id)}/people", source)

    def campaign_entries(self, campaign_id: str, state: str = "", offset: int = 0,
                         limit: int = 100) -> list[dict]:
        params = {"offset": str(int(offset)), "limit": str(int(limit))}
        if state:
            params["state"] = state
        return self._request("GET", f"/api/campaigns/{_part(campaign_id)}/entries?"
                             + urllib.parse.urlencode(params))["entries"]

    def campaign_card(self, campaign_id: str, agent: str) -> dict:
        """{step: call|result|preview|None, entry, call_id}: what the agent works on now."""
        return self._request("GET", f"/api/campaigns/{_part(campaign_id)}/card?"
                             + urllib.parse.urlencode({"agent": agent}))

    def set_campaign_result(self, campaign_id: str, entry_id: str, agent: str, result: str,
                            notes: str = "", callback_at: float | None = None) -> dict:
        body: dict[str, Any] = {"agent": agent, "result": result, "notes": notes}
        if callback_at is not None:
            body["callback_at"] = callback_at
        return self._request("POST", f"/api/campaigns/{_part(campaign_id)}/entries/"
                             f"{_part(entry_id)}/result", body)

    def dial_campaign_entry(self, campaign_id: str, entry_id: str, agent: str) -> dict:
        """Preview: the agent's phone rings, then the person's: {call_id, dialled}; 409 with why not."""
        return self._request("POST", f"/api/campaigns/{_part(campaign_id)}/entries/"
                             f"{_part(entry_id)}/dial", {"agent": agent})

    def campaign_report(self, campaign_id: str) -> dict:
        return self._request("GET", f"/api/campaigns/{_part(campaign_id)}/report")

    # -- do not call, satisfaction ---------------------------------------------------------

    def do_not_call(self) -> list[dict]:
        """[{number, why, added}]."""
        return self._request("GET", "/api/do-not-call")["numbers"]

    def add_do_not_call(self, number: str, why: str = "") -> dict:
        body = {"number": number} | ({"why": why} if why else {})
        return self._request("POST", "/api/do-not-call", body)

    def remove_do_not_call(self, number: str) -> None:
        self._request("DELETE", f"/api/do-not-call/{_part(number)}")

    def csat(self, by: str = "", days: int = 30) -> dict:
        """{by, days, groups: {key: {offered, answered, average, csat_pct, distribution}}}."""
        params = {"days": str(int(days))} | ({"by": by} if by else {})
        return self._request("GET", "/api/csat?" + urllib.parse.urlencode(params))
