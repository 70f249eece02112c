#!/usr/bin/env python3
"""Module edges and vendor neutrality, checked from the sources (stdlib only).

1. Every `import` in Sources/<Module>/ must be on that module's allowed list below. The compiler's
   explicit-import check only proves an import is declared in Package.swift; this proves the
   declared graph is the one the README's design notes describe (for example: only FHIRStore
   imports SQLite, only SandboxServer imports Hummingbird, SandboxAuth sits on FHIRCore alone).
2. No vendor name appears in the engine modules, code or comments: vendor behaviour lives in
   SandboxProfiles (and the server's composition root only wires it).

Exit status 1 with one line per violation.
"""
import pathlib
import re
import sys

PLATFORM = {"Foundation", "Synchronization", "Glibc", "Darwin", "Dispatch"}
ALLOWED = {
    "CSQLite": set(),
    "FHIRCore": set(),
    "FHIRSearch": {"FHIRCore"},
    "FHIRStore": {"FHIRCore", "FHIRSearch", "CSQLite"},
    "FHIRInteractions": {"FHIRCore", "FHIRSearch", "FHIRStore"},
    "YAMLReader": {"Yams", "FHIRCore"},
    "SandboxSeed": {"FHIRCore", "YAMLReader"},
    "Scheduling": {"FHIRCore", "FHIRSearch", "FHIRStore", "FHIRInteractions", "SandboxSeed"},
    "SandboxAuth": {"FHIRCore", "Crypto", "_CryptoExtras"},
    "SandboxFaults": {"FHIRCore"},
    "Certification": {"FHIRCore", "FHIRSearch", "YAMLReader"},
    "ChangeFeeds": {"FHIRCore", "FHIRSearch", "FHIRStore", "FHIRInteractions"},
    "SandboxProfiles": {
        "SandboxFaults", "FHIRCore", "FHIRSearch", "FHIRStore", "FHIRInteractions", "Scheduling", "SandboxSeed", "SandboxAuth", "YAMLReader",
        "ChangeFeeds",
    },
    "SandboxServer": {
        "SandboxFaults", "FHIRCore", "FHIRSearch", "FHIRStore", "FHIRInteractions", "Scheduling", "SandboxSeed", "SandboxAuth", "SandboxProfiles",
        "ChangeFeeds", "Hummingbird", "HummingbirdCore", "Logging", "NIOCore", "NIOPosix", "NIOHTTP1", "HTTPTypes", "NIOHTTPTypes",
        "ServiceLifecycle", "UnixSignals", "Certification",
    },
    "fhir-sandbox": {"SandboxServer", "SandboxProfiles", "SandboxAuth", "FHIRCore", "ArgumentParser", "Certification"},
}
ENGINE = ["FHIRCore", "FHIRSearch", "FHIRStore", "FHIRInteractions", "Scheduling", "SandboxAuth", "SandboxFaults", "ChangeFeeds",
          "Certification"]
VENDORS = re.compile(r"epic|cerner|millennium|athena|eclinicalworks|\becw\b|nextgen|oracle health|acme", re.IGNORECASE)
IMPORT = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*import\s+(?:(?:struct|enum|class|func|protocol|typealias|var|let)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent / "Sources"
    problems = []
    for module_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        module = module_dir.name
        if module not in ALLOWED:
            problems.append(f"Sources/{module}: a module the architecture check does not know; add it to .ci/check-architecture.py")
            continue
        allowed = ALLOWED[module] | PLATFORM
        for file in sorted(module_dir.rglob("*.swift")):
            relative = file.relative_to(root.parent)
            for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
                match = IMPORT.match(line)
                if match and match.group(1) not in allowed:
                    problems.append(f"{relative}:{number}: {module} may not import {match.group(1)}")
                if module in ENGINE and (vendor := VENDORS.search(line)):
                    problems.append(f"{relative}:{number}: vendor name '{vendor.group(0)}' in engine module {module}")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} architecture violation(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
