#!/usr/bin/env python3
"""Writes the seed corpus of the message fuzzers (tests/fuzz/corpus/).

Each seed is a first byte (the mode bits the target reads) followed by
protocol frames (docs/protocol.md): valid messages of every kind, so the
fuzzer starts from inputs that reach deep into the handlers. Run it from
the repository root after changing the protocol; the files it writes are
committed. The config corpus is the example configs, copied, plus inputs that once
crashed a target (regression-*, kept as found; this script leaves them).
"""
import os
import shutil
import struct


def pack(v):
    """A minimal MessagePack encoder: dict, list, str, bytes, int, bool, None."""
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        return (bytes([0xA0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(v, bytes):
        return b"\xc4" + bytes([len(v)]) + v
    if isinstance(v, list):
        return bytes([0x90 | len(v)]) + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        return bytes([0x80 | len(v)]) + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(v)


TYPES = {"Hello": 1, "AuthChallenge": 2, "AuthProof": 3, "Welcome": 4, "Error": 5,
         "Heartbeat": 10, "Ping": 11, "Pong": 12, "SlaveInfo": 20, "RunCommand": 21,
         "Output": 22, "Credit": 23, "CommandDone": 24, "Interrupt": 25,
         "ShutdownRequest": 26, "ShutdownReady": 27, "Request": 40, "Response": 41}


def frame(name, body):
    payload = pack(body)
    return struct.pack(">IHH", len(payload), TYPES[name], 0) + payload


def write(target, name, data):
    d = os.path.join("tests/fuzz/corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


INFO = {"host": "h", "os": "linux", "cpus": 2, "version": "1", "basedir": "/b"}
DONE = {"cmd_id": 1, "rc": 0, "signal": 0, "timed_out": False, "interrupted": False,
        "error": "", "props": {"got_revision": "abc"}}

master = {
    "login": b"\x01" + frame("Hello", {"protocol": "bbcpp", "versions": [1], "role": "slave",
                                       "name": "s1", "scram": "n,,n=s1,r=rOprNGfwEbeRWgbNEkqO"})
    + frame("AuthProof", {"scram": "c=biws,r=rOprNGfwEbeRWgbNEkqOxyz,p=AAAA"}),
    "session": b"\x00" + frame("Heartbeat", {}) + frame("SlaveInfo", INFO)
    + frame("Output", {"cmd_id": 1, "stream": 0, "data": b"hello\n"})
    + frame("Output", {"cmd_id": 2, "stream": 2, "data": b"header\n"})
    + frame("Pong", {"id": 1}) + frame("CommandDone", DONE) + frame("ShutdownRequest", {}),
    "with_info": b"\x02" + frame("Output", {"cmd_id": 2, "stream": 1, "data": b"err"})
    + frame("CommandDone", dict(DONE, cmd_id=2)) + frame("Error", {"code": "shutting_down", "message": "bye"}),
}
slave = {
    "login": b"\x01" + frame("AuthChallenge", {"version": 1, "scram": "r=fuzznonceXYZ,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"})
    + frame("Welcome", {"scram": "v=AAAA", "master": "m", "heartbeat_interval_ms": 1000,
                        "heartbeat_timeout_ms": 3000, "max_frame": 65536}),
    "session": b"\x00" + frame("Ping", {"id": 4})
    + frame("RunCommand", {"cmd_id": 1, "kind": "shell", "credit": 65536,
                           "args": {"command": "echo hi", "workdir": "b/build", "env": {"A": "1"},
                                    "timeout": 10, "max_silence": 5}})
    + frame("RunCommand", {"cmd_id": 2, "kind": "git", "credit": 100,
                           "args": {"repo": "/r", "branch": "main", "revision": "", "mode": "full",
                                    "workdir": "b/src", "timeout": 0}})
    + frame("Credit", {"cmd_id": 1, "bytes": 4096}) + frame("Interrupt", {"cmd_id": 1, "reason": "stop"})
    + frame("ShutdownReady", {}) + frame("Error", {"code": "protocol_error", "message": "x"}),
    "argv": b"\x00" + frame("RunCommand", {"cmd_id": 7, "kind": "shell", "credit": 0,
                                           "args": {"argv": ["make", "-j2"]}}),
}
for k, v in master.items():
    write("master_message", k, v)
    write("frame", "master_" + k, v[1:])
for k, v in slave.items():
    write("slave_message", k, v)
    write("frame", "slave_" + k, v[1:])
for f in sorted(os.listdir("config/examples")):
    os.makedirs("tests/fuzz/corpus/config", exist_ok=True)
    shutil.copy(os.path.join("config/examples", f), os.path.join("tests/fuzz/corpus/config", f))
write("config", "slave.yaml", b"master: 127.0.0.1:9989\nname: s1\npassword: pw\nbasedir: /tmp/s\n")
