"""orgadmin: the OpenAI Admin API stand-in, from Python.

:class:`Server` runs the bundled binary on a free port; :class:`Organization` is one
organization on it, with the official SDK's clients and the operator API's clock, faults and
request journal. The pytest plugin (``orgadmin.testing``) is registered on install.
"""

from ._server import Organization, OrgadminError, Server, binary_path

__all__ = ["Organization", "OrgadminError", "Server", "binary_path"]
