"""Desk-phone provisioning at run time: the HTTP service on its own port, and the admin's bindings.

The generators, the registry and the service are in `appliance.provisioning`;
this module runs the service inside the core and answers the control API.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from appliance.errors import NotFound, ValidationError
from appliance.ports import FindExtension, Paths, Publish, Setting, SettingsView

log = logging.getLogger("callbox.phones")


class Phones:
    def __init__(self, *, paths: Paths, setting: Setting, extension: FindExtension, publish: Publish,
                 box_address: Callable[[], str]):
        """`box_address` is where phones reach the box now (the network watch follows it)."""
        from appliance.provisioning.store import RegistryStore
        self.setting = setting
        self.extension = extension
        self.publish = publish
        self.box_address = box_address
        self.store = RegistryStore(paths.folder("state") / "phones.json")
        self.registry = self.store.load()
        self.app = None
        self.runner = None
        self.port = 0
        self.pnp = None

    @property
    def service(self):
        from appliance.provisioning.http import PROVISIONING
        return self.app[PROVISIONING] if self.app is not None else None

    async def start(self, box_address: str) -> None:
        from appliance.provisioning.http import create_provisioning_app, start_provisioning_server
        from appliance.provisioning.service import ProvisioningSettings
        s = self.setting
        settings = ProvisioningSettings.from_settings(SettingsView(s), box_address,
                                                      allow_networks=list(s("provisioning.allow_networks")))
        self.app = create_provisioning_app(self.registry, settings, extensions=self.extension, store=self.store)
        self.runner, self.port = await start_provisioning_server(self.app, s("provisioning.bind"),
                                                                  s("provisioning.port"))
        self._point_files_at(box_address)  # the port is known only now when 0 picked a free one
        log.info("phone provisioning on %s", self.url(box_address))
        if s("provisioning.pnp"):
            await self._start_pnp(box_address)

    async def _start_pnp(self, box_address: str) -> None:
        from appliance.provisioning.pnp import PnpResponder
        from appliance.provisioning.pnp_socket import start_pnp_listener
        responder = PnpResponder(self.registry, self.url(box_address), (box_address, 0), time.time)
        try:
            self.pnp = await start_pnp_listener(responder, box_address, port=self.setting("provisioning.pnp_port"))
        except OSError as e:  # no multicast on this interface: DHCP option 66 still works
            log.warning("plug and play is off: %s", e)

    def url(self, address: str | None = None) -> str:
        """The provisioning URL phones are given (DHCP option 66, plug and play, the phone sheets)."""
        host = address or self.box_address()
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/p/"

    def _point_files_at(self, address: str) -> None:
        service = self.service
        if service is not None:
            service.settings.box_address, service.settings.http_port = address, self.port
            service.site = dataclasses.replace(service.site, sip_server=address,
                                               provisioning_url=service.settings.base_url())

    def move_to(self, address: str) -> None:
        """The box's LAN address changed: files and plug-and-play answers name the new one."""
        self._point_files_at(address)
        if self.pnp is not None:
            self.pnp.close()
            self.pnp = None
        if self.setting("provisioning.pnp"):
            asyncio.ensure_future(self._start_pnp(address))

    async def stop(self) -> None:
        if self.pnp is not None:
            self.pnp.close()
        if self.runner is not None:
            await self.runner.cleanup()

    def list(self) -> dict[str, Any]:
        return {"phones": [b.public() for b in self.registry.bindings()],
                "pending": [_plain(p) for p in self.registry.pending()],
                "url": self.url()}

    def bind(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not {"mac", "extension"} <= set(data):
            raise ValidationError("body: {mac, extension, vendor?, model?}")
        if self.extension(str(data["extension"])) is None:
            raise NotFound(f"extension {data['extension']} does not exist")
        pending = {p.mac for p in self.registry.pending()}
        from appliance.provisioning.macs import normalise_mac
        mac = normalise_mac(str(data["mac"]))
        if mac in pending and not data.get("vendor"):
            binding = self.registry.approve(mac, str(data["extension"]), now=time.time())
        else:
            if not data.get("vendor"):
                raise ValidationError("vendor: yealink, grandstream, snom, poly or fanvil")
            binding = self.registry.bind(mac, str(data["extension"]), str(data["vendor"]),
                                         model=str(data.get("model", "")), now=time.time())
        self.store.save(self.registry)
        self.publish("phone", action="bound", mac=binding.mac, extension=binding.extension)
        # The password is shown once, for phones set up by hand with the URL.
        return binding.public() | {"password": binding.password}

    def forget_extension(self, number: str) -> None:
        """An extension was deleted: the phones bound to it are unbound."""
        self.registry.forget_extension(number)
        self.store.save(self.registry)

    def unbind(self, mac: str) -> None:
        self.registry.unbind(mac)
        self.store.save(self.registry)

    def fetch_log(self, limit: int = 100) -> list[dict[str, Any]]:
        return [_plain(r) for r in self.service.fetch_log(limit)] if self.service else []

    def files(self, mac: str) -> dict[str, str]:
        files = self.service.files_for(mac) if self.service else {}
        if not files:
            raise NotFound(f"phone {mac} is not bound")
        return {name: data.decode("utf-8", "replace") for name, data in files.items()}


def _plain(obj: Any) -> dict[str, Any]:
    d = dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else dict(obj)
    return {k: (str(v) if hasattr(v, "value") else v) for k, v in d.items()}
