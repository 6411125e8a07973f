// The curation queue: coded values the mapper left unmapped or mapped unsurely, with the records
// carrying them. A curator accepts the proposed concept, picks a suggestion or another term, or
// says no concept applies; the page shows how many records a decision re-maps, before and after.
import {graphql} from "./api.js";
import {clear, h} from "./dom.js";
import {fieldLabel} from "./labels.js";
import {mountSession} from "./session.js";
import {suggestTerms} from "./terms.js";

const PAGE = 10;
const FETCH = 200;  // the queue is a ranked list, not a connection: page through its head here
const CONCEPT = "iri curie label";
const QUEUE = `query Queue($field: String, $source: String, $first: Int!) {
  curationQueue(field: $field, source: $source, first: $first) {
    field value records sources { source records } method confidence
    concept { ${CONCEPT} } suggestions { ${CONCEPT} } } }`;
const LEVELS = "{ searchFields { name level } }";
const REMAPPED = `field value records values concept { ${CONCEPT} }`;
const ACCEPT = `mutation Accept($field: String!, $value: String!) {
  acceptMapping(field: $field, value: $value) { ${REMAPPED} } }`;
const OVERRIDE = `mutation Override($field: String!, $value: String!, $concept: String) {
  overrideMapping(field: $field, value: $value, concept: $concept) { ${REMAPPED} } }`;

const $ = (id) => document.getElementById(id);
const view = {items: [], page: 0, levels: {}, fields: new Set(), sources: new Set()};
let typing;

/** The API's rule: administrators, node-wide curators and a site's curators. */
export function mayCurate(roles) {
  return roles.some((r) => r === "admin" || r === "curator" || r.startsWith("curator:"));
}

function records(n, field) {
  const level = view.levels[field];
  if (level === "series") return `${n} series`;
  const noun = level === "study" ? ["study", "studies"] : level === "subject" ? ["subject", "subjects"] : ["record", "records"];
  return `${n} ${noun[n === 1 ? 0 : 1]}`;
}

function conceptText(concept) {
  if (!concept) return "no concept";
  return `${concept.label || concept.iri}${concept.curie ? ` (${concept.curie})` : ""}`;
}

function current(item) {
  if (item.method === "unmapped") return h("span", {class: "warning"}, "unmapped");
  return h("span", {}, conceptText(item.concept),
    h("span", {class: "muted"}, ` · ${item.method}, confidence ${item.confidence.toFixed(2)}`));
}

/** Ask before deciding: what the value will map to and how many records that re-maps. */
function confirm(item, box, concept, decide) {
  const go = h("button", {type: "button", class: "primary", onclick: () => run(item, box, decide)}, "Confirm");
  const cancel = h("button", {type: "button", onclick: () => { clear(box); box.closest("article").querySelector("h3").focus(); }}, "Cancel");
  clear(box, h("div", {role: "group", "aria-label": `Confirm the mapping of ${item.value}`},
    h("p", {}, `Map “${item.value}” to ${conceptText(concept)}? `,
      h("strong", {"data-effect": ""}, `${records(item.records, item.field)} will be re-mapped.`)),
    go, " ", cancel));
  go.focus();
}

async function run(item, box, decide) {
  for (const button of box.querySelectorAll("button")) button.disabled = true;
  try {
    const done = await decide();
    const spellings = done.values.length > 1 ? ` (spelled ${done.values.map((v) => `“${v}”`).join(", ")})` : "";
    clear($("result"), h("p", {"data-done": done.value},
      `“${done.value}”${spellings} now maps to ${conceptText(done.concept)}: `,
      h("strong", {}, `${records(done.records, done.field)} re-mapped.`)));
    await load();
    $("result").focus();  // the item is gone: say what happened where focus lands
  } catch (error) {
    clear(box, h("p", {role: "alert"}, `The node refused: ${error.message}`));
    box.closest("article").querySelector("h3").focus();
  }
}

const accept = (item) => () => graphql(ACCEPT, {field: item.field, value: item.value}).then((d) => d.acceptMapping);
const override = (item, concept) => () => graphql(OVERRIDE, {field: item.field, value: item.value,
  concept: concept ? concept.curie || concept.iri : null}).then((d) => d.overrideMapping);

function picker(item, id, box) {
  const offers = h("div", {id: `${id}-offers`, "aria-live": "polite"});
  const input = h("input", {id: `${id}-term`, type: "search", autocomplete: "off", placeholder: "type a term"});
  input.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => suggestTerms(offers, {[item.field]: true}, input.value,
      (term) => confirm(item, box, term, override(item, term)), {unused: true}), 300);
  });
  return h("div", {class: "picker"}, h("label", {for: `${id}-term`}, "Another concept"), input, offers);
}

