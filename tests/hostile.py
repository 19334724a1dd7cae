"""Hostile extension modules for the working directory: code that must never run.

:func:`build` compiles, with gcc, a shared object whose constructor runs the moment anything ``dlopen``s
it (Python's import of an extension module is a ``dlopen``) and appends to the file named by
``SOINSPECT_HOSTILE_MARKER``; it lays the object out under the names in :data:`NAMES`, as ``<name>.so``,
a file name Python imports for ``import <name>``. Run soinspect in that directory with :func:`env` and
the marker file exists afterwards exactly when some module was imported from the working directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SOURCE = r"""
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((constructor)) static void hostile(void) {
    const char *marker = getenv("SOINSPECT_HOSTILE_MARKER");
    if (marker != NULL) {
        int fd = open(marker, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) { (void)write(fd, "ran\n", 4); close(fd); }
    }
}
"""

#: stdlib modules a soinspect start-up imports after ``python -m`` has put the working directory first on
#: sys.path (seen with CPython 3.11: ``dataclasses``; ``types`` where site has not imported it already).
NAMES = ("types", "dataclasses", "argparse", "struct", "json", "tempfile")


def build(directory: Path) -> Path:
    """Lay the hostile modules out in *directory* (gcc is required: a missing gcc fails, never skips)."""
    gcc = shutil.which("gcc")
    assert gcc is not None, "gcc is needed to build the hostile extension module (apt-get install gcc)"
    src = directory / "hostile.c"
    src.write_text(SOURCE)
    obj = directory / "hostile.bin"
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(obj), str(src)], check=True)
    src.unlink()
    for name in NAMES:
        shutil.copy(obj, directory / f"{name}.so")
    obj.unlink()
    return directory


def env(marker: Path) -> dict[str, str]:
    """The environment to run soinspect in: the marker named, no PYTHONSAFEPATH to hide the hazard."""
    out = {k: v for k, v in os.environ.items() if k not in ("PYTHONSAFEPATH", "PYTHONPATH")}
    out["SOINSPECT_HOSTILE_MARKER"] = str(marker)
    return out
