#!/usr/bin/env python3
"""Writes COUNT distinct SMART backend-services client assertions (RS384, kid backend-rs384,
client sandbox-backend, exp 280 s ahead, unique jti) for TOKEN_URL, one per line, for the
token-endpoint benchmark. Needs PyJWT[crypto] (the test virtualenv has it).

usage: assertions.py TOKEN_URL COUNT OUT"""
import multiprocessing
import os
import sys
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization

PEM = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Seeds", "default", "keys",
                        "backend-rs384.pem"), "rb").read()


def sign(args):
    token_url, count, exp = args
    key = serialization.load_pem_private_key(PEM, None)  # parsing the PEM per signature costs ~30 ms
    return [jwt.encode({"iss": "sandbox-backend", "sub": "sandbox-backend", "aud": token_url, "exp": exp, "jti": str(uuid.uuid4())},
                       key, algorithm="RS384", headers={"kid": "backend-rs384"}) for _ in range(count)]


def main():
    token_url, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    exp = int(time.time()) + 280
    workers = os.cpu_count() or 1
    with multiprocessing.Pool(workers) as pool:
        chunks = pool.map(sign, [(token_url, count // workers + 1, exp)] * workers)
    with open(out, "w") as f:
        for chunk in chunks:
            f.write("\n".join(chunk) + "\n")


if __name__ == "__main__":
    main()
