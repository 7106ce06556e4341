"""Outbound campaigns, pure: the call list, its rules (hours, retries, do-not-call) and pacing."""
