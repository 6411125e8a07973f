// A dataset from the cohort in the address (the cohort builder's criteria): what it holds now,
// then `createDataset` with the cohort query, frozen at that moment; on to the dataset's page.
import {graphql} from "./api.js";
import {fromSearch, OPS, subjectFilter} from "./criteria.js";
import {clear, countText, h} from "./dom.js";
import {showErrors} from "./form-errors.js";
import {fieldLabel} from "./labels.js";
import {FIELDS} from "./queries.js";
import {mountSession} from "./session.js";

const COUNTS = `query Counts($query: CohortInput!) { cohort(query: $query) {
  subjects { suppressed threshold atLeast display } series { suppressed threshold atLeast display } } }`;
const CREATE = "mutation Create($input: DatasetInput!) { createDataset(input: $input) { id } }";

const $ = (id) => document.getElementById(id);
const state = fromSearch(location.search);
// The cohort's query, once the search fields are known (asked for before anything else).
let query;
let slugEdited = false;

function describe() {
  const items = [];
  if (state.text) items.push(`Free text: “${state.text}”`);
  for (const c of state.concepts) items.push(`${fieldLabel(c.field)}: ${c.label} or below`);
  for (const [field, values] of Object.entries(state.facets)) items.push(`${fieldLabel(field)}: ${values.join(" or ")}`);
  state.groups.forEach((group, i) => {
    const parts = group.map((c) => `${fieldLabel(c.field)} ${OPS[c.op]}${c.op === "exists" ? "" : ` ${c.value}`}`);
    items.push(`${i && state.join === "or" ? "or h" : "H"}as a series where ${parts.join(" and ")}`);
  });
  return items;
}

function slugOf(title) {
  return title.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 128);
}

function problems() {
  const found = [];
  if (!$("f-title").value.trim()) found.push({location: "title", message: "Give the dataset a title."});
  if (!/^[a-z0-9][a-z0-9-]{0,127}$/.test($("f-slug").value)) {
    found.push({location: "slug", message: "Use lower-case letters, digits and hyphens, starting with a letter or digit."});
  }
  return found;
}

async function create(event) {
  event.preventDefault();
  const form = $("create");
  const local = problems();
  if (local.length) return showErrors(form, local);
  $("create-button").disabled = true;
  try {
    const input = {slug: $("f-slug").value, title: $("f-title").value.trim(), description: $("f-description").value.trim(), query: await query};
    const {createDataset} = await graphql(CREATE, {input});
    location.assign(`/dataset.html?id=${encodeURIComponent(createDataset.id)}&created=1`);
  } catch (error) {
    showErrors(form, error);
    $("create-button").disabled = false;
  }
}

async function main() {
  query = graphql(FIELDS).then(({searchFields}) => {
    const fields = Object.fromEntries(searchFields.map((f) => [f.name, f]));
    return {text: state.text || null, filter: subjectFilter(state, fields)};
  });
  $("back").href = `/${location.search}`;
  $("f-title").addEventListener("input", () => { if (!slugEdited) $("f-slug").value = slugOf($("f-title").value); });
  $("f-slug").addEventListener("input", () => { slugEdited = true; });
  $("create").addEventListener("submit", create);
  const items = describe();
  clear($("criteria"), items.length ? h("ul", {id: "criteria-list"}, items.map((t) => h("li", {}, t)))
    : h("p", {}, "No criteria: every subject this node lists."));
  await mountSession($("session"), (identity) => {
    const admin = identity.roles.includes("admin");
    $("create").hidden = !admin;
    clear($("error"), admin ? null : h("p", {class: "note"}, "Only administrators create datasets: sign in as one."));
  });
  const {cohort} = await graphql(COUNTS, {query: await query});
  $("criteria").append(h("p", {id: "cohort-size"}, `Now: ${countText(cohort.subjects)} subjects, ${countText(cohort.series)} series.`));
}

main().catch((error) => clear($("error"), h("p", {role: "alert"}, `The node refused: ${error.message}`)));
