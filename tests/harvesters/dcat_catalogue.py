"""A contract DCAT catalogue from the real files in ../shared/data/dcat-ap, served by
`partner_server`: any file as one document with its media type, and Hydra-paged catalogues
whose pages are real Turtle files with a `hydra:PartialCollectionView` added to each."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import SHARED_DATA
from tests.harvesters.partner_server import Reply

DCAT_DATA = SHARED_DATA / "dcat-ap"
CKAN = DCAT_DATA / "ckanext-dcat" / "examples" / "dcat"
SEMIC = DCAT_DATA / "SEMICeu-DCAT-AP-3.0.1" / "releases" / "3.0.1" / "html" / "examples"
MEDIA = {
    ".ttl": "text/turtle",
    ".rdf": "application/rdf+xml",
    ".jsonld": "application/ld+json",
}
PAGES = (
    CKAN / "dataset_health.ttl",
    CKAN / "dataset_health_multilingual.ttl",
    SEMIC / "example-bee-population-2022-2023.ttl",
)


def hydra_view(page_url: str, next_url: str | None) -> bytes:
    """Turtle saying that `page_url` is a partial view, and which page follows it."""
    hydra = "http://www.w3.org/ns/hydra/core#"
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    text = f"\n<{page_url}> <{rdf_type}> <{hydra}PartialCollectionView> .\n"
    if next_url is not None:
        text += f"<{page_url}> <{hydra}next> <{next_url}> .\n"
    return text.encode()


@dataclass
class Catalogue:
    """`documents`: path → (file, media type); `pages`: Turtle files served as
    `/catalog?page=N`, each linking to the next."""

    documents: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    pages: list[bytes] = field(default_factory=list)
    base: str = ""

    def serve_file(self, path: str, file: Path, media: str | None = None) -> None:
        self.documents[path] = (file.read_bytes(), media or MEDIA[file.suffix])

    def __call__(self, path: str, params: dict[str, str]) -> Reply:
        if path == "/catalog" and self.pages:
            number = int(params.get("page", "1"))
            if not 1 <= number <= len(self.pages):
                return Reply(status=404, body=b"no such page", content_type="text/plain")
            here = f"/catalog?page={number}"
            following = f"/catalog?page={number + 1}" if number < len(self.pages) else None
            body = self.pages[number - 1] + hydra_view(here, following)
            return Reply(body=body, content_type="text/turtle")
        if path in self.documents:
            body, media = self.documents[path]
            return Reply(body=body, content_type=media)
        return Reply(status=404, body=b"not found", content_type="text/plain")


def paged_catalogue() -> Catalogue:
    """Three real Turtle files as three Hydra pages: two HealthDCAT-AP datasets (one per
    page), then two DCAT-AP 3 example datasets."""
    return Catalogue(pages=[file.read_bytes() for file in PAGES])
