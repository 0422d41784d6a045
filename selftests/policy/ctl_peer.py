#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A tiny stand-in for a daemon's control socket, for vnfsecctl's protocol
tests: it records every request line vnfsecctl sends (so the test can
check the JSON against docs/control.md) and answers from a script.

    ctl_peer.py SOCKET LOG SCRIPT.json

SCRIPT maps a command name to what to do:
  {"ok": ...}            send this object as the one response line
  [obj, obj, ...]        send every object, then close (a stream)
  "close"                close without answering
  "silent"               never answer (the client must time out)
  "garbage"              answer with a line that is not JSON
Unknown commands get {"ok": false, "errno": 95, ...} as the contract says.
This is not a daemon: it only shows what vnfsecctl sends and how it reads
answers. Tests against the real agent and server are in ctl_live.
"""
import json
import os
import socket
import sys
import threading

sock_path, log_path, script_path = sys.argv[1:4]
script = json.load(open(script_path))
log_lock = threading.Lock()


def answer(conn, line):
    with log_lock, open(log_path, "a") as log:
        log.write(line.decode(errors="replace") + "\n")
    try:
        req = json.loads(line)
        cmd = req.get("cmd")
    except ValueError:
        cmd = None
    what = script.get(cmd, {"ok": False, "errno": 95,
                            "error": "unknown command '%s'" % cmd})
    if what == "close":
        return False
    if what == "silent":
        threading.Event().wait()
    if what == "garbage":
        conn.sendall(b"this is not json\n")
        return True
    if isinstance(what, list):
        for obj in what:
            conn.sendall((json.dumps(obj) + "\n").encode())
        return False
    resp = dict(what)
    if "id" in req:
        resp["id"] = req["id"]
    conn.sendall((json.dumps(resp) + "\n").encode())
    return True


def serve(conn):
    buf = b""
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if not answer(conn, line):
                    return


if os.path.exists(sock_path):
    os.unlink(sock_path)
srv = socket.socket(socket.AF_UNIX)
srv.bind(sock_path + ".tmp")
srv.listen(16)
os.rename(sock_path + ".tmp", sock_path)   # appears only when listening
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
