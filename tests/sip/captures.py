"""Real SIP messages captured from phones and SIP stacks, as the parser's tests send them."""

from __future__ import annotations


def crlf(text: str) -> bytes:
    """A capture written with \\n line ends, sent with CRLF as on the wire."""
    head, sep, body = text.lstrip("\n").partition("\n\n")
    return head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body.replace("\n", "\r\n").encode()


YEALINK_REGISTER = crlf("""
REGISTER sip:192.168.1.10:5060 SIP/2.0
Via: SIP/2.0/UDP 192.168.1.51:5062;branch=z9hG4bK2097398870
From: "Reception" <sip:201@192.168.1.10:5060>;tag=1594843412
To: "Reception" <sip:201@192.168.1.10:5060>
Call-ID: 2016463352@192.168.1.51
CSeq: 2 REGISTER
Contact: <sip:201@192.168.1.51:5062>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-805ec0a1b2c3>";reg-id=1
Authorization: Digest username="201", realm="callbox", nonce="AAABk0x", uri="sip:192.168.1.10:5060", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001
X-Grandstream-PBX: false
Max-Forwards: 70
User-Agent: Yealink SIP-T46S 66.86.0.15
Expires: 3600
Allow: INVITE, INFO, PRACK, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER, SUBSCRIBE, REFER, PUBLISH, UPDATE, MESSAGE
Content-Length: 0

""")

GRANDSTREAM_REGISTER = crlf("""
REGISTER sip:pbx.office.lan SIP/2.0
Via: SIP/2.0/UDP 192.168.1.60:5060;branch=z9hG4bK1449374893;rport
From: <sip:1001@pbx.office.lan>;tag=1271497546
To: <sip:1001@pbx.office.lan>
Call-ID: 1823744569-5060-1@BJC.BGI.B.GA
CSeq: 2000 REGISTER
Contact: <sip:1001@192.168.1.60:5060>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000B82123456>"
X-GS-DEVICE-ID: 000B82123456
Max-Forwards: 70
User-Agent: Grandstream GXP2170 1.0.11.23
Supported: path
Expires: 3600
Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO, REFER, UPDATE, MESSAGE
Content-Length: 0

""")

BARESIP_REGISTER = crlf("""
REGISTER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:45987;branch=z9hG4bK2d1a3c1a5b0c1b73;rport
Contact: <sip:alice-0x55d0c1e4e510@127.0.0.1:45987;transport=udp>;expires=3600
Max-Forwards: 70
To: <sip:alice@127.0.0.1>
From: <sip:alice@127.0.0.1>;tag=8c7da2f2f45f60f4
Call-ID: c5fa7e24b3a0b4a6
CSeq: 27406 REGISTER
User-Agent: baresip v3.10.1 (x86_64/Linux)
Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE,REFER
Supported: replaces,norefersub,gruu
Content-Length: 0

""")

PJSUA_REGISTER = crlf("""
REGISTER sip:127.0.0.1;transport=udp SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5080;rport;branch=z9hG4bKPj6b7b2cc1a0a84ec2a0bd5a6a0f8dc5b1
Route: <sip:127.0.0.1;transport=udp;lr>
Max-Forwards: 70
From: <sip:1000@127.0.0.1>;tag=2cd09a2a1f7c4d35b0f8f9a0e3c8a6c1
To: <sip:1000@127.0.0.1>
Call-ID: 6b2b0c3fa4e74dbe9e2bd1c6b0c1a3f2
CSeq: 61434 REGISTER
User-Agent: PJSUA v2.15.1 Linux-6.1/x86_64/glibc-2.36
Contact: <sip:1000@127.0.0.1:5080;ob>
Expires: 300
Allow: PRACK, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, SUBSCRIBE, NOTIFY, REFER, MESSAGE, OPTIONS
Content-Length:  0

""")

