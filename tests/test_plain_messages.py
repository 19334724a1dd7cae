"""What a user reads for the files a CI gate trips on, in plain words in every output: a plugin for another
machine, and a file named .so that is not ELF (an HTML page, a gzip, a zip, a Git LFS pointer), with the fix
that fits the file (not "copy it again whole")."""

from __future__ import annotations

import gzip
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

import corpus
from soinspect.cli import command as cli

ROOT = Path(__file__).resolve().parent.parent


def outputs(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[dict[str, Any], str, str, str]:
    """The JSON document, the line, Markdown and table outputs of one set of arguments."""
    texts = []
    for fmt in ("json", "line", "markdown", "table"):
        cli.main(["--quiet", "--format", fmt, "-v", *argv] if fmt == "table" else ["--quiet", "--format", fmt, *argv])
        texts.append(capsys.readouterr().out)
    return json.loads(texts[0]), texts[1], texts[2], texts[3]


def test_another_machine_in_plain_words(capsys: pytest.CaptureFixture[str]) -> None:
    doc, line, markdown, table = outputs(capsys, corpus.path("greet-arm64.so"))
    (r,) = doc["results"]
    plain = "an AArch64 (arm64) file cannot load in an x86-64 process"
    assert plain in r["why"] and plain in line and plain in markdown and plain in table
    everything = json.dumps(doc) + line + markdown + table
    assert "another machine" not in everything and "ELF machine" not in everything
    resolve = next(c for c in r["checks"] if c["id"] == "dyn.resolve")
    if os.uname().machine == "x86_64":
        assert "an AArch64 (arm64) file, and / holds x86-64 libraries: give --sysroot" in resolve["message"]


def _lfs(path: Path) -> None:
    path.write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n"
    )


def _html(path: Path) -> None:
    path.write_text("<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n")  # shorter than an ELF header


def _gzip(path: Path) -> None:
    path.write_bytes(gzip.compress(Path(corpus.path("greet.so")).read_bytes()[:4096]))


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.write(corpus.path("greet.so"), "greet.so")


@pytest.mark.parametrize(
    ("make", "what", "fix"),
    [
        (_html, "an HTML page", "fetch the plugin again"),
        (_gzip, "a gzip file", "unpack the plugin from it"),
        (_zip, "a zip archive", "unpack the plugin from it"),
        (_lfs, "a Git LFS pointer", "fetch it with git lfs pull --include='build/my plugin.so'"),
    ],
)
def test_a_file_named_so_that_is_not_elf(
    make: Any, what: str, fix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "build").mkdir()
    make(tmp_path / "build" / "my plugin.so")
    monkeypatch.chdir(tmp_path)
    doc, line, markdown, table = outputs(capsys, "build/my plugin.so")
    (r,) = doc["results"]
    assert what in r["why"] and f": {what}" in line and what in markdown.split("| not-elf |", 1)[1]
    assert f"why: plugin.Open returns an error: dlopen: {what}" in table
    assert "too short" not in r["why"].split("('file too short')")[0]  # said by glibc, not as what the file is
    steps = r["fix"]["steps"]
    assert len(steps) == 1 and fix in steps[0]
    assert "copy it again" not in json.dumps(r["fix"]) + line + markdown + table
    assert what in steps[0]


def test_action_host_input_says_what_an_empty_host_means() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert "(empty - a host built like the plugin, on the target)" in action["inputs"]["host"]["description"]
    assert "each plugin" not in action["inputs"]["host"]["description"]
