// The series-group editor: each group reads "has a series where all of these hold".
import {OPS} from "./criteria.js";
import {clear, h} from "./dom.js";
import {fieldLabel} from "./labels.js";
import {findTerms} from "./terms.js";

/** Fields a series predicate may use: the series' own and its study's, not the derived
 * concept columns. */
const FIRST = ["modality", "sequence_type", "body_part", "field_strength_t", "manufacturer", "contrast_agent",
  "annotations", "year", "age_years"];

export function seriesFields(fields) {
  const rank = (f) => (FIRST.includes(f.name) ? FIRST.indexOf(f.name) : FIRST.length);
  return Object.values(fields)
    .filter((f) => (f.level === "series" || f.level === "study") && !f.name.endsWith("_concept") && !f.name.endsWith("_closure"))
    .sort((a, b) => rank(a) - rank(b));
}

/** Coded fields compare concepts first: "means FLAIR" finds every site's wording of it. */
function opsFor(fields, name) {
  const spec = fields[name];
  if (fields[`${name}_concept`]) return ["concept", "is", "exists"];
  if (!spec) return ["is", "exists"];
  if (spec.type === "integer" || spec.type === "float" || spec.type === "date") return ["is", "gte", "lte", "exists"];
  return ["is", "exists"];
}

function fresh(fields, name) {
  return {field: name, op: opsFor(fields, name)[0], value: ""};
}

/** Render the editor into `root`. `suggest(field)` lists known values; `changed(structural)`
 * is called after every edit (structural: rows added or removed, so re-render). */
export function renderGroups(root, state, fields, suggest, changed) {
  const choices = seriesFields(fields);
  const groupEls = state.groups.map((group, gi) => {
    const rows = group.map((c, ci) => conditionRow(c, `g${gi}c${ci}`, choices, fields, suggest, changed, () => {
      group.splice(ci, 1);
      if (!group.length) state.groups.splice(gi, 1);
      changed(true);
    }));
    return h("fieldset", {class: "group", "data-group": gi},
      h("legend", {}, gi === 0 ? "Has a series where" : `${state.join === "or" ? "or" : "and"} has a series where`),
      rows,
      h("div", {class: "group-actions"},
        h("button", {type: "button", onclick: () => { group.push(fresh(fields, choices[0].name)); changed(true); }}, "Add a condition"),
        h("button", {type: "button", onclick: () => { state.groups.splice(gi, 1); changed(true); }}, "Remove this group")));
  });
  const join = h("fieldset", {class: "join", hidden: state.groups.length < 2},
    h("legend", {}, "Subjects must match"),
    ...["and", "or"].map((value) => h("label", {},
      h("input", {type: "radio", name: "join", value, checked: state.join === value,
                  onchange: () => { state.join = value; changed(true); }}),
      value === "and" ? " every group" : " at least one group")));
  const add = h("button", {type: "button", id: "add-group", onclick: () => {
    state.groups.push([fresh(fields, choices[0].name)]);
    changed(true);
  }}, "Add a series group");
  clear(root, join, groupEls, add);
}

function conditionRow(c, id, choices, fields, suggest, changed, remove) {
  const spec = fields[c.field];
  const fieldSelect = h("select", {id: `${id}-field`, onchange: (e) => {
    Object.assign(c, fresh(fields, e.target.value), {iri: undefined});
    changed(true);
  }}, choices.map((f) => h("option", {value: f.name, selected: f.name === c.field}, fieldLabel(f.name))));
  const opSelect = h("select", {id: `${id}-op`, onchange: (e) => { c.op = e.target.value; changed(true); }},
    opsFor(fields, c.field).map((op) => h("option", {value: op, selected: op === c.op}, OPS[op])));
  const listId = `${id}-values`;
  const datalist = h("datalist", {id: listId},
    c.op === "concept" ? [] : suggest(c.field).map((v) => h("option", {value: String(v)})));
  const value = c.op === "concept"
    ? conceptInput(c, `${id}-value`, listId, datalist, changed)
    : valueInput(c, spec, `${id}-value`, listId, changed);
  return h("div", {class: "condition"},
    h("label", {for: `${id}-field`, class: "visually-hidden"}, "Field"), fieldSelect,
    h("label", {for: `${id}-op`, class: "visually-hidden"}, "Comparison"), opSelect,
    h("label", {for: `${id}-value`, class: "visually-hidden"}, "Value"), value,
    datalist,
    h("button", {type: "button", class: "remove", "aria-label": "Remove this condition", onclick: remove}, "×"));
}

function valueInput(c, spec, id, listId, changed) {
  if (c.op === "exists") return h("span", {id});
  if (spec && spec.type === "boolean") {
    if (c.value !== "false") c.value = "true";
    return h("select", {id, onchange: (e) => { c.value = e.target.value; changed(false); }},
      h("option", {value: "true", selected: c.value === "true"}, "yes"),
      h("option", {value: "false", selected: c.value === "false"}, "no"));
  }
  const numeric = spec && (spec.type === "integer" || spec.type === "float");
  return h("input", {id, value: c.value, list: listId, type: numeric ? "number" : "text", step: numeric ? "any" : null,
                     oninput: (e) => { c.value = e.target.value; changed(false); }});
}

/** A concept by its label: terms of the field are offered as people type; the condition applies
 * once the text is a term's label (so a half-typed word never filters). */
function conceptInput(c, id, listId, datalist, changed) {
  let asked = 0;
  return h("input", {id, value: c.value, list: listId, autocomplete: "off", oninput: async (e) => {
    c.value = e.target.value;
    const mine = ++asked;
    const terms = c.value.trim().length < 2 ? [] : await findTerms(c.field, c.value.trim());
    if (mine !== asked) return;  // a later keystroke has its own answer
    clear(datalist, terms.map((t) => h("option", {value: t.label}, t.curie || "")));
    const match = terms.find((t) => t.label.toLowerCase() === c.value.trim().toLowerCase());
    const iri = match ? match.iri : "";
    if (iri !== (c.iri || "")) {
      c.iri = iri;
      changed(false);
    }
  }});
}
