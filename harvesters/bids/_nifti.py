"""What a NIfTI header adds when the sidecars lack it: dimensions, voxel size, volume spacing.

Read with nibabel, header only (the image data is never loaded). The header's `descrip` and
`aux_file` are free text and are never read.
"""

from __future__ import annotations

from typing import Any

_SPACE = {"meter": 1000.0, "mm": 1.0, "micron": 0.001}
_TIME = {"sec": 1000.0, "msec": 1.0, "usec": 0.001}


class NiftiError(ValueError):
    """A header that cannot be read; the message says why without quoting it."""


def header_fields(path: str) -> dict[str, Any]:
    """Series fields from a NIfTI-1 or NIfTI-2 header (`.nii` or `.nii.gz`)."""
    import nibabel  # the optional dependency, only when a sidecar falls short
    from nibabel.filebasedimages import ImageFileError
    from nibabel.nifti1 import Nifti1Header  # NIfTI-2 headers derive from it

    try:
        header = nibabel.load(path).header
        if not isinstance(header, Nifti1Header):
            raise TypeError("not a NIfTI header")
        # nibabel's header methods are untyped
        shape = tuple(int(n) for n in header.get_data_shape())  # type: ignore[no-untyped-call]
        zooms = tuple(float(z) for z in header.get_zooms())  # type: ignore[no-untyped-call]
        space, time = header.get_xyzt_units()  # type: ignore[no-untyped-call]
    except (TypeError, OSError, EOFError, ValueError, ImageFileError) as exc:
        raise NiftiError(f"its NIfTI header cannot be read ({type(exc).__name__})") from None
    fields: dict[str, Any] = {"attributes": {"dimensions": list(shape)}}
    scale = _SPACE.get(space, 1.0)
    if len(zooms) >= 3 and zooms[2] > 0:
        fields["slice_thickness_mm"] = round(zooms[2] * scale, 6)
        fields["attributes"]["voxel_size_mm"] = [round(z * scale, 6) for z in zooms[:3]]
    if len(shape) >= 4 and shape[3] > 1 and len(zooms) >= 4 and zooms[3] > 0:
        fields["repetition_time_ms"] = round(zooms[3] * _TIME.get(time, 1000.0), 6)
        fields["attributes"]["volumes"] = shape[3]
    return fields
