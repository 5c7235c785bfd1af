"""Email: the message built and read back with Python's own email
package under its strict policy (RFC 5322 headers, RFC 6532 UTF-8): no
line break may reach a header, every address must parse, and subject and
addresses must come back as sent.
"""

from email import errors as errors_module
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

_STRICT = policy.SMTPUTF8.clone(raise_on_defect=True)


def check(mail, variant=""):
    errors = []
    if not mail.get("to"):
        errors.append("email: no recipient in to")
    message = EmailMessage(policy=_STRICT)
    headers = {
        "From": mail.get("from"),
        "To": ", ".join(mail.get("to") or []),
        "Cc": ", ".join(mail.get("cc") or []),
        "Bcc": ", ".join(mail.get("bcc") or []),
        "Subject": mail.get("subject"),
    }
    for name, value in headers.items():
        if not value:
            continue
        try:
            message[name] = value
        except Exception as err:  # ValueError, HeaderParseError, a defect raised
            errors.append(f"email: {name}: {type(err).__name__}: {err}")
            continue
        # Address parsing records its defects on the header, not raising.
        for defect in message[name].defects:
            if isinstance(defect, errors_module.InvalidHeaderDefect):
                errors.append(f"email: {name}: {defect}")
    try:
        message.set_content(mail.get("text") or "")
        if mail.get("html"):
            message.add_alternative(mail["html"], subtype="html")
        parsed = BytesParser(policy=_STRICT).parsebytes(message.as_bytes())
    except Exception as err:
        return errors + [f"email: the message does not serialise: {type(err).__name__}: {err}"]
    subject = headers["Subject"]
    if subject and "Subject" in message and str(parsed["Subject"]) != subject:
        errors.append(f"email: Subject comes back as {str(parsed['Subject'])!r}")
    for name in ("To", "Cc"):
        if headers[name] and name in message:
            sent = [a.addr_spec for a in message[name].addresses]
            back = [a.addr_spec for a in parsed[name].addresses]
            if sent != back or len(sent) != len(mail.get(name.lower()) or []):
                errors.append(f"email: {name} comes back as {back}")
    return errors
