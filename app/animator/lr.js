// The learning-rate panel: per-weight rates over the steps (small models) or one heatmap
// per layer matrix (large models). Methods of Animator.

// The current step over a heatmap of the steps (box {x, y, w, h}): what lies ahead veiled, a
// white line with a dark edge at x.
function stepCursor(ctx, t, x, box) {
  ctx.fillStyle = t.dark ? "rgba(14,17,23,0.32)" : "rgba(255,255,255,0.32)";
  ctx.fillRect(x, box.y, box.x + box.w - x, box.h);
  ctx.fillStyle = "rgba(0,0,0,0.6)";
  ctx.fillRect(x - 1.5, box.y - 3, 3, box.h + 6);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(x - 0.75, box.y - 3, 1.5, box.h + 6);
}

// A diverging colour map (ColorBrewer RdBu, reversed: negative blue, 0 white, positive red),
// 256 RGB triples like VIRIDIS: for rates that are the signed realised -update/gradient of an
// optimizer with no diagonal learning rate (Muon's matrices), which a log scale cannot show.
const DIVERGING = (() => {
  const stops = ["053061", "2166ac", "4393c3", "92c5de", "d1e5f0", "f7f7f7", "fddbc7", "f4a582", "d6604d", "b2182b", "67001f"]
    .map((h) => [0, 2, 4].map((k) => parseInt(h.slice(k, k + 2), 16)));
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const u = (i / 255) * (stops.length - 1), j = Math.min(stops.length - 2, Math.floor(u)), w = u - j;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(stops[j][c] * (1 - w) + stops[j + 1][c] * w);
  }
  return lut;
})();
const REALISED_NOTE = "−update/gradient, signed (no diagonal rate)";
const REALISED_SHORT = "signed −Δw/g (diverging)";

// A realised ratio spans decades (a tiny gradient gives a huge one), so the diverging scale is
// logarithmic in the size and signed in colour (app/payload.py, signed_log_limits): [lo, hi]
// are log10 of the 5th and 99th percentiles of the finite nonzero |values|.
function signedLogLimits(arrays) {
  const logs = [];
  for (const a of arrays) {
    const step = Math.max(1, Math.floor(a.length / 20000));
    for (let k = 0; k < a.length; k += step) if (Number.isFinite(a[k]) && a[k] !== 0) logs.push(Math.log10(Math.abs(a[k])));
  }
  logs.sort((u, v) => u - v);
  const lo = logs.length ? logs[Math.floor(logs.length * 0.05)] : -3;
  const hi = logs.length ? logs[Math.min(logs.length - 1, Math.floor(logs.length * 0.99))] : 0;
  return { lo, hi: hi > lo ? hi : lo + 1 };
}

// The DIVERGING index (0..255) of v: 128 at 0 (and for |v| below 10^lo), 0 / 255 from -/+10^hi.
function signedLogIndex(v, s) {
  if (!(Number.isFinite(v) && v !== 0)) return 128;
  const size = clamp((Math.log10(Math.abs(v)) - s.lo) / (s.hi - s.lo), 0, 1);
  return Math.floor(((Math.sign(v) * size + 1) / 2) * 255 + 0.5);
}

// The legend of the signed scale: the bar, 0 in the middle, ±10^k decades above and below.
function signedLogBar(ctx, x, y, w, h, s, theme) {
  const img = ctx.createLinearGradient(0, y + h, 0, y);
  for (let i = 0; i <= 32; i++) {
    const k = Math.round((i / 32) * 255) * 3;
    img.addColorStop(i / 32, `rgb(${DIVERGING[k]},${DIVERGING[k + 1]},${DIVERGING[k + 2]})`);
  }
  ctx.fillStyle = img;
  ctx.fillRect(x, y, w, h);
  ctx.strokeStyle = theme.axis;
  ctx.lineWidth = 1;
  ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
  // Sizes to label: the whole decades inside [lo, hi], else the two ends; at least 12 px apart
  // (and from the 0 in the middle) on each half.
  const mid = y + h / 2, ticks = [{ y: mid, label: "0" }];
  let sizes = [];
  for (let k = Math.ceil(s.lo); k <= Math.floor(s.hi); k++) sizes.push({ v: k, label: pow10Label(k) });
  if (!sizes.length) sizes = [s.lo, s.hi].map((v) => ({ v, label: fmt(Math.pow(10, v), 1) }));
  let last = 0;
  for (const d of sizes) {
    const u = clamp((d.v - s.lo) / (s.hi - s.lo), 0, 1) * (h / 2);
    if (u - last < 12) continue;
    last = u;
    ticks.push({ y: mid - u, label: `+${d.label}` }, { y: mid + u, label: `−${d.label}` });
  }
  ctx.fillStyle = theme.muted;
  ctx.font = theme.font(10);
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  for (const tk of ticks) {
    ctx.fillRect(x + w, Math.round(tk.y) - 0.5, 3, 1);
    ctx.fillText(tk.label, x + w + 5, clamp(tk.y, y + 5, y + h - 5));
  }
}

