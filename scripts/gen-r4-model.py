#!/usr/bin/env python3
"""Generates Sources/FHIRCore/Model/R4Model+Data.swift from the official FHIR R4 JSON schema.

The sandbox validates incoming resources structurally (unknown elements, JSON types, required
elements, required-binding codes, primitive formats). Rather than hand-writing element tables,
this script extracts them from `fhir.schema.json` for the resource types the sandbox serves and
every datatype they reach. Cardinality-1 *primitive* elements are not marked `required` in the
JSON schema (their `_x` extension sibling could stand in), so those come from R4's
StructureDefinitions, listed in PRIMITIVE_REQUIRED below.

    python3 scripts/gen-r4-model.py ../shared/fhir/fhir.schema.json
"""
import json
import sys

RESOURCES = [
    "Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "HealthcareService",
    "Schedule", "Slot", "Appointment", "Coverage", "Condition", "Observation", "Communication",
    "DocumentReference", "Encounter", "Provenance", "CoverageEligibilityRequest", "CoverageEligibilityResponse", "Bundle",
    "Parameters", "OperationOutcome", "Endpoint", "Subscription",
]

# R4 elements with min 1 whose type is primitive (or a choice), per the R4 StructureDefinitions.
PRIMITIVE_REQUIRED = {
    "Extension": ["url"],
    "Endpoint": ["status", "address"],
    "Subscription": ["status", "reason", "criteria"],
    "Subscription_Channel": ["type"],
    "Narrative": ["status"],
    "Appointment": ["status"],
    "Appointment_Participant": ["status"],
    "Slot": ["status", "start", "end"],
    "Observation": ["status"],
    "Encounter": ["status"],
    "Coverage": ["status"],
    "Communication": ["status"],
    "Communication_Payload": ["content[x]"],
    "DocumentReference": ["status"],
    "Patient_Link": ["type"],
    "Coverage_Class": ["value"],
    "Coverage_CostToBeneficiary": ["value[x]"],
    "Location_Position": ["longitude", "latitude"],
    "HealthcareService_NotAvailable": ["description"],
    "PractitionerRole_NotAvailable": ["description"],
    "Annotation": ["text"],
    "Bundle": ["type"],
    "Bundle_Link": ["relation", "url"],
    "Bundle_Request": ["method", "url"],
    "Bundle_Response": ["status"],
    "Parameters_Parameter": ["name"],
    "OperationOutcome_Issue": ["severity", "code"],
    "Encounter_StatusHistory": ["status"],
    "Encounter_ClassHistory": [],
    "Observation_ReferenceRange": [],
    "Identifier": [],
    "Provenance": ["recorded"],
    "CoverageEligibilityRequest": ["status", "purpose", "created"],
    "CoverageEligibilityResponse": ["status", "purpose", "created", "outcome"],
    "Provenance_Entity": ["role"],
}

PRIMITIVES = {
    "base64Binary", "boolean", "canonical", "code", "date", "dateTime", "decimal", "id", "instant",
    "integer", "markdown", "oid", "positiveInt", "string", "time", "unsignedInt", "uri", "url", "uuid",
}


def ref_name(ref):
    return ref.split("/")[-1]


def main(schema_path, out_path):
    schema = json.load(open(schema_path))
    defs = schema["definitions"]
    enums = []
    enum_index = {}
    types = {}
    queue = list(RESOURCES)
    while queue:
        name = queue.pop()
        if name in types or name in PRIMITIVES or name in ("ResourceList", "xhtml"):
            continue
        d = defs[name]
        elements = {}
        for key, prop in d.get("properties", {}).items():
            if key == "resourceType":
                continue
            array = prop.get("type") == "array"
            target = prop.get("items", prop) if array else prop
            enum = target.get("enum")
            if "$ref" in target:
                t = ref_name(target["$ref"])
            elif enum is not None:
                t = "code"
            elif target.get("const"):
                t = "code"
                enum = [target["const"]]
            elif "type" in target or "pattern" in target:
                # An inlined primitive (choice elements such as valueBase64Binary): its type is
                # the suffix of the element name.
                matches = [p for p in PRIMITIVES if key.endswith(p[0].upper() + p[1:])]
                t = max(matches, key=len) if matches else None
                if t is None:
                    raise SystemExit(f"unhandled inline primitive {name}.{key}: {prop}")
            else:
                raise SystemExit(f"unhandled property {name}.{key}: {prop}")
            if t == "ResourceList":
                t = "Resource"
            entry = [t, 1 if array else 0]
            if enum is not None:
                frozen = json.dumps(enum)
                if frozen not in enum_index:
                    enum_index[frozen] = len(enums)
                    enums.append(enum)
                entry.append(enum_index[frozen])
            elements[key] = entry
            if t not in PRIMITIVES and t not in ("Resource", "xhtml"):
                queue.append(t)
        required = list(d.get("required", []))
        required = [r for r in required if r != "resourceType"]
        required += PRIMITIVE_REQUIRED.get(name, [])
        types[name] = {"e": elements, "r": required}
        # Choice elements (value[x]): the schema flattens them into one property per type, named
        # stem + the type's name (deceasedBoolean, deceasedDateTime). A stem with two or more such
        # properties is a choice; only one of them may be present (R4 JSON, "Choice of Datatypes").
        stems = {}
        for key, entry in elements.items():
            suffix = entry[0][0].upper() + entry[0][1:]
            if key.endswith(suffix) and len(key) > len(suffix):
                stems.setdefault(key[: -len(suffix)], []).append(key)
        choices = {stem: sorted(keys) for stem, keys in stems.items() if len(keys) > 1}
        if choices:
            types[name]["c"] = choices
    model = {"resources": RESOURCES, "types": types, "enums": enums}
    text = json.dumps(model, separators=(",", ":"), sort_keys=True)
    assert '"""#' not in text
    with open(out_path, "w") as f:
        f.write("// Generated by scripts/gen-r4-model.py from the official FHIR R4 JSON schema. Do not edit.\n")
        f.write("// swift-format-ignore-file\n\n")
        f.write("extension R4Model {\n")
        f.write("    /// Element tables for the served resource types and every datatype they reach.\n")
        f.write('    static let json = #"""\n')
        # Break the single JSON line into ~136-character lines (inside the JSON, whitespace is free).
        parts = []
        line = ""
        for token in text.split(","):
            if len(line) + len(token) > 136:
                parts.append(line)
                line = ""
            line += token + ","
        parts.append(line[:-1])
        f.write("\n".join(parts))
        f.write('\n"""#\n}\n')
    print(f"{len(types)} types, {len(enums)} value sets -> {out_path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/fhir/fhir.schema.json",
         sys.argv[2] if len(sys.argv) > 2 else "Sources/FHIRCore/Model/R4Model+Data.swift")
