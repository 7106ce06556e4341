"""The page's menu, grouped by what people do: one declaration for the header and the tests.

The top of the header shows the groups a user's role may open (at most seven);
a page in a group shows the group's pages as a second row, so every page is
at most two clicks from any other: the group, then the page. The labels are
English and go through `_()` in base.tpl.
"""

from __future__ import annotations

from dataclasses import dataclass

from web.security import Role, role_allows


@dataclass(frozen=True)
class Item:
    href: str
    label: str
    role: Role
    # Other paths that belong to this item (an extension's edit page belongs to Extensions).
    prefixes: tuple[str, ...] = ()

    def matches(self, path: str) -> bool:
        base = self.href.split("#")[0]
        if base == "/":
            return path == "/"
        return any(path == p or path.startswith(p.rstrip("/") + "/") or path.startswith(p + ".")
                   for p in (base,) + self.prefixes)


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    items: tuple[Item, ...]


A, S = Role.ADMIN, Role.SUPERVISOR
GROUPS = (
    Group("today", "Today", (Item("/", "Dashboard", S), Item("/wallboard", "Wallboard", S),
                             Item("/now", "Now", S))),
    # Agents are worked on the queue page (a Call flows page); the group opens at a page of its own.
    Group("team", "Team", (Item("/extensions", "Extensions", A), Item("/users", "Users", A),
                           Item("/contacts", "Contacts", S),
                           Item("/queues#h-agents", "Agents", S))),
    Group("phones", "Phones and lines", (Item("/phones", "Phones", A),
                                         Item("/registrations", "Registrations", A),
                                         Item("/trunks", "Trunks and lines", A, ("/lines",)))),
    Group("flows", "Call flows", (Item("/ivr", "IVR", A, ("/routes",)),
                                  Item("/queues", "Queues", S, ("/agents",)),
                                  Item("/prompts", "Prompts", A))),
    Group("campaigns", "Campaigns", (Item("/campaigns", "Campaigns", S),
                                     Item("/do-not-call", "Do not call", A))),
    Group("reports", "Reports", (Item("/reports", "Reports", S), Item("/calls", "Calls", S),
                                 Item("/recordings", "Recordings", S),
                                 Item("/voicemail", "Voicemail", A),
                                 Item("/contract", "Contract", A),
                                 Item("/audit", "Audit log", A))),
    Group("settings", "Settings", (Item("/settings", "Settings", A),
                                   Item("/wizard", "Set-up wizard", A),
                                   Item("/bans", "Security", A),
                                   Item("/system", "System and backup", A))),
)
# An agent's menu is short enough to stay flat.
AGENT_MENU = (Item("/", "My panel", Role.AGENT), Item("/voicemail", "Voicemail", Role.AGENT),
              Item("/contacts", "Contacts", Role.AGENT))


@dataclass(frozen=True)
class Entry:
    """One link of the header: its target, label, and whether the page shown is in it."""

    href: str
    label: str
    current: bool


@dataclass(frozen=True)
class Menu:
    top: list[Entry]
    sub: list[Entry]      # the current group's pages; empty outside a group
    sub_label: str = ""


def groups_for(role: str) -> list[tuple[Group, list[Item]]]:
    """The groups this role sees, each with the items it may open."""
    found = []
    for group in GROUPS:
        items = [i for i in group.items if role_allows(role, i.role)]
        if items:
            found.append((group, items))
    return found


def _current(items: list[Item], path: str) -> Item | None:
    for item in items:
        if item.matches(path):
            return item
    return None


def menu_for(role: str, path: str) -> Menu:
    """The header's two rows for a user with `role` looking at `path`."""
    if not role_allows(role, Role.SUPERVISOR):
        return Menu([Entry(i.href, i.label, _current([i], path) is not None) for i in AGENT_MENU], [])
    top, sub, sub_label = [], [], ""
    for group, items in groups_for(role):
        hit = None
        # A page listed in two groups (Agents and Queues are one page) opens the first group
        # that lists it by its own path, so the queue page belongs to Call flows.
        for item in items:
            if item.matches(path) and "#" not in item.href:
                hit = item
                break
        top.append(Entry(items[0].href, group.label, hit is not None))
        if hit is not None and not sub:
            sub = [Entry(i.href, i.label, i is hit) for i in items]
            sub_label = group.label
    return Menu(top, sub, sub_label)
