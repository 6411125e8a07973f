"""From merged JSON sidecars to the fields of a series: an allow-list, units, screening.

Only the keys named here are read; everything else a sidecar holds (institution, station, device
serial numbers, acquisition dates and times, comments) is never copied. Text values are screened
(`screen_text`), the dataset's participant labels among what it removes. BIDS gives times in
seconds; the catalogue keeps milliseconds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from harvesters.dicom.deid import TOKEN, screen_text

#: Sidecar key → (series field, scale). Numbers only; the first key found fills a field (ASL
#: and quantitative sequences give RepetitionTimePreparation / RepetitionTimeExcitation instead).
NUMBERS: Mapping[str, tuple[str, float]] = {
    "MagneticFieldStrength": ("field_strength_t", 1.0),
    "RepetitionTime": ("repetition_time_ms", 1000.0),
    "RepetitionTimePreparation": ("repetition_time_ms", 1000.0),
    "RepetitionTimeExcitation": ("repetition_time_ms", 1000.0),
    "EchoTime": ("echo_time_ms", 1000.0),
    "InversionTime": ("inversion_time_ms", 1000.0),
    "FlipAngle": ("flip_angle_deg", 1.0),
    "SliceThickness": ("slice_thickness_mm", 1.0),
}
#: Sidecar key → series field. Text, screened.
TEXTS: Mapping[str, str] = {
    "Manufacturer": "manufacturer",
    "ManufacturersModelName": "model_name",
    "SeriesDescription": "series_description",
    "ProtocolName": "protocol_name",
    "SequenceName": "sequence_name",
    "BodyPartExamined": "body_part",
    "BodyPart": "body_part",
}
#: Further keys kept in `attributes`: short coded values, screened like the texts.
ATTRIBUTES = (
    "TaskName",
    "MRAcquisitionType",
    "ScanningSequence",
    "SequenceVariant",
    "PulseSequenceType",
    "ArterialSpinLabelingType",
    "TracerName",
    "TracerRadionuclide",
)
_CODE = re.compile(r"[A-Z0-9 _]{1,16}")
_NO_CONTRAST = frozenset({"", "NONE", "NO", "N/A", "NA", "0"})
MAX_TEXT = 255


class SidecarError(ValueError):
    """A sidecar that cannot be used; the message says why without quoting it."""


def load(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            value = json.load(f)
    except OSError as exc:
        raise SidecarError(f"cannot be read ({type(exc).__name__})") from None
    except (ValueError, RecursionError):  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise SidecarError("is not valid JSON") from None
    if not isinstance(value, dict):
        raise SidecarError("is not a JSON object")
    return value


class Screen:
    """`screen_text` with the dataset's participant labels among what it removes (a sidecar at
    the root may name anyone), except short numbers, which identify nobody and would eat
    "run 01". The sidecars of a dataset repeat a few values: each is screened once."""

    def __init__(self, labels: Iterable[str] = ()) -> None:
        found = {
            (label.lower(), TOKEN)
            for label in labels
            if len(label) >= 2 and not (label.isdigit() and len(label) < 4)
        }
        self.needles = tuple(sorted(found, key=lambda n: (-len(n[0]), n)))
        self._done: dict[str, str | None] = {}

    def __call__(self, value: str) -> str | None:
        if value not in self._done:
            if len(self._done) > 65536:  # a dataset of unique descriptions: bound the memory
                self._done.clear()
            self._done[value] = screen_text(value, self.needles, max_chars=MAX_TEXT)
        return self._done[value]


def series_fields(merged: Mapping[str, Any], screen: Screen) -> dict[str, Any]:
    """SeriesRecord fields (and `attributes`) from the merged sidecars of one data file."""
    fields: dict[str, Any] = {}
    for key, (name, scale) in NUMBERS.items():
        if name not in fields and (number := _number(merged.get(key))) is not None:
            fields[name] = round(number * scale, 6)
    for key, name in TEXTS.items():
        if name not in fields and (text := _text(merged.get(key), screen)) is not None:
            fields[name] = text
    if (image_type := _image_type(merged.get("ImageType"))) is not None:
        fields["image_type"] = image_type
    if "ContrastBolusIngredient" in merged or "ContrastBolusAgent" in merged:
        agent = merged.get("ContrastBolusIngredient", merged.get("ContrastBolusAgent"))
        fields["contrast_agent"] = str(agent).strip().upper() not in _NO_CONTRAST
    attributes = {
        key: text for key in ATTRIBUTES if (text := _text(merged.get(key), screen)) is not None
    }
    if attributes:
        fields["attributes"] = attributes
    return fields


def _number(value: Any) -> float | None:
    """A finite number; for a list of numbers (e.g. multi-echo), the smallest."""
    if isinstance(value, list) and value:
        numbers = [n for v in value if (n := _number(v)) is not None]
        return min(numbers) if numbers else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: Any, screen: Screen) -> str | None:
    if isinstance(value, list):  # e.g. ScanningSequence ["GR", "IR"]
        value = "\\".join(v for v in value if isinstance(v, str))
    return screen(value) if isinstance(value, str) else None


def _image_type(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        return None
    codes = tuple(v.strip().upper() for v in value if isinstance(v, str))
    return tuple(c for c in codes if _CODE.fullmatch(c)) or None


def merge(sidecars: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The inheritance principle: later (more specific) sidecars override earlier ones."""
    merged: dict[str, Any] = {}
    for values in sidecars:
        merged.update(values)
    return merged
