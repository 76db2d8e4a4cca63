"""Fuzz the engine entry point (``lint_source``) for a bounded time.

Not part of the test suite: ``python scripts/fuzz.py --minutes 10``. Each
target runs in a child process, so a crash that kills the interpreter
(segfault, stack overflow) is reported as such instead of ending the fuzzer.
Findings are minimised by hypothesis and written to ``--out`` (default
``fuzz-findings/``), one file per failure, ready to become regression tests.

Targets:
  grammar   programs generated from CPython's grammar (hypothesmith)
  cst       programs generated from libcst's node types (hypothesmith)
  mutate    real files (``--corpus``) with bytes deleted, duplicated, swapped
  bytes     arbitrary bytes, with and without every rule's trigger words

A failure is: an exception out of ``lint_source``, a MEM002, a MEM001 on a
program CPython compiles that libcst is not blamed for, two runs disagreeing,
or a dead interpreter.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGETS = ("grammar", "cst", "mutate", "bytes")


def _child(target: str, seconds: float, corpus: list[str], out: Path, seed: int) -> dict[str, Any]:
    import hypothesmith
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from memlint.engine import lint_source
    from memlint.registry import all_rules
    from memlint.testing import settings_for

    lint_settings = settings_for(("MEM",))
    triggers = "# " + " ".join(sorted({w for rule in all_rules() for w in rule.triggers})) + "\n"
    stats = {"target": target, "examples": 0, "failures": 0}
    deadline = time.monotonic() + seconds

    def check(source: str | bytes) -> None:
        stats["examples"] += 1
        first = lint_source(source, "fuzz.py", lint_settings)
        second = lint_source(source, "fuzz.py", lint_settings)
        assert first == second, "two runs disagree"
        for d in first:
            assert d.code != "MEM002", d.message
            if d.code == "MEM001" and "libcst cannot parse" not in d.message and isinstance(source, str):
                try:
                    compile(source, "fuzz.py", "exec", ast.PyCF_ONLY_AST)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    continue
                raise AssertionError(f"MEM001 on a file CPython compiles: {d.message}")

    if target == "grammar":
        strategy = hypothesmith.from_grammar().map(lambda program: triggers + program)
    elif target == "cst":
        strategy = hypothesmith.from_node().map(lambda program: triggers + program)
    elif target == "bytes":
        strategy = st.one_of(st.binary(max_size=2000), st.binary(max_size=2000).map(lambda b: triggers.encode() + b))
    else:
        texts = [Path(path).read_bytes() for path in corpus]
        strategy = st.builds(_mutate, st.sampled_from(texts), st.randoms(use_true_random=False))

    def run_once(source: str | bytes) -> None:
        if time.monotonic() > deadline:
            return
        check(source)

    while time.monotonic() < deadline:
        runner = settings(max_examples=25, deadline=None, database=None, derandomize=False,
                          suppress_health_check=list(HealthCheck))(given(strategy)(run_once))
        try:
            runner()
        except Exception as exc:  # noqa: BLE001 - a finding: record it and go on
            stats["failures"] += 1
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{target}-{seed}-{stats['failures']}.txt"
            path.write_text(f"{type(exc).__name__}: {exc}\n", encoding="utf-8", errors="surrogateescape")
            print(f"[{target}] failure recorded in {path}", file=sys.stderr)
    return stats


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """A few byte-level edits of a real file: truncation, deletion, duplication, swaps, odd bytes."""
    buffer = bytearray(data[: rng.randint(0, min(len(data), 20_000))] if rng.random() < 0.2 else data[:20_000])
    for _ in range(rng.randint(1, 6)):
        if not buffer:
            break
        start = rng.randrange(len(buffer))
        end = min(len(buffer), start + rng.randint(1, 40))
        choice = rng.random()
        if choice < 0.3:
            del buffer[start:end]
        elif choice < 0.55:
            buffer[start:start] = buffer[start:end] * rng.randint(1, 30)
        elif choice < 0.75:
            other = rng.randrange(len(buffer))
            buffer[start], buffer[other] = buffer[other], buffer[start]
        else:
            buffer[start:start] = rng.choice([b"(", b"[", b"{", b")", b"\t", b"\x0c", b"\r", b"\\\n", b"\xff", b"'''", b"lambda:", b"async ", b"\0"])
    return bytes(buffer)


def _corpus(roots: list[str], limit: int, seed: int) -> list[str]:
    files = []
    for root in roots:
        for directory, _, names in os.walk(root):
            files.extend(os.path.join(directory, name) for name in names if name.endswith(".py"))
    files.sort()
    random.Random(seed).shuffle(files)
    small = [path for path in files if 0 < os.path.getsize(path) < 60_000]
    return small[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0, help="total time budget, shared by the targets")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated subset of " + ", ".join(TARGETS))
    parser.add_argument("--corpus", action="append", default=None, help="directory of real files for `mutate` (repeatable)")
    parser.add_argument("--out", default="fuzz-findings", help="where failures are written")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpus_roots = args.corpus or [os.path.dirname(ast.__file__)]
    if args.child:
        corpus = _corpus(corpus_roots, 300, args.seed) if args.child == "mutate" else []
        print(json.dumps(_child(args.child, args.seconds, corpus, Path(args.out), args.seed)))
        return 0
    targets = [t for t in args.targets.split(",") if t]
    seconds = args.minutes * 60 / len(targets)
    failed = False
    for target in targets:
        command = [sys.executable, __file__, "--child", target, "--seconds", str(seconds), "--out", args.out,
                   "--seed", str(args.seed), *(f"--corpus={root}" for root in corpus_roots)]
        child = subprocess.run(command, capture_output=True, text=True, timeout=seconds * 3 + 120)
        if child.returncode != 0:
            failed = True
            print(f"{target}: the interpreter died (status {child.returncode})\n{child.stderr[-3000:]}")
            continue
        stats = json.loads(child.stdout.strip().splitlines()[-1])
        failed |= stats["failures"] > 0
        print(f"{target:8} {stats['examples']:>8,} examples  {stats['failures']} failures  ({seconds:.0f} s)")
        if child.stderr.strip():
            print(child.stderr[-3000:])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
