"""`python -m appliance.webrtc`: the media bridge process (appliance/webrtc/process.py)."""

from appliance.webrtc.process import main

main()
