// The animator's page structure (header, legend, panels, controls, tools, events, inside)
// and its theme. Methods of Animator (see core.js), grouped here.

class DomBuilder {
  buildDom() {
    const m = this.model;
    const root = this.root;
    root.replaceChildren();
    root.className = "optviz" + (this.presentation ? " ov-present" : "");
    root.setAttribute("tabindex", "0");
    root.setAttribute("data-testid", "optviz");
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Optimizer animation");
    if (m.errors.general.length && !m.R) {
      root.append(el("div", { class: "ov-fatal", role: "alert", "data-testid": "ov-error", text: "Cannot animate: " + m.errors.general.join("; ") }));
      this.dom = null;
      return;
    }
    const d = (this.dom = {});
    this.buildHeader(d);
    this.buildPanels(d);
    this.buildControls(d);
    this.buildTools(d);
    this.buildEventList(d);
    // Inside the focused optimizer.
    d.inside = el("div", { class: "ov-inside", "data-testid": "ov-inside" });
    if (!this.hide.has("inside")) root.append(d.inside);
    this.buildInside();
  }

  // Title, subtitle and the legend (one chip per optimizer).
  buildHeader(d) {
    const m = this.model, s = m.surface;
    const nOpt = m.opts.length, last = m.steps[m.R - 1];
    const sub = `${nOpt} optimizer${nOpt === 1 ? "" : "s"}` + (m.S > 1 ? ` × ${m.S} starts` : "") +
      ` · ${last} steps` + (s.dim ? ` · ${s.dim} weight${s.dim === 1 ? "" : "s"}` : "") + (s.projected ? " · 2-D projection" : "");
    d.head = el("div", { class: "ov-head" },
      el("div", { class: "ov-titles" },
        el("div", { class: "ov-title", text: s.title || s.name || "Loss surface" }),
        el("div", { class: "ov-sub", text: sub })));
    d.legend = el("div", { class: "ov-legend", "data-testid": "ov-legend", role: "group", "aria-label": "Optimizers (click to show or hide)" });
    d.legendItems = m.opts.map((op, i) => {
      const fl = op.finalLoss.filter((v) => isNum(v));
      const b = el("button", {
        class: "ov-chip", type: "button", "data-testid": `ov-legend-${i}`, "data-name": op.name,
        title: `${op.name}${op.kind && op.kind !== op.name ? ` (${op.kind})` : ""}` + (fl.length ? ` · final loss ${fl.map((v) => fmt(v)).join(", ")}` : "") + " — click to hide/show, alt-click to show only this one",
      }, el("span", { class: "ov-swatch", style: `background:${op.color}` }), el("span", { class: "ov-chip-label", text: op.name }));
      d.legend.append(b);
      return b;
    });
    if (!this.hide.has("legend")) d.head.append(d.legend);
    this.root.append(d.head);
  }

  // One panel (title, canvas, tip, message) per view the document has and options show.
  buildPanels(d) {
    const m = this.model, s = m.surface;
    d.grid = el("div", { class: "ov-grid" });
    const panel = (name, title) => {
      const p = { name, el: el("div", { class: `ov-panel ov-panel-${name}`, "data-testid": `ov-panel-${name}` }) };
      p.title = el("span", { class: "ov-ptitle-text" }, title);
      p.head = el("div", { class: "ov-ptitle" }, p.title);
      p.canvas = el("canvas", { "data-testid": `ov-${name}`, class: "ov-canvas", role: "img", "aria-label": typeof title === "string" ? title : name });
      p.tip = el("div", { class: "ov-tip", "aria-hidden": "true" });
      p.msg = el("div", { class: "ov-msg", role: "status" });
      p.el.append(p.head, p.canvas, p.tip, p.msg);
      d.grid.append(p.el);
      return p;
    };
    this.panels = {};
    const has = {
      surface: !this.hide.has("surface"),
      surface3d: this.show.has("surface3d") && !this.hide.has("surface3d"),
      lr: !this.hide.has("lr") && (m.opts.some((op) => op.lr) || !!m.lrLayers || m.errors.lr.length > 0),
      loss: !this.hide.has("loss"),
      // only when some rate changes over the steps: a run of constant rates keeps its layout
      schedule: !this.hide.has("schedule") && (m.opts.some((op) => op.schedule && typeof op.schedule === "object") || m.errors.schedule.length > 0),
      fit: !this.hide.has("fit") && (!!m.fit || m.errors.fit.length > 0),
    };
    this.has = has;
    const colourNote = s.log ? "log colour" : "linear colour";
    if (has.surface) this.panels.surface = panel("surface", `Paths on the loss surface · ${colourNote}`);
    if (has.surface3d) this.panels.surface3d = panel("surface3d", "The loss surface in 3-D · balls at the current step");
    if (has.lr) {
      this.lrMode = m.opts.some((op) => op.lr) ? "inline" : m.lrLayers ? "layers" : "none";
      this.panels.lr = panel("lr", this.lrMode === "layers" ? "Learning rate of every weight" : "Per-weight learning rate over steps · log₁₀ colour");
    }
    if (has.loss) this.panels.loss = panel("loss", "Loss · log scale");
    if (has.schedule) this.panels.schedule = panel("schedule", "Learning-rate schedule η_t");
    if (has.fit) this.panels.fit = panel("fit", m.fit && m.fit.kind === "boundary" ? "Decision boundary · p(class 1)" : "Model fit at the current step");
    for (const [k, p] of Object.entries(this.panels)) {
      if (m.errors[k] && m.errors[k].length) this.panelMessage(k, m.errors[k].join("; "));
    }
    if (has.surface) this.buildSurfaceKey(d);
    this.root.append(d.grid);
  }

