"""The ``optviz`` command, the console script of the installed package (``pip install .``).

    optviz serve [streamlit options]    the web app, engine warmed first (python -m app.serve)
    optviz list|run|sweep|basins|ensemble|compare|replay ...    (python -m app.cli ...)

This package is named after the distribution because that is where Streamlit's component
scanner looks for a component's manifest (pyproject.toml beside the importable package of the
distribution's name, or in its parent folder). So the animator's component files that Streamlit
serves live here, in ``assets/`` (written by the build, app/build_animator.py), while their
sources stay in app/animator/.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

PROG = "optviz"
SERVE = (
    f"{PROG} serve [streamlit options]: the web app with the engine warmed first "
    "(e.g. --server.port=8502); the other commands are the command line's:"
)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        from app import serve

        serve.main(argv[1:])  # hands over to Streamlit, which exits with its own status
        return 0
    from app import cli

    if not argv or argv[0] in ("-h", "--help"):
        print(SERVE)
    return cli.main(argv, prog=PROG)
