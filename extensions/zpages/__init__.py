"""`zpages` extension: the Collector's status pages, and a live view of every scrape target and connector."""

from extensions.zpages.config import ZPagesConfig
from extensions.zpages.factory import factory

__all__ = ["ZPagesConfig", "factory"]
