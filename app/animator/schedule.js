// The schedule panel: each optimizer's learning rate eta_t over the steps (app/payload.py,
// "schedule": one value per frame, or a number for a constant rate, drawn flat), with the
// same cursor and clock as the loss panel. Methods of Animator.

class SchedulePanel {
  // The value of op's schedule at frame r (null: the optimizer has no rate).
  scheduleAt(op, r) {
    if (isNum(op.schedule)) return op.schedule;
    return op.schedule ? op.schedule.data[r] : null;
  }

  buildSchedule(p) {
    const m = this.model, t = this.theme, ctx = p.static.ctx, sc = t.scale, R = m.R;
    ctx.clearRect(0, 0, p.w, p.h);
    let hi = -Infinity, lo = Infinity;
    for (const op of m.opts) {
      for (let r = 0; r < R && op.schedule !== null; r++) {
        const v = this.scheduleAt(op, r);
        if (Number.isFinite(v)) {
          hi = Math.max(hi, v);
          lo = Math.min(lo, v);
        }
      }
    }
    if (!Number.isFinite(hi)) {
      this.panelMessage("schedule", m.errors.schedule.length ? m.errors.schedule.join("; ") : "no learning rates");
      p.plot = null;
      return;
    }
    lo = Math.min(0, lo); // a rate is read against zero: a decay to 0 reaches the axis
    if (!(hi - lo > 1e-12)) hi = lo + 1;
    hi += (hi - lo) * 0.06;
    const mg = { l: Math.round(60 * sc), r: 12, t: Math.round(10 * sc), b: Math.round(34 * sc) };
    const pw = Math.max(10, p.w - mg.l - mg.r), ph = Math.max(10, p.h - mg.t - mg.b);
    const steps = m.steps, s0 = steps[0], s1 = steps[R - 1] > s0 ? steps[R - 1] : s0 + 1;
    const plot = (p.plot = { x: mg.l, y: mg.t, w: pw, h: ph });
    p.X = (st) => plot.x + ((st - s0) / (s1 - s0)) * pw;
    const Y = (v) => plot.y + ((hi - v) / (hi - lo)) * ph;
    stepAxes(ctx, t, p, plot, p.X, Y, linTicks(lo, hi, Math.max(2, Math.floor(ph / 34))), s0, s1, "η_t");
    // Pixel curves (x, y per frame), the whole schedule faint: it is known in advance.
    for (const op of m.opts) {
      op.schedulePx = null;
      if (op.schedule === null) continue;
      const a = new Float32Array(R * 2);
      for (let r = 0; r < R; r++) {
        const v = this.scheduleAt(op, r);
        a[r * 2] = p.X(steps[r]);
        a[r * 2 + 1] = Number.isFinite(v) ? Y(v) : NaN;
      }
      op.schedulePx = a;
    }
    m.opts.forEach((op, i) => {
      if (!op.schedulePx || !this.visible(i)) return;
      ctx.strokeStyle = rgba(op.rgb, 0.3);
      ctx.lineWidth = 1.2;
      polyline(ctx, op.schedulePx, 0, R - 1, 1);
      ctx.stroke();
    });
  }

  drawSchedule(p) {
    const m = this.model, ctx = p.ctx, t = this.theme, sc = t.scale, R = m.R;
    restoreStatic(p, this.dpr);
    const plot = p.plot;
    if (!plot) return;
    const pos = this.pos, f = Math.floor(pos), frac = pos - f;
    const cx = p.X(lerpStep(m.steps, f, frac));
    p.cursorX = cx; // read by tests through state()
    timeCursor(ctx, t, cx, plot);
    ctx.lineJoin = "round";
    m.opts.forEach((op, i) => {
      if (!op.schedulePx || !this.visible(i)) return;
      ctx.strokeStyle = op.color;
      ctx.lineWidth = 2 * sc;
      polyline(ctx, op.schedulePx, 0, f, 1);
      const cur = interp(op.schedulePx, f, frac, R);
      if (cur) ctx.lineTo(cur[0], cur[1]);
      ctx.stroke();
      if (cur) currentDot(ctx, cur[0], cur[1], 3.6 * sc, op.color, t.bg);
    });
  }
}
