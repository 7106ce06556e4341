"""The admin web page (Bottle), talking to the core only through the control API."""
