"""DICOM sources (export folders, DICOMweb, DIMSE C-FIND): headers in, de-identified records out.

Every DICOM source goes the same way: a pydicom `Dataset` (read from a file, decoded from DICOM
JSON, or answered by C-FIND) → `Deidentifier.clean` → `CleanHeader` → `records_for_series`.
"""