SDP = (
    "v=0\n"
    "o=alice 2890844526 2890844526 IN IP4 192.168.1.50\n"
    "s=-\n"
    "c=IN IP4 192.168.1.50\n"
    "t=0 0\n"
    "m=audio 49170 RTP/AVP 9 0 8 101\n"
    "a=rtpmap:9 G722/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
)

INVITE_SDP = crlf(f"""
INVITE sip:300@192.168.1.10 SIP/2.0
Via: SIP/2.0/UDP 192.168.1.50:5060;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: <sip:300@192.168.1.10>
From: "Alice" <sip:alice@192.168.1.10>;tag=1928301774
Call-ID: a84b4c76e66710@192.168.1.50
CSeq: 314159 INVITE
Contact: <sip:alice@192.168.1.50:5060>
Content-Type: application/sdp
Content-Length: {len(SDP.replace(chr(10), chr(13) + chr(10)))}

{SDP}""")

RESPONSE_401 = crlf("""
SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP 192.168.1.51:5062;branch=z9hG4bK2097398870;received=192.168.1.51
From: "Reception" <sip:201@192.168.1.10:5060>;tag=1594843412
To: "Reception" <sip:201@192.168.1.10:5060>;tag=as1a2b3c4d
Call-ID: 2016463352@192.168.1.51
CSeq: 1 REGISTER
WWW-Authenticate: Digest realm="callbox", nonce="abc", algorithm=SHA-256, qop="auth"
WWW-Authenticate: Digest realm="callbox", nonce="abc", algorithm=MD5, qop="auth"
Content-Length: 0

""")

COMPACT = crlf("""
INVITE sip:bob@biloxi.example.com SIP/2.0
v: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
Max-Forwards: 70
f: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
t: Bob <sip:bob@biloxi.example.com>
i: 3848276298220188511@atlanta.example.com
CSeq: 2 INVITE
m: <sip:alice@client.atlanta.example.com;transport=tcp>
k: timer, 100rel
s: lunch
o: presence
c: application/sdp
l: 5

v=0
""")

FOLDED_AND_MULTI_VIA = crlf("""
OPTIONS sip:carol@chicago.example.com SIP/2.0
Via: SIP/2.0/UDP proxy2.example.com:5060;branch=z9hG4bK2d4790.1, SIP/2.0/UDP proxy1.example.com;branch=z9hG4bK2d4790.2
Via: SIP/2.0/UDP
 pc33.example.com;received=192.0.2.101;branch=z9hG4bKnashds7
Max-Forwards: 68
To: <sip:carol@chicago.example.com>
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 63104 OPTIONS
Subject: I know you're there,
\tpick up the phone
   and talk to me!
Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>
Content-Length: 0

""")

IPV6 = crlf("""
REGISTER sip:[2001:db8::10] SIP/2.0
Via: SIP/2.0/UDP [2001:db8::9:1]:5062;branch=z9hG4bKas3-111;rport
Max-Forwards: 70
From: <sip:201@[2001:db8::10]>;tag=ff01
To: <sip:201@[2001:db8::10]>
Call-ID: SSG9559905523997077@hlau_4100
CSeq: 3 REGISTER
Contact: "Desk 201" <sip:201@[2001:db8::9:1]:5062;transport=udp>
Content-Length: 0

""")

STAR_CONTACT = crlf("""
REGISTER sip:192.168.1.10 SIP/2.0
Via : SIP/2.0/UDP 192.168.1.51:5062;branch=z9hG4bK99;rport
From: <sip:201@192.168.1.10>;tag=77
To: <sip:201@192.168.1.10>
Call-ID: unreg-1
CSeq: 9 REGISTER
Contact: *
Expires: 0
Content-Length: 0

""")

OK_RESPONSE_LOWER_VERSION = crlf("""
sip/2.0 200 OK
Via: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1
From: <sip:201@192.168.1.10>;tag=1
To: <sip:201@192.168.1.10>;tag=2
Call-ID: x1
CSeq: 1 OPTIONS
Content-Length: 0

""")
