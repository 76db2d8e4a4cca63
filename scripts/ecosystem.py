"""Ecosystem check: measure memlint's precision on pinned real packages.

Modelled on ruff's ecosystem check and mypy_primer: a pinned list of PyPI
packages (``ecosystem/packages.toml``), each in one of two sets, and a
committed verdict file (``ecosystem/verdicts.tsv``) that says, for each
finding a person has read, whether it is right or wrong.

    python3 scripts/ecosystem.py install            # pip install --no-deps into a cache
    python3 scripts/ecosystem.py run                # memlint on each installed package
    python3 scripts/ecosystem.py report --set test  # precision per rule; new/lost findings
    python3 scripts/ecosystem.py files              # .py files per package and set

The ``test`` set is code the developers have never read: its precision is the
honest number. The ``tuning`` set is code they may read and fix against.
See docs/ecosystem.md. Standard library only, so it runs from a fresh clone.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES_FILE = ROOT / "ecosystem" / "packages.toml"
VERDICTS_FILE = ROOT / "ecosystem" / "verdicts.tsv"
# Third-party code is never written inside the repository: the cache lives in
# the user's home so that nothing installed can be committed by mistake.
DEFAULT_CACHE = Path("~/.cache/memlint-ecosystem")
FINDINGS_NAME = "memlint-findings.json"
SETS = ("tuning", "test")
VERDICTS = ("right", "wrong")
VERDICT_COLUMNS = ("package", "version", "path", "line", "code", "verdict", "reason")

# (package, version, path relative to the install root, line, code): stable
# across memlint versions as long as the finding points at the same line.
Key = tuple[str, str, str, int, str]


class EcosystemError(Exception):
    """A malformed input file: printed as one line, exit status 2."""


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    set: str

    @property
    def slug(self) -> str:
        return f"{self.name}-{self.version}"


@dataclass(frozen=True, slots=True)
class Finding:
    package: str
    version: str
    path: str
    line: int
    code: str
    message: str = ""

    @property
    def key(self) -> Key:
        return (self.package, self.version, self.path, self.line, self.code)


@dataclass(frozen=True, slots=True)
class Verdict:
    package: str
    version: str
    path: str
    line: int
    code: str
    verdict: str
    reason: str

    @property
    def key(self) -> Key:
        return (self.package, self.version, self.path, self.line, self.code)


@dataclass(slots=True)
class Comparison:
    """Findings joined with verdicts, for one selection of packages."""

    judged: list[tuple[Finding, Verdict]] = field(default_factory=list)
    new: list[Finding] = field(default_factory=list)
    lost_right: list[Verdict] = field(default_factory=list)
    lost_wrong: list[Verdict] = field(default_factory=list)


# --- input files -------------------------------------------------------------


def parse_packages(text: str) -> list[Package]:
    """Read ``[sets]`` with one list of ``name==version`` strings per set.

    Pins are exact (``==``) because a verdict is only valid for the code it
    was read in: an unpinned package would silently change under the verdicts.
    """
    data = tomllib.loads(text)
    sets = data.get("sets")
    if not isinstance(sets, dict):
        raise EcosystemError("packages file: missing [sets] table")
    packages: list[Package] = []
    seen: set[str] = set()
    for set_name, specs in sets.items():
        if set_name not in SETS:
            raise EcosystemError(f"packages file: unknown set {set_name!r} (expected one of {SETS})")
        if not isinstance(specs, list):
            raise EcosystemError(f"packages file: set {set_name!r} must be a list")
        for spec in specs:
            name, sep, version = str(spec).partition("==")
            name, version = name.strip(), version.strip()
            if not sep or not name or not version:
                raise EcosystemError(f"packages file: {spec!r} is not pinned as name==version")
            # A package in both sets would make the test-set number meaningless.
            if name.lower() in seen:
                raise EcosystemError(f"packages file: {name} is listed twice")
            seen.add(name.lower())
            packages.append(Package(name, version, set_name))
    return packages


def load_packages(path: Path) -> list[Package]:
    return parse_packages(path.read_text(encoding="utf-8"))


def parse_verdicts(lines: Iterable[str]) -> list[Verdict]:
    """Read the tab-separated verdict file (header line first, ``#`` lines are comments)."""
    rows = [line for line in lines if line.strip() and not line.startswith("#")]
    reader = csv.reader(rows, delimiter="\t", quoting=csv.QUOTE_NONE)
    verdicts: list[Verdict] = []
    seen: set[Key] = set()
    for number, row in enumerate(reader, start=1):
        if number == 1:
            if tuple(row) != VERDICT_COLUMNS:
                raise EcosystemError(f"verdicts: header must be {' '.join(VERDICT_COLUMNS)}")
            continue
        if len(row) != len(VERDICT_COLUMNS):
            raise EcosystemError(f"verdicts row {number}: expected {len(VERDICT_COLUMNS)} columns, got {len(row)}")
        package, version, path, line, code, verdict, reason = row
        if verdict not in VERDICTS:
            raise EcosystemError(f"verdicts row {number}: verdict must be right or wrong, not {verdict!r}")
        if not line.isdigit():
            raise EcosystemError(f"verdicts row {number}: line {line!r} is not a number")
        item = Verdict(package, version, path, int(line), code, verdict, reason)
        # Two verdicts for one finding would be counted twice or contradict.
        if item.key in seen:
            raise EcosystemError(f"verdicts row {number}: duplicate verdict for {path}:{line} {code}")
        seen.add(item.key)
        verdicts.append(item)
    return verdicts


def load_verdicts(path: Path) -> list[Verdict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return parse_verdicts(handle)


def format_verdict(item: Verdict) -> str:
    """One line of the verdict file; tabs and newlines in a reason would break the columns."""
    reason = " ".join(item.reason.split())
    return "\t".join((item.package, item.version, item.path, str(item.line), item.code, item.verdict, reason))


# --- findings ----------------------------------------------------------------


def parse_findings(package: Package, report: dict[str, object]) -> list[Finding]:
    """Turn memlint's JSON report into findings keyed to this package and version."""
    findings = []
    raw = report.get("findings", [])
    assert isinstance(raw, list)
    for item in raw:
        path = str(item["path"]).replace(os.sep, "/")
        findings.append(Finding(package.name, package.version, path, int(item["line"]), str(item["code"]), str(item.get("message", ""))))
    return findings


def findings_path(cache: Path, package: Package) -> Path:
    return cache / package.slug / FINDINGS_NAME


def load_run(cache: Path, package: Package) -> tuple[list[Finding], list[str] | None] | None:
    """The stored findings and the ``--select`` they were made with; None if never run."""
    path = findings_path(cache, package)
    if not path.exists():
        return None
    stored = json.loads(path.read_text(encoding="utf-8"))
    return parse_findings(package, stored["report"]), stored.get("select")


def selected(code: str, select: Sequence[str] | None) -> bool:
    """Whether a run with ``--select select`` could have reported ``code`` (None: defaults)."""
    if select is None:
        return True
    return any(code.startswith(prefix) for prefix in select)


def compare(runs: dict[Package, tuple[list[Finding], list[str] | None]], verdicts: Sequence[Verdict]) -> Comparison:
    """Join findings with verdicts.

    A verdict whose package was not run is neither matched nor lost: an
    uninstalled package must not look like a regression. Likewise a verdict
    for a rule the run did not select.
    """
    by_key = {item.key: item for item in verdicts}
    result = Comparison()
    found: set[Key] = set()
    for findings, _select in runs.values():
        for finding in findings:
            if finding.key in found:  # two reports on one line with one code: one verdict
                continue
            found.add(finding.key)
            verdict = by_key.get(finding.key)
            if verdict is None:
                result.new.append(finding)
            else:
                result.judged.append((finding, verdict))
    run_versions = {(package.name, package.version): select for package, (_f, select) in runs.items()}
    for verdict in verdicts:
        ident = (verdict.package, verdict.version)
        if ident not in run_versions or verdict.key in found:
            continue
        if not selected(verdict.code, run_versions[ident]):
            continue
        (result.lost_right if verdict.verdict == "right" else result.lost_wrong).append(verdict)
    return result


@dataclass(frozen=True, slots=True)
class RuleCount:
    reports: int
    right: int
    wrong: int

    @property
    def precision(self) -> float | None:
        """right / (right + wrong): unread findings are not guessed either way."""
        judged = self.right + self.wrong
        return None if judged == 0 else self.right / judged


def per_rule(findings: Iterable[Finding], judged: Iterable[tuple[Finding, Verdict]]) -> dict[str, RuleCount]:
    """Reports, right and wrong per rule code (plus ``all``)."""
    reports = Counter(item.code for item in {f.key: f for f in findings}.values())
    right: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for finding, verdict in judged:
        (right if verdict.verdict == "right" else wrong)[finding.code] += 1
    counts = {code: RuleCount(reports[code], right[code], wrong[code]) for code in sorted(reports)}
    counts["all"] = RuleCount(sum(reports.values()), sum(right.values()), sum(wrong.values()))
    return counts


def exit_status(comparison: Comparison) -> int:
    """Non-zero only when a finding judged right disappeared: a recall regression.

    Lost wrong findings are progress and new findings are work to read; neither
    should block a change.
    """
    return 1 if comparison.lost_right else 0


# --- install / run / files -----------------------------------------------------


def install(package: Package, cache: Path) -> str:
    """pip install one package without dependencies into its own cache directory."""
    target = cache / package.slug
    if target.exists():
        return f"{package.slug}: present"
    partial = cache / f".{package.slug}.partial"
    # Install to a side directory and rename, so an interrupted install is
    # retried instead of being taken as present; a leftover from such a run is removed first.
    shutil.rmtree(partial, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
               "--disable-pip-version-check", "--target", str(partial), f"{package.name}=={package.version}"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        return f"{package.slug}: install failed: {last}"
    partial.rename(target)
    return f"{package.slug}: installed"


def source_dirs(root: Path) -> list[str]:
    """The package's own top-level modules and packages under its install root.

    Taken from the wheel's RECORD when there is one, so that console-script
    wrappers in ``bin/`` and metadata are not linted; falls back to the
    top-level entries that contain Python code.
    """
    tops: set[str] = set()
    for record in root.glob("*.dist-info/RECORD"):
        with record.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                if row and row[0].endswith(".py") and not row[0].startswith(("..", "/")):
                    tops.add(row[0].split("/")[0])
    if not tops:
        for entry in root.iterdir():
            if entry.name.endswith((".dist-info", ".egg-info")) or entry.name in ("bin", "__pycache__"):
                continue
            if (entry.is_file() and entry.suffix == ".py") or (entry.is_dir() and any(entry.rglob("*.py"))):
                tops.add(entry.name)
    skip = {"bin", "__pycache__"}
    return sorted(top for top in tops if top not in skip and not top.endswith((".dist-info", ".data")) and (root / top).exists())


def count_py_files(root: Path, tops: Sequence[str]) -> int:
    total = 0
    for top in tops:
        path = root / top
        total += 1 if path.is_file() else sum(1 for _ in path.rglob("*.py"))
    return total


def run_memlint(package: Package, cache: Path, memlint: str, select: str | None, jobs: int) -> str:
    """Run memlint on one package and store its JSON report beside the install."""
    root = cache / package.slug
    if not root.is_dir():
        return f"{package.slug}: not installed"
    tops = source_dirs(root)
    if not tops:
        return f"{package.slug}: no Python sources"
    command = shlex.split(memlint) + ["--format", "json", "--no-cache", "--exit-zero", "--jobs", str(jobs)]
    if select:
        command += ["--select", select]
    # Relative paths from the install root make the report's paths the ones
    # the verdict file uses, whatever the cache directory is on this machine.
    done = subprocess.run(command + tops, cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return f"{package.slug}: memlint failed: {last}"
    report = json.loads(done.stdout)
    stored = {"package": package.name, "version": package.version, "memlint": memlint,
              "select": select.split(",") if select else None, "sources": tops, "report": report}
    findings_path(cache, package).write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
    return f"{package.slug}: {len(report.get('findings', []))} findings in {count_py_files(root, tops)} files"


# --- report ---------------------------------------------------------------------


def format_precision(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def precision_table(title: str, counts: dict[str, RuleCount]) -> list[str]:
    lines = [f"## {title}", "", "| rule | reports | right | wrong | unread | precision |", "|---|---|---|---|---|---|"]
    for code, count in counts.items():
        unread = count.reports - count.right - count.wrong
        name = "**all**" if code == "all" else code
        lines.append(f"| {name} | {count.reports} | {count.right} | {count.wrong} | {unread} | {format_precision(count.precision)} |")
    return lines + [""]


def report_lines(packages: Sequence[Package], runs: dict[Package, tuple[list[Finding], list[str] | None]],
                 verdicts: Sequence[Verdict], sets: Sequence[str]) -> tuple[list[str], Comparison]:
    """The printed report for the chosen sets and the comparison it was made from."""
    chosen = {package for package in packages if package.set in sets}
    chosen_runs = {package: run for package, run in runs.items() if package in chosen}
    names = {(package.name, package.version) for package in chosen}
    comparison = compare(chosen_runs, [v for v in verdicts if (v.package, v.version) in names])
    lines: list[str] = []
    missing = sorted(package.slug for package in chosen if package not in runs)
    if missing:
        lines += [f"not run (install and run first): {', '.join(missing)}", ""]
    for set_name in sets:
        in_set = {p for p in chosen_runs if p.set == set_name}
        findings = [f for p in in_set for f in chosen_runs[p][0]]
        judged = [(f, v) for f, v in comparison.judged if any(f.package == p.name for p in in_set)]
        lines += precision_table(f"{set_name} set ({len(in_set)} packages run)", per_rule(findings, judged))
    lines += [f"new, to be read: {len(comparison.new)}"]
    lines += [f"  {f.package}=={f.version} {f.path}:{f.line} {f.code} {f.message}" for f in comparison.new]
    lines += [f"lost right findings (regressions): {len(comparison.lost_right)}"]
    lines += [f"  {v.package}=={v.version} {v.path}:{v.line} {v.code} ({v.reason})" for v in comparison.lost_right]
    lines += [f"lost wrong findings (progress): {len(comparison.lost_wrong)}"]
    lines += [f"  {v.package}=={v.version} {v.path}:{v.line} {v.code} ({v.reason})" for v in comparison.lost_wrong]
    return lines, comparison


def new_verdict_lines(new: Iterable[Finding]) -> list[str]:
    """Template rows for unread findings: fill in verdict and reason, then append to the verdict file."""
    return ["\t".join((f.package, f.version, f.path, str(f.line), f.code, "?", f.message)) for f in new]


# --- command line ----------------------------------------------------------------


def choose(packages: Sequence[Package], set_name: str, only: Sequence[str] | None) -> list[Package]:
    sets = SETS if set_name == "all" else (set_name,)
    chosen = [package for package in packages if package.set in sets]
    if only:
        wanted = {name.lower() for name in only}
        chosen = [package for package in chosen if package.name.lower() in wanted]
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    # Options shared by every subcommand, accepted after it (`report --set test`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--packages-file", type=Path, default=PACKAGES_FILE)
    common.add_argument("--verdicts", type=Path, default=VERDICTS_FILE)
    common.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="install directory (default: %(default)s)")
    common.add_argument("--set", choices=(*SETS, "all"), default="all")
    common.add_argument("--only", action="append", metavar="NAME", help="only this package (repeatable)")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", parents=[common], help="pip install --no-deps each pinned package into the cache")
    run = sub.add_parser("run", parents=[common], help="run memlint on each installed package")
    run.add_argument("--memlint", default="python3 -m memlint", help="memlint command (default: %(default)s)")
    run.add_argument("--select", help="passed to memlint --select (default: the default rules)")
    run.add_argument("--jobs", "-j", type=int, default=2)
    report = sub.add_parser("report", parents=[common], help="precision per rule and set; new and lost findings")
    report.add_argument("--write-new", type=Path, metavar="FILE", help="write unread findings as verdict rows to fill in")
    sub.add_parser("files", parents=[common], help="count .py files per package and set")
    args = parser.parse_args(argv)

    try:
        packages = load_packages(args.packages_file)
        verdicts = load_verdicts(args.verdicts)
    except (EcosystemError, tomllib.TOMLDecodeError, OSError) as error:
        print(f"ecosystem: {error}", file=sys.stderr)
        return 2
    cache = args.cache.expanduser()
    chosen = choose(packages, args.set, args.only)

    if args.command == "install":
        cache.mkdir(parents=True, exist_ok=True)
        for package in chosen:
            print(install(package, cache), flush=True)
        return 0
    if args.command == "run":
        for package in chosen:
            print(run_memlint(package, cache, args.memlint, args.select, args.jobs), flush=True)
        return 0
    if args.command == "files":
        totals: Counter[str] = Counter()
        for package in chosen:
            root = cache / package.slug
            count = count_py_files(root, source_dirs(root)) if root.is_dir() else 0
            totals[package.set] += count
            print(f"{package.set}\t{package.slug}\t{count if root.is_dir() else 'not installed'}")
        for set_name, total in totals.items():
            print(f"{set_name}\ttotal\t{total}")
        return 0
    runs = {package: stored for package in chosen if (stored := load_run(cache, package)) is not None}
    sets = SETS if args.set == "all" else (args.set,)
    lines, comparison = report_lines(chosen, runs, verdicts, sets)
    print("\n".join(lines))
    if args.write_new:
        args.write_new.write_text("\n".join(new_verdict_lines(comparison.new)) + "\n", encoding="utf-8")
    return exit_status(comparison)


if __name__ == "__main__":
    sys.exit(main())
