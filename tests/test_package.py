"""The installable package: the wheel holds the code, the animator's component files and the
``optviz`` command; Streamlit finds the component's manifest in an installed copy and serves
the animator's script as a file, not inside every rerun's message.

The wheel is built once, without network (``pip wheel --no-build-isolation``), from a copy of
the files git knows of (what a fresh clone holds), so nothing is written into the checkout.
That needs a setuptools that builds wheels by itself (>= 70.1, requirements-test.txt pins it);
with an older one these tests skip, or fail when ``CI`` is set. "Installed" means the wheel
unpacked into a folder put first on a server's PYTHONPATH: the layout pip installs, without
reinstalling the dependencies.
"""

from __future__ import annotations

import email
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

import optviz
from app import animator, build_animator, cli, serve
from tests.browser import REPO, open_page, screenshot, streamlit_process

SOURCES = ("pyproject.toml", "setup.py", "README.md")
PACKAGES = ("app", "optimizers", "surfaces", "trajectories", "optviz")
# Each module of the joined script starts with this line (app/animator.py, script()).
SCRIPT_MARK = b"// ==== app/animator/"
# The animator (in its component's shadow root) has drawn the surface picture and plays.
DRAWN_JS = """() => {
  const r = [...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')]
    .map((h) => h.shadowRoot && h.shadowRoot.querySelector('.optviz')).find(Boolean);
  if (!r || !r.__optviz) return false;
  const s = r.__optviz.state();
  return s.imageReady && s.drawn > 0 && s.playing;
}"""


