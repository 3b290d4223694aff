/* The graph explorer's behaviour: select a box to see its numbers, step through backward one
   op at a time, fold a module's box. It reads the page's data (script#tg-data, written by
   tinygrad_edu/explore.py) and the picture Graphviz drew (#tg-graph svg); it loads nothing. */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("tg-data").textContent);
  const svg = document.querySelector("#tg-graph svg");
  const stepBox = document.getElementById("tg-step");
  const nodeBox = document.getElementById("tg-node");
  const status = document.getElementById("tg-status");
  const SVG_NS = "http://www.w3.org/2000/svg";
  const steps = data.steps; // steps[0]: before any op runs; steps[k]: the k-th op's step
  const last = steps.length - 1;
  let position = 0; // how many steps of backward have run
  let selected = null; // the item whose details the panel shows

  // -- small helpers ----------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c);
    return node;
  }
  function pre(text, cls) {
    const node = el("pre", cls ? { class: cls } : {});
    node.textContent = text;
    return node;
  }
  function link(id) {
    const b = el("button", { type: "button", class: "tg-link" }, data.items[id].name);
    b.addEventListener("click", () => select(id, true));
    return b;
  }
  function describe(id) {
    const it = data.items[id];
    if (it.kind === "tensor") return `tensor ${it.name}, shape ${it.shape.join(" by ") || "scalar"}`;
    if (it.kind === "op") return `op ${it.name}: ${it.formula}`;
    return `module ${it.name}, folded: ${it.ops.join(", ")}`;
  }

  // -- the picture: as wide as the space it has, never wider than Graphviz drew it ------------
  const natural = svg.viewBox.baseVal.width * (4 / 3); // Graphviz's points, in CSS pixels
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.style.maxWidth = `${natural}px`;

  // -- the picture's boxes and arrows, by item id (Graphviz titles each with its DOT name) -----
  const boxes = {};
  for (const g of svg.querySelectorAll("g.node")) {
    const id = g.querySelector("title").textContent;
    if (!(id in data.items)) continue; // the "boxes left out" note
    boxes[id] = g;
    g.setAttribute("tabindex", "0");
    g.setAttribute("role", "button");
    g.setAttribute("aria-label", describe(id));
    g.addEventListener("click", () => select(id, true));
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        select(id, true);
      }
    });
  }
  const edges = [];
  for (const g of svg.querySelectorAll("g.edge")) {
    const [from, to] = g.querySelector("title").textContent.split("->");
    edges.push({ from, to, g });
  }

  // -- what backward has done by a given step -------------------------------------------------
  const arrivals = {}; // item -> [{step, op, text, done}], in the engine's order
  const ranAt = {}; // op or module item -> the steps that ran its ops
  for (const s of steps) {
    for (const a of s.sent) if (a.item) (arrivals[a.item] ||= []).push({ step: s.number, op: s.op, text: a.text });
    for (const a of s.done) if (a.item) (arrivals[a.item] ||= []).push({ step: s.number, op: s.op, text: a.text, done: true });
    if (s.item) (ranAt[s.item] ||= []).push(s.number);
  }
  const roots = new Set(data.roots);
  function hasGradient(id, p) {
    if (roots.has(id)) return true; // the seed, d(loss)/d(loss) = 1, is there from the start
    return (arrivals[id] || []).some((a) => a.step <= p) || (ranAt[id] || []).some((n) => n <= p);
  }

  function paint() {
    const s = steps[position];
    const receiving = new Set(position > 0 ? s.sent.map((a) => a.item) : []);
    for (const [id, g] of Object.entries(boxes)) {
      const it = data.items[id];
      const waits = it.kind === "op" || it.kind === "module" || (it.kind === "tensor" && it.requires_grad);
      g.classList.toggle("tg-pending", waits && !hasGradient(id, position));
      g.classList.toggle("tg-current", position > 0 && (id === s.item || id === s.output));
      g.classList.toggle("tg-receiving", receiving.has(id));
      g.classList.toggle("tg-selected", id === selected);
    }
    for (const e of edges) {
      const live = position > 0 && ((e.to === s.item && receiving.has(e.from)) || (e.from === s.item && e.to === s.output));
      e.g.classList.toggle("tg-live", live);
    }
    document.getElementById("tg-first").disabled = document.getElementById("tg-prev").disabled = position === 0;
    document.getElementById("tg-next").disabled = document.getElementById("tg-last").disabled = position === last;
    status.textContent = position === 0 ? `before backward (${last} steps)` : `step ${position} of ${last}: ${s.op}`;
    showStep();
    showNode();
  }

  // -- the panel -----------------------------------------------------------------------------
  function showStep() {
    const s = steps[position];
    stepBox.replaceChildren();
    if (position === 0) {
      stepBox.append(el("h2", {}, "Before backward"), pre(data.intro.join(" ")));
      if (s.lines.length) stepBox.append(pre(s.lines.join("\n"), "tg-lines"));
      stepBox.append(el("p", { class: "tg-pending-note" }, "Press the right arrow, or Next, to run the first op."));
      return;
    }
    stepBox.append(el("h2", {}, `Step ${position} of ${last}: ${s.op}`), pre(s.lines.join("\n"), "tg-lines"));
  }

  function histogram(h) {
    const w = 300, ht = 60, n = h.counts.length, top = Math.max(...h.counts, 1);
    const chart = document.createElementNS(SVG_NS, "svg");
    chart.setAttribute("class", "tg-hist");
    chart.setAttribute("viewBox", `0 0 ${w} ${ht + 14}`);
    chart.setAttribute("width", w);
    chart.setAttribute("role", "img");
    chart.setAttribute("aria-label", `histogram of ${n} bins from ${h.lo.toPrecision(4)} to ${h.hi.toPrecision(4)}`);
    h.counts.forEach((c, i) => {
      const bar = document.createElementNS(SVG_NS, "rect");
      const bh = (c / top) * ht;
      bar.setAttribute("x", (i * w) / n + 0.5);
      bar.setAttribute("y", ht - bh);
      bar.setAttribute("width", w / n - 1);
      bar.setAttribute("height", bh);
      chart.append(bar);
    });
    for (const [x, anchor, v] of [[0, "start", h.lo], [w, "end", h.hi]]) {
      const t = document.createElementNS(SVG_NS, "text");
      t.setAttribute("x", x);
      t.setAttribute("y", ht + 12);
      t.setAttribute("text-anchor", anchor);
      t.textContent = Number(v).toPrecision(4);
      chart.append(t);
    }
    return chart;
  }

  function arrayBlock(title, shown, cls) {
    const out = [el("h3", {}, title), pre(shown.text, cls)];
    if (shown.hist) out.push(histogram(shown.hist));
    return out;
  }

  function tensorDetails(it, id) {
    const parts = [el("h2", {}, it.name)];
    const facts = [["kind", it.role], ["shape", `(${it.shape.join(", ")}${it.shape.length === 1 ? "," : ""})`], ["dtype", it.dtype]];
    if (it.module) facts.push(["module", it.module]);
    if (it.made_by) facts.push(["made by", it.made_by]);
    const dl = el("dl");
    for (const [k, v] of facts) dl.append(el("dt", {}, k), el("dd", {}, v));
    parts.push(dl, ...arrayBlock("value", it.value, "tg-value"));
    if (it.grad) parts.push(...arrayBlock(`gradient d(${data.seed})/d(${it.name})`, it.grad, "tg-grad"));
    else if (!it.requires_grad) parts.push(el("p", { class: "tg-pending-note" }, "no gradient: it does not require grad"));
    if (id !== undefined && it.requires_grad) {
      const got = (arrivals[id] || []).filter((a) => a.step <= position);
      const list = el("ul", { class: "tg-arrivals" });
      for (const a of got) list.append(el("li", { class: "tg-arrival" }, `step ${a.step} (${a.op}): `, pre(a.text.trim())));
      parts.push(el("h3", {}, `arrived by step ${position}`));
      if (roots.has(id)) parts.push(el("p", {}, "the seed: 1 (the gradient of the output with respect to itself)"));
      else if (!got.length) parts.push(el("p", { class: "tg-pending-note" }, "nothing yet: its gradient has not been computed"));
      if (got.length) parts.push(list);
    }
    return parts;
  }

  function showNode() {
    nodeBox.replaceChildren();
    if (selected === null) {
      nodeBox.append(el("p", { class: "tg-pending-note" }, "Select a box to see its numbers."));
      return;
    }
    const it = data.items[selected];
    if (it.kind === "tensor") nodeBox.append(...tensorDetails(it, selected));
    else if (it.kind === "op") {
      nodeBox.append(el("h2", {}, `op ${it.name}`), pre(it.formula, "tg-formula"));
      if (it.module) nodeBox.append(el("p", {}, `in ${it.module}`));
      const when = ranAt[selected] || [];
      if (when.length) {
        const go = el("button", { type: "button", class: "tg-link" }, `step ${when[0]}`);
        go.addEventListener("click", () => goTo(when[0]));
        nodeBox.append(el("p", {}, "its backward runs at ", go));
      }
    } else {
      nodeBox.append(el("h2", {}, it.name), el("p", {}, `ops inside: ${it.ops.join(", ")}`));
      for (const p of it.params) nodeBox.append(...tensorDetails(p));
    }
    for (const [title, key] of [["reads", "reads"], ["feeds", "feeds"]]) {
      const ids = it[key] || [];
      if (!ids.length) continue;
      const list = el("ul", { class: `tg-${key}` });
      for (const other of ids) list.append(el("li", {}, link(other)));
      nodeBox.append(el("h3", {}, title), list);
    }
  }

  function select(id, focus) {
    selected = id;
    paint();
    if (focus && boxes[id]) boxes[id].focus({ preventScroll: false });
  }
  function goTo(p) {
    position = Math.max(0, Math.min(last, p));
    paint();
  }

  // -- folding a module's cluster --------------------------------------------------------------
  const folded = new Set();
  const clusters = {};
  for (const g of svg.querySelectorAll("g.cluster")) {
    const name = g.querySelector("title").textContent;
    const info = data.clusters[name];
    const label = g.querySelector("text");
    if (!info || !label) continue;
    clusters[name] = { g, items: new Set(info.items), label: info.label };
    label.setAttribute("tabindex", "0");
    label.setAttribute("role", "button");
    label.setAttribute("aria-expanded", "true");
    label.setAttribute("aria-label", `fold ${info.label}`);
    const toggle = () => {
      if (folded.has(name)) folded.delete(name);
      else folded.add(name);
      fold();
    };
    label.addEventListener("click", toggle);
    label.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        toggle();
      }
    });
  }
  function inside(inner, outer) {
    return inner !== outer && [...clusters[inner].items].every((i) => clusters[outer].items.has(i));
  }
  function fold() {
    const hidden = new Set();
    for (const name of folded) for (const i of clusters[name].items) hidden.add(i);
    for (const [id, g] of Object.entries(boxes)) g.classList.toggle("tg-hidden", hidden.has(id));
    for (const e of edges) e.g.classList.toggle("tg-hidden", hidden.has(e.from) && hidden.has(e.to));
    for (const [name, c] of Object.entries(clusters)) {
      const under = [...folded].some((outer) => inside(name, outer));
      c.g.classList.toggle("tg-hidden", under);
      c.g.querySelector("text").setAttribute("aria-expanded", String(!folded.has(name)));
      const old = c.g.querySelector(".tg-fold");
      if (old) old.remove();
      if (folded.has(name) && !under) {
        const box = c.g.querySelector("path, polygon").getBBox();
        const cover = document.createElementNS(SVG_NS, "g");
        cover.setAttribute("class", "tg-fold");
        const r = document.createElementNS(SVG_NS, "rect");
        r.setAttribute("x", box.x + 4);
        r.setAttribute("y", box.y + 18);
        r.setAttribute("width", Math.max(box.width - 8, 10));
        r.setAttribute("height", Math.max(box.height - 22, 10));
        r.setAttribute("rx", 4);
        const t = document.createElementNS(SVG_NS, "text");
        t.setAttribute("x", box.x + 12);
        t.setAttribute("y", box.y + 36);
        t.textContent = `${c.items.size} boxes folded: click ${c.label} to unfold`;
        cover.append(r, t);
        c.g.querySelector("text").before(cover);
      }
    }
  }

  // -- controls -----------------------------------------------------------------------------
  document.getElementById("tg-first").addEventListener("click", () => goTo(0));
  document.getElementById("tg-prev").addEventListener("click", () => goTo(position - 1));
  document.getElementById("tg-next").addEventListener("click", () => goTo(position + 1));
  document.getElementById("tg-last").addEventListener("click", () => goTo(last));
  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const to = { ArrowRight: position + 1, ArrowLeft: position - 1, Home: 0, End: last }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    goTo(to);
  });
  paint();
})();
