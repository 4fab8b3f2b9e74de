// Dragging the first start point on the surface: while the pointer is down on its marker, the
// animator sends throttled "drag" triggers (at most one in flight; the latest position wins)
// and Python answers with only the new paths and losses (a small document, `drag` below, that
// replaces the data of this same instance); on release the start is committed with a "click".
// Methods of Animator.

const DRAG_GRAB_PX = 10; // how close to the start square a pointer-down grabs it
const DRAG_RESEND_MS = 3000; // an answer this late counts as lost (a rerun cut short)

function decodeOrNull(spec, what, ndim) {
  try {
    return decodeArray(spec, `drag answer: ${what}`, ndim);
  } catch (e) {
    console.warn("optimizer animator:", e.message);
    return null;
  }
}

class StartDrag {
  // Whether (px, py) is on the first start's marker of a visible optimizer.
  onStartMarker(px, py) {
    const m = this.model;
    return m.opts.some((op, i) => {
      const a = op.px && op.px[0];
      return a && this.visible(i) && Math.hypot(a[0] - px, a[1] - py) <= DRAG_GRAB_PX * this.theme.scale;
    });
  }

  // Pointer down on the start marker begins a drag; moves send the position (throttled);
  // release commits it. The click that follows a drag is swallowed (it is no new start).
  bindStartDrag(S) {
    this.drag = null;
    this.dragSeq = 0;
    this.dragApplied = 0;
    this.dragLatencies = []; // pointer event to the frame drawing its answer, in ms
    this.dragTrace = []; // per drag trigger, performance.now() times: see pumpDrag
    this.clickCommit = null; // a click's position, sent once its answer is drawn
    this.on(S.canvas, "pointerdown", (ev) => {
      this.swallowClick = false; // a drag's release that clicked nothing: no later click lost
      if (this.cb.standalone || ev.button !== 0 || ev.shiftKey) return;
      const { px, py } = canvasPoint(S, ev);
      if (!this.onStartMarker(px, py)) return;
      this.clickCommit = null; // a drag's release commits its own position
      this.drag = { pending: null, inFlight: null, moved: false, last: null };
      if (S.canvas.setPointerCapture) S.canvas.setPointerCapture(ev.pointerId);
      ev.preventDefault();
    });
    this.on(S.canvas, "pointermove", (ev) => {
      if (!this.drag) return;
      const v = this.surfacePoint(S, ev);
      if (!v) return;
      this.drag.moved = true;
      this.drag.last = { x: v.x, y: v.y };
      this.drag.pending = { x: v.x, y: v.y, t: performance.now() };
      this.pumpDrag();
    });
    // the release commits the last position inside the plot (where the paths were drawn from)
    const release = () => {
      const d = this.drag;
      if (!d) return;
      this.drag = null;
      this.swallowClick = d.moved;
      if (d.last) this.send("trigger", "click", { x: d.last.x, y: d.last.y, add: false });
    };
    this.on(S.canvas, "pointerup", release);
    this.on(S.canvas, "pointercancel", () => {
      this.drag = null;
    });
  }

  // A click moves the first start: its paths come first, as a drag step's answer (a rerun of
  // the animator's fragment alone), and once they are drawn the click is sent, which commits
  // the start (the whole page's rerun: the document, the sidebar, the link). Without an answer
  // within DRAG_RESEND_MS the click is sent all the same.
  clickStart(x, y) {
    if (this.drag) return;
    const seq = ++this.dragSeq, now = performance.now();
    this.clickCommit = { seq, x, y };
    this.dragTrace.push({ seq, pointer: now, sent: now, answered: null, applied: null, drawn: null });
    this.send("trigger", "drag", { x, y, seq });
    setTimeout(() => this.commitClick(seq), DRAG_RESEND_MS);
  }

  commitClick(seq) {
    const c = this.clickCommit;
    if (!c || c.seq !== seq) return;
    this.clickCommit = null;
    this.send("trigger", "click", { x: c.x, y: c.y, add: false });
  }

