// Optimizer visualizer: the browser animator (Streamlit Custom Components v2, plain Canvas 2D).
//
// The Python side (app/animator.py) sends the whole run once, as the JSON document that
// app/payload.py describes (schema version 1), plus `id` (a hash of the document) and
// `options`. Everything below is self-contained: no imports, no network, no libraries, so
// the same source also runs inside the standalone offline HTML export (file://).
//
// Structure: parse the document into typed arrays (Model), lay out the panels (layout),
// draw every static layer once to offscreen canvases (build*), then per animation frame
// only composite them and draw trails, markers, arrows and cursors (draw*).

const BASE_FPS = 30; // recorded frames per second at 1x
const SPEEDS = [0.25, 0.5, 1, 2, 4];
const ARROWS = [
  // Drawn widest first, so that arrows pointing the same way stay visible as nested stripes.
  { key: "grad", label: "−∇f", title: "negative gradient (downhill)", color: "#ffffff", width: 5.2 },
  { key: "momentum", label: "momentum", title: "momentum / velocity (direction it pushes)", color: "#ffb000", width: 3 },
  { key: "update", label: "update", title: "the update applied at this step", color: "#00e5ff", width: 1.8 },
];
const RED = "#ff3b30";
const VIRIDIS_KNOTS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];
const VIRIDIS = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * 8, k = Math.min(7, Math.floor(t)), f = t - k;
    for (let c = 0; c < 3; c++) {
      lut[i * 3 + c] = Math.round(VIRIDIS_KNOTS[k][c] * (1 - f) + VIRIDIS_KNOTS[k + 1][c] * f);
    }
  }
  return lut;
})();
const SUP = { "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻" };

// ---------------------------------------------------------------- small helpers

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
const minus = (s) => s.replace(/-/g, "−");

function pow10Label(k) {
  return "10" + String(k).split("").map((c) => SUP[c] || c).join("");
}

function fmt(v, p = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  let s;
  if (a >= 1e4 || a < 1e-3) {
    s = v.toExponential(p - 1).replace(/\.?0+e/, "e").replace("e+", "e");
  } else {
    s = String(Number(v.toPrecision(p)));
  }
  return minus(s);
}

function niceStep(span, n) {
  const raw = span / Math.max(1, n);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const r = raw / mag;
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

function linTicks(lo, hi, n) {
  if (!(hi > lo)) return [];
  const step = niceStep(hi - lo, n);
  const dec = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    const val = Math.abs(v) < step * 1e-9 ? 0 : v;
    out.push({ v: val, label: minus(val.toFixed(Math.min(dec, 6))) });
  }
  return out;
}

// Ticks of a log10 axis given in exponents [lo, hi]: {v (exponent), label}.
function logTicks(lo, hi, n) {
  if (!(hi > lo)) return [];
  const out = [];
  const k0 = Math.ceil(lo - 1e-9), k1 = Math.floor(hi + 1e-9);
  if (k1 - k0 >= 1) {
    const every = Math.max(1, Math.ceil((k1 - k0 + 1) / Math.max(2, n)));
    for (let k = k0; k <= k1; k++) if ((k - k0) % every === 0) out.push({ v: k, label: pow10Label(k) });
    return out;
  }
  for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi); k++) {
    for (const m of [1, 2, 5]) {
      const e = k + Math.log10(m);
      if (e >= lo - 1e-9 && e <= hi + 1e-9) out.push({ v: e, label: fmt(m * Math.pow(10, k), 2) });
    }
  }
  if (out.length < 2) {
    return linTicks(Math.pow(10, lo), Math.pow(10, hi), Math.max(3, n))
      .filter((t) => t.v > 0)
      .map((t) => ({ v: Math.log10(t.v), label: fmt(t.v, 2) }));
  }
  return out;
}

function hexToRgb(hex) {
  const m = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(String(hex || "").trim());
  if (!m) return null;
  let h = m[1];
  if (h.length === 3) h = h.split("").map((c) => c + c).join("");
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

function parseColor(str) {
  const hex = hexToRgb(str);
  if (hex) return hex;
  const m = /rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:[,\s/]+([\d.]+))?/.exec(String(str || ""));
  if (!m) return null;
  if (m[4] !== undefined && Number(m[4]) === 0) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

const rgba = (rgb, a) => `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${a})`;
const luminance = (rgb) => (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k === "html") e.innerHTML = v;
    else if (k === "style") e.style.cssText = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const ICONS = {
  play: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M7 4.5v15l12.5-7.5z"/></svg>',
  pause: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6.5 4.5h4v15h-4zM13.5 4.5h4v15h-4z"/></svg>',
  back: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16 5v14L6.5 12zM6 5h2v14H6z" transform="translate(1 0)"/></svg>',
  forward: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M8 5v14l9.5-7zM18 5h-2v14h2z" transform="translate(-1 0)"/></svg>',
  first: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M5 5h2.2v14H5zM19 5v14l-10-7z"/></svg>',
  last: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.8 5H19v14h-2.2zM5 5v14l10-7z"/></svg>',
  loop: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M7 7h9.2l-2-2 1.4-1.4L20 8l-4.4 4.4-1.4-1.4 2-2H7a2 2 0 0 0-2 2v2H3v-2a4 4 0 0 1 4-4zm10 10H7.8l2 2-1.4 1.4L4 16l4.4-4.4 1.4 1.4-2 2H17a2 2 0 0 0 2-2v-2h2v2a4 4 0 0 1-4 4z"/></svg>',
};

// ---------------------------------------------------------------- LaTeX subset -> HTML

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

// Convert a LaTeX math string (the registry's update equations) into HTML. Handles the
// subset the registry uses: Greek letters, sub/superscripts, \frac, \sqrt, accents, \text,
// \begin{cases}, spacing, common operators. Unknown commands show their name.
function texToHtml(src) {
  if (typeof src !== "string" || !src.trim()) return "";
  const toks = texTokens(src);
  let pos = 0;
  const peek = () => toks[pos];
  const raw = () => { // the raw text of a {group}
    if (!peek() || peek().t !== "{") return "";
    pos++;
    let depth = 1, s = "";
    while (pos < toks.length) {
      const k = toks[pos++];
      if (k.t === "{") depth++;
      if (k.t === "}" && --depth === 0) break;
      if (k.ws && s) s += " ";
      s += k.t === "ch" ? k.v : k.t === "cmd" ? (TEX_SPACES[k.v] !== undefined ? " " : k.v) : k.t === "{" || k.t === "}" ? "" : k.t;
    }
    return esc(s);
  };
  const arg = () => {
    const k = peek();
    if (!k) return "";
    if (k.t === "{") { pos++; return seq(["}"]); }
    return atom();
  };
  const scripts = (base) => {
    let sub = null, sup = null;
    while (peek() && (peek().t === "_" || peek().t === "^")) {
      const k = toks[pos++];
      const a = arg();
      if (k.t === "_") sub = a; else sup = a;
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
    while (pos < toks.length) {
      const k = peek();
      if (k.t === "cmd" && k.v === "end") { pos++; raw(); break; }
      if (k.t === "cmd" && k.v === "\\") { pos++; rows.push([""]); continue; }
      if (k.t === "&") { pos++; rows[rows.length - 1].push(""); continue; }
      const row = rows[rows.length - 1];
      row[row.length - 1] += scripts(atom());
    }
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
    if (k.t === "}" || k.t === "&") return "";
    if (k.t === "[" || k.t === "]") return k.t;
    if (k.t === "^" || k.t === "_") return "";
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
    if (TEX_TEXT.has(v)) return `<span class="ov-fn">${raw()}</span>`;
    if (v === "mathbf" || v === "boldsymbol" || v === "bm") return `<b>${arg()}</b>`;
    if (v === "mathcal" || v === "mathbb" || v === "mathit") return arg();
    if (v === "frac" || v === "dfrac" || v === "tfrac") {
      const a = arg(), b = arg();
      return `<span class="ov-frac"><span class="ov-num">${a}</span><span class="ov-den">${b}</span></span>`;
    }
    if (v === "sqrt") {
      let idx = "";
      if (peek() && peek().t === "[") {
        pos++;
        idx = seq(["]"]);
      }
      return `${idx ? `<sup>${idx}</sup>` : ""}√<span class="ov-sqrt">${arg()}</span>`;
    }
    if (TEX_ACCENTS[v]) {
      const a = arg();
      const single = /^<i>(.)<\/i>$/.exec(a);
      if (single) return `<i>${single[1]}${TEX_ACCENTS[v]}</i>`;
      return `<span class="ov-over">${a}</span>`;
    }
    if (v === "begin") {
      const env = raw();
      if (env === "cases") return cases();
      return "";
    }
    if (v === "end") { raw(); return ""; }
    return `<span class="ov-fn">${esc(v)}</span>`;
  };
  const seq = (stops) => {
    let s = "";
    while (pos < toks.length) {
      const k = peek();
      if (stops.includes(k.t)) { pos++; break; }
      s += scripts(atom());
    }
    return s;
  };
  try {
    return seq([]);
  } catch (e) {
    return esc(src);
  }
}

// ---------------------------------------------------------------- payload decoding

const decodeCache = new WeakMap();
const imageCache = new Map(); // surface PNG data URL -> decoded image, reused across rebuilds

// {b64, shape, dtype} -> {data: Float32Array|Uint8Array, shape}; throws a readable Error.
function decodeArray(spec, what, ndim) {
  if (!spec || typeof spec !== "object") throw new Error(`${what} is missing`);
  if (decodeCache.has(spec)) return decodeCache.get(spec);
  const { b64, shape, dtype } = spec;
  if (typeof b64 !== "string" || !Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new Error(`${what} is not an encoded array`);
  }
  if (ndim !== undefined && shape.length !== ndim) throw new Error(`${what} should have ${ndim} dimensions, not ${shape.length}`);
  let bin;
  try {
    bin = atob(b64);
  } catch (e) {
    throw new Error(`${what}: not valid base64`);
  }
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const n = shape.reduce((a, b) => a * b, 1);
  let data;
  if (dtype === "u1") data = bytes;
  else if (dtype === "f4") {
    if (bytes.length % 4) throw new Error(`${what}: byte length is not a multiple of 4`);
    data = new Float32Array(bytes.buffer);
  } else throw new Error(`${what}: unknown dtype ${dtype}`);
  if (data.length !== n) throw new Error(`${what}: ${data.length} values for shape [${shape}]`);
  const out = { data, shape };
  decodeCache.set(spec, out);
  return out;
}

// Parse and validate the document. Problems are collected per panel (model.errors[panel])
// instead of thrown, so one bad field only blanks the panel that needs it.
function parseModel(doc) {
  const errors = { surface: [], lr: [], loss: [], fit: [], inside: [], general: [] };
  const m = { errors, opts: [], R: 0, S: 1 };
  if (!doc || typeof doc !== "object") {
    errors.general.push("no data: the animator needs a payload document");
    return m;
  }
  const steps = Array.isArray(doc.steps) ? doc.steps.map(Number) : null;
  const opts = Array.isArray(doc.optimizers) ? doc.optimizers : [];
  if (!opts.length) errors.general.push("the document has no optimizers");
  // Frames: from steps, else from the first decodable path.
  let R = steps ? steps.length : 0;
  m.steps = steps;
  const surf = doc.surface && typeof doc.surface === "object" ? doc.surface : null;
  if (!surf) errors.surface.push("surface is missing");
  m.surface = surf || {};
  const ext = surf && Array.isArray(surf.extent) && surf.extent.length === 4 && surf.extent.every(isNum) &&
    surf.extent[1] > surf.extent[0] && surf.extent[3] > surf.extent[2] ? surf.extent.slice() : null;
  if (surf && !ext) errors.surface.push("surface.extent is missing or invalid");
  m.extent = ext;
  m.weights = Array.isArray(doc.weights) ? doc.weights.map(String) : [];
  opts.forEach((o, i) => {
    const name = o && typeof o.name === "string" ? o.name : `optimizer ${i + 1}`;
    const op = { index: i, name, kind: (o && o.kind) || "", color: (o && hexToRgb(o.color)) ? o.color : "#888888" };
    op.rgb = hexToRgb(op.color);
    const tryDecode = (spec, what, ndim, panel) => {
      try {
        return decodeArray(spec, `${name}: ${what}`, ndim);
      } catch (e) {
        if (panel) errors[panel].push(e.message);
        return null;
      }
    };
    if (!o || typeof o !== "object") {
      errors.general.push(`optimizers[${i}] is not an object`);
      m.opts.push(op);
      return;
    }
    op.path = tryDecode(o.path, "path", 3, "surface");
    if (op.path) {
      if (!R) R = op.path.shape[1];
      if (op.path.shape[1] !== R || op.path.shape[2] !== 2) {
        errors.surface.push(`${name}: path has shape [${op.path.shape}], expected [S, ${R}, 2]`);
        op.path = null;
      } else m.S = Math.max(m.S, op.path.shape[0]);
    }
    op.loss = tryDecode(o.loss, "loss", 2, "loss");
    if (op.loss && op.loss.shape[1] !== R) {
      errors.loss.push(`${name}: loss has ${op.loss.shape[1]} frames, expected ${R}`);
      op.loss = null;
    }
    op.ema = o.ema_path ? tryDecode(o.ema_path, "ema_path", 3, "surface") : null;
    if (op.ema && op.ema.shape[1] !== R) op.ema = null;
    op.diverged = Array.isArray(o.diverged) ? o.diverged.map((v) => (isNum(v) ? v : -1)) : [];
    op.hit = Array.isArray(o.hit) ? o.hit.map((v) => (isNum(v) ? v : -1)) : [];
    op.finalLoss = Array.isArray(o.final_loss) ? o.final_loss : [];
    op.arrows = {};
    if (o.arrows && typeof o.arrows === "object") {
      for (const a of ARROWS) {
        if (o.arrows[a.key]) {
          const arr = tryDecode(o.arrows[a.key], `arrows.${a.key}`, 3, "surface");
          if (arr && arr.shape[1] === R && arr.shape[2] === 2) op.arrows[a.key] = arr;
        }
      }
    }
    op.lr = o.lr ? tryDecode(o.lr, "lr", 3, "lr") : null;
    if (op.lr && op.lr.shape[1] !== R) {
      errors.lr.push(`${name}: lr has ${op.lr.shape[1]} frames, expected ${R}`);
      op.lr = null;
    }
    op.inside = null;
    if (o.inside && typeof o.inside === "object") {
      op.inside = {};
      for (const [k, spec] of Object.entries(o.inside)) {
        const arr = tryDecode(spec, `inside.${k}`, 3, "inside");
        if (arr && arr.shape[1] === R) op.inside[k] = arr;
      }
      // Derivable fields may be left out of the payload: lr is the optimizer's lr, ratio is
      // -update / g (0 where g is 0).
      if (!op.inside.lr && op.lr) op.inside.lr = op.lr;
      const { g, update } = op.inside;
      if (!op.inside.ratio && g && update && g.data.length === update.data.length) {
        const r = new Float32Array(g.data.length);
        for (let k = 0; k < r.length; k++) {
          const v = -update.data[k] / g.data[k];
          r[k] = Number.isFinite(v) ? v : 0;
        }
        op.inside.ratio = { data: r, shape: g.shape };
      }
    }
    op.symbols = o.symbols && typeof o.symbols === "object" ? o.symbols : {};
    op.equations = typeof o.equations === "string" ? o.equations : "";
    op.lrEquation = typeof o.lr_equation === "string" ? o.lr_equation : "";
    m.opts.push(op);
  });
  if (!R) errors.general.push("the document has no frames");
  if (!steps || steps.length !== R || !steps.every(isNum)) {
    if (steps) errors.general.push(`steps has ${steps.length} entries for ${R} frames; using frame numbers`);
    m.steps = Array.from({ length: R }, (_, i) => i);
  }
  m.R = R;
  // Divergence frames: the first frame whose step reaches the divergence step.
  for (const op of m.opts) {
    op.divFrame = op.diverged.map((st) => (st >= 0 ? frameOfStep(m.steps, st) : -1));
    op.hitFrame = op.hit.map((st) => (st >= 0 ? frameOfStep(m.steps, st) : -1));
  }
  // Per-layer learning rates (large models).
  const L = doc.lr_layers;
  m.lrLayers = null;
  if (L && typeof L === "object") {
    try {
      if (!Array.isArray(L.frames) || !L.frames.length) throw new Error("lr_layers.frames is missing");
      if (!Array.isArray(L.layers) || !L.layers.length) throw new Error("lr_layers.layers is missing");
      if (!isNum(L.vmin) || !isNum(L.vmax)) throw new Error("lr_layers.vmin/vmax are missing");
      const values = (Array.isArray(L.values) ? L.values : []).map((spec, i) => {
        try {
          return decodeArray(spec, `lr_layers.values[${i}]`, 2);
        } catch (e) {
          errors.lr.push(e.message);
          return null;
        }
      });
      const layers = L.layers.map((l) => ({ name: String(l.name), rows: Math.max(1, l.rows | 0), cols: Math.max(1, l.cols | 0) }));
      let off = 0;
      for (const l of layers) {
        l.offset = off;
        off += l.rows * l.cols;
      }
      m.lrLayers = { frames: L.frames.map(Number), vmin: L.vmin, vmax: L.vmax, layers, values, size: off };
    } catch (e) {
      errors.lr.push(e.message);
    }
  }
  // Model fit.
  const F = doc.fit;
  m.fit = null;
  if (F && typeof F === "object") {
    try {
      const xs = Array.isArray(F.x) ? F.x.map(Number) : null;
      const ys = Array.isArray(F.y) ? F.y.map(Number) : null;
      if (!xs || !ys || xs.length !== ys.length) throw new Error("fit.x / fit.y are missing or differ in length");
      if (F.kind === "line") {
        m.fit = { kind: "line", x: xs, y: ys };
      } else if (F.kind === "boundary") {
        const G = F.grid | 0;
        if (!(G > 1)) throw new Error("fit.grid is invalid");
        if (!Array.isArray(F.extent) || F.extent.length !== 4 || !F.extent.every(isNum)) throw new Error("fit.extent is invalid");
        if (!Array.isArray(F.frames) || !F.frames.length) throw new Error("fit.frames is missing");
        const values = (Array.isArray(F.values) ? F.values : []).map((spec, i) => {
          try {
            return decodeArray(spec, `fit.values[${i}]`, 3);
          } catch (e) {
            errors.fit.push(e.message);
            return null;
          }
        });
        const label = Array.isArray(F.label) ? F.label.map(Number) : xs.map(() => 0);
        m.fit = { kind: "boundary", x: xs, y: ys, label, G, extent: F.extent.slice(), frames: F.frames.map(Number), values };
      } else {
        throw new Error(`unknown fit kind ${F.kind}`);
      }
    } catch (e) {
      errors.fit.push(e.message);
    }
  }
  return m;
}

function frameOfStep(steps, step) {
  let lo = 0, hi = steps.length - 1;
  if (hi < 0) return -1;
  if (steps[hi] < step) return hi;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] >= step) hi = mid; else lo = mid + 1;
  }
  return lo;
}

