// Rendering of the cohort answer: facets, summary with the per-site table and the charts,
// result lists.
import {barChart} from "./charts.js";
import {binKey} from "./criteria.js";
import {anySuppressed, clear, countCell, h, when} from "./dom.js";
import {fieldLabel, valueLabel} from "./labels.js";
import {conceptTree} from "./tree.js";

const isTree = (facet) => facet.field.endsWith("_closure");

/** Facet checkboxes; a selected value stays listed even when the cohort no longer holds it.
 * A facet on a concept closure is a tree; `toggleConcept(concept, on)` serves it. */
export function renderFacets(root, facets, state, toggle, toggleConcept) {
  const held = (f) => f.buckets.some((b) => b.count.value !== 0 || b.count.suppressed);
  const chosen = (f) => (isTree(f) ? state.concepts.some((c) => `${c.field}_closure` === f.field) : (state.facets[f.field] || []).length);
  const shown = facets.filter((f) => held(f) || chosen(f));
  const boxes = shown.map((facet) => {
    if (isTree(facet)) return conceptTree(facet, state, toggleConcept);
    const selected = state.facets[facet.field] || [];
    const buckets = facet.buckets.filter((b) => b.count.value !== 0 || b.count.suppressed);
    const listed = buckets.map((b) => (facet.type === "histogram"
      ? [binKey(b.low, b.high), `${b.low}–${b.high}`, b.count]
      : [String(b.value), b.value, b.count]));
    for (const value of selected) {
      if (!listed.some(([key]) => key === value)) listed.push([value, value.replace("..", "–"), null]);
    }
    const id = (value) => `facet-${facet.field}-${value}`.replace(/[^A-Za-z0-9_-]/g, "_");
    return h("fieldset", {class: "facet", "data-field": facet.field},
      h("legend", {}, fieldLabel(facet.field)),
      listed.length ? h("ul", {}, listed.map(([key, value, count]) => h("li", {},
        h("input", {type: "checkbox", id: id(key), checked: selected.includes(key),
                    onchange: (e) => toggle(facet.field, key, e.target.checked)}),
        h("label", {for: id(key)}, valueLabel(facet.field, value), " ", countCell(count, "span"))))) : h("p", {class: "muted"}, "No values"),
      facet.missing && facet.missing.value ? h("p", {class: "muted"}, "Not recorded: ", countCell(facet.missing)) : null);
  });
  clear(root, boxes);
}

function totals(cohort) {
  return h("dl", {class: "totals", id: "totals"},
    ...[["subjects", "Subjects"], ["studies", "Studies"], ["series", "Series"]].flatMap(([key, label]) => [
      h("dt", {}, label), h("dd", {"data-count": key}, countCell(cohort[key]))]));
}

