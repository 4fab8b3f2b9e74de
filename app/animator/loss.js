// The loss panel: every run's loss over the steps, with a cursor. Methods of Animator.

class LossPanel {
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
    const yt = mode === "log" ? logTicks(lo, hi, Math.max(2, Math.floor(ph / 34))) : linTicks(lo, hi, Math.max(2, Math.floor(ph / 34)));
    stepAxes(ctx, t, p, plot, X, Y, yt, s0, s1, offset ? `loss − ${fmt(offset)}` : "loss");
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
    restoreStatic(p, this.dpr);
    const plot = p.plot;
    if (!plot) return;
    const pos = this.pos, f = Math.floor(pos), frac = pos - f;
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.x - 6, plot.y - 6, plot.w + 12, plot.h + 12);
    ctx.clip();
    // Cursor.
    const st = lerpStep(m.steps, f, frac);
    timeCursor(ctx, t, p.X(st), plot);
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
          currentDot(ctx, cur[0], clamp(cur[1], plot.y, plot.y + plot.h), 3.6 * sc, op.color, t.bg);
        }
      });
    });
    ctx.restore();
  }
}
