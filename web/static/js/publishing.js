// What the dataset pages share: the DOI states as people read them, and which steps an
// administrator may take in each (the API refuses the others anyway).
import {h} from "./dom.js";

export const STATES = {
  DRAFT: ["draft", "no DOI yet"],
  RESERVED: ["DOI reserved", "shown, not public: it does not resolve yet"],
  REGISTERED: ["registered", "the DOI resolves, but is not in the registrar's search"],
  FINDABLE: ["findable", "the DOI resolves and is in the registrar's search"],
  HIDDEN: ["hidden", "the DOI resolves; taken out of the registrar's search"],
};

export function stateBadge(state) {
  const [label, meaning] = STATES[state] || [state.toLowerCase(), ""];
  return h("span", {class: `state state-${state.toLowerCase()}`, title: meaning, "data-state": state}, label);
}

export function latestVersion(dataset) {
  return dataset.versions[dataset.versions.length - 1] || null;
}

const STEP = (name) => `mutation Step($id: ID!) { ${name}(id: $id) { id state } }`;

/** Each step: its button, what the confirmation says, and the mutation it sends. */
export const ACTIONS = {
  reserve: {
    label: "Reserve DOI",
    confirm: (d) => `Reserve the concept DOI and version ${latestVersion(d).version}'s DOI at ${d.provider === "datacite" ? "DataCite" : "the local provider"}? They are shown, but do not resolve until published.`,
    mutation: STEP("reserveDatasetDoi"),
    done: "DOIs reserved.",
  },
  publish: {
    label: "Publish",
    confirm: (d) => `Publish version ${latestVersion(d).version}? Its DOI becomes findable and the dataset public; its members and metadata are fixed for good.`,
    mutation: STEP("publishDataset"),
    done: "Published: the DOI is findable.",
  },
  newVersion: {
    label: "New version",
    confirm: (d) => `Make version ${Number(latestVersion(d).version) + 1}, a draft? The cohort query is run again now; earlier versions keep their members.`,
    mutation: STEP("newDatasetVersion"),
    done: "A new draft version was frozen.",
  },
  hide: {
    label: "Hide",
    confirm: () => "Hide the findable DOIs? They keep resolving, but leave the registrar's search.",
    mutation: STEP("hideDataset"),
    done: "Hidden from the registrar's search.",
  },
  withdraw: {
    label: "Withdraw…",
    confirm: () => "Withdraw this dataset? It leaves a tombstone with your reason; reserved DOIs are deleted and findable ones hidden. This cannot be undone.",
    mutation: "mutation Withdraw($id: ID!, $reason: String!) { withdrawDataset(id: $id, reason: $reason) { id state } }",
    reason: true,
    done: "Withdrawn: the dataset's page now shows the tombstone.",
  },
};

/** The steps an administrator may take on `dataset` as it stands. */
export function allowedActions(dataset) {
  if (dataset.tombstonedAt) return [];
  const latest = latestVersion(dataset);
  const draft = latest && !latest.publishedAt;
  const actions = [];
  if (draft && !latest.doi) actions.push("reserve");
  if (draft) actions.push("publish");
  if (latest && !draft) actions.push("newVersion");
  if (dataset.versions.some((v) => v.state === "FINDABLE")) actions.push("hide");
  actions.push("withdraw");
  return actions;
}