  // The surface's coordinate readout and its key to the marks (only those it draws).
  buildSurfaceKey(d) {
    const m = this.model, s = m.surface;
    d.readout = el("div", { class: "ov-readout", "data-testid": "ov-readout", "aria-live": "off" });
    this.panels.surface.el.append(d.readout);
    const key = el("span", { class: "ov-key", "data-testid": "ov-key" });
    const item = (svg, label) => key.append(el("span", { class: "ov-key-item", html: `${svg}${esc(label)}` }));
    const sv = (body) => `<svg viewBox="0 0 12 12" width="11" height="11" aria-hidden="true">${body}</svg>`;
    const ink = "currentColor";
    item(sv(`<rect x="2" y="2" width="8" height="8" fill="${ink}" opacity=".75"/>`), "start");
    item(sv(`<circle cx="6" cy="6" r="4.2" fill="${ink}" opacity=".75"/>`), "now");
    const starPath = "M6 .8l1.5 3.3 3.6.4-2.7 2.4.8 3.5L6 8.6 2.8 10.4l.8-3.5L.9 4.5l3.6-.4z";
    if (Array.isArray(s.minima) && s.minima.length) item(sv(`<path d="${starPath}" fill="${ink}" opacity=".75"/>`), "minimum");
    if (Array.isArray(s.local_minima) && s.local_minima.length) item(sv(`<path d="${starPath}" fill="none" stroke="${ink}" stroke-width="1.1"/>`), "local min.");
    if (m.S > 1) item(sv(`<path d="M0 6h3.5M5 6h3.5M10 6h2" stroke="${ink}" stroke-width="1.6"/>`), "start 2+");
    const averaged = m.opts.find((op) => op.average);
    if (averaged) item(sv(`<path d="M0 6h4.5M7.5 6h4.5" stroke="${ink}" stroke-width="1.6"/>`), averaged.averageLabel);
    if (m.opts.some((op) => op.ema)) item(sv(`<path d="M1.5 6h0M6 6h0M10.5 6h0" stroke="${ink}" stroke-width="2.2" stroke-linecap="round"/>`), "EMA");
    if (m.opts.some((op) => op.diverged.some((v) => v >= 0))) item(sv(`<path d="M2 2l8 8M10 2l-8 8" stroke="${RED}" stroke-width="2.4" stroke-linecap="round"/>`), "diverged");
    this.panels.surface.head.append(key);
  }

  // Play/pause, step, first/last, scrubber, step label, speed, loop.
  buildControls(d) {
    const m = this.model;
    const btn = (key, label, icon) => el("button", { class: "ov-btn", type: "button", "data-testid": `ov-${key}`, "aria-label": label, title: label, html: icon });
    d.first = btn("first", "First step (Home)", ICONS.first);
    d.back = btn("back", "Step back (←)", ICONS.back);
    d.play = btn("play", "Play (space)", ICONS.play);
    d.play.classList.add("ov-btn-main");
    d.forward = btn("forward", "Step forward (→)", ICONS.forward);
    d.last = btn("last", "Last step (End)", ICONS.last);
    d.scrub = el("input", { type: "range", class: "ov-scrub", min: 0, max: Math.max(0, m.R - 1), step: 1, value: this.frame, "data-testid": "ov-scrub", "aria-label": "Scrub through the steps" });
    d.stepLabel = el("span", { class: "ov-step", "data-testid": "ov-step-label", "aria-live": "off" });
    d.speed = el("select", { class: "ov-select", "data-testid": "ov-speed", "aria-label": "Playback speed", title: "Playback speed (1x = 30 frames per second)" },
      ...SPEEDS.map((v) => el("option", { value: v, text: `${v}×` })));
    d.speed.value = String(this.speed);
    d.loopBtn = el("button", { class: "ov-btn ov-toggle", type: "button", "data-testid": "ov-loop", "aria-label": "Loop", title: "Loop playback", "aria-pressed": String(this.loop), html: ICONS.loop });
    d.controls = el("div", { class: "ov-controls", role: "toolbar", "aria-label": "Playback" },
      el("div", { class: "ov-btns" }, d.first, d.back, d.play, d.forward, d.last), d.scrub, d.stepLabel, d.speed, d.loopBtn);
    if (!this.hide.has("controls")) this.root.append(d.controls);
  }

