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

    worker = sub.add_parser("worker", help="run dispatch workers (agency endpoints from config)")
    worker.add_argument("--threads", type=int, default=2, help="worker threads (default 2)")

    sim = sub.add_parser("agency-sim", help="run the agency IWS simulator stand-alone")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8090)
    sim.add_argument("--gateway-url", help="where later dispositions are sent back")
    sim.add_argument("--faults", default="", help="e.g. http_500_rate=0.1,timeout_rate=0.05")

    dispatch = sub.add_parser("dispatch", help="operator view of the dispatch outbox")
    dispatch_sub = dispatch.add_subparsers(dest="dispatch_command", required=True)
    listing = dispatch_sub.add_parser("list", help="messages as JSON lines, newest change first")
    listing.add_argument("--state", choices=["pending", "in_flight", "delivered", "dead"])
    retry = dispatch_sub.add_parser("retry", help="re-drive dead letters")
    target = retry.add_mutually_exclusive_group(required=True)
    target.add_argument("message_id", nargs="?", help="message id of one dead letter")
    target.add_argument("--all-dead", action="store_true", help="every dead letter")

    catair = sub.add_parser("catair", help="CATAIR OI/PG records <-> canonical JSON")
    catair_sub = catair.add_subparsers(dest="catair_command", required=True)
    p = catair_sub.add_parser("parse", help="CATAIR file -> canonical JSON on stdout")
    p.add_argument("file", help="CATAIR text file, or - for standard input")
    r = catair_sub.add_parser("render", help="canonical JSON file -> CATAIR on stdout")
    r.add_argument("file", help="JSON file as printed by 'catair parse', or - for stdin")

    up = sub.add_parser("upload", help="upload document files (DIS) with a progress bar")
    up.add_argument("files", nargs="+", metavar="FILE")
    up.add_argument("--entry", required=True, help="entry number, e.g. ABC12345674")
    up.add_argument("--agency", action="append", required=True, help="agency code (repeat)")
    up.add_argument("--label", required=True, help="DIS document label, e.g. COMMERCIAL_INVOICE")
    up.add_argument("--url", default="http://127.0.0.1:8080", help="gateway base URL")
    up.add_argument("--token", help="bearer token (else minted for --filer)")
    up.add_argument("--filer", help="mint a token for this filer from the embedded identity")
    up.add_argument("--document-id", help="sender's document id (one file only)")

    token = sub.add_parser("token", help="print a bearer token for an embedded client")
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--filer", metavar="CODE", help="filer client with this filer code")
    who.add_argument("--agency", metavar="CODE", help="agency client with this agency code")
    who.add_argument("--admin", action="store_true", help="administrator client")

    staff = sub.add_parser("staff", help="review-page users (embedded identity file)")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser("add", help="add a user or set a new password (read from stdin)")
    role = add.add_mutually_exclusive_group(required=True)
    role.add_argument("--agency", metavar="CODE", help="the user's agency, e.g. FDA")
    role.add_argument("--coordinator", action="store_true", help="CBP coordinator (read-only)")
    add.add_argument("username")
    staff_sub.add_parser("list", help="users, agencies and roles (no secrets)")
    remove = staff_sub.add_parser("remove", help="delete a user")
    remove.add_argument("username")
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
    if args.command == "worker":
        from gateway.server import worker

        return worker(args.threads)
    if args.command == "agency-sim":
        from gateway.server import agency_sim

        return agency_sim(args.host, args.port, args.gateway_url, args.faults)
    if args.command == "dispatch":
        from gateway import server

        if args.dispatch_command == "list":
            return server.dispatch_list(args.state)
        return server.dispatch_retry(args.message_id, args.all_dead)
    if args.command == "upload":
        from pga_dis.cli_upload import upload_command

        return upload_command(
            args.files,
            entry=args.entry,
            agencies=args.agency,
            label=args.label,
            url=args.url,
            token=args.token,
            filer=args.filer,
            document_id=args.document_id,
        )
    if args.command == "staff":
        from gateway.review.cli import staff_command

        return staff_command(
            args.staff_command,
            getattr(args, "username", None),
            getattr(args, "agency", None),
            getattr(args, "coordinator", False),
        )
    if args.command == "token":
        from gateway.auth.cli import token_command

        return token_command(filer=args.filer, agency=args.agency, admin=args.admin)
    raise AssertionError(args.command)  # argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
