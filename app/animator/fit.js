// The fit panel: the model's line, or its decision boundary, at the current step.
// Methods of Animator.

class FitPanel {
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
    restoreStatic(p, this.dpr);
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
}