  // Send the latest position unless a request is still unanswered (its answer sends the next).
  pumpDrag() {
    const d = this.drag;
    // an answer lost must not stall the drag: after DRAG_RESEND_MS, send again
    if (!d || !d.pending || (d.inFlight && performance.now() - d.inFlight.sentAt < DRAG_RESEND_MS)) return;
    const seq = ++this.dragSeq;
    d.inFlight = { seq, t: d.pending.t, sentAt: performance.now() };
    const { x, y } = d.pending;
    d.pending = null;
    // page times of one step (benchmarks/app.py reads them): pointer event, sent, answer in, drawn
    this.dragTrace.push({ seq, pointer: d.inFlight.t, sent: d.inFlight.sentAt, answered: null, applied: null, drawn: null });
    this.send("trigger", "drag", { x, y, seq });
  }

  // The static layers that draw paths or losses, rebuilt for the swapped runs; the heatmaps
  // and the schedule keep theirs (the answer carries no learning rates: they wait for the
  // release's document): about half of buildStatic's time on the Paths tab (4 of 7.5 ms in
  // headless chromium, six optimizers), most of it on the 3-D tab (2.5 of 14 ms).
  rebuildPathLayers() {
    for (const [name, build] of [["surface", this.buildSurface], ["surface3d", this.buildSurface3d], ["loss", this.buildLoss], ["fit", this.buildFit]]) {
      if (!this.panels[name] || this.failed[name]) continue;
      try {
        build.call(this, this.panels[name]);
      } catch (e) {
        this.fail(name, e);
      }
    }
    this.lastSampled = {};
  }

  // Python's answer: `{seq, optimizers: [{path, loss}, ...]}` for this instance's document.
  // Stale answers (a lower sequence number than one already drawn) are dropped.
  applyDrag(answer) {
    const seq = Number(answer && answer.seq);
    const d = this.drag;
    const sent = d && d.inFlight && d.inFlight.seq === seq ? d.inFlight : null;
    if (d && sent) d.inFlight = null;
    const traced = this.dragTrace.find((q) => q.seq === seq);
    if (traced && traced.answered === null) traced.answered = performance.now();
    const clicked = this.clickCommit && this.clickCommit.seq === seq;
    if (!(seq > this.dragApplied) || !Array.isArray(answer.optimizers)) {
      if (clicked) this.commitClick(seq); // refused or stale: the commit says what is wrong
      this.pumpDrag();
      return;
    }
    this.dragApplied = seq;
    const m = this.model;
    answer.optimizers.forEach((o, i) => {
      const op = m.opts[i];
      if (!op || !o) return;
      const path = decodeOrNull(o.path, "path", 3);
      if (path && path.shape[1] === m.R && path.shape[2] === 2) {
        op.path = path;
        this.data.optimizers[i].path = o.path; // the document reads as drawn
      }
      const loss = decodeOrNull(o.loss, "loss", 2);
      if (loss && loss.shape[1] === m.R) {
        op.loss = loss;
        this.data.optimizers[i].loss = o.loss;
      }
      const steps = m.steps, num = (v) => (isNum(v) ? v : -1);
      if (Array.isArray(o.diverged) && Array.isArray(o.hit)) {
        op.diverged = o.diverged.map(num);
        op.hit = o.hit.map(num);
        op.divFrame = op.diverged.map((st) => (st >= 0 ? frameOfStep(steps, st) : -1));
        op.hitFrame = op.hit.map((st) => (st >= 0 ? frameOfStep(steps, st) : -1));
      }
      if (Array.isArray(o.final_loss)) op.finalLoss = o.final_loss;
      // the old run's extras would point elsewhere: hidden until the release's document
      Object.assign(op, { ema: null, average: null, arrows: {} });
    });
    this.rebuildPathLayers();
    this.updateFrameUi(true);
    this.requestRender();
    if (traced) traced.applied = performance.now();
    if (sent || clicked) {
      requestAnimationFrame(() => {
        const now = performance.now();
        if (traced) traced.drawn = now;
        if (sent) this.dragLatencies.push(now - sent.t);
        if (clicked) this.commitClick(seq); // after the frame that draws the new paths
      });
    }
    this.pumpDrag();
  }
}
