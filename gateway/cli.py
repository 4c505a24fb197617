"""The ``pga-gateway`` command line.

Each sub-command is a thin shell over a module that does the work, so the same code serves
the CLI, the HTTP edge and the tests.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pga-gateway", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="run the gateway (API, SOAP, review pages) with uvicorn")
    sub.add_parser("migrate", help="create or upgrade the database schema")

    catair = sub.add_parser("catair", help="CATAIR OI/PG records <-> canonical JSON")
    catair_sub = catair.add_subparsers(dest="catair_command", required=True)
    p = catair_sub.add_parser("parse", help="CATAIR file -> canonical JSON on stdout")
    p.add_argument("file", help="CATAIR text file, or - for standard input")
    r = catair_sub.add_parser("render", help="canonical JSON file -> CATAIR on stdout")
    r.add_argument("file", help="JSON file as printed by 'catair parse', or - for stdin")

    token = sub.add_parser("token", help="print a bearer token for an embedded client")
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--filer", metavar="CODE", help="filer client with this filer code")
    who.add_argument("--agency", metavar="CODE", help="agency client with this agency code")
    who.add_argument("--admin", action="store_true", help="administrator client")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "catair":
        from gateway.pgams import cli as catair_cli

        if args.catair_command == "parse":
            return catair_cli.parse_command(args.file)
        return catair_cli.render_command(args.file)
    if args.command == "serve":
        from gateway.server import serve

        return serve()
    if args.command == "migrate":
        from gateway.server import migrate

        return migrate()
    if args.command == "token":
        from gateway.auth.cli import token_command

        return token_command(filer=args.filer, agency=args.agency, admin=args.admin)
    raise AssertionError(args.command)  # argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
