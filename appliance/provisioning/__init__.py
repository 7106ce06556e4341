"""Desk phones in minutes: automatic provisioning.

Pure parts (no I/O): `macs` (MAC addresses, vendor guesses), `site` (what
every phone is told), `timezones` (POSIX TZ rules to vendor time settings),
`generators` (one configuration file per phone and vendor), `registry`
(MAC ↔ extension bindings and pending phones), `service` (who may fetch
which file) and `pnp` (the multicast ua-profile answers).

Adapters (I/O): `store` (the registry as a JSON file), `http` (the aiohttp
provisioning server) and `pnp_socket` (the multicast listener).
"""
