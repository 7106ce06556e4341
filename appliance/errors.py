"""Every error Callbox raises on purpose. One family, one line of docs each."""


class CallboxError(Exception):
    """Base of every error Callbox raises on purpose."""


class SettingError(CallboxError):
    """A setting has a bad value; the message names the setting and the reason."""

    def __init__(self, key: str, reason: str):
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


class StoreError(CallboxError):
    """The data directory cannot be read or written."""


class StoreCorrupt(StoreError):
    """A stored file does not parse; nothing was changed."""


class MigrationError(StoreError):
    """A schema migration failed or the data is newer than this program."""


class SipParseError(CallboxError):
    """A SIP message is malformed or exceeds a limit."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class AuthError(CallboxError):
    """Credentials are missing, malformed or wrong."""


class NotFound(CallboxError):
    """The thing asked for does not exist."""


class Conflict(CallboxError):
    """The thing to create exists already, or the change clashes with another."""


class ValidationError(CallboxError):
    """Input from a user or a client does not validate; the message says why."""


class ATError(CallboxError):
    """A modem answered ERROR, +CME ERROR or +CMS ERROR, or did not answer in time."""


class ModemGone(CallboxError):
    """The modem's device vanished (unplugged, EIO)."""


class PortBusy(CallboxError):
    """Another driver holds the serial port's lock."""


class EngineError(CallboxError):
    """An engine worker refused or failed a command."""


class CapacityFull(CallboxError):
    """No engine worker has room for the legs a call needs."""


class HardwareUnavailable(CallboxError):
    """The real hardware backend cannot be used on this machine."""


class BackupError(CallboxError):
    """A backup file is corrupt, foreign or unreadable; nothing was restored."""


class ApiError(CallboxError):
    """The control API refused a request or could not be reached (status 0)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status
        self.message = message


class ModemReplyError(ATError, ValueError):
    """A modem line, an SMS PDU or a USSD payload does not parse."""


class StateMachineError(CallboxError):
    """An event arrived that a state machine's table does not allow in its current state."""

    def __init__(self, machine: str, who: str, state: str, event: str):
        super().__init__(f"{machine} {who}: event {event} is not allowed in state {state}")
        self.machine = machine
        self.who = who
        self.state = state
        self.event = event


class NotAllowed(CallboxError):
    """The user's roles, or the thing's settings, do not allow the action asked for."""


class FlowInvalid(ValidationError):
    """A call-flow set does not validate; `problems` lists every fault found."""

    def __init__(self, problems: list):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems) or "call flows do not validate")


class FlowStepError(CallboxError):
    """A call-flow run was asked for a step its transition table does not allow."""


class AudioToolError(CallboxError):
    """espeak-ng or sox is missing, failed or hung; no prompt was written."""


class FlowRejected(ApiError):
    """The core refused a call-flow set; `problems` names each fault and the node it is on."""

    def __init__(self, message: str, problems: list[dict]):
        super().__init__(400, message)
        self.problems = problems
