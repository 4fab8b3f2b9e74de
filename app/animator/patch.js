// Patches: after its first mount, Python sends only what changed against the document this
// instance draws (app/doc_patch.py): {id, base, options, patch: {set: [[path, value]], drop:
// [path]}}. The whole new document is rebuilt from the held one, copying only the objects on
// the changed paths (the others, and their decoded arrays, are shared), and then mounted as
// any new document is. A patch for a document not held here (a remount after another tab, a
// message missed) is not guessed at: the "resync" trigger asks Python for the whole document.

// What happened to the messages (tests and benchmarks read it: root.__optvizPatches).
const PATCHES = { applied: 0, resyncs: 0, whole: 0 };

function isPatch(data) {
  return !!(data && typeof data === "object" && data.patch && typeof data.patch === "object" && "base" in data);
}

// `doc` with `patch` applied: a new object; `doc` and what it holds are not modified.
function applyPatch(doc, patch) {
  const copy = (v) => (Array.isArray(v) ? v.slice() : { ...v });
  const out = copy(doc);
  const copied = new Set([""]);
  const parent = (path) => {
    let node = out;
    for (let d = 0; d < path.length - 1; d++) {
      const here = JSON.stringify(path.slice(0, d + 1));
      if (!copied.has(here)) {
        const child = node[path[d]];
        if (!child || typeof child !== "object") throw new Error(`patch: no ${here} to change`);
        node[path[d]] = copy(child);
        copied.add(here);
      }
      node = node[path[d]];
    }
    return node;
  };
  for (const [path, value] of patch.set || []) parent(path)[path[path.length - 1]] = value;
  for (const path of patch.drop || []) {
    const p = parent(path), k = path[path.length - 1];
    if (Array.isArray(p)) p.splice(k, 1);
    else delete p[k];
  }
  return out;
}

// A document rebuilt from a patch remembers its base (not enumerable: not part of it), so the
// same patch rendered again (Streamlit may render a mount twice) is known rather than resynced.
function patched(doc, base) {
  Object.defineProperty(doc, "__base", { value: base });
  return doc;
}

// The whole document for `data`: itself, or a patch applied to the instance's; null (and a
// resync asked for, once per message) when the instance does not hold the patch's base.
function wholeDocument(current, data, callbacks) {
  if (!isPatch(data)) {
    if (data && !data.drag) PATCHES.whole++;
    return data;
  }
  if (current && current.alive && current.id === data.id && current.data && current.data.__base === data.base) {
    return patched({ ...current.data, options: data.options }, data.base); // this patch again
  }
  if (current && current.alive && current.id === data.base && current.data) {
    const { options, patch, base, ...rest } = data;
    const body = { ...current.data };
    delete body.options;
    PATCHES.applied++;
    return patched({ ...applyPatch(body, patch), ...rest, options }, base);
  }
  if (data.__resyncAsked) return null;
  data.__resyncAsked = true;
  PATCHES.resyncs++;
  const have = current && current.alive ? current.id : null;
  if (callbacks.setTriggerValue) {
    setTimeout(() => callbacks.setTriggerValue("resync", { base: data.base, have }), 0);
  }
  return null;
}
