"""The pre-commit hook, run by the real ``pre-commit try-repo`` against a
temporary git copy of this project, inside a temporary git repository.
Marked ``slow``: ``pytest -m ""`` (what CI runs) or ``pytest -m slow`` selects it."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LEAK = "import sys\n\nsys.setrecursionlimit(10**6)\n"
CLEAN = "import sys\n\nsys.setrecursionlimit(5000)\n"

pytestmark = [
    # Builds a hook environment (a pip install) and copies the project: about
    # two minutes on two busy cores, so not part of a plain `pytest`.
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("git") is None or importlib.util.find_spec("pre_commit") is None,
        reason="needs git and pre-commit",
    ),
]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "PRE_COMMIT"}
    env.update(
        PRE_COMMIT_HOME=str(home),
        GIT_AUTHOR_NAME="memlint test", GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="memlint test", GIT_COMMITTER_EMAIL="test@example.invalid",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def _git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def _project_files() -> list[str]:
    """The project as a clone would have it, uncommitted edits included."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, check=True, capture_output=True,
        ).stdout
        return [name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]
    except (subprocess.CalledProcessError, OSError):  # not a git checkout: a plain copy
        skip = {".git", "__pycache__", ".venv", "build", "dist", ".pytest_cache", ".hypothesis"}
        return [
            str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
            if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts) and ".egg-info" not in str(p)
        ]


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    base = tmp_path_factory.mktemp("pre-commit")
    env = _env(base / "cache")  # one hook environment for the module's tests
    repo = base / "memlint"
    for name in _project_files():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    _git("init", "-q", cwd=repo, env=env)
    _git("add", "-A", cwd=repo, env=env)
    _git("commit", "-q", "-m", "snapshot", cwd=repo, env=env)
    yield repo, env


def _target(tmp_path: Path, env: dict[str, str], files: dict[str, str]) -> Path:
    target = tmp_path / "target"
    target.mkdir()
    _git("init", "-q", cwd=target, env=env)
    for name, text in files.items():
        (target / name).write_text(text)
    _git("add", *files, cwd=target, env=env)
    return target


def _try_repo(target: Path, repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), "memlint", "--color", "never"],
        cwd=target, env=env, capture_output=True, text=True, timeout=900,
    )


def test_hook_fails_on_a_staged_leak(hook_repo: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    repo, env = hook_repo
    target = _target(tmp_path, env, {"worker.py": LEAK, "README.txt": "not python\n"})
    proc = _try_repo(target, repo, env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "worker.py:3:1: MEM404" in proc.stdout, proc.stdout + proc.stderr


def test_hook_passes_on_clean_code(hook_repo: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    repo, env = hook_repo
    target = _target(tmp_path, env, {"worker.py": CLEAN})
    proc = _try_repo(target, repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def test_hook_respects_tool_memlint(hook_repo: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    repo, env = hook_repo
    pyproject = "[tool.memlint]\nrecursion-limit = 2000000\n"
    target = _target(tmp_path, env, {"worker.py": LEAK, "pyproject.toml": pyproject})
    proc = _try_repo(target, repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Exclusions hold for the files pre-commit names too.
    (target / "pyproject.toml").write_text('[tool.memlint]\nextend-exclude = ["legacy"]\n')
    (target / "legacy").mkdir()
    (target / "legacy" / "old.py").write_text(LEAK)
    (target / "worker.py").write_text(CLEAN)
    _git("add", "-A", cwd=target, env=env)
    proc = _try_repo(target, repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # ...and a config error stops the commit with memlint's one-line message.
    (target / "pyproject.toml").write_text("[tool.memlint]\nrecursion-limit = \"high\"\n")
    _git("add", "pyproject.toml", cwd=target, env=env)  # pre-commit stashes unstaged edits
    proc = _try_repo(target, repo, env)
    assert proc.returncode != 0
    assert "recursion-limit" in proc.stdout and "Traceback" not in proc.stdout
