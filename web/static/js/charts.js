// Horizontal bar charts as inline SVG, for counts as the API gives them (`Count`). A suppressed
// count is never drawn as a value: its bar is hatched and outlined up to the bound the caller may
// know ("fewer than k" up to k, "more than n" up to n) and reads as the same words. Each chart
// is an image whose text alternative (<title>, <desc>) lists every bar as the page writes it.
import {countText} from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 360;
const LABEL = 135;  // room for the bar labels, in SVG units
const ROW = 22;
const VALUE = 95;  // room right of the longest bar for its value

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== null && value !== undefined) el.setAttribute(key, value);
  for (const child of children.flat()) if (child !== null && child !== undefined) el.append(child);
  return el;
}

/** What may be drawn of a count: {known: the exact value, or null} and {bound: how far a
 * suppressed bar reaches}. Nested counts come without `value`: `display` then holds it. */
export function extent(count) {
  if (!count) return {known: 0, bound: 0};
  if (!count.suppressed) return {known: count.value ?? Number(count.display), bound: 0};
  return {known: null, bound: count.atLeast > 0 ? count.atLeast : count.threshold || 0};
}

function shorten(label, max = 16) {
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

function bar(row, index, scale, hatch) {
  const y = index * ROW;
  const {known, bound} = extent(row.count);
  const width = Math.max(known === null ? bound * scale : known * scale, known === 0 ? 0 : 2);
  const text = row.count ? countText(row.count) : "–";
  const shape = known === null
    ? s("rect", {class: "bar suppressed", x: LABEL, y: y + 3, width, height: ROW - 6, fill: `url(#${hatch})`})
    : s("rect", {class: "bar", x: LABEL, y: y + 3, width, height: ROW - 6});
  return s("g", {class: known === null ? "row suppressed" : "row"},
    s("title", {}, `${row.label}: ${text}`),
    s("text", {x: LABEL - 6, y: y + ROW / 2, "text-anchor": "end", "dominant-baseline": "central"}, shorten(row.label)),
    shape,
    s("text", {class: "value", x: LABEL + width + 4, y: y + ROW / 2, "dominant-baseline": "central"}, text));
}

/** A chart of `rows` ({label, count}) named `title`; `id` makes its inner references unique. */
export function barChart(id, title, rows) {
  const max = Math.max(1, ...rows.map((row) => {
    const {known, bound} = extent(row.count);
    return known ?? bound;
  }));
  const scale = (WIDTH - LABEL - VALUE) / max;
  const height = Math.max(rows.length, 1) * ROW;
  const description = rows.length
    ? rows.map((row) => `${row.label}: ${row.count ? countText(row.count) : "–"}`).join("; ")
    : "no values";
  return s("svg", {class: "chart", id, viewBox: `0 0 ${WIDTH} ${height}`, role: "img",
                   "aria-labelledby": `${id}-title ${id}-desc`, preserveAspectRatio: "xMinYMin meet"},
    s("title", {id: `${id}-title`}, title),
    s("desc", {id: `${id}-desc`}, description),
    s("defs", {}, s("pattern", {id: `${id}-hatch`, width: 6, height: 6, patternUnits: "userSpaceOnUse",
                                patternTransform: "rotate(45)"},
      s("line", {x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch"}))),
    rows.map((row, i) => bar(row, i, scale, `${id}-hatch`)));
}
