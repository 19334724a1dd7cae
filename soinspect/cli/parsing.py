"""The argument parser every soinspect command uses: a usage error is one line and exit 2, as documented,
shown through the escape rule of every format a person reads (:mod:`soinspect.output.escape`)."""

from __future__ import annotations

import argparse
import sys

from soinspect.output.escape import escape

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        # argparse quotes the arguments it refuses, and a file name can be one: shown escaped
        print(f"{self.prog}: error: {escape(message)}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
