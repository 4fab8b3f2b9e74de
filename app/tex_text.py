"""A declared state symbol (LaTeX, ``OptimizerInfo.state``) as plain Unicode text, for places
that cannot typeset: the Inside tab's table headers (a Streamlit dataframe shows ``\\alpha_k``
as typed). The animator's own renderer (``app/animator/tex.js``) covers the full subset of the
update rules; this covers the symbols: Greek letters, ``\\bar``, ``\\max``, and scripts, set as
Unicode sub- and superscripts where every character has one, else as ``_(...)`` / ``^(...)``.
"""

from __future__ import annotations

import re

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "ϕ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}  # fmt: skip
WORDS = {"max": "max", "min": "min", "cdot": "·", "odot": "⊙", ",": " ", " ": " "}
SUB = dict(
    zip(
        "0123456789+-=()aehijklmnoprstuvxβγρφχ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ",
        strict=True,
    )
)
SUP = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzβγδθφχ",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵝᵞᵟᶿᵠᵡ",
        strict=True,
    )
)
SUB["−"], SUP["−"] = SUB["-"], SUP["-"]  # plain() writes a minus sign for "-"
MACRON = "\u0304"  # combining: \bar g is g followed by it
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")


def _group(src: str, i: int) -> tuple[str, int]:
    """The argument at ``src[i]``: a {braced group} or one character (a command whole)."""
    if src[i] == "{":
        depth, j = 1, i + 1
        while depth:
            depth += {"{": 1, "}": -1}.get(src[j], 0)
            j += 1
        return src[i + 1 : j - 1], j
    m = _COMMAND.match(src, i)
    return (m.group(0), m.end()) if m else (src[i], i + 1)


def _script(text: str, table: dict[str, str], mark: str) -> str:
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    return f"{mark}({text})"


def plain(src: str) -> str:
    """``\\alpha_k`` -> ``αₖ``, ``v^{\\max}_t`` -> ``vᵐᵃˣₜ``, ``\\bar g_t`` -> ``ḡₜ``."""
    out, i = [], 0
    while i < len(src):
        c = src[i]
        if c in "_^":
            arg, i = _group(src, i + 1)
            out.append(_script(plain(arg), SUB if c == "_" else SUP, c))
        elif c == "\\":
            m = _COMMAND.match(src, i)
            name, i = m.group(1), m.end()
            if name == "bar":
                while i < len(src) and src[i] == " ":
                    i += 1
                arg, i = _group(src, i)
                out.append(plain(arg) + MACRON)
            else:
                out.append(GREEK.get(name) or WORDS.get(name, name))
        elif c in "{}":
            i += 1
        elif c == " " and out and out[-1].endswith(tuple(GREEK.values())):
            out.append(" ")  # "\eta r_t": the space the command's name ended on stays
            i += 1
        elif c == " ":
            i += 1
        else:
            out.append("−" if c == "-" else c)
            i += 1
    return "".join(out)