function nearestIndex(sorted, v) {
  let lo = 0, hi = sorted.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= v) lo = mid; else hi = mid;
  }
  return Math.abs(sorted[hi] - v) < Math.abs(sorted[lo] - v) ? hi : lo;
}

// ---------------------------------------------------------------- canvas helpers

function makeCanvas(w, h, dpr) {
  const c = document.createElement("canvas");
  c.width = Math.max(1, Math.round(w * dpr));
  c.height = Math.max(1, Math.round(h * dpr));
  const ctx = c.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { c, ctx };
}

function star(ctx, x, y, r, fill, stroke) {
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + (i * Math.PI) / 5, rr = i % 2 ? r * 0.45 : r;
    ctx[i ? "lineTo" : "moveTo"](x + rr * Math.cos(a), y + rr * Math.sin(a));
  }
  ctx.closePath();
  if (fill) {
    ctx.fillStyle = fill;
    ctx.fill();
  }
  ctx.lineWidth = 1.4;
  ctx.strokeStyle = stroke;
  ctx.stroke();
}

function cross(ctx, x, y, r, color, outline) {
  ctx.lineCap = "round";
  for (const [w, c] of [[r * 0.75, outline], [r * 0.42, color]]) {
    ctx.lineWidth = w;
    ctx.strokeStyle = c;
    ctx.beginPath();
    ctx.moveTo(x - r, y - r);
    ctx.lineTo(x + r, y + r);
    ctx.moveTo(x + r, y - r);
    ctx.lineTo(x - r, y + r);
    ctx.stroke();
  }
  ctx.lineCap = "butt";
}

// An arrow from (x, y) by (dx, dy); `grow` > 0 draws its outline (that much wider).
function arrow(ctx, x, y, dx, dy, color, width, grow) {
  const len = Math.hypot(dx, dy);
  if (!(len > 1.5)) return;
  const ux = dx / len, uy = dy / len;
  const head = Math.min(9, 3 + len * 0.35) * Math.sqrt(width / 2.2);
  const bx = x + dx - ux * head * 0.85, by = y + dy - uy * head * 0.85;
  const draw = (c, w, grow) => {
    ctx.strokeStyle = c;
    ctx.fillStyle = c;
    ctx.lineWidth = w;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(bx, by);
    ctx.stroke();
    const h = head + grow;
    ctx.beginPath();
    ctx.moveTo(x + dx + ux * grow * 0.6, y + dy + uy * grow * 0.6);
    ctx.lineTo(x + dx - ux * h - uy * h * 0.5, y + dy - uy * h + ux * h * 0.5);
    ctx.lineTo(x + dx - ux * h + uy * h * 0.5, y + dy - uy * h - ux * h * 0.5);
    ctx.closePath();
    ctx.fill();
  };
  ctx.lineCap = "round";
  draw(color, width + grow, grow * 0.75);
  ctx.lineCap = "butt";
}

function colorbar(ctx, x, y, w, h, lo, hi, isLog, theme, lut) {
  const img = ctx.createLinearGradient(0, y + h, 0, y);
  for (let i = 0; i <= 16; i++) {
    const k = Math.round((i / 16) * 255) * 3;
    const L = lut || VIRIDIS;
    img.addColorStop(i / 16, `rgb(${L[k]},${L[k + 1]},${L[k + 2]})`);
  }
  ctx.fillStyle = img;
  ctx.fillRect(x, y, w, h);
  ctx.strokeStyle = theme.axis;
  ctx.lineWidth = 1;
  ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
  const ticks = isLog ? logTicks(lo, hi, Math.max(2, Math.floor(h / 28))) : linTicks(lo, hi, Math.max(2, Math.floor(h / 30)));
  ctx.fillStyle = theme.muted;
  ctx.font = theme.font(10);
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  for (const t of ticks) {
    const ty = y + h - ((t.v - lo) / (hi - lo)) * h;
    ctx.fillRect(x + w, Math.round(ty) - 0.5, 3, 1);
    ctx.fillText(t.label, x + w + 5, clamp(ty, y + 5, y + h - 5));
  }
}

// ---------------------------------------------------------------- the animator

// What decides whether a new mount keeps the running instance: the layout options. `frame`
// and `autoplay` only set how a new instance starts (Python passes the last paused frame on
// every rerun so that a remount, e.g. after switching tabs, resumes there): changing them must
// not rebuild a running animation.
function optionsKeyOf(data) {
  const { frame, autoplay, ...layout } = (data && data.options) || {};
  return JSON.stringify(layout);
}

class Animator {
  constructor(root, data, callbacks, prev) {
    this.root = root;
    this.cb = callbacks;
    this.data = data;
    this.id = data && data.id;
    this.optionsKey = optionsKeyOf(data);
    this.alive = true;
    this.listeners = [];
    this.raf = 0;
    this.drawn = 0;
    this.drawTimes = [];
    this.reportTimer = 0;
    this.ripples = [];
    this.failed = {};
    this.divergedList = [];
    this.markers = [];
    const o = (data && data.options && typeof data.options === "object") ? data.options : {};
    this.options = o;
    this.model = parseModel(data);
    const m = this.model;
    const last = Math.max(0, m.R - 1);
    const byName = (name) => m.opts.findIndex((op) => op.name === name);
    const pickOpt = (v) => (typeof v === "string" ? byName(v) : Number.isInteger(v) ? v : -1);
    if (prev) {
      this.pos = clamp(prev.frame, 0, last);
      this.playing = prev.playing && m.R > 1;
      this.speed = prev.speed;
      this.loop = prev.loop;
      this.hidden = new Set(prev.hidden.filter((n) => byName(n) >= 0));
      this.focus = Math.max(0, byName(prev.focusName));
      this.start = clamp(prev.start, 0, m.S - 1);
      this.arrowOn = { ...prev.arrowOn };
      this.arrowAll = prev.arrowAll;
      this.arrowScale = prev.arrowScale;
    } else {
      this.pos = isNum(o.frame) ? clamp(Math.round(o.frame), 0, last) : 0;
      this.playing = o.autoplay !== false && m.R > 1;
      this.speed = SPEEDS.includes(o.speed) ? o.speed : 1;
      this.loop = o.loop !== undefined ? !!o.loop : true;
      this.hidden = new Set((Array.isArray(o.hidden) ? o.hidden : []).map(String));
      this.focus = Math.max(0, pickOpt(o.optimizer));
      this.start = isNum(o.start) ? clamp(o.start | 0, 0, m.S - 1) : 0;
      const shown = Array.isArray(o.arrows) ? o.arrows : ["grad", "momentum", "update"];
      this.arrowOn = Object.fromEntries(ARROWS.map((a) => [a.key, shown.includes(a.key)]));
      this.arrowAll = !!o.arrows_all;
      this.arrowScale = isNum(o.arrow_scale) && o.arrow_scale > 0 ? o.arrow_scale : 1;
    }
    if (this.focus >= m.opts.length) this.focus = 0;
    this.frame = Math.floor(this.pos);
    const alias = { heatmap: "lr", paths: "surface" };
    this.hide = new Set((Array.isArray(o.hide) ? o.hide : []).map((h) => alias[h] || String(h)));
    this.presentation = !!o.presentation;
    this.buildDom();
    this.readTheme();
    this.loadImage();
    this.layout();
    this.bindEvents();
    this.updateFrameUi(true);
    this.render();
    if (this.playing) this.startLoop();
    this.installHooks();
  }

  // ------------------------------------------------------------ DOM

