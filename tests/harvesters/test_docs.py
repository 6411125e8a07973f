"""Every installed harvester has a page in docs/harvesters/ with a working example and every field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from harvesters.registry import installed

DOCS = Path(__file__).resolve().parents[2] / "docs" / "harvesters"


@pytest.mark.parametrize("kind", sorted(installed()))
def test_harvester_is_documented(kind: str) -> None:
    page = DOCS / f"{kind}.md"
    assert page.is_file(), f"docs/harvesters/{kind}.md is missing"
    text = page.read_text()
    config = installed()[kind].Config
    undocumented = [name for name in config.model_fields if f"`{name}`" not in text]
    assert undocumented == [], f"fields not described on the page: {undocumented}"
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert blocks, "the page needs an example sources file"
    example = yaml.safe_load(blocks[0])["sources"][0]
    assert example["kind"] == kind
    options = set(example) - {"name", "kind", "enabled", "description"}
    required = {name for name, field in config.model_fields.items() if field.is_required()}
    assert options <= set(config.model_fields), (
        f"unknown fields {options - set(config.model_fields)}"
    )
    assert required <= options, f"the example lacks required fields {required - options}"


def test_the_index_lists_every_page() -> None:
    index = (DOCS / "README.md").read_text()
    for kind in installed():
        assert f"({kind}.md)" in index
