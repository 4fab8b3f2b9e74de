// The component's entry point: Streamlit calls it on every render with the latest data.

function findRoot(parent) {
  for (const c of parent.children || []) if (c.classList && c.classList.contains("optviz-host")) return c;
  const host = document.createElement("div");
  host.className = "optviz-host";
  parent.appendChild(host);
  return host;
}

export default function (component) {
  const { parentElement } = component || {};
  if (!parentElement) return undefined;
  if (typeof performance !== "undefined" && performance.mark) {
    performance.clearMarks("optviz-render"); // only the latest kept (reruns are unbounded)
    performance.mark("optviz-render");
  }
  const host = findRoot(parentElement);
  let root = host.firstElementChild;
  if (!root) {
    root = document.createElement("div");
    host.appendChild(root);
  }
  const callbacks = { setStateValue: component.setStateValue, setTriggerValue: component.setTriggerValue, standalone: !!component.standalone };
  const current = root.__optvizInstance;
  root.__optvizPatches = PATCHES;
  // a patch becomes the whole document here (patch.js); one this instance cannot apply asks
  // Python for the whole document, and the instance keeps drawing the one it holds
  const data = wholeDocument(current, component.data, callbacks);
  const optionsKey = optionsKeyOf(data);
  try {
    if (data === null) {
      // the whole document was asked for: nothing new to draw until it comes
    } else if (data && data.drag) {
      // a drag's answer: only new paths for the document drawn (for another one: dropped)
      if (current && current.alive && current.id === data.id) {
        current.cb = callbacks;
        current.applyDrag(data.drag);
      }
    } else if (current && current.alive && data && current.id !== undefined && current.id === data.id && current.optionsKey === optionsKey) {
      current.cb = callbacks; // same run: keep playing as is
      current.refreshTheme();
      // a rerun that did not answer a click's paths (an app that answers no drag): commit now
      if (current.clickCommit) current.commitClick(current.clickCommit.seq);
    } else {
      const prev = current && current.model && current.model.R ? current.snapshot() : null;
      if (current) current.destroy();
      const inst = new Animator(root, data, callbacks, prev);
      root.__optvizInstance = inst;
    }
  } catch (e) {
    console.warn("optimizer animator failed:", e);
    root.replaceChildren(el("div", { class: "ov-fatal", role: "alert", "data-testid": "ov-error", text: `The animation could not be drawn: ${e && e.message ? e.message : e}` }));
  }
  const mine = root.__optvizInstance;
  if (typeof performance !== "undefined" && performance.mark) {
    performance.clearMarks("optviz-rendered");
    performance.mark("optviz-rendered");
  }
  return () => {
    // Streamlit calls only the latest cleanup, on unmount: end this instance if still current.
    if (mine && root.__optvizInstance === mine) {
      mine.destroy();
      root.__optvizInstance = null;
    }
  };
}
