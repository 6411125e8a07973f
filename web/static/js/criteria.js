// Cohort criteria: the state of the builder, its URL form (so a cohort can be bookmarked and
// shared) and the GraphQL `FilterInput` it stands for. Pure functions, no DOM.
//
// URL: ?q=<text>&f=<field>:<value> (repeated)&t=<JSON [field, concept IRI, label]> (repeated)
// &g=<JSON list of [field, op, value]> (one per series group; a concept condition is
// [field, "concept", label, IRI])&join=and|or&view=subjects|series

export const OPS = {concept: "means", is: "is written as", gte: "at least", lte: "at most", exists: "is recorded"};

export function emptyState() {
  return {text: "", facets: {}, concepts: [], groups: [], join: "and", view: "subjects"};
}

export function fromSearch(search) {
  const params = new URLSearchParams(search);
  const state = emptyState();
  state.text = params.get("q") || "";
  for (const pair of params.getAll("f")) {
    const at = pair.indexOf(":");
    if (at <= 0) continue;
    const field = pair.slice(0, at);
    (state.facets[field] ||= []).push(pair.slice(at + 1));
  }
  for (const raw of params.getAll("t")) {
    try {
      const [field, iri, label] = JSON.parse(raw);
      if (typeof field === "string" && typeof iri === "string") state.concepts.push({field, iri, label: String(label || iri)});
    } catch {
      // A broken concept in a hand-edited link is dropped.
    }
  }
  for (const raw of params.getAll("g")) {
    try {
      const group = JSON.parse(raw);
      if (Array.isArray(group)) state.groups.push(group.filter(validCondition).map(fromItem));
    } catch {
      // A hand-edited link with a broken group loses that group only.
    }
  }
  state.join = params.get("join") === "or" ? "or" : "and";
  state.view = params.get("view") === "series" ? "series" : "subjects";
  return state;
}

function validCondition(item) {
  return Array.isArray(item) && typeof item[0] === "string" && item[1] in OPS;
}

function fromItem([field, op, value, iri]) {
  const c = {field, op, value: String(value ?? "")};
  if (op === "concept") c.iri = typeof iri === "string" ? iri : "";
  return c;
}

function toItem(c) {
  if (c.op === "exists") return [c.field, c.op];
  if (c.op === "concept") return [c.field, c.op, c.value, c.iri || ""];
  return [c.field, c.op, c.value];
}

export function toSearch(state) {
  const params = new URLSearchParams();
  if (state.text) params.set("q", state.text);
  for (const [field, values] of Object.entries(state.facets)) {
    for (const value of values) params.append("f", `${field}:${value}`);
  }
  for (const c of state.concepts) params.append("t", JSON.stringify([c.field, c.iri, c.label]));
  for (const group of state.groups) {
    params.append("g", JSON.stringify(group.map(toItem)));
  }
  if (state.join === "or" && state.groups.length > 1) params.set("join", "or");
  if (state.view !== "subjects") params.set("view", state.view);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** A URL value as the field's type wants it. */
export function typed(spec, value) {
  if (!spec) return value;
  if (spec.type === "integer" || spec.type === "float") {
    const number = Number(value);
    return Number.isFinite(number) ? number : value;
  }
  if (spec.type === "boolean") return value === "true";
  return value;
}

function condition(spec, {field, op, value, iri}) {
  if (op === "concept") return {concept: {field, iri, includeDescendants: true}};
  if (op === "exists") return {exists: {field}};
  if (op === "gte" || op === "lte") return {range: {field, [op]: typed(spec, value)}};
  return {term: {field, value: typed(spec, value)}};
}

function nest(spec, clause) {
  if (spec && spec.level === "series") return {hasSeries: clause};
  if (spec && spec.level === "study") return {hasStudy: clause};
  return clause;
}

function all(clauses) {
  if (clauses.length === 0) return null;
  return clauses.length === 1 ? clauses[0] : {and: clauses};
}

function complete(c) {
  if (c.op === "concept") return Boolean(c.field && c.iri);
  return c.field && (c.op === "exists" || String(c.value).trim() !== "");
}

/** A histogram bin's URL form: "low..high" stands for low <= value < high. */
export function binKey(low, high) {
  return `${low}..${high}`;
}

const BIN = /^(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)$/;

function facetClause(field, spec, values) {
  const bins = values.map((v) => BIN.exec(v));
  if (spec && spec.type !== "keyword" && bins.every(Boolean)) {
    const ranges = bins.map(([, low, high]) => ({range: {field, gte: Number(low), lt: Number(high)}}));
    return ranges.length === 1 ? ranges[0] : {or: ranges};
  }
  return {terms: {field, values: values.map((v) => typed(spec, v))}};
}

/** Concepts of one field are alternatives (OR), like the values of a facet; fields all apply. */
function conceptClauses(state, fields, nested) {
  const byField = new Map();
  for (const {field, iri} of state.concepts) {
    if (!byField.has(field)) byField.set(field, []);
    byField.get(field).push({concept: {field, iri, includeDescendants: true}});
  }
  return [...byField].map(([field, clauses]) => {
    const clause = clauses.length === 1 ? clauses[0] : {or: clauses};
    return nested ? nest(fields[field], clause) : clause;
  });
}

function facetClauses(state, fields, nested) {
  return conceptClauses(state, fields, nested).concat(Object.entries(state.facets)
    .filter(([, values]) => values.length)
    .map(([field, values]) => {
      const spec = fields[field];
      const clause = facetClause(field, spec, values);
      return nested ? nest(spec, clause) : clause;
    }));
}

/** The subject-level filter of the cohort: facets AND (groups joined by `join`), where each
 * group is "has a series where all its conditions hold". */
export function subjectFilter(state, fields) {
  const clauses = facetClauses(state, fields, true);
  const groups = state.groups
    .map((group) => all(group.filter(complete).map((c) => condition(fields[c.field], c))))
    .filter(Boolean)
    .map((where) => ({hasSeries: where}));
  if (groups.length > 1 && state.join === "or") clauses.push({or: groups});
  else clauses.push(...groups);
  return all(clauses);
}

/** The series listing: series meeting the facets that also meet at least one series group
 * (every field is on a series document, so nothing is nested). */
export function seriesFilter(state, fields) {
  const clauses = facetClauses(state, fields, false);
  const groups = state.groups
    .map((group) => all(group.filter(complete).map((c) => condition(fields[c.field], c))))
    .filter(Boolean);
  if (groups.length === 1) clauses.push(groups[0]);
  else if (groups.length > 1) clauses.push({or: groups});
  return all(clauses);
}
