// The harvest dashboard: sources with their last run and freshness, recent runs with errors,
// and (administrators) a button to start a harvest.
import {graphql} from "./api.js";
import {clear, h, when} from "./dom.js";
import {mountSession} from "./session.js";

const RUN = `id source status startedAt finishedAt complete seen added updated unchanged deleted failed
  errors { nativeId reason }`;
const SOURCES = `{ sources(first: 100) { edges { node {
  name kind siteSlug description enabled configured harvesting lastSuccessAt bookmarkAt freshnessSeconds
  lastRun { ${RUN} } } } } }`;
const RUNS = `{ harvestRuns(first: 25) { edges { node { ${RUN} } } } }`;
const START = "mutation Start($source: String!) { startHarvest(source: $source) { source startedAt } }";

const $ = (id) => document.getElementById(id);
let me = {anonymous: true, roles: []};
let polling;
let wasBusy = false;
// Harvests started here whose run the node has not listed yet: source name -> start time (ms).
const awaited = new Map();

function age(seconds) {
  if (seconds === null || seconds === undefined) return "never succeeded";
  if (seconds < 120) return `${Math.round(seconds)} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

function status(run) {
  if (!run) return h("span", {class: "muted"}, "never run");
  const label = run.status.toLowerCase();
  return h("span", {class: `status-${label}`}, label, run.complete || run.status === "RUNNING" ? "" : " (incomplete)");
}

function counts(run) {
  if (!run) return "";
  return `${run.seen} seen · ${run.added} added · ${run.updated} updated · ${run.unchanged} unchanged · ${run.deleted} deleted · ${run.failed} failed`;
}

function errors(run) {
  if (!run || !run.errors || !run.errors.length) return null;
  return h("details", {}, h("summary", {}, `${run.errors.length} record errors`),
    h("ul", {}, run.errors.map((e) => h("li", {}, e.nativeId ? h("code", {}, e.nativeId) : "", e.nativeId ? ": " : "", e.reason))));
}

function startButton(source) {
  if (!me.roles.includes("admin")) return null;
  return h("button", {type: "button", "data-start": source.name, disabled: source.harvesting || !source.enabled,
    onclick: async (event) => {
      event.target.disabled = true;
      try {
        const {startHarvest} = await graphql(START, {source: source.name});
        $("error").replaceChildren(h("p", {role: "status"}, `Harvest of ${source.name} started.`));
        awaited.set(source.name, Date.parse(startHarvest.startedAt));
        poll();
      } catch (error) {
        $("error").replaceChildren(h("p", {role: "alert"}, `Could not start ${source.name}: ${error.message}`));
        event.target.disabled = false;
      }
    }}, source.harvesting ? "Harvesting…" : "Start harvest");
}

function sourceRow(source) {
  const run = source.lastRun;
  return h("tr", {"data-source": source.name},
    h("th", {scope: "row"}, source.name, h("div", {class: "muted"}, source.description)),
    h("td", {}, source.kind), h("td", {}, source.siteSlug || ""),
    h("td", {}, status(run), h("div", {class: "muted"}, run ? `started ${when(run.startedAt)}` : "")),
    h("td", {}, counts(run), errors(run)),
    h("td", {}, source.harvesting ? "harvesting now" : age(source.freshnessSeconds),
      source.configured ? "" : h("div", {class: "muted"}, "no longer configured"),
      source.enabled ? "" : h("div", {class: "muted"}, "disabled")),
    h("td", {}, startButton(source)));
}

function sourcesTable(sources) {
  if (!sources.length) return h("p", {}, "This node harvests no sources yet (see the sources file).");
  return h("table", {id: "sources-table"},
    h("thead", {}, h("tr", {}, ["Source", "Kind", "Site", "Last run", "Counts", "Last success", ""].map((t) => h("th", {scope: "col"}, t)))),
    h("tbody", {}, sources.map(sourceRow)));
}

function runsTable(runs) {
  if (!runs.length) return h("p", {}, "No runs yet.");
  return h("table", {id: "runs-table"},
    h("thead", {}, h("tr", {}, ["Source", "Status", "Started", "Finished", "Counts"].map((t) => h("th", {scope: "col"}, t)))),
    h("tbody", {}, runs.map((run) => h("tr", {},
      h("th", {scope: "row"}, run.source), h("td", {}, status(run)), h("td", {}, when(run.startedAt)),
      h("td", {}, run.finishedAt ? when(run.finishedAt) : "running"), h("td", {}, counts(run), errors(run))))));
}

async function refresh() {
  try {
    const [{sources}, {harvestRuns}] = await Promise.all([graphql(SOURCES), graphql(RUNS)]);
    const list = sources.edges.map((e) => e.node);
    const runs = harvestRuns.edges.map((e) => e.node);
    clear($("sources"), sourcesTable(list));
    clear($("runs"), runsTable(runs));
    // Judged on the runs table itself: the two answers may straddle a short run's start and end.
    for (const [name, since] of awaited) {
      if (runs.some((r) => r.source === name && Date.parse(r.startedAt) >= since - 1000)) awaited.delete(name);
      else if (Date.now() - since > WAIT_MS) {
        awaited.delete(name);
        $("error").replaceChildren(h("p", {role: "status"},
          `The run of ${name} is not listed after ${WAIT_MS / 60_000} minutes: reload the page later.`));
      }
    }
    // One more look after the last harvest ends, so the runs table shows how it finished.
    const busy = list.some((s) => s.harvesting) || awaited.size > 0;
    const again = busy || wasBusy;
    wasBusy = busy;
    return again;
  } catch (error) {
    clear($("error"), h("p", {role: "alert"}, `The node refused: ${error.message}`));
    return false;
  }
}

/** A busy node may take a while to begin a run it accepted; the page waits this long for it. */
const WAIT_MS = 10 * 60_000;

/** Refresh every two seconds while a harvest runs or one started here is not listed yet. */
async function poll() {
  clearTimeout(polling);
  if (await refresh()) polling = setTimeout(poll, 2000);
}

mountSession($("session"), (identity) => { me = identity; poll(); });
