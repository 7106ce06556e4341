"""SMS PDUs (3GPP TS 23.040) and the GSM 7-bit alphabet (TS 23.038). Pure.

Modems in PDU mode (AT+CMGF=0) hand over SMS-DELIVER PDUs as hex and take
SMS-SUBMIT PDUs the same way; text mode is avoided because its character set
handling differs between vendors. The simulators use the encoders for the
direction a real network would produce.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from appliance.errors import ModemReplyError

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
assert len(GSM7_BASIC) == 128
GSM7_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
                  0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€"}
ESCAPE = 0x1B
_BASIC_INDEX = {ch: i for i, ch in enumerate(GSM7_BASIC) if i != ESCAPE}
_EXT_INDEX = {ch: i for i, ch in GSM7_EXTENSION.items()}

DCS_GSM7, DCS_8BIT, DCS_UCS2 = 0x00, 0x04, 0x08
_concat_refs = itertools.count(1)


@dataclass(frozen=True)
class Concat:
    """Part `seq` of `total` of a long message with reference `ref`."""
    ref: int
    total: int
    seq: int


@dataclass(frozen=True)
class SmsPdu:
    kind: str  # "deliver" or "submit"
    number: str
    text: str
    time: dt.datetime | None = None
    smsc: str = ""
    concat: Concat | None = None
    dcs: int = 0


@dataclass(frozen=True)
class SubmitPdu:
    """One SMS-SUBMIT ready for AT+CMGS=<tpdu_length>."""
    hex: str
    tpdu_length: int


# --- GSM 7-bit -----------------------------------------------------------

def is_gsm7(text: str) -> bool:
    return all(ch in _BASIC_INDEX or ch in _EXT_INDEX for ch in text)


def gsm7_septets(text: str) -> list[int]:
    out: list[int] = []
    for ch in text:
        if ch in _BASIC_INDEX:
            out.append(_BASIC_INDEX[ch])
        elif ch in _EXT_INDEX:
            out += [ESCAPE, _EXT_INDEX[ch]]
        else:
            raise ModemReplyError(f"character {ch!r} is not in the GSM 7-bit alphabet")
    return out


def gsm7_text(septets: list[int]) -> str:
    out, escaped = [], False
    for s in septets:
        if escaped:
            # An unknown extension code shows the basic character, as 23.038 asks.
            out.append(GSM7_EXTENSION.get(s, GSM7_BASIC[s] if s != ESCAPE else " "))
            escaped = False
        elif s == ESCAPE:
            escaped = True
        else:
            out.append(GSM7_BASIC[s])
    return "".join(out)


def pack_septets(septets: list[int]) -> bytes:
    value = 0
    for i, s in enumerate(septets):
        value |= (s & 0x7F) << (7 * i)
    return value.to_bytes((len(septets) * 7 + 7) // 8, "little")


def unpack_septets(data: bytes, count: int) -> list[int]:
    if (count * 7 + 7) // 8 > len(data):
        raise ModemReplyError("user data shorter than its length says")
    value = int.from_bytes(data, "little")
    return [(value >> (7 * i)) & 0x7F for i in range(count)]


def decode_gsm7_packed_hex(payload: str) -> str:
    """A USSD payload some firmwares send as packed 7-bit in hex."""
    data = _unhex(payload)
    septets = unpack_septets(data, len(data) * 8 // 7)
    # With 7 spare bits the sender pads with CR (23.038 §6.1.2.3.1); some send 0 ('@').
    if len(data) % 7 == 0 and septets and septets[-1] in (0x0D, 0x00):
        septets = septets[:-1]
    return gsm7_text(septets)


def encode_gsm7_packed_hex(text: str) -> str:
    septets = gsm7_septets(text)
    if len(septets) % 8 == 7:
        septets.append(0x0D)
    return pack_septets(septets).hex().upper()


# --- addresses and timestamps --------------------------------------------

def _unhex(text: str) -> bytes:
    try:
        return bytes.fromhex(text.strip())
    except ValueError as exc:
        raise ModemReplyError(f"not hex: {text[:40]!r}") from exc


def _swapped_digits(data: bytes) -> str:
    digits = []
    for b in data:
        for nibble in (b & 0x0F, b >> 4):
            if nibble == 0x0F:
                continue
            digits.append("0123456789*#abc"[nibble])
    return "".join(digits)


def _encode_swapped(digits: str) -> bytes:
    table = {c: i for i, c in enumerate("0123456789*#abc")}
    if len(digits) % 2:
        digits += "F"
    out = bytearray()
    for i in range(0, len(digits), 2):
        lo = table[digits[i]]
        hi = 0x0F if digits[i + 1] == "F" else table[digits[i + 1]]
        out.append(lo | hi << 4)
    return bytes(out)


def encode_address(number: str) -> bytes:
    """TP-OA/TP-DA: length in digits, type, swapped digits."""
    toa = 0x91 if number.startswith("+") else 0x81
    digits = number.lstrip("+")
    if not digits or any(c not in "0123456789*#" for c in digits):
        if number and is_gsm7(number):
            septets = gsm7_septets(number)
            packed = pack_septets(septets)
            return bytes([len(packed) * 2, 0xD0]) + packed
        raise ModemReplyError(f"not a phone number: {number!r}")
    return bytes([len(digits), toa]) + _encode_swapped(digits)


def _decode_address(data: bytes, pos: int) -> tuple[str, int]:
    length, toa = data[pos], data[pos + 1]
    nbytes = (length + 1) // 2
    raw = data[pos + 2: pos + 2 + nbytes]
    if len(raw) < nbytes:
        raise ModemReplyError("address runs past the end of the PDU")
    if toa & 0x70 == 0x50:  # alphanumeric sender such as a bank or an operator
        number = gsm7_text(unpack_septets(raw, length * 4 // 7))
    else:
        number = _swapped_digits(raw)[:length]
        if toa & 0x70 == 0x10:
            number = "+" + number
    return number, pos + 2 + nbytes


def _decode_scts(raw: bytes) -> dt.datetime:
    if len(raw) < 7:
        raise ModemReplyError("timestamp cut short")
    f = [int(f"{b & 0x0F}{(b >> 4) & 0x0F}") if (b & 0x0F) < 10 and (b >> 4) < 10 else 0
         for b in raw[:6]]
    tzb = raw[6]
    quarters = (tzb & 0x07) * 10 + (tzb >> 4)
    sign = -1 if tzb & 0x08 else 1
    try:
        tz = dt.timezone(dt.timedelta(minutes=sign * 15 * quarters))
        return dt.datetime(2000 + f[0], f[1], f[2], f[3], f[4], f[5], tzinfo=tz)
    except ValueError as exc:
        raise ModemReplyError(f"bad SMS timestamp: {raw.hex()}") from exc


def _encode_scts(when: dt.datetime) -> bytes:
    def swap(n: int) -> int:
        return (n % 10) << 4 | (n // 10)
    offset = when.utcoffset() or dt.timedelta(0)
    quarters = int(abs(offset.total_seconds()) // 900)
    tz = swap(quarters) | (0x08 if offset < dt.timedelta(0) else 0)
    return bytes([swap(when.year % 100), swap(when.month), swap(when.day),
                  swap(when.hour), swap(when.minute), swap(when.second), tz])


# --- user data -----------------------------------------------------------

def _alphabet(dcs: int) -> int:
    if dcs & 0xC0 == 0:
        return (dcs >> 2) & 0x03
    if dcs & 0xF0 == 0xF0:
        return 1 if dcs & 0x04 else 0
    if dcs & 0xF0 == 0xE0:
        return 2
    return 0


def _decode_user_data(data: bytes, pos: int, dcs: int, udhi: bool) -> tuple[str, Concat | None]:
    if pos >= len(data):
        raise ModemReplyError("PDU ends before its user data")
    udl = data[pos]
    ud = data[pos + 1:]
    alphabet = _alphabet(dcs)
    concat, header_len = None, 0
    if udhi:
        if not ud:
            raise ModemReplyError("user data header missing")
        header_len = ud[0] + 1
        concat = _parse_udh(ud[1:header_len])
    if alphabet == 0:
        septets = unpack_septets(ud, udl)
        skip = (header_len * 8 + 6) // 7
        return gsm7_text(septets[skip:]), concat
    body = ud[header_len:udl]
    if len(ud) < udl:
        raise ModemReplyError("user data shorter than its length says")
    if alphabet == 2:
        return body.decode("utf-16-be", errors="replace"), concat
    return body.decode("latin-1"), concat


def _parse_udh(header: bytes) -> Concat | None:
    i = 0
    while i + 1 < len(header):
        iei, length = header[i], header[i + 1]
        value = header[i + 2: i + 2 + length]
        if iei == 0x00 and length == 3 and len(value) == 3:
            return Concat(value[0], value[1], value[2])
        if iei == 0x08 and length == 4 and len(value) == 4:
            return Concat(value[0] << 8 | value[1], value[2], value[3])
        i += 2 + length
    return None


def decode_pdu_sms(pdu_hex: str, *, has_smsc: bool = True) -> SmsPdu:
    """Decode an SMS-DELIVER (or SMS-SUBMIT) PDU as shown by AT+CMGR / AT+CMGS."""
    data = _unhex(pdu_hex)
    try:
        return _decode(data, has_smsc)
    except IndexError as exc:
        raise ModemReplyError("PDU cut short") from exc


def _decode(data: bytes, has_smsc: bool) -> SmsPdu:
    pos, smsc = 0, ""
    if has_smsc:
        n = data[0]
        if n:
            smsc = _swapped_digits(data[2: 1 + n])
            if data[1] & 0x70 == 0x10:
                smsc = "+" + smsc
        pos = 1 + n
    fo = data[pos]
    pos += 1
    mti = fo & 0x03
    udhi = bool(fo & 0x40)
    if mti == 0:
        number, pos = _decode_address(data, pos)
        dcs = data[pos + 1]
        when = _decode_scts(data[pos + 2: pos + 9])
        text, concat = _decode_user_data(data, pos + 9, dcs, udhi)
        return SmsPdu("deliver", number, text, when, smsc, concat, dcs)
    if mti == 1:
        pos += 1  # message reference
        number, pos = _decode_address(data, pos)
        dcs = data[pos + 1]
        pos += 2
        vpf = (fo >> 3) & 0x03
        pos += {0: 0, 2: 1}.get(vpf, 7)
        text, concat = _decode_user_data(data, pos, dcs, udhi)
        return SmsPdu("submit", number, text, None, smsc, concat, dcs)
    raise ModemReplyError(f"not an SMS-DELIVER or SMS-SUBMIT (MTI {mti})")


def _split(text: str) -> tuple[int, list[bytes | list[int]]]:
    """Split into parts that fit one SMS each; never split an escape pair or a surrogate."""
    if is_gsm7(text):
        septets = gsm7_septets(text)
        if len(septets) <= 160:
            return DCS_GSM7, [septets]
        parts: list[bytes | list[int]] = []
        current: list[int] = []
        for ch in text:
            s = gsm7_septets(ch)
            if len(current) + len(s) > 153:
                parts.append(current)
                current = []
            current += s
        parts.append(current)
        return DCS_GSM7, parts
    encoded = text.encode("utf-16-be")
    if len(encoded) <= 140:
        return DCS_UCS2, [encoded]
    parts, current_b = [], b""
    for ch in text:
        b = ch.encode("utf-16-be")
        if len(current_b) + len(b) > 134:
            parts.append(current_b)
            current_b = b""
        current_b += b
    parts.append(current_b)
    return DCS_UCS2, parts


def _user_data(dcs: int, part: bytes | list[int], udh: bytes) -> bytes:
    if dcs == DCS_GSM7:
        assert isinstance(part, list)
        skip = (len(udh) * 8 + 6) // 7
        packed = bytearray(pack_septets([0] * skip + part))
        packed[:len(udh)] = udh
        return bytes([skip + len(part)]) + bytes(packed)
    assert isinstance(part, bytes)
    return bytes([len(udh) + len(part)]) + udh + part


def _concat_header(ref: int, total: int, seq: int) -> bytes:
    return bytes([5, 0x00, 3, ref & 0xFF, total, seq]) if total > 1 else b""


def encode_pdu_sms(number: str, text: str, *, ref: int | None = None) -> list[SubmitPdu]:
    """SMS-SUBMIT PDUs (with an empty SMSC field: the SIM's is used) for AT+CMGS."""
    dcs, parts = _split(text)
    ref = next(_concat_refs) & 0xFF if ref is None else ref
    out = []
    for seq, part in enumerate(parts, 1):
        udh = _concat_header(ref, len(parts), seq)
        fo = 0x11 | (0x40 if udh else 0)  # SUBMIT, relative validity period
        tpdu = (bytes([fo, 0x00]) + encode_address(number)
                + bytes([0x00, dcs, 0xAA]) + _user_data(dcs, part, udh))
        out.append(SubmitPdu("00" + tpdu.hex().upper(), len(tpdu)))
    return out


def encode_deliver_pdu(sender: str, text: str, when: dt.datetime, *,
                       smsc: str = "+48790998250", ref: int | None = None) -> list[str]:
    """SMS-DELIVER PDUs as a network would hand them to the modem (used by the simulator)."""
    dcs, parts = _split(text)
    ref = next(_concat_refs) & 0xFF if ref is None else ref
    sc = bytes([0x91]) + _encode_swapped(smsc.lstrip("+"))
    out = []
    for seq, part in enumerate(parts, 1):
        udh = _concat_header(ref, len(parts), seq)
        fo = 0x04 | (0x40 if udh else 0)
        tpdu = (bytes([fo]) + encode_address(sender) + bytes([0x00, dcs])
                + _encode_scts(when) + _user_data(dcs, part, udh))
        out.append((bytes([len(sc)]) + sc + tpdu).hex().upper())
    return out
