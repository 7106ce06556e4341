"""The AT parser against captures of real modems, malformed lines and random bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from appliance.errors import ATError
from appliance.lines.at_parser import (
    MAX_LINE, ATParser, FinalKind, FinalResult, Garbage, Info, SmsPrompt, Unsolicited,
    cmgr_pdu, parse_clcc, parse_clip, parse_cmgr_text, parse_cops, parse_creg, parse_csq,
    parse_cusd, parse_vsm_list, split_args,
)

OK = FinalResult(FinalKind.OK, None, "OK")

# (what the modem sent, the events it must give) -- as captured from the devices.
CAPTURES = [
    # Huawei E173 answering ATI with echo still on.
    (b"ATI\r\r\nManufacturer: huawei\r\nModel: E173\r\nRevision: 11.126.85.00.209\r\n"
     b"IMEI: 353142046666666\r\n+GCAP: +CGSM,+DS,+ES\r\n\r\nOK\r\n",
     [Info("ATI"), Info("Manufacturer: huawei"), Info("Model: E173"),
      Info("Revision: 11.126.85.00.209"), Info("IMEI: 353142046666666"),
      Info("+GCAP: +CGSM,+DS,+ES"), OK]),
    # Huawei E1752 after power-up.
    (b"\r\n^BOOT:20291392,0,0,0,72\r\n\r\n^RSSI:14\r\n\r\n^MODE:5,4\r\n",
     [Unsolicited("^BOOT", "20291392,0,0,0,72", "^BOOT:20291392,0,0,0,72"),
      Unsolicited("^RSSI", "14", "^RSSI:14"), Unsolicited("^MODE", "5,4", "^MODE:5,4")]),
    # Huawei incoming call, answered, ended by the far end.
    (b'\r\nRING\r\n\r\n+CLIP: "+48601234567",145,,,,0\r\n',
     [Unsolicited("RING", "", "RING"),
      Unsolicited("+CLIP", '"+48601234567",145,,,,0', '+CLIP: "+48601234567",145,,,,0')]),
    (b"\r\nOK\r\n\r\n^CONN:1,1\r\n\r\n^CEND:1,0,104,16\r\n",
     [OK, Unsolicited("^CONN", "1,1", "^CONN:1,1"),
      Unsolicited("^CEND", "1,0,104,16", "^CEND:1,0,104,16")]),
    (b"\r\n^ORIG:1,0\r\n\r\n^CONF:1\r\n",
     [Unsolicited("^ORIG", "1,0", "^ORIG:1,0"), Unsolicited("^CONF", "1", "^CONF:1")]),
    (b"\r\n^DSCI: 1,0,0,0,+48601234567,145\r\n",
     [Unsolicited("^DSCI", "1,0,0,0,+48601234567,145", "^DSCI: 1,0,0,0,+48601234567,145")]),
    # Huawei USSD answer in packed 7-bit hex; its word for ERROR.
    (b'\r\n+CUSD: 0,"C2303BEC1E97413199AB0603",15\r\n\r\nCOMMAND NOT SUPPORT\r\n',
     [Unsolicited("+CUSD", '0,"C2303BEC1E97413199AB0603",15',
                  '+CUSD: 0,"C2303BEC1E97413199AB0603",15'),
      FinalResult(FinalKind.ERROR, None, "COMMAND NOT SUPPORT")]),
    # SIMCom SIM7600 boot and call.
    (b"\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n",
     [Unsolicited("RDY", "", "RDY"), Unsolicited("+CPIN", "READY", "+CPIN: READY"),
      Unsolicited("SMS DONE", "", "SMS DONE"), Unsolicited("PB DONE", "", "PB DONE")]),
    (b"\r\nVOICE CALL: BEGIN\r\n\r\nVOICE CALL: END: 000012\r\n\r\nNO CARRIER\r\n",
     [Unsolicited("VOICE CALL", "BEGIN", "VOICE CALL: BEGIN"),
      Unsolicited("VOICE CALL", "END: 000012", "VOICE CALL: END: 000012"),
      FinalResult(FinalKind.NO_CARRIER, None, "NO CARRIER")]),
    (b"\r\nMISSED_CALL: 11:02AM +48601234567\r\n",
     [Unsolicited("MISSED_CALL", "11:02AM +48601234567", "MISSED_CALL: 11:02AM +48601234567")]),
    (b"\r\nNORMAL POWER DOWN\r\n",
     [Unsolicited("NORMAL POWER DOWN", "", "NORMAL POWER DOWN")]),
    # Quectel EC25.
    (b'\r\n+QIND: SMS DONE\r\n\r\n+CRING: VOICE\r\n\r\n+CLIP: "+48601234567",145,"",0,"",0\r\n',
     [Unsolicited("+QIND", "SMS DONE", "+QIND: SMS DONE"),
      Unsolicited("+CRING", "VOICE", "+CRING: VOICE"),
      Unsolicited("+CLIP", '"+48601234567",145,"",0,"",0',
                  '+CLIP: "+48601234567",145,"",0,"",0')]),
    (b'\r\n+CMTI: "SM",3\r\n\r\n+CREG: 1\r\n\r\n+CEREG: 1,"1A2B","01A2B3C4",7\r\n',
     [Unsolicited("+CMTI", '"SM",3', '+CMTI: "SM",3'), Unsolicited("+CREG", "1", "+CREG: 1"),
      Unsolicited("+CEREG", '1,"1A2B","01A2B3C4",7', '+CEREG: 1,"1A2B","01A2B3C4",7')]),
    # Errors in all their forms.
    (b"\r\n+CME ERROR: incorrect password\r\n\r\n+CME ERROR: 16\r\n\r\n+CMS ERROR: 500\r\n",
     [FinalResult(FinalKind.CME_ERROR, None, "incorrect password"),
      FinalResult(FinalKind.CME_ERROR, 16, "incorrect password"),
      FinalResult(FinalKind.CMS_ERROR, 500, "500")]),
    (b"\r\nBUSY\r\n\r\nNO ANSWER\r\n\r\nNO DIALTONE\r\n\r\nCONNECT 9600\r\n\r\nVCON\r\n",
     [FinalResult(FinalKind.BUSY, None, "BUSY"), FinalResult(FinalKind.NO_ANSWER, None, "NO ANSWER"),
      FinalResult(FinalKind.NO_DIALTONE, None, "NO DIALTONE"),
      FinalResult(FinalKind.CONNECT, None, "9600"), FinalResult(FinalKind.VCON, None, "VCON")]),
    # The SMS prompt has no line end.
    (b"\r\n> ", [SmsPrompt()]),
    (b"\r\n+CMGS: 42\r\n\r\nOK\r\n", [Info("+CMGS: 42"), OK]),
    # Conexant voice modem caller id between rings.
    (b"\r\nRING\r\n\r\nDATE = 0321\r\nTIME = 1405\r\nNMBR = 0123456789\r\nNAME = JOHN\r\n",
     [Unsolicited("RING", "", "RING"), Unsolicited("DATE", "0321", "DATE = 0321"),
      Unsolicited("TIME", "1405", "TIME = 1405"),
      Unsolicited("NMBR", "0123456789", "NMBR = 0123456789"),
      Unsolicited("NAME", "JOHN", "NAME = JOHN")]),
    # Line noise: NULs are dropped, bytes that are not text become Garbage.
    (b"\x00\x00\r\nOK\r\n\x00", [OK]),
    (b"\r\n\xff\xfe\x80junk\r\nOK\r\n", [Garbage(b"\xff\xfe\x80junk"), OK]),
    (b"\r\nO\x1bK\r\n", [Garbage(b"O\x1bK")]),
    # Bare CR or bare LF as line ends (some firmwares after ATV1 / ATS4 changes).
    (b"OK\rERROR\n+CSQ: 20,99\n", [OK, FinalResult(FinalKind.ERROR, None, "ERROR"),
                                   Info("+CSQ: 20,99")]),
]


def events_of(data: bytes) -> list:
    return ATParser().feed(data)


@pytest.mark.parametrize("data,expected", CAPTURES)
def test_captures_give_their_events(data, expected):
    assert events_of(data) == expected


@pytest.mark.parametrize("data,expected", CAPTURES)
def test_split_reads_give_the_same_events(data, expected):
    for cut in range(len(data) + 1):
        parser = ATParser()
        assert parser.feed(data[:cut]) + parser.feed(data[cut:]) == expected, cut
    parser = ATParser()
    one_by_one = [ev for i in range(len(data)) for ev in parser.feed(data[i:i + 1])]
    assert one_by_one == expected


def test_partial_line_waits_for_its_end():
    parser = ATParser()
    assert parser.feed(b"\r\n+CSQ: 2") == []
    assert parser.feed(b"0,99\r\n") == [Info("+CSQ: 20,99")]


def test_overlong_line_is_reported_once_and_the_stream_recovers():
    parser = ATParser()
    events = parser.feed(b"A" * (MAX_LINE * 3) + b"\r\nOK\r\n")
    assert events == [Garbage(b"A" * MAX_LINE), OK]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_parser_never_raises_and_chunking_does_not_matter(data):
    whole = ATParser().feed(data)
    parser = ATParser()
    assert [ev for b in data for ev in parser.feed(bytes([b]))] == whole


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"OK", b"RING", b"+CLIP: \"", b"\r", b"\n", b"> ", b"\x00",
                                 b"+CME ERROR: ", b"\xff", b",", b"\"", b"^CEND:", b"DATE = "]),
                max_size=40))
def test_parser_never_raises_on_modem_like_noise(pieces):
    data = b"".join(pieces)
    ATParser().feed(data)


VALUE_CASES = [
    (parse_clip, '+CLIP: "+48601234567",145,,,,0', ("+48601234567", 145, 0, False)),
    (parse_clip, '+CLIP: "",128,,,,1', ("", 128, 1, True)),
    (parse_clip, '+CLIP: "0601234567",129', ("0601234567", 129, None, False)),
]


@pytest.mark.parametrize("fn,line,expected", VALUE_CASES)
def test_clip(fn, line, expected):
    cid = fn(line)
    assert (cid.number, cid.type, cid.validity, cid.withheld) == expected


def test_clcc_lists_calls():
    calls = parse_clcc(['+CLCC: 1,1,4,0,0,"+48601234567",145', '+CLCC: 2,0,0,0,0,"112",129,""'])
    assert [(c.idx, c.dir, c.stat, c.number, c.type) for c in calls] == [
        (1, 1, 4, "+48601234567", 145), (2, 0, 0, "112", 129)]
    assert parse_clcc([]) == []


@pytest.mark.parametrize("line,rssi,dbm,ber", [
    ("+CSQ: 20,99", 20, -73, None), ("+CSQ: 0,0", 0, -113, 0), ("+CSQ: 31,99", 31, -51, None),
    ("+CSQ: 99,99", 99, None, None),
])
def test_csq_gives_dbm(line, rssi, dbm, ber):
    s = parse_csq(line)
    assert (s.rssi, s.dbm, s.ber) == (rssi, dbm, ber)


@pytest.mark.parametrize("line,n,stat,lac,ci,registered", [
    ('+CREG: 2,1,"00C3","1A2B"', 2, 1, "00C3", "1A2B", True),
    ("+CREG: 0,5", 0, 5, "", "", True),
    ("+CREG: 2", None, 2, "", "", False),           # the notification: stat only
    ('+CREG: 1,"00C3","1A2B"', None, 1, "00C3", "1A2B", True),  # notification with CREG=2
    ('+CREG: 2,3,"00C3","1A2B",7', 2, 3, "00C3", "1A2B", False),
])
def test_creg_both_forms(line, n, stat, lac, ci, registered):
    r = parse_creg(line)
    assert (r.n, r.stat, r.lac, r.ci, r.registered) == (n, stat, lac, ci, registered)


@pytest.mark.parametrize("line,name,mode", [
    ('+COPS: 0,0,"Plus",2', "Plus", 0), ('+COPS: 0,0,"T-Mobile.pl"', "T-Mobile.pl", 0),
    ("+COPS: 0", "", 0), ('+COPS: 1,2,"26001",7', "26001", 1),
])
def test_cops(line, name, mode):
    op = parse_cops(line)
    assert (op.name, op.mode) == (name, mode)


@pytest.mark.parametrize("line,text,status", [
    ('+CUSD: 0,"C2303BEC1E97413199AB0603",15', "Balance 12.50", 0),
    ('+CUSD: 0,"Your balance is 12.50 PLN",15', "Your balance is 12.50 PLN", 0),
    ('+CUSD: 1,"0053007400610006E",72', "0053007400610006E", 1),  # odd length: left as is
    ('+CUSD: 0,"004B006F006E0074006F003A00200031003200B3",72', "Konto: 12\u00b3", 0),
    ("+CUSD: 2", "", 2),
])
def test_cusd_decodes_hex_payloads(line, text, status):
    u = parse_cusd(line)
    assert (u.text, u.status) == (text, status)


def test_cmgr_text_and_pdu():
    sms = parse_cmgr_text(['+CMGR: "REC UNREAD","+48601234567",,"21/03/14,10:05:00+04"',
                           "Hello", "world"])
    assert (sms.sender, sms.time, sms.text) == ("+48601234567", "21/03/14,10:05:00+04",
                                                "Hello\nworld")
    assert cmgr_pdu(["+CMGR: 0,,24", "07911326"]) == "07911326"


def test_vsm_list_long_and_short_forms():
    conexant = parse_vsm_list(['0,"SIGNED PCM",8,0,(7200,8000,11025),(0),(0)',
                               '130,"16-BIT LINEAR",16,0,(8000),(0),(0)', "garbage"])
    assert [(f.code, f.name, f.bits, f.rates) for f in conexant] == [
        (0, "SIGNED PCM", 8, (7200, 8000, 11025)), (130, "16-BIT LINEAR", 16, (8000,))]
    usr = parse_vsm_list(['128,"8-BIT LINEAR",(7200,8000,11025)',
                          '129,"16-BIT LINEAR",(7200,8000,11025)', '131,"8-BIT ULAW",(8000)'])
    assert [(f.code, f.bits) for f in usr] == [(128, 8), (129, 16), (131, 8)]


@pytest.mark.parametrize("fn,line", [
    (parse_csq, "+CSQ: abc"), (parse_csq, "+CSQ: 45,99"), (parse_clip, '+CLIP: "+4860'),
    (parse_clip, "+CLIP:"), (parse_creg, "+CREG: x,1"), (parse_cops, "+COPS: "),
    (parse_clcc, '+CLCC: 1,1'), (parse_cusd, '+CUSD: "x"'), (cmgr_pdu, "OK"),
])
def test_malformed_values_raise_only_at_errors(fn, line):
    with pytest.raises(ATError) as info:
        fn(line if fn is not cmgr_pdu else [line])
    assert isinstance(info.value, ValueError)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_value_parsers_raise_only_value_errors(text):
    for fn in (parse_clip, parse_csq, parse_creg, parse_cops, parse_cusd, split_args):
        try:
            fn(text)
        except ValueError as exc:
            assert isinstance(exc, ATError)
    for fn in (parse_clcc, parse_vsm_list):
        try:
            fn([text])
        except ValueError as exc:
            assert isinstance(exc, ATError)
