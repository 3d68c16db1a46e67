#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unix-socket ends for the vchan-socket-proxy test (suite xen).

  stream.py echo-server PATH     accept connections one after another, echo each
                                 back until its EOF, reading while it writes
                                 (until killed)
  stream.py client PATH BYTES SEED   connect (retrying 10 s), send BYTES of seeded
                                 random data while reading the echo; exit 0 when the
                                 echo is the same bytes (sha256), 1 otherwise
"""
import hashlib
import os
import random
import select
import socket
import sys
import threading
import time


def echo_server(path):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(4)
    print("listening", flush=True)
    n = 0
    while True:
        c, _ = s.accept()
        n += 1
        total = echo(c)
        c.close()
        print(f"connection {n}: echoed {total} bytes", flush=True)


def echo(c):
    """Echo c back until its EOF, reading while a write waits.

    A recv-then-sendall loop deadlocks against vchan-socket-proxy's server,
    whose socket is blocking: once both socket buffers are full, the proxy
    waits in write() for this end to read and this end in sendall() for the
    proxy to read (as it would on Xen). So: nonblocking, both ways at once.
    """
    c.setblocking(False)
    pending = bytearray()
    total = 0
    eof = False
    while not eof or pending:
        rl = [] if eof else [c]
        wl = [c] if pending else []
        r, w, _ = select.select(rl, wl, [])
        if r:
            try:
                b = c.recv(65536)
            except BlockingIOError:
                b = None
            if b == b"":
                eof = True
            elif b:
                pending += b
                total += len(b)
        if w:
            try:
                k = c.send(pending)
            except BlockingIOError:
                k = 0
            del pending[:k]
    return total


def client(path, nbytes, seed):
    data = random.Random(seed).randbytes(nbytes)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(500):
        try:
            s.connect(path)
            break
        except OSError:
            time.sleep(0.02)
    else:
        print(f"client: cannot connect to {path}")
        return 1

    def send():
        s.sendall(data)

    t = threading.Thread(target=send)
    t.start()
    got = bytearray()
    s.settimeout(60)
    try:
        while len(got) < nbytes:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except socket.timeout:
        print(f"client: timed out after {len(got)} of {nbytes} bytes")
    t.join()
    s.close()
    want, have = hashlib.sha256(data).hexdigest(), hashlib.sha256(bytes(got)).hexdigest()
    if len(got) == nbytes and want == have:
        print(f"client: {nbytes} bytes echoed, sha256 {have[:16]}")
        return 0
    print(f"client: {len(got)} of {nbytes} bytes back, sha256 {have[:16]} != {want[:16]}")
    return 1


if sys.argv[1] == "echo-server":
    echo_server(sys.argv[2])
else:
    sys.exit(client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
