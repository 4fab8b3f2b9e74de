// Live scrubbing: sliders beside the inspected optimizer for its live hyperparameters. For the
// one whose family of runs the document carries (app/live.py), dragging swaps that optimizer's
// path, loss curve and learning rates for the member at the slider's value, on the next
// animation frame, with no message to Python; releasing commits the value (the `live`
// trigger). A slider without its family asks Python for it (the `inspect` state).

// The document's live section -> {optimizer, params, family, note}, or null.
function parseLive(spec, m, decode) {
  if (!spec || typeof spec !== "object") return null;
  const a = spec.optimizer;
  if (!Number.isInteger(a) || a < 0 || a >= m.opts.length) return null;
  const params = (Array.isArray(spec.params) ? spec.params : []).filter((p) => p && typeof p.name === "string" && isNum(p.value));
  const live = { optimizer: a, params, family: null, note: typeof spec.note === "string" ? spec.note : "" };
  const F = spec.family;
  if (!F || typeof F !== "object") return live;
  try {
    const values = Array.isArray(F.values) ? F.values.map(Number) : [];
    const K = values.length, R = m.R;
    if (K < 2 || !values.every(isNum)) throw new Error("live family: values are missing");
    const path = decode(F.path, "live family path", 4);
    const loss = decode(F.loss, "live family loss", 3);
    const lr = F.lr ? decode(F.lr, "live family lr", 4) : null;
    const S = path.shape[1];
    if (path.shape[0] !== K || path.shape[2] !== R || path.shape[3] !== 2) throw new Error(`live family path has shape [${path.shape}], expected [${K}, S, ${R}, 2]`);
    if (loss.shape[0] !== K || loss.shape[1] !== S || loss.shape[2] !== R) throw new Error(`live family loss has shape [${loss.shape}]`);
    const rows = (v) => (Array.isArray(v) && v.length === K ? v.map((r) => (Array.isArray(r) ? r : [])) : values.map(() => []));
    live.family = {
      name: String(F.name), values, K, S, current: clamp(F.current | 0, 0, K - 1), path, loss,
      lr: lr && lr.shape[0] === K && lr.shape[2] === R ? lr : null,
      diverged: rows(F.diverged), hit: rows(F.hit), finalLoss: rows(F.final_loss),
    };
  } catch (e) {
    live.note = e.message;
  }
  return live;
}

// Member k of a family array [K, ...] as an array [...] (a view, no copy).
function memberOf(arr, k) {
  const per = arr.data.length / arr.shape[0];
  return { data: arr.data.subarray(k * per, (k + 1) * per), shape: arr.shape.slice(1) };
}

class LivePanel {
  // The sliders, for the tools bar (null when the document has no live section).
  buildLive(d) {
    const L = this.model.live;
    d.liveRows = [];
    if (!L || !L.params.length) return null;
    d.live = el("div", { class: "ov-field ov-live", role: "group", "aria-label": "Live hyperparameters (drag: the picture follows; release: the run takes the value)", "data-testid": "ov-live" });
    d.live.append(el("span", { text: "Live" }));
    const F = L.family;
    for (const p of L.params) {
      if (F && F.name === p.name) {
        const input = el("input", {
          type: "range", class: "ov-live-range", min: 0, max: F.K - 1, step: 1, value: F.current,
          "data-testid": `ov-live-${p.name}`, "aria-label": `${p.name} (live)`,
          title: `${p.name}: drag to see the runs over ${fmt(F.values[0])}…${fmt(F.values[F.K - 1])} (computed in advance); release to keep the value`,
        });
        const out = el("output", { class: "ov-live-value", "data-testid": `ov-live-value-${p.name}`, text: fmt(F.values[F.current]) });
        d.liveRows.push({ name: p.name, input, out });
        d.live.append(el("label", { class: "ov-live-param" }, el("span", { class: "ov-dim", text: p.name }), input, out));
      } else if (!this.cb.standalone) { // an offline page has no server to compute one
        const b = el("button", {
          class: "ov-chip ov-live-load", type: "button", "data-testid": `ov-live-${p.name}`,
          "aria-label": `${p.name} (live): compute its runs to scrub`, title: `Compute ${p.name}'s runs so that its slider follows the hand`,
        }, el("span", { text: `${p.name} ${fmt(p.value)}` }));
        d.liveRows.push({ name: p.name, button: b });
        d.live.append(b);
      }
    }
    if (L.note) d.live.append(el("span", { class: "ov-dim ov-live-note", text: L.note }));
    this.liveIndex = F ? F.current : -1;
    this.liveApplied = 0;
    this.liveTimes = [];
    d.live.style.display = this.focus === L.optimizer ? "" : "none";
    return d.live;
  }

