"""Voicemail as pure logic: boxes, the caller's deposit, the owner's phone menu, MWI bodies.

Two machines, one table each ({State: {Event: NewState}}), each governed by
one `appliance.logic.machine.Machine` whose `fire` changes state and logs
`old -> new`. They return commands and never touch files or sockets: the house's media
commands (`appliance.logic.media`: play this playlist, record the take, start a timer, hang
up) on the caller's leg, and voicemail's own (save this message, mark that one heard, change
the PIN); the core carries them out and feeds back events: `play_done`, `digit`, `hangup`,
`timeout`.

Every Play and StartTimer carries a `turn`. A key that interrupts a prompt
starts a new turn, so the end of the interrupted prompt (or an old timer) that
the engine still reports is recognised as stale and ignored.

The keys follow Asterisk's VoiceMailMain, which most phone users have met:
1 new / 2 old messages, in a message 4 previous, 5 repeat, 6 next, 7 delete,
9 save, 3 advanced; 0 mailbox options (1 unavailable, 2 busy, 4 temporary
greeting, 5 change PIN); * back, # done.
"""

from appliance.logic.voicemail.access import (
    ACCESS_TRANSITIONS, MAX_SILENCES, PIN_ATTEMPTS_PER_CALL, STATE_PROMPT, Access, AccessState)
from appliance.logic.voicemail.boxes import (
    MESSAGE_SUMMARY, PIN_MAX, PIN_MIN, BoxConfig, BoxSnapshot, Folder, GreetingKind, MessageInfo,
    PinGuard, check_pin, choose_greeting, hash_pin, message_summary, validate_pin)
from appliance.logic.voicemail.commands import (
    TAKE, TIMER, Audio, CallBack, ChangePin, Command, DeleteGreeting, DeleteMessage, DiscardRecording,
    Event, GreetingAudio, MarkHeard, MessageAudio, Prompt, SaveGreeting, SaveMessage, SaveRecording,
    StartLogin, TakeAudio)
from appliance.logic.voicemail.deposit import (
    DEPOSIT_TRANSITIONS, MIN_MESSAGE_S, Deposit, DepositState)

__all__ = [
    "ACCESS_TRANSITIONS", "DEPOSIT_TRANSITIONS", "MAX_SILENCES", "MESSAGE_SUMMARY", "MIN_MESSAGE_S",
    "PIN_ATTEMPTS_PER_CALL", "PIN_MAX", "PIN_MIN", "STATE_PROMPT", "TAKE", "TIMER", "Access",
    "AccessState", "Audio", "BoxConfig", "BoxSnapshot", "CallBack", "ChangePin", "Command",
    "DeleteGreeting", "DeleteMessage", "Deposit", "DepositState", "DiscardRecording", "Event",
    "Folder", "GreetingAudio", "GreetingKind", "MarkHeard", "MessageAudio", "MessageInfo",
    "PinGuard", "Prompt", "SaveGreeting", "SaveMessage", "SaveRecording", "StartLogin",
    "TakeAudio", "check_pin", "choose_greeting", "hash_pin", "message_summary", "validate_pin",
]
