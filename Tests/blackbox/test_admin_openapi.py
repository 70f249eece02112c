"""The admin API against its own document (issue 12): schemathesis (a tool nobody here wrote)
reads `GET /_admin/openapi.json` and sends a bounded, deterministic set of generated requests
to every route, on a server of its own (it resets, moves clocks, arms faults and creates
sandboxes). It checks that nothing answers 5xx, that every status, content type and header is
the one the document declares, and that undeclared methods get 405."""
import os
import subprocess
import sys

from conftest import CLOCK, ROOT, Sandbox

CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
          "response_schema_conformance", "unsupported_method"]


def test_the_admin_api_conforms_to_its_openapi_document():
    server = Sandbox("--clock", CLOCK, "--profiles", "generic,epic", "--max-sandboxes", "20")
    try:
        document = server.origin + "/_admin/openapi.json"
        st = os.path.join(os.path.dirname(sys.executable), "st")
        result = subprocess.run(
            [st, "run", document, "--url", server.origin, "--max-examples", "20", "--generation-deterministic",
             "--checks", ",".join(CHECKS), "--request-timeout", "30", "--no-color"],
            cwd=ROOT, capture_output=True, text=True, timeout=600)
        summary = result.stdout[-4000:]
        assert result.returncode == 0, summary
        assert " passed" in summary and "failed" not in summary.split("SUMMARY")[-1], summary
        assert server.process.poll() is None  # still serving
    finally:
        server.stop()
