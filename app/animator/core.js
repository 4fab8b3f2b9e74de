// The Animator: one instance per mounted document. Its methods are grouped by concern in
// the classes of the earlier modules and copied onto it below (mixin).

// What decides whether a new mount keeps the running instance: the layout options. `frame`
// and `autoplay` only set how a new instance starts (Python passes the last paused frame on
// every rerun so that a remount, e.g. after switching tabs, resumes there): changing them must
// not rebuild a running animation.
function optionsKeyOf(data) {
  const { frame, autoplay, ...layout } = (data && data.options) || {};
  return JSON.stringify(layout);
}

class Animator {
  constructor(root, data, callbacks, prev) {
    this.root = root;
    this.cb = callbacks;
    this.data = data;
    this.id = data && data.id;
    this.optionsKey = optionsKeyOf(data);
    this.alive = true;
    this.listeners = [];
    this.raf = 0;
    this.drawn = 0;
    this.drawTimes = [];
    this.reportTimer = 0;
    this.ripples = [];
    this.failed = {};
    this.divergedList = [];
    this.markers = [];
    const o = (data && data.options && typeof data.options === "object") ? data.options : {};
    this.options = o;
    this.model = parseModel(data);
    const m = this.model;
    const last = Math.max(0, m.R - 1);
    const byName = (name) => m.opts.findIndex((op) => op.name === name);
    const pickOpt = (v) => (typeof v === "string" ? byName(v) : Number.isInteger(v) ? v : -1);
    if (prev) {
      this.pos = clamp(prev.frame, 0, last);
      this.playing = prev.playing && m.R > 1;
      this.speed = prev.speed;
      this.loop = prev.loop;
      this.hidden = new Set(prev.hidden.filter((n) => byName(n) >= 0));
      this.focus = Math.max(0, byName(prev.focusName));
      this.start = clamp(prev.start, 0, m.S - 1);
      this.arrowOn = { ...prev.arrowOn };
      this.arrowAll = prev.arrowAll;
      this.arrowScale = prev.arrowScale;
    } else {
      this.pos = isNum(o.frame) ? clamp(Math.round(o.frame), 0, last) : 0;
      this.playing = o.autoplay !== false && m.R > 1;
      this.speed = SPEEDS.includes(o.speed) ? o.speed : 1;
      this.loop = o.loop !== undefined ? !!o.loop : true;
      this.hidden = new Set((Array.isArray(o.hidden) ? o.hidden : []).map(String));
      this.focus = Math.max(0, pickOpt(o.optimizer));
      this.start = isNum(o.start) ? clamp(o.start | 0, 0, m.S - 1) : 0;
      const shown = Array.isArray(o.arrows) ? o.arrows : ["grad", "momentum", "update"];
      this.arrowOn = Object.fromEntries(ARROWS.map((a) => [a.key, shown.includes(a.key)]));
      this.arrowAll = !!o.arrows_all;
      this.arrowScale = isNum(o.arrow_scale) && o.arrow_scale > 0 ? o.arrow_scale : 1;
    }
    if (this.focus >= m.opts.length) this.focus = 0;
    this.frame = Math.floor(this.pos);
    const alias = { heatmap: "lr", paths: "surface" };
    this.hide = new Set((Array.isArray(o.hide) ? o.hide : []).map((h) => alias[h] || String(h)));
    // panels off unless asked for (the 3-D view: its own tab, or an export that wants it)
    this.show = new Set((Array.isArray(o.show) ? o.show : []).map(String));
    this.presentation = !!o.presentation;
    this.buildDom();
    this.readTheme();
    this.loadImage();
    this.layout();
    this.bindEvents();
    this.updateFrameUi(true);
    this.render();
    if (this.playing) this.startLoop();
    this.installHooks();
  }

