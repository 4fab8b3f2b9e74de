// The 3-D panel ("surface3d"): the loss surface as a shaded height mesh in perspective, the
// paths as 3-D polylines just above it and a ball per run at the current frame, on the same
// clock as the 2-D markers. Plain Canvas 2D (no WebGL: headless browsers and many projectors'
// laptops have no GPU): the mesh's quads are filled far to near (the painter's algorithm) once
// per camera or size into the panel's offscreen canvas; each animation frame only composites
// it and draws the trails and balls. Methods of Animator.
//
// Heights are the 2-D picture's colour coordinate (app/payload.py `heights`: the log of the
// excess over the floor when the picture is log-coloured, clipped to the colour range), so a
// quad has the colour the 2-D image has there; a path's heights come from its loss by the same
// rule (height3d), so a live or dragged path (new loss in the browser) stays on the surface.

const CAMERA3D = { az: 0.45, el: 0.9 }; // radians: from the south-west, 52° up (Rosenbrock's valley opens towards it)
const Z_SPAN3D = 0.55; // height of the box, as a fraction of its side
const EYE3D = 2.6; // the camera's distance from the box's centre, in box sides

class Surface3dPanel {
  // The document's height mesh, decoded once: {xs, ys, z (Float32Array ny*nx), lo, hi}.
  heightModel() {
    const m = this.model;
    if (m.height3d !== undefined) return m.height3d;
    const s = m.surface, h = s && s.height;
    m.height3d = null;
    if (!h || typeof h !== "object") throw new Error("this document has no height grid (rebuild it with the current app)");
    const xs = Array.isArray(h.x) ? h.x.map(Number) : [], ys = Array.isArray(h.y) ? h.y.map(Number) : [];
    const z = decodeArray(h.z, "surface.height.z", 2);
    if (xs.length < 2 || ys.length < 2 || z.shape[0] !== ys.length || z.shape[1] !== xs.length) {
      throw new Error(`surface.height: ${z.shape} heights for ${ys.length} x ${xs.length} nodes`);
    }
    if (!(isNum(s.vmin) && isNum(s.vmax) && s.vmax > s.vmin)) throw new Error("surface.vmin/vmax are missing");
    m.height3d = { xs, ys, z: z.data, lo: s.vmin, hi: s.vmax, log: !!s.log, floor: isNum(s.floor) ? s.floor : 0, offset: isNum(h.offset) ? h.offset : 0 };
    return m.height3d;
  }

  // A loss value's height (the rule of app/payload.py `heights`); NaN for no value.
  height3d(H, v) {
    if (!Number.isFinite(v)) return NaN;
    const shown = H.log ? Math.log10(v - H.floor + H.offset) : v;
    return clamp(Number.isFinite(shown) ? shown : H.lo, H.lo, H.hi);
  }