function itemCard(item, index) {
  const id = `item-${index}`;
  const box = h("div", {class: "confirm", id: `${id}-confirm`});
  const perSource = item.sources.map((s) => `${s.source}: ${s.records}`).join(" · ");
  const suggestions = item.suggestions.length ? h("ul", {class: "terms", "aria-label": "Suggested concepts"},
    item.suggestions.map((c) => h("li", {}, h("button", {type: "button", "data-suggestion": c.curie || c.iri,
      onclick: () => confirm(item, box, c, override(item, c))}, `Use ${conceptText(c)}`)))) : h("p", {class: "muted"}, "No suggestions.");
  return h("article", {class: "queue-item", "aria-labelledby": `${id}-h`, "data-field": item.field, "data-value": item.value},
    h("h3", {id: `${id}-h`, tabindex: "-1"}, `${fieldLabel(item.field)}: `, h("q", {}, item.value)),
    h("dl", {},
      h("dt", {}, "Records"), h("dd", {"data-records": item.records}, records(item.records, item.field), h("span", {class: "muted"}, ` (${perSource})`)),
      h("dt", {}, "Mapped now to"), h("dd", {}, current(item))),
    h("h4", {}, "Suggested concepts"), suggestions,
    h("div", {class: "actions"},
      item.concept ? h("button", {type: "button", "data-accept": "", onclick: () => confirm(item, box, item.concept, accept(item))},
        `Accept ${conceptText(item.concept)}`) : null,
      h("button", {type: "button", "data-none": "", onclick: () => confirm(item, box, null, override(item, null))}, "No concept applies")),
    picker(item, id, box), box);
}

function renderPage() {
  const {items, page} = view;
  const start = page * PAGE;
  const shown = items.slice(start, start + PAGE);
  const more = items.length === FETCH ? ` (the first ${FETCH}; filter to see others)` : "";
  $("queue-caption").textContent = items.length
    ? `Values ${start + 1}–${start + shown.length} of ${items.length}${more}.` : "";
  clear($("queue"), items.length ? shown.map((item, i) => itemCard(item, start + i))
    : h("p", {id: "queue-empty"}, "Nothing waits for a curator."));
  const go = (to) => () => { view.page = to; renderPage(); $("queue-heading").focus(); };
  clear($("pager"), items.length > PAGE ? [
    h("button", {type: "button", disabled: page === 0, onclick: go(page - 1)}, "Previous"),
    h("button", {type: "button", disabled: start + PAGE >= items.length, onclick: go(page + 1)}, "Next")] : []);
}

function fillOptions(select, values, label) {
  const chosen = select.value;
  clear(select, h("option", {value: ""}, `all ${label}`),
    [...values].sort().map((v) => h("option", {value: v, selected: v === chosen}, label === "fields" ? fieldLabel(v) : v)));
}

let loading = 0;

/** Fetch and show the queue; the list is marked busy meanwhile, and only the latest answer is
 * shown (a slower earlier one would undo a filter, or close a confirmation opened since). */
async function load() {
  const mine = ++loading;
  const field = $("filter-field").value || null;
  const source = $("filter-source").value || null;
  $("queue").setAttribute("aria-busy", "true");
  try {
    const {curationQueue} = await graphql(QUEUE, {field, source, first: FETCH});
    if (mine !== loading) return;
    view.items = curationQueue;
    view.page = Math.min(view.page, Math.max(0, Math.ceil(curationQueue.length / PAGE) - 1));
    for (const item of curationQueue) {
      view.fields.add(item.field);
      item.sources.forEach((s) => view.sources.add(s.source));
    }
    fillOptions($("filter-field"), view.fields, "fields");
    fillOptions($("filter-source"), view.sources, "sources");
    clear($("error"));
    renderPage();
  } catch (error) {
    if (mine === loading) clear($("error"), h("p", {role: "alert"}, `The node refused: ${error.message}`));
  } finally {
    if (mine === loading) $("queue").setAttribute("aria-busy", "false");
  }
}

function signedIn(me) {
  const allowed = mayCurate(me.roles || []);
  $("filters").hidden = !allowed;
  $("queue-heading").parentElement.hidden = !allowed;
  clear($("result"));
  if (!allowed) {
    clear($("access"), h("p", {class: "note", id: "needs-curator"},
      "You need the curator role to use the curation queue: ",
      h("code", {}, "curator"), " (every site), ", h("code", {}, "curator:<site>"), " or ",
      h("code", {}, "admin"), ". Sign in with a token or API key that holds it."));
    clear($("queue"));
    return;
  }
  clear($("access"));
  load();
}

$("filters").addEventListener("submit", (event) => event.preventDefault());
for (const id of ["filter-field", "filter-source"]) {
  $(id).addEventListener("change", () => { view.page = 0; load(); });
}
$("queue-heading").tabIndex = -1;
graphql(LEVELS).then(({searchFields}) => {
  for (const f of searchFields) view.levels[f.name] = f.level;
}).catch(() => {}).finally(() => mountSession($("session"), signedIn));