function siteTable(cohort) {
  const status = new Map(cohort.siteStatus.map((s) => [s.slug, s]));
  const rows = cohort.sites.flatMap((site) => [
    h("tr", {"data-site": site.slug},
      h("th", {scope: "row"}, site.name, " ", h("span", {class: "muted"}, `(${site.slug})`)),
      countCell(site.subjects, "td"), countCell(site.studies, "td"), countCell(site.series, "td"),
      h("td", {}, origin(status.get(site.slug)))),
    ...site.collections.map((c) => h("tr", {class: "collection"},
      h("th", {scope: "row"}, c.title), countCell(c.subjects, "td"), countCell(c.studies, "td"),
      countCell(c.series, "td"), h("td")))]);
  return h("table", {id: "site-table"},
    h("caption", {}, "Per site and collection"),
    h("thead", {}, h("tr", {}, ["Site / collection", "Subjects", "Studies", "Series", "Counted"].map((t) => h("th", {scope: "col"}, t)))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", {colspan: 5}, "No site holds a matching subject."))));
}

function origin(status) {
  if (!status) return "";
  if (status.origin === "index") return `from the index (harvested ${when(status.asOf)})`;
  if (status.origin === "live") return "asked live";
  return `unavailable: ${status.reason || "no answer"}`;
}

export function renderSummary(root, cohort) {
  const counts = [cohort.subjects, cohort.studies, cohort.series,
    ...cohort.sites.flatMap((s) => [s.subjects, s.studies, s.series,
      ...s.collections.flatMap((c) => [c.subjects, c.studies, c.series])])];
  const note = anySuppressed(...counts) ? h("p", {id: "suppression-note", class: "note"},
    `"Fewer than ${cohort.threshold}" marks a count below ${cohort.threshold} from collections that share aggregate counts only. ` +
    `"More than n" marks a count hidden so that such a small count cannot be worked out by subtraction from the others; ` +
    "n is the part you may see records of. Totals, sites, collections and facets are suppressed together.") : null;
  const partial = cohort.partial ? h("p", {class: "note warning"}, "Some sites did not answer: their counts are missing.") : null;
  const siteChart = barChart("chart-sites", "Subjects per site",
    cohort.sites.map((site) => ({label: site.name, count: site.subjects})));
  clear(root, totals(cohort), note, partial,
    h("div", {class: "per-site"}, siteTable(cohort), h("figure", {class: "chart-box"}, h("figcaption", {}, "Subjects per site"), siteChart)),
    composition(cohort.facets));
}

const COMPOSITION = [["sex", "Sex"], ["age_years", "Age at study (years)"], ["manufacturer", "Manufacturer"]];

/** Subjects by sex, age band and manufacturer, from the cohort's facets (what the page asks). */
function composition(facets) {
  const charts = COMPOSITION.map(([field, title]) => {
    const facet = facets.find((f) => f.field === field);
    if (!facet) return null;
    const rows = facet.buckets.filter((b) => b.count.value !== 0 || b.count.suppressed).map((b) => ({
      label: facet.type === "histogram" ? `${b.low}–${b.high}` : valueLabel(field, b.value), count: b.count}));
    return h("figure", {class: "chart-box", "data-chart": field},
      h("figcaption", {}, title), barChart(`chart-${field}`, `Subjects by ${title.toLowerCase()}`, rows));
  }).filter(Boolean);
  return charts.length ? h("div", {class: "composition", id: "composition"},
    h("h3", {}, "Composition"), h("div", {class: "charts"}, charts)) : null;
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function seriesItem(s) {
  const what = [s.modality, s.bodyPart, s.seriesDescription, s.manufacturer,
    s.fieldStrengthT ? `${s.fieldStrengthT} T` : null, s.year, s.annotations ? "annotations" : null].filter(Boolean).join(" · ");
  return h("li", {class: "series"}, what || "Series",
    s.accessUrl ? [" — ", h("a", {href: s.accessUrl, class: "access", rel: "noopener"}, "at its site")] : h("span", {class: "muted"}, " (no access address)"));
}

function subjectItem(edge) {
  const subject = edge.node;
  if (!subject) return h("li", {}, "A record that is no longer visible");
  const diagnoses = subject.coded.filter((c) => c.field === "diagnosis").map((c) => c.label || c.originalValue);
  const studies = subject.studies.edges.map(({node: study}) => h("li", {},
    `Study ${study.year || ""}${study.ageYears != null ? `, age ${Math.round(study.ageYears)}` : ""}${study.description ? `: ${study.description}` : ""}`,
    h("ul", {}, study.series.edges.map(({node}) => seriesItem(node)))));
  return h("li", {class: "subject"},
    h("details", {},
      h("summary", {}, `${subject.sex.toLowerCase()}${subject.birthYear ? `, born ${subject.birthYear}` : ""}`,
        diagnoses.length ? ` · ${diagnoses.join(", ")}` : "",
        h("span", {class: "muted"}, ` · ${subject.collection ? subject.collection.title : ""} at ${edge.siteSlug} · ${plural(subject.studies.totalCount, "study", "studies")}`)),
      h("ul", {}, studies)));
}

/** A page of results, with paging buttons; `page(after)` loads another page. */
export function renderResults(root, state, connection, pager) {
  const items = connection.edges.map((edge) => (state.view === "series"
    ? (edge.node ? seriesItem(edge.node) : h("li", {}, "A record that is no longer visible"))
    : subjectItem(edge)));
  const first = pager.index * 20 + 1;
  const caption = connection.totalCount
    ? `${first}–${first + connection.edges.length - 1} of ${connection.totalCount} ${state.view} you may see`
    : `No ${state.view} you may see match.`;
  clear(root,
    h("p", {id: "result-caption", role: "status"}, caption),
    h("ul", {class: "results", id: "results-list"}, items),
    h("nav", {class: "pager", "aria-label": "Result pages"},
      h("button", {type: "button", disabled: pager.index === 0, onclick: pager.previous}, "Previous"),
      h("button", {type: "button", disabled: !connection.pageInfo.hasNextPage,
                   onclick: () => pager.next(connection.pageInfo.endCursor)}, "Next")));
}
