#!/usr/bin/env python3
"""Writes Tests/Fixtures/http1/h11_oracle.json: how h11 (a strict-ish Python HTTP/1.1 parser) labels a set of
single-request payloads, for HTTP1Tests to cross-check HTTPRequestParser against an independent implementation.

Each row: id, payload (base64), h11 label ("accept" = one complete request, "reject" = RemoteProtocolError,
"incomplete" = needs more data), h11's status hint, and for accepted rows the method, target and decoded body.
The payloads are our own bytes (not copied from any test suite), named after http-reference §1 IDs.
Offline and deterministic. Requires h11==0.16.0. Run from the repository root:
    python3 Tests/Reference/http_oracle.py
"""
import base64
import json
import platform
from pathlib import Path

import h11

OUT = Path(__file__).resolve().parent.parent / "Fixtures" / "http1" / "h11_oracle.json"
H = b"Host: x\r\n"
CHUNKED = b"POST /x HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"

PAYLOADS = [
    ("A1 baseline GET", b"GET / HTTP/1.1\r\n" + H + b"\r\n"),
    ("A2 one leading empty line", b"\r\nGET / HTTP/1.1\r\n" + H + b"\r\n"),
    ("A3 two spaces after the method", b"GET  / HTTP/1.1\r\n" + H + b"\r\n"),
    ("A3 tab after the method", b"GET\t/ HTTP/1.1\r\n" + H + b"\r\n"),
    ("A3 trailing space after the version", b"GET / HTTP/1.1 \r\n" + H + b"\r\n"),
    ("A4 space inside the target", b"GET /a b HTTP/1.1\r\n" + H + b"\r\n"),
    ("A5 HTTP/1.0", b"GET / HTTP/1.0\r\n\r\n"),
    ("A5 HTTP/2.0", b"GET / HTTP/2.0\r\n" + H + b"\r\n"),
    ("A5 lowercase http/1.1", b"GET / http/1.1\r\n" + H + b"\r\n"),
    ("A5 HTTP/1", b"GET / HTTP/1\r\n" + H + b"\r\n"),
    ("A5 HTTP/1.1.1", b"GET / HTTP/1.1.1\r\n" + H + b"\r\n"),
    ("A6 HTTP/0.9 request", b"GET /\r\n\r\n"),
    ("A8 = in method", b"G=T / HTTP/1.1\r\n" + H + b"\r\n"),
    ("A8 NUL in method", b"G\x00T / HTTP/1.1\r\n" + H + b"\r\n"),
    ("A8 empty method", b" / HTTP/1.1\r\n" + H + b"\r\n"),
    ("A12 absolute-form", b"GET http://example.com/health HTTP/1.1\r\nHost: other\r\n\r\n"),
    ("A13 OPTIONS *", b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n"),
    ("A15 DEL in target", b"GET /\x7f HTTP/1.1\r\n" + H + b"\r\n"),
    ("A15 raw UTF-8 in target", b"GET /\xce\xb4 HTTP/1.1\r\n" + H + b"\r\n"),
    ("A16 TLS ClientHello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    ("B1 HTTP/1.1 without Host", b"GET / HTTP/1.1\r\n\r\n"),
    ("B2 two identical Host lines", b"GET / HTTP/1.1\r\n" + H + H + b"\r\n"),
    ("B3 space before the colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
    ("B4 obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X: a\r\n b\r\n\r\n"),
    ("B5 whitespace line before the first header", b"GET / HTTP/1.1\r\n Host: x\r\n\r\n"),
    ("B6 line without a colon", b"GET / HTTP/1.1\r\n" + H + b"Foo\r\n\r\n"),
    ("B6 empty name", b"GET / HTTP/1.1\r\n" + H + b": v\r\n\r\n"),
    ("B7 brackets in a name", b"GET / HTTP/1.1\r\n" + H + b"X-Invalid[]: t\r\n\r\n"),
    ("B7 NUL in a name", b"GET / HTTP/1.1\r\n" + H + b"a\x00b: c\r\n\r\n"),
    ("B8 bare CR in a value", b"GET / HTTP/1.1\r\n" + H + b"X: a\rb\r\n\r\n"),
    ("B8 NUL in a value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x00b\r\n\r\n"),
    ("B9 BEL in a value", b"GET / HTTP/1.1\r\n" + H + b"X: test\x07\r\n\r\n"),
    ("B9 obs-text in a value", b"GET / HTTP/1.1\r\n" + H + b"X: caf\xc3\xa9\xff\r\n\r\n"),
    ("B10 bare LF line endings", b"GET / HTTP/1.1\nHost: x\n\n"),
    ("B11 bare CR between headers", b"GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n"),
    ("B12 OWS is trimmed", b"GET / HTTP/1.1\r\nHost:\tx \t\r\n\r\n"),
    ("B12 empty value", b"GET / HTTP/1.1\r\n" + H + b"X-Empty:\r\n\r\n"),
    ("B13 name case", b"POST / HTTP/1.1\r\nhoSt: x\r\ncOnTeNt-LeNgTh: 5\r\n\r\nhello"),
    ("B13 Content_Length", b"POST / HTTP/1.1\r\n" + H + b"Content_Length: 5\r\n\r\n"),
    ("C1 body", b"POST /x HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello"),
    ("C2 no framing", b"POST /caption HTTP/1.1\r\n" + H + b"\r\n"),
    ("C3 Content-Length 007", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 007\r\n\r\n0123456"),
    ("C4 Content-Length +5", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +5\r\n\r\nhello"),
    ("C4 Content-Length -1", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n"),
    ("C4 Content-Length 0x5", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0x5\r\n\r\nhello"),
    ("C4 Content-Length 1 2", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1 2\r\n\r\n"),
    ("C4 empty Content-Length", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: \r\n\r\n"),
    ("C5 two different Content-Lengths", b"POST / HTTP/1.1\r\n" + H
     + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
    ("C6 two identical Content-Lengths", b"POST / HTTP/1.1\r\n" + H
     + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
    ("C6 Content-Length 5, 5", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5, 5\r\n\r\nhello"),
    ("C9 partial body", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 100\r\n\r\n0123456789"),
    ("D1 chunked body", CHUNKED + b"5\r\nhello\r\n0\r\n\r\n"),
    ("D1 uppercase hex size", CHUNKED + b"A\r\n0123456789\r\n0\r\n\r\n"),
    ("D2 extensions", CHUNKED + b"5;a=b;c=\"d\"\r\nhello\r\n0\r\n\r\n"),
    ("D3 text without a semicolon", CHUNKED + b"2 erfrferferf\r\nhi\r\n0\r\n\r\n"),
    ("D5 chunk size 0x5", CHUNKED + b"0x5\r\nhello\r\n0\r\n\r\n"),
    ("D5 chunk size -5", CHUNKED + b"-5\r\nhello\r\n0\r\n\r\n"),
    ("D5 empty chunk size", CHUNKED + b"\r\nhello\r\n0\r\n\r\n"),
    ("D6 bare LF after the size", CHUNKED + b"5\nhello\r\n0\r\n\r\n"),
    ("D6 data longer than declared", CHUNKED + b"5\r\nhelloXX\r\n0\r\n\r\n"),
    ("D7 missing last chunk", CHUNKED + b"3\r\nfoo\r\n\r\n"),
    ("D8 trailers", CHUNKED + b"5\r\nhello\r\n0\r\nX-T: v\r\n\r\n"),
    ("D10 chunked in HTTP/1.0", b"POST /x HTTP/1.0\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("D11 Transfer-Encoding gzip", b"POST /x HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n"),
    ("D11 Transfer-Encoding chunked, chunked", b"POST /x HTTP/1.1\r\n" + H
     + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
    ("D12 two Transfer-Encoding lines", b"POST /x HTTP/1.1\r\n" + H
     + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("E1 CL.TE", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("E2 TE.CL", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"),
    ("E9 LF-separated Content-Length", b"GET / HTTP/1.1\r\n" + H + b"Dummy: x\nContent-Length: 23\r\n\r\n"),
    ("F5 keep CR alive", b"GET / HTTP/1.1\r\n" + H + b"Connection: keep\ralive\r\n\r\n"),
    ("H5 unknown expectation", b"POST / HTTP/1.1\r\n" + H + b"Expect: 200-ok\r\nContent-Length: 5\r\n\r\nhello"),
]


def label(data: bytes) -> dict:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    row = {"h11": "incomplete", "status": None}
    body = b""
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                return row
            if isinstance(event, h11.Request):
                row["method"] = event.method.decode("latin-1")
                row["target"] = event.target.decode("latin-1")
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                row["h11"] = "accept"
                row["body"] = base64.b64encode(body).decode()
                return row
    except h11.RemoteProtocolError as error:
        return {"h11": "reject", "status": error.error_status_hint}


def main() -> None:
    rows = []
    for identifier, payload in PAYLOADS:
        rows.append({"id": identifier, "payload": base64.b64encode(payload).decode(), **label(payload)})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "generator": "Tests/Reference/http_oracle.py",
        "python": platform.python_version(),
        "h11": h11.__version__,
        "rows": rows,
    }, indent=1) + "\n")
    print(f"wrote {len(rows)} rows to {OUT}")
    for row in rows:
        print(f"{row['h11']:10} {row['id']}")


if __name__ == "__main__":
    main()