  bindLive() {
    const d = this.dom, L = this.model.live;
    for (const row of d.liveRows || []) {
      if (row.button) {
        this.on(row.button, "click", () => this.send("state", "inspect", { optimizer: L.optimizer, param: row.name }));
        continue;
      }
      const input = row.input;
      this.on(input, "pointerdown", () => {
        this.liveDragging = true;
      });
      this.on(input, "input", () => {
        const k = clamp(Number(input.value) | 0, 0, L.family.K - 1);
        if (k !== (this.livePending === undefined ? this.liveIndex : this.livePending)) this.liveMoves = (this.liveMoves || 0) + 1;
        this.livePending = k;
        row.out.textContent = fmt(L.family.values[k]);
        this.requestRender();
      });
      // Released (or a key's notch): the value goes to Python, which runs it for real.
      this.on(input, "change", () => {
        this.liveDragging = false;
        const k = clamp(Number(input.value) | 0, 0, L.family.K - 1);
        this.send("trigger", "live", { optimizer: L.optimizer, name: row.name, value: L.family.values[k] });
      });
    }
  }

  // On the animation frame after a slider moved: show that member (called by tick).
  applyPendingLive() {
    const k = this.livePending;
    if (k === undefined) return;
    this.livePending = undefined;
    const L = this.model.live, F = L && L.family;
    if (!F || k === this.liveIndex) return;
    const t0 = performance.now();
    const op = this.model.opts[L.optimizer];
    if (!op.committed) {
      op.committed = { path: op.path, loss: op.loss, lr: op.lr, arrows: op.arrows, ema: op.ema, diverged: op.diverged, hit: op.hit, finalLoss: op.finalLoss, divFrame: op.divFrame, hitFrame: op.hitFrame };
    }
    if (k === F.current) Object.assign(op, op.committed);
    else {
      const steps = this.model.steps;
      Object.assign(op, {
        path: memberOf(F.path, k), loss: memberOf(F.loss, k), ema: null,
        // the arrows (and the inside table) are the committed run's until the release reruns it
        arrows: {},
        lr: F.lr && op.committed.lr ? memberOf(F.lr, k) : op.committed.lr,
        diverged: F.diverged[k].map((v) => (isNum(v) ? v : -1)),
        hit: F.hit[k].map((v) => (isNum(v) ? v : -1)),
        finalLoss: F.finalLoss[k],
      });
      op.divFrame = op.diverged.map((st) => (st >= 0 ? frameOfStep(steps, st) : -1));
      op.hitFrame = op.hit.map((st) => (st >= 0 ? frameOfStep(steps, st) : -1));
    }
    this.liveIndex = k;
    this.buildStatic();
    this.liveApplied++;
    const now = performance.now();
    (this.liveCosts = this.liveCosts || []).push(now - t0);
    if (this.liveCosts.length > 120) this.liveCosts.shift();
    this.liveTimes.push(now);
    while (this.liveTimes.length && this.liveTimes[0] < now - 1000) this.liveTimes.shift();
  }

  liveState() {
    const L = this.model.live, F = L && L.family;
    if (!L) return null;
    const op = this.model.opts[L.optimizer];
    const a = op && op.px && op.px[Math.min(this.start, op.px.length - 1)];
    const f = this.frame;
    return {
      optimizer: L.optimizer, params: L.params.map((p) => p.name), name: F ? F.name : null,
      values: F ? F.values.slice() : [], index: this.liveIndex, value: F ? F.values[this.liveIndex] : null,
      current: F ? F.current : -1, applied: this.liveApplied, moves: this.liveMoves || 0, rate: (this.liveTimes || []).length,
      costs: (this.liveCosts || []).slice(), // ms to swap in a member and redraw the layers
      dragging: !!this.liveDragging, note: L.note,
      point: a ? [a[f * 2], a[f * 2 + 1]] : null, end: a ? [a[a.length - 2], a[a.length - 1]] : null,
    };
  }
}
