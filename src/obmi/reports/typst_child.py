"""`python -m obmi.reports.typst_child`: compile one Typst document in a process of its own.

Reads {"template", "inputs", "timestamp"} as JSON on stdin and writes the PDF to stdout. Typst's
memo of what it compiled dies with the process (see obmi.reports.pdf.compile_document)."""

from __future__ import annotations

import json
import sys


def main() -> None:
    job = json.loads(sys.stdin.buffer.read())
    from obmi.reports.pdf import _compile
    sys.stdout.buffer.write(_compile(job["template"], job["inputs"], int(job["timestamp"])))


if __name__ == "__main__":
    main()