  // The mesh's height at view point (x, y): bilinear between its nodes.
  meshHeight3d(H, x, y) {
    const cell = (a, v) => {
      let lo = 0, hi = a.length - 2;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (a[mid] <= v) lo = mid;
        else hi = mid - 1;
      }
      return [lo, clamp((v - a[lo]) / (a[lo + 1] - a[lo]), 0, 1)];
    };
    const [i, fx] = cell(H.xs, x), [j, fy] = cell(H.ys, y), n = H.xs.length, z = H.z;
    const a = z[j * n + i], b = z[j * n + i + 1], c = z[(j + 1) * n + i], d = z[(j + 1) * n + i + 1];
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
  }

  // World coordinates of a view point and height: the window is the unit square around 0,
  // heights span Z_SPAN3D.
  world3d(H, x, y, h) {
    const [x0, x1, y0, y1] = this.model.extent;
    return [(x - x0) / (x1 - x0) - 0.5, (y - y0) / (y1 - y0) - 0.5, ((h - H.lo) / (H.hi - H.lo) - 0.5) * Z_SPAN3D];
  }

  // The camera of this panel's size: project(X, Y, Z) -> [px, py, distance].
  camera3d(p) {
    const cam = this.cam3d || (this.cam3d = { ...CAMERA3D });
    const ca = Math.cos(cam.az), sa = Math.sin(cam.az), ce = Math.cos(cam.el), se = Math.sin(cam.el);
    const raw = (X, Y, Z) => {
      const x1 = X * ca - Y * sa, y1 = X * sa + Y * ca;
      const w = EYE3D - (-y1 * ce + Z * se); // distance along the view axis
      return [x1 / w, -(y1 * se + Z * ce) / w, w];
    };
    // Fit the box's eight corners into the panel (the projection is linear in scale and shift).
    let bx0 = Infinity, bx1 = -Infinity, by0 = Infinity, by1 = -Infinity;
    for (const X of [-0.5, 0.5]) for (const Y of [-0.5, 0.5]) for (const Z of [-Z_SPAN3D / 2, Z_SPAN3D / 2]) {
      const [u, v] = raw(X, Y, Z);
      bx0 = Math.min(bx0, u); bx1 = Math.max(bx1, u); by0 = Math.min(by0, v); by1 = Math.max(by1, v);
    }
    const pad = 30 * this.theme.scale, top = 22 * this.theme.scale; // room for the axis labels
    const F = Math.min((p.w - 2 * pad) / (bx1 - bx0), (p.h - pad - top) / (by1 - by0));
    const cx = p.w / 2 - F * (bx0 + bx1) / 2, cy = top + (p.h - pad - top) / 2 - F * (by0 + by1) / 2;
    const project = (X, Y, Z) => {
      const [u, v, w] = raw(X, Y, Z);
      return [cx + F * u, cy + F * v, w];
    };
    // The light comes from above, over the viewer's left shoulder, so slopes facing the viewer
    // stay lit whichever way the camera turns.
    const L = [-ce * sa - 0.45 * ca, -ce * ca + 0.45 * sa, se + 1.1];
    const n = Math.hypot(...L);
    return { project, light: L.map((v) => v / n), az: cam.az, el: cam.el };
  }

  // The static layer: the mesh (redrawn only when the camera, the size or the theme changed:
  // a live slider or a dragged start changes only the paths), then the faint whole paths.
  buildSurface3d(p) {
    const t = this.theme, ctx = p.static.ctx, sc = t.scale;
    const H = this.heightModel();
    const cam = (p.cam = this.camera3d(p));
    const key = `${p.w}x${p.h}@${this.dpr}|${cam.az},${cam.el}|${this.themeKey}|${this.presentation}`;
    if (p.meshKey !== key) {
      p.mesh = makeCanvas(p.w, p.h, this.dpr);
      this.drawMeshLayer3d(p, p.mesh.ctx, H, cam);
      p.meshKey = key;
      p.meshBuilds = (p.meshBuilds || 0) + 1;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, p.static.c.width, p.static.c.height);
    ctx.drawImage(p.mesh.c, 0, 0);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    this.projectPaths3d(p, H, cam);
    // faint whole paths under the animated trails
    const R = this.model.R;
    ctx.lineJoin = "round";
    this.model.opts.forEach((op, i) => {
      if (!op.px3 || !this.visible(i)) return;
      op.px3.forEach((a, s2) => strokeOverHalo(ctx, () => polyline(ctx, a, 0, R - 1, 1), op.rgb, 1.2 * sc, 0.45, 0.3, s2 ? [4, 3] : []));
    });
  }

  drawMeshLayer3d(p, ctx, H, cam) {
    const t = this.theme;
    ctx.fillStyle = t.plotBg;
    ctx.fillRect(0, 0, p.w, p.h);
    this.drawBox3d(ctx, H, cam, false);
    this.drawMesh3d(ctx, H, cam, this.minimaSprites3d(H, cam));
    this.drawBox3d(ctx, H, cam, true);
    ctx.fillStyle = t.muted;
    ctx.font = t.font(11);
    ctx.textAlign = "right";
    ctx.textBaseline = "top";
    ctx.fillText("drag: rotate · double-click: reset", p.w - 8, 6);
    ctx.textAlign = "left";
    const s = this.model.surface;
    ctx.fillText(`height: ${s.log ? `log₁₀(loss${isNum(s.floor) && s.floor !== 0 ? ` − ${fmt(s.floor)}` : ""})` : "loss"}`, 8, 6);
  }

  // The minima's stars, to be drawn in the painter's order with the quads (a valley's wall
  // hides them): [{depth, draw()}].
  minimaSprites3d(H, cam) {
    const m = this.model, s = m.surface, sc = this.theme.scale, [x0, x1, y0, y1] = m.extent;
    const lift = 0.012 * (H.hi - H.lo), out = [];
    const inWindow = (q) => Array.isArray(q) && isNum(q[0]) && isNum(q[1]) && q[0] >= x0 && q[0] <= x1 && q[1] >= y0 && q[1] <= y1;
    for (const [list, r, fill, line] of [[s.local_minima, 7, null, "#ffffff"], [s.minima, 8.5, "#ffffff", "rgba(0,0,0,0.75)"]]) {
      for (const q of Array.isArray(list) ? list.filter(inWindow) : []) {
        const z = Math.min(H.hi, this.meshHeight3d(H, q[0], q[1]) + lift);
        const [px, py, w] = cam.project(...this.world3d(H, q[0], q[1], z));
        // a little nearer than its own quad, which must not cover it
        out.push({ depth: 4 * (w - 0.02), draw: (ctx) => star(ctx, px, py, r * sc, fill, line) });
      }
    }
    return out.sort((a, b) => b.depth - a.depth);
  }

  // The quads, far to near, coloured on the 2-D picture's scale and Lambert-shaded; the
  // sprites (sorted far to near) each drawn before the first quad nearer than it.
  drawMesh3d(ctx, H, cam, sprites) {
    const nx = H.xs.length, ny = H.ys.length;
    const N = nx * ny, PX = new Float32Array(N), PY = new Float32Array(N), W = new Float32Array(N);
    const WX = new Float32Array(N), WY = new Float32Array(N), WZ = new Float32Array(N);
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      const k = j * nx + i, w = this.world3d(H, H.xs[i], H.ys[j], H.z[k]);
      WX[k] = w[0]; WY[k] = w[1]; WZ[k] = w[2];
      const q = cam.project(w[0], w[1], w[2]);
      PX[k] = q[0]; PY[k] = q[1]; W[k] = q[2];
    }
    const Q = (nx - 1) * (ny - 1), order = new Uint32Array(Q), depth = new Float32Array(Q);
    for (let j = 0; j < ny - 1; j++) for (let i = 0; i < nx - 1; i++) {
      const q = j * (nx - 1) + i, k = j * nx + i;
      order[q] = q;
      depth[q] = W[k] + W[k + 1] + W[k + nx] + W[k + nx + 1];
    }
    order.sort((a, b) => depth[b] - depth[a]);
    const span = H.hi - H.lo, [lx, ly, lz] = cam.light;
    // viridis, continuous: bands as in the 2-D picture would make steps on the slopes
    const lut = (h) => clamp(Math.round(((h - H.lo) / span) * 255), 0, 255) * 3;
    ctx.lineJoin = "round";
    ctx.lineWidth = 0.7; // the same colour around each quad closes the seams between them
    let next = 0;
    for (const q of order) {
      while (next < sprites.length && sprites[next].depth > depth[q]) sprites[next++].draw(ctx);
      const i = q % (nx - 1), j = (q - i) / (nx - 1), k = j * nx + i;
      const a = k, b = k + 1, c = k + nx + 1, d = k + nx;
      // normal: the cross product of the diagonals, pointing up
      const ux = WX[c] - WX[a], uy = WY[c] - WY[a], uz = WZ[c] - WZ[a];
      const vx = WX[d] - WX[b], vy = WY[d] - WY[b], vz = WZ[d] - WZ[b];
      let nxv = uy * vz - uz * vy, nyv = uz * vx - ux * vz, nzv = ux * vy - uy * vx;
      const nl = Math.hypot(nxv, nyv, nzv) || 1;
      if (nzv < 0) { nxv = -nxv; nyv = -nyv; nzv = -nzv; }
      const shade = 0.5 + 0.58 * Math.max(0, (nxv * lx + nyv * ly + nzv * lz) / nl);
      const o = lut((H.z[a] + H.z[b] + H.z[c] + H.z[d]) / 4);
      const f = shade;
      const colour = `rgb(${Math.min(255, VIRIDIS[o] * f) | 0},${Math.min(255, VIRIDIS[o + 1] * f) | 0},${Math.min(255, VIRIDIS[o + 2] * f) | 0})`;
      ctx.beginPath();
      ctx.moveTo(PX[a], PY[a]);
      ctx.lineTo(PX[b], PY[b]);
      ctx.lineTo(PX[c], PY[c]);
      ctx.lineTo(PX[d], PY[d]);
      ctx.closePath();
      ctx.fillStyle = colour;
      ctx.strokeStyle = colour;
      ctx.fill();
      ctx.stroke();
    }
    while (next < sprites.length) sprites[next++].draw(ctx);
  }

  // The box's floor and the back walls' edges (behind the mesh), or the axis names (front).
  drawBox3d(ctx, H, cam, front) {
    const t = this.theme, z0 = -Z_SPAN3D / 2;
    const P = (X, Y, Z) => cam.project(X, Y, Z);
    if (!front) {
      ctx.strokeStyle = t.axis;
      ctx.lineWidth = 1;
      ctx.beginPath();
      const floor = [[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]].map(([X, Y]) => P(X, Y, z0));
      floor.forEach((q, k) => (k ? ctx.lineTo(q[0], q[1]) : ctx.moveTo(q[0], q[1])));
      ctx.closePath();
      ctx.stroke();
      return;
    }
    const s = this.model.surface, [x0, x1, y0, y1] = this.model.extent;
    const axes = Array.isArray(s.axes) && s.axes.length === 2 ? s.axes.map(String) : ["x", "y"];
    ctx.fillStyle = t.muted;
    ctx.font = t.font(12, 500);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    // each axis named beside the floor edge nearer the camera, its ends labelled
    const nearY = P(0, -0.5, z0)[2] < P(0, 0.5, z0)[2] ? -0.59 : 0.59;
    const nearX = P(-0.5, 0, z0)[2] < P(0.5, 0, z0)[2] ? -0.59 : 0.59;
    const label = (X, Y, text) => {
      const q = P(X, Y, z0);
      ctx.fillText(text, q[0], q[1]);
    };
    label(0, nearY, axes[0]);
    label(nearX, 0, axes[1]);
    ctx.font = t.font(10);
    // the ends a little inside the corners, where the two axes' labels would overlap
    label(-0.44, nearY, fmt(x0));
    label(0.44, nearY, fmt(x1));
    label(nearX, -0.44, fmt(y0));
    label(nearX, 0.44, fmt(y1));
  }

  // Every path in pixels for this camera: op.px3[start] (a line: NaN outside the window) and
  // op.ball3[start] (the ball: held at the window's edge), op.h3[start] the heights.
  projectPaths3d(p, H, cam) {
    const m = this.model, R = m.R, [x0, x1, y0, y1] = m.extent;
    const lift = 0.012 * (H.hi - H.lo); // just above the mesh, which cuts across narrow valleys
    for (const op of m.opts) {
      op.px3 = op.ball3 = op.h3 = null;
      if (!op.path || !op.loss) continue;
      const S = op.path.shape[0];
      op.px3 = []; op.ball3 = []; op.h3 = [];
      for (let s2 = 0; s2 < S; s2++) {
        const line = new Float32Array(R * 2), ball = new Float32Array(R * 2), hs = new Float32Array(R);
        const sl = Math.min(s2, op.loss.shape[0] - 1);
        for (let r = 0; r < R; r++) {
          const k = (s2 * R + r) * 2, x = op.path.data[k], y = op.path.data[k + 1];
          const h = this.height3d(H, op.loss.data[sl * R + r]);
          hs[r] = h;
          if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(h)) {
            line[r * 2] = line[r * 2 + 1] = ball[r * 2] = ball[r * 2 + 1] = NaN;
            continue;
          }
          const cx = clamp(x, x0, x1), cy = clamp(y, y0, y1), inside = cx === x && cy === y;
          // outside the window the loss is not the drawn surface's: the ball waits on its edge
          const mesh = this.meshHeight3d(H, cx, cy);
          const z = Math.min(H.hi, (inside ? Math.max(h, mesh) : mesh) + lift);
          const q = cam.project(...this.world3d(H, cx, cy, z));
          ball[r * 2] = q[0];
          ball[r * 2 + 1] = q[1];
          line[r * 2] = inside ? q[0] : NaN;
          line[r * 2 + 1] = inside ? q[1] : NaN;
        }
        op.px3.push(line); op.ball3.push(ball); op.h3.push(hs);
      }
    }
  }

  drawSurface3d(p) {
    const ctx = p.ctx, m = this.model, sc = this.theme.scale;
    if (!p.cam) return;
    restoreStatic(p, this.dpr);
    ctx.lineJoin = "round";
    const pos = this.pos, f = Math.floor(pos), frac = pos - f, R = m.R;
    const balls = [];
    m.opts.forEach((op, i) => {
      if (!op.px3 || !this.visible(i)) return;
      op.px3.forEach((a, s2) => {
        const cur = interp(a, f, frac, R);
        strokeOverHalo(ctx, () => {
          polyline(ctx, a, 0, f, 1);
          if (cur) ctx.lineTo(cur[0], cur[1]);
        }, op.rgb, 2.4 * sc, 1, HALO_ALPHA, s2 ? [6, 4] : []);
      });
    });
    // the balls over every line, nearest last is not needed: they are small and few
    m.opts.forEach((op, i) => {
      if (!op.ball3 || !this.visible(i)) return;
      op.ball3.forEach((a, s2) => {
        const divF = op.divFrame[s2], div = divF >= 0 && pos >= divF;
        const cur = (!div && interp(a, f, frac, R)) || lastFinite(a, f);
        if (!cur) return;
        const [x, y] = cur;
        if (div) cross(ctx, x, y, 7 * sc, RED, "#ffffff");
        else {
          const r = 6.5 * sc;
          const g = ctx.createRadialGradient(x - r * 0.35, y - r * 0.4, r * 0.1, x, y, r);
          g.addColorStop(0, rgba(op.rgb.map((c) => Math.round(c + (255 - c) * 0.6)), 1));
          g.addColorStop(1, op.color);
          ctx.beginPath();
          ctx.arc(x, y, r, 0, 2 * Math.PI);
          ctx.fillStyle = g;
          ctx.fill();
          ctx.lineWidth = 2;
          ctx.strokeStyle = rgba(haloOf(op.rgb), 1);
          ctx.stroke();
        }
        balls.push({ name: op.name, start: s2, x, y, height: op.h3[s2][Math.min(R - 1, f)], diverged: div });
      });
    });
    this.balls3d = { frame: this.frame, pos, balls };
  }

  // Drag rotates the camera (left-right turns it, up-down tilts it); double-click resets.
  bindOrbit(p) {
    let from = null;
    const rebuild = () => {
      try {
        this.buildSurface3d(p);
      } catch (e) {
        this.fail("surface3d", e);
      }
      this.requestRender();
    };
    p.canvas.style.cursor = "grab";
    p.canvas.style.touchAction = "none";
    this.on(p.canvas, "pointerdown", (ev) => {
      from = { x: ev.clientX, y: ev.clientY, az: this.cam3d.az, el: this.cam3d.el };
      p.canvas.setPointerCapture && p.canvas.setPointerCapture(ev.pointerId);
      p.canvas.style.cursor = "grabbing";
    });
    this.on(p.canvas, "pointermove", (ev) => {
      if (!from) return;
      this.cam3d = {
        az: from.az - (ev.clientX - from.x) * 0.01,
        el: clamp(from.el + (ev.clientY - from.y) * 0.01, 0.12, 1.55),
      };
      rebuild();
    });
    const end = () => {
      from = null;
      p.canvas.style.cursor = "grab";
    };
    this.on(p.canvas, "pointerup", end);
    this.on(p.canvas, "pointercancel", end);
    this.on(p.canvas, "dblclick", () => {
      this.cam3d = { ...CAMERA3D };
      rebuild();
    });
  }

  surface3dState() {
    const p = this.panels && this.panels.surface3d;
    if (!p || !p.cam) return null;
    const b = this.balls3d || { frame: null, pos: null, balls: [] };
    return { frame: b.frame, pos: b.pos, balls: b.balls.map((q) => ({ ...q })), camera: { az: p.cam.az, el: p.cam.el }, meshBuilds: p.meshBuilds || 0 };
  }
}
