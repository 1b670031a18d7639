"""The reliability suite reuses the integration (capture server) and end-to-end (devserver process) fixtures."""

from tests.e2e.conftest import local_server
from tests.integration.conftest import providers

__all__ = ["local_server", "providers"]
