"""The call handlers of the domain: one table-driven machine per kind of call the box handles itself."""
