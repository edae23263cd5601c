"""The process map in the page: an SVG drawn from :class:`~mining.ui.mapdraw.MapDrawing`, with zoom,
pan, full screen and clicks.

A Streamlit component (``st.components.v2``) whose script builds every
element with ``createElementNS`` and every text with ``textContent``: names
from the data are never parsed as markup.  The mouse wheel zooms around the
pointer, dragging pans, the buttons zoom in and out, fit the map and open it
full screen.  The first drawing fits the page's width but never scales text
below :data:`MIN_TEXT_PX`, so a wide map opens readable and is panned.  A
click on a box or a path sends its name back (``"A"`` or ``"A → B"``).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from mining.ui.mapdraw import FONT_PX, MapDrawing

__all__ = ["MIN_TEXT_PX", "PAIR_LEGEND", "pair_height", "show_map"]

#: The smallest label height the view allows at its first drawing, in CSS pixels.
MIN_TEXT_PX = 11

#: What the colours of two maps drawn as a pair (:func:`mining.ui.mapdraw.draw_pair`) mean.
PAIR_LEGEND = (
    "Both maps on one layout: a box or path is at the same place in each. Figures: events (boxes) and times "
    "a path was taken; the darker and thicker, the more, on one scale for both maps. Faint grey, without a "
    "figure: not in this map but in the other; :orange[orange]: in this map only (the other has none at all). "
    "Zoom with the buttons or "
    "the mouse wheel; hover for the figures of both."
)


def pair_height(drawing: MapDrawing) -> int:
    """The view's height for one map of a pair: the whole map at the smallest legible scale, up to 640 px."""
    return int(min(640, max(240, drawing.height * MIN_TEXT_PX / FONT_PX + 24)))


_CSS = """
.pm-wrap { position: relative; border: 1px solid #d0d7de; border-radius: 6px; background: #fff;
  overflow: hidden; height: var(--pm-height); touch-action: none; }
.pm-wrap:fullscreen { height: 100vh; border-radius: 0; }
.pm-svg { width: 100%; height: 100%; cursor: grab; user-select: none; display: block; }
.pm-svg.dragging { cursor: grabbing; }
.pm-tools { position: absolute; top: 8px; right: 8px; display: flex; gap: 4px; z-index: 2; }
.pm-tools button { min-width: 34px; height: 32px; border: 1px solid #9ecae1; background: #fff;
  border-radius: 4px; font: 15px sans-serif; color: #08306b; cursor: pointer; padding: 0 8px; }
.pm-tools button:hover { background: #deebf7; }
.pm-zoom { position: absolute; bottom: 8px; right: 10px; font: 12px sans-serif; color: #555;
  background: rgba(255,255,255,.85); padding: 1px 4px; }
.pm-node, .pm-edge { cursor: pointer; }
.pm-static .pm-node, .pm-static .pm-edge { cursor: inherit; }
.pm-node:hover rect, .pm-node:hover circle { stroke-width: 3; }
.pm-edge:hover .pm-line { stroke-opacity: 1; }
"""

_JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const NS = 'http://www.w3.org/2000/svg';
  const el = (name, attrs, parent) => {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  };
  let wrap = parentElement.querySelector('.pm-wrap');
  if (wrap) wrap.remove();
  wrap = document.createElement('div');
  wrap.className = data.clickable ? 'pm-wrap' : 'pm-wrap pm-static';
  wrap.style.setProperty('--pm-height', data.height_px + 'px');
  wrap.setAttribute('data-testid', 'process-map');
  parentElement.appendChild(wrap);
  const svg = el('svg', { class: 'pm-svg', role: 'img', 'aria-label': data.label }, wrap);
  const defs = el('defs', {}, svg);
  const arrows = {};
  const arrow = (colour) => {
    if (arrows[colour]) return arrows[colour];
    const id = 'pm-arrow-' + Object.keys(arrows).length;
    const m = el('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 11, markerHeight: 11,
      orient: 'auto-start-reverse', markerUnits: 'userSpaceOnUse' }, defs);
    el('path', { d: 'M0,0 L10,5 L0,10 z', fill: colour }, m);
    arrows[colour] = 'url(#' + id + ')';
    return arrows[colour];
  };
  const world = el('g', { class: 'pm-world' }, svg);
  // A drag that ends on a box is a pan, not a pick.
  let panned = false;
  const pick = (name) => { if (!panned && data.clickable) setTriggerValue('clicked', name); };
  for (const e of data.edges) {
    const g = el('g', { class: 'pm-edge', 'data-name': e.name || '' }, world);
    el('title', {}, g).textContent = e.tooltip;
    el('path', { d: e.path, fill: 'none', stroke: 'transparent', 'stroke-width': 12 }, g);
    el('path', { class: 'pm-line', d: e.path, fill: 'none', stroke: e.colour, 'stroke-opacity': 0.85,
      'stroke-width': e.width, 'stroke-dasharray': e.dashed ? '5 4' : 'none', 'marker-end': arrow(e.colour) }, g);
    if (e.label) {
      const t = el('text', { x: e.lx + 6 * (e.side || 1), y: e.ly, 'font-size': data.font - 2, fill: '#222',
        'text-anchor': e.side < 0 ? 'end' : 'start',
        'font-family': 'Helvetica, Arial, sans-serif', 'paint-order': 'stroke', stroke: '#fff',
        'stroke-width': 4, 'dominant-baseline': 'middle', class: 'pm-edge-label' }, g);
      t.textContent = e.label;
    }
    if (e.name) g.addEventListener('click', (ev) => { ev.stopPropagation(); pick(e.name); });
  }
  for (const n of data.nodes) {
    const g = el('g', { class: 'pm-node', 'data-name': n.kind === 'activity' ? n.name : '' }, world);
    el('title', {}, g).textContent = n.tooltip;
    if (n.kind === 'activity') {
      el('rect', { x: n.x - n.w / 2, y: n.y - n.h / 2, width: n.w, height: n.h, rx: 8, fill: n.fill,
        stroke: n.stroke, 'stroke-width': n.stroke === '#111111' ? 3 : 1.5 }, g);
      const lines = [...n.lines, n.metric];
      const lh = data.font * 1.3;
      const y0 = n.y - (lines.length - 1) * lh / 2;
      lines.forEach((line, i) => {
        const t = el('text', { x: n.x, y: y0 + i * lh, 'text-anchor': 'middle', 'dominant-baseline': 'middle',
          'font-size': data.font, 'font-weight': i === lines.length - 1 ? 400 : 600, fill: n.text,
          'font-family': 'Helvetica, Arial, sans-serif', class: 'pm-label' }, g);
        t.textContent = line;
      });
      g.addEventListener('click', (ev) => { ev.stopPropagation(); pick(n.name); });
    } else {
      el('circle', { cx: n.x, cy: n.y, r: n.w / 2, fill: n.fill, stroke: n.stroke, 'stroke-width': 1.5 }, g);
      const t = el('text', { x: n.x, y: n.y, 'text-anchor': 'middle', 'dominant-baseline': 'middle',
        'font-size': data.font - 4, fill: n.kind === 'end' ? '#fff' : '#08306b',
        'font-family': 'Helvetica, Arial, sans-serif' }, g);
      t.textContent = n.kind === 'start' ? '▶' : '■';
    }
  }
  const tools = document.createElement('div');
  tools.className = 'pm-tools';
  wrap.appendChild(tools);
  const zoomText = document.createElement('div');
  zoomText.className = 'pm-zoom';
  zoomText.setAttribute('data-testid', 'process-map-zoom');
  wrap.appendChild(zoomText);
  let k = 1, tx = 0, ty = 0;
  const apply = () => {
    world.setAttribute('transform', `translate(${tx},${ty}) scale(${k})`);
    zoomText.textContent = Math.round(k * 100) + ' %';
    wrap.dataset.scale = String(k);
  };
  const fit = (readable) => {
    const w = wrap.clientWidth || 800, h = wrap.clientHeight || 600;
    let s = Math.min(w / data.width, h / data.height, 1.5);
    if (readable) s = Math.max(s, data.min_scale);
    k = s;
    // A map wider than the page opens on its start, which sits near the middle of the first layer.
    tx = data.width * k <= w ? (w - data.width * k) / 2 : Math.min(0, Math.max(w - data.width * k, w / 2 - data.start_x * k));
    ty = data.height * k < h ? (h - data.height * k) / 2 : 0;
    apply();
  };
  const zoomAt = (factor, cx, cy) => {
    const nk = Math.min(Math.max(k * factor, 0.1), 6);
    tx = cx - (cx - tx) * (nk / k);
    ty = cy - (cy - ty) * (nk / k);
    k = nk;
    apply();
  };
  const button = (label, title, act) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.title = title;
    b.setAttribute('aria-label', title);
    b.addEventListener('click', (ev) => { ev.stopPropagation(); act(); });
    tools.appendChild(b);
  };
  button('+', 'Zoom in', () => zoomAt(1.25, wrap.clientWidth / 2, wrap.clientHeight / 2));
  button('\u2212', 'Zoom out', () => zoomAt(0.8, wrap.clientWidth / 2, wrap.clientHeight / 2));
  button('Fit', 'Fit the whole map', () => fit(false));
  button('100 %', 'Actual size', () => { k = 1; tx = 0; ty = 0; apply(); });
  button('Full screen', 'Full screen', () => {
    if (document.fullscreenElement) document.exitFullscreen(); else wrap.requestFullscreen();
  });
  wrap.addEventListener('fullscreenchange', () => setTimeout(() => fit(true), 50));
  svg.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const r = svg.getBoundingClientRect();
    zoomAt(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });
  let drag = null;
  svg.addEventListener('pointerdown', (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, tx, ty, moved: false };
    panned = false;
    svg.classList.add('dragging');
  });
  window.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = panned = true;
    tx = drag.tx + dx; ty = drag.ty + dy;
    apply();
  });
  window.addEventListener('pointerup', () => { drag = null; svg.classList.remove('dragging'); });
  fit(true);
  wrap.dataset.ready = '1';
}
"""

_COMPONENT = st.components.v2.component("mining_process_map", css=_CSS, js=_JS)


def show_map(
    drawing: MapDrawing,
    *,
    key: str,
    height_px: int = 640,
    on_click: Callable[[], None] | None = None,
    clickable: bool = True,
    label: str = "Process map",
) -> str | None:
    """Draw the map; returns the name last clicked in this run (an activity or ``"A → B"``), else None.

    ``clickable=False`` draws a map to look at only (the before/after and segment maps): a click then
    starts no rerun.  ``label`` names the drawing for screen readers (and tests)."""
    data = drawing.as_data()
    for edge, record in zip(data["edges"], drawing.edges, strict=True):  # type: ignore[call-overload]
        edge["name"] = _edge_name(drawing, record)
    data["height_px"] = height_px
    data["min_scale"] = MIN_TEXT_PX / FONT_PX
    data["clickable"] = clickable
    data["label"] = label
    result = _COMPONENT(data=data, key=key, on_clicked_change=on_click or (lambda: None))
    return getattr(result, "clicked", None)


def _edge_name(drawing: MapDrawing, edge: object) -> str:
    names = {n.id: n for n in drawing.nodes}
    source, target = names[edge.source], names[edge.target]  # type: ignore[attr-defined]
    if source.kind != "activity" or target.kind != "activity":
        return ""
    return f"{source.name} → {target.name}"
