"""The least a search must carry on a profile: the parameters its `search.rules` require
(minimum data sets, exactly-one-of choices, parameters that need others, date ranges), built
from the profile file, so a walk over the CapabilityStatement can probe every listed parameter
and include on vendor profiles too."""
import os

import yaml

from fhirvalidation import ROOT

SAMPLE = {"string": "a", "token": "x", "date": "ge2020-01-01", "reference": "Patient/pat-0001", "number": "1",
          "quantity": "gt1", "uri": "http://example.org/x"}


def rules(client):
    name = getattr(client, "name", "generic")
    with open(os.path.join(ROOT, "Profiles", f"{name}.yaml")) as handle:
        return (yaml.safe_load(handle).get("search") or {}).get("rules") or {}


def values(name, kind, rule):
    """The value(s) to send for `name` under the type's `rule`."""
    form = (rule.get("ranges") or {}).get(name)
    if form:
        return ["ge2026-01-01T00:00:00Z", "lt2026-12-31T00:00:00Z"]
    if name in (rule.get("dateOnly") or []) or kind == "date":
        return ["ge2020-01-01"]
    if kind == "reference" or "." in name:
        return ["Practitioner/prac-okafor" if "actor" in name or "practitioner" in name else "Patient/pat-0001"]
    return [SAMPLE.get(kind, "x")]


def criteria(client, type_, kinds, probe=None):
    """Parameters for a `type_` search that meets the profile's rules; `probe` (a parameter
    name) is included. `kinds` maps the type's listed parameter names to their types."""
    rule = rules(client).get(type_, {})
    names = [probe] if probe else []
    exactly = rule.get("exactlyOneOf") or []
    if exactly and not any(n in names for n in exactly):
        names.append(exactly[0])
    sets = rule.get("requireOneOf") or []
    if sets and not any(set(s) <= set(names) for s in sets):
        usable = [s for s in sets if not (set(s) & set(exactly)) or set(s) & set(exactly) <= set(names)]
        for name in (usable or sets)[0]:
            if name not in names:
                names.append(name)
    changed = True
    while changed:
        changed = False
        for trigger, needed in (rule.get("requires") or {}).items():
            for name in needed:
                if trigger in names and name not in names:
                    names.append(name)
                    changed = True
    return [(name, value) for name in names for value in values(name, kinds.get(name, "token"), rule)]
