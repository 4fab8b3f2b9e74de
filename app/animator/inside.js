// The inside panel: the inspected optimizer's equations and a table of its live values.
// Methods of Animator.

// Columns of the inside table that describe the step after the frame (none after the last).
const STEP_COLUMNS = ["update", "ratio"];
const NO_STEP = "–";

class InsidePanel {
  buildInside() {
    const d = this.dom;
    if (!d || !d.inside) return;
    const m = this.model, op = m.opts[this.focus];
    d.inside.replaceChildren();
    this.insideCells = null;
    if (!op) return;
    const head = el("div", { class: "ov-inside-head" },
      el("span", { class: "ov-swatch", style: `background:${op.color}` }),
      el("span", { class: "ov-inside-title", text: `Inside ${op.name}` }),
      op.kind && op.kind !== op.name ? el("span", { class: "ov-dim", text: ` (${op.kind})` }) : null,
      d.insideStep = el("span", { class: "ov-dim ov-inside-step" }));
    d.inside.append(head);
    const eq = el("div", { class: "ov-eqs" });
    if (op.equations) eq.append(el("div", { class: "ov-eq", "data-testid": "ov-equations", title: op.equations, html: texToHtml(op.equations) }));
    if (op.lrEquation) {
      eq.append(el("div", { class: "ov-eq ov-eq-lr", "data-testid": "ov-lr-equation", title: op.lrEquation, html: `<span class="ov-eq-label">effective learning rate</span> ${texToHtml("\\eta_{\\mathrm{eff}}")}<span class="ov-op">=</span>${texToHtml(op.lrEquation)}` }));
    }
    const body = el("div", { class: "ov-inside-body" });
    d.inside.append(body);
    const ins = op.inside;
    if (!ins || !ins.g) {
      const dim = m.surface.dim || m.weights.length;
      const why = m.errors.inside.length ? m.errors.inside.join("; ") :
        `${dim} weights: too many to list. The learning rate of every weight is drawn per layer above; the arrows show the gradient and the update projected on the view.`;
      body.append(eq, el("div", { class: "ov-note", "data-testid": "ov-inside-note", text: why }));
      return;
    }
    const fixed = ["g", "update", "lr", "ratio"];
    const stateKeys = Object.keys(ins).filter((k) => !fixed.includes(k));
    const sym = (k) => {
      const s = op.symbols[k];
      return s ? texToHtml(s) : esc(k);
    };
    const cols = [
      { key: "g", html: texToHtml("g_t"), title: "gradient" },
      ...stateKeys.map((k) => ({ key: k, html: sym(k), title: k })),
      { key: "lr", html: texToHtml("\\eta_{\\mathrm{eff}}"), title: "effective per-weight learning rate" },
      { key: "update", html: "Δ" + texToHtml("w_t"), title: "update applied (w_{t+1} − w_t)" },
      { key: "ratio", html: "−Δ" + texToHtml("w") + "/" + texToHtml("g"), title: "realised ratio −update / gradient" },
    ].filter((c) => ins[c.key]);
    const table = el("table", { class: "ov-table", "data-testid": "ov-inside-table" });
    const thead = el("thead", {}, el("tr", {}, el("th", { text: "weight" }), ...cols.map((c) => el("th", { html: c.html, title: c.title }))));
    const tbody = el("tbody");
    const dim = ins.g.shape[2];
    const cells = [];
    for (let w = 0; w < dim; w++) {
      const tr = el("tr", {}, el("th", { class: "ov-wname", text: m.weights[w] || `w${w + 1}` }));
      const row = cols.map(() => {
        const td = el("td");
        tr.append(td);
        return td;
      });
      cells.push(row);
      tbody.append(tr);
    }
    table.append(thead, tbody);
    // The update and the ratio are those of the step from this frame to the next (the run
    // records the last frame's as zero): at the last frame there is none to show.
    const lastNote = el("div", { class: "ov-note ov-last-note", "data-testid": "ov-inside-last", role: "note",
      text: "No step follows the last frame: Δw and −Δw/g are those of the step from a frame to the next." });
    body.append(el("div", { class: "ov-inside-values" }, el("div", { class: "ov-table-wrap" }, table), lastNote), eq);
    this.insideCells = { cells, cols, op, dim, lastNote };
  }

  updateInside() {
    const ic = this.insideCells, m = this.model;
    if (this.dom && this.dom.insideStep) this.dom.insideStep.textContent = ` · step ${m.steps[this.frame]}` + (m.S > 1 ? ` · start ${this.start + 1}` : "");
    if (!ic) return;
    const R = m.R, f = this.frame;
    const noStep = f >= R - 1;
    ic.lastNote.style.display = noStep ? "" : "none";
    ic.cols.forEach((c, j) => {
      const arr = ic.op.inside[c.key];
      const s2 = Math.min(this.start, arr.shape[0] - 1), dim = arr.shape[2];
      const stepColumn = STEP_COLUMNS.includes(c.key);
      for (let w = 0; w < ic.dim; w++) {
        const v = w < dim ? arr.data[(s2 * R + f) * dim + w] : NaN;
        const td = ic.cells[w][j];
        const txt = noStep && stepColumn ? NO_STEP : fmt(v);
        if (td.textContent !== txt) td.textContent = txt;
      }
    });
  }
}
