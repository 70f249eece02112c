"""Validation of every FHIR body the black-box suite receives, with two independent oracles:
fhirkit-rs (a Rust R4 model and validator) and the official R4 JSON schema via jsonschema.
Bodies from an STU3 base (Epic's scheduling base) are validated by fhir.resources' STU3 models
(pydantic; unknown elements are errors) instead.

The schema's `ResourceList` is a `oneOf` over ~150 resource types, which makes jsonschema try
every type for every Bundle entry (0.5 s for a 20-entry Bundle). The schema also declares a
`discriminator` on `resourceType`; we validate exactly that way instead: the resource must name
a known type and must match that type's definition. Every other part of the schema is used
unchanged.
"""
import copy
import json
import os

import fhirkit
import jsonschema
from fhir.resources.STU3 import get_fhir_model_class as stu3_model

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SCHEMA_PATH = os.environ.get("FHIR_SCHEMA") or next(
    p for p in [os.path.join(ROOT, "..", "shared", "fhir", "fhir.schema.json"),
                os.path.join(ROOT, "shared", "fhir", "fhir.schema.json")] if os.path.exists(p))


def _build_validator():
    schema = json.load(open(SCHEMA_PATH))
    schema = copy.deepcopy(schema)
    mapping = schema["discriminator"]["mapping"]
    types = sorted(mapping)
    schema["definitions"]["ResourceList"] = {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"enum": types}},
        "allOf": [{"if": {"properties": {"resourceType": {"const": t}}}, "then": {"$ref": mapping[t]}} for t in types],
    }
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    root = dict(schema)
    root.pop("oneOf", None)
    root["$ref"] = "#/definitions/ResourceList"
    return jsonschema.Draft7Validator(root)


VALIDATOR = _build_validator()


def problems(body):
    """Every schema error and every fhirkit error for one FHIR JSON body."""
    found = [f"schema: {'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in VALIDATOR.iter_errors(body)]
    found += [f"fhirkit: {i.path}: {i.message}" for i in fhirkit.validate(json.dumps(body)) if i.severity == "error"]
    return found


def assert_valid(body):
    found = problems(body)
    assert not found, "invalid FHIR R4 from the server:\n  " + "\n  ".join(found[:20])


def stu3_problems(body):
    """Every error fhir.resources' STU3 model finds in one FHIR JSON body."""
    try:
        model = stu3_model(body.get("resourceType", ""))
    except Exception as error:  # an unknown resourceType
        return [f"stu3: {error}"]
    try:
        model.model_validate(body)
    except Exception as error:
        return [f"stu3: {line}" for line in str(error).splitlines()]
    return []


def assert_valid_stu3(body):
    found = stu3_problems(body)
    assert not found, "invalid FHIR STU3 from the server:\n  " + "\n  ".join(found[:20])
