"""The machine a benchmark ran on, and the Markdown table, for the reports of the benchmarks."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _first(path: str, prefix: str) -> str | None:
    try:
        with open(path) as f:
            return next((line for line in f if line.startswith(prefix)), None)
    except OSError:
        return None


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def describe(packages: Iterable[str]) -> dict[str, str]:
    """CPU, cores, memory, OS, Python and the versions of ``packages``."""
    model = _first("/proc/cpuinfo", "model name")
    mem = _first("/proc/meminfo", "MemTotal")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": model.split(":", 1)[1].strip() if model else "unknown",
        "cores": f"{os.cpu_count()} logical ({usable} usable by this process)",
        "RAM": f"{int(mem.split()[1]) / 2**20:.1f} GiB" if mem else "unknown",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        **{p: version(p) for p in packages},
    }


def git_revision(*paths: str, repo: Path = ROOT) -> str:
    """``git <short hash>`` of ``repo``, noting uncommitted changes (to tracked files under
    ``paths``)."""
    try:

        def git(*args: str) -> str:
            return subprocess.run(
                ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10
            ).stdout.strip()

        rev = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", *paths)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    where = f" in {', '.join(p + '/' for p in paths)}" if paths else ""
    return f"git {rev}" + (f" (with uncommitted changes{where})" if dirty else "")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages."""
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def table(head: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    """A Markdown table, as every report writes its figures."""
    head = list(head)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
