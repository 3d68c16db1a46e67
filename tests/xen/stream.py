#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unix-socket ends for the vchan-socket-proxy test (suite xen).

  stream.py echo-server PATH     accept connections one after another, echo each
                                 back until its EOF (until killed)
  stream.py client PATH BYTES SEED   connect (retrying 10 s), send BYTES of seeded
                                 random data while reading the echo; exit 0 when the
                                 echo is the same bytes (sha256), 1 otherwise
"""
import hashlib
import os
import random
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
        total = 0
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
            total += len(b)
        c.close()
        print(f"connection {n}: echoed {total} bytes", flush=True)


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
