"""OAI-PMH 2.0 provider (`oai_dc`, `oai_datacite`) over the node's published datasets."""

from catalogue.exports.oaipmh.provider import OaiConfig, OaiProvider
from catalogue.exports.oaipmh.sets import assign_sets

__all__ = ["OaiConfig", "OaiProvider", "assign_sets"]
