"""Every installed harvester has a page in docs/harvesters/: an example and its fields table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from catalogue.sources import SOURCE_FIELDS
from harvesters.registry import fields_table, installed

DOCS = Path(__file__).resolve().parents[2] / "docs" / "harvesters"


@pytest.mark.parametrize("kind", sorted(installed()))
def test_harvester_is_documented(kind: str) -> None:
    page = DOCS / f"{kind}.md"
    assert page.is_file(), f"docs/harvesters/{kind}.md is missing"
    text = page.read_text()
    config = installed()[kind].Config
    table = re.search(r"<!-- fields:start -->\n(.*?)\n<!-- fields:end -->", text, re.S)
    assert table is not None, "the page needs a generated fields table"
    assert table.group(1) == fields_table(config), f"run `catalogue sources kinds {kind}`"
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert blocks, "the page needs an example sources file"
    example = yaml.safe_load(blocks[0])["sources"][0]
    assert example["kind"] == kind
    options = set(example) - SOURCE_FIELDS
    required = {name for name, field in config.model_fields.items() if field.is_required()}
    assert options <= set(config.model_fields), (
        f"unknown fields {options - set(config.model_fields)}"
    )
    assert required <= options, f"the example lacks required fields {required - options}"


def test_the_index_lists_every_page() -> None:
    index = (DOCS / "README.md").read_text()
    for kind in installed():
        assert f"({kind}.md)" in index
