"""``python -P -m soinspect``: the command line, for an environment without the ``soinspect`` script.

Without ``-P`` (or ``PYTHONSAFEPATH``), ``python -m`` puts the working directory first on ``sys.path``
before this module runs, so a ``dataclasses.so`` or ``types.so`` lying there is imported, and its code
runs, while Python starts up: nothing soinspect does afterwards can undo that. So the unsafe form is
refused (exit 2), and the documented forms are the ``soinspect`` script and ``python -P -m soinspect``
(Python 3.11+), which never import from the working directory (``tests/test_noexec.py`` shows it).
"""

import sys

if not sys.flags.safe_path:
    print(
        "soinspect: error: run 'python -P -m soinspect' or the 'soinspect' command: without -P, python -m "
        "imports modules from the working directory, where the files being inspected may be",
        file=sys.stderr,
    )
    sys.exit(2)

from soinspect.cli.command import entry

entry()
