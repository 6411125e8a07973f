// A dataset's metadata: the form administrators edit (title, description, creators with ORCID
// iDs, licence, keywords, subjects from the ontology, access conditions per site), checked here
// for shape and by the node for the rest; everyone else reads it.
import {graphql} from "./api.js";
import {clear, h} from "./dom.js";
import {clearErrors, showErrors} from "./form-errors.js";
import {suggestTerms} from "./terms.js";

const EXTRAS = `{ datasetLicences { id name } sites(first: 100) { edges { node { slug name } } }
  searchFields { name level type multi description } }`;
const UPDATE = `mutation Update($id: ID!, $metadata: JSON!) {
  updateDatasetMetadata(id: $id, metadata: $metadata) { id } }`;
const ORCID = /^(https:\/\/orcid\.org\/)?\d{4}-\d{4}-\d{4}-\d{3}[\dX]$/;

let extras = null;

async function loadExtras() {
  if (!extras) {
    const data = await graphql(EXTRAS);
    extras = {
      licences: data.datasetLicences,
      sites: data.sites.edges.map((e) => e.node),
      fields: Object.fromEntries(data.searchFields.map((f) => [f.name, f])),
    };
  }
  return extras;
}

function field(id, label, control, hint) {
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div", {class: "field"}, h("label", {for: id}, label), control, hint ? h("p", {class: "hint", id: hintId}, hint) : null);
}

const ORCID_HINT = "16 digits, e.g. 0000-0002-1825-0097";

/** As soon as an ORCID iD is left: does it have the shape of one? (The node checks the sum.) */
function orcidHint(event) {
  const value = event.target.value.trim();
  const hint = document.getElementById(`${event.target.id}-hint`);
  const wrong = value && !ORCID.test(value);
  hint.textContent = wrong ? `Not yet an ORCID iD: ${ORCID_HINT}` : ORCID_HINT;
  hint.classList.toggle("warning", Boolean(wrong));
}

function creatorRow(creator, i, remove) {
  const n = i + 1;
  const affiliation = (creator.affiliations || [])[0];
  return h("div", {class: "creator", "data-creator": i},
    field(`f-creator-${i}-name`, `Creator ${n} name`, h("input", {id: `f-creator-${i}-name`, "data-loc": `creators[${i}].name`,
      value: creator.name || "", autocomplete: "off"}), "Family name, given name; or an organisation"),
    field(`f-creator-${i}-orcid`, `Creator ${n} ORCID iD`, h("input", {id: `f-creator-${i}-orcid`, "data-loc": `creators[${i}].orcid`,
      value: creator.orcid || "", autocomplete: "off", onblur: orcidHint}), ORCID_HINT),
    field(`f-creator-${i}-affiliation`, `Creator ${n} affiliation`, h("input", {id: `f-creator-${i}-affiliation`,
      "data-loc": `creators[${i}].affiliations`, value: affiliation ? affiliation.name : "", autocomplete: "off"})),
    h("button", {type: "button", class: "link", "aria-label": `Remove creator ${n}`, onclick: () => remove(i)}, "Remove"));
}

function subjectChips(root, subjects) {
  clear(root, subjects.length ? h("ul", {class: "chips", "aria-label": "Chosen subjects"}, subjects.map((s, i) => h("li", {"data-subject": s.iri},
    `${s.label} `, h("span", {class: "muted"}, s.scheme && s.code ? `${s.scheme}:${s.code} ` : ""),
    h("button", {type: "button", "aria-label": `Remove ${s.label}`, onclick: () => { subjects.splice(i, 1); subjectChips(root, subjects); }}, "×"))))
    : h("p", {class: "muted"}, "None yet."));
}

function accessFieldset(site, current) {
  const id = (part) => `f-access-${site.slug}-${part}`;
  const text = (part, label, tag = "textarea") => field(id(part), label,
    h(tag, {id: id(part), rows: tag === "textarea" ? 2 : null, autocomplete: "off", value: tag === "input" ? current[part] || "" : null},
      tag === "textarea" ? current[part] || "" : null));
  return h("fieldset", {class: "site-access", "data-site": site.slug, id: `f-access-${site.slug}`},
    h("legend", {}, site.name), text("who", "Who may request the images"), text("how", "How to request them"),
    text("contact", "Contact (address or URL)", "input"));
}

