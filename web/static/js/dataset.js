// A dataset's page: its DOI state and the steps allowed in it (administrators, each confirmed),
// the metadata form, the datasheet, the manifest and the public landing page.
import {graphql, token} from "./api.js";
import {mountMetadata} from "./dataset-form.js";
import {renderDatasheet} from "./datasheet.js";
import {clear, h, when} from "./dom.js";
import {ACTIONS, allowedActions, latestVersion, STATES, stateBadge} from "./publishing.js";
import {mountSession} from "./session.js";

const COUNT = "value suppressed threshold atLeast display";
const DATASET = `query Dataset($key: String!) { dataset(key: $key) {
  id slug title description state conceptDoi provider doiRegistered openDoiFailures
  tombstonedAt tombstoneReason updatedAt metadata
  versions { id version doi state publishedAt frozenAt members }
  datasheet { threshold subjects { ${COUNT} } series { ${COUNT} }
    dimensions { name unit buckets { value count { ${COUNT} } } } } } }`;

const $ = (id) => document.getElementById(id);
const key = new URLSearchParams(location.search).get("id") || "";
let me = {anonymous: true, roles: []};

const isAdmin = () => me.roles.includes("admin");

function say(text) {
  $("status").textContent = text;
}

function doiLink(doi) {
  return doi ? h("a", {href: `https://doi.org/${doi}`, class: "doi"}, doi) : h("span", {class: "muted"}, "none yet");
}

function renderDoi(dataset) {
  const [, meaning] = STATES[dataset.state] || ["", ""];
  const provider = dataset.doiRegistered ? "DataCite" : "local (demo DOIs, registered nowhere)";
  clear($("doi"),
    h("dl", {class: "facts"},
      h("dt", {}, "State"), h("dd", {id: "doi-state"}, stateBadge(dataset.state), ` — ${meaning}`),
      h("dt", {}, "Concept DOI"), h("dd", {id: "concept-doi"}, doiLink(dataset.conceptDoi)),
      h("dt", {}, "DOI provider"), h("dd", {}, provider),
      dataset.openDoiFailures ? [h("dt", {}, "Registrar"), h("dd", {class: "warning"},
        `${dataset.openDoiFailures} DOI call(s) failed or are pending: retry with \`catalogue datasets retry ${dataset.slug}\`.`)] : null,
      dataset.tombstonedAt ? [h("dt", {}, "Withdrawn"), h("dd", {class: "warning"},
        `${when(dataset.tombstonedAt)}: ${dataset.tombstoneReason || ""}`)] : null),
    h("table", {id: "versions-table"},
      h("caption", {}, "Versions"),
      h("thead", {}, h("tr", {}, ["Version", "DOI", "State", "Frozen", "Published", "Series listed"].map((t) => h("th", {scope: "col"}, t)))),
      h("tbody", {}, dataset.versions.map((v) => h("tr", {"data-version": v.version},
        h("th", {scope: "row"}, v.version), h("td", {}, doiLink(v.doi)), h("td", {}, stateBadge(v.state)),
        h("td", {}, when(v.frozenAt)), h("td", {}, v.publishedAt ? when(v.publishedAt) : "not yet"), h("td", {}, String(v.members)))))));
}

/** Ask before a step; resolves to {reason} when confirmed, null when cancelled. */
function confirmStep(action, dataset) {
  const dialog = $("confirm");
  $("confirm-heading").textContent = `${action.label.replace("…", "")}?`;
  $("confirm-text").textContent = action.confirm(dataset);
  $("confirm-reason").hidden = !action.reason;
  $("reason").required = Boolean(action.reason);
  $("reason").value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const ok = dialog.returnValue === "confirm";
      resolve(ok ? {reason: $("reason").value.trim()} : null);
    }, {once: true});
    dialog.showModal();
    (action.reason ? $("reason") : $("confirm-yes")).focus();
  });
}

async function runStep(name, dataset) {
  const action = ACTIONS[name];
  const answer = await confirmStep(action, dataset);
  if (!answer) return say("Nothing was changed.");
  say(`${action.label.replace("…", "")}: waiting for the node…`);
  try {
    const variables = action.reason ? {id: dataset.id, reason: answer.reason} : {id: dataset.id};
    await graphql(action.mutation, variables);
    await load({form: false});
    say(action.done);
  } catch (error) {
    say("");
    clear($("error"), h("p", {role: "alert"}, `${action.label.replace("…", "")} refused: ${error.message}`));
  }
}

function renderActions(dataset) {
  if (!isAdmin()) return clear($("actions"));
  const names = allowedActions(dataset);
  clear($("actions"), names.map((name) => h("button", {type: "button", "data-action": name,
    class: name === "withdraw" ? "danger" : null, onclick: () => runStep(name, dataset)}, ACTIONS[name].label)));
}

function manifestLink(dataset, fmt) {
  const href = `/datasets/${encodeURIComponent(dataset.id)}/manifest.${fmt}`;
  const name = `${dataset.slug}-manifest.${fmt}`;
  // A link cannot carry the bearer token: signed in, fetch it with the token and save the file.
  return h("a", {href, download: name, "data-manifest": fmt, onclick: async (event) => {
    if (!token()) return;
    event.preventDefault();
    const reply = await fetch(href, {headers: {Authorization: `Bearer ${token()}`}});
    if (!reply.ok) return clear($("error"), h("p", {role: "alert"}, `The manifest could not be fetched (${reply.status}).`));
    const url = URL.createObjectURL(await reply.blob());
    const save = h("a", {href: url, download: name, hidden: true});
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }}, `Manifest (${fmt.toUpperCase()})`);
}

function renderLinks(dataset) {
  const published = dataset.versions.some((v) => v.publishedAt);
  const version = latestVersion(dataset);
  clear($("links"),
    h("li", {}, h("a", {href: `/id/dataset/${encodeURIComponent(dataset.id)}`, id: "landing-link"}, "Public landing page"),
      published ? " (citation, versions, access per site; works without JavaScript)" : h("span", {class: "muted"}, " — answers once a version is published")),
    h("li", {}, manifestLink(dataset, "csv"), " · ", manifestLink(dataset, "json"),
      h("div", {class: "muted"}, `Version ${version ? version.version : "–"}: one row per series you may see records of, with its access address at the site.`)));
}

/** Read the dataset again and show it; the form is rebuilt only when asked (a step leaves
 * edits in progress alone). */
async function load({form = true} = {}) {
  const {dataset} = await graphql(DATASET, {key});
  document.title = `${dataset.title} · Imaging catalogue`;
  $("title").textContent = dataset.title;
  renderDoi(dataset);
  renderActions(dataset);
  renderLinks(dataset);
  renderDatasheet($("datasheet"), dataset.datasheet);
  if (form) await mountMetadata($("metadata"), dataset, {admin: isAdmin(), saved: async () => { await load(); say("Metadata saved."); }});
  clear($("error"));
  return dataset;
}

function failed(error) {
  clear($("error"), h("p", {role: "alert"}, `The node refused: ${error.message}`));
}

mountSession($("session"), (identity) => {
  me = identity;
  load().catch(failed);
});
if (new URLSearchParams(location.search).get("created")) say("Dataset created: a draft, frozen now. Describe it, then reserve and publish its DOI.");
