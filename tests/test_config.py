"""The policy file: --config FILE or [tool.soinspect] found upward; flags override; every bad key or value
is one line naming the file, the key and the value, exit 2; the effective policy is in the JSON output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import corpus
from soinspect.cli import command as cli
from soinspect.cli import config


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = cli.main(["--format", "json", "--quiet", *argv])
    out = capsys.readouterr().out
    doc: dict[str, Any] = json.loads(out) if out else {}
    return code, doc


def run_err(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(["--quiet", *argv])
    return code, capsys.readouterr().err


def test_load_valid_file(tmp_path: Path) -> None:
    f = tmp_path / "soinspect.toml"
    f.write_text(
        'target = "arm64"\nhost = "bin/server"\neach = true\nstrict = true\nignore = ["sym.symtab"]\n'
        'sysroot = "/"\nmax_size = 1000\nformat = "sarif"\nworkers = 0\n'
        '[expect]\nGreet = "func() string"\nV = "*int"\n'
    )
    c = config.load(f)
    assert c.source == str(f)
    assert c.settings == {
        "target": "linux/arm64",
        "host": str(tmp_path / "bin" / "server"),  # relative to the file
        "each": True,
        "strict": True,
        "ignore": ["sym.symtab"],
        "sysroot": "/",
        "max_size": 1000,
        "format": "sarif",
        "workers": 0,
        "expect": ["Greet=func() string", "V=*int"],
    }


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ("strict = 'yes'", "strict", "'yes'"),
        ("each = 1", "each", "1"),
        ('target = "windows/amd64"', "target", "'windows/amd64'"),
        ('ignore = ["elf.nope"]', "ignore", "['elf.nope']"),
        ('ignore = "sym.symtab"', "ignore", "'sym.symtab'"),
        ("max_size = 0", "max_size", "0"),
        ("max_size = true", "max_size", "True"),
        ('format = "xml"', "format", "'xml'"),
        ("workers = -1", "workers", "-1"),
        ('host = ""', "host", "''"),
        ("expect = { Greet = 3 }", "expect", "{'Greet': 3}"),
        ('expect = ["Greet"]', "expect", "['Greet']"),
    ],
)
def test_bad_value_is_one_line_naming_file_key_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, key: str, value: str
) -> None:
    f = tmp_path / "policy.toml"
    f.write_text(line + "\n")
    code, err = run_err(capsys, "--config", str(f), corpus.path("greet.so"))
    assert code == cli.EXIT_ERROR
    assert err.count("\n") == 1
    assert str(f) in err and f"key {key!r}" in err and f"bad value {value}" in err


def test_unknown_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "policy.toml"
    f.write_text("strcit = true\n")
    code, err = run_err(capsys, "--config", str(f), corpus.path("greet.so"))
    assert code == cli.EXIT_ERROR
    assert err.count("\n") == 1
    assert str(f) in err and "unknown key 'strcit' (= True)" in err


def test_not_toml_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "policy.toml"
    f.write_text("strict = \n")
    code, err = run_err(capsys, "--config", str(f), corpus.path("greet.so"))
    assert code == cli.EXIT_ERROR and str(f) in err and "not valid TOML" in err
    code, err = run_err(capsys, "--config", str(tmp_path / "nope.toml"), corpus.path("greet.so"))
    assert code == cli.EXIT_ERROR and "nope.toml" in err and "cannot read" in err


def test_pyproject_found_upward_and_its_policy_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.soinspect]\nstrict = true\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "no-soinspect-table"\n')
    monkeypatch.chdir(deep)
    stripped = corpus.path("greet-stripped.so")
    code, doc = run_json(capsys, stripped)
    assert code == cli.EXIT_REJECTED  # strict: a stripped file is rejected
    assert doc["policy"]["strict"] is True
    assert doc["policy"]["config"] == f"{tmp_path / 'pyproject.toml'} [tool.soinspect]"


def test_pyproject_that_never_names_soinspect_is_passed_over_unparsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discovery reads a pyproject.toml only if it can hold the key: the word, or an escape that could
    spell it. A project's own broken pyproject.toml without either is not soinspect's config (before,
    it failed the run); a table named through an escape is still found."""
    (tmp_path / "pyproject.toml").write_text('[tool."soinspe\\u0063t"]\nstrict = true\n')
    deep = tmp_path / "a"
    deep.mkdir()
    (deep / "pyproject.toml").write_text("[project\nname = \n")  # not TOML, and no soinspect in it
    monkeypatch.chdir(deep)
    code, doc = run_json(capsys, corpus.path("greet-stripped.so"))
    assert code == cli.EXIT_REJECTED and doc["policy"]["strict"] is True
    assert doc["policy"]["config"] == f"{tmp_path / 'pyproject.toml'} [tool.soinspect]"
    (deep / "pyproject.toml").write_text("[tool.soinspect\n")  # names it, and is broken: an error
    code, err = run_err(capsys, corpus.path("greet.so"))
    assert code == cli.EXIT_ERROR and "not valid TOML" in err