  // The inspected optimizer, the start point, the arrows.
  buildTools(d) {
    const m = this.model;
    d.focus = el("select", { class: "ov-select", "data-testid": "ov-focus", "aria-label": "Optimizer to inspect" },
      ...m.opts.map((op, i) => el("option", { value: i, text: op.name })));
    d.focus.value = String(this.focus);
    const tools = [el("label", { class: "ov-field" }, el("span", { text: "Inspect" }), d.focus)];
    const live = this.buildLive(d);
    if (live) tools.push(live);
    if (m.S > 1) {
      d.start = el("select", { class: "ov-select", "data-testid": "ov-start", "aria-label": "Start point" },
        ...Array.from({ length: m.S }, (_, s) => el("option", { value: s, text: `start ${s + 1}` })));
      d.start.value = String(this.start);
      tools.push(el("label", { class: "ov-field" }, el("span", { text: "Start" }), d.start));
    }
    d.arrowChips = ARROWS.map((a) => el("button", {
      class: "ov-chip ov-arrow-chip", type: "button", "data-testid": `ov-arrow-${a.key}`, "aria-pressed": String(!!this.arrowOn[a.key]), title: `Show the ${a.title} arrow`,
    }, el("span", { class: "ov-arrow-sw", html: arrowSwatch(a.color) }), el("span", { text: a.label })));
    d.arrowAllChip = el("button", { class: "ov-chip", type: "button", "data-testid": "ov-arrow-all", "aria-pressed": String(this.arrowAll), title: "Arrows for every optimizer, not only the inspected one" }, el("span", { text: "all optimizers" }));
    d.arrowScale = el("input", { type: "range", class: "ov-mini-range", min: -2, max: 2, step: 0.25, value: Math.log2(this.arrowScale), "data-testid": "ov-arrow-scale", "aria-label": "Arrow length" });
    tools.push(el("div", { class: "ov-field ov-arrows", role: "group", "aria-label": "Arrows on the surface" },
      el("span", { text: "Arrows" }), ...d.arrowChips, d.arrowAllChip, el("span", { class: "ov-dim", text: "length" }), d.arrowScale));
    d.tools = el("div", { class: "ov-tools" }, ...tools);
    if (!this.hide.has("tools")) this.root.append(d.tools);
  }

  // The events (divergences, minimum reached) as a static list.
  buildEventList(d) {
    const m = this.model;
    d.events = el("div", { class: "ov-events", "data-testid": "ov-diverged", "aria-live": "polite" });
    const events = [];
    m.opts.forEach((op) => {
      op.diverged.forEach((st, s) => {
        if (st >= 0) events.push(el("div", { class: "ov-event ov-event-bad" }, el("span", { class: "ov-x", text: "✕" }), ` ${op.name}${m.S > 1 ? ` (start ${s + 1})` : ""} diverged at step ${st}`));
      });
    });
    const hits = [];
    m.opts.forEach((op) => op.hit.forEach((st, s) => {
      if (st >= 0) hits.push(`${op.name}${m.S > 1 ? ` (start ${s + 1})` : ""} at step ${st}`);
    }));
    if (hits.length) events.push(el("div", { class: "ov-event ov-event-good" }, el("span", { text: "✓" }), ` reached the minimum: ${hits.join(", ")}`));
    d.events.append(...events);
    this.divergedList = [];
    m.opts.forEach((op) => op.diverged.forEach((st, s) => {
      if (st >= 0) this.divergedList.push({ name: op.name, start: s, step: st, frame: op.divFrame[s] });
    }));
    if (!this.hide.has("events") && events.length) this.root.append(d.events);
  }

  panelMessage(name, text) {
    const p = this.panels && this.panels[name];
    if (!p) return;
    p.msg.textContent = text || "";
    p.msg.style.display = text ? "block" : "none";
  }

  readTheme() {
    const cs = getComputedStyle(this.root);
    const text = parseColor(cs.color) || [49, 51, 63];
    let bg = parseColor(cs.backgroundColor);
    if (!bg) bg = [255, 255, 255];
    const dark = luminance(bg) < 0.45;
    const family = cs.fontFamily || "sans-serif";
    this.themeKey = `${cs.color}|${cs.backgroundColor}|${cs.fontFamily}`;
    const scale = this.presentation ? 1.3 : 1;
    this.theme = {
      dark, scale,
      text: rgba(text, 1),
      muted: rgba(text, 0.7),
      faint: rgba(text, 0.45),
      grid: rgba(text, dark ? 0.13 : 0.1),
      axis: rgba(text, 0.35),
      bg: rgba(bg, 1),
      plotBg: dark ? "rgba(255,255,255,0.035)" : "rgba(0,0,0,0.025)",
      font: (px, weight) => `${weight || 400} ${Math.round(px * scale * 10) / 10}px ${family}`,
    };
  }

  // The app's theme may change between reruns: redraw the static layers if it did.
  refreshTheme() {
    const cs = getComputedStyle(this.root);
    const key = `${cs.color}|${cs.backgroundColor}|${cs.fontFamily}`;
    if (key === this.themeKey) return;
    this.readTheme();
    this.buildStatic();
    this.requestRender();
  }
}
