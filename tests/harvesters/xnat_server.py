"""The XNAT contract server (`api.demo.xnat_server`) started for one test."""

from __future__ import annotations

from typing import Any

from api.demo.xnat_server import Options, XnatServer
from api.demo.xnat_site import Site


def serve_until_finished(request: Any, site: Site, options: Options | None = None) -> XnatServer:
    """Start a server for one test (a pytest `request`); it stops when the test finishes."""
    server = XnatServer(site, options)
    context = server.running()
    context.__enter__()
    request.addfinalizer(lambda: context.__exit__(None, None, None))
    return server
