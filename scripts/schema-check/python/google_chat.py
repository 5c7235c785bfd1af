"""Google Chat: the message body against the `Message` schema of Chat's
discovery document, as Google's API client for Python ships it.

Discovery schemas are a subset of JSON Schema (type, properties, items,
additionalProperties, $ref, enum, format) plus `readOnly` and
`deprecated`. A property the schema does not name is an error, as Chat
answers 400 for unknown fields; so is an output-only or deprecated one.
"""

import json
from importlib import resources

_FORMAT_RANGES = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1)}


def _schemas():
    doc = resources.files("googleapiclient") / "discovery_cache" / "documents" / "chat.v1.json"
    return json.loads(doc.read_text(encoding="utf-8"))["schemas"]


SCHEMAS = _schemas()


def _check(value, schema, where, errors):
    if "$ref" in schema:
        schema = SCHEMAS[schema["$ref"]]
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            errors.append(f"{where}: expected an object")
            return
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if properties is not None and key in properties:
                prop = properties[key]
                if prop.get("readOnly"):
                    errors.append(f"{where}.{key}: output only, not to be sent")
                if prop.get("deprecated"):
                    errors.append(f"{where}.{key}: deprecated")
                _check(item, prop, f"{where}.{key}", errors)
            elif extra is not None:
                _check(item, extra, f"{where}.{key}", errors)
            else:
                errors.append(f"{where}.{key}: unknown property of {schema.get('id', 'this object')}")
    elif kind == "array":
        if not isinstance(value, list):
            errors.append(f"{where}: expected a list")
            return
        for i, item in enumerate(value):
            _check(item, schema["items"], f"{where}[{i}]", errors)
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(f"{where}: expected a string")
        elif "enum" in schema and value not in schema["enum"]:
            errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
        elif schema.get("format") in ("int64", "uint64") and not value.lstrip("-").isdigit():
            errors.append(f"{where}: {value!r} is not a {schema['format']}")
    elif kind == "integer":
        low, high = _FORMAT_RANGES.get(schema.get("format"), (None, None))
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{where}: expected an integer")
        elif low is not None and not low <= value <= high:
            errors.append(f"{where}: {value} is out of {schema['format']} range")
    elif kind == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append(f"{where}: expected a number")
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{where}: expected a boolean")
    elif kind != "any":
        errors.append(f"{where}: the discovery document has type {kind!r}, which this check does not know")


def check(payload, variant=""):
    errors = []
    _check(payload, {"$ref": "Message"}, "message", errors)
    return [f"discovery: {e}" for e in errors]
