// "Create dataset from this cohort" on the cohort builder, for administrators: the link carries
// the cohort's URL state (its criteria) to the dataset form, which freezes it.

const link = document.getElementById("create-dataset");

function point() {
  link.href = `/dataset-new.html${location.search}`;
}

document.addEventListener("catalogue:identity", (event) => {
  link.hidden = !(event.detail.roles || []).includes("admin");
  point();
});
// The builder changes the address with history.pushState (no event): point the link at the
// criteria whenever someone is about to follow it.
for (const name of ["pointerenter", "focus", "mousedown", "touchstart"]) link.addEventListener(name, point);
