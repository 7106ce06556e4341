"""The control API: local HTTP/JSON with an event stream (the CTI API)."""
