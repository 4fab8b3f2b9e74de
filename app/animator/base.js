// Optimizer visualizer: the browser animator (Streamlit Custom Components v2, plain Canvas 2D).
//
// The Python side (app/animator.py) sends the whole run once, as the JSON document that
// app/payload.py describes (schema version 1), plus `id` (a hash of the document) and
// `options`. The script is self-contained: no imports, no network, no libraries, so the
// same source also runs inside the standalone offline HTML export (file://).
//
// It is written as modules (app/animator/*.js) that app/animator.py joins, in the order of
// its SCRIPT_MODULES, into the one script a component takes; they share one scope. This one
// holds the constants and small helpers every other module uses.
//
// Structure: parse the document into typed arrays (model.js), lay out the panels (core.js),
// draw every static layer once to offscreen canvases (build* in each panel's module), then
// per animation frame only composite them and draw trails, markers, arrows and cursors
// (draw*), driven by the clock in timeline.js.

const BASE_FPS = 30; // recorded frames per second at 1x
const SPEEDS = [0.25, 0.5, 1, 2, 4];
const ARROWS = [
  // Drawn widest first, so that arrows pointing the same way stay visible as nested stripes.
  // `sign`: what the payload's vector is multiplied by. It sends the gradient, drawn as the
  // descent direction −∇f; the momentum buffer and the update come in weight units with the
  // sign with which they move the weights (app/payload.py), drawn as sent.
  { key: "grad", label: "−∇f", title: "negative gradient (downhill)", color: "#ffffff", width: 5.2, sign: -1 },
  { key: "momentum", label: "momentum", title: "momentum / velocity (direction it pushes)", color: "#ffb000", width: 3, sign: 1 },
  { key: "update", label: "update", title: "the update applied at this step", color: "#00e5ff", width: 1.8, sign: 1 },
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

// A number as the page shows it: `p` significant digits, exponents for the very large and
// small, a true minus sign; zero (-0 included) is "0", never "-0".
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
  return minus(noNegativeZero(s));
}

// "-0", "-0.0", ... (a negative value rounded to zero) without its sign.
const noNegativeZero = (s) => (/^-0(\.0*)?$/.test(s) ? s.slice(1) : s);

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
    out.push({ v: val, label: minus(noNegativeZero(val.toFixed(Math.min(dec, 6)))) });
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
