"""The DataCite client against the contract server, and the server against DataCite's recorded
JSON: JSON:API shape, states and events, errors."""

from __future__ import annotations

import httpx
import pytest

from catalogue.publishing.datacite import DataCiteProvider
from catalogue.publishing.providers import (
    DoiCredentialsError,
    DoiNotFoundError,
    DoiRejectedError,
    DoiUnavailableError,
    RemoteState,
)
from tests.publishing.conftest import PASSWORD, PREFIX, REPOSITORY, recorded
from tests.publishing.datacite_server import DataCiteContract

COMPLETE = {
    "creators": [{"name": "Fenner, Martin", "nameType": "Personal"}],
    "titles": [{"title": "Brain MR"}],
    "publisher": "Imaging Consortium",
    "publicationYear": 2026,
    "types": {"resourceTypeGeneral": "Dataset"},
    "url": "https://node.example.org/id/dataset/1",
}


def test_served_documents_have_the_recorded_shape(
    contract: DataCiteContract, provider: DataCiteProvider, datacite_url: str
) -> None:
    document = recorded("datacite_api_doi.json")
    contract.seed(document, "datacite.blog")
    seeded = httpx.get(f"{datacite_url}/dois/10.5438/prvv-nv23").json()
    assert seeded["data"]["attributes"] == document["data"]["attributes"]  # type: ignore[index]

    provider.reserve(f"{PREFIX}/abc-1", COMPLETE)
    mine = httpx.get(f"{datacite_url}/dois/{PREFIX}/abc-1", auth=(REPOSITORY, PASSWORD)).json()
    ours, theirs = mine["data"], document["data"]  # type: ignore[index]
    assert ours.keys() >= {"id", "type", "attributes", "relationships"} and ours["type"] == "dois"
    assert set(ours["attributes"]) <= set(theirs["attributes"])  # type: ignore[index]
    assert ours["relationships"]["client"]["data"] == {"id": REPOSITORY, "type": "clients"}
    listing = httpx.get(f"{datacite_url}/dois", params={"client-id": "datacite.blog"}).json()
    assert listing["meta"]["total"] == 1 and listing["data"][0]["id"] == "10.5438/prvv-nv23"


def test_states_follow_datacites_events(
    contract: DataCiteContract, provider: DataCiteProvider
) -> None:
    doi = f"{PREFIX}/states"
    assert provider.reserve(doi, {}).state is RemoteState.DRAFT
    assert provider.reserve(doi, {"titles": [{"title": "again"}]}).state is RemoteState.DRAFT
    assert provider.register(doi, COMPLETE).state is RemoteState.REGISTERED
    assert provider.publish(doi, COMPLETE).state is RemoteState.FINDABLE
    with pytest.raises(DoiRejectedError) as refused:
        provider.delete(doi)  # only drafts may be deleted
    assert refused.value.status == 405
    assert provider.hide(doi).state is RemoteState.REGISTERED
    with pytest.raises(DoiRejectedError, match="422"):
        provider.register(doi, COMPLETE)  # registered → registered is no transition
    provider.reserve(f"{PREFIX}/gone", {})
    provider.delete(f"{PREFIX}/gone")
    assert f"{PREFIX}/gone" not in contract.dois


def test_validation_errors_name_their_source(provider: DataCiteProvider) -> None:
    with pytest.raises(DoiRejectedError) as refused:
        provider.publish(f"{PREFIX}/thin", {"titles": [{"title": "only a title"}]})
    sources = {d.location for d in refused.value.details}
    assert sources == {"url", "creators", "publisher", "publicationYear", "types"}
    assert refused.value.status == 422 and not refused.value.retriable
    with pytest.raises(DoiRejectedError) as bad_type:
        provider.reserve(f"{PREFIX}/odd", {"types": {"resourceTypeGeneral": "Spreadsheet"}})
    assert [d.location for d in bad_type.value.details] == ["types"]


def test_credentials_ownership_and_missing_dois(
    contract: DataCiteContract, provider: DataCiteProvider, datacite_url: str
) -> None:
    wrong = DataCiteProvider(datacite_url, REPOSITORY, "nope", PREFIX, timeout=5)
    with pytest.raises(DoiCredentialsError) as denied:
        wrong.reserve(f"{PREFIX}/x", {})
    assert denied.value.status == 401
    wrong.close()
    with pytest.raises(DoiCredentialsError) as foreign_prefix:
        provider.reserve("10.80002/theirs", {})
    assert foreign_prefix.value.status == 403
    other = DataCiteProvider(datacite_url, "other.repository", "other-pass", "10.80002", timeout=5)
    other.reserve("10.80002/theirs", {})
    with pytest.raises(DoiCredentialsError):
        provider.update("10.80002/theirs", COMPLETE)
    other.close()
    with pytest.raises(DoiNotFoundError):
        provider.get(f"{PREFIX}/never")
    with pytest.raises(DoiNotFoundError):
        provider.delete(f"{PREFIX}/never")


def test_malformed_bodies_and_outages(
    contract: DataCiteContract, provider: DataCiteProvider, datacite_url: str
) -> None:
    auth = (REPOSITORY, PASSWORD)
    answer = httpx.post(f"{datacite_url}/dois", content=b"{not json", auth=auth)
    assert answer.status_code == 400 and answer.json()["errors"][0]["status"] == "400"
    answer = httpx.post(f"{datacite_url}/dois", json={"data": {"type": "clients"}}, auth=auth)
    assert answer.status_code == 400
    contract.fail_next(503)
    with pytest.raises(DoiUnavailableError) as outage:
        provider.reserve(f"{PREFIX}/later", {})
    assert outage.value.retriable and outage.value.status == 503
    assert provider.reserve(f"{PREFIX}/later", {}).state is RemoteState.DRAFT
    closed = DataCiteProvider("http://127.0.0.1:9", REPOSITORY, PASSWORD, PREFIX, timeout=2)
    with pytest.raises(DoiUnavailableError, match="did not answer"):
        closed.reserve(f"{PREFIX}/nowhere", {})
    closed.close()
