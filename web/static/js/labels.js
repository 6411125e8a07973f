// How field names and values read for people.

const NAMES = {
  modality: "Modality", body_part: "Body part", sequence_type: "Sequence type", diagnosis: "Diagnosis",
  sex: "Sex", site: "Site", collection: "Collection", manufacturer: "Manufacturer",
  field_strength_t: "Field strength (T)", annotations: "Annotations available", year: "Year of acquisition",
  species: "Species", contrast_agent: "Contrast agent", age_years: "Age at study (years)",
  study_year: "Year of study", slice_thickness_mm: "Slice thickness (mm)", model_name: "Scanner model",
  repetition_time_ms: "Repetition time (ms)", echo_time_ms: "Echo time (ms)",
  inversion_time_ms: "Inversion time (ms)", flip_angle_deg: "Flip angle (°)", image_type: "Image type",
  sop_class_uids: "SOP class UID", instance_count: "Instances", birth_year: "Birth year", group: "Group",
  strain: "Strain",
};

export function fieldLabel(name) {
  return NAMES[name] || name.replaceAll("_", " ");
}

/** Names for values that are identifiers: sites by slug, collections by id. */
export const valueNames = {site: new Map(), collection: new Map()};

export function valueLabel(field, value) {
  if (value === true) return "yes";
  if (value === false) return "no";
  return (valueNames[field] && valueNames[field].get(String(value))) || String(value);
}