function readOnly(root, m) {
  const list = (items) => (items.length ? items.join(", ") : "–");
  clear(root, h("dl", {class: "facts", id: "metadata-view"},
    h("dt", {}, "Description"), h("dd", {}, (m.descriptions || [])[0] || "–"),
    h("dt", {}, "Creators"), h("dd", {}, list(m.creators.map((c) => (c.orcid ? `${c.name} (ORCID ${c.orcid})` : c.name)))),
    h("dt", {}, "Licence"), h("dd", {}, m.license || "–"),
    h("dt", {}, "Keywords"), h("dd", {}, list(m.keywords)),
    h("dt", {}, "Subjects"), h("dd", {}, list(m.subjects.map((s) => s.label))),
    h("dt", {}, "Access conditions"), h("dd", {}, m.access_conditions.length
      ? h("ul", {}, m.access_conditions.map((a) => h("li", {}, `${a.site}: ${a.who}; ${a.how}`))) : "–")));
}

/** Show `dataset`'s metadata in `root`: a form for administrators (`saved()` after a save). */
export async function mountMetadata(root, dataset, {admin, saved}) {
  const m = dataset.metadata;
  if (!admin) return readOnly(root, m);
  const {licences, sites, fields} = await loadExtras();
  const creators = m.creators.length ? m.creators.map((c) => ({...c})) : [{name: ""}];
  const subjects = m.subjects.map((s) => ({...s}));
  const access = Object.fromEntries(m.access_conditions.map((a) => [a.site, a]));
  const creatorBox = h("div", {});
  const chips = h("div", {});
  const suggestions = h("div", {id: "subject-suggestions", "aria-live": "polite"});
  const search = h("input", {id: "f-subject-search", type: "search", autocomplete: "off", placeholder: "e.g. brain"});

  const readCreators = () => creators.forEach((c, i) => {
    c.name = root.querySelector(`#f-creator-${i}-name`).value.trim();
    c.orcid = root.querySelector(`#f-creator-${i}-orcid`).value.trim() || null;
    const affiliation = root.querySelector(`#f-creator-${i}-affiliation`).value.trim();
    const before = (c.affiliations || [])[0];
    c.affiliations = !affiliation ? [] : before && before.name === affiliation ? c.affiliations : [{name: affiliation}];
  });
  const drawCreators = () => clear(creatorBox, creators.map((c, i) => creatorRow(c, i, (at) => {
    readCreators();
    creators.splice(at, 1);
    drawCreators();
  })));

  const form = h("form", {id: "metadata-form", novalidate: true},
    h("div", {id: "metadata-form-errors", tabindex: "-1"}),
    field("f-title", "Title", h("input", {id: "f-title", "data-loc": "titles", value: m.titles[0] || dataset.title, required: true, maxlength: 4000})),
    field("f-description", "Description", h("textarea", {id: "f-description", "data-loc": "descriptions", rows: 5, maxlength: 4000}, m.descriptions[0] || "")),
    h("fieldset", {id: "f-creators", "data-loc": "creators"}, h("legend", {}, "Creators"), creatorBox,
      h("button", {type: "button", onclick: () => { readCreators(); creators.push({name: ""}); drawCreators(); root.querySelector(`#f-creator-${creators.length - 1}-name`).focus(); }}, "Add a creator")),
    field("f-license", "Licence", h("input", {id: "f-license", "data-loc": "license", list: "spdx-licences", value: m.license || "", autocomplete: "off"}),
      "An SPDX licence id, e.g. CC-BY-4.0 (type to choose from the list)"),
    h("datalist", {id: "spdx-licences"}, licences.map((l) => h("option", {value: l.id}, l.name))),
    field("f-keywords", "Keywords", h("input", {id: "f-keywords", "data-loc": "keywords", value: m.keywords.join(", "), autocomplete: "off"}), "Separated by commas"),
    h("fieldset", {id: "f-subjects", "data-loc": "subjects"}, h("legend", {}, "Subjects (ontology concepts)"), chips,
      field("f-subject-search", "Find a concept", search, "Type two letters or more, then choose a concept below"), suggestions),
    h("fieldset", {id: "f-access", "data-loc": "access_conditions"}, h("legend", {}, "Access conditions per site"),
      h("p", {class: "hint"}, "Leave a site empty when it sets no conditions here."),
      sites.map((site) => accessFieldset(site, access[site.slug] || {}))),
    h("button", {type: "submit", id: "save-metadata"}, "Save metadata"));

  let typing;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => suggestTerms(suggestions, fields, search.value, (term) => {
      const [scheme, code] = (term.curie || "").split(":");
      if (!subjects.some((s) => s.iri === term.iri)) subjects.push({label: term.label, iri: term.iri, scheme: scheme || null, code: code || null});
      search.value = "";
      clear(suggestions);
      subjectChips(chips, subjects);
      search.focus();
    }, {unused: true}), 300);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    readCreators();
    const kept = creators.filter((c) => c.name || c.orcid || c.affiliations.length);
    if (kept.length !== creators.length) {  // empty rows go, so locations match the rows shown
      creators.splice(0, creators.length, ...(kept.length ? kept : [{name: "", affiliations: []}]));
      drawCreators();
    }
    const {patch, problems} = collect(form, sites, creators, subjects, licences);
    if (problems.length) return showErrors(form, problems);
    const button = form.querySelector("#save-metadata");
    button.disabled = true;
    try {
      await graphql(UPDATE, {id: dataset.id, metadata: patch});
      clearErrors(form);
      await saved();
    } catch (error) {
      showErrors(form, error);
    } finally {
      button.disabled = false;
    }
  });
  clear(root, form);
  drawCreators();
  subjectChips(chips, subjects);
}

