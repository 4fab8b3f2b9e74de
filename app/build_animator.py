"""The animator's component files: the two files Streamlit serves from the manifest's asset_dir.

    python -m app.build_animator [--check] [DIR]     (DIR: optviz/assets beside app/)

A Streamlit v2 component can take its script and stylesheet as files (served under
``/_stcore/bidi-components/<name>/...``, cached by the browser) rather than as strings sent
in every rerun, but only one JavaScript file, inside the ``asset_dir`` that an installed
distribution declares (pyproject.toml, ``[tool.streamlit.component]``). The animator's script
is written in modules (``app/animator/*.js``, joined in the order of
:data:`app.animator.SCRIPT_MODULES`), so this writes the joined script and the stylesheet
into that folder: ``animator.js`` and ``animator.css``.

Who writes them: the wheel build (``setup.py``), so an installed package carries current
files even where site-packages is read-only; and :func:`served_from_files`, when the server
first mounts the animator from a source checkout (an editable install), so an edited module
is served after a restart without a rebuild. They are never committed: a generated copy of
modules that several people edit would be stale after every merge. Where the files Streamlit
would serve differ from this code's script and cannot be rewritten (another installed copy
of the app), the animator sends its script inline as before: never a stale script.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

# The folder the manifest declares (asset_dir "assets", relative to the optviz package: the
# importable package named after the distribution, where Streamlit's scanner looks).
ASSET_DIR = Path(__file__).resolve().parents[1] / "optviz" / "assets"
JS = "animator.js"
CSS = "animator.css"

_LOG = logging.getLogger(__name__)


def contents() -> dict[str, str]:
    """The files' text, from this checkout's modules."""
    from app import animator

    js, css = animator._assets()  # the text the inline mount and the offline page use
    return {JS: js, CSS: css}


def stale(directory: Path) -> list[str]:
    """The names of the files in ``directory`` that are missing or differ from :func:`contents`."""
    out = []
    for name, text in contents().items():
        try:
            current = (Path(directory) / name).read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            out.append(name)
    return out


def write(directory: Path) -> list[str]:
    """Write the stale files into ``directory`` (created if missing); return their names.

    Each file is written beside its target and renamed over it, so a server reading it (or a
    second process writing the same text) never sees half a file."""
    directory = Path(directory)
    names = stale(directory)
    if not names:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    files = contents()
    for name in names:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(files[name])
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the server may run as another user
            os.replace(tmp, directory / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return names


def _asset_root(component: str) -> Path | None:
    """The asset folder Streamlit's runtime found for ``component`` in an installed package's
    manifest, or None (not installed, no runtime, or an API this Streamlit lacks)."""
    try:
        from streamlit.components.v2.get_bidi_component_manager import (
            get_bidi_component_manager,
        )

        root = get_bidi_component_manager().get_component_asset_root(component)
    except Exception:  # an internal API: a Streamlit without it sends the script inline
        return None
    return None if root is None else Path(root)


def served_from_files(component: str) -> bool:
    """Whether the animator can be mounted from files: Streamlit found the component's
    manifest, and the files in its asset folder are this code's (rewritten first when that
    folder is this checkout's own and they are stale)."""
    root = _asset_root(component)
    if root is None:
        return False
    names = stale(root)
    if not names:
        return True
    if root.resolve() != ASSET_DIR.resolve():
        _LOG.warning(
            "the animator's files in %s belong to another copy of the app and differ from this "
            "one's (%s); sending the script inline",
            root,
            ", ".join(names),
        )
        return False
    try:
        write(root)
    except OSError as e:
        _LOG.warning("cannot refresh the animator's files in %s (%s); sending them inline", root, e)
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.build_animator",
        description="Write the animator's component files (animator.js, animator.css).",
    )
    parser.add_argument("directory", nargs="?", type=Path, default=ASSET_DIR)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is stale"
    )
    args = parser.parse_args(argv)
    if args.check:
        names = stale(args.directory)
        for name in names:
            print(f"stale: {args.directory / name}", file=sys.stderr)
        return 1 if names else 0
    for name in write(args.directory):
        print(f"wrote {args.directory / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
