// The timeline: the frame shown, the playback clock, play/pause/seek and what goes back to
// Python. Methods of Animator.

class Timeline {
  updateFrameUi(force) {
    const m = this.model;
    const f = clamp(Math.floor(this.pos + 1e-9), 0, Math.max(0, m.R - 1));
    if (!force && f === this.frame && this.shownPlaying === this.playing) return;
    this.frame = f;
    this.root.setAttribute("data-frame", String(f));
    this.root.setAttribute("data-playing", String(this.playing));
    this.shownPlaying = this.playing;
    const d = this.dom;
    if (!d) return;
    if (String(d.scrub.value) !== String(f)) d.scrub.value = String(f);
    d.stepLabel.textContent = `step ${m.steps[f]} / ${m.steps[m.R - 1]}`;
    d.play.innerHTML = this.playing ? ICONS.pause : ICONS.play;
    d.play.setAttribute("aria-label", this.playing ? "Pause (space)" : "Play (space)");
    d.play.title = d.play.getAttribute("aria-label");
    d.play.setAttribute("aria-pressed", String(this.playing));
    try {
      this.updateInside();
    } catch (e) {
      console.warn("optimizer animator: inside panel:", e);
      this.insideCells = null;
    }
  }

  render() {
    if (!this.dom || !this.alive) return;
    const P = this.panels;
    const draw = (name, fn) => {
      if (!P[name] || this.failed[name]) return;
      try {
        fn.call(this, P[name]);
      } catch (e) {
        this.fail(name, e);
      }
    };
    draw("surface", this.drawSurface);
    draw("surface3d", this.drawSurface3d);
    draw("lr", this.drawLr);
    draw("loss", this.drawLoss);
    draw("schedule", this.drawSchedule);
    draw("fit", this.drawFit);
    this.drawn++;
    const now = performance.now();
    this.drawTimes.push(now);
    while (this.drawTimes.length && this.drawTimes[0] < now - 1000) this.drawTimes.shift();
  }

  requestRender() {
    if (this.raf || !this.alive) return;
    this.raf = requestAnimationFrame((ts) => this.tick(ts));
  }

  startLoop() {
    this.lastTs = null;
    this.requestRender();
  }

  tick(ts) {
    this.raf = 0;
    if (!this.alive) return;
    if (!this.root.isConnected) {
      this.destroy();
      return;
    }
    if (this.playing) {
      const last = this.model.R - 1;
      if (this.lastTs !== null) {
        const dt = Math.min(0.25, Math.max(0, (ts - this.lastTs) / 1000));
        this.pos += dt * BASE_FPS * this.speed;
      }
      if (this.pos >= last) {
        if (!this.loop) {
          this.pos = last;
          this.playing = false;
          this.report();
        } else if (this.holdUntil === undefined) {
          this.pos = last; // show the last frame a moment before looping
          this.holdUntil = ts + 400;
        } else if (ts >= this.holdUntil) {
          this.pos = 0;
          this.holdUntil = undefined;
        } else this.pos = last;
      }
      this.lastTs = ts;
    }
    this.applyPendingLive();
    this.updateFrameUi(false);
    this.render();
    if (this.playing || this.ripples.length) this.requestRender();
  }

  play() {
    const m = this.model;
    if (m.R < 2) return;
    if (this.pos >= m.R - 1) this.pos = 0;
    this.playing = true;
    this.holdUntil = undefined;
    this.lastTs = null;
    this.updateFrameUi(true);
    this.requestRender();
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this.pos = Math.round(this.pos);
    this.updateFrameUi(true);
    this.requestRender();
    this.report();
  }

  seek(i, report = true) {
    const m = this.model;
    this.pos = clamp(Math.round(Number(i) || 0), 0, Math.max(0, m.R - 1));
    this.holdUntil = undefined;
    this.lastTs = null;
    this.updateFrameUi(true);
    this.requestRender();
    if (report) this.report();
  }

  step(delta) {
    if (this.playing) this.pause();
    this.seek(Math.round(this.pos) + delta);
  }

  // Tell Python the frame (debounced; only when paused or after a seek).
  report() {
    clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(() => {
      if (!this.alive) return;
      this.send("state", "frame", this.frame);
    }, 150);
  }

  send(kind, name, value) {
    try {
      (window.__optvizEvents = window.__optvizEvents || []).push({ kind, name, value, t: Date.now() });
      if (kind === "trigger") this.cb.setTriggerValue && this.cb.setTriggerValue(name, value);
      else this.cb.setStateValue && this.cb.setStateValue(name, value);
    } catch (e) {
      console.warn("optimizer animator: could not send", name, e);
    }
  }

  snapshot() {
    return {
      frame: this.frame, playing: this.playing, speed: this.speed, loop: this.loop, hidden: [...this.hidden],
      focusName: this.model.opts[this.focus] ? this.model.opts[this.focus].name : null, start: this.start,
      arrowOn: this.arrowOn, arrowAll: this.arrowAll, arrowScale: this.arrowScale,
    };
  }
}
