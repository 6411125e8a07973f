// A coded field's facet as a tree following the ontology: the cohort's facet on the field's
// closure (each concept counted with everything below it), its terms' labels and parents from
// the API, parents with their children indented. Choosing a node filters on that concept and
// what is below it (`concept` with `includeDescendants`).
import {ApiError, graphql} from "./api.js";
import {countCell, h} from "./dom.js";
import {fieldLabel} from "./labels.js";

const terms = new Map();  // IRI -> {label, parents}, kept for the page's life
const expanded = new Map();  // IRI -> open or closed, as the person left it
const CHUNK = 40;  // the API takes at most 50 aliases a document

function termsQuery(iris) {
  const vars = iris.map((_, i) => `$i${i}: String!`).join(", ");
  const fields = iris.map((_, i) => `t${i}: term(id: $i${i}) { iri label parents }`).join("\n");
  return {query: `query Terms(${vars}) { ${fields} }`, variables: Object.fromEntries(iris.map((iri, i) => [`i${i}`, iri]))};
}

function unknown(iri) {
  return {label: decodeURIComponent(iri.split(/[/#]/).pop() || iri), parents: []};
}

async function lookup(iris) {
  const {query, variables} = termsQuery(iris);
  try {
    const data = await graphql(query, variables);
    iris.forEach((iri, i) => terms.set(iri, {label: data[`t${i}`].label, parents: data[`t${i}`].parents}));
  } catch (error) {
    // A concept no loaded vocabulary knows fails the whole document: name it by its IRI, ask again.
    const missing = new Set((error instanceof ApiError ? error.errors : [])
      .map((e) => (e.path ? Number(String(e.path[0]).slice(1)) : NaN)).filter(Number.isInteger));
    if (!missing.size) throw error;
    for (const i of missing) terms.set(iris[i], unknown(iris[i]));
    const rest = iris.filter((iri) => !terms.has(iri));
    if (rest.length) await lookup(rest);
  }
}

async function lookupAll(iris) {
  const wanted = [...new Set(iris)].filter((iri) => !terms.has(iri));
  for (let start = 0; start < wanted.length; start += CHUNK) await lookup(wanted.slice(start, start + CHUNK));
}

// How far above a concept to look for the nearest one the facet holds, through concepts it does
// not (the facet keeps its most frequent concepts; a site's closure may skip a level).
const UP = 3;

/** Labels and parents of the facet's concepts, and of the concepts up to UP levels above them
 * that the facet does not hold, from `term(id:)` (kept for the page's life). */
export async function describe(iris) {
  const held = new Set(iris);
  const seen = new Set(iris);
  let level = [...held];
  for (let up = 0; up <= UP && level.length; up += 1) {
    await lookupAll(level);
    level = level.flatMap((iri) => terms.get(iri).parents).filter((p) => !held.has(p) && !seen.has(p));
    for (const iri of level) seen.add(iri);
  }
}

/** The concepts the facet holds that are nearest above `iri`, through any it does not hold. */
function heldAbove(iri, nodes) {
  const found = new Set();
  const seen = new Set([iri]);
  let level = (terms.get(iri) || unknown(iri)).parents;
  for (let up = 0; up <= UP && level.length; up += 1) {
    const next = [];
    for (const p of level.filter((q) => !seen.has(q))) {
      seen.add(p);
      if (nodes.has(p)) found.add(p);
      else if (terms.has(p)) next.push(...terms.get(p).parents);
    }
    level = next;
  }
  return found;
}

/** Drop a parent that is also above another of the same node's parents (reached by two ways). */
function nearest(parents, above) {
  const over = (iri, seen = new Set()) => [...(above.get(iri) || [])].flatMap((p) => {
    if (seen.has(p)) return [];
    seen.add(p);
    return [p, ...over(p, seen)];
  });
  const higher = new Set([...parents].flatMap((p) => over(p)));
  return [...parents].filter((p) => !higher.has(p));
}

function order(a, b) {
  const n = (node) => (node.count ? node.count.value ?? node.count.atLeast ?? 0 : -1);
  return n(b) - n(a) || a.label.localeCompare(b.label);
}

/** The facet's concepts as a forest: a concept sits under each nearest concept above it that
 * the facet holds (an ontology may give it several), concepts with none are roots. */
export function buildTree(buckets, chosen) {
  const nodes = new Map();
  for (const b of buckets) nodes.set(String(b.value), {iri: String(b.value), count: b.count, children: []});
  for (const c of chosen) if (!nodes.has(c.iri)) nodes.set(c.iri, {iri: c.iri, count: null, children: [], label: c.label});
  const above = new Map([...nodes.keys()].map((iri) => [iri, heldAbove(iri, nodes)]));
  const roots = [];
  for (const node of nodes.values()) {
    node.label = (terms.get(node.iri) || {label: node.label || unknown(node.iri).label}).label;
    const parents = nearest(above.get(node.iri), above);
    if (parents.length) for (const p of parents) nodes.get(p).children.push(node);
    else roots.push(node);
  }
  for (const node of nodes.values()) node.children.sort(order);
  return roots.sort(order);
}

function holds(node, chosen) {
  return chosen.has(node.iri) || node.children.some((child) => holds(child, chosen));
}

function isOpen(node, depth, chosen) {
  if (expanded.has(node.iri)) return expanded.get(node.iri);
  // Roots and single-child chains open; so does the way down to a chosen concept.
  return depth === 0 || node.children.length === 1 || node.children.some((child) => holds(child, chosen));
}

function toggleButton(node, listId, open) {
  return h("button", {type: "button", class: "twisty", "aria-expanded": String(open), "aria-controls": listId,
                      "aria-label": `Concepts below ${node.label}`, onclick: (event) => {
    const button = event.currentTarget;
    const now = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(now));
    document.getElementById(listId).hidden = !now;
    expanded.set(node.iri, now);
  }});
}

function item(node, depth, ctx) {
  const id = `${ctx.prefix}-${ctx.next++}`;
  const open = node.children.length > 0 && isOpen(node, depth, ctx.chosen);
  return h("li", {"data-iri": node.iri},
    h("div", {class: "node"},
      node.children.length ? toggleButton(node, `${id}-below`, open) : h("span", {class: "twisty-space"}),
      h("input", {type: "checkbox", id, checked: ctx.chosen.has(node.iri),
                  onchange: (e) => ctx.toggle({field: ctx.field, iri: node.iri, label: node.label}, e.target.checked)}),
      h("label", {for: id}, node.label, " ", countCell(node.count, "span"))),
    node.children.length ? h("ul", {id: `${id}-below`, hidden: !open},
      node.children.map((child) => item(child, depth + 1, ctx))) : null);
}

/** The facet on `<field>_closure` as a fieldset holding a tree of checkboxes;
 * `toggle(concept, on)` adds or drops a concept of the field. */
export function conceptTree(facet, state, toggle) {
  const field = facet.field.replace(/_closure$/, "");
  const chosenConcepts = state.concepts.filter((c) => c.field === field);
  const held = facet.buckets.filter((b) => b.count.value !== 0 || b.count.suppressed);
  const roots = buildTree(held, chosenConcepts);
  const ctx = {field, toggle, next: 0, prefix: `tree-${field}`, chosen: new Set(chosenConcepts.map((c) => c.iri))};
  return h("fieldset", {class: "facet tree", "data-field": facet.field},
    h("legend", {}, fieldLabel(field)),
    h("p", {class: "muted hint"}, "Each concept counts what is below it."),
    roots.length ? h("ul", {class: "tree-root"}, roots.map((root) => item(root, 0, ctx))) : h("p", {class: "muted"}, "No values"));
}
