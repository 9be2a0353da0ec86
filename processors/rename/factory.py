"""How the registry makes a `rename` processor (entry point `processors.rename:factory`)."""

from collector.component import ProcessorFactory, Stability
from processors.rename.config import RenameConfig
from processors.rename.processor import RenameProcessor

factory = ProcessorFactory(
    type="rename",
    config_model=RenameConfig,
    create=RenameProcessor,
    stability=Stability.BETA,
    description="Renames metrics by strict name or regexp with capture groups.",
)
