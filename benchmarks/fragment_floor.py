"""Streamlit's own floor for benchmarks/app.py: a fragment that only counts its reruns, and a
button that reruns this (near empty) whole script. Click to changed text is what any rerun
costs on this machine before the app does any work of its own."""

import streamlit as st

ss = st.session_state


@st.fragment
def counter() -> None:
    ss["fragment runs"] = ss.get("fragment runs", 0) + 1
    st.button("fragment rerun")
    st.markdown(f"fragment run {ss['fragment runs']}")


counter()
ss["app runs"] = ss.get("app runs", 0) + 1
st.button("app rerun")
st.markdown(f"app run {ss['app runs']}")
