"""`file_storage` extension: a directory where components keep state that must survive a restart."""

from extensions.file_storage.config import FileStorageConfig
from extensions.file_storage.factory import factory

__all__ = ["FileStorageConfig", "factory"]
