"""Benchmark memlint against its peers on one corpus; prints a markdown table.

Usage::

    python bench/bench.py [PATH ...] [--repeat 3] [--jobs 2]
    python bench/bench.py --memory [PATH ...]      # peak RSS, corpus x1 vs x4

``python`` must be an interpreter that can import memlint (its venv). The
peers run under ``--peer-python`` (default: the base interpreter of that
venv), so that flake8 does not also load memlint's own flake8 plugin.

Every tool gets the same explicit list of ``*.py`` files (the corpus walked
here, ``site-packages`` and ``__pycache__`` left out), so discovery rules
and ignore files cannot make one tool check less than another. The tools
run alternately, ``--repeat`` times each; the table gives medians. Peak RSS
is the largest sum of the RSS of the command and all its descendants,
sampled from /proc every 50 ms (multiprocess tools are several processes).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SKIP_DIRS = {"site-packages", "__pycache__", ".git"}
PYLINT_CHECKS = "consider-using-with,method-cache-max-size-none,dangerous-default-value"


@dataclass
class Tool:
    """One command of the benchmark and its measurements."""

    label: str
    argv: list[str]
    cwd: str | None = None
    times: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)  # bytes
    cpu: list[float] = field(default_factory=list)  # user + system seconds, children included
    critical: list[float] = field(default_factory=list)  # CPU of the root process + its busiest descendant
    codes: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


# -- corpus -------------------------------------------------------------------
def default_corpus() -> list[str]:
    return [sysconfig.get_paths()["stdlib"]]


def python_files(roots: list[str]) -> list[str]:
    files: list[str] = []
    for root in roots:
        if os.path.isfile(root):
            files.append(os.path.abspath(root))
            continue
        for directory, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            files.extend(os.path.abspath(os.path.join(directory, n)) for n in sorted(names) if n.endswith(".py"))
    return files


def count_lines(files: list[str]) -> int:
    total = 0
    for path in files:
        with open(path, "rb") as handle:
            total += handle.read().count(b"\n")
    return total


# -- measuring ------------------------------------------------------------------
def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def measure(argv: list[str], cwd: str | None = None, interval: float = 0.05) -> tuple[float, int, int, float, float]:
    """(wall seconds, peak RSS of the process tree in bytes, exit status,
    CPU seconds of the tree, CPU critical path).

    The CPU of the tree is user + system of the command and the children it
    waited for. The critical path is the CPU of the root process plus that
    of its busiest descendant (sampled): the wall time the command would
    take on idle cores. On a shared machine with autogroup scheduling, a
    session gets a fixed share of the CPUs however many processes it runs,
    so wall-clock parallel speed-up is only visible on an idle machine.
    """
    peak = 0
    per_process: dict[int, float] = {}
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            tree = _descendants(process.pid)
            peak = max(peak, sum(_rss(pid) for pid in tree))
            for pid in tree:
                per_process[pid] = max(per_process.get(pid, 0.0), _cpu_seconds(pid))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss (KiB) is exact for the largest single process: a floor when
    # the sampler missed a short peak.
    cpu = usage.ru_utime + usage.ru_stime
    workers = [value for pid, value in per_process.items() if pid != process.pid]
    # The root's own share: the tree's total minus what its children used.
    critical = cpu - sum(workers) + max(workers, default=0.0)
    return elapsed, max(peak, usage.ru_maxrss * 1024), process.returncode, cpu, critical


# -- tools -------------------------------------------------------------------
def peer_python_default() -> str:
    base = Path(sys.base_prefix) / "bin" / "python3"
    return str(base) if base.exists() else sys.executable


def tools(files: list[str], jobs: int, peer: str, cache_dir: str, only: set[str] | None) -> list[Tool]:
    memlint = [sys.executable, "-m", "memlint", "--quiet", "--exit-zero"]
    listed = [
        Tool("memlint cold", [*memlint, "--no-cache", "-j", str(jobs), *files]),
        Tool("memlint warm", [*memlint, "-j", str(jobs), *files], cwd=cache_dir),
        Tool("memlint -j1", [*memlint, "--no-cache", "-j", "1", *files]),
        Tool("flake8 + bugbear", [peer, "-m", "flake8", "--select", "B006,B019", "-j", str(jobs), *files]),
        Tool("pylint", [peer, "-m", "pylint", "--disable=all", f"--enable={PYLINT_CHECKS}", "-j", str(jobs),
                        "--score=n", "--persistent=n", *files]),
        Tool("ruff", [peer, "-m", "ruff", "check", "--select", "SIM115,B006,B019,RUF006", "--no-cache",
                      "--exit-zero", *files]),
    ]
    for tool in listed:
        # A neutral directory: no project config (pyproject.toml, .flake8),
        # and no project on sys.path whose metadata would register plugins.
        tool.cwd = cache_dir
    return [tool for tool in listed if only is None or tool.label.split()[0] in only or tool.label in only]


def version_of(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False, cwd=tempfile.gettempdir()).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return " ".join(out.split())[:120] or "?"


def machine(peer: str, files: list[str], lines: int, jobs: int) -> list[str]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = "?"
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((l.split(":", 1)[1].strip() for l in handle if l.startswith("model name")), "?")
    except OSError:
        pass
    return [
        f"- machine: {cores} cores ({model}), {platform.system()} {platform.release()}, load average at start "
        + " ".join(f"{x:.1f}" for x in os.getloadavg()),
        f"- Python {platform.python_version()} ({sys.executable}); peers under {peer}",
        f"- corpus: {len(files):,} files, {lines:,} lines; --jobs {jobs}",
        "- versions: " + "; ".join([
            version_of([sys.executable, "-m", "memlint", "--version"]),
            "flake8 " + version_of([peer, "-m", "flake8", "--version"]),
            version_of([peer, "-m", "pylint", "--version"]).split(" astroid")[0],
            version_of([peer, "-m", "ruff", "--version"]),
        ]),
        f"- rules enabled by default: {version_of([sys.executable, '-c', _COUNT_RULES])}",
    ]


_COUNT_RULES = "from memlint.registry import all_rules; print(sum(r.default for r in all_rules()))"


def run_benchmark(args: argparse.Namespace, files: list[str]) -> None:
    lines = count_lines(files)
    header = machine(args.peer_python, files, lines, args.jobs)
    with tempfile.TemporaryDirectory(prefix="memlint-bench-") as cache_dir:
        selected = tools(files, args.jobs, args.peer_python, cache_dir, set(args.only) if args.only else None)
        warm = next((t for t in selected if t.label == "memlint warm"), None)
        if warm is not None:
            measure(warm.argv, warm.cwd)  # populate the cache
        once = set(args.once or ())
        for repetition in range(args.repeat):
            for tool in selected:
                if repetition and (tool.label in once or tool.label.split()[0] in once):
                    continue
                elapsed, rss, code, cpu, critical = measure(tool.argv, tool.cwd)
                tool.times.append(elapsed)
                tool.cpu.append(cpu)
                tool.critical.append(critical)
                tool.rss.append(rss)
                tool.codes.append(code)
                print(f"[{repetition + 1}/{args.repeat}] {tool.label}: {elapsed:.2f} s, CPU {cpu:.1f} s "
                      f"(critical path {critical:.1f} s), "
                      f"{rss / 2**20:.0f} MiB, exit {code}", file=sys.stderr, flush=True)
    header.append("- load average at end: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    if once:
        header.append(f"- measured once only (slow, far from its target): {', '.join(sorted(once))}")
    print_table(selected, header, args.repeat)


def print_table(selected: list[Tool], header: list[str], repeat: int) -> None:
    by = {tool.label: tool for tool in selected}
    cold = by.get("memlint cold")
    print("| tool | runs | median time (s) | min-max (s) | x memlint cold | CPU (s) | CPU x memlint cold | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for tool in selected:
        cpu = statistics.median(tool.cpu)
        ratio = f"{tool.median / cold.median:.2f}" if cold else "-"
        cpu_ratio = f"{cpu / statistics.median(cold.cpu):.2f}" if cold else "-"
        print(f"| {tool.label} | {len(tool.times)} | {tool.median:.2f} | {min(tool.times):.2f}-{max(tool.times):.2f} | {ratio} | "
              f"{cpu:.1f} | {cpu_ratio} | {statistics.median(tool.rss) / 2**20:.0f} |")
    print()
    print("\n".join(header))
    print(f"- {repeat} repetitions, tools alternating; medians; peak RSS = process tree, sampled")
    if cold is None:
        return
    def cpu(tool: Tool) -> float:
        return statistics.median(tool.cpu)

    checks = []  # (target, wall-time ratio, CPU-time ratio or None, bound, operator)
    if "flake8 + bugbear" in by:
        peer = by["flake8 + bugbear"]
        checks.append(("cold <= 1.5x flake8+bugbear", cold.median / peer.median, cpu(cold) / cpu(peer), 1.5, "<="))
    if "pylint" in by:
        peer = by["pylint"]
        checks.append(("pylint / cold >= 5", peer.median / cold.median, cpu(peer) / cpu(cold), 5.0, ">="))
    if "memlint warm" in by:
        checks.append(("warm <= 5% of cold", by["memlint warm"].median / cold.median, None, 0.05, "<="))
    if "memlint -j1" in by:
        serial = by["memlint -j1"]
        checks.append(("-j1 / cold >= 1.7", serial.median / cold.median,
                       statistics.median(serial.critical) / statistics.median(cold.critical), 1.7, ">="))
    print()
    for name, value, cpu_value, bound, op in checks:
        met = value <= bound if op == "<=" else value >= bound
        kind = "CPU critical-path ratio" if name.startswith("-j1") else "CPU-time ratio"
        extra = f" ({kind} {cpu_value:.3f})" if cpu_value is not None else ""
        print(f"- target {name}: {value:.3f} -> {'met' if met else 'MISSED'}{extra}")

# -- memory mode ------------------------------------------------------------------
def run_memory(args: argparse.Namespace, roots: list[str]) -> None:
    """Peak RSS of ``memlint --no-cache`` on the corpus once and four times over."""
    files = python_files(roots)
    with tempfile.TemporaryDirectory(prefix="memlint-x4-") as scratch:
        copies: list[str] = []
        for index in range(4):
            # Symlinked roots: the same bytes under four distinct paths,
            # which memlint treats as four distinct files.
            links = {root: os.path.join(scratch, f"copy{index}-{n}") for n, root in enumerate(roots)}
            for root, link in links.items():
                os.symlink(os.path.abspath(root), link)
            for path in files:
                root = next(r for r in roots if path == os.path.abspath(r) or path.startswith(os.path.abspath(r) + os.sep))
                copies.append(links[root] + path[len(os.path.abspath(root)):])
        memlint = [sys.executable, "-m", "memlint", "--quiet", "--exit-zero", "--no-cache", "-j", str(args.jobs)]
        runs = {"x1": Tool("memlint x1", [*memlint, *files]), "x4": Tool("memlint x4", [*memlint, *copies])}
        for repetition in range(args.repeat):
            for tool in runs.values():
                elapsed, rss, code, _, _ = measure(tool.argv, scratch)
                tool.times.append(elapsed)
                tool.rss.append(rss)
                print(f"[{repetition + 1}/{args.repeat}] {tool.label}: {elapsed:.2f} s, {rss / 2**20:.0f} MiB, exit {code}",
                      file=sys.stderr, flush=True)
    print("| corpus | files | median time (s) | peak RSS median (MiB) | peak RSS max (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for name, tool, count in (("x1", runs["x1"], len(files)), ("x4", runs["x4"], len(copies))):
        print(f"| {name} | {count:,} | {tool.median:.2f} | {statistics.median(tool.rss) / 2**20:.0f} | {max(tool.rss) / 2**20:.0f} |")
    growth = statistics.median(runs["x4"].rss) / statistics.median(runs["x1"].rss) - 1
    print(f"\n- peak RSS x4 vs x1: {growth:+.1%} -> {'met' if abs(growth) <= 0.10 else 'MISSED'} (target within 10%)")
    print(f"- {args.repeat} repetitions, alternating; --jobs {args.jobs}; load average now "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="corpus roots (default: this interpreter's standard library)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per tool (default 3)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2)
    parser.add_argument("--peer-python", default=peer_python_default(), help="interpreter with flake8, pylint, ruff")
    parser.add_argument("--only", action="append", help="a tool to run (repeatable): memlint, flake8, pylint, ruff or a full label")
    parser.add_argument("--once", action="append", help="a tool to measure in the first repetition only (repeatable; e.g. pylint)")
    parser.add_argument("--memory", action="store_true", help="measure peak RSS of memlint on the corpus x1 and x4")
    args = parser.parse_args()
    roots = args.paths or default_corpus()
    if args.memory:
        run_memory(args, roots)
        return
    if shutil.which(args.peer_python) is None and not os.path.exists(args.peer_python):
        parser.error(f"no interpreter {args.peer_python}")
    run_benchmark(args, python_files(roots))


if __name__ == "__main__":
    main()
