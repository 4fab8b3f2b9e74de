"""The Inside tab's table headers show each declared state symbol as Unicode text
(``app/tex_text.py``): a Streamlit dataframe header cannot typeset LaTeX."""

from __future__ import annotations

import pytest

from app.tex_text import plain
from optimizers import registry


@pytest.mark.parametrize(
    "latex, text",
    [
        (r"\alpha_k", "αₖ"),
        ("n_k", "nₖ"),
        ("m_t", "mₜ"),
        (r"\bar g_t", "g\u0304ₜ"),
        (r"v^{\max}_t", "vᵐᵃˣₜ"),
        ("g_{t-1}", "gₜ₋₁"),
        ("m^{(1)}_t", "m⁽¹⁾ₜ"),
        (r"E^\delta_t", "Eᵟₜ"),
        (r"\eta r_t", "η rₜ"),
        ("w_{best}", "w_(best)"),  # no subscript b: the script stays readable in parentheses
    ],
)
def test_symbols_as_text(latex, text):
    assert plain(latex) == text


def test_every_declared_symbol_reads_as_text():
    """No backslash, brace or bare script mark reaches a header, for every registered optimizer;
    and no two fields of one optimizer share a header."""
    for kind in registry.OPTIMIZERS:
        info = registry.get(kind)
        headers = [plain(symbol) for _, symbol in info.state_symbols]
        assert len(set(headers)) == len(headers), kind
        for symbol, header in zip(info.state_symbols, headers, strict=True):
            assert not set(header) & set("\\{}") and header, (kind, symbol, header)
            assert "_" not in header.replace("_(", "") and "^" not in header.replace("^(", "")
