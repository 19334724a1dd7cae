"""What pyproject.toml promises about Pythons is what CI runs: the suite on CPython 3.11, and on every other
CPython the classifiers name, every corpus report compared byte for byte with 3.11's (.ci/run)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

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


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", (ROOT / "docs" / "ci.md").read_text(), re.MULTILINE | re.DOTALL)


def test_docs_install_only_what_works() -> None:
    """No release and no tag exist: no bare ``pip install soinspect`` outside the note that says so, and
    every pinned ref of the Action, pre-commit and pip is main, a 40-hex commit or the COMMIT placeholder."""
    for doc in (ROOT / "README.md", ROOT / "docs" / "ci.md"):
        text = doc.read_text()
        for m in re.finditer(r"pipx? install soinspect\b(?![-.\w])", text):
            line = text[text.rfind("\n", 0, m.start()) + 1 : text.find("\n", m.end())]
            assert "not" in line, f"{doc.name}: {line}"
        refs = re.findall(r"soinspect/soinspect@([\w.-]+)", text) + re.findall(r"^\s*rev: (\S+)", text, re.MULTILINE)
        assert all(re.fullmatch(r"main|COMMIT|<SHA>|[0-9a-f]{40}", r) for r in refs), refs


def test_gitlab_and_jenkins_recipes_read_the_files_soinspect_writes() -> None:
    gitlab = [yaml.safe_load(b) for b in _blocks("yaml") if "reports:" in b]
    (job,) = [j["check-plugins"] for j in gitlab]
    reports = job["artifacts"]["reports"]
    (run,) = [line for line in job["script"] if "soinspect --" in line]
    assert f"--output junit={reports['junit']}" in run and f"--output codequality={reports['codequality']}" in run
    assert job["artifacts"]["when"] == "always"
    (jenkins,) = _blocks("groovy")
    (read,) = re.findall(r"junit '([^']+)'", jenkins)
    assert f"--output junit={read}" in jenkins
