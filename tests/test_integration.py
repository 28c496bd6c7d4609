"""The pre-commit hooks (.pre-commit-hooks.yaml) and the GitHub Action (action.yml) run for real:
pre-commit try-repo in a temporary git repository, the action's check script as a shell script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT

SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())
PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def project(tmp_path):
    """A transcript repository: a config naming its lexicon, a wrong .md, a clean .txt, a .py."""
    repo = tmp_path / "archive"
    (repo / "docs").mkdir(parents=True)
    (repo / ".ocr-fix.toml").write_text('lexicons = ["names.txt"]\n')
    (repo / "names.txt").write_text("Konoye\tname\n")
    (repo / "docs" / "a.md").write_text("Prince Konoye met Prince Kenoye.\n")
    (repo / "docs" / "b.txt").write_text("The ambassador reported to Tokyo.\n")
    (repo / "notes.py").write_text("print('Kenoye')\n")
    _git(repo, "init", "-q")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "archive")
    return repo


@pytest.fixture
def ocr_fix_on_path(tmp_path):
    """An ``ocr-fix`` on PATH running this tree, logging each call's arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    shim = bin_dir / "ocr-fix"
    shim.write_text(
        f'#!/bin/sh\necho "$*" >> "{log}"\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m ocr_fix "$@"\n'
    )
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    return env, log


def _try_repo(project: Path, hook: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(ROOT), hook, "--all-files", "--color", "never"],
        cwd=project,
        env={
            **env,
            "PRE_COMMIT_HOME": str(project.parent / "pre-commit-home"),
            # try-repo commits uncommitted changes to a shadow repository: an identity for it
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_hook_definitions():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"ocr-fix-check", "ocr-fix-check-system"}
    for h in hooks.values():
        assert h["entry"].startswith("ocr-fix check --scans auto --format compact")
        assert h["require_serial"] is True  # one call, one exit code, no CPU fight
    assert hooks["ocr-fix-check"]["language"] == "python"
    assert hooks["ocr-fix-check-system"]["language"] == "system"


@pytest.mark.slow  # about 10 s: pre-commit and two ocr-fix processes
@pytest.mark.skipif(not Path(PRE_COMMIT).exists(), reason="pre-commit is not installed")
def test_pre_commit_hook_runs_on_a_temporary_repository(project, ocr_fix_on_path):
    env, log = ocr_fix_on_path
    r = _try_repo(project, "ocr-fix-check-system", env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "docs/a.md:1:26: error variant: " in r.stdout
    calls = log.read_text().splitlines()
    assert len(calls) == 1  # every staged transcript in one call
    args = calls[0].split()
    assert {"docs/a.md", "docs/b.txt"} <= set(args) and "notes.py" not in args
    (project / "docs" / "a.md").write_text("Prince Konoye met Prince Konoye.\n")
    r = _try_repo(project, "ocr-fix-check-system", env)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow
@pytest.mark.skipif(not Path(PRE_COMMIT).exists(), reason="pre-commit is not installed")
def test_python_hook_builds_its_environment_when_the_index_is_reachable(project, ocr_fix_on_path):
    env, _ = ocr_fix_on_path
    r = _try_repo(project, "ocr-fix-check", {**env, "PIP_NO_INDEX": "1", "PIP_RETRIES": "0"})
    if r.returncode not in (0, 1) or "error variant" not in r.stdout:
        pytest.skip(
            "the language: python hook installs ocr-fix and its dependencies from the package "
            "index into pre-commit's environment, which cannot be done offline; "
            "ocr-fix-check-system runs the same entry and is tested above"
        )
    assert r.returncode == 1


def _action_env(env: dict[str, str], tmp_path: Path, **inputs: str) -> dict[str, str]:
    out = tmp_path / "github_output"
    out.write_text("")
    return {**env, "GITHUB_OUTPUT": str(out), **inputs}


@pytest.mark.slow  # about 14 s: eight ocr-fix processes
def test_the_action_check_script(project, ocr_fix_on_path, tmp_path):
    env, _ = ocr_fix_on_path
    script = ROOT / "ci" / "action-check.sh"
    run_env = _action_env(env, tmp_path, OCR_FIX_FILES="docs/**/*.md docs/*.txt")
    r = subprocess.run(["bash", str(script)], cwd=project, env=run_env, capture_output=True, text=True)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.startswith("::error file=docs/a.md,line=1,col=26,endColumn=32,title=ocr-fix variant::")
    outputs = dict(line.split("=", 1) for line in (tmp_path / "github_output").read_text().splitlines())
    assert outputs == {"sarif": "ocr-fix.sarif", "exit-code": "1"}
    sarif = json.loads((project / "ocr-fix.sarif").read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    assert {a["location"]["uri"] for a in sarif["runs"][0]["artifacts"]} == {"docs/a.md", "docs/b.txt"}
    # nothing to check: success, and a clean transcript with --fail-on passes too
    for files, code in (("missing/**/*.md", 0), ("docs/b.txt", 0)):
        run_env = _action_env(env, tmp_path, OCR_FIX_FILES=files, OCR_FIX_FAIL_ON="warning")
        r = subprocess.run(["bash", str(script)], cwd=project, env=run_env, capture_output=True, text=True)
        assert r.returncode == code, r.stdout + r.stderr
        assert f"exit-code={code}" in (tmp_path / "github_output").read_text()
    # extra arguments reach ocr-fix; a usage error is passed on
    run_env = _action_env(env, tmp_path, OCR_FIX_FILES="docs/a.md", OCR_FIX_ARGS="--show nonsense")
    r = subprocess.run(["bash", str(script)], cwd=project, env=run_env, capture_output=True, text=True)
    assert r.returncode == 2


def test_action_yml_runs_the_tested_script_with_its_inputs():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = {s["name"]: s for s in action["runs"]["steps"]}
    check = steps["Check transcripts"]
    assert "ci/action-check.sh" in check["run"]
    script = (ROOT / "ci" / "action-check.sh").read_text()
    assert all(name in script for name in check["env"])
    upload = steps["Upload SARIF to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "tesseract-ocr" in steps["Install Tesseract"]["run"]
    assert set(action["inputs"]) >= {"files", "scans", "fail-on", "args", "sarif", "upload-sarif"}
