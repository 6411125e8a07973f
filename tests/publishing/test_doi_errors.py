"""DataCite's refusals and outages reach the dataset, stay there, and a retry clears them."""

from __future__ import annotations

import pytest

from catalogue.errors import ConflictError
from catalogue.models import DoiState
from catalogue.models.publishing import DoiAction, DoiTaskStatus
from catalogue.publishing.datacite import DataCiteProvider
from catalogue.publishing.service import DatasetService
from tests.publishing.conftest import ADMIN, FROZEN, PREFIX, REPOSITORY, Node
from tests.publishing.datacite_server import DataCiteContract

CREATOR = {"creators": [{"name": "Imaging Consortium", "organisation": True}]}
NORTH_MR = {"filter": {"op": "term", "field": "site", "value": "north"}}


def _create(service: DatasetService, slug: str, metadata: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    spec = {"slug": slug, "title": f"Dataset {slug}", "query": NORTH_MR, "metadata": metadata}
    return service.create(ADMIN, spec)


def test_incomplete_metadata_is_refused_with_pointers_then_fixed_and_retried(
    service: DatasetService, contract: DataCiteContract
) -> None:
    created = _create(service, "no-creators")
    reserved = service.reserve(ADMIN, created.id)
    assert reserved.failures == [] and reserved.state is DoiState.RESERVED  # drafts need little

    refused = service.publish(ADMIN, created.id)
    assert refused.versions[0].state is DoiState.RESERVED
    failure = next(f for f in refused.failures if f.version == "1")
    assert failure.action is DoiAction.PUBLISH and failure.status is DoiTaskStatus.FAILED
    assert not failure.retriable and "422" in (failure.error or "")
    assert {"location": "creators", "message": failure.details[0]["message"]} in failure.details

    fixed = service.edit(ADMIN, created.id, CREATOR)
    assert fixed.failures  # the edit alone does not publish
    retried = service.retry(ADMIN, created.id)
    assert retried.failures == []
    assert retried.state is DoiState.FINDABLE and retried.versions[0].state is DoiState.FINDABLE
    assert contract.dois[retried.versions[0].doi]["creators"][0]["name"] == "Imaging Consortium"  # type: ignore[index]


def test_wrong_password_is_recorded_not_raised(node: Node, datacite_url: str) -> None:
    bad = DataCiteProvider(datacite_url, REPOSITORY, "wrong", PREFIX, timeout=5)
    service = DatasetService(node.store, node.search, bad, publisher="x", clock=lambda: FROZEN)
    created = _create(service, "bad-password", CREATOR)
    shown = service.reserve(ADMIN, created.id)
    assert shown.state is DoiState.DRAFT
    assert {f.action for f in shown.failures} == {DoiAction.RESERVE}
    assert all("credentials" in (f.error or "") and not f.retriable for f in shown.failures)
    assert "wrong" not in str(shown.model_dump())
    bad.close()


def test_outage_is_retried_until_it_succeeds(
    service: DatasetService, contract: DataCiteContract
) -> None:
    created = _create(service, "outage", CREATOR)
    contract.fail_next(503, times=3)
    shown = service.publish(ADMIN, created.id)
    assert shown.failures and all(f.retriable for f in shown.failures)
    assert all("503" in (f.error or "") for f in shown.failures)
    assert shown.versions[0].state is DoiState.DRAFT
    contract.fail_next(502)
    again = service.retry(ADMIN, created.id)
    assert again.failures and again.failures[0].attempts == 2
    done = service.retry(ADMIN, created.id)
    assert done.failures == []
    assert done.state is DoiState.FINDABLE and done.versions[0].state is DoiState.FINDABLE
    assert contract.dois[done.versions[0].doi]["state"] == "findable"  # type: ignore[index]


def test_hide_and_withdraw_leave_dois_resolving(
    service: DatasetService, contract: DataCiteContract
) -> None:
    created = _create(service, "withdrawn", CREATOR)
    service.publish(ADMIN, created.id)
    service.new_version(ADMIN, created.id)
    service.reserve(ADMIN, created.id)
    shown = service.hide(ADMIN, created.id, version="1")
    v1, v2 = shown.versions
    assert v1.state is DoiState.HIDDEN and contract.dois[v1.doi]["state"] == "registered"  # type: ignore[index]
    gone = service.delete(ADMIN, created.id, "consent withdrawn at one site")
    assert gone.tombstoned_at is not None and gone.failures == []
    assert gone.versions[1].doi is None and v2.doi not in contract.dois  # a draft DOI is deleted
    assert contract.dois[gone.concept_doi]["state"] == "registered"  # type: ignore[index]
    with pytest.raises(ConflictError):
        service.edit(ADMIN, created.id, {"keywords": ["x"]})


@pytest.fixture
def local_service(node: Node) -> DatasetService:
    from catalogue.publishing.providers import LocalProvider

    return DatasetService(
        node.store, node.search, LocalProvider("10.5072"), publisher="demo", clock=lambda: FROZEN
    )


def test_local_provider_mints_demo_dois_marked_unregistered(local_service: DatasetService) -> None:
    created = _create(local_service, "demo", CREATOR)
    shown = local_service.publish(ADMIN, created.id)
    assert shown.state is DoiState.FINDABLE and shown.concept_doi.startswith("10.5072/")  # type: ignore[union-attr]
    assert shown.provider == "local" and shown.doi_registered is False


def test_hidden_dois_are_published_again(
    service: DatasetService, contract: DataCiteContract
) -> None:
    created = _create(service, "rehidden", CREATOR)
    service.publish(ADMIN, created.id, findable=False)
    registered = service.show(ADMIN, created.id)
    assert registered.state is registered.versions[0].state is DoiState.REGISTERED
    again = service.publish(ADMIN, created.id)
    assert again.state is again.versions[0].state is DoiState.FINDABLE
    hidden = service.hide(ADMIN, created.id)
    assert hidden.state is hidden.versions[0].state is DoiState.HIDDEN
    assert contract.dois[hidden.concept_doi]["state"] == "registered"  # type: ignore[index]
    shown = service.publish(ADMIN, created.id)
    assert shown.failures == [] and shown.versions[0].state is DoiState.FINDABLE
    with pytest.raises(ConflictError):
        service.publish(ADMIN, created.id)  # findable already: a new version is needed


def test_edits_reach_the_concept_and_latest_version_only(
    node: Node, service: DatasetService, contract: DataCiteContract
) -> None:
    created = _create(service, "edited", CREATOR)
    service.publish(ADMIN, created.id)
    service.new_version(ADMIN, created.id)
    shown = service.publish(ADMIN, created.id)
    concept, v1, v2 = shown.concept_doi, shown.versions[0].doi, shown.versions[1].doi
    edited = service.edit(ADMIN, created.id, {"titles": ["Corrected title"], "license": "CC0-1.0"})
    assert edited.failures == [] and edited.title == "Corrected title"
    for doi in (concept, v2):
        assert contract.dois[doi]["titles"] == [{"title": "Corrected title"}]  # type: ignore[index]
        assert contract.dois[doi]["rightsList"][0]["rightsIdentifier"] == "CC0-1.0"  # type: ignore[index]
    assert contract.dois[v1]["titles"] == [{"title": "Dataset edited"}]  # type: ignore[index]


def test_a_call_left_pending_by_a_crash_is_retried(
    node: Node, service: DatasetService, contract: DataCiteContract
) -> None:
    from catalogue.models import Dataset
    from catalogue.publishing.doi_sync import queue

    created = _create(service, "crashed", CREATOR)
    with node.store.session() as session:
        dataset = session.get(Dataset, created.id)
        assert dataset is not None
        dataset.concept_doi = f"{PREFIX}/crashed-before-the-call"
        queue(session, dataset, None, DoiAction.RESERVE)  # committed, never called
    pending = service.show(ADMIN, created.id).failures
    assert [(f.action, f.status) for f in pending] == [(DoiAction.RESERVE, DoiTaskStatus.PENDING)]
    assert service.retry(ADMIN, created.id).state is DoiState.RESERVED
    assert contract.dois[f"{PREFIX}/crashed-before-the-call"]["state"] == "draft"