def _setuptools_builds_wheels() -> str | None:
    """Why this environment cannot build the wheel offline, or None when it can."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return "setuptools is not installed"
    major, minor = (int(p) for p in version.split(".")[:2])
    if (major, minor) < (70, 1):
        return f"setuptools {version} needs the `wheel` package to build (>= 70.1 does not)"
    return None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    reason = _setuptools_builds_wheels()
    if reason:
        message = f"cannot build the wheel offline: {reason}; pip install -r requirements-test.txt"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *SOURCES, *PACKAGES],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    source = tmp_path_factory.mktemp("source")
    for name in listed:
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*cmd, "--no-index", "-q", "-w", str(out), str(source)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = out.glob("optviz-*.whl")
    return path


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory) -> Path:
    """The wheel unpacked: the folder layout pip installs into site-packages."""
    root = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(root)
    return root


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_wheel_holds_the_packages_the_component_files_and_the_command(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        read = lambda name: z.read(name).decode("utf-8")  # noqa: E731
        (info,) = {n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")}
        for package in PACKAGES:
            modules = {p.relative_to(REPO).as_posix() for p in (REPO / package).rglob("*.py")}
            assert modules and modules <= names, sorted(modules - names)
        for module in animator.SCRIPT_MODULES:
            assert f"app/animator/{module}" in names
        assert "app/animator/animator.css" in names
        assert "app/.streamlit/config.toml" in names
        # The component's files are the joined script and the stylesheet of this code.
        js, css = animator._assets()
        assets = f"optviz/{build_animator.ASSET_DIR.name}"
        assert read(f"{assets}/{build_animator.JS}") == js
        assert read(f"{assets}/{build_animator.CSS}") == css
        # The manifest Streamlit reads in an installed copy: the project's own pyproject.toml.
        manifest = tomllib.loads(read(f"optviz/{SOURCES[0]}"))
        assert manifest == _pyproject()
        metadata = email.message_from_string(read(f"{info}/METADATA"))
        entry_points = read(f"{info}/entry_points.txt")
    (component,) = manifest["tool"]["streamlit"]["component"]["components"]
    assert f"{manifest['project']['name']}.{component['name']}" == animator.COMPONENT_NAME
    assert component["asset_dir"] == build_animator.ASSET_DIR.name
    assert metadata["Name"] == manifest["project"]["name"] == "optviz"
    requires = metadata.get_all("Requires-Dist")
    for pin in manifest["project"]["dependencies"]:
        assert pin in requires
    assert any(r.startswith("streamlit==") for r in requires)  # what Streamlit's scanner needs
    assert 'keras==3.15.1; extra == "keras"' in requires and "keras" in metadata.get_all(
        "Provides-Extra"
    )
    assert "[console_scripts]\noptviz = optviz:main" in entry_points


def test_requirements_install_this_project_and_pin_nothing_twice():
    """The runtime's pins are written once, in pyproject.toml; the requirements files install
    the project (and its keras extra for the tests)."""
    pins = {p.split("==")[0] for p in _pyproject()["project"]["dependencies"]}
    extra = {p.split("==")[0] for p in _pyproject()["project"]["optional-dependencies"]["keras"]}
    for name, install in (("requirements.txt", "-e ."), ("requirements-test.txt", "-e .[keras]")):
        lines = [
            line.strip()
            for line in (REPO / name).read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        assert install in lines, name
        named = {line.split("==")[0].lower() for line in lines if "==" in line}
        assert not named & (pins | extra), (name, sorted(named & (pins | extra)))


def test_streamlit_finds_the_component_in_the_installed_copy(site, tmp_path):
    """Streamlit's own scanner, in a process that sees the installed copy first, finds the
    manifest and the asset folder holding the component's files."""
    code = (
        "import json\n"
        "from streamlit.components.v2.manifest_scanner import scan_component_manifests\n"
        "print(json.dumps([[m.name, [[c.name, c.asset_dir] for c in m.components], str(root)]"
        " for m, root in scan_component_manifests()]))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = [m for m in json.loads(done.stdout) if m[0] == "optviz"]
    assert found, done.stdout
    for _name, components, root in found:
        assert components == [["animator", "assets"]]
        assert Path(root) == site / "optviz"
    assert not build_animator.stale(site / "optviz" / "assets")


def test_build_animator_writes_what_is_stale_and_checks(tmp_path, capsys):
    target = tmp_path / "assets"
    assert sorted(build_animator.stale(target)) == ["animator.css", "animator.js"]
    assert build_animator.main(["--check", str(target)]) == 1
    assert sorted(build_animator.write(target)) == ["animator.css", "animator.js"]
    js, css = animator._assets()
    assert (target / "animator.js").read_text() == js and (
        target / "animator.css"
    ).read_text() == css
    assert build_animator.write(target) == [] and build_animator.main(["--check", str(target)]) == 0
    (target / "animator.css").write_text("/* an older stylesheet */")
    assert build_animator.main([str(target)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {target / 'animator.css'}"
    assert (target / "animator.css").read_text() == css
    assert sorted(p.name for p in target.iterdir()) == ["animator.css", "animator.js"]


def test_files_are_served_only_when_they_are_this_codes(tmp_path, monkeypatch, caplog):
    """Not installed: inline. This checkout's own folder: refreshed, then served. Another copy's
    folder: served if identical, else inline and untouched. A folder that cannot be written:
    inline."""
    own, other = tmp_path / "own", tmp_path / "other"
    monkeypatch.setattr(build_animator, "ASSET_DIR", own)
    root: list[Path | None] = [None]
    monkeypatch.setattr(build_animator, "_asset_root", lambda name: root[0])
    assert not build_animator.served_from_files(animator.COMPONENT_NAME)

    root[0] = own
    assert build_animator.served_from_files(animator.COMPONENT_NAME)
    assert build_animator.stale(own) == []

    root[0] = other
    other.mkdir()
    (other / "animator.js").write_text("an older script")
    assert not build_animator.served_from_files(animator.COMPONENT_NAME)
    assert "another copy of the app" in caplog.text
    assert (other / "animator.js").read_text() == "an older script"
    build_animator.write(other)
    assert build_animator.served_from_files(animator.COMPONENT_NAME)

    root[0] = own
    (own / "animator.js").write_text("an older script")

    def read_only(directory):
        raise PermissionError(13, "Permission denied", str(directory))

    monkeypatch.setattr(build_animator, "write", read_only)
    assert not build_animator.served_from_files(animator.COMPONENT_NAME)


def test_optviz_command_offers_serve_and_the_command_line(capsys, monkeypatch):
    assert optviz.main(["list", "surfaces"]) == 0
    assert "rosenbrock" in capsys.readouterr().out
    assert optviz.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("optviz serve [streamlit options]") and "usage: optviz " in out
    assert optviz.main(["run", "--steps"]) == 2
    assert "(see optviz run --help)" in capsys.readouterr().err
    assert cli.main(["--help"]) == 0 and "usage: python -m app.cli" in capsys.readouterr().out
    seen = []
    monkeypatch.setattr(serve, "main", seen.append)
    assert optviz.main(["serve", "--server.port=8600"]) == 0
    assert seen == [["--server.port=8600"]]


@pytest.mark.slow
def test_installed_app_serves_the_animator_script_as_a_file(browser, site, tmp_path):
    """``python -m optviz serve`` (the ``optviz serve`` command) from a folder outside the
    checkout, the installed copy first on the path: the page fetches the component's script
    and stylesheet (HTTP 200, the current files), no websocket message carries the script,
    and the animator draws."""
    launcher = ("-m", "optviz", "serve")
    with streamlit_process(
        launcher, "--logger.level=debug", log_name="package", timeout=180,
        cwd=tmp_path, pythonpath=(site,),
    ) as server:  # fmt: skip
        ws = server.url.replace("http", "ws", 1)
        page, log = open_page(
            browser, "about:blank", width=1400, height=1000, allow=(server.url, ws)
        )
        frames: list[bytes] = []
        assets: dict[str, int] = {}
        page.on(
            "websocket",
            lambda w: w.on(
                "framereceived", lambda p: frames.append(p if isinstance(p, bytes) else p.encode())
            ),
        )
        page.on(
            "response",
            lambda r: "/bidi-components/" in r.url and assets.setdefault(r.url, r.status),
        )
        page.goto(server.url)
        page.wait_for_function(DRAWN_JS, timeout=120_000)
        shot = screenshot(page, "package_installed_app")
        base = f"{server.url}_stcore/bidi-components/{animator.COMPONENT_NAME}/"
        with urllib.request.urlopen(base + "animator.js", timeout=10) as r:
            served = r.read().decode("utf-8")
        server_log = server.log.read_text()
    js, _ = animator._assets()
    assert served == js
    assert assets.get(base + "animator.js") == 200 and assets.get(base + "animator.css") == 200
    # The inline script carries one mark per module; no message does now.
    assert js.count(SCRIPT_MARK.decode()) == len(animator.SCRIPT_MODULES)
    assert frames and not [len(f) for f in frames if SCRIPT_MARK in f], "script sent inline"
    assert "Registered components from pyproject.toml: optviz" in server_log
    log.assert_clean()
    assert shot.exists()
