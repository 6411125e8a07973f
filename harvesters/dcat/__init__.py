"""DCAT / DCAT-AP catalogue harvesting (Turtle, RDF/XML, JSON-LD; Hydra paging)."""
