"""Streamlit's own floor for benchmarks/app.py: a fragment that only counts its reruns, and a
button that reruns this (near empty) whole script. Click to changed text is what any rerun
costs on this machine before the app does any work of its own.

``?widgets=N`` adds N widgets to the sidebar (sliders, select boxes, toggles and captions in
turn, as the app's optimizer cards hold): a whole-script rerun's floor for a page that size."""

import streamlit as st

ss = st.session_state


@st.fragment
def counter() -> None:
    ss["fragment runs"] = ss.get("fragment runs", 0) + 1
    st.button("fragment rerun")
    st.markdown(f"fragment run {ss['fragment runs']}")


def sidebar(n: int) -> None:
    with st.sidebar:
        for i in range(n):
            kind = i % 4
            if kind == 0:
                st.slider(f"slider {i}", 0.0, 1.0, 0.5, key=f"w{i}")
            elif kind == 1:
                st.selectbox(f"select {i}", ["a", "b", "c"], key=f"w{i}")
            elif kind == 2:
                st.toggle(f"toggle {i}", key=f"w{i}")
            else:
                st.caption(f"A caption, as the cards have, number {i}.")


counter()
sidebar(int(st.query_params.get("widgets", 0)))
ss["app runs"] = ss.get("app runs", 0) + 1
st.button("app rerun")
st.markdown(f"app run {ss['app runs']}")
