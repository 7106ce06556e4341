"""The browser phone's media: a bridge from WebRTC (ICE, DTLS-SRTP) to the engine's plain RTP.

The only package that imports aiortc, aioice and av. `plain_sdp` and `rtp_header` are pure;
`bridge.MediaBridge` carries one call; `process` runs the bridges of a whole box; `client.BridgeClient`
drives that process and loads no WebRTC library (docs/browser-phone.md).
"""
