"""`file_storage` extension: a directory where components keep state that must survive a restart."""

from extensions.file_storage.extension import FileStorage, FileStorageConfig, factory

__all__ = ["FileStorage", "FileStorageConfig", "factory"]