  buildDom() {
    const m = this.model;
    const root = this.root;
    root.replaceChildren();
    root.className = "optviz" + (this.presentation ? " ov-present" : "");
    root.setAttribute("tabindex", "0");
    root.setAttribute("data-testid", "optviz");
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Optimizer animation");
    if (m.errors.general.length && !m.R) {
      root.append(el("div", { class: "ov-fatal", role: "alert", "data-testid": "ov-error", text: "Cannot animate: " + m.errors.general.join("; ") }));
      this.dom = null;
      return;
    }
    const d = (this.dom = {});
    const s = m.surface;
    // Header: title and legend.
    const nOpt = m.opts.length, last = m.steps[m.R - 1];
    const sub = `${nOpt} optimizer${nOpt === 1 ? "" : "s"}` + (m.S > 1 ? ` × ${m.S} starts` : "") +
      ` · ${last} steps` + (s.dim ? ` · ${s.dim} weight${s.dim === 1 ? "" : "s"}` : "") + (s.projected ? " · 2-D projection" : "");
    d.head = el("div", { class: "ov-head" },
      el("div", { class: "ov-titles" },
        el("div", { class: "ov-title", text: s.title || s.name || "Loss surface" }),
        el("div", { class: "ov-sub", text: sub })));
    d.legend = el("div", { class: "ov-legend", "data-testid": "ov-legend", role: "group", "aria-label": "Optimizers (click to show or hide)" });
    d.legendItems = m.opts.map((op, i) => {
      const fl = op.finalLoss.filter((v) => isNum(v));
      const b = el("button", {
        class: "ov-chip", type: "button", "data-testid": `ov-legend-${i}`, "data-name": op.name,
        title: `${op.name}${op.kind && op.kind !== op.name ? ` (${op.kind})` : ""}` + (fl.length ? ` · final loss ${fl.map((v) => fmt(v)).join(", ")}` : "") + " — click to hide/show, alt-click to show only this one",
      }, el("span", { class: "ov-swatch", style: `background:${op.color}` }), el("span", { class: "ov-chip-label", text: op.name }));
      d.legend.append(b);
      return b;
    });
    if (!this.hide.has("legend")) d.head.append(d.legend);
    root.append(d.head);
    // Panels.
    d.grid = el("div", { class: "ov-grid" });
    const panel = (name, title) => {
      const p = { name, el: el("div", { class: `ov-panel ov-panel-${name}`, "data-testid": `ov-panel-${name}` }) };
      p.title = el("span", { class: "ov-ptitle-text" }, title);
      p.head = el("div", { class: "ov-ptitle" }, p.title);
      p.canvas = el("canvas", { "data-testid": `ov-${name}`, class: "ov-canvas", role: "img", "aria-label": typeof title === "string" ? title : name });
      p.tip = el("div", { class: "ov-tip", "aria-hidden": "true" });
      p.msg = el("div", { class: "ov-msg", role: "status" });
      p.el.append(p.head, p.canvas, p.tip, p.msg);
      d.grid.append(p.el);
      return p;
    };
    this.panels = {};
    const has = {
      surface: !this.hide.has("surface"),
      lr: !this.hide.has("lr") && (m.opts.some((op) => op.lr) || !!m.lrLayers || m.errors.lr.length > 0),
      loss: !this.hide.has("loss"),
      fit: !this.hide.has("fit") && (!!m.fit || m.errors.fit.length > 0),
    };
    this.has = has;
    const colourNote = s.log ? "log colour" : "linear colour";
    if (has.surface) this.panels.surface = panel("surface", `Paths on the loss surface · ${colourNote}`);
    if (has.lr) {
      this.lrMode = m.opts.some((op) => op.lr) ? "inline" : m.lrLayers ? "layers" : "none";
      this.panels.lr = panel("lr", this.lrMode === "layers" ? "Learning rate of every weight" : "Per-weight learning rate over steps · log₁₀ colour");
    }
    if (has.loss) this.panels.loss = panel("loss", "Loss · log scale");
    if (has.fit) this.panels.fit = panel("fit", m.fit && m.fit.kind === "boundary" ? "Decision boundary · p(class 1)" : "Model fit at the current step");
    for (const [k, p] of Object.entries(this.panels)) {
      if (m.errors[k] && m.errors[k].length) this.panelMessage(k, m.errors[k].join("; "));
    }
    if (has.surface) {
      d.readout = el("div", { class: "ov-readout", "data-testid": "ov-readout", "aria-live": "off" });
      this.panels.surface.el.append(d.readout);
      const key = el("span", { class: "ov-key", "data-testid": "ov-key" });
      const item = (svg, label) => key.append(el("span", { class: "ov-key-item", html: `${svg}${esc(label)}` }));
      const sv = (body) => `<svg viewBox="0 0 12 12" width="11" height="11" aria-hidden="true">${body}</svg>`;
      const ink = "currentColor";
      item(sv(`<rect x="2" y="2" width="8" height="8" fill="${ink}" opacity=".75"/>`), "start");
      item(sv(`<circle cx="6" cy="6" r="4.2" fill="${ink}" opacity=".75"/>`), "now");
      const starPath = "M6 .8l1.5 3.3 3.6.4-2.7 2.4.8 3.5L6 8.6 2.8 10.4l.8-3.5L.9 4.5l3.6-.4z";
      if (Array.isArray(s.minima) && s.minima.length) item(sv(`<path d="${starPath}" fill="${ink}" opacity=".75"/>`), "minimum");
      if (Array.isArray(s.local_minima) && s.local_minima.length) item(sv(`<path d="${starPath}" fill="none" stroke="${ink}" stroke-width="1.1"/>`), "local min.");
      if (m.S > 1) item(sv(`<path d="M0 6h3.5M5 6h3.5M10 6h2" stroke="${ink}" stroke-width="1.6"/>`), "start 2+");
      if (m.opts.some((op) => op.ema)) item(sv(`<path d="M1.5 6h0M6 6h0M10.5 6h0" stroke="${ink}" stroke-width="2.2" stroke-linecap="round"/>`), "EMA");
      if (m.opts.some((op) => op.diverged.some((v) => v >= 0))) item(sv(`<path d="M2 2l8 8M10 2l-8 8" stroke="${RED}" stroke-width="2.4" stroke-linecap="round"/>`), "diverged");
      this.panels.surface.head.append(key);
    }
    root.append(d.grid);
    // Controls.
    const btn = (key, label, icon) => el("button", { class: "ov-btn", type: "button", "data-testid": `ov-${key}`, "aria-label": label, title: label, html: icon });
    d.first = btn("first", "First step (Home)", ICONS.first);
    d.back = btn("back", "Step back (←)", ICONS.back);
    d.play = btn("play", "Play (space)", ICONS.play);
    d.play.classList.add("ov-btn-main");
    d.forward = btn("forward", "Step forward (→)", ICONS.forward);
    d.last = btn("last", "Last step (End)", ICONS.last);
    d.scrub = el("input", { type: "range", class: "ov-scrub", min: 0, max: Math.max(0, m.R - 1), step: 1, value: this.frame, "data-testid": "ov-scrub", "aria-label": "Scrub through the steps" });
    d.stepLabel = el("span", { class: "ov-step", "data-testid": "ov-step-label", "aria-live": "off" });
    d.speed = el("select", { class: "ov-select", "data-testid": "ov-speed", "aria-label": "Playback speed", title: "Playback speed (1x = 30 frames per second)" },
      ...SPEEDS.map((v) => el("option", { value: v, text: `${v}×` })));
    d.speed.value = String(this.speed);
    d.loopBtn = el("button", { class: "ov-btn ov-toggle", type: "button", "data-testid": "ov-loop", "aria-label": "Loop", title: "Loop playback", "aria-pressed": String(this.loop), html: ICONS.loop });
    d.controls = el("div", { class: "ov-controls", role: "toolbar", "aria-label": "Playback" },
      el("div", { class: "ov-btns" }, d.first, d.back, d.play, d.forward, d.last), d.scrub, d.stepLabel, d.speed, d.loopBtn);
    if (!this.hide.has("controls")) root.append(d.controls);
    // Tools: focus optimizer, start, arrows.
    d.focus = el("select", { class: "ov-select", "data-testid": "ov-focus", "aria-label": "Optimizer to inspect" },
      ...m.opts.map((op, i) => el("option", { value: i, text: op.name })));
    d.focus.value = String(this.focus);
    const tools = [el("label", { class: "ov-field" }, el("span", { text: "Inspect" }), d.focus)];
    if (m.S > 1) {
      d.start = el("select", { class: "ov-select", "data-testid": "ov-start", "aria-label": "Start point" },
        ...Array.from({ length: m.S }, (_, s) => el("option", { value: s, text: `start ${s + 1}` })));
      d.start.value = String(this.start);
      tools.push(el("label", { class: "ov-field" }, el("span", { text: "Start" }), d.start));
    }
    d.arrowChips = ARROWS.map((a) => el("button", {
      class: "ov-chip ov-arrow-chip", type: "button", "data-testid": `ov-arrow-${a.key}`, "aria-pressed": String(!!this.arrowOn[a.key]), title: `Show the ${a.title} arrow`,
    }, el("span", { class: "ov-arrow-sw", html: arrowSwatch(a.color) }), el("span", { text: a.label })));
    d.arrowAllChip = el("button", { class: "ov-chip", type: "button", "data-testid": "ov-arrow-all", "aria-pressed": String(this.arrowAll), title: "Arrows for every optimizer, not only the inspected one" }, el("span", { text: "all optimizers" }));
    d.arrowScale = el("input", { type: "range", class: "ov-mini-range", min: -2, max: 2, step: 0.25, value: Math.log2(this.arrowScale), "data-testid": "ov-arrow-scale", "aria-label": "Arrow length" });
    tools.push(el("div", { class: "ov-field ov-arrows", role: "group", "aria-label": "Arrows on the surface" },
      el("span", { text: "Arrows" }), ...d.arrowChips, d.arrowAllChip, el("span", { class: "ov-dim", text: "length" }), d.arrowScale));
    d.tools = el("div", { class: "ov-tools" }, ...tools);
    if (!this.hide.has("tools")) root.append(d.tools);
    // Events (divergence, hits), static list.
    d.events = el("div", { class: "ov-events", "data-testid": "ov-diverged", "aria-live": "polite" });
    const events = [];
    m.opts.forEach((op) => {
      op.diverged.forEach((st, s) => {
        if (st >= 0) events.push(el("div", { class: "ov-event ov-event-bad" }, el("span", { class: "ov-x", text: "✕" }), ` ${op.name}${m.S > 1 ? ` (start ${s + 1})` : ""} diverged at step ${st}`));
      });
    });
    const hits = [];
    m.opts.forEach((op) => op.hit.forEach((st, s) => {
      if (st >= 0) hits.push(`${op.name}${m.S > 1 ? ` (start ${s + 1})` : ""} at step ${st}`);
    }));
    if (hits.length) events.push(el("div", { class: "ov-event ov-event-good" }, el("span", { text: "✓" }), ` reached the minimum: ${hits.join(", ")}`));
    d.events.append(...events);
    this.divergedList = [];
    m.opts.forEach((op) => op.diverged.forEach((st, s) => {
      if (st >= 0) this.divergedList.push({ name: op.name, start: s, step: st, frame: op.divFrame[s] });
    }));
    if (!this.hide.has("events") && events.length) root.append(d.events);
    // Inside the focused optimizer.
    d.inside = el("div", { class: "ov-inside", "data-testid": "ov-inside" });
    if (!this.hide.has("inside")) root.append(d.inside);
    this.buildInside();
  }

  panelMessage(name, text) {
    const p = this.panels && this.panels[name];
    if (!p) return;
    p.msg.textContent = text || "";
    p.msg.style.display = text ? "block" : "none";
  }

  readTheme() {
    const cs = getComputedStyle(this.root);
    const text = parseColor(cs.color) || [49, 51, 63];
    let bg = parseColor(cs.backgroundColor);
    if (!bg) bg = [255, 255, 255];
    const dark = luminance(bg) < 0.45;
    const family = cs.fontFamily || "sans-serif";
    this.themeKey = `${cs.color}|${cs.backgroundColor}|${cs.fontFamily}`;
    const scale = this.presentation ? 1.3 : 1;
    this.theme = {
      dark, scale,
      text: rgba(text, 1),
      muted: rgba(text, 0.7),
      faint: rgba(text, 0.45),
      grid: rgba(text, dark ? 0.13 : 0.1),
      axis: rgba(text, 0.35),
      bg: rgba(bg, 1),
      plotBg: dark ? "rgba(255,255,255,0.035)" : "rgba(0,0,0,0.025)",
      font: (px, weight) => `${weight || 400} ${Math.round(px * scale * 10) / 10}px ${family}`,
    };
  }

  // The app's theme may change between reruns: redraw the static layers if it did.
  refreshTheme() {
    const cs = getComputedStyle(this.root);
    const key = `${cs.color}|${cs.backgroundColor}|${cs.fontFamily}`;
    if (key === this.themeKey) return;
    this.readTheme();
    this.buildStatic();
    this.requestRender();
  }

  // ------------------------------------------------------------ layout

  layout() {
    if (!this.dom) return;
    const m = this.model;
    const W = Math.max(240, Math.floor(this.root.clientWidth || this.root.getBoundingClientRect().width || 900));
    this.width = W;
    const gap = 12;
    const present = this.presentation;
    const P = this.panels;
    const rights = ["lr", "loss", "fit"].filter((k) => P[k]);
    const rects = {};
    const optHeight = isNum(this.options.height) ? this.options.height : null;
    let H;
    if (W >= 720) {
      H = optHeight || (present ? 560 : 480);
      if (P.surface) {
        const square = H - 22 - 44 + 118; // a square plot: title, x axis, y axis and colour bar
        const sw = rights.length ? Math.min(square, Math.round(W * 0.56)) : Math.min(W, square + 40);
        rects.surface = [0, 0, sw, H];
      }
      const x0 = P.surface ? rects.surface[2] + gap : 0;
      const rw = W - x0;
      if (rights.length === 1) rects[rights[0]] = [x0, 0, rw, H];
      else if (rights.length === 2) {
        const h0 = Math.round(H * (rights[0] === "lr" ? this.lrShare(H) : 0.5));
        rects[rights[0]] = [x0, 0, rw, h0 - gap / 2];
        rects[rights[1]] = [x0, h0 + gap / 2, rw, H - h0 - gap / 2];
      } else if (rights.length === 3) {
        const h0 = Math.round(H * this.lrShare(H));
        rects.lr = [x0, 0, rw, h0 - gap / 2];
        const lw = Math.round((rw - gap) * 0.5);
        rects.loss = [x0, h0 + gap / 2, lw, H - h0 - gap / 2];
        rects.fit = [x0 + lw + gap, h0 + gap / 2, rw - lw - gap, H - h0 - gap / 2];
      }
    } else {
      let y = 0;
      const heights = { surface: Math.min(W, optHeight || 440), lr: this.lrMode === "layers" ? 260 : clamp(this.lrRows() * 12 + 70, 150, 300), loss: 220, fit: 260 };
      for (const k of ["surface", "lr", "loss", "fit"]) {
        if (!P[k]) continue;
        rects[k] = [0, y, W, heights[k]];
        y += heights[k] + gap;
      }
      H = Math.max(0, y - gap);
    }
    this.dom.grid.style.height = `${H}px`;
    this.dom.grid.style.display = Object.keys(P).length ? "" : "none";
    const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    this.dpr = dpr;
    for (const [k, p] of Object.entries(P)) {
      const [x, y, w, h] = rects[k];
      Object.assign(p.el.style, { left: `${x}px`, top: `${y}px`, width: `${w}px`, height: `${h}px` });
      const th = 22 * (present ? 1.25 : 1);
      p.w = Math.max(10, w);
      p.h = Math.max(10, h - th);
      p.canvas.style.width = `${p.w}px`;
      p.canvas.style.height = `${p.h}px`;
      p.canvas.width = Math.round(p.w * dpr);
      p.canvas.height = Math.round(p.h * dpr);
      p.ctx = p.canvas.getContext("2d");
      p.static = makeCanvas(p.w, p.h, dpr);
    }
    this.buildStatic();
  }

  lrRows() {
    const m = this.model;
    return m.opts.reduce((n, op) => n + (op.lr ? op.lr.shape[2] : 0), 0);
  }

  lrShare(H) {
    if (this.lrMode === "inline") return clamp((this.lrRows() * 13 + 70) / H, 0.3, 0.55);
    return 0.55;
  }

  // Everything drawn once per layout / data / visibility change.
  buildStatic() {
    if (!this.dom) return;
    const guard = (name, fn) => {
      if (!this.panels[name] || this.failed[name]) return;
      try {
        fn.call(this, this.panels[name]);
      } catch (e) {
        this.fail(name, e);
      }
    };
    guard("surface", this.buildSurface);
    guard("lr", this.buildLr);
    guard("loss", this.buildLoss);
    guard("fit", this.buildFit);
    this.lastSampled = {};
  }

  fail(name, e) {
    this.failed[name] = true;
    console.warn(`optimizer animator: ${name} panel:`, e);
    this.panelMessage(name, `${name} panel unavailable: ${e && e.message ? e.message : e}`);
  }

  visible(i) {
    return !this.hidden.has(this.model.opts[i].name);
  }

  // ------------------------------------------------------------ surface

  loadImage() {
    this.image = null;
    const src = this.model.surface && this.model.surface.image;
    if (typeof src !== "string" || !src.startsWith("data:image/")) {
      if (this.panels && this.panels.surface && !this.model.errors.surface.length) this.panelMessage("surface", "the surface image is missing");
      return;
    }
    const cached = imageCache.get(src);
    if (cached) {
      this.image = cached;
      return;
    }
    const img = new Image();
    img.onload = () => {
      imageCache.set(src, img);
      while (imageCache.size > 6) imageCache.delete(imageCache.keys().next().value);
      if (!this.alive) return;
      this.image = img;
      if (this.panels.surface && !this.failed.surface) {
        try {
          this.buildSurface(this.panels.surface);
        } catch (e) {
          this.fail("surface", e);
        }
        this.requestRender();
      }
    };
    img.onerror = () => this.panelMessage("surface", "the surface image could not be decoded");
    img.src = src;
  }

