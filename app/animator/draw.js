// Canvas drawing helpers shared by the panels (no state of their own).

// WCAG 2 relative luminance of an sRGB colour [r, g, b] (0..255), and the contrast ratio of two.
function relativeLuminance(rgb) {
  const lin = (c) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
}

function contrastRatio(a, b) {
  const la = relativeLuminance(a), lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

// A path's halo: a thin outline (HALO_PX on each side) under every path and marker, white or
// near-black, whichever contrasts more with the path's own colour. Where the map behind is
// close to the path's colour (a dark blue path on viridis's dark blue, a yellow one on its
// yellow) the halo is what keeps it visible.
const HALO_PX = 1.5;
const HALO_ALPHA = 0.9;
const HALO_LIGHT = [255, 255, 255];
const HALO_DARK = [16, 16, 24];

function haloOf(rgb) {
  return contrastRatio(rgb, HALO_LIGHT) >= contrastRatio(rgb, HALO_DARK) ? HALO_LIGHT : HALO_DARK;
}

// Stroke a path (traced by `trace()`) `width` wide in `rgb` at `alpha`, over its halo at
// `haloAlpha`, dashed as `dash`.
function strokeOverHalo(ctx, trace, rgb, width, alpha, haloAlpha, dash) {
  ctx.setLineDash(dash);
  for (const [w, c] of [[width + 2 * HALO_PX, rgba(haloOf(rgb), haloAlpha)], [width, rgba(rgb, alpha)]]) {
    ctx.strokeStyle = c;
    ctx.lineWidth = w;
    trace();
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

// Clip what follows to the plot rectangle (until the matching ctx.restore()).
function clipTo(ctx, plot) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.x, plot.y, plot.w, plot.h);
  ctx.clip();
  ctx.lineJoin = "round";
}

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

// The frame of a plot over the steps (box {x, y, w, h} in panel p): background, y grid with
// yTicks' labels, x grid with step labels from s0 to s1, the axis titles and the border; the
// loss and schedule panels share it.
function stepAxes(ctx, t, p, plot, X, Y, yTicks, s0, s1, yTitle) {
  const sc = t.scale, pw = plot.w, ph = plot.h;
  ctx.fillStyle = t.plotBg;
  ctx.fillRect(plot.x, plot.y, pw, ph);
  ctx.font = t.font(10.5);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const tk of yTicks) {
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
  ctx.fillText(yTitle, 0, 0);
  ctx.restore();
  ctx.strokeStyle = t.axis;
  ctx.lineWidth = 1;
  ctx.strokeRect(plot.x - 0.5, plot.y - 0.5, pw + 1, ph + 1);
}

function lerpStep(steps, f, frac) {
  const a = steps[f];
  return f + 1 < steps.length ? a + (steps[f + 1] - a) * frac : a;
}

// Every panel's per-frame start: the canvas cleared to its static layer (axes, image, faint
// curves: drawn once per layout), then CSS-pixel coordinates.
function restoreStatic(p, dpr) {
  const ctx = p.ctx;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, p.canvas.width, p.canvas.height);
  ctx.drawImage(p.static.c, 0, 0);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
}

// The thin step cursor of the panels over the steps (loss, schedule).
function timeCursor(ctx, t, x, plot) {
  ctx.fillStyle = t.text;
  ctx.globalAlpha = 0.55;
  ctx.fillRect(x - 0.75, plot.y, 1.5, plot.h);
  ctx.globalAlpha = 1;
}

// A curve's current value: a dot in its colour, ringed in the background's.
function currentDot(ctx, x, y, r, color, ring) {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.strokeStyle = ring;
  ctx.lineWidth = 1.5;
  ctx.stroke();
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
