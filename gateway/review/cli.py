"""``pga-gateway staff``: manage review-page users in the embedded identity file.

``staff add --agency FDA alice`` creates the user (or sets a new password for an existing
one); the password is read from the terminal (asked twice) or, when stdin is not a terminal,
from its first line, so ``printf '%s\\n' "$PW" | pga-gateway staff add ...`` works in scripts.
Passwords are never echoed, printed or logged.
"""

from __future__ import annotations

import getpass
import sys

from gateway.auth.identity import STAFF_AGENCY, STAFF_COORDINATOR, IdentityStore
from gateway.config import load_settings
from gateway.errors import ConfigurationError, ValidationFailed

USAGE_ERROR = 2
FAILURE = 1


def staff_command(action: str, username: str | None, agency: str | None, coordinator: bool) -> int:
    try:
        settings = load_settings()
        store = IdentityStore.load_or_create(settings.effective_identity_file)
    except ConfigurationError as exc:
        return _fail(exc.detail, USAGE_ERROR)
    if action == "list":
        for user in store.staff_users():
            print(f"{user.username}\t{user.agency_code}\t{user.role}")
        return 0
    if not username:
        return _fail("a USERNAME is needed", USAGE_ERROR)
    if action == "remove":
        if not store.remove_staff_user(username):
            return _fail(f"no staff user {username!r}", FAILURE)
        print(f"removed staff user {username}", file=sys.stderr)
        return 0
    if coordinator == bool(agency):
        return _fail("choose exactly one of --agency CODE, --coordinator", USAGE_ERROR)
    password = _read_password()
    if password is None:
        return _fail("passwords did not match", USAGE_ERROR)
    try:
        created = store.set_staff_user(
            username,
            password,
            agency_code=(agency or "CBP").upper(),
            role=STAFF_COORDINATOR if coordinator else STAFF_AGENCY,
        )
    except ValidationFailed as exc:
        return _fail(exc.detail, USAGE_ERROR)
    except ConfigurationError as exc:
        return _fail(exc.detail, FAILURE)
    what = "created" if created else "updated"
    print(
        f"{what} staff user {username} ({'CBP coordinator' if coordinator else agency})",
        file=sys.stderr,
    )
    return 0


def _read_password() -> str | None:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password again: ")
        return first if first == second else None
    return sys.stdin.readline().rstrip("\r\n")


def _fail(message: str, code: int) -> int:
    print(f"pga-gateway staff: {message}", file=sys.stderr)
    return code
