"""Validates the renders of the providers whose schema or library is on
PyPI (Google Chat, Datadog) and email, and writes {name: [errors]} as
JSON for the report.

    python validate.py <renders-dir> <results.json>
    python validate.py --self-test <results.json>

With --self-test it checks instead one deliberately broken payload per
check, each of which must be refused, and writes {name: {expect, errors}}.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datadog_event  # noqa: E402
import email_message  # noqa: E402
import google_chat  # noqa: E402

CHECKS = {
    "google_chat": google_chat.check,
    "datadog": datadog_event.check,
    "email": email_message.check,
}

_MAIL = {"from": None, "to": ["ops@example.com"], "cc": [], "bcc": [], "subject": "s", "text": "t", "html": ""}

# (name, provider, the mark of the check that must refuse it, payload)
SELF_TEST = [
    ("google_chat_unknown_property", "google_chat", "unknown property", {"text": "t", "colour": "red"}),
    (
        "google_chat_enum",
        "google_chat",
        "is not one of",
        {"cardsV2": [{"cardId": "c", "card": {"sections": [{"widgets": [
            {"buttonList": {"buttons": [{"text": "b", "onClick": {"openLink": {"url": "https://x.example/", "openAs": "POPUP"}}}]}}
        ]}]}}]},
    ),
    ("google_chat_output_only", "google_chat", "output only", {"text": "t", "sender": {"name": "users/1"}}),
    ("datadog_type", "datadog", "ApiTypeError", {"title": "t", "text": "x", "date_happened": "yesterday"}),
    ("datadog_enum", "datadog", "not a value the API knows", {"title": "t", "text": "x", "alert_type": "panic"}),
    ("datadog_unknown_key", "datadog", "unknown key", {"title": "t", "text": "x", "colour": "red"}),
    ("email_header_injection", "email", "Subject", {**_MAIL, "subject": "hi\r\nBcc: victim@example.com"}),
    ("email_address", "email", "To", {**_MAIL, "to": ["not an address <@>"]}),
]


def main(argv):
    if argv[0] == "--self-test":
        report = {
            f"selftest_{name}": {"expect": expect, "errors": CHECKS[provider](payload)}
            for name, provider, expect, payload in SELF_TEST
        }
        Path(argv[1]).write_text(json.dumps(report, indent=2))
        return
    renders = Path(argv[0])
    index = json.loads((renders / "index.json").read_text())
    results = {}
    for entry in index:
        check = CHECKS.get(entry["provider"])
        if check:
            payload = json.loads((renders / entry["file"]).read_text())
            results[entry["file"].removesuffix(".json")] = check(payload, entry["variant"])
    Path(argv[1]).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
