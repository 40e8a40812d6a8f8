// The run page's DAG: the workflow's phases as boxes in columns by depth (a phase sits one
// column right of the deepest phase it needs), `needs` as arrows, a loop's `repeat` as a dashed
// arrow back to its `from` phase, approval gates and command phases in their own shapes, a
// fan-out's item count and a `when` condition as marks. Each box takes the status of the
// phase's latest instance. Drawn as SVG with DOM calls (text goes in as text, never markup);
// no library: a workflow is tens of phases, and a layered layout is all it needs.

const SVG = 'http://www.w3.org/2000/svg';
const BOX_W = 150;
const BOX_H = 44;
const GAP_X = 60;
const GAP_Y = 22;
const PAD = 12;

function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

// Column of each phase: 0 without needs, else 1 + the deepest need. The graph is acyclic
// (the loader refuses cycles; repeat edges are not needs).
export function layerOf(graph) {
  const byId = new Map(graph.map((g) => [g.id, g]));
  const layer = new Map();
  const visit = (id, depth = 0) => {
    if (layer.has(id)) return layer.get(id);
    if (depth > graph.length) return 0; // a malformed graph must not hang the page
    const needs = (byId.get(id)?.needs || []).filter((n) => byId.has(n));
    const l = needs.length ? 1 + Math.max(...needs.map((n) => visit(n, depth + 1))) : 0;
    layer.set(id, l);
    return l;
  };
  for (const g of graph) visit(g.id);
  return layer;
}

// The status a phase's box shows: its latest instance's (highest iteration; a fan-out's own row).
export function phaseStatus(instances, id) {
  let best = null;
  for (const i of instances) {
    if (i.phase !== id || (i.item !== undefined && i.item !== null)) continue;
    if (!best || (i.iteration ?? 1) >= (best.iteration ?? 1)) best = i;
  }
  return best?.status || 'pending';
}

function itemsOf(instances, id) {
  return instances.filter((i) => i.phase === id && i.item !== undefined && i.item !== null).length;
}

function boxShape(g, x, y) {
  if (g.kind === 'approval') {
    const cx = x + BOX_W / 2;
    const cy = y + BOX_H / 2;
    const pts = [[x, cy], [cx, y - 6], [x + BOX_W, cy], [cx, y + BOX_H + 6]].map((p) => p.join(',')).join(' ');
    return svgEl('polygon', { points: pts });
  }
  return svgEl('rect', { x, y, width: BOX_W, height: BOX_H, rx: g.kind === 'command' ? 0 : 8 });
}

function caption(g, items) {
  const marks = [];
  if (g.kind === 'approval') marks.push('approval');
  else if (g.kind === 'command') marks.push('command');
  else if (g.persona) marks.push(g.persona);
  if (g.for_each) marks.push(items ? `× ${items}` : '× each');
  if (g.when) marks.push('when');
  return marks.join(' · ');
}

function arrow(from, to, className) {
  const x1 = from.x + BOX_W;
  const y1 = from.y + BOX_H / 2;
  const x2 = to.x;
  const y2 = to.y + BOX_H / 2;
  const mx = (x1 + x2) / 2;
  return svgEl('path', { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, class: className,
    'marker-end': 'url(#dag-arrow)' });
}

// A loop's way back: from the bottom of the repeating phase, under the boxes, to its `from`.
function repeatArrow(from, to, bottom, label) {
  const x1 = from.x + BOX_W / 2;
  const x2 = to.x + BOX_W / 2;
  const g = svgEl('g', { class: 'repeat-edge' });
  g.append(svgEl('path', { d: `M${x1},${from.y + BOX_H} L${x1},${bottom} L${x2},${bottom} L${x2},${to.y + BOX_H}`,
    'marker-end': 'url(#dag-arrow)' }));
  g.append(svgEl('text', { x: (x1 + x2) / 2, y: bottom - 4, 'text-anchor': 'middle' }, label));
  return g;
}

function arrowMarker() {
  const defs = svgEl('defs');
  const marker = svgEl('marker', { id: 'dag-arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7,
    markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(svgEl('path', { d: 'M0,0 L10,5 L0,10 z' }));
  defs.append(marker);
  return defs;
}

// Positions: column by layer, rows in workflow order within a column.
function place(graph) {
  const layer = layerOf(graph);
  const rows = new Map();
  const pos = new Map();
  for (const g of graph) {
    const l = layer.get(g.id) ?? 0;
    const r = rows.get(l) ?? 0;
    rows.set(l, r + 1);
    pos.set(g.id, { x: PAD + l * (BOX_W + GAP_X), y: PAD + r * (BOX_H + GAP_Y) });
  }
  const columns = Math.max(1, ...[...layer.values()].map((l) => l + 1));
  const height = PAD * 2 + Math.max(1, ...rows.values()) * (BOX_H + GAP_Y);
  return { pos, width: PAD * 2 + columns * (BOX_W + GAP_X) - GAP_X, height };
}

/// Draws `graph` (GET /v1/runs/{id}'s `graph`) with the statuses of `instances` into `container`.
export function renderDag(container, graph, instances) {
  container.replaceChildren();
  if (!graph || graph.length === 0) return;
  const { pos, width, height } = place(graph);
  const loops = graph.filter((g) => g.repeat && pos.has(g.repeat.from));
  const bottom = height + (loops.length ? 8 : 0);
  const svg = svgEl('svg', { width, height: bottom + loops.length * 20, role: 'img',
    'aria-label': 'workflow graph' });
  svg.append(arrowMarker());
  for (const g of graph)
    for (const n of g.needs || [])
      if (pos.has(n)) {
        const edge = arrow(pos.get(n), pos.get(g.id), 'edge');
        edge.dataset.from = n;
        edge.dataset.to = g.id;
        svg.append(edge);
      }
  loops.forEach((g, i) => {
    const label = `repeat ≤ ${g.repeat.max_iterations}`;
    const edge = repeatArrow(pos.get(g.id), pos.get(g.repeat.from), bottom + i * 20, label);
    edge.dataset.from = g.id;
    edge.dataset.to = g.repeat.from;
    svg.append(edge);
  });
  for (const g of graph) {
    const { x, y } = pos.get(g.id);
    const status = phaseStatus(instances, g.id);
    const node = svgEl('g', { class: `node kind-${g.kind || 'llm'} status-${status}` });
    node.dataset.phase = g.id;
    node.dataset.status = status;
    node.append(boxShape(g, x, y));
    node.append(svgEl('text', { x: x + BOX_W / 2, y: y + 18, 'text-anchor': 'middle', class: 'id' }, g.id));
    node.append(svgEl('text', { x: x + BOX_W / 2, y: y + 34, 'text-anchor': 'middle', class: 'mark' },
      caption(g, itemsOf(instances, g.id))));
    const title = svgEl('title', {}, `${g.id}: ${status}${g.when ? `\nwhen ${g.when}` : ''}` +
      `${g.repeat ? `\nrepeat from ${g.repeat.from} until ${g.repeat.until}` : ''}` +
      `${g.for_each ? `\nfor each ${g.for_each.expression}` : ''}`);
    node.append(title);
    svg.append(node);
  }
  container.append(svg);
}
