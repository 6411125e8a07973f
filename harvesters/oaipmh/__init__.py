"""OAI-PMH 2.0 harvesting of partner repositories (`oai_dc`, `oai_datacite`, `datacite`)."""
