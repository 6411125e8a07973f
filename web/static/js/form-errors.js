// Problems with a form, shown where they are: next to the field the location names
// (`creators[0].orcid`, as the API locates them in `extensions.details`) and in a summary at the
// top of the form, which takes the focus so keyboard and screen-reader users land on it.
import {clear, h} from "./dom.js";

/** The located problems of an API error, or [] when it names no field. */
export function detailsOf(error) {
  return (error.errors || []).flatMap((e) => (e.extensions && e.extensions.details) || []);
}

/** The element a location names: itself, or the nearest enclosing part the form shows
 * (`keywords[3]` → the keywords field, `access_conditions[0].who` → that site's field). */
function locate(form, location) {
  let loc = location;
  while (loc) {
    const found = form.querySelector(`[data-loc="${CSS.escape(loc)}"]`);
    if (found) return found;
    const cut = Math.max(loc.lastIndexOf("."), loc.lastIndexOf("["));
    loc = cut > 0 ? loc.slice(0, cut) : "";
  }
  return null;
}

function nameOf(form, el) {
  if (el.tagName === "FIELDSET") return el.querySelector("legend").textContent;
  const label = form.querySelector(`label[for="${CSS.escape(el.id)}"]`);
  return label ? label.textContent : el.id;
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const described = (el.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.endsWith("-error"));
    if (described.length) el.setAttribute("aria-describedby", described.join(" "));
    else el.removeAttribute("aria-describedby");
  }
  clear(form.querySelector("[id$=form-errors]"));
}

/** Show `problems` (a list of {location, message}, or an API error) in `form`. */
export function showErrors(form, problems) {
  clearErrors(form);
  const list = Array.isArray(problems) ? problems : detailsOf(problems);
  const summary = form.querySelector("[id$=form-errors]");
  const items = list.map(({location, message}) => {
    const target = locate(form, location);
    if (!target) return h("li", {}, location ? `${location}: ${message}` : message);
    const id = `${target.id}-error`;
    const note = form.querySelector(`#${CSS.escape(id)}`) || h("p", {class: "field-error", id}, "");
    note.textContent = note.textContent ? `${note.textContent} ${message}` : message;
    if (target.tagName === "FIELDSET") target.append(note);
    else target.insertAdjacentElement("afterend", note);
    target.setAttribute("aria-invalid", "true");
    target.setAttribute("aria-describedby", [target.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
    return h("li", {}, h("a", {href: `#${target.id}`}, `${nameOf(form, target)}: ${message}`));
  });
  const general = Array.isArray(problems) || list.length ? [] : [h("li", {}, problems.message)];
  clear(summary, h("div", {class: "error-summary", role: "alert"},
    h("h2", {}, `Not saved: ${items.length + general.length} problem${items.length + general.length === 1 ? "" : "s"}`),
    h("ul", {}, items, general)));
  summary.focus();
}
