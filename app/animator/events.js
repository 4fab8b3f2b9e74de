// Event handlers: controls, legend, tools, keyboard, pointer on the panels, resizing.
// Methods of Animator. bindEvents wires each group; every listener goes through `on`, so
// destroy() removes them all.

// The element an event started at, inside a shadow root too.
const eventTarget = (e) => (e.composedPath ? e.composedPath()[0] : e.target);

// Whether a key event comes from a field the user types into (its keys are not shortcuts).
function isTyping(e) {
  const tg = eventTarget(e);
  const tag = tg && tg.tagName;
  return tag === "SELECT" || tag === "TEXTAREA" || (tag === "INPUT" && tg.type !== "range");
}

// The pointer's position in a panel's canvas, in CSS pixels.
function canvasPoint(p, ev) {
  const r = p.canvas.getBoundingClientRect();
  return { px: ev.clientX - r.left, py: ev.clientY - r.top };
}

class Events {
  on(target, type, fn, opts) {
    target.addEventListener(type, fn, opts);
    this.listeners.push([target, type, fn, opts]);
  }

  bindEvents() {
    if (!this.dom) return;
    this.bindPlayback();
    this.bindLegend();
    this.bindTools();
    this.bindKeyboard();
    if (this.panels.surface) this.bindSurfacePointer(this.panels.surface);
    if (this.panels.surface3d) this.bindOrbit(this.panels.surface3d);
    if (this.panels.lr) this.bindSeekPointer(this.panels.lr, (ev) => this.lrHit(ev));
    if (this.panels.loss) this.bindSeekPointer(this.panels.loss, (ev) => this.lossHit(ev));
    this.observeResize();
  }

  // Play/pause, step, first/last, scrubber, speed, loop.
  bindPlayback() {
    const d = this.dom;
    this.on(d.play, "click", () => this.togglePlay());
    this.on(d.back, "click", () => this.step(-1));
    this.on(d.forward, "click", () => this.step(1));
    this.on(d.first, "click", () => this.jumpTo(0));
    this.on(d.last, "click", () => this.jumpTo(this.model.R - 1));
    this.on(d.scrub, "input", () => {
      this.pos = Number(d.scrub.value);
      this.lastTs = null;
      this.updateFrameUi(true);
      this.requestRender();
    });
    this.on(d.scrub, "change", () => this.seek(Number(d.scrub.value)));
    this.on(d.speed, "change", () => {
      const v = Number(d.speed.value);
      this.speed = SPEEDS.includes(v) ? v : 1;
    });
    this.on(d.loopBtn, "click", () => {
      this.loop = !this.loop;
      d.loopBtn.setAttribute("aria-pressed", String(this.loop));
    });
  }

  togglePlay() {
    if (this.playing) this.pause();
    else this.play();
  }

  jumpTo(frame) {
    this.pause();
    this.seek(frame);
  }

  // Legend chips: click shows/hides one optimizer, alt-click shows only it (or all again).
  bindLegend() {
    const d = this.dom;
    const sync = () => d.legendItems.forEach((x, j) => x.setAttribute("aria-pressed", String(this.visible(j))));
    sync();
    d.legendItems.forEach((b, i) => this.on(b, "click", (ev) => {
      const opts = this.model.opts, name = opts[i].name;
      if (ev.altKey) {
        const solo = this.visible(i) && opts.every((op, j) => j === i || !this.visible(j));
        this.hidden = new Set(solo ? [] : opts.filter((_, j) => j !== i).map((op) => op.name));
      } else if (this.hidden.has(name)) this.hidden.delete(name);
      else this.hidden.add(name);
      sync();
      this.buildStatic();
      this.requestRender();
    }));
  }

  // The inspected optimizer and start, and the arrows.
  bindTools() {
    const d = this.dom;
    this.on(d.focus, "change", () => {
      this.focus = clamp(Number(d.focus.value) | 0, 0, this.model.opts.length - 1);
      this.buildInside();
      this.updateFrameUi(true);
      if (this.panels.lr && this.lrMode === "layers") this.buildStatic();
      if (this.panels.fit) this.panels.fit.sampled = -1;
      const L = this.model.live;
      if (d.live) d.live.style.display = L && this.focus === L.optimizer ? "" : "none";
      // Python sends the newly inspected optimizer's family of runs with the next document.
      if (L && this.focus !== L.optimizer) this.send("state", "inspect", { optimizer: this.focus, param: null });
      this.requestRender();
    });
    if (d.start) {
      this.on(d.start, "change", () => {
        this.start = clamp(Number(d.start.value) | 0, 0, this.model.S - 1);
        this.buildStatic();
        this.updateFrameUi(true);
        this.requestRender();
      });
    }
    this.bindLive();
    d.arrowChips.forEach((b, k) => this.on(b, "click", () => {
      const key = ARROWS[k].key;
      this.arrowOn[key] = !this.arrowOn[key];
      b.setAttribute("aria-pressed", String(this.arrowOn[key]));
      this.requestRender();
    }));
    this.on(d.arrowAllChip, "click", () => {
      this.arrowAll = !this.arrowAll;
      d.arrowAllChip.setAttribute("aria-pressed", String(this.arrowAll));
      this.requestRender();
    });
    this.on(d.arrowScale, "input", () => {
      this.arrowScale = Math.pow(2, Number(d.arrowScale.value));
      this.requestRender();
    });
  }

