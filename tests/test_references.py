"""Every file a comment or document names is in the repository, and nothing cites notes outside it.

Scans the text files git knows of (tracked, or new and not ignored) for two kinds of reference:

* a repo-relative path such as ``docs/<name>.md`` or ``tests/<name>.py``: a path that starts with
  one of the repository's top-level folders, not preceded by ``/``, ``.``, a word character or
  ``:`` (so URLs, absolute paths and paths inside other projects, e.g. ``jax/_src/api.py``, are
  not taken for ours) and ending in a file extension; it must name a file of the repository;
* a bare upper-case Markdown name such as ``RESULTS.md``: some file of the repository must have
  that name (these are cited relative to the citing file's folder).

Generated outputs live under git-ignored folders (``artifacts/``, ``out/``), which are not
top-level folders of the repository, so their paths are not checked.

It also fails on citations of material that is not part of the repository: the project's
private notes and seed files, and citations of issues (name the public source or a docs/ section).
This file passes its own scan: its examples of bad references are written in pieces.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".py", ".md", ".js", ".toml", ".txt", ".sh"}
EXTENSIONS = "py|md|js|toml|txt|sh|css|html|json|ya?ml|cfg"

# Written in pieces so that this file does not match itself.
FORBIDDEN = {
    "a path into the private notes folder": re.compile(r"\.\./" + "shared|/work/" + "shared"),
    "the private equations notes": re.compile("OPTIMIZER_" + "EQUATIONS"),
    "the private engineering notes": re.compile("ENGINEERING_" + "NOTES"),
    "a private seed file": re.compile(r"\bseed" + r"s?/|\bseed 0\d\d\b", re.IGNORECASE),
    "a citation of an issue": re.compile(r"\bthe " + r"issue\b", re.IGNORECASE),
}


def _repository_files() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the file list is unknown", allow_module_level=True)
    return sorted(f for f in listed if (ROOT / f).is_file())


FILES = _repository_files()
FILE_SET = set(FILES)
BASENAMES = {f.rsplit("/", 1)[-1] for f in FILES}
FOLDERS = sorted({f.split("/", 1)[0] for f in FILES if "/" in f} | {"docs"})
NOT_INSIDE_A_LONGER_PATH = r"(?<![\w/.~:@-])"
TOP_FOLDER = "(?:" + "|".join(map(re.escape, FOLDERS)) + ")"
PATH = re.compile(NOT_INSIDE_A_LONGER_PATH + TOP_FOLDER + rf"/[\w./-]*\w\.(?:{EXTENSIONS})\b")
BARE_MARKDOWN = re.compile(NOT_INSIDE_A_LONGER_PATH + r"[A-Z][A-Z0-9_]*\.md\b")


def _text_files() -> list[str]:
    return [f for f in FILES if Path(f).suffix in TEXT_SUFFIXES]


def _lines():
    for name in _text_files():
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            yield name, number, line


def test_the_scan_sees_the_repository():
    """Guards against a scan that passes because it reads nothing."""
    names = _text_files()
    assert "README.md" in names and "tests/test_references.py" in names
    assert any(n.startswith("app/") for n in names)
    assert "docs/optimizer-equations.md" in FILE_SET


def broken_references(line: str) -> list[str]:
    """The repository paths and Markdown names in ``line`` that name no file of the repository."""
    broken = [m.group(0) for m in PATH.finditer(line) if m.group(0) not in FILE_SET]
    return broken + [
        m.group(0) for m in BARE_MARKDOWN.finditer(line) if m.group(0) not in BASENAMES
    ]


def test_every_named_file_exists():
    missing = [
        f"{name}:{number}: {reference}"
        for name, number, line in _lines()
        for reference in broken_references(line)
    ]
    assert not missing, "references to files not in the repository:\n" + "\n".join(missing)


def test_nothing_cites_material_outside_the_repository():
    found = [
        f"{name}:{number}: {what}: {line.strip()[:100]}"
        for name, number, line in _lines()
        for what, pattern in FORBIDDEN.items()
        if pattern.search(line)
    ]
    assert not found, "cite a public source or a docs/ section instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ("see docs/" + "no-such-page.md, Adam family", True),
        ("checked by tests/" + "test_nothing_here.py", True),
        ("the reports (`NO_SUCH_" + "RESULTS.md`)", True),
        ("see docs/optimizer-equations.md, WAME", False),
        ("https://www.sfu.ca/~ssurjano/rosen.html", False),
        ("device_get (jax/_src/api.py:2277)", False),
        ("a screenshot in artifacts/screenshots/app_x.png", False),
        ("--out /no/such/folder/r.csv", False),
    ],
)
def test_the_patterns_flag_only_missing_repository_files(line, flagged):
    """The scan's own patterns, on lines with and without a broken reference."""
    assert bool(broken_references(line)) == flagged


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ("defaults of seed " + "000", True),
        ("as the " + "issue asks", True),
        ("see ../" + "shared/notes", True),
        ("np.random.RandomState(0): seed 0 of the ensemble", False),
        ("plotly.js issue #4491", False),
    ],
)
def test_the_forbidden_patterns(line, flagged):
    assert any(p.search(line) for p in FORBIDDEN.values()) == flagged
