#!/usr/bin/env python3
"""Counts lines, words and characters of the files given (or stdin), like `wc`, and names the
Python that ran it -- an application shipped as one file with its own interpreter."""
import platform
import sys


def count(stream):
    text = stream.read()
    return len(text.splitlines()), len(text.split()), len(text)


def main(argv):
    if argv and argv[0] == "--version":
        print(f"wordcount 1.0 on Python {platform.python_version()}")
        return 0
    totals = [0, 0, 0]
    sources = argv or ["-"]
    for name in sources:
        try:
            if name == "-":
                lines, words, chars = count(sys.stdin)
            else:
                with open(name, encoding="utf-8", errors="replace") as f:
                    lines, words, chars = count(f)
        except OSError as e:
            print(f"wordcount: {name}: {e.strerror}", file=sys.stderr)
            return 1
        totals = [totals[0] + lines, totals[1] + words, totals[2] + chars]
        print(f"{lines:7} {words:7} {chars:7} {name}")
    if len(sources) > 1:
        print(f"{totals[0]:7} {totals[1]:7} {totals[2]:7} total")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
