// The dataset list: title, DOI state, DOI, latest version, last change; 20 a page with the
// API's cursors. What is listed follows the API: administrators see drafts, others only
// datasets with a published version.
import {graphql} from "./api.js";
import {clear, h, when} from "./dom.js";
import {stateBadge} from "./publishing.js";
import {mountSession} from "./session.js";

const LIST = `query Datasets($after: String) { datasets(first: 20, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id slug title state conceptDoi updatedAt tombstonedAt
    versions { version doi state publishedAt } } } } }`;

const $ = (id) => document.getElementById(id);
const pager = {index: 0, cursors: [null]};
let me = {anonymous: true, roles: []};

function latest(dataset) {
  const versions = dataset.versions;
  return versions.length ? versions[versions.length - 1] : null;
}

function row(dataset) {
  const version = latest(dataset);
  const doi = dataset.conceptDoi;
  return h("tr", {"data-dataset": dataset.slug},
    h("th", {scope: "row"}, h("a", {href: `/dataset.html?id=${encodeURIComponent(dataset.id)}`}, dataset.title),
      h("div", {class: "muted"}, dataset.slug)),
    h("td", {}, stateBadge(dataset.state), dataset.tombstonedAt ? h("div", {class: "warning"}, "withdrawn") : null),
    h("td", {}, doi ? h("a", {href: `https://doi.org/${doi}`}, doi) : h("span", {class: "muted"}, "none yet")),
    h("td", {}, version ? `${version.version}${version.publishedAt ? "" : " (draft)"}` : "–"),
    h("td", {}, when(dataset.updatedAt)));
}

function table(connection) {
  const items = connection.edges.map((e) => e.node);
  if (!items.length) {
    const hint = me.roles.includes("admin") ? " Build a cohort in the cohort builder and choose “Create dataset from this cohort”." : "";
    return h("p", {}, `No datasets to show.${hint}`);
  }
  return [
    h("table", {id: "datasets-table"},
      h("caption", {}, `${connection.totalCount} dataset${connection.totalCount === 1 ? "" : "s"}`),
      h("thead", {}, h("tr", {}, ["Title", "State", "DOI", "Version", "Updated"].map((t) => h("th", {scope: "col"}, t)))),
      h("tbody", {}, items.map(row))),
    h("nav", {class: "pager", "aria-label": "Dataset pages"},
      h("button", {type: "button", disabled: pager.index === 0, onclick: () => { pager.index -= 1; load(); }}, "Previous 20"),
      h("button", {type: "button", disabled: !connection.pageInfo.hasNextPage, onclick: () => {
        pager.index += 1;
        pager.cursors[pager.index] = connection.pageInfo.endCursor;
        load();
      }}, "Next 20")),
  ];
}

async function load() {
  try {
    const {datasets} = await graphql(LIST, {after: pager.cursors[pager.index]});
    clear($("datasets"), table(datasets));
    clear($("error"));
  } catch (error) {
    clear($("error"), h("p", {role: "alert"}, `The node refused: ${error.message}`));
  }
}

mountSession($("session"), (identity) => {
  me = identity;
  pager.index = 0;
  pager.cursors = [null];
  load();
});
