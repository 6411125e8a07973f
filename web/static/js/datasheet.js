// A dataset version's datasheet: its members counted by site, sex and age band (subjects) and
// by modality, sequence type, manufacturer, field strength and annotations (series). Counts the
// caller may not know exactly read "fewer than k", as everywhere else.
import {anySuppressed, clear, countCell, h} from "./dom.js";

const NAMES = {
  site: "Site", sex: "Sex", age_band: "Age band (years)", modality: "Modality",
  sequence_type: "Sequence type", manufacturer: "Manufacturer", field_strength: "Field strength",
  annotations: "Annotations",
};

function dimensionTable(dimension) {
  const name = NAMES[dimension.name] || dimension.name.replaceAll("_", " ");
  return h("table", {class: "datasheet", "data-dimension": dimension.name},
    h("caption", {}, `${name} (${dimension.unit})`),
    h("thead", {}, h("tr", {}, h("th", {scope: "col"}, name), h("th", {scope: "col"}, dimension.unit))),
    h("tbody", {}, dimension.buckets.map((b) => h("tr", {},
      h("th", {scope: "row"}, b.value), countCell(b.count, "td")))));
}

export function renderDatasheet(root, sheet) {
  const counts = [sheet.subjects, sheet.series, ...sheet.dimensions.flatMap((d) => d.buckets.map((b) => b.count))];
  clear(root,
    h("dl", {class: "totals", id: "datasheet-totals"},
      h("div", {}, h("dt", {}, "Subjects"), countCell(sheet.subjects, "dd")),
      h("div", {}, h("dt", {}, "Series"), countCell(sheet.series, "dd"))),
    anySuppressed(...counts) ? h("p", {class: "note", id: "suppression-note"},
      `Fewer than ${sheet.threshold}: members of aggregate-only collections are counted, never listed, and a small count is hidden (with another beside it, so it cannot be worked out from the total).`) : null,
    h("div", {class: "datasheet-grid"}, sheet.dimensions.filter((d) => d.buckets.length).map(dimensionTable)));
}
