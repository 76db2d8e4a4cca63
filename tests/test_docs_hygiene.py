"""The user-facing documents hold no path of the machine they were written
on: every command in them must work from a fresh clone."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A temporary file of someone's session, not a file a reader has.
TMP_PATH = re.compile(r"(?<![\w.~-])/tmp/")


def documents() -> list[Path]:
    paths = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [path for path in paths if path.is_file()]


# Standard directories a document may name on its own right (`/usr/bin/env`):
# a checkout or prefix that is one of them is not looked for.
SYSTEM_DIRS = frozenset({"", "/", "/usr", "/usr/local", "/home", "/opt", "/var", "/etc", "/srv", "/mnt", "/tmp", "/bin", "/lib"})


def machine_paths() -> list[str]:
    """Directories that exist only on this machine: the home directory, the
    checkout's parent and the interpreter's prefixes (symlinks resolved too),
    longest first."""
    found: set[str] = set()
    places = [ROOT.parent, Path(sys.prefix), Path(sys.base_prefix)]
    try:
        places.append(Path.home())
    except RuntimeError:  # no HOME and no password entry: nothing to look for
        pass
    for path in places:
        for variant in (path, path.resolve()):
            text = variant.as_posix().rstrip("/")
            if text not in SYSTEM_DIRS:
                found.add(text)
    return sorted(found, key=len, reverse=True)


def offending_lines(path: Path, needles: list[str]) -> Iterator[str]:
    """``file:line: text`` of each line naming one of ``needles`` (as a whole
    path component sequence, so `/work` does not match `/workers`) or `/tmp/`."""
    patterns = [re.compile(rf"(?<![\w.-]){re.escape(needle)}(?![\w.-])") for needle in needles]
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if TMP_PATH.search(line) or any(p.search(line) for p in patterns):
            yield f"{name}:{number}: {line.strip()[:120]}"


def test_documents_exist() -> None:
    assert ROOT / "README.md" in documents() and len(documents()) > 2


def test_documents_hold_no_path_of_this_machine() -> None:
    needles = machine_paths()
    problems = [problem for path in documents() for problem in offending_lines(path, needles)]
    assert not problems, "absolute paths of this machine in the documents (use placeholders):\n" + "\n".join(problems)


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        f"ok: /usr/bin/env, memlint/workers.py, $STDLIB\n"
        f"cd {sys.base_prefix}/lib\n"
        f"see {ROOT.parent.as_posix()}/corpus\n"
        "grep x > /tmp/extra.txt\n"
    )
    assert [line.split(": ")[0] for line in offending_lines(doc, machine_paths())] == [
        f"{doc}:2", f"{doc}:3", f"{doc}:4",
    ]
