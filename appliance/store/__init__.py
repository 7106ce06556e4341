"""Storage that survives power loss: TinyDB config, sharded call records."""
