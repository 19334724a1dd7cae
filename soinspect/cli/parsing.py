"""The argument parser every soinspect command uses: a usage error is one line and exit 2, as documented,
shown through the escape rule of every format a person reads (:mod:`soinspect.output.escape`); and what
both commands read from their arguments (``--contract`` files)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from soinspect.go.contract import MAX_CONTRACT, parse_contract
from soinspect.output.escape import escape

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        # argparse quotes the arguments it refuses, and a file name can be one: shown escaped
        print(f"{self.prog}: error: {escape(message)}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def read_contracts(paths: Sequence[str]) -> list[str]:
    """The ``NAME=TYPE`` expectations of each ``--contract`` file (:mod:`soinspect.go.contract`), types
    resolved through the file's imports; ValueError naming the file and the problem."""
    out = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read(MAX_CONTRACT + 1)
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
        if len(text) > MAX_CONTRACT:
            raise ValueError(f"{path}: over the limit of {MAX_CONTRACT} characters")
        try:
            out += [f"{name}={typ}" for name, typ in parse_contract(text)]
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    return out
