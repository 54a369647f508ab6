// Inline SVG charts for the discorecs web app: a radar, line charts and bar charts.
// No library and no network: every chart is built from SVG elements here.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = [
    "#2f6fde", "#e4572e", "#17a398", "#f3a712", "#8e44ad", "#5b5b5b",
    "#c0392b", "#76b041", "#d81e5b", "#00a6d6", "#9c6644", "#ff8c42",
  ];
  const OTHER = "other";
  const OTHER_COLOUR = "#c8c8c8";

  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function frame(name, width, height, label, margin = 0) {
    const root = svg("svg", {
      viewBox: `${-margin} 0 ${width + 2 * margin} ${height}`,
      width: "100%",
      role: "img",
      "aria-label": label,
      "data-chart": name,
      class: "chart",
    });
    root.appendChild(svg("title", {}, label));
    return root;
  }

  function empty(root, width, height, message) {
    root.setAttribute("data-empty", "true");
    root.appendChild(
      svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "muted" }, message)
    );
    return root;
  }

  function short(number) {
    const abs = Math.abs(number);
    if (abs >= 1e6) return `${(number / 1e6).toFixed(1)}M`;
    if (abs >= 1e3) return `${(number / 1e3).toFixed(1)}K`;
    if (abs >= 10 || number === 0) return `${Math.round(number)}`;
    return `${Number(number.toPrecision(2))}`; // two significant digits: 0.0067, not 0.01
  }

  // A long genre name on two lines, cut at the space nearest its middle.
  function labelLines(text, longest = 14) {
    const spaces = [...text.matchAll(/ /g)].map((match) => match.index);
    if (text.length <= longest || !spaces.length) return [text];
    const off = (i) => Math.abs(i - text.length / 2);
    const cut = spaces.reduce((best, i) => (off(i) < off(best) ? i : best));
    return [text.slice(0, cut), text.slice(cut + 1)];
  }

  // Taste radar: one axis per genre, the polygon of the weights (0..max).
  function radar(weights, { size = 360, name = "radar", label = "taste radar" } = {}) {
    const genres = Object.keys(weights);
    const root = frame(name, size, size, label, 70);
    const centre = size / 2;
    const radius = size / 2 - 40;
    const max = Math.max(...Object.values(weights), 1e-9);
    const point = (i, value) => {
      const angle = (Math.PI * 2 * i) / genres.length - Math.PI / 2;
      return [centre + Math.cos(angle) * radius * value, centre + Math.sin(angle) * radius * value];
    };
    for (const ring of [0.25, 0.5, 0.75, 1]) {
      const pts = genres.map((_, i) => point(i, ring).join(",")).join(" ");
      root.appendChild(svg("polygon", { points: pts, class: "grid" }));
    }
    genres.forEach((genre, i) => {
      const [x, y] = point(i, 1);
      root.appendChild(svg("line", { x1: centre, y1: centre, x2: x, y2: y, class: "grid" }));
      const [lx, ly] = point(i, 1.12);
      const anchor = Math.abs(lx - centre) < 8 ? "middle" : lx > centre ? "start" : "end";
      const lines = labelLines(genre);
      const text = svg("text", { y: ly + 4 - 5 * (lines.length - 1), "text-anchor": anchor, class: "axis-label" });
      lines.forEach((line, n) => text.appendChild(svg("tspan", { x: lx, dy: n ? "1.1em" : 0 }, line)));
      root.appendChild(text);
    });
    if (!genres.length || max <= 1e-9) return empty(root, size, size, "no taste yet");
    const shape = genres.map((g, i) => point(i, weights[g] / max).join(",")).join(" ");
    root.appendChild(svg("polygon", { points: shape, class: "radar-shape", "data-series": "taste" }));
    genres.forEach((genre, i) => {
      if (weights[genre] <= 0) return;
      const [x, y] = point(i, weights[genre] / max);
      const dot = svg("circle", { cx: x, cy: y, r: 3.5, class: "radar-dot" });
      dot.appendChild(svg("title", {}, `${genre}: ${weights[genre].toFixed(3)}`));
      root.appendChild(dot);
    });
    return root;
  }

  // Line chart: series = [{name, points: [[x, y], ...]}]; x is a time in ms.
  function lines(series, { name, label, width = 640, height = 220, unit = "" } = {}) {
    const root = frame(name, width, height, label);
    const all = series.flatMap((s) => s.points).filter((p) => p[1] !== null);
    if (!all.length) return empty(root, width, height, "no data in this window");
    const left = 48, right = 12, top = 12, bottom = 28;
    const xs = all.map((p) => p[0]);
    const ys = all.map((p) => p[1]);
    let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    if (x0 === x1) [x0, x1] = [x0 - 60000, x1 + 60000];
    const y1 = Math.max(...ys, 0) * 1.1 || 1;
    const sx = (x) => left + ((x - x0) / (x1 - x0)) * (width - left - right);
    const sy = (y) => height - bottom - (y / y1) * (height - top - bottom);
    for (const tick of [0, 0.5, 1]) {
      const y = sy(tick * y1);
      root.appendChild(svg("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
      root.appendChild(
        svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, short(tick * y1) + unit)
      );
    }
    for (const [x, anchor] of [[x0, "start"], [x1, "end"]]) {
      const when = new Date(x).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      root.appendChild(svg("text", { x: sx(x), y: height - 8, "text-anchor": anchor, class: "tick" }, when));
    }
    series.forEach((s, index) => {
      const color = PALETTE[index % PALETTE.length];
      const pts = s.points.filter((p) => p[1] !== null);
      if (!pts.length) return;
      const d = pts.map((p, i) => `${i ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" ");
      root.appendChild(svg("path", { d, class: "line", stroke: color, "data-series": s.name }));
      for (const p of pts.length <= 60 ? pts : []) {
        const dot = svg("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 2.5, fill: color });
        dot.appendChild(svg("title", {}, `${s.name}: ${short(p[1])}${unit}`));
        root.appendChild(dot);
      }
      root.appendChild(svg("rect", { x: left + 8 + index * 110, y: top, width: 10, height: 10, fill: color }));
      root.appendChild(svg("text", { x: left + 22 + index * 110, y: top + 9, class: "legend" }, s.name));
    });
    return root;
  }

  // Horizontal bars: items = [{label, value}].
  function bars(items, { name, label, width = 640, unit = "" } = {}) {
    const row = 26;
    const height = Math.max(items.length, 1) * row + 16;
    const root = frame(name, width, height, label);
    if (!items.length) return empty(root, width, height, "none");
    const left = 150, right = 60;
    const max = Math.max(...items.map((i) => i.value), 1e-9);
    items.forEach((item, i) => {
      const y = 8 + i * row;
      const w = ((width - left - right) * item.value) / max;
      root.appendChild(svg("text", { x: left - 8, y: y + 15, "text-anchor": "end", class: "tick" }, item.label));
      const bar = svg("rect", { x: left, y, width: Math.max(w, 1), height: row - 8, class: "bar", "data-label": item.label });
      bar.appendChild(svg("title", {}, `${item.label}: ${short(item.value)}${unit}`));
      root.appendChild(bar);
      root.appendChild(svg("text", { x: left + w + 6, y: y + 15, class: "tick" }, short(item.value) + unit));
    });
    return root;
  }

  // Stacked horizontal bars: rows = [{label, parts: [{name, value}]}]. A colour per part name,
  // the largest first; past the palette the smallest share one grey, "other" (each segment's
  // title still names it).
  function stacked(rows, { name, label, width = 640, unit = "" } = {}) {
    const row = 26;
    const totals = new Map();
    for (const part of rows.flatMap((r) => r.parts)) totals.set(part.name, (totals.get(part.name) || 0) + part.value);
    const byTotal = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a));
    const named = byTotal.length > PALETTE.length ? byTotal.slice(0, PALETTE.length - 1) : byTotal;
    const legend = named.length < byTotal.length ? [...named, OTHER] : named;
    const columns = 3, column = (width - 16) / columns;
    const legendRows = Math.ceil(legend.length / columns);
    const height = Math.max(rows.length, 1) * row + 16 + legendRows * 18;
    const root = frame(name, width, height, label);
    if (!rows.length) return empty(root, width, height, "no run yet");
    const left = 130, right = 60;
    const max = Math.max(...rows.map((r) => r.parts.reduce((a, p) => a + p.value, 0)), 1e-9);
    const colours = new Map(named.map((part, i) => [part, PALETTE[i]]));
    const color = (part) => colours.get(part) || OTHER_COLOUR;
    rows.forEach((r, i) => {
      const y = 8 + i * row;
      let x = left;
      root.appendChild(svg("text", { x: left - 8, y: y + 15, "text-anchor": "end", class: "tick" }, r.label));
      for (const part of r.parts) {
        const w = ((width - left - right) * part.value) / max;
        const seg = svg("rect", { x, y, width: Math.max(w, 0.5), height: row - 8, fill: color(part.name), class: "segment" });
        seg.appendChild(svg("title", {}, `${part.name}: ${short(part.value)}${unit}`));
        root.appendChild(seg);
        x += w;
      }
      const total = r.parts.reduce((a, p) => a + p.value, 0);
      root.appendChild(svg("text", { x: x + 6, y: y + 15, class: "tick" }, short(total) + unit));
    });
    legend.forEach((part, i) => {
      const x = 8 + (i % columns) * column;
      const y = 8 + rows.length * row + 4 + Math.floor(i / columns) * 18;
      root.appendChild(svg("rect", { x, y, width: 10, height: 10, fill: color(part) }));
      root.appendChild(svg("text", { x: x + 14, y: y + 9, class: "legend" }, part));
    });
    return root;
  }

  return { radar, lines, bars, stacked };
})();