  buildSurface(p) {
    const m = this.model, t = this.theme, ctx = p.static.ctx;
    const s = m.surface;
    const sc = t.scale;
    const mg = { l: Math.round(50 * sc), r: Math.round(66 * sc), t: 8, b: Math.round(40 * sc) };
    const pw = Math.max(10, p.w - mg.l - mg.r), ph = Math.max(10, p.h - mg.t - mg.b);
    const ext = m.extent || [-1, 1, -1, 1];
    const [x0, x1, y0, y1] = ext;
    const plot = (p.plot = { x: mg.l, y: mg.t, w: pw, h: ph, ext });
    const X = (x) => plot.x + ((x - x0) / (x1 - x0)) * pw;
    const Y = (y) => plot.y + ((y1 - y) / (y1 - y0)) * ph;
    p.X = X;
    p.Y = Y;
    ctx.clearRect(0, 0, p.w, p.h);
    ctx.fillStyle = t.plotBg;
    ctx.fillRect(plot.x, plot.y, pw, ph);
    if (this.image) {
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(this.image, plot.x, plot.y, pw, ph);
    }
    ctx.strokeStyle = t.axis;
    ctx.lineWidth = 1;
    ctx.strokeRect(plot.x - 0.5, plot.y - 0.5, pw + 1, ph + 1);
    // Axes.
    ctx.fillStyle = t.muted;
    ctx.font = t.font(11);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const tk of linTicks(x0, x1, Math.max(3, Math.floor(pw / 70)))) {
      const px = Math.round(X(tk.v)) + 0.5;
      ctx.fillRect(px - 0.5, plot.y + ph, 1, 4);
      ctx.fillText(tk.label, px, plot.y + ph + 6);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const tk of linTicks(y0, y1, Math.max(3, Math.floor(ph / 60)))) {
      const py = Math.round(Y(tk.v)) + 0.5;
      ctx.fillRect(plot.x - 4, py - 0.5, 4, 1);
      ctx.fillText(tk.label, plot.x - 7, py);
    }
    const axes = Array.isArray(s.axes) && s.axes.length === 2 ? s.axes.map(String) : ["x", "y"];
    ctx.fillStyle = t.text;
    ctx.font = t.font(12, 500);
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(axes[0], plot.x + pw / 2, p.h - 2);
    ctx.save();
    ctx.translate(12 * sc, plot.y + ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(axes[1], 0, 0);
    ctx.restore();
    // Colour bar of the surface.
    if (isNum(s.vmin) && isNum(s.vmax) && s.vmax > s.vmin) {
      const cbx = plot.x + pw + 12 * sc;
      colorbar(ctx, cbx, plot.y, 10 * sc, ph, s.vmin, s.vmax, !!s.log, t);
      ctx.save();
      ctx.fillStyle = t.muted;
      ctx.font = t.font(11);
      ctx.translate(p.w - 6 * sc, plot.y + ph / 2);
      ctx.rotate(Math.PI / 2);
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      const floor = s.log && isNum(s.floor) && s.floor !== 0 ? ` − ${fmt(s.floor)}` : "";
      ctx.fillText(`loss${floor}${s.log ? " (log)" : ""}`, 0, 0);
      ctx.restore();
    }
    // Precompute the pixel paths.
    const R = m.R;
    for (const op of m.opts) {
      op.px = null;
      op.emaPx = null;
      if (!op.path) continue;
      const toPx = (arr) => {
        const S = arr.shape[0], out = [];
        for (let s2 = 0; s2 < S; s2++) {
          const a = new Float32Array(R * 2);
          for (let r = 0; r < R; r++) {
            const k = (s2 * R + r) * 2, vx = arr.data[k], vy = arr.data[k + 1];
            if (Number.isFinite(vx) && Number.isFinite(vy)) {
              a[r * 2] = clamp(X(vx), -1e5, 1e5);
              a[r * 2 + 1] = clamp(Y(vy), -1e5, 1e5);
            } else {
              a[r * 2] = NaN;
              a[r * 2 + 1] = NaN;
            }
          }
          out.push(a);
        }
        return out;
      };
      op.px = toPx(op.path);
      if (op.ema) op.emaPx = toPx(op.ema);
      // Arrow scales: a robust typical length of 34 px per (optimizer, kind).
      op.arrowK = {};
      op.arrowSign = {};
      const sx = pw / (x1 - x0), sy = ph / (y1 - y0);
      for (const a of ARROWS) {
        const arr = op.arrows[a.key];
        if (!arr) continue;
        const lens = [];
        let dot = 0;
        const g = op.arrows.grad;
        const n = arr.shape[0] * R;
        const stride = Math.max(1, Math.floor(n / 2000));
        for (let q = 0; q < n; q += stride) {
          const vx = arr.data[q * 2] * sx, vy = arr.data[q * 2 + 1] * sy;
          const len = Math.hypot(vx, vy);
          if (Number.isFinite(len) && len > 0) lens.push(len);
          if (g && a.key === "momentum") {
            const d2 = arr.data[q * 2] * g.data[q * 2] + arr.data[q * 2 + 1] * g.data[q * 2 + 1];
            if (Number.isFinite(d2)) dot += Math.sign(d2);
          }
        }
        lens.sort((u, v) => u - v);
        const med = lens.length ? lens[Math.floor(lens.length * 0.5)] : 0;
        op.arrowK[a.key] = med > 0 ? 34 / med : 0;
        // momentum points the way it pushes the weights: against the gradient for m_t-like
        // buffers (Adam's m_t, heavy-ball m_t), as stored for velocity-like ones (SGD v_t).
        op.arrowSign[a.key] = a.key === "grad" ? -1 : a.key === "momentum" && dot > 0 ? -1 : 1;
      }
    }
    // Faint full paths, start squares, minima.
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.x, plot.y, pw, ph);
    ctx.clip();
    m.opts.forEach((op, i) => {
      if (!op.px || !this.visible(i)) return;
      op.px.forEach((a, s2) => {
        ctx.strokeStyle = rgba(op.rgb, 0.38);
        ctx.lineWidth = 1.2;
        ctx.setLineDash(s2 ? [4, 3] : []);
        polyline(ctx, a, 0, R - 1, 1);
        ctx.stroke();
      });
      ctx.setLineDash([]);
    });
    const mins = Array.isArray(s.minima) ? s.minima : [];
    const locs = Array.isArray(s.local_minima) ? s.local_minima : [];
    for (const q of locs) if (Array.isArray(q) && isNum(q[0]) && isNum(q[1])) star(ctx, X(q[0]), Y(q[1]), 7 * sc, null, "#ffffff");
    for (const q of mins) if (Array.isArray(q) && isNum(q[0]) && isNum(q[1])) star(ctx, X(q[0]), Y(q[1]), 8.5 * sc, "#ffffff", "rgba(0,0,0,0.75)");
    m.opts.forEach((op, i) => {
      if (!op.px || !this.visible(i)) return;
      op.px.forEach((a) => {
        const x = a[0], y = a[1];
        if (!Number.isFinite(x)) return;
        const r = 4.5 * sc;
        ctx.fillStyle = op.color;
        ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
        ctx.strokeStyle = "#ffffff";
        ctx.lineWidth = 1.5;
        ctx.strokeRect(x - r, y - r, 2 * r, 2 * r);
      });
    });
    ctx.restore();
  }

  drawSurface(p) {
    const m = this.model, ctx = p.ctx, t = this.theme, sc = t.scale;
    const plot = p.plot;
    if (!plot) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, p.canvas.width, p.canvas.height);
    ctx.drawImage(p.static.c, 0, 0);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const pos = this.pos, f = Math.floor(pos), frac = pos - f, R = m.R;
    const markers = [];
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.x, plot.y, plot.w, plot.h);
    ctx.clip();
    ctx.lineJoin = "round";
    // Trails.
    m.opts.forEach((op, i) => {
      if (!op.px || !this.visible(i)) return;
      op.px.forEach((a, s2) => {
        const cur = interp(a, f, frac, R);
        for (const [w, c] of [[4 * sc, "rgba(0,0,0,0.35)"], [2.2 * sc, op.color]]) {
          ctx.strokeStyle = c;
          ctx.lineWidth = w;
          ctx.setLineDash(s2 ? [6, 4] : []);
          polyline(ctx, a, 0, f, 1);
          if (cur) ctx.lineTo(cur[0], cur[1]);
          ctx.stroke();
        }
        ctx.setLineDash([]);
        if (op.emaPx && op.emaPx[s2]) {
          const e = op.emaPx[s2];
          ctx.strokeStyle = op.color;
          ctx.lineWidth = 2.2 * sc;
          ctx.lineCap = "round";
          ctx.setLineDash([0.1, 4.5 * sc]);
          polyline(ctx, e, 0, f, 1);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.lineCap = "butt";
          const ec = interp(e, f, frac, R);
          if (ec) {
            ctx.beginPath();
            ctx.arc(ec[0], ec[1], 3.5 * sc, 0, 2 * Math.PI);
            ctx.fillStyle = "#ffffff";
            ctx.fill();
            ctx.strokeStyle = op.color;
            ctx.lineWidth = 2;
            ctx.stroke();
          }
        }
      });
    });
    ctx.restore();
    // Arrows, current points, divergence crosses (unclipped, positions clamped to the plot).
    const inPlot = (x, y) => [clamp(x, plot.x, plot.x + plot.w), clamp(y, plot.y, plot.y + plot.h)];
    const fr = clamp(Math.round(pos), 0, R - 1);
    m.opts.forEach((op, i) => {
      if (!op.px || !this.visible(i)) return;
      const showArrows = this.arrowAll || i === this.focus;
      op.px.forEach((a, s2) => {
        const cur = interp(a, f, frac, R) || lastFinite(a, f);
        if (!cur) return;
        const [cx, cy] = inPlot(cur[0], cur[1]);
        const divF = op.divFrame[s2];
        const div = divF >= 0 && pos >= divF;
        if (showArrows && !div && op.arrowK && (this.arrowAll || s2 === this.start || m.S === 1)) {
          const todo = [];
          for (const A of ARROWS) {
            const arr = op.arrows[A.key];
            if (!arr || !this.arrowOn[A.key] || !op.arrowK[A.key]) continue;
            const k = ((s2 * R + fr) * 2);
            const sx = plot.w / (plot.ext[1] - plot.ext[0]), sy = plot.h / (plot.ext[3] - plot.ext[2]);
            // Length: 34 px at the run's median magnitude, square-root compressed so that
            // both tiny and huge vectors stay readable; direction exact.
            const vx = arr.data[k] * sx * op.arrowSign[A.key], vy = -arr.data[k + 1] * sy * op.arrowSign[A.key];
            const raw = Math.hypot(vx, vy);
            if (!Number.isFinite(raw) || raw === 0) continue;
            const cap = 0.3 * Math.min(plot.w, plot.h);
            const len = clamp(34 * Math.sqrt(raw * op.arrowK[A.key] / 34) * this.arrowScale, 9, cap);
            todo.push([(vx / raw) * len, (vy / raw) * len, A]);
          }
          // Every outline first, then the colours widest first.
          for (const [dx, dy, A] of todo) arrow(ctx, cx, cy, dx, dy, "rgba(0,0,0,0.5)", A.width * sc, 2);
          for (const [dx, dy, A] of todo) arrow(ctx, cx, cy, dx, dy, A.color, A.width * sc, 0);
        }
        if (div) {
          cross(ctx, cx, cy, 7 * sc, RED, "#ffffff");
        } else {
          ctx.beginPath();
          ctx.arc(cx, cy, 5.5 * sc, 0, 2 * Math.PI);
          ctx.fillStyle = op.color;
          ctx.fill();
          ctx.lineWidth = 2;
          ctx.strokeStyle = "#ffffff";
          ctx.stroke();
        }
        markers.push({ name: op.name, start: s2, x: cx, y: cy, diverged: div });
      });
    });
    // Divergence messages reached so far, at the top of the plot.
    const reached = this.divergedList.filter((d) => pos >= d.frame && this.visible(m.opts.findIndex((o) => o.name === d.name)));
    if (reached.length) {
      ctx.font = t.font(12, 600);
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      const lh = 19 * sc;
      reached.slice(0, 4).forEach((d, j) => {
        const full = `${d.name}${m.S > 1 ? ` (start ${d.start + 1})` : ""} diverged at step ${d.step}` + (j === 3 && reached.length > 4 ? ` (+${reached.length - 4} more)` : "");
        const txt = fitText(ctx, full, plot.w - 40 * sc);
        const tw = ctx.measureText(txt).width;
        const bx = plot.x + 14, by = plot.y + 14 + j * (lh + 3);
        ctx.fillStyle = "rgba(20,20,24,0.78)";
        roundRect(ctx, bx, by, tw + 26 * sc, lh, 4);
        ctx.fill();
        cross(ctx, bx + 9 * sc, by + lh / 2, 3.5 * sc, RED, "rgba(0,0,0,0)");
        ctx.fillStyle = "#ffffff";
        ctx.fillText(txt, bx + 18 * sc, by + lh / 2 + 0.5);
      });
    }
    // Click ripples.
    const now = performance.now();
    this.ripples = this.ripples.filter((r) => now - r.t < 700);
    for (const r of this.ripples) {
      const k = (now - r.t) / 700;
      ctx.beginPath();
      ctx.arc(r.x, r.y, 4 + 18 * k, 0, 2 * Math.PI);
      ctx.strokeStyle = `rgba(255,255,255,${1 - k})`;
      ctx.lineWidth = 2;
      ctx.stroke();
    }
    this.markers = markers;
  }

  // ------------------------------------------------------------ learning-rate panel

  buildLr(p) {
    if (this.lrMode === "inline") this.buildLrInline(p);
    else if (this.lrMode === "layers") this.buildLrLayers(p);
  }

  buildLrInline(p) {
    const m = this.model, t = this.theme, ctx = p.static.ctx, sc = t.scale, R = m.R;
    ctx.clearRect(0, 0, p.w, p.h);
    const rows = [];
    m.opts.forEach((op, i) => {
      if (!op.lr) return;
      const dim = op.lr.shape[2];
      for (let d = 0; d < dim; d++) rows.push({ i, d, op, label: `${op.name} · ${m.weights[d] || `w${d + 1}`}` });
    });
    p.rows = rows;
    if (!rows.length) {
      this.panelMessage("lr", "no per-weight learning rates in this run");
      return;
    }
    // Shared log10 scale over every finite positive value (1st..99th percentile).
    const logs = [];
    for (const op of m.opts) {
      if (!op.lr) continue;
      const a = op.lr.data, step = Math.max(1, Math.floor(a.length / 20000));
      for (let k = 0; k < a.length; k += step) if (a[k] > 0 && Number.isFinite(a[k])) logs.push(Math.log10(a[k]));
    }
    logs.sort((u, v) => u - v);
    let lo = logs.length ? logs[Math.floor(logs.length * 0.01)] : -4, hi = logs.length ? logs[Math.min(logs.length - 1, Math.floor(logs.length * 0.99))] : 0;
    if (!(hi - lo > 1e-3)) {
      lo -= 0.5;
      hi += 0.5;
    }
    p.lo = lo;
    p.hi = hi;
    const rowH0 = (p.h - 8 - 30 * sc) / rows.length;
    const perWeightLabels = rowH0 >= 11.5 * sc;
    ctx.font = t.font(11);
    const labelOf = (r) => (perWeightLabels ? r.label : r.op.name);
    let lw = 0;
    for (const r of rows) lw = Math.max(lw, ctx.measureText(labelOf(r)).width);
    lw = Math.min(Math.ceil(lw) + 12, Math.round(p.w * 0.38));
    const mg = { l: lw, r: Math.round(56 * sc), t: 6, b: Math.round(30 * sc) };
    const hw = Math.max(10, p.w - mg.l - mg.r), hh = Math.max(10, p.h - mg.t - mg.b);
    const rowH = hh / rows.length;
    const hm = (p.hm = { x: mg.l, y: mg.t, w: hw, h: hh, rowH });
    // Body at device resolution horizontally: each pixel column shows its nearest frame.
    const cols = Math.max(1, Math.round(hw * this.dpr));
    const body = document.createElement("canvas");
    body.width = cols;
    body.height = rows.length;
    const bctx = body.getContext("2d");
    const img = bctx.createImageData(cols, rows.length);
    const px = img.data;
    rows.forEach((r, ri) => {
      const a = r.op.lr.data, dim = r.op.lr.shape[2], s2 = Math.min(this.start, r.op.lr.shape[0] - 1);
      const dimmed = !this.visible(r.i);
      for (let c = 0; c < cols; c++) {
        const fr = R > 1 ? Math.round((c / Math.max(1, cols - 1)) * (R - 1)) : 0;
        const v = a[(s2 * R + fr) * dim + r.d];
        const o = (ri * cols + c) * 4;
        if (v > 0 && Number.isFinite(v)) {
          const k = Math.round(clamp((Math.log10(v) - lo) / (hi - lo), 0, 1) * 255) * 3;
          px[o] = VIRIDIS[k];
          px[o + 1] = VIRIDIS[k + 1];
          px[o + 2] = VIRIDIS[k + 2];
          px[o + 3] = dimmed ? 50 : 255;
        } else {
          px[o] = px[o + 1] = px[o + 2] = 128;
          px[o + 3] = dimmed ? 30 : 90;
        }
      }
    });
    bctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(body, hm.x, hm.y, hw, hh);
    ctx.imageSmoothingEnabled = true;
    // Group separators and labels.
    ctx.fillStyle = t.muted;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    let prevI = -1;
    rows.forEach((r, ri) => {
      const y = hm.y + ri * rowH;
      if (r.i !== prevI && ri > 0) {
        ctx.fillStyle = t.bg;
        ctx.fillRect(hm.x, Math.round(y) - 1, hw, 2);
      }
      ctx.fillStyle = this.visible(r.i) ? t.text : t.faint;
      if (perWeightLabels) {
        ctx.fillText(r.label.length > 40 ? r.label.slice(0, 39) + "…" : r.label, hm.x - 6, y + rowH / 2);
      } else if (r.i !== prevI) {
        const n = rows.filter((q) => q.i === r.i).length;
        const txt = r.op.name;
        if (n * rowH >= 8) ctx.fillText(fitText(ctx, txt, lw - 10), hm.x - 6, y + (n * rowH) / 2);
      }
      if (r.i !== prevI) {
        ctx.fillStyle = r.op.color;
        ctx.fillRect(hm.x - 3, y + 1, 2, rows.filter((q) => q.i === r.i).length * rowH - 2);
      }
      prevI = r.i;
    });
    ctx.strokeStyle = t.axis;
    ctx.lineWidth = 1;
    ctx.strokeRect(hm.x - 0.5, hm.y - 0.5, hw + 1, hh + 1);
    // Step ticks.
    const steps = m.steps, last = steps[R - 1] || 1;
    ctx.fillStyle = t.muted;
    ctx.font = t.font(10.5);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const tk of linTicks(steps[0], last, Math.max(2, Math.floor(hw / 70)))) {
      const fr = frameOfStep(steps, tk.v);
      const x = hm.x + (R > 1 ? (fr / (R - 1)) * hw : 0);
      ctx.fillRect(Math.round(x), hm.y + hh, 1, 3);
      ctx.fillText(tk.label, clamp(x, hm.x + 8, hm.x + hw - 8), hm.y + hh + 5);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillText("step", hm.x + hw, p.h - 1);
    colorbar(ctx, hm.x + hw + 10 * sc, hm.y, 10 * sc, hh, lo, hi, true, t);
  }

  buildLrLayers(p) {
    const m = this.model, t = this.theme, ctx = p.static.ctx, sc = t.scale;
    const L = m.lrLayers;
    ctx.clearRect(0, 0, p.w, p.h);
    if (!L) return;
    const vals = L.values[this.focus];
    if (!vals) {
      this.panelMessage("lr", `no per-layer learning rates for ${m.opts[this.focus] ? m.opts[this.focus].name : "this optimizer"}`);
    } else if (!(m.errors.lr.length)) this.panelMessage("lr", "");
    const mg = { l: 8, r: Math.round(62 * sc), t: 6, b: 6 };
    const aw = p.w - mg.l - mg.r;
    // Below the matrices, a strip over the steps: each layer's median learning rate at the
    // sampled frames (rows = layers), with the cursor at the current step.
    const nL = L.layers.length;
    const stripRow = clamp(Math.floor((p.h * 0.3 - 22 * sc) / Math.max(1, nL)), 4, 13 * sc);
    const strip = vals && nL <= 24 && p.h > 170 ? { h: nL * stripRow, row: stripRow } : null;
    const ah = p.h - mg.t - mg.b - (strip ? strip.h + 44 * sc : 0);
    const labelH = 16 * sc, gapX = 22, gapY = 10, stackGap = 2;
    ctx.font = t.font(11);
    const labelW = (l) => ctx.measureText(`${l.name} ${l.rows}×${l.cols}`).width + 4;
    // A bias row goes under its weight matrix (same number of columns): W1 over b1, ...
    const groups = [];
    for (const l of L.layers) {
      const g = groups[groups.length - 1];
      if (g && g.length === 1 && l.rows === 1 && g[0].cols === l.cols && g[0].rows > 1) g.push(l);
      else groups.push([l]);
    }
    // Shelf-pack the groups with the largest cell size that fits.
    let best = null;
    for (let cell = 32; cell >= 1.5; cell -= cell > 8 ? 1 : 0.5) {
      const pos = [];
      let x = 0, y = 0, shelf = 0, ok = true, right = 0;
      for (const g of groups) {
        const gw = Math.max(...g.map((l) => Math.max(l.cols * cell, labelW(l))));
        const gh = g.reduce((h, l) => h + labelH + l.rows * cell, 0) + (g.length - 1) * stackGap;
        if (gw > aw) {
          ok = false;
          break;
        }
        if (x > 0 && x + gw > aw) {
          x = 0;
          y += shelf + gapY;
          shelf = 0;
        }
        pos.push({ x, y });
        right = Math.max(right, x + gw);
        x += gw + gapX;
        shelf = Math.max(shelf, gh);
      }
      if (ok && y + shelf <= ah) {
        best = { cell, pos, height: y + shelf, width: right };
        break;
      }
    }
    if (!best) {
      this.panelMessage("lr", "too many layers to draw at this size");
      p.layerRects = [];
      return;
    }
    const ox = mg.l + Math.max(0, (aw - best.width) / 2), oy = mg.t + Math.max(0, (ah - best.height) / 2);
    p.layerRects = [];
    groups.forEach((g, k) => {
      let y = oy + best.pos[k].y;
      for (const l of g) {
        y += labelH;
        p.layerRects.push({ layer: l, x: ox + best.pos[k].x, y, w: l.cols * best.cell, h: l.rows * best.cell, cell: best.cell });
        y += l.rows * best.cell + stackGap;
      }
    });
    ctx.textAlign = "left";
    ctx.textBaseline = "bottom";
    for (const r of p.layerRects) {
      ctx.fillStyle = t.text;
      const lab = `${r.layer.name}`;
      ctx.fillText(lab, r.x, r.y - 3);
      const wLab = ctx.measureText(lab).width;
      ctx.fillStyle = t.faint;
      ctx.fillText(` ${r.layer.rows}×${r.layer.cols}`, r.x + wLab, r.y - 3);
    }
    colorbar(ctx, p.w - mg.r + 14 * sc, mg.t, 10 * sc, p.h - mg.t - mg.b - (strip ? 22 * sc : 0), L.vmin, L.vmax, true, t);
    p.strip = null;
    if (strip) {
      ctx.font = t.font(10.5);
      let lw = 0;
      for (const l of L.layers) lw = Math.max(lw, ctx.measureText(l.name).width);
      lw = Math.ceil(lw) + 10;
      const F = L.frames.length, dim = vals.shape[1];
      const sx = mg.l + lw, sw = aw - lw - 4, sy = p.h - mg.b - 22 * sc - strip.h;
      const c = document.createElement("canvas");
      c.width = F;
      c.height = nL;
      const cctx = c.getContext("2d");
      const img = cctx.createImageData(F, nL);
      const buf = new Uint8Array(dim);
      L.layers.forEach((l, li) => {
        const n = l.rows * l.cols;
        for (let f = 0; f < F; f++) {
          const sub = buf.subarray(0, n);
          for (let q = 0; q < n; q++) sub[q] = l.offset + q < dim ? vals.data[f * dim + l.offset + q] : 0;
          sub.sort();
          const v = sub[n >> 1], o = (li * F + f) * 4;
          img.data[o] = VIRIDIS[v * 3];
          img.data[o + 1] = VIRIDIS[v * 3 + 1];
          img.data[o + 2] = VIRIDIS[v * 3 + 2];
          img.data[o + 3] = 255;
        }
      });
      cctx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(c, sx, sy, sw, strip.h);
      ctx.imageSmoothingEnabled = true;
      ctx.strokeStyle = t.axis;
      ctx.lineWidth = 1;
      ctx.strokeRect(sx - 0.5, sy - 0.5, sw + 1, strip.h + 1);
      ctx.fillStyle = t.muted;
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      if (strip.row >= 7) {
        ctx.font = t.font(Math.min(10.5, strip.row / sc + 0.5));
        L.layers.forEach((l, li) => ctx.fillText(l.name, sx - 5, sy + (li + 0.5) * strip.row));
        ctx.font = t.font(10.5);
      } else ctx.fillText("layers", sx - 5, sy + strip.h / 2);
      ctx.textAlign = "left";
      ctx.textBaseline = "bottom";
      ctx.fillStyle = t.faint;
      ctx.fillText("median per layer over the steps", sx, sy - 2);
      const R = m.R, steps = m.steps;
      ctx.fillStyle = t.muted;
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      for (const tk of linTicks(steps[0], steps[R - 1], Math.max(2, Math.floor(sw / 70)))) {
        const x = sx + (R > 1 ? (frameOfStep(steps, tk.v) / (R - 1)) * sw : 0);
        ctx.fillRect(Math.round(x), sy + strip.h, 1, 3);
        ctx.fillText(tk.label, clamp(x, sx + 8, sx + sw - 8), sy + strip.h + 4);
      }
      p.strip = { x: sx, y: sy, w: sw, h: strip.h, row: strip.row };
    }
    // Tiny canvases holding one pixel per weight; refreshed when the sampled frame changes.
    p.tiles = p.layerRects.map((r) => {
      const c = document.createElement("canvas");
      c.width = r.layer.cols;
      c.height = r.layer.rows;
      return { c, ctx: c.getContext("2d"), img: null };
    });
    p.sampled = -1;
  }

  drawLr(p) {
    const ctx = p.ctx, t = this.theme, m = this.model;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, p.canvas.width, p.canvas.height);
    ctx.drawImage(p.static.c, 0, 0);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    if (this.lrMode === "inline" && p.hm) {
      const hm = p.hm, R = m.R;
      const x = hm.x + (R > 1 ? (this.pos / (R - 1)) * hm.w : 0);
      ctx.fillStyle = t.dark ? "rgba(14,17,23,0.32)" : "rgba(255,255,255,0.32)";
      ctx.fillRect(x, hm.y, hm.x + hm.w - x, hm.h);
      ctx.fillStyle = "rgba(0,0,0,0.6)";
      ctx.fillRect(x - 1.5, hm.y - 3, 3, hm.h + 6);
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(x - 0.75, hm.y - 3, 1.5, hm.h + 6);
      ctx.beginPath();
      ctx.moveTo(x - 5, hm.y - 5);
      ctx.lineTo(x + 5, hm.y - 5);
      ctx.lineTo(x, hm.y + 1);
      ctx.closePath();
      ctx.fillStyle = t.text;
      ctx.fill();
    } else if (this.lrMode === "layers" && p.layerRects) {
      const L = m.lrLayers, vals = L.values[this.focus];
      const si = nearestIndex(L.frames, this.frame);
      if (vals && si !== p.sampled) {
        p.sampled = si;
        const dim = vals.shape[1];
        p.layerRects.forEach((r, k) => {
          const tile = p.tiles[k], l = r.layer;
          const img = tile.ctx.createImageData(l.cols, l.rows);
          for (let q = 0; q < l.rows * l.cols; q++) {
            const w = l.offset + q;
            const v = w < dim ? vals.data[si * dim + w] : 0;
            const o = q * 4, c = v * 3;
            img.data[o] = VIRIDIS[c];
            img.data[o + 1] = VIRIDIS[c + 1];
            img.data[o + 2] = VIRIDIS[c + 2];
            img.data[o + 3] = 255;
          }
          tile.ctx.putImageData(img, 0, 0);
        });
        const step = m.steps[L.frames[si]];
        p.title.textContent = `Learning rate of every weight · ${m.opts[this.focus].name} · step ${step === undefined ? "?" : step}`;
      }
      if (p.strip) {
        const q = p.strip, x = q.x + (m.R > 1 ? (this.pos / (m.R - 1)) * q.w : 0);
        ctx.fillStyle = t.dark ? "rgba(14,17,23,0.32)" : "rgba(255,255,255,0.32)";
        ctx.fillRect(x, q.y, q.x + q.w - x, q.h);
        ctx.fillStyle = "rgba(0,0,0,0.6)";
        ctx.fillRect(x - 1.5, q.y - 3, 3, q.h + 6);
        ctx.fillStyle = "#ffffff";
        ctx.fillRect(x - 0.75, q.y - 3, 1.5, q.h + 6);
      }
      if (vals) {
        ctx.imageSmoothingEnabled = false;
        p.layerRects.forEach((r, k) => {
          ctx.drawImage(p.tiles[k].c, r.x, r.y, r.w, r.h);
          ctx.strokeStyle = t.axis;
          ctx.lineWidth = 1;
          ctx.strokeRect(r.x - 0.5, r.y - 0.5, r.w + 1, r.h + 1);
        });
        ctx.imageSmoothingEnabled = true;
      }
    }
  }

  // ------------------------------------------------------------ loss panel

  buildLoss(p) {
    const m = this.model, t = this.theme, ctx = p.static.ctx, sc = t.scale, R = m.R;
    ctx.clearRect(0, 0, p.w, p.h);
    const s = m.surface;
    // Log of the loss when it is positive; else of loss - floor; else linear.
    let minPos = Infinity, maxV = -Infinity, minV = Infinity, nonPos = false;
    for (const op of m.opts) {
      if (!op.loss) continue;
      for (const v of op.loss.data) {
        if (!Number.isFinite(v)) continue;
        if (v <= 0) nonPos = true; else minPos = Math.min(minPos, v);
        maxV = Math.max(maxV, v);
        minV = Math.min(minV, v);
      }
    }
    if (!Number.isFinite(maxV)) {
      this.panelMessage("loss", m.errors.loss.length ? m.errors.loss.join("; ") : "no finite loss values");
      p.plot = null;
      return;
    }
    let offset = 0, mode = "log";
    if (nonPos) {
      if (isNum(s.floor) && minV - s.floor > -1e-12 && maxV > s.floor) {
        offset = s.floor;
        minPos = Infinity;
        for (const op of m.opts) if (op.loss) for (const v of op.loss.data) if (Number.isFinite(v) && v - offset > 0) minPos = Math.min(minPos, v - offset);
      } else mode = "linear";
    }
    const tr = mode === "log" ? (v) => (v - offset > 0 ? Math.log10(v - offset) : NaN) : (v) => v;
    let lo, hi;
    if (mode === "log") {
      lo = Math.log10(minPos);
      hi = Math.log10(maxV - offset);
    } else {
      lo = minV;
      hi = maxV;
    }
    if (!(hi - lo > 1e-9)) {
      lo -= 0.5;
      hi += 0.5;
    }
    const pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    const mg = { l: Math.round(48 * sc), r: 12, t: Math.round(10 * sc), b: Math.round(34 * sc) };
    const pw = Math.max(10, p.w - mg.l - mg.r), ph = Math.max(10, p.h - mg.t - mg.b);
    const steps = m.steps, s0 = steps[0], s1 = steps[R - 1] > s0 ? steps[R - 1] : s0 + 1;
    const plot = (p.plot = { x: mg.l, y: mg.t, w: pw, h: ph, lo, hi, mode, offset });
    const X = (st) => plot.x + ((st - s0) / (s1 - s0)) * pw;
    const Y = (v) => plot.y + ((hi - v) / (hi - lo)) * ph;
    p.X = X;
    p.Y = Y;
    ctx.fillStyle = t.plotBg;
    ctx.fillRect(plot.x, plot.y, pw, ph);
    const yt = mode === "log" ? logTicks(lo, hi, Math.max(2, Math.floor(ph / 34))) : linTicks(lo, hi, Math.max(2, Math.floor(ph / 34)));
    ctx.font = t.font(10.5);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const tk of yt) {
      const y = Math.round(Y(tk.v)) + 0.5;
      ctx.fillStyle = t.grid;
      ctx.fillRect(plot.x, y - 0.5, pw, 1);
      ctx.fillStyle = t.muted;
      ctx.fillText(tk.label, plot.x - 5, clamp(y, 7 * sc, p.h));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const tk of linTicks(s0, s1, Math.max(2, Math.floor(pw / 64)))) {
      const x = Math.round(X(tk.v)) + 0.5;
      ctx.fillStyle = t.grid;
      ctx.fillRect(x - 0.5, plot.y, 1, ph);
      ctx.fillStyle = t.muted;
      ctx.fillText(tk.label, x, plot.y + ph + 4);
    }
    ctx.fillStyle = t.text;
    ctx.font = t.font(11.5, 500);
    ctx.textBaseline = "bottom";
    ctx.fillText("step", plot.x + pw / 2, p.h - 1);
    ctx.save();
    ctx.translate(11 * sc, plot.y + ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(offset ? `loss − ${fmt(offset)}` : "loss", 0, 0);
    ctx.restore();
    ctx.strokeStyle = t.axis;
    ctx.lineWidth = 1;
    ctx.strokeRect(plot.x - 0.5, plot.y - 0.5, pw + 1, ph + 1);
    // Precomputed pixel curves.
    for (const op of m.opts) {
      op.lossPx = null;
      if (!op.loss) continue;
      const S = op.loss.shape[0];
      op.lossPx = [];
      for (let s2 = 0; s2 < S; s2++) {
        const a = new Float32Array(R * 2);
        for (let r = 0; r < R; r++) {
          const v = tr(op.loss.data[s2 * R + r]);
          a[r * 2] = X(steps[r]);
          a[r * 2 + 1] = Number.isFinite(v) ? clamp(Y(v), -1e5, 1e5) : NaN;
        }
        op.lossPx.push(a);
      }
    }
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.x, plot.y, pw, ph);
    ctx.clip();
    // Optimum reference line.
    const fl = s.floor;
    if (isNum(fl) && !s.projected && !offset) {
      const v = tr(fl);
      if (!(Number.isFinite(v) && v >= lo && v <= hi)) {
        ctx.fillStyle = t.muted;
        ctx.font = t.font(10.5);
        ctx.textAlign = "right";
        ctx.textBaseline = "top";
        ctx.fillText(`f* = ${fmt(fl)}${v < lo || !Number.isFinite(v) ? " (below the axis)" : ""}`, plot.x + pw - 4, plot.y + 3);
      } else {
        const y = Math.round(Y(v)) + 0.5;
        ctx.strokeStyle = t.muted;
        ctx.setLineDash([5, 4]);
        ctx.beginPath();
        ctx.moveTo(plot.x, y);
        ctx.lineTo(plot.x + pw, y);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = t.muted;
        ctx.font = t.font(10.5);
        ctx.textAlign = "right";
        ctx.textBaseline = "bottom";
        ctx.fillText(`f* = ${fmt(fl)}`, plot.x + pw - 4, y - 2);
      }
    }
    m.opts.forEach((op, i) => {
      if (!op.lossPx || !this.visible(i)) return;
      op.lossPx.forEach((a, s2) => {
        ctx.strokeStyle = rgba(op.rgb, 0.3);
        ctx.lineWidth = 1.2;
        ctx.setLineDash(s2 ? [4, 3] : []);
        polyline(ctx, a, 0, op.divFrame[s2] >= 0 ? op.divFrame[s2] : R - 1, 1);
        ctx.stroke();
      });
      ctx.setLineDash([]);
    });
    ctx.restore();
  }

  drawLoss(p) {
    const m = this.model, ctx = p.ctx, t = this.theme, sc = t.scale, R = m.R;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, p.canvas.width, p.canvas.height);
    ctx.drawImage(p.static.c, 0, 0);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const plot = p.plot;
    if (!plot) return;
    const pos = this.pos, f = Math.floor(pos), frac = pos - f;
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.x - 6, plot.y - 6, plot.w + 12, plot.h + 12);
    ctx.clip();
    // Cursor.
    const st = lerpStep(m.steps, f, frac);
    const cx = p.X(st);
    ctx.fillStyle = t.text;
    ctx.globalAlpha = 0.55;
    ctx.fillRect(cx - 0.75, plot.y, 1.5, plot.h);
    ctx.globalAlpha = 1;
    ctx.lineJoin = "round";
    m.opts.forEach((op, i) => {
      if (!op.lossPx || !this.visible(i)) return;
      op.lossPx.forEach((a, s2) => {
        ctx.strokeStyle = op.color;
        ctx.lineWidth = 2 * sc;
        ctx.setLineDash(s2 ? [6, 4] : []);
        const divF = op.divFrame[s2];
        const stop = divF >= 0 ? Math.min(f, divF) : f;
        polyline(ctx, a, 0, stop, 1);
        const cur = stop === f ? interp(a, f, frac, R) : null;
        if (cur) ctx.lineTo(cur[0], cur[1]);
        ctx.stroke();
        ctx.setLineDash([]);
        if (divF >= 0 && pos >= divF) {
          const q = lastFinite(a, divF);
          if (q) cross(ctx, q[0], clamp(q[1], plot.y, plot.y + plot.h), 5.5 * sc, RED, "#ffffff");
        } else if (cur) {
          ctx.beginPath();
          ctx.arc(cur[0], clamp(cur[1], plot.y, plot.y + plot.h), 3.6 * sc, 0, 2 * Math.PI);
          ctx.fillStyle = op.color;
          ctx.fill();
          ctx.strokeStyle = this.theme.bg;
          ctx.lineWidth = 1.5;
          ctx.stroke();
        }
      });
    });
    ctx.restore();
  }

  // ------------------------------------------------------------ fit panel

  buildFit(p) {
    const m = this.model, t = this.theme, ctx = p.static.ctx, sc = t.scale;
    ctx.clearRect(0, 0, p.w, p.h);
    const F = m.fit;
    if (!F) return;
    let x0, x1, y0, y1;
    if (F.kind === "boundary") [x0, x1, y0, y1] = F.extent;
    else {
      const fx = F.x.filter(isNum), fy = F.y.filter(isNum);
      if (!fx.length) throw new Error("fit has no finite data");
      x0 = Math.min(...fx);
      x1 = Math.max(...fx);
      y0 = Math.min(...fy);
      y1 = Math.max(...fy);
      const px = (x1 - x0 || 1) * 0.08, py = (y1 - y0 || 1) * 0.12;
      x0 -= px;
      x1 += px;
      y0 -= py;
      y1 += py;
    }
    const mg = { l: Math.round(42 * sc), r: 10, t: 8, b: Math.round(30 * sc) };
    const pw = Math.max(10, p.w - mg.l - mg.r), ph = Math.max(10, p.h - mg.t - mg.b);
    const plot = (p.plot = { x: mg.l, y: mg.t, w: pw, h: ph, ext: [x0, x1, y0, y1] });
    p.X = (x) => plot.x + ((x - x0) / (x1 - x0)) * pw;
    p.Y = (y) => plot.y + ((y1 - y) / (y1 - y0)) * ph;
    ctx.fillStyle = t.plotBg;
    ctx.fillRect(plot.x, plot.y, pw, ph);
    ctx.font = t.font(10.5);
    ctx.fillStyle = t.muted;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const tk of linTicks(x0, x1, Math.max(2, Math.floor(pw / 60)))) {
      const x = Math.round(p.X(tk.v)) + 0.5;
      ctx.fillStyle = t.grid;
      ctx.fillRect(x - 0.5, plot.y, 1, ph);
      ctx.fillStyle = t.muted;
      ctx.fillText(tk.label, x, plot.y + ph + 4);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const tk of linTicks(y0, y1, Math.max(2, Math.floor(ph / 40)))) {
      const y = Math.round(p.Y(tk.v)) + 0.5;
      ctx.fillStyle = t.grid;
      ctx.fillRect(plot.x, y - 0.5, pw, 1);
      ctx.fillStyle = t.muted;
      ctx.fillText(tk.label, plot.x - 5, y);
    }
    ctx.fillStyle = t.text;
    ctx.font = t.font(11.5, 500);
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(F.kind === "boundary" ? "x₁" : "x", plot.x + pw / 2, p.h - 1);
    ctx.save();
    ctx.translate(10 * sc, plot.y + ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(F.kind === "boundary" ? "x₂" : "y", 0, 0);
    ctx.restore();
    if (F.kind === "line") {
      ctx.save();
      ctx.beginPath();
      ctx.rect(plot.x, plot.y, pw, ph);
      ctx.clip();
      ctx.fillStyle = t.dark ? "rgba(255,255,255,0.55)" : "rgba(40,40,50,0.5)";
      for (let k = 0; k < F.x.length; k++) {
        if (!isNum(F.x[k]) || !isNum(F.y[k])) continue;
        ctx.beginPath();
        ctx.arc(p.X(F.x[k]), p.Y(F.y[k]), 2.6 * sc, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.restore();
    } else {
      p.tile = document.createElement("canvas");
      p.tile.width = F.G;
      p.tile.height = F.G;
      p.sampled = -1;
    }
    ctx.strokeStyle = t.axis;
    ctx.lineWidth = 1;
    ctx.strokeRect(plot.x - 0.5, plot.y - 0.5, pw + 1, ph + 1);
  }

  drawFit(p) {
    const m = this.model, ctx = p.ctx, t = this.theme, sc = t.scale, F = m.fit, R = m.R;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, p.canvas.width, p.canvas.height);
    ctx.drawImage(p.static.c, 0, 0);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const plot = p.plot;
    if (!F || !plot) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.x, plot.y, plot.w, plot.h);
    ctx.clip();
    const [x0, x1] = plot.ext;
    if (F.kind === "line") {
      const f = this.frame;
      const line = (op, s2, fr, alpha, width) => {
        const k = (s2 * R + fr) * 2, w0 = op.path.data[k], w1 = op.path.data[k + 1];
        if (!Number.isFinite(w0) || !Number.isFinite(w1)) return;
        ctx.globalAlpha = alpha;
        ctx.strokeStyle = op.color;
        ctx.lineWidth = width;
        ctx.beginPath();
        ctx.moveTo(p.X(x0), clamp(p.Y(w0 * x0 + w1), -1e5, 1e5));
        ctx.lineTo(p.X(x1), clamp(p.Y(w0 * x1 + w1), -1e5, 1e5));
        ctx.stroke();
      };
      const every = Math.max(1, Math.round(R / 12));
      m.opts.forEach((op, i) => {
        if (!op.path || !this.visible(i)) return;
        const s2 = Math.min(this.start, op.path.shape[0] - 1);
        for (let fr = 0; fr < f; fr += every) line(op, s2, fr, 0.16, 1.2);
      });
      m.opts.forEach((op, i) => {
        if (!op.path || !this.visible(i)) return;
        line(op, Math.min(this.start, op.path.shape[0] - 1), f, 1, 2.4 * sc);
      });
      ctx.globalAlpha = 1;
    } else {
      const vals = F.values[this.focus];
      if (!vals) {
        ctx.restore();
        this.panelMessage("fit", `no decision-boundary frames for ${m.opts[this.focus].name}`);
        return;
      }
      const G = F.G, si = nearestIndex(F.frames, this.frame);
      if (si !== p.sampled) {
        p.sampled = si;
        const tctx = p.tile.getContext("2d");
        const img = tctx.createImageData(G, G);
        const base = si * G * G;
        for (let iy = 0; iy < G; iy++) {
          for (let ix = 0; ix < G; ix++) {
            const v = vals.data[base + iy * G + ix] / 255;
            const o = ((G - 1 - iy) * G + ix) * 4;
            const c = divergingColor(v);
            img.data[o] = c[0];
            img.data[o + 1] = c[1];
            img.data[o + 2] = c[2];
            img.data[o + 3] = 255;
          }
        }
        tctx.putImageData(img, 0, 0);
        p.contour = marchingSquares(vals.data, base, G, 127.5);
        p.title.textContent = `Decision boundary · ${m.opts[this.focus].name} · step ${m.steps[F.frames[si]]}`;
      }
      const [ex0, ex1, ey0, ey1] = F.extent;
      const dx = (ex1 - ex0) / (G - 1), dy = (ey1 - ey0) / (G - 1);
      ctx.imageSmoothingEnabled = true;
      const ix0 = p.X(ex0 - dx / 2), iy0 = p.Y(ey1 + dy / 2);
      ctx.drawImage(p.tile, ix0, iy0, p.X(ex1 + dx / 2) - ix0, p.Y(ey0 - dy / 2) - iy0);
      const gx = (u) => p.X(ex0 + u * dx), gy = (v) => p.Y(ey0 + v * dy);
      for (const [w, c] of [[4.2 * sc, "rgba(255,255,255,0.9)"], [2 * sc, "rgba(20,20,30,0.95)"]]) {
        ctx.strokeStyle = c;
        ctx.lineWidth = w;
        ctx.lineCap = "round";
        ctx.beginPath();
        for (const sgm of p.contour) {
          ctx.moveTo(gx(sgm[0]), gy(sgm[1]));
          ctx.lineTo(gx(sgm[2]), gy(sgm[3]));
        }
        ctx.stroke();
      }
      ctx.lineCap = "butt";
      for (let k = 0; k < F.x.length; k++) {
        if (!isNum(F.x[k]) || !isNum(F.y[k])) continue;
        ctx.beginPath();
        ctx.arc(p.X(F.x[k]), p.Y(F.y[k]), 3 * sc, 0, 2 * Math.PI);
        ctx.fillStyle = F.label[k] ? "#b2182b" : "#1c4f9c";
        ctx.fill();
        ctx.lineWidth = 1;
        ctx.strokeStyle = "rgba(255,255,255,0.9)";
        ctx.stroke();
      }
    }
    ctx.restore();
  }

  // ------------------------------------------------------------ inside panel

  buildInside() {
    const d = this.dom;
    if (!d || !d.inside) return;
    const m = this.model, op = m.opts[this.focus];
    d.inside.replaceChildren();
    this.insideCells = null;
    if (!op) return;
    const head = el("div", { class: "ov-inside-head" },
      el("span", { class: "ov-swatch", style: `background:${op.color}` }),
      el("span", { class: "ov-inside-title", text: `Inside ${op.name}` }),
      op.kind && op.kind !== op.name ? el("span", { class: "ov-dim", text: ` (${op.kind})` }) : null,
      d.insideStep = el("span", { class: "ov-dim ov-inside-step" }));
    d.inside.append(head);
    const eq = el("div", { class: "ov-eqs" });
    if (op.equations) eq.append(el("div", { class: "ov-eq", "data-testid": "ov-equations", title: op.equations, html: texToHtml(op.equations) }));
    if (op.lrEquation) {
      eq.append(el("div", { class: "ov-eq ov-eq-lr", "data-testid": "ov-lr-equation", title: op.lrEquation, html: `<span class="ov-eq-label">effective learning rate</span> ${texToHtml("\\eta_{\\mathrm{eff}}")}<span class="ov-op">=</span>${texToHtml(op.lrEquation)}` }));
    }
    const body = el("div", { class: "ov-inside-body" });
    d.inside.append(body);
    const ins = op.inside;
    if (!ins || !ins.g) {
      const dim = m.surface.dim || m.weights.length;
      const why = m.errors.inside.length ? m.errors.inside.join("; ") :
        `${dim} weights: too many to list. The learning rate of every weight is drawn per layer above; the arrows show the gradient and the update projected on the view.`;
      body.append(eq, el("div", { class: "ov-note", "data-testid": "ov-inside-note", text: why }));
      return;
    }
    const fixed = ["g", "update", "lr", "ratio"];
    const stateKeys = Object.keys(ins).filter((k) => !fixed.includes(k));
    const sym = (k) => {
      const s = op.symbols[k];
      return s ? texToHtml(s) : esc(k);
    };
    const cols = [
      { key: "g", html: texToHtml("g_t"), title: "gradient" },
      ...stateKeys.map((k) => ({ key: k, html: sym(k), title: k })),
      { key: "lr", html: texToHtml("\\eta_{\\mathrm{eff}}"), title: "effective per-weight learning rate" },
      { key: "update", html: "Δ" + texToHtml("w_t"), title: "update applied (w_{t+1} − w_t)" },
      { key: "ratio", html: "−Δ" + texToHtml("w") + "/" + texToHtml("g"), title: "realised ratio −update / gradient" },
    ].filter((c) => ins[c.key]);
    const table = el("table", { class: "ov-table", "data-testid": "ov-inside-table" });
    const thead = el("thead", {}, el("tr", {}, el("th", { text: "weight" }), ...cols.map((c) => el("th", { html: c.html, title: c.title }))));
    const tbody = el("tbody");
    const dim = ins.g.shape[2];
    const cells = [];
    for (let w = 0; w < dim; w++) {
      const tr = el("tr", {}, el("th", { class: "ov-wname", text: m.weights[w] || `w${w + 1}` }));
      const row = cols.map(() => {
        const td = el("td");
        tr.append(td);
        return td;
      });
      cells.push(row);
      tbody.append(tr);
    }
    table.append(thead, tbody);
    body.append(el("div", { class: "ov-table-wrap" }, table), eq);
    this.insideCells = { cells, cols, op, dim };
  }

  updateInside() {
    const ic = this.insideCells, m = this.model;
    if (this.dom && this.dom.insideStep) this.dom.insideStep.textContent = ` · step ${m.steps[this.frame]}` + (m.S > 1 ? ` · start ${this.start + 1}` : "");
    if (!ic) return;
    const R = m.R, f = this.frame;
    ic.cols.forEach((c, j) => {
      const arr = ic.op.inside[c.key];
      const s2 = Math.min(this.start, arr.shape[0] - 1), dim = arr.shape[2];
      for (let w = 0; w < ic.dim; w++) {
        const v = w < dim ? arr.data[(s2 * R + f) * dim + w] : NaN;
        const td = ic.cells[w][j];
        const txt = fmt(v);
        if (td.textContent !== txt) td.textContent = txt;
      }
    });
  }

  // ------------------------------------------------------------ playback

  updateFrameUi(force) {
    const m = this.model;
    const f = clamp(Math.floor(this.pos + 1e-9), 0, Math.max(0, m.R - 1));
    if (!force && f === this.frame && this.shownPlaying === this.playing) return;
    this.frame = f;
    this.root.setAttribute("data-frame", String(f));
    this.root.setAttribute("data-playing", String(this.playing));
    this.shownPlaying = this.playing;
    const d = this.dom;
    if (!d) return;
    if (String(d.scrub.value) !== String(f)) d.scrub.value = String(f);
    d.stepLabel.textContent = `step ${m.steps[f]} / ${m.steps[m.R - 1]}`;
    d.play.innerHTML = this.playing ? ICONS.pause : ICONS.play;
    d.play.setAttribute("aria-label", this.playing ? "Pause (space)" : "Play (space)");
    d.play.title = d.play.getAttribute("aria-label");
    d.play.setAttribute("aria-pressed", String(this.playing));
    try {
      this.updateInside();
    } catch (e) {
      console.warn("optimizer animator: inside panel:", e);
      this.insideCells = null;
    }
  }

  render() {
    if (!this.dom || !this.alive) return;
    const P = this.panels;
    const draw = (name, fn) => {
      if (!P[name] || this.failed[name]) return;
      try {
        fn.call(this, P[name]);
      } catch (e) {
        this.fail(name, e);
      }
    };
    draw("surface", this.drawSurface);
    draw("lr", this.drawLr);
    draw("loss", this.drawLoss);
    draw("fit", this.drawFit);
    this.drawn++;
    const now = performance.now();
    this.drawTimes.push(now);
    while (this.drawTimes.length && this.drawTimes[0] < now - 1000) this.drawTimes.shift();
  }

  requestRender() {
    if (this.raf || !this.alive) return;
    this.raf = requestAnimationFrame((ts) => this.tick(ts));
  }

  startLoop() {
    this.lastTs = null;
    this.requestRender();
  }

  tick(ts) {
    this.raf = 0;
    if (!this.alive) return;
    if (!this.root.isConnected) {
      this.destroy();
      return;
    }
    if (this.playing) {
      const last = this.model.R - 1;
      if (this.lastTs !== null) {
        const dt = Math.min(0.25, Math.max(0, (ts - this.lastTs) / 1000));
        this.pos += dt * BASE_FPS * this.speed;
      }
      if (this.pos >= last) {
        if (!this.loop) {
          this.pos = last;
          this.playing = false;
          this.report();
        } else if (this.holdUntil === undefined) {
          this.pos = last; // show the last frame a moment before looping
          this.holdUntil = ts + 400;
        } else if (ts >= this.holdUntil) {
          this.pos = 0;
          this.holdUntil = undefined;
        } else this.pos = last;
      }
      this.lastTs = ts;
    }
    this.updateFrameUi(false);
    this.render();
    if (this.playing || this.ripples.length) this.requestRender();
  }

  play() {
    const m = this.model;
    if (m.R < 2) return;
    if (this.pos >= m.R - 1) this.pos = 0;
    this.playing = true;
    this.holdUntil = undefined;
    this.lastTs = null;
    this.updateFrameUi(true);
    this.requestRender();
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this.pos = Math.round(this.pos);
    this.updateFrameUi(true);
    this.requestRender();
    this.report();
  }

  seek(i, report = true) {
    const m = this.model;
    this.pos = clamp(Math.round(Number(i) || 0), 0, Math.max(0, m.R - 1));
    this.holdUntil = undefined;
    this.lastTs = null;
    this.updateFrameUi(true);
    this.requestRender();
    if (report) this.report();
  }

  step(delta) {
    if (this.playing) this.pause();
    this.seek(Math.round(this.pos) + delta);
  }

  // Tell Python the frame (debounced; only when paused or after a seek).
  report() {
    clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(() => {
      if (!this.alive) return;
      this.send("state", "frame", this.frame);
    }, 150);
  }

  send(kind, name, value) {
    try {
      (window.__optvizEvents = window.__optvizEvents || []).push({ kind, name, value, t: Date.now() });
      if (kind === "trigger") this.cb.setTriggerValue && this.cb.setTriggerValue(name, value);
      else this.cb.setStateValue && this.cb.setStateValue(name, value);
    } catch (e) {
      console.warn("optimizer animator: could not send", name, e);
    }
  }

  snapshot() {
    return {
      frame: this.frame, playing: this.playing, speed: this.speed, loop: this.loop, hidden: [...this.hidden],
      focusName: this.model.opts[this.focus] ? this.model.opts[this.focus].name : null, start: this.start,
      arrowOn: this.arrowOn, arrowAll: this.arrowAll, arrowScale: this.arrowScale,
    };
  }

  // ------------------------------------------------------------ events

  on(target, type, fn, opts) {
    target.addEventListener(type, fn, opts);
    this.listeners.push([target, type, fn, opts]);
  }

  bindEvents() {
    const d = this.dom;
    if (!d) return;
    this.on(d.play, "click", () => (this.playing ? this.pause() : this.play()));
    this.on(d.back, "click", () => this.step(-1));
    this.on(d.forward, "click", () => this.step(1));
    this.on(d.first, "click", () => {
      this.pause();
      this.seek(0);
    });
    this.on(d.last, "click", () => {
      this.pause();
      this.seek(this.model.R - 1);
    });
    this.on(d.scrub, "input", () => {
      this.pos = Number(d.scrub.value);
      this.lastTs = null;
      this.updateFrameUi(true);
      this.requestRender();
    });
    this.on(d.scrub, "change", () => this.seek(Number(d.scrub.value)));
    this.on(d.speed, "change", () => {
      const v = Number(d.speed.value);
      this.speed = SPEEDS.includes(v) ? v : 1;
    });
    this.on(d.loopBtn, "click", () => {
      this.loop = !this.loop;
      d.loopBtn.setAttribute("aria-pressed", String(this.loop));
    });
    d.legendItems.forEach((b, i) => {
      const sync = () => d.legendItems.forEach((x, j) => x.setAttribute("aria-pressed", String(this.visible(j))));
      sync();
      this.on(b, "click", (ev) => {
        const name = this.model.opts[i].name;
        if (ev.altKey) {
          const solo = this.visible(i) && this.model.opts.every((op, j) => j === i || !this.visible(j));
          this.hidden = new Set(solo ? [] : this.model.opts.filter((_, j) => j !== i).map((op) => op.name));
        } else if (this.hidden.has(name)) this.hidden.delete(name);
        else this.hidden.add(name);
        sync();
        this.buildStatic();
        this.requestRender();
      });
    });
    this.on(d.focus, "change", () => {
      this.focus = clamp(Number(d.focus.value) | 0, 0, this.model.opts.length - 1);
      this.buildInside();
      this.updateFrameUi(true);
      if (this.panels.lr && this.lrMode === "layers") this.buildStatic();
      if (this.panels.fit) this.panels.fit.sampled = -1;
      this.requestRender();
    });
    if (d.start) {
      this.on(d.start, "change", () => {
        this.start = clamp(Number(d.start.value) | 0, 0, this.model.S - 1);
        this.buildStatic();
        this.updateFrameUi(true);
        this.requestRender();
      });
    }
    d.arrowChips.forEach((b, k) => this.on(b, "click", () => {
      const key = ARROWS[k].key;
      this.arrowOn[key] = !this.arrowOn[key];
      b.setAttribute("aria-pressed", String(this.arrowOn[key]));
      this.requestRender();
    }));
    this.on(d.arrowAllChip, "click", () => {
      this.arrowAll = !this.arrowAll;
      d.arrowAllChip.setAttribute("aria-pressed", String(this.arrowAll));
      this.requestRender();
    });
    this.on(d.arrowScale, "input", () => {
      this.arrowScale = Math.pow(2, Number(d.arrowScale.value));
      this.requestRender();
    });
    // Keyboard.
    const typing = (e) => {
      const tg = e.composedPath ? e.composedPath()[0] : e.target;
      const tag = tg && tg.tagName;
      return tag === "SELECT" || tag === "TEXTAREA" || (tag === "INPUT" && tg.type !== "range");
    };
    this.on(this.root, "keydown", (e) => {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      const tg = e.composedPath ? e.composedPath()[0] : e.target;
      const onRange = tg && tg.tagName === "INPUT";
      let handled = true;
      if (e.key === " " || e.key === "Spacebar") this.playing ? this.pause() : this.play();
      else if (e.key === "ArrowLeft" && !onRange) this.step(-1);
      else if (e.key === "ArrowRight" && !onRange) this.step(1);
      else if (e.key === "Home" && !onRange) {
        this.pause();
        this.seek(0);
      } else if (e.key === "End" && !onRange) {
        this.pause();
        this.seek(this.model.R - 1);
      } else handled = false;
      if (handled) {
        e.preventDefault();
        e.stopPropagation();
      }
    });
    // A space released on a focused button must not click it too.
    this.on(this.root, "keyup", (e) => {
      if (e.key === " " && !typing(e)) e.preventDefault();
    });
    // Surface: hover coordinates and click to set a start point.
    const S = this.panels.surface;
    if (S) {
      const toView = (ev) => {
        const r = S.canvas.getBoundingClientRect();
        const px = ev.clientX - r.left, py = ev.clientY - r.top;
        const pl = S.plot;
        if (!pl || px < pl.x || px > pl.x + pl.w || py < pl.y || py > pl.y + pl.h) return null;
        const [x0, x1, y0, y1] = pl.ext;
        return { px, py, x: x0 + ((px - pl.x) / pl.w) * (x1 - x0), y: y1 - ((py - pl.y) / pl.h) * (y1 - y0) };
      };
      this.on(S.canvas, "mousemove", (ev) => {
        const v = toView(ev);
        const ax = Array.isArray(this.model.surface.axes) ? this.model.surface.axes : ["x", "y"];
        const hint = this.cb.standalone ? "" : " · click: new start, shift-click: add one";
        d.readout.textContent = v ? `${ax[0]} = ${fmt(v.x, 4)}, ${ax[1]} = ${fmt(v.y, 4)}${hint}` : "";
        d.readout.style.display = v ? "block" : "none";
        S.canvas.style.cursor = v ? "crosshair" : "default";
      });
      this.on(S.canvas, "mouseleave", () => {
        d.readout.style.display = "none";
      });
      this.on(S.canvas, "click", (ev) => {
        const v = toView(ev);
        if (!v) return;
        this.ripples.push({ x: v.px, y: v.py, t: performance.now() });
        this.requestRender();
        this.send("trigger", "click", { x: v.x, y: v.y, add: !!ev.shiftKey });
      });
    }
    // Heatmap and loss: hover values, click to seek.
    const L = this.panels.lr;
    if (L) {
      const hit = (ev) => {
        const r = L.canvas.getBoundingClientRect();
        const px = ev.clientX - r.left, py = ev.clientY - r.top;
        const m = this.model;
        if (this.lrMode === "inline" && L.hm) {
          const hm = L.hm;
          if (px < hm.x || px > hm.x + hm.w || py < hm.y || py > hm.y + hm.h) return null;
          const fr = Math.round(((px - hm.x) / hm.w) * (m.R - 1));
          const row = L.rows[clamp(Math.floor((py - hm.y) / hm.rowH), 0, L.rows.length - 1)];
          const s2 = Math.min(this.start, row.op.lr.shape[0] - 1), dim = row.op.lr.shape[2];
          const v = row.op.lr.data[(s2 * m.R + fr) * dim + row.d];
          return { px, py, fr, text: `${row.label} · step ${m.steps[fr]} · η = ${fmt(v)}` };
        }
        if (this.lrMode === "layers" && L.strip) {
          const q = L.strip;
          if (px >= q.x && px <= q.x + q.w && py >= q.y && py <= q.y + q.h) {
            const li = clamp(Math.floor((py - q.y) / q.row), 0, m.lrLayers.layers.length - 1);
            const fr = Math.round(((px - q.x) / q.w) * (m.R - 1));
            const vals = m.lrLayers.values[this.focus], l = m.lrLayers.layers[li];
            const si = nearestIndex(m.lrLayers.frames, fr), dim = vals.shape[1];
            const sub = [];
            for (let k = 0; k < l.rows * l.cols; k++) sub.push(vals.data[si * dim + l.offset + k]);
            sub.sort((a, b) => a - b);
            const lg = m.lrLayers.vmin + (sub[sub.length >> 1] / 255) * (m.lrLayers.vmax - m.lrLayers.vmin);
            return { px, py, fr, text: `${l.name} · step ${m.steps[fr]} · median η ≈ ${fmt(Math.pow(10, lg))}` };
          }
        }
        if (this.lrMode === "layers" && L.layerRects) {
          for (const q of L.layerRects) {
            if (px >= q.x && px < q.x + q.w && py >= q.y && py < q.y + q.h) {
              const c = Math.floor((px - q.x) / q.cell), rr = Math.floor((py - q.y) / q.cell);
              const w = q.layer.offset + rr * q.layer.cols + c;
              const vals = m.lrLayers.values[this.focus];
              const si = nearestIndex(m.lrLayers.frames, this.frame);
              if (!vals) return null;
              const u = vals.data[si * vals.shape[1] + w];
              const lg = m.lrLayers.vmin + (u / 255) * (m.lrLayers.vmax - m.lrLayers.vmin);
              return { px, py, fr: null, text: `${m.weights[w] || `${q.layer.name}[${rr},${c}]`} · η ≈ ${fmt(Math.pow(10, lg))}` };
            }
          }
        }
        return null;
      };
      this.on(L.canvas, "mousemove", (ev) => showTip(L, hit(ev)));
      this.on(L.canvas, "mouseleave", () => showTip(L, null));
      this.on(L.canvas, "click", (ev) => {
        const h = hit(ev);
        if (h && h.fr !== null) {
          this.pause();
          this.seek(h.fr);
        }
      });
    }
    const Lo = this.panels.loss;
    if (Lo) {
      const hit = (ev) => {
        const r = Lo.canvas.getBoundingClientRect();
        const px = ev.clientX - r.left, py = ev.clientY - r.top, pl = Lo.plot, m = this.model;
        if (!pl || px < pl.x || px > pl.x + pl.w || py < pl.y || py > pl.y + pl.h) return null;
        const st = m.steps[0] + ((px - pl.x) / pl.w) * (m.steps[m.R - 1] - m.steps[0]);
        const fr = nearestIndex(m.steps, st);
        const parts = [];
        m.opts.forEach((op, i) => {
          if (!op.loss || !this.visible(i)) return;
          const s2 = Math.min(this.start, op.loss.shape[0] - 1);
          parts.push(`${op.name} ${fmt(op.loss.data[s2 * m.R + fr])}`);
        });
        return { px, py, fr, text: `step ${m.steps[fr]}: ${parts.slice(0, 8).join(" · ")}` };
      };
      this.on(Lo.canvas, "mousemove", (ev) => showTip(Lo, hit(ev)));
      this.on(Lo.canvas, "mouseleave", () => showTip(Lo, null));
      this.on(Lo.canvas, "click", (ev) => {
        const h = hit(ev);
        if (h) {
          this.pause();
          this.seek(h.fr);
        }
      });
    }
    // Width changes: re-layout (debounced to one per animation frame).
    if (typeof ResizeObserver !== "undefined") {
      let lastW = this.width;
      this.ro = new ResizeObserver(() => {
        const w = Math.floor(this.root.clientWidth);
        if (!w || Math.abs(w - lastW) < 2) return;
        lastW = w;
        cancelAnimationFrame(this.resizeRaf);
        this.resizeRaf = requestAnimationFrame(() => {
          if (!this.alive) return;
          this.layout();
          this.render();
        });
      });
      this.ro.observe(this.root);
    }
  }

  installHooks() {
    const self = this;
    this.root.__optviz = {
      play: () => self.play(),
      pause: () => self.pause(),
      seek: (i) => self.seek(i),
      state: () => self.state(),
    };
  }

  state() {
    const S = this.panels && this.panels.surface;
    return {
      frame: this.frame,
      pos: this.pos,
      step: this.model.steps ? this.model.steps[this.frame] : null,
      playing: this.playing,
      frames: this.model.R,
      speed: this.speed,
      loop: this.loop,
      fps: this.drawTimes.length,
      drawn: this.drawn,
      markers: (this.markers || []).map((q) => ({ ...q })),
      diverged: this.divergedList.map((q) => ({ ...q })),
      plot: S && S.plot ? { x: S.plot.x, y: S.plot.y, w: S.plot.w, h: S.plot.h, extent: S.plot.ext.slice() } : null,
      hidden: [...this.hidden],
      focus: this.focus,
      imageReady: !!this.image,
      layers: this.panels && this.panels.lr && this.panels.lr.layerRects ? this.panels.lr.layerRects.map((r) => r.layer.name) : [],
      panels: this.panels ? Object.keys(this.panels) : [],
      errors: this.model.errors,
      failed: Object.keys(this.failed),
      id: this.id,
    };
  }

  destroy() {
    if (!this.alive) return;
    this.alive = false;
    cancelAnimationFrame(this.raf);
    cancelAnimationFrame(this.resizeRaf);
    this.raf = 0;
    clearTimeout(this.reportTimer);
    for (const [t, type, fn, opts] of this.listeners) t.removeEventListener(type, fn, opts);
    this.listeners = [];
    if (this.ro) this.ro.disconnect();
    if (this.root.__optviz && this.root.__optvizInstance === this) delete this.root.__optviz;
  }
}

