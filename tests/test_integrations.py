"""The CI integrations, run for real where they can run here.

* ``.pre-commit-hooks.yaml``: ``pre-commit try-repo`` on this repository, in a fresh git repository with corpus
  files staged. pre-commit builds its own virtualenv and pip-installs soinspect from the repository (from
  the package index pip is configured with), then runs the hook on the staged ``.so`` files.
* ``action.yml``: its ``run:`` steps, with their ``${{ ... }}`` expressions evaluated as GitHub would for the
  inputs given, executed by bash (``--noprofile --norc -eo pipefail``, GitHub's ``bash`` shell) with
  ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY`` and ``runner.temp`` set. The ``uses:`` steps cannot run outside
  GitHub: setup-python's output is modelled (a plain interpreter; the action makes its own virtualenv
  from it and pip-installs soinspect there), and codeql-action's upload-sarif is checked to be wired to the
  SARIF file and to run when asked.

Both run with hostile extension modules in their working directory (``tests/hostile.py``), which must
never be imported.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hostile
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
    hostile.build(repo)  # unstaged, in the hook's working directory: never imported (tests/hostile.py)
    env = dict(hostile.env(tmp_path / "hostile-ran"), PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    return subprocess.run(
        [sys.executable, "-P", "-m", "pre_commit", "try-repo", str(ROOT), "soinspect", "--verbose"],
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
    assert not (tmp_path / "hostile-ran").exists()


@pytest.mark.slow
def test_pre_commit_hook_rejects_an_executable_named_so(tmp_path: Path, precommit_home: Path) -> None:
    proc = _try_repo(tmp_path, precommit_home, {"greet.so": corpus.path("greet.so"), "bad.so": corpus.path("go-exe")})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"soinspect .*Failed", proc.stdout)
    assert "bad.so: REJECTED (go-exe)" in proc.stdout
    assert "- exit code: 1" in proc.stdout
    assert not (tmp_path / "hostile-ran").exists()


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
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``runner.temp`` of one job: the action installs soinspect into a virtualenv there, once per job."""
    return tmp_path_factory.mktemp("runner-temp")


#: what the ``uses:`` steps give, as GitHub would: setup-python's ``python-path`` is a plain interpreter
#: (the one this test environment was made from), not the job's Python with its packages
USES_OUTPUTS = {"actions/setup-python": {"python-path": getattr(sys, "_base_executable", sys.executable)}}


