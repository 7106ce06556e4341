"""The SIP edge: parser, digest auth, registrar, security, transports."""
