"""Share & export: a link that reproduces the scene, snapshots down and up, files for slides."""

from __future__ import annotations

import csv
import io

import streamlit as st

from app import compute, exports, raster, share
from trajectories import Experiment, snapshot

_COPY_JS = """
export default function (component) {
  const { data, parentElement } = component;
  const button = parentElement.querySelector("button");
  button.onclick = async () => {
    try {
      await navigator.clipboard.writeText(data.text);
      button.textContent = "Copied";
    } catch (e) {
      button.textContent = "Select the link and copy it";
    }
    setTimeout(() => { button.textContent = data.label; }, 1600);
  };
  button.textContent = data.label;
}
"""
_COPY_HTML = '<button data-testid="copy-link" type="button">Copy link</button>'
_COPY_CSS = """
button { font: inherit; padding: 0.35rem 0.9rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid var(--st-primary-color, #3b5bdb); color: var(--st-primary-color, #3b5bdb);
  background: transparent; }
button:hover { background: var(--st-secondary-background-color, #f0f2f6); }
"""
_copy = st.components.v2.component("optviz.copy", html=_COPY_HTML, css=_COPY_CSS, js=_COPY_JS)


def link_for(scene: share.Scene) -> str:
    base = (st.context.url or "").split("?")[0]  # None without a browser (AppTest)
    query = share.query_string(scene)
    return f"{base}?{query}" if query else base or "?"


def _upload() -> None:
    """A snapshot upload: a valid one loads its scene; a bad one is refused in one line."""
    ss = st.session_state
    file = ss.get("snapshot_upload")
    if file is None:
        return
    try:
        data = file.getvalue()
        snap = snapshot.loads(data)
    except snapshot.SnapshotError as err:
        ss["upload_message"] = ("error", str(err))
        return
    _, differ = snapshot.replay(snap, compute.result(snap.experiment))
    ss["pending_experiment"] = snap.experiment.to_json()
    if differ:
        saved_with = ", ".join(f"{k} {v}" for k, v in snap.versions.items())
        verdict = f"re-running it here differs in {', '.join(differ)} (saved with {saved_with})"
    else:
        verdict = "re-running it reproduces its results exactly"
    ss["upload_message"] = ("success", f"Loaded {file.name}: {verdict}.")


def share_tab(e: Experiment, scene: share.Scene) -> None:
    st.subheader("Link", anchor=False)
    url = link_for(scene)
    st.code(url, language=None, wrap_lines=True)
    _copy(data={"text": url, "label": "Copy link"}, key="copy_link")
    st.caption(
        f"{len(url):,} characters. The link holds the surface, every optimizer and its "
        "hyperparameters, the start points, steps, noise, seed, the open view and the "
        "paused frame: opening it anywhere runs exactly the same trajectories."
    )

    _python(e)

    st.subheader("Snapshot", anchor=False)
    r = compute.shown(e)
    c = st.columns(2)
    c[0].download_button(
        "Download snapshot (.json)",
        lambda: snapshot.dumps(snapshot.from_result(r, e)),
        file_name="optimizer-run.json",
        mime="application/json",
        icon=":material/download:",
        on_click="ignore",
        key="dl_snapshot",
    )
    c[1].file_uploader(
        "Load a snapshot",
        type=["json"],
        key="snapshot_upload",
        on_change=_upload,
        max_upload_size=snapshot.MAX_BYTES // 2**20,
    )
    message = st.session_state.pop("upload_message", None)
    if message:
        (st.error if message[0] == "error" else st.success)(message[1])

    st.subheader("Export", anchor=False)
    picture = compute.picture_for(e)
    cols = st.columns(4)
    cols[0].download_button(
        "Animation (.html)",
        lambda: _html(e, three_d=scene.view == "3d"),
        file_name="optimizer-run.html",
        mime="text/html",
        on_click="ignore",
        key="dl_html",
        help="Plays offline from the file, no internet needed.",
    )
    cols[1].download_button(
        "Picture (.png)",
        lambda: raster.png(r, picture),
        file_name="optimizer-run.png",
        mime="image/png",
        on_click="ignore",
        key="dl_png",
    )
    cols[2].download_button(
        "Animation (.gif)",
        lambda: raster.gif(r, picture),
        file_name="optimizer-run.gif",
        mime="image/gif",
        on_click="ignore",
        key="dl_gif",
        help="At most 100 frames, for slides.",
    )
    cols[3].download_button(
        "Trajectories (.csv)",
        lambda: _csv(r),
        file_name="optimizer-run.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl_csv",
    )


def _python(e: Experiment) -> None:
    """The scene as a runnable script (``trajectories/as_code.py``); st.code has a copy
    button. A scene a script cannot hold (an optimizer made in Python) says why in one line."""
    from app import labels
    from trajectories import as_code

    st.subheader("Copy as Python", anchor=False)
    try:
        text = as_code.script(e, labels.names(e))
    except ValueError as err:
        st.info(f"No script for this scene: {err}")
        return
    st.code(text, language="python", height=320)  # scrolls; the copy button takes it all
    st.caption(
        "Runs the same trajectories outside the app with JAX and this project's optimizers "
        "and surfaces (same keys, so stochastic surfaces match too): save it, then "
        "`python optimizer_run.py` prints the final points, `--json` every iterate, "
        "`--plot` draws them with matplotlib."
    )


def _html(e: Experiment, three_d: bool = False) -> str:
    """The offline page; shared from the 3-D view, with its 3-D panel beside the 2-D one."""
    from app import animator

    # the page's own document, with the first optimizer's live learning-rate slider (offline,
    # the slider still scrubs through the runs it carries; releasing it changes nothing)
    doc = compute.live_document(e, 0, None)
    options = {"show": ["surface3d"]} if three_d else None
    return animator.standalone_html(doc, title="Optimizer visualizer", options=options)


def _csv(r) -> str:
    header, rows = exports.result_rows(r)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()
