"""DCAT harvests through the runner into a real store: every run walks the whole catalogue,
unchanged datasets are not rewritten, datasets the catalogue drops are deleted after complete
runs, and a run stopped by a broken page deletes nothing."""

from __future__ import annotations

from sqlmodel import col, select

from catalogue.models import Dataset, RunStatus
from catalogue.services.ingest import DeletionPolicy, IngestService
from catalogue.sources import SourceSpec
from catalogue.store import Store
from harvesters.dcat.harvester import DcatHarvester
from harvesters.runner import Runner
from tests.harvesters.dcat_catalogue import CKAN, paged_catalogue
from tests.harvesters.partner_server import serving


def _runner(store: Store) -> Runner:
    store.ensure_site("hub", "Hub")
    return Runner(
        IngestService(store),
        "hub",
        pseudonym_secret=None,
        policy=DeletionPolicy(after_missed_runs=1),
        kinds={"dcat": DcatHarvester},
    )


def _spec(url: str) -> SourceSpec:
    return SourceSpec(
        name="partner-catalogue",
        kind="dcat",
        options={"url": f"{url}/catalog", "retry_wait_s": 0.01, "retries": 1},
    )


def _live(store: Store) -> set[str]:
    with store.session() as session:
        rows = session.exec(select(Dataset.native_id).where(col(Dataset.deleted_at).is_(None)))
        return {n for n in rows if n}


def test_complete_runs_keep_the_store_equal_to_the_catalogue(store: Store) -> None:
    runner, catalogue = _runner(store), paged_catalogue()
    with serving(catalogue) as server:
        first = runner.run(_spec(server.url))
        assert (first.status, first.added, first.complete) == (RunStatus.SUCCEEDED, 4, True)
        again = runner.run(_spec(server.url))
        assert (again.added, again.updated, again.unchanged) == (0, 0, 4)

        catalogue.pages = catalogue.pages[:2]  # the partner drops its last page's two datasets
        third = runner.run(_spec(server.url))
    assert (third.status, third.deleted) == (RunStatus.SUCCEEDED, 2)
    assert _live(store) == {
        "http://example.healthdata.nl/set/dataset",
        "http://example.test/dataset/1",
    }


def test_a_run_stopped_by_a_broken_page_deletes_nothing(store: Store) -> None:
    runner, catalogue = _runner(store), paged_catalogue()
    with serving(catalogue) as server:
        runner.run(_spec(server.url))
        catalogue.pages[1] = (CKAN / "dataset.ttl").read_bytes()  # broken upstream
        broken = runner.run(_spec(server.url))
    assert (broken.status, broken.deleted, broken.failed) == (RunStatus.PARTIAL, 0, 1)
    assert "not valid Turtle" in broken.errors[0]["reason"]
    assert len(_live(store)) == 4
