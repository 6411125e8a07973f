// Ontology terms for the free text: as people type, terms of the coded fields whose label starts
// with the words are offered; choosing one filters on the concept and everything below it
// ("head" finds brain), whatever each site called it.
import {graphql} from "./api.js";
import {clear, h} from "./dom.js";
import {fieldLabel} from "./labels.js";

const CODED = ["body_part", "diagnosis", "sequence_type", "modality", "species"];

function lookup(fields) {
  const coded = CODED.filter((f) => fields[f]);
  const parts = coded.map((f) => `${f}: terms(prefix: $prefix, field: "${f}", first: 5, counts: true) {
    iri curie label count { records suppressed } }`);
  return {coded, query: `query Terms($prefix: String!) { ${parts.join("\n")} }`};
}

function recordsText(count) {
  if (!count) return "";
  if (count.suppressed) return "some records";
  return `${count.records} record${count.records === 1 ? "" : "s"}`;
}

/** Offer terms for `prefix` in `root`; `choose({field, iri, curie, label})` adds one. With
 * `{unused: true}` terms no record carries are offered too (a curator maps values to them). */
export async function suggestTerms(root, fields, prefix, choose, {unused = false} = {}) {
  if (prefix.trim().length < 2) return clear(root);
  const {coded, query} = lookup(fields);
  if (!coded.length) return clear(root);
  let data;
  try {
    data = await graphql(query, {prefix: prefix.trim()});
  } catch {
    return clear(root);  // suggestions are a help: the search itself reports errors
  }
  const offers = coded.flatMap((field) => data[field].map((term) => ({field, term})))
    .filter(({term}) => unused || !term.count || term.count.suppressed || term.count.records > 0);
  clear(root, offers.length ? [
    h("p", {class: "muted", id: "terms-label"}, "Concepts (with everything below them):"),
    h("ul", {class: "terms", "aria-labelledby": "terms-label"}, offers.map(({field, term}) => h("li", {},
      h("button", {type: "button", "data-term": term.curie || term.iri,
                   onclick: () => choose({field, iri: term.iri, curie: term.curie, label: term.label})},
        `${fieldLabel(field)}: ${term.label}`),
      h("span", {class: "muted"}, ` ${term.curie || ""} · ${recordsText(term.count)}`))))] : []);
}

/** Terms of one coded field whose label starts with `prefix` (none when the node cannot say). */
export async function findTerms(field, prefix, first = 8) {
  const query = `query FieldTerms($prefix: String!, $field: String!, $first: Int!) {
    terms(prefix: $prefix, field: $field, first: $first) { iri curie label } }`;
  try {
    return (await graphql(query, {prefix, field, first})).terms;
  } catch {
    return [];
  }
}

/** The chosen concepts, each with a button to drop it. */
export function renderConcepts(root, state, changed) {
  clear(root, state.concepts.length ? h("ul", {class: "chips", "aria-label": "Chosen concepts"},
    state.concepts.map((c, i) => h("li", {},
      `${fieldLabel(c.field)}: ${c.label} or below `,
      h("button", {type: "button", "aria-label": `Remove ${c.label}`, onclick: () => {
        state.concepts.splice(i, 1);
        changed(true);
      }}, "×")))) : []);
}
