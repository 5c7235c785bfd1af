"""A real SMTP server for Herald's email tests (aiosmtpd).

Listens on 127.0.0.1 on a free port, prints `listening <port>` once ready,
then one JSON line per accepted message: envelope sender, recipients, the
raw message (base64) and the account that logged in, if any.

    python3 smtp_sink.py [--auth USER:PASSWORD] [--reject CODE]

With --auth, AUTH is required (over plain SMTP: this is a loopback test
server) and only that account is accepted. With --reject, every message is
refused with that SMTP reply code (e.g. 451 or 550).
"""

import argparse
import asyncio
import base64
import json
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Sink:
    def __init__(self, reject):
        self.reject = reject

    async def handle_DATA(self, server, session, envelope):
        if self.reject:
            return f"{self.reject} refused by the test server"
        login = session.auth_data.login.decode() if session.auth_data else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": base64.b64encode(envelope.original_content).decode(),
            "auth_login": login,
        }
        print(json.dumps(record), flush=True)
        return "250 OK message accepted"


def authenticator(expected):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode(), auth_data.password.decode()) == expected
        return AuthResult(success=ok, auth_data=auth_data if ok else None)

    return check


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--auth")
    parser.add_argument("--reject")
    args = parser.parse_args()
    handler = Sink(args.reject)
    options = {}
    if args.auth:
        user, password = args.auth.split(":", 1)
        options = {
            "authenticator": authenticator((user, password)),
            "auth_required": True,
            "auth_require_tls": False,
        }
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp.test", **options), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