/** The patch the form stands for, and the problems a browser can see (the node checks the
 * rest: ORCID checksums, licence ids, known sites). */
function collect(form, sites, creators, subjects, licences) {
  const value = (id) => form.querySelector(`#${id}`).value.trim();
  const problems = [];
  if (!value("f-title")) problems.push({location: "titles", message: "Give the dataset a title."});
  const named = creators.filter((c) => c.name || c.orcid || c.affiliations.length);
  creators.forEach((c, i) => {
    if (!c.name && (c.orcid || c.affiliations.length)) problems.push({location: `creators[${i}].name`, message: "A creator needs a name."});
    if (c.orcid && !ORCID.test(c.orcid)) problems.push({location: `creators[${i}].orcid`, message: "An ORCID iD is four groups of four digits (the last may be X)."});
  });
  const license = value("f-license");
  if (license && !licences.some((l) => l.id === license)) problems.push({location: "license", message: "Not an SPDX licence id: choose one from the list."});
  const conditions = [];
  for (const site of sites) {
    const [who, how, contact] = ["who", "how", "contact"].map((part) => value(`f-access-${site.slug}-${part}`));
    const box = form.querySelector(`#f-access-${site.slug}`);
    box.removeAttribute("data-loc");
    if (!who && !how && !contact) continue;
    box.setAttribute("data-loc", `access_conditions[${conditions.length}]`);
    form.querySelector(`#f-access-${site.slug}-who`).setAttribute("data-loc", `access_conditions[${conditions.length}].who`);
    form.querySelector(`#f-access-${site.slug}-how`).setAttribute("data-loc", `access_conditions[${conditions.length}].how`);
    if (!who || !how) problems.push({location: `access_conditions[${conditions.length}]`, message: "Say both who may request the images and how."});
    conditions.push({site: site.slug, who, how, contact: contact || null});
  }
  const patch = {
    titles: [value("f-title")],
    descriptions: value("f-description") ? [value("f-description")] : [],
    license: license || null,
    keywords: value("f-keywords").split(",").map((k) => k.trim()).filter(Boolean),
    subjects,
    access_conditions: conditions,
  };
  if (named.length) patch.creators = named;
  return {patch, problems};
}