class LrPanel {
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
    // Rows of an optimizer without a diagonal rate: a diverging map over +-lim.
    const diverging = m.opts.filter((op) => op.lr && op.lrMap === "diverging");
    const sl = diverging.length ? signedLogLimits(diverging.map((op) => op.lr.data)) : null;
    const hasLog = rows.some((r) => r.op.lrMap !== "diverging");
    p.el.dataset.lrMap = diverging.length ? (hasLog ? "log+diverging" : "diverging") : "log";
    if (!p.baseTitle) p.baseTitle = p.title.textContent;
    p.title.textContent = diverging.length ? `${p.baseTitle} · ${diverging.map((op) => op.name).join(", ")}: ${REALISED_SHORT}` : p.baseTitle;
    // Shared log10 scale over every finite positive value (1st..99th percentile).
    const logs = [];
    for (const op of m.opts) {
      if (!op.lr || op.lrMap === "diverging") continue;
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
        if (r.op.lrMap === "diverging" && Number.isFinite(v)) {
          const k = signedLogIndex(v, sl) * 3;
          px[o] = DIVERGING[k];
          px[o + 1] = DIVERGING[k + 1];
          px[o + 2] = DIVERGING[k + 2];
          px[o + 3] = dimmed ? 50 : 255;
        } else if (v > 0 && Number.isFinite(v)) {
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
    // One colour bar per map in use (log above, diverging below when both are).
    const cx = hm.x + hw + 10 * sc, gap = 8 * sc;
    if (!diverging.length) colorbar(ctx, cx, hm.y, 10 * sc, hh, lo, hi, true, t);
    else if (!hasLog) signedLogBar(ctx, cx, hm.y, 10 * sc, hh, sl, t);
    else {
      const half = (hh - gap) / 2;
      colorbar(ctx, cx, hm.y, 10 * sc, half, lo, hi, true, t);
      signedLogBar(ctx, cx, hm.y + half + gap, 10 * sc, half, sl, t);
    }
  }

  // The colour scale of the focused optimizer's layer heatmaps: its own diverging scale when
  // its rates are the signed realised ratio, else the shared log scale.
  layerScale() {
    const L = this.model.lrLayers, q = L.scales && L.scales[this.focus];
    return q ? { ...q, lut: DIVERGING, log: false } : { map: "log", vmin: L.vmin, vmax: L.vmax, lut: VIRIDIS, log: true };
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
    const scale = this.layerScale();
    p.el.dataset.lrMap = scale.map;
    const barH = p.h - mg.t - mg.b - (strip ? 22 * sc : 0);
    if (scale.log) colorbar(ctx, p.w - mg.r + 14 * sc, mg.t, 10 * sc, barH, scale.vmin, scale.vmax, true, t);
    else signedLogBar(ctx, p.w - mg.r + 14 * sc, mg.t, 10 * sc, barH, { lo: scale.vmin, hi: scale.vmax }, t);
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
          const v = sub[n >> 1], o = (li * F + f) * 4, lut = scale.lut;
          img.data[o] = lut[v * 3];
          img.data[o + 1] = lut[v * 3 + 1];
          img.data[o + 2] = lut[v * 3 + 2];
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
    restoreStatic(p, this.dpr);
    if (this.lrMode === "inline" && p.hm) {
      const hm = p.hm, R = m.R;
      const x = hm.x + (R > 1 ? (this.pos / (R - 1)) * hm.w : 0);
      stepCursor(ctx, t, x, hm);
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
        const dim = vals.shape[1], scale = this.layerScale(), lut = scale.lut;
        p.layerRects.forEach((r, k) => {
          const tile = p.tiles[k], l = r.layer;
          const img = tile.ctx.createImageData(l.cols, l.rows);
          for (let q = 0; q < l.rows * l.cols; q++) {
            const w = l.offset + q;
            const v = w < dim ? vals.data[si * dim + w] : 0;
            const o = q * 4, c = v * 3;
            img.data[o] = lut[c];
            img.data[o + 1] = lut[c + 1];
            img.data[o + 2] = lut[c + 2];
            img.data[o + 3] = 255;
          }
          tile.ctx.putImageData(img, 0, 0);
        });
        const step = m.steps[L.frames[si]];
        const what = scale.map === "diverging" ? `Realised ${REALISED_NOTE}` : "Learning rate of every weight";
        p.title.textContent = `${what} · ${m.opts[this.focus].name} · step ${step === undefined ? "?" : step}`;
      }
      if (p.strip) {
        const q = p.strip, x = q.x + (m.R > 1 ? (this.pos / (m.R - 1)) * q.w : 0);
        stepCursor(ctx, t, x, q);
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
}
