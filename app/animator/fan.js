// The minibatch-gradient fan (app/payload.py "fan"): at the paused point, thin arrows of the
// K minibatch gradients taken as -g, on the scale of the run's -∇f arrow, so the spread of
// the stochastic directions around the full gradient shows. Methods of Animator.

class GradientFan {
  drawFan(p, op, cx, cy) {
    this.fanDrawn = { frame: this.frame, count: 0 }; // state(): what the last paused draw showed
    if (!op.fan || !op.arrowK || !this.arrowOn.grad || !op.arrowK.grad) return;
    const plot = p.plot, R = this.model.R, K = op.fan.shape[1], sc = this.theme.scale;
    const fr = clamp(Math.round(this.pos), 0, R - 1);
    const sx = plot.w / (plot.ext[1] - plot.ext[0]), sy = plot.h / (plot.ext[3] - plot.ext[2]);
    const cap = 0.3 * Math.min(plot.w, plot.h);
    for (let i = 0; i < K; i++) {
      const k = (fr * K + i) * 2;
      const vx = -op.fan.data[k] * sx, vy = op.fan.data[k + 1] * sy; // -g, y up on screen
      const raw = Math.hypot(vx, vy);
      if (!Number.isFinite(raw) || raw === 0) continue;
      // the -∇f arrow's length law (surface.js arrowsAt): comparable lengths, exact directions
      const len = clamp(34 * Math.sqrt((raw * op.arrowK.grad) / 34) * this.arrowScale, 6, cap);
      const dx = (vx / raw) * len, dy = (vy / raw) * len;
      arrow(p.ctx, cx, cy, dx, dy, "rgba(0,0,0,0.45)", 1.1 * sc, 1.5); // a dark edge over any colour
      arrow(p.ctx, cx, cy, dx, dy, op.color, 1.1 * sc, 0);
      this.fanDrawn.count++;
    }
  }
}
