// Saved cohorts: named criteria. Signed in, they are kept on the node for that person only
// (`savedCohorts`, `saveCohort`, `deleteSavedCohort`); anonymous, in this browser's localStorage.
import {graphql} from "./api.js";
import {clear, h} from "./dom.js";

const KEY = "catalogue.cohorts";
const COHORT = "id name urlState";
const LIST = `{ savedCohorts(first: 100) { edges { node { ${COHORT} } } } }`;
const SAVE = `mutation Save($name: String!, $query: JSON!, $urlState: String!) {
  saveCohort(name: $name, query: $query, urlState: $urlState) { ${COHORT} } }`;
const DELETE = "mutation Delete($id: ID!) { deleteSavedCohort(id: $id) }";

/** This browser's list: [{name, search}]. */
const browser = {
  load() {
    try {
      const saved = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch {
      return [];
    }
  },
  async list() {
    return this.load();
  },
  async save(name, {search}) {
    localStorage.setItem(KEY, JSON.stringify([...this.load().filter((e) => e.name !== name), {name, search}]));
  },
  async remove(entry) {
    localStorage.setItem(KEY, JSON.stringify(this.load().filter((e) => e.name !== entry.name)));
  },
};

/** The node's list for the signed-in person: [{id, name, search}]. */
const node = {
  async list() {
    const {savedCohorts} = await graphql(LIST);
    return savedCohorts.edges.map(({node: c}) => ({id: c.id, name: c.name, search: c.urlState}));
  },
  async save(name, {search, query}) {
    await graphql(SAVE, {name, query, urlState: search});
  },
  async remove(entry) {
    await graphql(DELETE, {id: entry.id});
  },
};

/** Render the saved list into `root`; `current()` gives `{search, query}` (the URL's criteria
 * and the cohort query they make), `open(search)` applies saved criteria. Returns
 * `{signedIn(me)}`, to call once the caller is known and after every sign-in or sign-out
 * (saving waits for the first call). */
export function mountSaved(root, current, open) {
  let where = browser;
  const name = h("input", {id: "cohort-name", required: true, maxlength: 120});
  const list = h("ul", {id: "saved-list"});
  const note = h("p", {class: "muted", id: "saved-where"});
  const status = h("p", {id: "saved-status", role: "status"});
  const save = h("button", {type: "submit", disabled: true}, "Save this cohort");

  async function render() {
    try {
      const entries = await where.list();
      clear(list, entries.map((entry) => h("li", {},
        h("a", {href: location.pathname + entry.search, onclick: (e) => { e.preventDefault(); open(entry.search); }}, entry.name),
        " ",
        h("button", {type: "button", "aria-label": `Forget ${entry.name}`, onclick: async () => {
          await act(() => where.remove(entry), `Forgot “${entry.name}”.`);
          name.focus();
        }}, "Forget"))));
    } catch (error) {
      clear(list);
      status.textContent = `Saved cohorts are unavailable: ${error.message}`;
    }
  }
  async function act(change, done) {
    try {
      await change();
      status.textContent = done;
    } catch (error) {
      status.textContent = `The node refused: ${error.message}`;
    }
    await render();
  }
  const form = h("form", {onsubmit: (e) => {
    e.preventDefault();
    const chosen = name.value.trim();
    name.value = "";
    act(() => where.save(chosen, current()), `Saved “${chosen}”.`);
  }}, h("label", {for: "cohort-name"}, "Name"), name, save);
  clear(root, note, form, status, list);

  function signedIn(me) {
    where = me && !me.anonymous ? node : browser;
    save.disabled = false;
    note.textContent = where === node
      ? `Kept on this node for ${me.subject}; only you see them.`
      : "Kept in this browser only: sign in to keep them on the node.";
    render();
  }
  // Until the page knows who is signed in, a cohort saved would go to the wrong place.
  note.textContent = "Checking whether you are signed in…";
  render();
  return {signedIn};
}