  // Space plays/pauses; ← → step; Home/End go to the first/last frame (not on a slider, whose
  // own arrow keys move it).
  bindKeyboard() {
    this.on(this.root, "keydown", (e) => {
      if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      const tg = eventTarget(e);
      const onRange = tg && tg.tagName === "INPUT";
      const actions = {
        " ": () => this.togglePlay(),
        Spacebar: () => this.togglePlay(),
        ArrowLeft: onRange ? null : () => this.step(-1),
        ArrowRight: onRange ? null : () => this.step(1),
        Home: onRange ? null : () => this.jumpTo(0),
        End: onRange ? null : () => this.jumpTo(this.model.R - 1),
      };
      const act = Object.prototype.hasOwnProperty.call(actions, e.key) ? actions[e.key] : null;
      if (!act) return;
      act();
      e.preventDefault();
      e.stopPropagation();
    });
    // A space released on a focused button must not click it too.
    this.on(this.root, "keyup", (e) => {
      if (e.key === " " && !isTyping(e)) e.preventDefault();
    });
  }

  // The pointer over the surface in view coordinates, or null outside the plot.
  surfacePoint(S, ev) {
    const { px, py } = canvasPoint(S, ev);
    const pl = S.plot;
    if (!pl || px < pl.x || px > pl.x + pl.w || py < pl.y || py > pl.y + pl.h) return null;
    const [x0, x1, y0, y1] = pl.ext;
    return { px, py, x: x0 + ((px - pl.x) / pl.w) * (x1 - x0), y: y1 - ((py - pl.y) / pl.h) * (y1 - y0) };
  }

  // Surface: hover shows the coordinates; a click sets a start point (shift-click adds one).
  bindSurfacePointer(S) {
    const d = this.dom;
    this.on(S.canvas, "mousemove", (ev) => {
      const v = this.surfacePoint(S, ev);
      const ax = Array.isArray(this.model.surface.axes) ? this.model.surface.axes : ["x", "y"];
      const hint = this.cb.standalone ? "" : " · click: new start, shift-click: add one, drag the start square";
      d.readout.textContent = v ? `${ax[0]} = ${fmt(v.x, 4)}, ${ax[1]} = ${fmt(v.y, 4)}${hint}` : "";
      d.readout.style.display = v ? "block" : "none";
      S.canvas.style.cursor = v ? "crosshair" : "default";
    });
    this.on(S.canvas, "mouseleave", () => {
      d.readout.style.display = "none";
    });
    this.bindStartDrag(S);
    this.on(S.canvas, "click", (ev) => {
      if (this.swallowClick) {
        this.swallowClick = false; // the end of a drag of the start marker (committed on release)
        return;
      }
      const v = this.surfacePoint(S, ev);
      if (!v) return;
      this.ripples.push({ x: v.px, y: v.py, t: performance.now() });
      this.requestRender();
      if (ev.shiftKey || this.cb.standalone) this.send("trigger", "click", { x: v.x, y: v.y, add: !!ev.shiftKey });
      else this.clickStart(v.x, v.y); // app/animator/drag.js: the paths first, then the commit
    });
  }

  // A panel over the steps: hover shows a tip (hit(ev) -> {px, py, fr, text} or null), a click
  // on a step goes there.
  bindSeekPointer(p, hit) {
    this.on(p.canvas, "mousemove", (ev) => showTip(p, hit(ev)));
    this.on(p.canvas, "mouseleave", () => showTip(p, null));
    this.on(p.canvas, "click", (ev) => {
      const h = hit(ev);
      if (h && h.fr !== null) this.jumpTo(h.fr);
    });
  }

