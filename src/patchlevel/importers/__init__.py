"""Importers: scanner output (Trivy, ``trivy k8s``, Grype, trivy-operator) to ScanReports.

``load_scan_reports(path)`` reads a file or a directory; ``parse_scan_document(data, source)``
reads bytes or objects a caller already holds.  The format is detected from the content.
"""

from patchlevel.importers.base import Importer, NotAScanReport, UnreadableDocument
from patchlevel.importers.detect import IMPORTERS, LoadResult, load_scan_reports, parse_scan_document

__all__ = [
    "IMPORTERS",
    "Importer",
    "LoadResult",
    "NotAScanReport",
    "UnreadableDocument",
    "load_scan_reports",
    "parse_scan_document",
]
