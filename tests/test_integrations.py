"""The CI integrations, run for real where they can run here.

* ``.pre-commit-hooks.yaml``: ``pre-commit try-repo`` on this repository, in a fresh git repository with corpus
  files staged. pre-commit builds its own virtualenv and pip-installs soinspect from the repository (from
  the package index pip is configured with), then runs the hook on the staged ``.so`` files.
* ``action.yml``: its ``run:`` steps, with their ``${{ ... }}`` expressions evaluated as GitHub would for the
  inputs given, executed by bash (``--noprofile --norc -eo pipefail``, GitHub's ``bash`` shell) in a fresh
  virtualenv, with ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` set. The ``uses:`` step (codeql-action's
  upload-sarif) cannot run outside GitHub: the test checks it is wired to the SARIF file and runs when asked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest
import yaml

import corpus

ROOT = Path(__file__).resolve().parent.parent


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def precommit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _try_repo(tmp_path: Path, home: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    for name, source in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, repo / name)
    _git(repo, "add", ".")
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "soinspect", "--verbose"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_pre_commit_hook_passes_a_plugin(tmp_path: Path, precommit_home: Path) -> None:
    proc = _try_repo(
        tmp_path, precommit_home, {"plugins/greet.so": corpus.path("greet.so"), "README.md": corpus.path("not-elf.txt")}
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"soinspect .*Passed", proc.stdout)
    assert "plugins/greet.so: LOADABLE" in proc.stdout  # --verbose shows the hook's output


@pytest.mark.slow
def test_pre_commit_hook_rejects_an_executable_named_so(tmp_path: Path, precommit_home: Path) -> None:
    proc = _try_repo(tmp_path, precommit_home, {"greet.so": corpus.path("greet.so"), "bad.so": corpus.path("go-exe")})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"soinspect .*Failed", proc.stdout)
    assert "bad.so: REJECTED (go-exe)" in proc.stdout
    assert "- exit code: 1" in proc.stdout


# -- action.yml ---------------------------------------------------------------------------------------

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _evaluate(text: str, context: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in context:
            raise AssertionError(f"action.yml uses an expression the test does not model: {key}")
        return context[key]

    return EXPR.sub(sub, text)


def _action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return data


@pytest.fixture(scope="module")
def action_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv (seeing the test environment's packages, so no download is needed for lief)."""
    env_dir = tmp_path_factory.mktemp("action") / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    return env_dir


def _run_action(tmp_path: Path, env_dir: Path, inputs: dict[str, str]) -> tuple[int, dict[str, str], str]:
    action = _action()
    values = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    values.update(inputs)
    outputs_file = tmp_path / "github_output"
    summary = tmp_path / "step_summary"
    outputs_file.write_text("")
    summary.write_text("")
    step_outputs: dict[str, str] = {}
    code = 0
    for step in action["runs"]["steps"]:
        context = {f"inputs.{k}": v for k, v in values.items()}
        context["github.action_path"] = str(ROOT)
        context.update({f"steps.soinspect.outputs.{k}": v for k, v in step_outputs.items()})
        if "uses" in step:
            continue
        env = dict(os.environ)
        env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
        env.update(GITHUB_OUTPUT=str(outputs_file), GITHUB_STEP_SUMMARY=str(summary), VIRTUAL_ENV=str(env_dir))
        env.update({k: _evaluate(str(v), context) for k, v in step.get("env", {}).items()})
        script = tmp_path / "step.sh"
        script.write_text(_evaluate(step["run"], context))
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        code = proc.returncode
        if step.get("id") == "soinspect":
            step_outputs = dict(line.split("=", 1) for line in outputs_file.read_text().splitlines() if "=" in line)
        if code != 0:
            break
    return code, step_outputs, summary.read_text()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "plugins").mkdir()
    for name in ("greet.so", "types.so", "not-elf.txt"):
        shutil.copy(corpus.path(name), tmp_path / "plugins" / name)
    return tmp_path


@pytest.mark.slow
def test_action_passes_with_sarif_and_summary(workspace: Path, action_env: Path) -> None:
    code, outputs, summary = _run_action(workspace, action_env, {"paths": "plugins", "sarif-file": "soinspect.sarif"})
    assert code == 0
    assert outputs == {"exit-code": "0"}
    assert "**2 of 2 file(s) loadable**" in summary
    sarif = json.loads((workspace / "soinspect.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []
    assert (action_env / "bin" / "soinspect").exists()  # the install step installed it into the venv


@pytest.mark.slow
def test_action_fails_the_job_on_a_rejection(workspace: Path, action_env: Path) -> None:
    shutil.copy(corpus.path("greet-trimpath.so"), workspace / "plugins" / "greet-trimpath.so")
    host = corpus.path("host-1.27.3")
    code, outputs, summary = _run_action(
        workspace, action_env, {"paths": "plugins", "host": host, "summary": "true", "args": "--each"}
    )
    assert code == 1 and outputs == {"exit-code": "1"}
    assert "Package fingerprint mismatches" in summary
    assert not (workspace / "soinspect.sarif").exists()


def test_action_uploads_sarif_only_when_asked() -> None:
    steps = _action()["runs"]["steps"]
    upload = [s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert len(upload) == 1
    assert upload[0]["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert "inputs.sarif-file != ''" in upload[0]["if"]
    assert _action()["runs"]["using"] == "composite"
    assert set(_action()["inputs"]) >= {"paths", "host", "format", "sarif-file", "summary"}


def test_pre_commit_manifest_is_valid() -> None:
    from pre_commit.clientlib import load_manifest  # type: ignore[import-untyped]

    hooks = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    (hook,) = hooks
    assert hook["id"] == "soinspect"
    assert hook["types"] == ["file"] and hook["files"] == r"\.so$"
