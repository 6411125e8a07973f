"""The sources file: a YAML list of sources to harvest, checked at load with located errors.

```yaml
sources:
  - name: pacs-export          # unique slug
    kind: dicom-folder         # a registered harvester kind
    path: /data/export         # the kind's own fields, checked against its Config
```
Every error names the file, the line and the field, e.g.
`sources.yaml:7: sources[1].path: Field required`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic import ValidationError as PydanticValidationError

from catalogue.errors import ConfigurationError, ErrorDetail

YamlPath = tuple[str | int, ...]
SOURCE_FIELDS = frozenset({"name", "kind", "enabled", "description", "site"})


class SourceSpec(BaseModel):
    """One configured source; `options` were validated by the kind's Config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    kind: str
    enabled: bool = True
    description: str = ""
    # the site the records belong to, when not this node's (a hub's `peer` source names its site)
    site: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    options: dict[str, Any] = Field(default_factory=dict)


def load_sources(path: Path, configs: Mapping[str, type[BaseModel]]) -> list[SourceSpec]:
    """Read and check `path`; `configs` maps each available kind to its Config model."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read sources file {path}: {exc.strerror}") from None
    return parse_sources(text, configs, origin=str(path))


def parse_sources(
    text: str, configs: Mapping[str, type[BaseModel]], origin: str = "<sources>"
) -> list[SourceSpec]:
    lines, data = _compose(text, origin)
    problems: list[ErrorDetail] = []

    def problem(where: YamlPath, message: str) -> None:
        line = _nearest_line(lines, where)
        problems.append(ErrorDetail(location=f"{origin}:{line}: {_dotted(where)}", message=message))

    entries = data.get("sources") if isinstance(data, dict) else None
    if data is None:
        entries = []
    elif not isinstance(data, dict) or set(data) != {"sources"}:
        problem((), "the file must be a mapping with one key, `sources`")
        entries = []
    elif entries is None:
        entries = []
    elif not isinstance(entries, list):
        problem(("sources",), "must be a list of sources")
        entries = []

    specs: list[SourceSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where: YamlPath = ("sources", index)
        spec = _check_entry(entry, configs, lambda sub, msg, w=where: problem(w + sub, msg))
        if spec is None:
            continue
        if spec.name in seen:
            problem(
                (*where, "name"),
                f"duplicate source name {spec.name!r} (first at sources[{seen[spec.name]}])",
            )
            continue
        seen[spec.name] = index
        specs.append(spec)
    if problems:
        raise ConfigurationError(f"invalid sources file {origin}", problems)
    return specs


def _check_entry(
    entry: Any, configs: Mapping[str, type[BaseModel]], problem: Any
) -> SourceSpec | None:
    if not isinstance(entry, dict):
        problem((), "each source must be a mapping with at least `name` and `kind`")
        return None
    common = {k: v for k, v in entry.items() if k in SOURCE_FIELDS}
    options = {k: v for k, v in entry.items() if k not in SOURCE_FIELDS}
    ok = True
    try:
        spec = SourceSpec(**common)
    except PydanticValidationError as exc:
        for err in exc.errors():
            problem(tuple(err["loc"]), err["msg"])
        return None
    config = configs.get(spec.kind)
    if config is None:
        known = ", ".join(sorted(configs)) or "none installed"
        problem(("kind",), f"unknown harvester kind {spec.kind!r} (available: {known})")
        return None
    try:
        checked = config.model_validate(options)
    except PydanticValidationError as exc:
        for err in exc.errors():
            problem(tuple(err["loc"]), err["msg"])
        ok = False
    if not ok:
        return None
    values = checked.model_dump(mode="json")
    # a JSON dump masks secrets as "**********": the harvester needs them as written
    values.update({k: v.get_secret_value() for k, v in checked if isinstance(v, SecretStr)})
    return spec.model_copy(update={"options": values})


def _compose(text: str, origin: str) -> tuple[dict[YamlPath, int], Any]:
    """Parse once: the node tree gives line numbers, the constructed document the values."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigurationError(
            f"invalid sources file {origin}",
            [ErrorDetail(location=f"{origin}:{line}", message=f"not valid YAML: {exc.problem}")],
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"invalid sources file {origin}: not valid YAML ({exc})") from None
    finally:
        loader.dispose()
    if node is None:
        return {}, None
    lines: dict[YamlPath, int] = {}
    duplicates: list[ErrorDetail] = []
    for where, child in _walk(node, ()):
        line = child.start_mark.line + 1
        if where in lines and where and isinstance(where[-1], str):
            duplicates.append(
                ErrorDetail(location=f"{origin}:{line}: {_dotted(where)}", message="duplicate key")
            )
        lines.setdefault(where, line)
    if duplicates:  # PyYAML would silently keep the last value
        raise ConfigurationError(f"invalid sources file {origin}", duplicates)
    return lines, data


def _walk(node: yaml.Node, where: YamlPath) -> Iterator[tuple[YamlPath, yaml.Node]]:
    yield where, node
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _walk(value, (*where, str(key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(item, (*where, index))


def _nearest_line(lines: Mapping[YamlPath, int], where: YamlPath) -> int:
    """The line of `where`, or of its closest existing parent (a missing field)."""
    for end in range(len(where), -1, -1):
        if where[:end] in lines:
            return lines[where[:end]]
    return 1


def _dotted(where: YamlPath) -> str:
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"
