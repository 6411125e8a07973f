// Saved cohorts: named links to criteria, kept in this browser's localStorage.
import {clear, h} from "./dom.js";

const KEY = "catalogue.cohorts";

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(saved) ? saved : [];
  } catch {
    return [];
  }
}

function store(saved) {
  localStorage.setItem(KEY, JSON.stringify(saved));
}

/** Render the saved list into `root`; `current()` gives the criteria to save, `open(search)`
 * applies saved criteria. */
export function mountSaved(root, current, open) {
  const name = h("input", {id: "cohort-name", required: true, maxlength: 80});
  const list = h("ul", {id: "saved-list"});
  function render() {
    clear(list, load().map((entry, i) => h("li", {},
      h("a", {href: location.pathname + entry.search, onclick: (e) => { e.preventDefault(); open(entry.search); }}, entry.name),
      " ",
      h("button", {type: "button", "aria-label": `Forget ${entry.name}`, onclick: () => {
        const saved = load();
        saved.splice(i, 1);
        store(saved);
        render();
      }}, "Forget"))));
  }
  const form = h("form", {onsubmit: (e) => {
    e.preventDefault();
    store([...load().filter((entry) => entry.name !== name.value), {name: name.value, search: current()}]);
    name.value = "";
    render();
  }}, h("label", {for: "cohort-name"}, "Name"), name, h("button", {type: "submit"}, "Save this cohort"));
  clear(root, form, list);
  render();
}