def _run_action(tmp_path: Path, runner_temp: Path, inputs: dict[str, str]) -> tuple[int, dict[str, str], str, str]:
    """Run the action's steps in *tmp_path* (the workspace); the exit code, the soinspect step's outputs,
    the step summary and the log."""
    action = _action()
    values = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    values.update(inputs)
    outputs_file = tmp_path / "github_output"
    summary = tmp_path / "step_summary"
    summary.write_text("")
    outputs: dict[str, dict[str, str]] = {}
    code, log = 0, ""
    for step in action["runs"]["steps"]:
        context = {f"inputs.{k}": v for k, v in values.items()}
        context["github.action_path"] = str(ROOT)
        context["runner.temp"] = str(runner_temp)
        for sid, outs in outputs.items():
            context.update({f"steps.{sid}.outputs.{k}": v for k, v in outs.items()})
        if "uses" in step:
            name = str(step["uses"]).split("@", 1)[0]
            if "id" in step:
                outputs[step["id"]] = USES_OUTPUTS[name]
            continue
        outputs_file.write_text("")
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        env.update(GITHUB_OUTPUT=str(outputs_file), GITHUB_STEP_SUMMARY=str(summary))
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
        log += proc.stdout + proc.stderr
        if "id" in step:
            lines = outputs_file.read_text().splitlines()
            outputs[step["id"]] = dict(line.split("=", 1) for line in lines if "=" in line)
        if code != 0:
            break
    return code, outputs.get("soinspect", {}), summary.read_text(), log


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout with plugins, and hostile extension modules at its root, the action's working directory
    (tests/hostile.py): the action must never import them."""
    (tmp_path / "plugins").mkdir()
    for name in ("greet.so", "types.so", "not-elf.txt"):
        shutil.copy(corpus.path(name), tmp_path / "plugins" / name)
    hostile.build(tmp_path)
    monkeypatch.setenv("SOINSPECT_HOSTILE_MARKER", str(tmp_path / "hostile-ran"))
    monkeypatch.delenv("PYTHONSAFEPATH", raising=False)
    return tmp_path


@pytest.mark.slow
def test_action_passes_with_sarif_and_summary(workspace: Path, runner_temp: Path) -> None:
    code, outputs, summary, log = _run_action(
        workspace, runner_temp, {"paths": "plugins", "sarif-file": "soinspect.sarif"}
    )
    assert code == 0, log
    assert outputs == {"exit-code": "0"}
    assert "**2 of 2 file(s) loadable**" in summary
    sarif = json.loads((workspace / "soinspect.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []
    assert (runner_temp / "soinspect-venv" / "bin" / "soinspect").exists()  # its own virtualenv
    assert not (workspace / "hostile-ran").exists()


@pytest.mark.slow
def test_action_expands_globs_and_fails_the_job_on_a_rejection(workspace: Path, runner_temp: Path) -> None:
    shutil.copy(corpus.path("greet-trimpath.so"), workspace / "plugins" / "greet-trimpath.so")
    host = corpus.path("host-1.27.3")
    code, outputs, summary, log = _run_action(
        workspace,
        runner_temp,
        {"paths": "plugins/*.so", "host": host, "summary": "true", "args": "--each", "sarif-file": "out.sarif"},
    )
    assert code == 1 and outputs == {"exit-code": "1"}, log
    assert "Package fingerprint mismatches" in summary
    assert "**2 of 3 file(s) loadable**" in summary  # the glob gave the three *.so files, not not-elf.txt
    results = json.loads((workspace / "out.sarif").read_text())["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"host.pkghash"}
    assert not (workspace / "hostile-ran").exists()


@pytest.mark.slow
def test_action_glob_that_matches_nothing_fails(workspace: Path, runner_temp: Path) -> None:
    code, outputs, summary, log = _run_action(workspace, runner_temp, {"paths": "build/*.so"})
    assert code == 2 and outputs == {"exit-code": "2"}
    assert "build/*.so: no such file" in log
    assert "**1 path(s) could not be judged**" in summary


def test_action_runs_soinspect_once() -> None:
    """The log, the SARIF file and the step summary come from one run (--output), not three."""
    (step,) = [s for s in _action()["runs"]["steps"] if s.get("id") == "soinspect"]
    calls = [line for line in step["run"].splitlines() if line.strip().startswith('"$SOINSPECT"')]
    assert len(calls) == 1 and '"${outs[@]}"' in calls[0]


def test_action_sets_up_its_own_python() -> None:
    steps = _action()["runs"]["steps"]
    setup = [s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert len(setup) == 1 and setup[0]["with"]["update-environment"] is False
    install = next(s for s in steps if s.get("id") == "install")
    assert '"$PYTHON" -P -m venv "$VENV"' in install["run"]


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


def test_pre_commit_docs_pair_host_with_each() -> None:
    """Staged files are not a set one host loads together: every documented hook use with --host has --each."""
    docs = (ROOT / "docs" / "ci.md").read_text() + (ROOT / ".pre-commit-hooks.yaml").read_text()
    arg_lists = re.findall(r"args: (\[.*?\])", docs)
    with_host = [a for a in arg_lists if "--host" in a]
    assert with_host and all("--each" in a for a in with_host), with_host


def test_two_builds_of_one_plugin_staged_together() -> None:
    """Why: as one set, the second build of a plugin path gets 'plugin already loaded' (seen in
    corpus/observed.json); the hook's --each judges each alone, and both load (also seen)."""
    from soinspect.cli import command as cli

    seen = next(r for r in corpus.observed() if r["plugins"] == ["pluginA-1.so", "pluginA-2.so"])
    assert seen["results"][1]["open_error"].endswith("plugin already loaded")
    host = corpus.path("host-1.27.3")
    staged = [corpus.path("pluginA-1.so"), corpus.path("pluginA-2.so")]
    assert cli.main(["--quiet", "--host", host, *staged]) == cli.EXIT_REJECTED
    assert cli.main(["--quiet", "--host", host, "--each", *staged]) == cli.EXIT_OK


# -- action.yml: the run step's own script, with the inputs as a workflow gives them ---------------------