// ---------------------------------------------------------------- drawing helpers

function arrowSwatch(color) {
  const o = "rgba(0,0,0,0.55)";
  return `<svg viewBox="0 0 20 12" width="20" height="12" aria-hidden="true">` +
    `<path d="M2 6H12" stroke="${o}" stroke-width="4.6" stroke-linecap="round"/>` +
    `<path d="M11 1.6L18.2 6L11 10.4Z" fill="${o}" stroke="${o}" stroke-width="2.2" stroke-linejoin="round"/>` +
    `<path d="M2 6H12" stroke="${color}" stroke-width="2.4" stroke-linecap="round"/>` +
    `<path d="M11 1.6L18.2 6L11 10.4Z" fill="${color}"/></svg>`;
}

function polyline(ctx, a, from, to, step) {
  ctx.beginPath();
  let pen = false;
  for (let r = from; r <= to; r += step) {
    const x = a[r * 2], y = a[r * 2 + 1];
    if (x !== x || y !== y) {
      pen = false;
      continue;
    }
    if (pen) ctx.lineTo(x, y);
    else {
      ctx.moveTo(x, y);
      pen = true;
    }
  }
}

function interp(a, f, frac, R) {
  const x = a[f * 2], y = a[f * 2 + 1];
  if (x !== x || y !== y) return null;
  if (frac > 0 && f + 1 < R) {
    const x2 = a[f * 2 + 2], y2 = a[f * 2 + 3];
    if (x2 === x2 && y2 === y2) return [x + (x2 - x) * frac, y + (y2 - y) * frac];
  }
  return [x, y];
}

