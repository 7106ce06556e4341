"""Pure call logic: call flows, ACD, voicemail rules, statistics. No I/O."""
