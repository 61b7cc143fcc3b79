"""A real SMTP server on loopback for the mail tests (Debian's python3-aiosmtpd).

Messages are stored in a Maildir. With --cert/--key it offers STARTTLS and requires it;
with --user/--password it requires a login (after STARTTLS). Recipients at
refused.example are refused for good (550), as an unknown mailbox would be.
It prints "ready" once it accepts connections and stops when its standard input closes,
so it never outlives the test that started it.
"""

import argparse
import ssl
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


class Refusing(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@refused.example"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def main():
    # aiosmtpd 1.4 warns about its own use of a deprecated attribute on every login.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()

    options = {}
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        options.update(tls_context=context, require_starttls=True)
    if args.user:
        expected = LoginPassword(args.user.encode(), args.password.encode())

        def authenticate(server, session, envelope, mechanism, auth_data):
            # handled=False: aiosmtpd answers a refusal with 535 itself.
            return AuthResult(success=auth_data == expected, handled=False)

        options.update(
            authenticator=authenticate, auth_required=True, auth_require_tls=bool(args.cert)
        )
    controller = Controller(
        Refusing(args.maildir), hostname="127.0.0.1", port=args.port, **options
    )
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


main()
