"""The one build step pyproject.toml cannot declare: the animator's component files.

Streamlit serves a v2 component's script as a file only from an installed package, one file
inside the asset_dir its manifest declares. The wheel gets the joined script modules and the
stylesheet in ``optviz/assets`` from app/build_animator.py, and a copy of
pyproject.toml in ``optviz/``, where Streamlit's scanner finds the manifest of an installed
distribution (a wheel carries no pyproject.toml of its own). An editable install serves the
checkout's optviz/assets, written here and kept current by app/build_animator.py.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithComponent(build_py):
    def run(self) -> None:
        super().run()
        sys.path.insert(0, str(HERE))  # app/ of this source tree (stdlib-only at import)
        from app import build_animator

        if getattr(self, "editable_mode", False):
            build_animator.write(build_animator.ASSET_DIR)
            return
        package = Path(self.build_lib) / "optviz"
        build_animator.write(package / "assets")
        shutil.copyfile(HERE / "pyproject.toml", package / "pyproject.toml")


setup(cmdclass={"build_py": BuildPyWithComponent})
