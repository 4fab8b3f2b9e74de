// Event handlers: controls, legend, tools, keyboard, pointer on the panels, resizing.
// Methods of Animator.

class Events {
  on(target, type, fn, opts) {
    target.addEventListener(type, fn, opts);
    this.listeners.push([target, type, fn, opts]);
  }

  bindEvents() {
    const d = this.dom;
    if (!d) return;
    this.on(d.play, "click", () => (this.playing ? this.pause() : this.play()));
    this.on(d.back, "click", () => this.step(-1));
    this.on(d.forward, "click", () => this.step(1));
    this.on(d.first, "click", () => {
      this.pause();
      this.seek(0);
    });
    this.on(d.last, "click", () => {
      this.pause();
      this.seek(this.model.R - 1);
    });
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
    d.legendItems.forEach((b, i) => {
      const sync = () => d.legendItems.forEach((x, j) => x.setAttribute("aria-pressed", String(this.visible(j))));
      sync();
      this.on(b, "click", (ev) => {
        const name = this.model.opts[i].name;
        if (ev.altKey) {
          const solo = this.visible(i) && this.model.opts.every((op, j) => j === i || !this.visible(j));
          this.hidden = new Set(solo ? [] : this.model.opts.filter((_, j) => j !== i).map((op) => op.name));
        } else if (this.hidden.has(name)) this.hidden.delete(name);
        else this.hidden.add(name);
        sync();
        this.buildStatic();
        this.requestRender();
      });
    });
    this.on(d.focus, "change", () => {
      this.focus = clamp(Number(d.focus.value) | 0, 0, this.model.opts.length - 1);
      this.buildInside();
      this.updateFrameUi(true);
      if (this.panels.lr && this.lrMode === "layers") this.buildStatic();
      if (this.panels.fit) this.panels.fit.sampled = -1;
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
    // Keyboard.
    const typing = (e) => {
      const tg = e.composedPath ? e.composedPath()[0] : e.target;
      const tag = tg && tg.tagName;
      return tag === "SELECT" || tag === "TEXTAREA" || (tag === "INPUT" && tg.type !== "range");
    };
    this.on(this.root, "keydown", (e) => {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      const tg = e.composedPath ? e.composedPath()[0] : e.target;
      const onRange = tg && tg.tagName === "INPUT";
      let handled = true;
      if (e.key === " " || e.key === "Spacebar") this.playing ? this.pause() : this.play();
      else if (e.key === "ArrowLeft" && !onRange) this.step(-1);
      else if (e.key === "ArrowRight" && !onRange) this.step(1);
      else if (e.key === "Home" && !onRange) {
        this.pause();
        this.seek(0);
      } else if (e.key === "End" && !onRange) {
        this.pause();
        this.seek(this.model.R - 1);
      } else handled = false;
      if (handled) {
        e.preventDefault();
        e.stopPropagation();
      }
    });
    // A space released on a focused button must not click it too.
    this.on(this.root, "keyup", (e) => {
      if (e.key === " " && !typing(e)) e.preventDefault();
    });
    // Surface: hover coordinates and click to set a start point.
    const S = this.panels.surface;
    if (S) {
      const toView = (ev) => {
        const r = S.canvas.getBoundingClientRect();
        const px = ev.clientX - r.left, py = ev.clientY - r.top;
        const pl = S.plot;
        if (!pl || px < pl.x || px > pl.x + pl.w || py < pl.y || py > pl.y + pl.h) return null;
        const [x0, x1, y0, y1] = pl.ext;
        return { px, py, x: x0 + ((px - pl.x) / pl.w) * (x1 - x0), y: y1 - ((py - pl.y) / pl.h) * (y1 - y0) };
      };
      this.on(S.canvas, "mousemove", (ev) => {
        const v = toView(ev);
        const ax = Array.isArray(this.model.surface.axes) ? this.model.surface.axes : ["x", "y"];
        const hint = this.cb.standalone ? "" : " · click: new start, shift-click: add one";
        d.readout.textContent = v ? `${ax[0]} = ${fmt(v.x, 4)}, ${ax[1]} = ${fmt(v.y, 4)}${hint}` : "";
        d.readout.style.display = v ? "block" : "none";
        S.canvas.style.cursor = v ? "crosshair" : "default";
      });
      this.on(S.canvas, "mouseleave", () => {
        d.readout.style.display = "none";
      });
      this.on(S.canvas, "click", (ev) => {
        const v = toView(ev);
        if (!v) return;
        this.ripples.push({ x: v.px, y: v.py, t: performance.now() });
        this.requestRender();
        this.send("trigger", "click", { x: v.x, y: v.y, add: !!ev.shiftKey });
      });
    }
    // Heatmap and loss: hover values, click to seek.
    const L = this.panels.lr;
    if (L) {
      const hit = (ev) => {
        const r = L.canvas.getBoundingClientRect();
        const px = ev.clientX - r.left, py = ev.clientY - r.top;
        const m = this.model;
        if (this.lrMode === "inline" && L.hm) {
          const hm = L.hm;
          if (px < hm.x || px > hm.x + hm.w || py < hm.y || py > hm.y + hm.h) return null;
          const fr = Math.round(((px - hm.x) / hm.w) * (m.R - 1));
          const row = L.rows[clamp(Math.floor((py - hm.y) / hm.rowH), 0, L.rows.length - 1)];
          const s2 = Math.min(this.start, row.op.lr.shape[0] - 1), dim = row.op.lr.shape[2];
          const v = row.op.lr.data[(s2 * m.R + fr) * dim + row.d];
          return { px, py, fr, text: `${row.label} · step ${m.steps[fr]} · η = ${fmt(v)}` };
        }
        if (this.lrMode === "layers" && L.strip) {
          const q = L.strip;
          if (px >= q.x && px <= q.x + q.w && py >= q.y && py <= q.y + q.h) {
            const li = clamp(Math.floor((py - q.y) / q.row), 0, m.lrLayers.layers.length - 1);
            const fr = Math.round(((px - q.x) / q.w) * (m.R - 1));
            const vals = m.lrLayers.values[this.focus], l = m.lrLayers.layers[li];
            const si = nearestIndex(m.lrLayers.frames, fr), dim = vals.shape[1];
            const sub = [];
            for (let k = 0; k < l.rows * l.cols; k++) sub.push(vals.data[si * dim + l.offset + k]);
            sub.sort((a, b) => a - b);
            const lg = m.lrLayers.vmin + (sub[sub.length >> 1] / 255) * (m.lrLayers.vmax - m.lrLayers.vmin);
            return { px, py, fr, text: `${l.name} · step ${m.steps[fr]} · median η ≈ ${fmt(Math.pow(10, lg))}` };
          }
        }
        if (this.lrMode === "layers" && L.layerRects) {
          for (const q of L.layerRects) {
            if (px >= q.x && px < q.x + q.w && py >= q.y && py < q.y + q.h) {
              const c = Math.floor((px - q.x) / q.cell), rr = Math.floor((py - q.y) / q.cell);
              const w = q.layer.offset + rr * q.layer.cols + c;
              const vals = m.lrLayers.values[this.focus];
              const si = nearestIndex(m.lrLayers.frames, this.frame);
              if (!vals) return null;
              const u = vals.data[si * vals.shape[1] + w];
              const lg = m.lrLayers.vmin + (u / 255) * (m.lrLayers.vmax - m.lrLayers.vmin);
              return { px, py, fr: null, text: `${m.weights[w] || `${q.layer.name}[${rr},${c}]`} · η ≈ ${fmt(Math.pow(10, lg))}` };
            }
          }
        }
        return null;
      };
      this.on(L.canvas, "mousemove", (ev) => showTip(L, hit(ev)));
      this.on(L.canvas, "mouseleave", () => showTip(L, null));
      this.on(L.canvas, "click", (ev) => {
        const h = hit(ev);
        if (h && h.fr !== null) {
          this.pause();
          this.seek(h.fr);
        }
      });
    }
    const Lo = this.panels.loss;
    if (Lo) {
      const hit = (ev) => {
        const r = Lo.canvas.getBoundingClientRect();
        const px = ev.clientX - r.left, py = ev.clientY - r.top, pl = Lo.plot, m = this.model;
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
      };
      this.on(Lo.canvas, "mousemove", (ev) => showTip(Lo, hit(ev)));
      this.on(Lo.canvas, "mouseleave", () => showTip(Lo, null));
      this.on(Lo.canvas, "click", (ev) => {
        const h = hit(ev);
        if (h) {
          this.pause();
          this.seek(h.fr);
        }
      });
    }
    // Width changes: re-layout (debounced to one per animation frame).
    if (typeof ResizeObserver !== "undefined") {
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
}
