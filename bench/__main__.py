"""``python -m bench`` (or ``make bench``): run every benchmark and print one JSON report."""

from __future__ import annotations

import json
import sys

from bench import catair_parse, document_upload, rest_intake, soap_submit


def main() -> int:
    results = {
        "catair_parse": catair_parse.run(),
        "rest_intake": rest_intake.run(),
        "soap_submit": soap_submit.run(),
        "document_upload": document_upload.run(),
    }
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