  layout() {
    if (!this.dom) return;
    const m = this.model;
    const W = Math.max(240, Math.floor(this.root.clientWidth || this.root.getBoundingClientRect().width || 900));
    this.width = W;
    const gap = 12;
    const present = this.presentation;
    const P = this.panels;
    const rights = ["surface3d", "lr", "loss", "schedule", "fit"].filter((k) => P[k]);
    const rects = {};
    const optHeight = isNum(this.options.height) ? this.options.height : null;
    let H;
    if (W >= 720) {
      H = optHeight || (present ? 560 : 480);
      if (P.surface) {
        const square = H - 22 - 44 + 118; // a square plot: title, x axis, y axis and colour bar
        // beside the 3-D panel (the 3-D tab) the 2-D one takes half
        const share = P.surface3d ? 0.5 : 0.56;
        const sw = rights.length ? Math.min(square, Math.round(W * share)) : Math.min(W, square + 40);
        rects.surface = [0, 0, sw, H];
      }
      const x0 = P.surface ? rects.surface[2] + gap : 0;
      const rw = W - x0;
      if (rights.length === 1) rects[rights[0]] = [x0, 0, rw, H];
      else if (rights.length === 2) {
        const h0 = Math.round(H * (rights[0] === "lr" ? this.lrShare(H) : rights[0] === "surface3d" ? 0.62 : 0.5));
        rects[rights[0]] = [x0, 0, rw, h0 - gap / 2];
        rects[rights[1]] = [x0, h0 + gap / 2, rw, H - h0 - gap / 2];
      } else if (rights.length >= 3) { // the first on top, the others side by side below
        const h0 = Math.round(H * (rights[0] === "lr" ? this.lrShare(H) : rights[0] === "surface3d" ? 0.62 : 0.5));
        rects[rights[0]] = [x0, 0, rw, h0 - gap / 2];
        const below = rights.slice(1), n = below.length;
        const lw = Math.round((rw - gap * (n - 1)) / n);
        below.forEach((k, j) => {
          const x = x0 + j * (lw + gap);
          rects[k] = [x, h0 + gap / 2, j === n - 1 ? x0 + rw - x : lw, H - h0 - gap / 2];
        });
      }
    } else {
      let y = 0;
      const heights = { surface: Math.min(W, optHeight || 440), surface3d: Math.round(Math.min(W, optHeight || 440) * 0.85), lr: this.lrMode === "layers" ? 260 : clamp(this.lrRows() * 12 + 70, 150, 300), loss: 220, schedule: 180, fit: 260 };
      for (const k of ["surface", "surface3d", "lr", "loss", "schedule", "fit"]) {
        if (!P[k]) continue;
        rects[k] = [0, y, W, heights[k]];
        y += heights[k] + gap;
      }
      H = Math.max(0, y - gap);
    }
    this.dom.grid.style.height = `${H}px`;
    this.dom.grid.style.display = Object.keys(P).length ? "" : "none";
    const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    this.dpr = dpr;
    for (const [k, p] of Object.entries(P)) {
      const [x, y, w, h] = rects[k];
      Object.assign(p.el.style, { left: `${x}px`, top: `${y}px`, width: `${w}px`, height: `${h}px` });
      const th = 22 * (present ? 1.25 : 1);
      p.w = Math.max(10, w);
      p.h = Math.max(10, h - th);
      p.canvas.style.width = `${p.w}px`;
      p.canvas.style.height = `${p.h}px`;
      p.canvas.width = Math.round(p.w * dpr);
      p.canvas.height = Math.round(p.h * dpr);
      p.ctx = p.canvas.getContext("2d");
      p.static = makeCanvas(p.w, p.h, dpr);
    }
    this.buildStatic();
  }

  lrRows() {
    const m = this.model;
    return m.opts.reduce((n, op) => n + (op.lr ? op.lr.shape[2] : 0), 0);
  }

  lrShare(H) {
    if (this.lrMode === "inline") return clamp((this.lrRows() * 13 + 70) / H, 0.3, 0.55);
    return 0.55;
  }

