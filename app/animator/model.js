// Payload decoding: the document -> the model (typed arrays, per-panel errors).

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
  } else if (dtype === "f2" || dtype === "l2") {
    if (bytes.length % 2) throw new Error(`${what}: byte length is not a multiple of 2`);
    data = halfToFloat(new Uint16Array(bytes.buffer), dtype === "l2", isNum(spec.offset) ? spec.offset : 0);
  } else throw new Error(`${what}: unknown dtype ${dtype}`);
  if (data.length !== n) throw new Error(`${what}: ${data.length} values for shape [${shape}]`);
  const out = { data, shape };
  decodeCache.set(spec, out);
  return out;
}

// float16 bits -> Float32Array; log: the halves are log10(value - offset) (dtype "l2").
let HALF_TABLE = null;
function halfToFloat(halves, log, offset) {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
      HALF_TABLE[h] = e === 0 ? sign * f * 2 ** -24 : e === 31 ? (f ? NaN : sign * Infinity) : sign * (1 + f / 1024) * 2 ** (e - 15);
    }
  }
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const v = HALF_TABLE[halves[i]];
    out[i] = log ? offset + Math.pow(10, v) : v;
  }
  return out;
}

// Parse and validate the document. Problems are collected per panel (model.errors[panel])
// instead of thrown, so one bad field only blanks the panel that needs it.
function parseModel(doc) {
  const errors = { surface: [], lr: [], loss: [], schedule: [], fit: [], inside: [], general: [] };
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
    op.average = o.average_path ? tryDecode(o.average_path, "average_path", 3, "surface") : null;
    if (op.average && op.average.shape[1] !== R) op.average = null;
    op.averageLabel = typeof o.average_label === "string" ? o.average_label : "average";
    // The schedule's eta_t per frame (a Float32Array of R), or a constant rate (a number).
    op.schedule = isNum(o.schedule) ? o.schedule : o.schedule ? tryDecode(o.schedule, "schedule", 1, "schedule") : null;
    if (op.schedule && typeof op.schedule === "object" && op.schedule.shape[0] !== R) {
      errors.schedule.push(`${name}: schedule has ${op.schedule.shape[0]} frames, expected ${R}`);
      op.schedule = null;
    }
    op.fan = o.fan ? tryDecode(o.fan, "fan", 3, "surface") : null;
    if (op.fan && (op.fan.shape[0] !== R || op.fan.shape[2] !== 2)) op.fan = null;
    op.lrMap = o.lr_map === "diverging" ? "diverging" : "log";
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
  m.live = parseLive(doc.live, m, decodeArray);
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
      const scales = Array.isArray(L.scales) ? L.scales.map((q) => (q && q.map === "diverging" && isNum(q.vmin) && isNum(q.vmax) && q.vmax > q.vmin ? { map: "diverging", vmin: q.vmin, vmax: q.vmax } : null)) : [];
      m.lrLayers = { frames: L.frames.map(Number), vmin: L.vmin, vmax: L.vmax, layers, values, size: off, scales };
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
