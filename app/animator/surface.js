// The surface panel: the loss surface image, axes and colour bar, the paths with their
// halos, start and current markers, arrows, divergence notes. Methods of Animator.

class SurfacePanel {
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
    const m = this.model, t = this.theme, ctx = p.static.ctx, sc = t.scale;
    const mg = { l: Math.round(50 * sc), r: Math.round(66 * sc), t: 8, b: Math.round(40 * sc) };
    const pw = Math.max(10, p.w - mg.l - mg.r), ph = Math.max(10, p.h - mg.t - mg.b);
    const ext = m.extent || [-1, 1, -1, 1];
    const [x0, x1, y0, y1] = ext;
    const plot = (p.plot = { x: mg.l, y: mg.t, w: pw, h: ph, ext });
    p.X = (x) => plot.x + ((x - x0) / (x1 - x0)) * pw;
    p.Y = (y) => plot.y + ((y1 - y) / (y1 - y0)) * ph;
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
    this.drawSurfaceAxes(p);
    this.projectPaths(p);
    this.scaleArrows(p);
    this.drawStaticPaths(p);
  }

  // Ticks, axis names and the colour bar of the surface.
  drawSurfaceAxes(p) {
    const m = this.model, t = this.theme, ctx = p.static.ctx, sc = t.scale, s = m.surface;
    const plot = p.plot, pw = plot.w, ph = plot.h, [x0, x1, y0, y1] = plot.ext;
    ctx.fillStyle = t.muted;
    ctx.font = t.font(11);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const tk of linTicks(x0, x1, Math.max(3, Math.floor(pw / 70)))) {
      const px = Math.round(p.X(tk.v)) + 0.5;
      ctx.fillRect(px - 0.5, plot.y + ph, 1, 4);
      ctx.fillText(tk.label, px, plot.y + ph + 6);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const tk of linTicks(y0, y1, Math.max(3, Math.floor(ph / 60)))) {
      const py = Math.round(p.Y(tk.v)) + 0.5;
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
  }

  // Every path (and EMA path) in pixels, once per layout: op.px[start] = [x0, y0, x1, ...].
  projectPaths(p) {
    const m = this.model, R = m.R;
    const toPx = (arr) => {
      const S = arr.shape[0], out = [];
      for (let s2 = 0; s2 < S; s2++) {
        const a = new Float32Array(R * 2);
        for (let r = 0; r < R; r++) {
          const k = (s2 * R + r) * 2, vx = arr.data[k], vy = arr.data[k + 1];
          if (Number.isFinite(vx) && Number.isFinite(vy)) {
            a[r * 2] = clamp(p.X(vx), -1e5, 1e5);
            a[r * 2 + 1] = clamp(p.Y(vy), -1e5, 1e5);
          } else {
            a[r * 2] = NaN;
            a[r * 2 + 1] = NaN;
          }
        }
        out.push(a);
      }
      return out;
    };
    for (const op of m.opts) {
      op.px = op.path ? toPx(op.path) : null;
      op.emaPx = op.path && op.ema ? toPx(op.ema) : null;
      op.averagePx = op.path && op.average ? toPx(op.average) : null;
    }
  }

  // Arrow scales: a robust typical length of 34 px per (optimizer, kind), from the median
  // on-screen length over a sample of the run's frames.
  scaleArrows(p) {
    const m = this.model, R = m.R, plot = p.plot;
    const sx = plot.w / (plot.ext[1] - plot.ext[0]), sy = plot.h / (plot.ext[3] - plot.ext[2]);
    for (const op of m.opts) {
      if (!op.path) continue;
      op.arrowK = {};
      for (const a of ARROWS) {
        const arr = op.arrows[a.key];
        if (!arr) continue;
        const lens = [];
        const n = arr.shape[0] * R;
        const stride = Math.max(1, Math.floor(n / 2000));
        for (let q = 0; q < n; q += stride) {
          const len = Math.hypot(arr.data[q * 2] * sx, arr.data[q * 2 + 1] * sy);
          if (Number.isFinite(len) && len > 0) lens.push(len);
        }
        lens.sort((u, v) => u - v);
        const med = lens.length ? lens[Math.floor(lens.length * 0.5)] : 0;
        op.arrowK[a.key] = med > 0 ? 34 / med : 0;
      }
    }
  }

  // Faint full paths, start squares and minima (the static layer).
  drawStaticPaths(p) {
    const m = this.model, ctx = p.static.ctx, sc = this.theme.scale, s = m.surface, R = m.R;
    clipTo(ctx, p.plot);
    m.opts.forEach((op, i) => {
      if (!op.px || !this.visible(i)) return;
      op.px.forEach((a, s2) => {
        strokeOverHalo(ctx, () => polyline(ctx, a, 0, R - 1, 1), op.rgb, 1.2, 0.38, 0.3, s2 ? [4, 3] : []);
      });
    });
    const mins = Array.isArray(s.minima) ? s.minima : [];
    const locs = Array.isArray(s.local_minima) ? s.local_minima : [];
    for (const q of locs) if (Array.isArray(q) && isNum(q[0]) && isNum(q[1])) star(ctx, p.X(q[0]), p.Y(q[1]), 7 * sc, null, "#ffffff");
    for (const q of mins) if (Array.isArray(q) && isNum(q[0]) && isNum(q[1])) star(ctx, p.X(q[0]), p.Y(q[1]), 8.5 * sc, "#ffffff", "rgba(0,0,0,0.75)");
    m.opts.forEach((op, i) => {
      if (!op.px || !this.visible(i)) return;
      op.px.forEach((a) => {
        const x = a[0], y = a[1];
        if (!Number.isFinite(x)) return;
        const r = 4.5 * sc;
        ctx.fillStyle = op.color;
        ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
        ctx.strokeStyle = rgba(haloOf(op.rgb), 1);
        ctx.lineWidth = 1.5;
        ctx.strokeRect(x - r, y - r, 2 * r, 2 * r);
      });
    });
    ctx.restore();
  }

  drawSurface(p) {
    const ctx = p.ctx, plot = p.plot;
    if (!plot) return;
    restoreStatic(p, this.dpr);
    this.drawTrails(p);
    this.drawCurrentPoints(p);
    this.drawDivergenceNotes(p);
    this.drawRipples(ctx);
  }

  // Each path up to the current (interpolated) position over its halo; EMA paths dotted.
  drawTrails(p) {
    const m = this.model, ctx = p.ctx, sc = this.theme.scale;
    const pos = this.pos, f = Math.floor(pos), frac = pos - f, R = m.R;
    clipTo(ctx, p.plot);
    m.opts.forEach((op, i) => {
      if (!op.px || !this.visible(i)) return;
      op.px.forEach((a, s2) => {
        const cur = interp(a, f, frac, R);
        const trace = () => {
          polyline(ctx, a, 0, f, 1);
          if (cur) ctx.lineTo(cur[0], cur[1]);
        };
        strokeOverHalo(ctx, trace, op.rgb, 2.2 * sc, 1, HALO_ALPHA, s2 ? [6, 4] : []);
        if (op.emaPx && op.emaPx[s2]) this.drawEma(ctx, op, op.emaPx[s2], f, frac);
        if (op.averagePx && op.averagePx[s2]) this.drawEma(ctx, op, op.averagePx[s2], f, frac, [5 * sc, 3 * sc]);
      });
    });
    ctx.restore();
  }

  // A second sequence beside the path: the EMA dotted, a declared average (dash) dashed.
  drawEma(ctx, op, e, f, frac, dash) {
    const sc = this.theme.scale;
    if (dash) {
      // dark dashes under the coloured ones: the average often runs along the path itself
      ctx.strokeStyle = "rgba(0,0,0,0.75)";
      ctx.lineWidth = 3.4 * sc;
      ctx.setLineDash(dash);
      polyline(ctx, e, 0, f, 1);
      ctx.stroke();
    }
    ctx.strokeStyle = op.color;
    ctx.lineWidth = (dash ? 1.6 : 2.2) * sc;
    ctx.lineCap = dash ? "butt" : "round";
    ctx.setLineDash(dash || [0.1, 4.5 * sc]);
    polyline(ctx, e, 0, f, 1);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.lineCap = "butt";
    const ec = interp(e, f, frac, this.model.R);
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

  // Arrows, current points, divergence crosses (unclipped, positions clamped to the plot).
  drawCurrentPoints(p) {
    const m = this.model, ctx = p.ctx, sc = this.theme.scale, plot = p.plot;
    const pos = this.pos, f = Math.floor(pos), frac = pos - f, R = m.R;
    const inPlot = (x, y) => [clamp(x, plot.x, plot.x + plot.w), clamp(y, plot.y, plot.y + plot.h)];
    const markers = [], arrows = [];
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
          const todo = this.arrowsAt(p, op, s2);
          // Every outline first, then the colours widest first.
          for (const [dx, dy, A] of todo) arrow(ctx, cx, cy, dx, dy, "rgba(0,0,0,0.5)", A.width * sc, 2);
          for (const [dx, dy, A] of todo) arrow(ctx, cx, cy, dx, dy, A.color, A.width * sc, 0);
          if (s2 === 0 && !this.playing) this.drawFan(p, op, cx, cy); // fan.js
          for (const [dx, dy, A] of todo) arrows.push({ name: op.name, start: s2, key: A.key, x: cx, y: cy, dx, dy });
        }
        if (div) {
          cross(ctx, cx, cy, 7 * sc, RED, "#ffffff");
        } else {
          ctx.beginPath();
          ctx.arc(cx, cy, 5.5 * sc, 0, 2 * Math.PI);
          ctx.fillStyle = op.color;
          ctx.fill();
          ctx.lineWidth = 2;
          ctx.strokeStyle = rgba(haloOf(op.rgb), 1);
          ctx.stroke();
        }
        markers.push({ name: op.name, start: s2, x: cx, y: cy, diverged: div });
      });
    });
    this.markers = markers;
    this.arrowsDrawn = arrows;
  }

  // The arrows of one run at the current frame: [dx, dy, kind] in pixels. Each vector is drawn
  // as the payload sends it times its kind's sign (ARROWS in base.js); its length is 34 px at
  // the run's median magnitude, square-root compressed so that both tiny and huge vectors stay
  // readable; the direction is exact.
  arrowsAt(p, op, s2) {
    const plot = p.plot, R = this.model.R;
    const fr = clamp(Math.round(this.pos), 0, R - 1);
    const sx = plot.w / (plot.ext[1] - plot.ext[0]), sy = plot.h / (plot.ext[3] - plot.ext[2]);
    const cap = 0.3 * Math.min(plot.w, plot.h);
    const todo = [];
    for (const A of ARROWS) {
      const arr = op.arrows[A.key];
      if (!arr || !this.arrowOn[A.key] || !op.arrowK[A.key]) continue;
      const k = (s2 * R + fr) * 2;
      const vx = arr.data[k] * sx * A.sign, vy = -arr.data[k + 1] * sy * A.sign;
      const raw = Math.hypot(vx, vy);
      if (!Number.isFinite(raw) || raw === 0) continue;
      const len = clamp(34 * Math.sqrt((raw * op.arrowK[A.key]) / 34) * this.arrowScale, 9, cap);
      todo.push([(vx / raw) * len, (vy / raw) * len, A]);
    }
    return todo;
  }

  // Divergence messages reached so far, at the top of the plot.
  drawDivergenceNotes(p) {
    const m = this.model, ctx = p.ctx, t = this.theme, sc = t.scale, plot = p.plot, pos = this.pos;
    const reached = this.divergedList.filter((d) => pos >= d.frame && this.visible(m.opts.findIndex((o) => o.name === d.name)));
    if (!reached.length) return;
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

  // Click ripples (each lives 0.7 s).
  drawRipples(ctx) {
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
  }
}