  // Everything drawn once per layout / data / visibility change.
  buildStatic() {
    if (!this.dom) return;
    const guard = (name, fn) => {
      if (!this.panels[name] || this.failed[name]) return;
      try {
        fn.call(this, this.panels[name]);
      } catch (e) {
        this.fail(name, e);
      }
    };
    guard("surface", this.buildSurface);
    guard("surface3d", this.buildSurface3d);
    guard("lr", this.buildLr);
    guard("loss", this.buildLoss);
    guard("schedule", this.buildSchedule);
    guard("fit", this.buildFit);
    this.lastSampled = {};
  }

  fail(name, e) {
    this.failed[name] = true;
    console.warn(`optimizer animator: ${name} panel:`, e);
    this.panelMessage(name, `${name} panel unavailable: ${e && e.message ? e.message : e}`);
  }

  visible(i) {
    return !this.hidden.has(this.model.opts[i].name);
  }

  installHooks() {
    const self = this;
    this.root.__optviz = {
      play: () => self.play(),
      pause: () => self.pause(),
      seek: (i) => self.seek(i),
      state: () => self.state(),
      // The renderer and the number format the page uses, for tests to check directly.
      tex: (src) => texRender(src),
      format: (v, p) => fmt(v, p),
    };
  }

  state() {
    const S = this.panels && this.panels.surface;
    return {
      frame: this.frame,
      pos: this.pos,
      step: this.model.steps ? this.model.steps[this.frame] : null,
      playing: this.playing,
      frames: this.model.R,
      speed: this.speed,
      loop: this.loop,
      fps: this.drawTimes.length,
      drawn: this.drawn,
      markers: (this.markers || []).map((q) => ({ ...q })),
      arrows: (this.arrowsDrawn || []).map((q) => ({ ...q })),
      diverged: this.divergedList.map((q) => ({ ...q })),
      plot: S && S.plot ? { x: S.plot.x, y: S.plot.y, w: S.plot.w, h: S.plot.h, extent: S.plot.ext.slice() } : null,
      hidden: [...this.hidden],
      focus: this.focus,
      imageReady: !!this.image,
      layers: this.panels && this.panels.lr && this.panels.lr.layerRects ? this.panels.lr.layerRects.map((r) => r.layer.name) : [],
      panels: this.panels ? Object.keys(this.panels) : [],
      fan: this.playing || !this.fanDrawn ? null : { ...this.fanDrawn },
      surface3d: this.surface3dState(),
      scheduleCursor: this.panels && this.panels.schedule ? this.panels.schedule.cursorX : null,
      errors: this.model.errors,
      failed: Object.keys(this.failed),
      live: this.liveState(),
      id: this.id,
    };
  }

  destroy() {
    if (!this.alive) return;
    this.alive = false;
    cancelAnimationFrame(this.raf);
    cancelAnimationFrame(this.resizeRaf);
    this.raf = 0;
    clearTimeout(this.reportTimer);
    for (const [t, type, fn, opts] of this.listeners) t.removeEventListener(type, fn, opts);
    this.listeners = [];
    if (this.ro) this.ro.disconnect();
    if (this.root.__optviz && this.root.__optvizInstance === this) delete this.root.__optviz;
  }
}

// Copy each group's methods onto Animator; a name defined twice is a mistake, not an override.
function mixin(target, ...groups) {
  for (const group of groups) {
    for (const name of Object.getOwnPropertyNames(group.prototype)) {
      if (name === "constructor") continue;
      if (Object.prototype.hasOwnProperty.call(target.prototype, name)) {
        throw new Error(`animator: ${group.name}.${name} is already defined`);
      }
      Object.defineProperty(target.prototype, name, Object.getOwnPropertyDescriptor(group.prototype, name));
    }
  }
}

mixin(Animator, DomBuilder, SurfacePanel, GradientFan, Surface3dPanel, LrPanel, LossPanel, SchedulePanel, FitPanel, InsidePanel, LivePanel, Timeline, Events, StartDrag);
