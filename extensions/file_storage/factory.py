"""How the registry makes a `file_storage` extension (entry point `extensions.file_storage:factory`)."""

from collector.component import ExtensionFactory, Stability
from extensions.file_storage.config import FileStorageConfig
from extensions.file_storage.extension import FileStorage

factory = ExtensionFactory(
    type="file_storage",
    config_model=FileStorageConfig,
    create=FileStorage,
    stability=Stability.ALPHA,
    description="A directory for state that survives a restart, e.g. exporters' persistent sending queues.",
)
