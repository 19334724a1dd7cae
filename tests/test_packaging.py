"""What pyproject.toml promises about Pythons is what CI runs: the suite on CPython 3.11, and on every other
CPython the classifiers name, every corpus report compared byte for byte with 3.11's (.ci/run)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_classifiers_name_the_cpythons_ci_runs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lang = "Programming Language :: Python :: "
    named = {c.removeprefix(lang) for c in project["classifiers"] if c.startswith(f"{lang}3.")}
    ci = (ROOT / ".ci" / "run").read_text()
    (loop,) = re.findall(r"^for minor in ([0-9. ]+); do$", ci, re.MULTILINE)
    assert named == {"3.11", *loop.split()}
    assert project["requires-python"] == ">=3.11"
    assert "Typing :: Typed" in project["classifiers"] and (ROOT / "soinspect" / "py.typed").exists()
