"""The scale-out recipe (docker/nginx-scale-out.conf, issue 17): two replicas behind nginx (the
Debian package) on loopback, sandboxes created through nginx with client-chosen ids; each
sandbox lives on exactly one replica, every later request for it (reads, writes, its admin API)
reaches that replica through nginx, and both replicas get sandboxes."""
import os
import re
import shutil
import socket
import subprocess
import time

import pytest
import requests

from conftest import CLOCK, Sandbox
from fhirvalidation import ROOT

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx is not installed")
def test_sandboxes_created_through_nginx_are_served_by_their_replica(tmp_path):
    replicas = [Sandbox("--clock", CLOCK, "--profiles", "generic") for _ in range(2)]
    nginx = None
    try:
        port = free_port()
        with open(os.path.join(ROOT, "docker", "nginx-scale-out.conf")) as f:
            config = f.read()
        config = config.replace("server 127.0.0.1:8081;", f"server 127.0.0.1:{replicas[0].port};")
        config = config.replace("server 127.0.0.1:8082;", f"server 127.0.0.1:{replicas[1].port};")
        config = config.replace("listen 8080;", f"listen 127.0.0.1:{port};")
        config = re.sub(r"^worker_processes auto;", f"worker_processes 1; daemon off; pid {tmp_path}/nginx.pid; error_log stderr error;",
                        config, flags=re.M)
        (tmp_path / "nginx.conf").write_text(config)
        nginx = subprocess.Popen([NGINX, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)], stderr=subprocess.PIPE)
        proxy = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if requests.get(proxy + "/_health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        ids = [f"team-{n}" for n in range(20)]
        for sandbox_id in ids:
            created = requests.put(f"{proxy}/_admin/sandboxes/{sandbox_id}", json={"profiles": ["generic"]}, timeout=10)
            assert created.status_code == 201, created.text
            # Links name the proxy the client used.
            assert created.json()["profiles"]["generic"]["fhirBase"] == f"{proxy}/sandboxes/{sandbox_id}/fhir/r4"
        homes = {}
        for sandbox_id in ids:
            held = [i for i, replica in enumerate(replicas)
                    if requests.get(f"{replica.origin}/_admin/sandboxes/{sandbox_id}", timeout=10).status_code == 200]
            assert len(held) == 1, (sandbox_id, held)
            homes[sandbox_id] = held[0]
        assert set(homes.values()) == {0, 1}, homes
        # Writes and reads through nginx keep reaching the replica that holds the sandbox.
        for sandbox_id in ids[:6]:
            base = f"{proxy}/sandboxes/{sandbox_id}/fhir/r4"
            made = requests.post(base + "/Patient", json={"resourceType": "Patient", "name": [{"family": sandbox_id}]},
                                 headers={"Content-Type": "application/fhir+json"}, timeout=10)
            assert made.status_code == 201, made.text
            patient = made.json()["id"]
            for _ in range(5):
                assert requests.get(f"{base}/Patient/{patient}", timeout=10).status_code == 200
            assert requests.get(f"{proxy}/sandboxes/{sandbox_id}/_admin/clock", timeout=10).status_code == 200
            home = replicas[homes[sandbox_id]].origin
            assert requests.get(f"{home}/sandboxes/{sandbox_id}/fhir/r4/Patient/{patient}", timeout=10).status_code == 200
        # Deleting through nginx reaches the same replica.
        assert requests.delete(f"{proxy}/_admin/sandboxes/{ids[0]}", timeout=10).status_code in (200, 204)
        assert requests.get(f"{replicas[homes[ids[0]]].origin}/_admin/sandboxes/{ids[0]}", timeout=10).status_code == 404
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait(timeout=10)
        for replica in replicas:
            replica.stop()
