"""The result cache: hits, misses on every key part, damaged entries, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from memlint.cache import CACHE_DIR, ResultCache
from memlint.config import Config
from memlint.diagnostic import Diagnostic, Family
from memlint.diagnostic import FileResult
from memlint.runner import Selection, run

LEAKY = "import sys\nsys.setrecursionlimit(10**9)\n"
CLEAN = "def f():\n    return 1\n"
CODES = frozenset({"MEM001", "MEM002", "MEM404"})


def _finding(path: str, line: int = 2) -> Diagnostic:
    return Diagnostic(path, line, 1, "MEM404", "message", line, 9, "raised-recursion-limit", Family.OOM)


def _entries(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR / "entries").rglob("*.json"))


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    path = tmp_path / "app.py"
    path.write_text(LEAKY)
    return path


def test_hit_returns_what_was_stored(tmp_path: Path, source: Path) -> None:
    cache = ResultCache(tmp_path, {"strict": False}, fingerprint="build")
    data = source.read_bytes()
    assert cache.load(str(source), CODES, data) is None
    cache.store(str(source), CODES, data, [_finding(str(source))])
    assert cache.load(str(source), CODES, data) == (_finding(str(source)),)
    assert (tmp_path / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"


@pytest.mark.parametrize("change", ["content", "codes", "options", "version", "path"])
def test_miss_when_any_key_part_changes(tmp_path: Path, source: Path, change: str) -> None:
    data = source.read_bytes()
    ResultCache(tmp_path, {"strict": False}, fingerprint="build").store(str(source), CODES, data, [])
    options, fingerprint, codes, path = {"strict": False}, "build", CODES, str(source)
    if change == "content":
        data += b"# edited\n"
    elif change == "codes":
        codes = frozenset({"MEM001", "MEM404"})
    elif change == "options":
        options = {"strict": True}
    elif change == "version":
        fingerprint = "next-build"
    else:
        path = str(tmp_path / "copy.py")
    assert ResultCache(tmp_path, options, fingerprint=fingerprint).load(path, codes, data) is None


@pytest.mark.parametrize("damage", [
    b"",
    b"{\"format\": \"memlint-cache-1\", \"dia",
    b"\x00\xff garbage",
    b"[1, 2, 3]",
    b"{\"format\": \"other-tool\"}",
])
def test_damaged_entry_is_a_miss_and_is_rewritten(tmp_path: Path, source: Path, damage: bytes) -> None:
    cache = ResultCache(tmp_path, {}, fingerprint="build")
    data = source.read_bytes()
    cache.store(str(source), CODES, data, [_finding(str(source))])
    (entry,) = _entries(tmp_path)
    entry.write_bytes(damage)
    assert cache.load(str(source), CODES, data) is None
    cache.store(str(source), CODES, data, [_finding(str(source))])
    assert cache.load(str(source), CODES, data) == (_finding(str(source)),)


def test_entry_with_wrong_field_types_is_a_miss(tmp_path: Path, source: Path) -> None:
    cache = ResultCache(tmp_path, {}, fingerprint="build")
    data = source.read_bytes()
    cache.store(str(source), CODES, data, [_finding(str(source))])
    (entry,) = _entries(tmp_path)
    content = json.loads(entry.read_text())
    content["diagnostics"][0][0] = "2"  # a line number as a string
    entry.write_text(json.dumps(content))
    assert cache.load(str(source), CODES, data) is None
    content["diagnostics"][0][0] = 2
    content["diagnostics"][0][7] = "no-such-family"
    entry.write_text(json.dumps(content))
    assert cache.load(str(source), CODES, data) is None


def test_internal_errors_are_not_cached(tmp_path: Path, source: Path) -> None:
    cache = ResultCache(tmp_path, {}, fingerprint="build")
    crash = Diagnostic(str(source), 1, 1, "MEM002", "internal error", 1, 1, "internal-error", Family.RUN)
    cache.store(str(source), CODES, source.read_bytes(), [crash])
    assert _entries(tmp_path) == []


def test_unwritable_cache_is_silent(tmp_path: Path, source: Path) -> None:
    (tmp_path / CACHE_DIR).write_text("a file where the directory should be")
    cache = ResultCache(tmp_path, {}, fingerprint="build")
    cache.store(str(source), CODES, source.read_bytes(), [])
    assert cache.load(str(source), CODES, source.read_bytes()) is None


def _hammer(args: tuple[str, str, int]) -> None:
    root, path, seed = args
    cache = ResultCache(Path(root), {}, fingerprint="build")
    data = Path(path).read_bytes()
    for index in range(200):
        cache.store(path, CODES, data, [_finding(path, line=1 + (seed + index) % 5)])
        found = cache.load(path, CODES, data)
        assert found is None or len(found) == 1  # never a torn entry


def test_concurrent_writers_never_corrupt(tmp_path: Path, source: Path) -> None:
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with context.Pool(2) as pool:
        pool.map(_hammer, [(str(tmp_path), str(source), seed) for seed in range(4)])
    data = source.read_bytes()
    (found,) = ResultCache(tmp_path, {}, fingerprint="build").load(str(source), CODES, data) or ()
    assert found.code == "MEM404"
    leftovers = [p for p in (tmp_path / CACHE_DIR).rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []


def _run(paths: list[str], root: Path, cache: ResultCache | None) -> list[FileResult]:
    selection = Selection(Config(root=root, select=["MEM404"]))
    return list(run(paths, selection, jobs=1, cache=cache))


def test_runner_answers_hits_from_the_cache_in_input_order(tmp_path: Path) -> None:
    paths = []
    for index in range(6):
        path = tmp_path / f"m{index}.py"
        path.write_text(LEAKY if index % 2 else CLEAN)
        paths.append(str(path))
    cold = _run(paths, tmp_path, ResultCache(tmp_path, {}, fingerprint="build"))
    assert len(_entries(tmp_path)) == 6
    Path(paths[2]).write_text(LEAKY)  # one file changes: one miss among hits
    warm = _run(paths, tmp_path, ResultCache(tmp_path, {}, fingerprint="build"))
    assert [r.path for r in warm] == paths
    assert [len(r.diagnostics) for r in cold] == [0, 1, 0, 1, 0, 1]
    assert [len(r.diagnostics) for r in warm] == [0, 1, 1, 1, 0, 1]
    assert warm == _run(paths, tmp_path, None)


def test_warm_cli_run_does_not_load_the_engine(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(LEAKY)
    probe = (
        "import sys\nfrom memlint.cli import main\ncode = main(sys.argv[1:])\n"
        "print('memlint.engine' in sys.modules)\nsys.exit(code)\n"
    )
    command = [sys.executable, "-c", probe, "-q", "-j1", "app.py"]
    env = {**os.environ, "NO_COLOR": "1"}
    cold = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env, check=False)
    warm = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env, check=False)
    assert cold.returncode == warm.returncode == 1
    assert cold.stdout.splitlines()[-1] == "True"
    assert warm.stdout.splitlines()[:-1] == cold.stdout.splitlines()[:-1]
    assert warm.stdout.splitlines()[-1] == "False", "a warm run imported the engine"