def _run_step(workspace: Path, workflow_with: str) -> tuple[int, dict[str, Any], str]:
    """Run the action's ``soinspect`` step: its ``run:`` script, taken from action.yml, with its ``env:``
    evaluated for the inputs that the workflow's ``with:`` block (YAML text, parsed as GitHub parses it:
    a ``|`` block keeps its newlines and its final one) gives, and each input also as ``INPUT_<NAME>``.
    ``steps.install.outputs.soinspect`` is this environment's soinspect. The step's exit-code output,
    the JSON document on stdout (the ``format`` input is json) and stderr."""
    action = _action()
    values = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    given = yaml.safe_load(workflow_with)["with"]
    values.update({k: str(v) for k, v in given.items()})
    values["format"] = "json"
    values["summary"] = "false"
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "soinspect"]
    context = {f"inputs.{k}": v for k, v in values.items()}
    context["runner.temp"] = str(workspace / ".runner-temp")
    context["steps.install.outputs.soinspect"] = str(Path(sys.executable).parent / "soinspect")
    outputs_file = workspace / ".github_output"
    outputs_file.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "SOINSPECT"))}
    env.update({f"INPUT_{k.upper()}": v for k, v in values.items()})
    env.update({k: _evaluate(str(v), context) for k, v in step.get("env", {}).items()})
    env["GITHUB_OUTPUT"] = str(outputs_file)
    script = workspace / ".step.sh"
    script.write_text(step["run"])
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr  # the step itself succeeds; the verdict is its exit-code output
    (line,) = outputs_file.read_text().splitlines()
    assert line.startswith("exit-code="), line
    return int(line.split("=", 1)[1]), json.loads(proc.stdout) if proc.stdout else {}, proc.stderr


@pytest.fixture
def build_dir(tmp_path: Path) -> Path:
    (tmp_path / "build" / "sub").mkdir(parents=True)
    for name in ("a.so", "b.so", "sub/c.so", "my plugin.so"):
        shutil.copy(corpus.path("greet.so"), tmp_path / "build" / name)
    return tmp_path


def _judged(doc: dict[str, Any]) -> list[str]:
    return [r["path"] for r in doc["results"]]


def _missing(doc: dict[str, Any]) -> list[str]:
    return [e["path"] for e in doc["errors"] if e["kind"] == "missing"]


def test_action_judges_every_line_of_a_block(build_dir: Path) -> None:
    """The issue's case: a ``paths: |`` block, one path per line; the old step judged the first line only."""
    code, doc, _ = _run_step(build_dir, "with:\n  paths: |\n    build/a.so\n    build/b.so\n")
    assert code == 0 and _judged(doc) == ["build/a.so", "build/b.so"]


def test_action_one_line_list_and_globs(build_dir: Path) -> None:
    code, doc, _ = _run_step(build_dir, "with:\n  paths: build/b.so build/sub/*.so\n")
    assert code == 0 and _judged(doc) == ["build/b.so", "build/sub/c.so"]
    code, doc, _ = _run_step(build_dir, "with:\n  paths: |\n    build/*.so\n    build/**/c.so\n")
    assert code == 0 and _judged(doc) == ["build/a.so", "build/b.so", "build/my plugin.so", "build/sub/c.so"]


def test_action_path_with_a_blank_on_its_own_line(build_dir: Path) -> None:
    code, doc, _ = _run_step(build_dir, "with:\n  paths: |\n    build/my plugin.so\n    build/a.so\n")
    assert code == 0 and _judged(doc) == ["build/my plugin.so", "build/a.so"]


def test_action_missing_entries_fail_the_run(build_dir: Path) -> None:
    """A missing line (block), a missing word beside an existing one, a glob that matches nothing: each is
    reported missing and the run exits 2, while the others are still judged."""
    code, doc, _ = _run_step(
        build_dir, "with:\n  paths: |\n    build/a.so\n    build/gone.so\n    build/b.so dist/*.so\n"
    )
    assert code == 2
    assert _judged(doc) == ["build/a.so", "build/b.so"]
    assert _missing(doc) == ["build/gone.so", "dist/*.so"]
    code, doc, _ = _run_step(build_dir, "with:\n  paths: |\n    build/a.so\n    build/not here.so\n")
    assert code == 2 and _missing(doc) == ["build/not here.so"]  # the line, whole: it names nothing


def test_action_ignores_empty_lines(build_dir: Path) -> None:
    code, doc, _ = _run_step(build_dir, 'with:\n  paths: "\\n  build/a.so  \\n\\n\\t\\nbuild/b.so\\r\\n"\n')
    assert code == 0 and _judged(doc) == ["build/a.so", "build/b.so"]


def test_action_args_one_per_line_or_on_one_line(build_dir: Path) -> None:
    """``args`` as a block, as words, and with a quoted word that holds blanks."""
    block = "with:\n  paths: build/a.so\n  args: |\n    --strict\n    --ignore\n    sym.symtab\n"
    code, doc, _ = _run_step(build_dir, block)
    assert code == 0 and doc["policy"]["strict"] is True and doc["policy"]["ignore"] == ["sym.symtab"]
    _, doc, _ = _run_step(build_dir, "with:\n  paths: build/a.so\n  args: --strict --expect 'Greet=func() string'\n")
    assert doc["policy"]["expect"] == ["Greet=func() string"]
    code, _, err = _run_step(build_dir, "with:\n  paths: build/a.so\n  args: --expect 'Greet=func\n")
    assert code == 2 and "unmatched quote" in err