  // What the pointer is over in the learning-rate panel.
  lrHit(ev) {
    const L = this.panels.lr;
    const { px, py } = canvasPoint(L, ev);
    if (this.lrMode === "inline" && L.hm) return this.lrInlineHit(L, px, py);
    if (this.lrMode !== "layers") return null;
    if (L.strip) {
      const h = this.lrStripHit(L.strip, px, py);
      if (h) return h;
    }
    return L.layerRects ? this.lrLayerHit(L.layerRects, px, py) : null;
  }

  // A row (optimizer, weight) and a step of the inline heatmap.
  lrInlineHit(L, px, py) {
    const m = this.model, hm = L.hm;
    if (px < hm.x || px > hm.x + hm.w || py < hm.y || py > hm.y + hm.h) return null;
    const fr = Math.round(((px - hm.x) / hm.w) * (m.R - 1));
    const row = L.rows[clamp(Math.floor((py - hm.y) / hm.rowH), 0, L.rows.length - 1)];
    const s2 = Math.min(this.start, row.op.lr.shape[0] - 1), dim = row.op.lr.shape[2];
    const v = row.op.lr.data[(s2 * m.R + fr) * dim + row.d];
    return { px, py, fr, text: `${row.label} · step ${m.steps[fr]} · η = ${fmt(v)}` };
  }

  // A layer and a step of the strip of per-layer medians.
  lrStripHit(q, px, py) {
    const m = this.model, L = m.lrLayers;
    if (px < q.x || px > q.x + q.w || py < q.y || py > q.y + q.h) return null;
    const li = clamp(Math.floor((py - q.y) / q.row), 0, L.layers.length - 1);
    const fr = Math.round(((px - q.x) / q.w) * (m.R - 1));
    const vals = L.values[this.focus], l = L.layers[li];
    const si = nearestIndex(L.frames, fr), dim = vals.shape[1];
    const sub = [];
    for (let k = 0; k < l.rows * l.cols; k++) sub.push(vals.data[si * dim + l.offset + k]);
    sub.sort((a, b) => a - b);
    const lg = L.vmin + (sub[sub.length >> 1] / 255) * (L.vmax - L.vmin);
    return { px, py, fr, text: `${l.name} · step ${m.steps[fr]} · median η ≈ ${fmt(Math.pow(10, lg))}` };
  }

  // One weight of a layer's matrix, at the current step (no step to seek to).
  lrLayerHit(rects, px, py) {
    const m = this.model, L = m.lrLayers;
    for (const q of rects) {
      if (px < q.x || px >= q.x + q.w || py < q.y || py >= q.y + q.h) continue;
      const c = Math.floor((px - q.x) / q.cell), rr = Math.floor((py - q.y) / q.cell);
      const w = q.layer.offset + rr * q.layer.cols + c;
      const vals = L.values[this.focus];
      if (!vals) return null;
      const si = nearestIndex(L.frames, this.frame);
      const u = vals.data[si * vals.shape[1] + w];
      const lg = L.vmin + (u / 255) * (L.vmax - L.vmin);
      return { px, py, fr: null, text: `${m.weights[w] || `${q.layer.name}[${rr},${c}]`} · η ≈ ${fmt(Math.pow(10, lg))}` };
    }
    return null;
  }

  // The step under the pointer in the loss panel, with every visible run's loss there.
  lossHit(ev) {
    const Lo = this.panels.loss, pl = Lo.plot, m = this.model;
    const { px, py } = canvasPoint(Lo, ev);
    if (!pl || px < pl.x || px > pl.x + pl.w || py < pl.y || py > pl.y + pl.h) return null;
    const st = m.steps[0] + ((px - pl.x) / pl.w) * (m.steps[m.R - 1] - m.steps[0]);
    const fr = nearestIndex(m.steps, st);
    const parts = [];
    m.opts.forEach((op, i) => {
      if (!op.loss || !this.visible(i)) return;
      const s2 = Math.min(this.start, op.loss.shape[0] - 1);
      parts.push(`${op.name} ${fmt(op.loss.data[s2 * m.R + fr])}`);
    });
    return { px, py, fr, text: `step ${m.steps[fr]}: ${parts.slice(0, 8).join(" · ")}` };
  }

  // Width changes: re-layout (debounced to one per animation frame).
  observeResize() {
    if (typeof ResizeObserver === "undefined") return;
    let lastW = this.width;
    this.ro = new ResizeObserver(() => {
      const w = Math.floor(this.root.clientWidth);
      if (!w || Math.abs(w - lastW) < 2) return;
      lastW = w;
      cancelAnimationFrame(this.resizeRaf);
      this.resizeRaf = requestAnimationFrame(() => {
        if (!this.alive) return;
        this.layout();
        this.render();
      });
    });
    this.ro.observe(this.root);
  }
}
