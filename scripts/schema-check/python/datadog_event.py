"""Datadog: the event body (POST /api/v1/events) deserialised into the
official client's `EventCreateRequest` model, with its type and length
checks. The client keeps what it does not know rather than refusing it,
so unknown keys and unknown enum values are reported here as errors.
"""

from datadog_api_client import Configuration
from datadog_api_client.model_utils import validate_and_convert_types
from datadog_api_client.v1.model.event_create_request import EventCreateRequest

_CONFIGURATION = Configuration()


def check(payload, variant=""):
    if not isinstance(payload, dict):
        return ["datadog-api-client: the body is not a JSON object"]
    try:
        event = validate_and_convert_types(
            payload, (EventCreateRequest,), ["body"], True, True, configuration=_CONFIGURATION
        )
    except Exception as err:  # the client's ApiTypeError, ApiValueError, TypeError
        return [f"datadog-api-client: {type(err).__name__}: {err}"]
    errors = [
        f"datadog-api-client: unknown key {key!r} of EventCreateRequest"
        for key in payload
        if key not in EventCreateRequest.attribute_map
    ]
    for key in EventCreateRequest.attribute_map:
        value = getattr(event, key, None) if key in payload else None
        if getattr(value, "_unparsed", False):
            errors.append(f"datadog-api-client: {key}: {payload[key]!r} is not a value the API knows")
    return errors
