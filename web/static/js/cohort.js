// The cohort builder page: criteria in the URL, the cohort's counts and a page of results,
// refreshed after every change.
import {graphql} from "./api.js";
import {fromSearch, seriesFilter, subjectFilter, toSearch} from "./criteria.js";
import {clear, h} from "./dom.js";
import {renderGroups} from "./groups.js";
import {valueNames} from "./labels.js";
import {COHORT, FIELDS, SERIES, SUBJECTS} from "./queries.js";
import {renderFacets, renderResults, renderSummary} from "./render.js";
import {mountSaved} from "./saved.js";
import {mountSession} from "./session.js";
import {renderConcepts, suggestTerms} from "./terms.js";
import {describe} from "./tree.js";

const FACETS = ["modality", "body_part", "sequence_type", "diagnosis", "sex", "site", "collection",
  "manufacturer", "field_strength_t", "annotations", "year", "species"];

const $ = (id) => document.getElementById(id);
let state = fromSearch(location.search);
let fields = {};
let lastFacets = [];
let generation = 0;
let lastPush = 0;
const pager = {index: 0, cursors: [null]};

// Age at study in ten-year bands; the API takes at most 12 facets.
const AGE = {histogram: {field: "age_years", interval: 10, min: 0, max: 100}};

// Body part is a tree: its facet counts each concept with what is below it (the closure).
const TREES = {body_part: "body_part_closure"};
const TREE_SIZE = 100;

function facetInputs() {
  const terms = FACETS.filter((name) => fields[name]).map((name) => (fields[TREES[name]]
    ? {terms: {field: TREES[name], size: TREE_SIZE}}
    : {terms: {field: name, size: 15}}));
  if (!fields.age_years) return terms.slice(0, 12);
  return [...terms.slice(0, 5), AGE, ...terms.slice(5, 11)];
}

function suggest(field) {
  const facet = lastFacets.find((f) => f.field === field);
  return facet ? facet.buckets.map((b) => b.value) : [];
}

function showError(error) {
  clear($("error"), error ? h("p", {role: "alert"}, `The node refused the query: ${error.message}`) : null);
}

/** Criteria changed: record them in the URL, start again at the first page, refresh. */
function changed(structural = false) {
  const search = toSearch(state);
  if (search !== location.search) {
    // Edits within a second of each other (typing) make one history entry, not one per key.
    const now = Date.now();
    if (now - lastPush < 1000) history.replaceState(null, "", location.pathname + search);
    else history.pushState(null, "", location.pathname + search);
    lastPush = now;
  }
  if (structural) {
    renderGroups($("groups"), state, fields, suggest, changed);
    renderConcepts($("concepts"), state, changed);
  }
  pager.index = 0;
  pager.cursors = [null];
  refresh();
}

async function refresh() {
  const mine = ++generation;
  const text = state.text || null;
  $("summary").setAttribute("aria-busy", "true");
  try {
    const {cohort} = await graphql(COHORT, {query: {text, filter: subjectFilter(state, fields), facets: facetInputs()}});
    if (mine !== generation) return;
    for (const site of cohort.sites) {
      valueNames.site.set(site.slug, site.name);
      for (const c of site.collections) valueNames.collection.set(c.id, c.title);
    }
    lastFacets = cohort.facets;
    await describe(cohort.facets.filter((f) => f.field.endsWith("_closure")).flatMap((f) => f.buckets.map((b) => String(b.value))));
    if (mine !== generation) return;
    renderSummary($("summary"), cohort);
    renderFacets($("facets"), cohort.facets, state, toggleFacet, toggleConcept);
    showError(null);
    await loadResults(mine);
  } catch (error) {
    if (mine === generation) showError(error);
  } finally {
    if (mine === generation) $("summary").removeAttribute("aria-busy");
  }
}

async function loadResults(mine = generation) {
  const series = state.view === "series";
  const filter = series ? seriesFilter(state, fields) : subjectFilter(state, fields);
  const query = {kind: series ? "SERIES" : "SUBJECTS", text: state.text || null, filter};
  const {search} = await graphql(series ? SERIES : SUBJECTS, {query, after: pager.cursors[pager.index]});
  if (mine !== generation) return;
  renderResults($("results"), state, search, {
    index: pager.index,
    previous: () => { pager.index -= 1; loadResults(); },
    next: (cursor) => { pager.index += 1; pager.cursors[pager.index] = cursor; loadResults(); },
  });
}

function toggleFacet(field, value, on) {
  const values = new Set(state.facets[field] || []);
  if (on) values.add(value); else values.delete(value);
  state.facets[field] = [...values];
  if (!values.size) delete state.facets[field];
  changed();
}

function toggleConcept(concept, on) {
  const same = (c) => c.field === concept.field && c.iri === concept.iri;
  state.concepts = state.concepts.filter((c) => !same(c));
  if (on) state.concepts.push(concept);
  changed(true);
}

function syncControls() {
  $("text").value = state.text;
  for (const radio of document.querySelectorAll("input[name=view]")) radio.checked = radio.value === state.view;
  renderGroups($("groups"), state, fields, suggest, changed);
  renderConcepts($("concepts"), state, changed);
}

function chooseTerm(concept) {
  if (!state.concepts.some((c) => c.field === concept.field && c.iri === concept.iri)) state.concepts.push(concept);
  state.text = "";
  $("text").value = "";
  clear($("term-suggestions"));
  changed(true);
}

async function main() {
  // Listen from the first moment: what is typed before the fields arrive is kept and acted on.
  $("text").value = state.text;
  const fieldsLoaded = graphql(FIELDS).then(({searchFields}) => {
    fields = Object.fromEntries(searchFields.map((f) => [f.name, f]));
  });
  const saved = mountSaved($("saved"), () => ({search: location.search,
    query: {text: state.text || null, filter: subjectFilter(state, fields)}}), (search) => {
    history.pushState(null, "", location.pathname + search);
    state = fromSearch(search);
    syncControls();
    changed();
  });
  mountSession($("session"), (me) => {
    fieldsLoaded.then(() => saved.signedIn(me));  // a saved cohort needs both: where, and its query
    if (Object.keys(fields).length) refresh();
  });
  let typing;
  $("search").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearTimeout(typing);
    await fieldsLoaded;
    state.text = $("text").value.trim();
    changed();
  });
  $("text").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(async () => {
      await fieldsLoaded;
      state.text = $("text").value.trim();
      suggestTerms($("term-suggestions"), fields, state.text, chooseTerm);
      changed();
    }, 400);
  });
  for (const radio of document.querySelectorAll("input[name=view]")) {
    radio.addEventListener("change", async () => { state.view = radio.value; await fieldsLoaded; changed(); });
  }
  $("reset").addEventListener("click", async () => { await fieldsLoaded; state = fromSearch(""); syncControls(); changed(); });
  window.addEventListener("popstate", async () => { await fieldsLoaded; state = fromSearch(location.search); syncControls(); refresh(); });
  await fieldsLoaded;
  state.text = $("text").value.trim();
  syncControls();
  await refresh();
}

main().catch(showError);
