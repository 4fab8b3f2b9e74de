// The LaTeX subset -> HTML renderer for the registry's update rules and symbols.

const GREEK = {
  alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ϵ", varepsilon: "ε", zeta: "ζ",
  eta: "η", theta: "θ", vartheta: "ϑ", iota: "ι", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν",
  xi: "ξ", pi: "π", rho: "ρ", sigma: "σ", tau: "τ", upsilon: "υ", phi: "ϕ", varphi: "φ",
  chi: "χ", psi: "ψ", omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Xi: "Ξ",
  Pi: "Π", Sigma: "Σ", Phi: "Φ", Psi: "Ψ", Omega: "Ω",
};
const TEX_SYMBOLS = {
  cdot: "·", odot: "⊙", times: "×", leq: "≤", le: "≤", geq: "≥", ge: "≥", neq: "≠", ne: "≠",
  approx: "≈", pm: "±", infty: "∞", gets: "←", to: "→", leftarrow: "←", rightarrow: "→",
  sum: "∑", prod: "∏", partial: "∂", nabla: "∇", ell: "ℓ", mid: "|", "|": "‖", lVert: "‖",
  rVert: "‖", lvert: "|", rvert: "|", "{": "{", "}": "}", "%": "%", "#": "#", "&": "&",
  _: "_", langle: "⟨", rangle: "⟩", circ: "∘", ast: "∗", star: "⋆", propto: "∝", in: "∈",
  forall: "∀", exists: "∃", dots: "…", ldots: "…", cdots: "⋯", prime: "′", oslash: "⊘",
};
const TEX_SPACES = { ",": "\u2009", ":": "\u2005", ";": "\u2004", "!": "", quad: "\u2003", qquad: "\u2003\u2003", " ": " " };
const TEX_IGNORE = new Set(["left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "displaystyle", "limits", "nolimits", "mathop"]);
const TEX_TEXT = new Set(["text", "mathrm", "operatorname", "textrm", "mathsf", "textit", "mbox"]);
const TEX_FUNCS = new Set(["min", "max", "log", "exp", "sign", "sgn", "clip", "ln", "sin", "cos", "tanh", "arg", "lim", "sup", "inf", "diag", "mean", "rms"]);
const TEX_ACCENTS = { hat: "\u0302", widehat: "\u0302", bar: "\u0304", overline: "\u0304", tilde: "\u0303", widetilde: "\u0303", vec: "\u20D7", dot: "\u0307", ddot: "\u0308" };

function texTokens(src) {
  const out = [];
  let i = 0, space = false;
  const push = (tok) => {
    tok.ws = space; // preceded by white space (kept inside \text{...})
    space = false;
    out.push(tok);
  };
  while (i < src.length) {
    const c = src[i];
    if (c === "\\") {
      let j = i + 1;
      if (j < src.length && /[a-zA-Z]/.test(src[j])) {
        while (j < src.length && /[a-zA-Z]/.test(src[j])) j++;
        push({ t: "cmd", v: src.slice(i + 1, j) });
        i = j;
      } else {
        push({ t: "cmd", v: src[j] === undefined ? "" : src[j] });
        i = j + 1;
      }
    } else if ("{}^_&[]".includes(c)) {
      push({ t: c });
      i++;
    } else if (/\s/.test(c)) {
      space = true;
      i++;
    } else {
      push({ t: "ch", v: c });
      i++;
    }
  }
  return out;
}

// Convert a LaTeX math string (the registry's update equations) into HTML: {html, errors}.
// Handles the subset the registry uses: Greek letters, sub/superscripts, \frac, \sqrt,
// accents, \text, \begin{cases}, spacing, common operators. What it cannot render right is
// listed in `errors` (an unknown command, which shows as its name; an unbalanced brace; a
// missing argument; a double script; an unknown environment; `&` outside cases); the HTML
// is still the best it can do, so a page shows something readable either way.
function texRender(src) {
  if (typeof src !== "string" || !src.trim()) return { html: "", errors: [] };
  const toks = texTokens(src);
  const errors = [];
  const fail = (msg) => {
    if (!errors.includes(msg)) errors.push(msg);
  };
  let pos = 0;
  const peek = () => toks[pos];
  const raw = (what) => { // the raw text of a {group}
    if (!peek() || peek().t !== "{") {
      fail(`${what} needs a {…} argument`);
      return "";
    }
    pos++;
    let depth = 1, s = "";
    while (pos < toks.length) {
      const k = toks[pos++];
      if (k.t === "{") depth++;
      if (k.t === "}" && --depth === 0) break;
      if (k.ws && s) s += " ";
      s += k.t === "ch" ? k.v : k.t === "cmd" ? (TEX_SPACES[k.v] !== undefined ? " " : k.v) : k.t === "{" || k.t === "}" ? "" : k.t;
    }
    if (depth > 0) fail(`unclosed { in the argument of ${what}`);
    return esc(s);
  };
  const arg = (what) => {
    const k = peek();
    if (!k || k.t === "}" || k.t === "&" || k.t === "^" || k.t === "_") {
      fail(`${what} is missing an argument`);
      return "";
    }
    if (k.t === "{") { pos++; return seq(["}"]); }
    return atom();
  };
  const scripts = (base) => {
    let sub = null, sup = null;
    while (peek() && (peek().t === "_" || peek().t === "^")) {
      const k = toks[pos++];
      const a = arg(k.t);
      if (k.t === "_") {
        if (sub !== null) fail("double subscript");
        sub = a;
      } else {
        if (sup !== null) fail("double superscript");
        sup = a;
      }
    }
    if (sub !== null && sup !== null) {
      return `${base}<span class="ov-ss"><sup>${sup}</sup><sub>${sub}</sub></span>`;
    }
    if (sub !== null) return `${base}<sub>${sub}</sub>`;
    if (sup !== null) return `${base}<sup>${sup}</sup>`;
    return base;
  };
  const cases = () => {
    const rows = [[""]];
    let closed = false;
    while (pos < toks.length) {
      const k = peek();
      if (k.t === "cmd" && k.v === "end") {
        pos++;
        const env = raw("\\end");
        if (env !== "cases") fail(`\\begin{cases} ended by \\end{${env}}`);
        closed = true;
        break;
      }
      if (k.t === "cmd" && k.v === "\\") { pos++; rows.push([""]); continue; }
      if (k.t === "&") { pos++; rows[rows.length - 1].push(""); continue; }
      const row = rows[rows.length - 1];
      row[row.length - 1] += scripts(atom());
    }
    if (!closed) fail("\\begin{cases} without \\end{cases}");
    const body = rows
      .filter((r) => r.some((c) => c))
      .map((r) => `<span class="ov-case">${r.map((c, j) => `<span class="ov-case-${j ? "cond" : "val"}">${c}</span>`).join("")}</span>`)
      .join("");
    return `<span class="ov-cases"><span class="ov-brace">{</span><span class="ov-case-rows">${body}</span></span>`;
  };
  const atom = () => {
    const k = toks[pos++];
    if (!k) return "";
    if (k.t === "{") return seq(["}"]);
    if (k.t === "}") {
      fail("unmatched }");
      return "";
    }
    if (k.t === "&") {
      fail("& outside \\begin{cases}");
      return "";
    }
    if (k.t === "[" || k.t === "]") return k.t;
    if (k.t === "^" || k.t === "_") {
      fail(`${k.t} without a base`);
      return "";
    }
    if (k.t === "ch") {
      const c = k.v;
      if (/[a-zA-Z]/.test(c)) return `<i>${c}</i>`;
      if (c === "-") return "<span class=\"ov-op\">−</span>";
      if (c === "+" || c === "=" || c === "<" || c === ">") return `<span class="ov-op">${esc(c)}</span>`;
      if (c === ",") return ",\u2009";
      if (c === "'") return "′";
      return esc(c);
    }
    const v = k.v;
    if (GREEK[v]) return `<i>${GREEK[v]}</i>`;
    if (TEX_SPACES[v] !== undefined) return TEX_SPACES[v];
    if (v === "\\") return "<br>";
    if (TEX_IGNORE.has(v)) return "";
    if (TEX_SYMBOLS[v]) {
      const s = TEX_SYMBOLS[v];
      return "·×≤≥≠≈±←→⊙∝∈∘⊘".includes(s) ? `<span class="ov-op">${s}</span>` : s;
    }
    if (TEX_FUNCS.has(v)) return `<span class="ov-fn">${v}</span>`;
    if (TEX_TEXT.has(v)) return `<span class="ov-fn">${raw(`\\${v}`)}</span>`;
    if (v === "mathbf" || v === "boldsymbol" || v === "bm") return `<b>${arg(`\\${v}`)}</b>`;
    if (v === "mathcal" || v === "mathbb" || v === "mathit") return arg(`\\${v}`);
    if (v === "frac" || v === "dfrac" || v === "tfrac") {
      const a = arg(`\\${v}`), b = arg(`\\${v}`);
      return `<span class="ov-frac"><span class="ov-num">${a}</span><span class="ov-den">${b}</span></span>`;
    }
    if (v === "sqrt") {
      let idx = "";
      if (peek() && peek().t === "[") {
        pos++;
        idx = seq(["]"]);
      }
      return `${idx ? `<sup>${idx}</sup>` : ""}√<span class="ov-sqrt">${arg("\\sqrt")}</span>`;
    }
    if (TEX_ACCENTS[v]) {
      const a = arg(`\\${v}`);
      const single = /^<i>(.)<\/i>$/.exec(a);
      if (single) return `<i>${single[1]}${TEX_ACCENTS[v]}</i>`;
      return `<span class="ov-over">${a}</span>`;
    }
    if (v === "begin") {
      const env = raw("\\begin");
      if (env === "cases") return cases();
      fail(`unknown environment ${env || "(none)"}`);
      return "";
    }
    if (v === "end") {
      fail(`\\end{${raw("\\end")}} without \\begin`);
      return "";
    }
    fail(v ? `unknown command \\${v}` : "a lone \\ at the end");
    return `<span class="ov-fn">${esc(v)}</span>`;
  };
  // Atoms up to one of `stops` (consumed); the end of the input closes only a top-level run.
  const seq = (stops) => {
    let s = "";
    while (pos < toks.length) {
      const k = peek();
      if (stops.includes(k.t)) {
        pos++;
        return s;
      }
      s += scripts(atom());
    }
    if (stops.length) fail(`unclosed ${stops[0] === "}" ? "{" : "["}`);
    return s;
  };
  try {
    return { html: seq([]), errors };
  } catch (e) {
    return { html: esc(src), errors: [...errors, String((e && e.message) || e)] };
  }
}

// The HTML of a LaTeX string (what the page shows; texRender also lists what went wrong).
function texToHtml(src) {
  return texRender(src).html;
}
