// Small DOM helpers shared by the pages: element building and count display.

/** Build an element: h("a", {href: "/"}, "text", child). `on*` attributes bind listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

/** A suppressed count as people read it: "fewer than k" when nothing of it may be known
 * exactly; a cell hidden to protect a small one that still holds `atLeast` known records reads
 * "more than n" (its true value exceeds `atLeast`), never a false "fewer than k". */
export function countText(count) {
  if (!count.suppressed) return count.display;
  return count.atLeast > 0 ? `more than ${count.atLeast}` : count.display;
}

/** A `Count` in an element; suppressed counts are marked and point at the note. */
export function countCell(count, tag = "span") {
  if (!count) return h(tag, {}, "–");
  if (!count.suppressed) return h(tag, {class: "count"}, count.display);
  return h(tag, {class: "count suppressed", title: `Suppressed (threshold ${count.threshold})`,
                 "aria-describedby": "suppression-note"}, countText(count));
}

export function anySuppressed(...counts) {
  return counts.some((count) => count && count.suppressed);
}

export function clear(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "never";
}