function lastFinite(a, f) {
  for (let r = f; r >= 0; r--) {
    const x = a[r * 2], y = a[r * 2 + 1];
    if (x === x && y === y) return [x, y];
  }
  return null;
}

function lerpStep(steps, f, frac) {
  const a = steps[f];
  return f + 1 < steps.length ? a + (steps[f + 1] - a) * frac : a;
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

function fitText(ctx, s, w) {
  if (ctx.measureText(s).width <= w) return s;
  while (s.length > 1 && ctx.measureText(s + "…").width > w) s = s.slice(0, -1);
  return s + "…";
}

function showTip(p, h) {
  if (!h) {
    p.tip.style.display = "none";
    return;
  }
  p.tip.textContent = h.text;
  p.tip.style.display = "block";
  const tw = p.tip.offsetWidth;
  p.tip.style.left = `${clamp(h.px + 12, 0, Math.max(0, p.w - tw - 2))}px`;
  p.tip.style.top = `${h.py + 28}px`;
}

// p(class 1) in [0, 1] -> blue / near-white / red.
function divergingColor(v) {
  const a = [120, 160, 222], mid = [247, 247, 247], b = [236, 140, 120];
  v = clamp(Number.isFinite(v) ? v : 0.5, 0, 1);
  const [c0, c1, t] = v < 0.5 ? [a, mid, v * 2] : [mid, b, (v - 0.5) * 2];
  return [0, 1, 2].map((k) => Math.round(c0[k] + (c1[k] - c0[k]) * t));
}

// Segments of the iso-line `level` of a G x G grid (row iy = y index, increasing upwards),
// as [u0, v0, u1, v1] in grid units.
function marchingSquares(data, base, G, level) {
  const segs = [];
  const v = (ix, iy) => data[base + iy * G + ix];
  const lerp = (a, b) => (level - a) / (b - a);
  for (let iy = 0; iy < G - 1; iy++) {
    for (let ix = 0; ix < G - 1; ix++) {
      const a = v(ix, iy), b = v(ix + 1, iy), c = v(ix + 1, iy + 1), d = v(ix, iy + 1);
      const code = (a > level ? 1 : 0) | (b > level ? 2 : 0) | (c > level ? 4 : 0) | (d > level ? 8 : 0);
      if (code === 0 || code === 15) continue;
      const e = {
        bottom: [ix + lerp(a, b), iy],
        right: [ix + 1, iy + lerp(b, c)],
        top: [ix + lerp(d, c), iy + 1],
        left: [ix, iy + lerp(a, d)],
      };
      const pairs = {
        1: [["left", "bottom"]], 2: [["bottom", "right"]], 3: [["left", "right"]], 4: [["right", "top"]],
        5: [["left", "top"], ["bottom", "right"]], 6: [["bottom", "top"]], 7: [["left", "top"]], 8: [["top", "left"]],
        9: [["top", "bottom"]], 10: [["top", "right"], ["left", "bottom"]], 11: [["top", "right"]], 12: [["right", "left"]],
        13: [["right", "bottom"]], 14: [["bottom", "left"]],
      }[code];
      for (const [p, q] of pairs) segs.push([e[p][0], e[p][1], e[q][0], e[q][1]]);
    }
  }
  return segs;
}

// ---------------------------------------------------------------- entry point

function findRoot(parent) {
  for (const c of parent.children || []) if (c.classList && c.classList.contains("optviz-host")) return c;
  const host = document.createElement("div");
  host.className = "optviz-host";
  parent.appendChild(host);
  return host;
}

export default function (component) {
  const { data, parentElement } = component || {};
  if (!parentElement) return undefined;
  const host = findRoot(parentElement);
  let root = host.firstElementChild;
  if (!root) {
    root = document.createElement("div");
    host.appendChild(root);
  }
  const callbacks = { setStateValue: component.setStateValue, setTriggerValue: component.setTriggerValue, standalone: !!component.standalone };
  const current = root.__optvizInstance;
  const optionsKey = optionsKeyOf(data);
  try {
    if (current && current.alive && data && current.id !== undefined && current.id === data.id && current.optionsKey === optionsKey) {
      current.cb = callbacks; // same run: keep playing as is
      current.refreshTheme();
    } else {
      const prev = current && current.model && current.model.R ? current.snapshot() : null;
      if (current) current.destroy();
      const inst = new Animator(root, data, callbacks, prev);
      root.__optvizInstance = inst;
    }
  } catch (e) {
    console.warn("optimizer animator failed:", e);
    root.replaceChildren(el("div", { class: "ov-fatal", role: "alert", "data-testid": "ov-error", text: `The animation could not be drawn: ${e && e.message ? e.message : e}` }));
  }
  const mine = root.__optvizInstance;
  return () => {
    // Streamlit calls only the latest cleanup, on unmount: end this instance if still current.
    if (mine && root.__optvizInstance === mine) {
      mine.destroy();
      root.__optvizInstance = null;
    }
  };
}