def test_flags_override_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "policy.toml"
    f.write_text('target = "linux/arm64"\nignore = ["sym.symtab"]\n')
    code, doc = run_json(capsys, "--config", str(f), corpus.path("greet.so"))
    assert code == cli.EXIT_REJECTED  # an amd64 plugin judged for arm64
    assert doc["policy"]["target"] == "linux/arm64" and doc["policy"]["ignore"] == ["sym.symtab"]
    code, doc = run_json(
        capsys, "--config", str(f), "--target", "linux/amd64", "--ignore", "dyn.needed", corpus.path("greet.so")
    )
    assert code == cli.EXIT_OK
    assert doc["policy"]["target"] == "linux/amd64" and doc["policy"]["ignore"] == ["dyn.needed"]


def test_format_from_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "policy.toml"
    f.write_text('format = "markdown"\n')
    assert cli.main(["--config", str(f), corpus.path("greet.so")]) == cli.EXIT_OK
    assert capsys.readouterr().out.startswith("## soinspect")


def test_host_from_the_file_relative_to_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bin").mkdir()
    host = tmp_path / "bin" / "server"
    shutil.copy(corpus.path("host-1.27.3"), host)
    f = tmp_path / "policy.toml"
    f.write_text('host = "bin/server"\n')
    code, doc = run_json(capsys, "--config", str(f), corpus.path("greet-trimpath.so"))
    assert code == cli.EXIT_REJECTED  # -trimpath plugin, host without: a fingerprint mismatch
    assert doc["policy"]["host"] == str(host)
    assert doc["results"][0]["host"]["path"] == str(host)


def test_expect_table_feeds_the_expect_option(tmp_path: Path) -> None:
    f = tmp_path / "policy.toml"
    f.write_text('[expect]\nGreet = "func() string"\n')
    parser = cli.build_parser()
    args = parser.parse_args(["--config", str(f), "x.so"])
    config.resolve(args, parser, ["--config", str(f), "x.so"])
    assert args.expect == ["Greet=func() string"]
    args = parser.parse_args(["--config", str(f), "--expect", "V=*int", "x.so"])
    config.resolve(args, parser, ["--config", str(f), "--expect", "V=*int", "x.so"])
    assert args.expect == ["V=*int"]


def test_explicit_dests_sees_only_typed_options() -> None:
    parser = cli.build_parser()
    assert config.explicit_dests(parser, ["--strict", "-f", "json", "a.so"]) == {"strict", "format", "paths"}


def test_expect_from_the_file_rejects_a_wrong_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "policy.toml"
    f.write_text('[expect]\nGreet = "func() int"\n')
    code, doc = run_json(capsys, "--config", str(f), corpus.path("greet.so"))
    assert code == cli.EXIT_REJECTED  # the real host would panic: func() string, not func() int
    assert doc["policy"]["expect"] == ["Greet=func() int"]
    f.write_text('[expect]\nGreet = "func() string"\n')
    code, _ = run_json(capsys, "--config", str(f), corpus.path("greet.so"))
    assert code == cli.EXIT_OK


def test_a_missing_host_in_the_file_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not "--host nothere", a flag the user never typed: the file and its key."""
    f = tmp_path / "policy.toml"
    f.write_text('host = "nothere"\n')
    code, err = run_err(capsys, "--config", str(f), corpus.path("greet.so"))
    assert code == cli.EXIT_ERROR
    assert err == f"soinspect: error: {f}: key 'host': {tmp_path / 'nothere'}: no such file\n"
    code, err = run_err(capsys, "--host", str(tmp_path / "gone"), corpus.path("greet.so"))
    assert err == f"soinspect: error: --host {tmp_path / 'gone'}: no such file\n"


def test_a_target_in_the_file_that_disagrees_with_host_is_blamed_on_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = corpus.path("host-1.27.3")
    f = tmp_path / "policy.toml"
    f.write_text('target = "linux/arm64"\n')
    code, err = run_err(capsys, "--config", str(f), "--host", host, corpus.path("greet.so"))
    assert code == cli.EXIT_ERROR
    assert err.startswith(f"soinspect: error: {f}: key 'target' = 'linux/arm64' disagrees with --host {host}, ")
    assert err.endswith(f"remove 'target' from {f}\n") and "--target" not in err
    # the other way round: the host from the file, --target typed
    f.write_text(f'host = "{host}"\n')
    code, err = run_err(capsys, "--config", str(f), "--target", "arm64", corpus.path("greet.so"))
    assert code == cli.EXIT_ERROR
    assert err.startswith(f"soinspect: error: --target linux/arm64 disagrees with host {host} (key 'host' of {f}), ")
    assert err.endswith("drop --target\n")
