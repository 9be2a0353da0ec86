"""How the registry makes a `rename` processor (entry point `processors.rename:factory`)."""

from collector.component import Factory, Kind, Stability
from processors.rename.config import RenameConfig
from processors.rename.processor import RenameProcessor

factory = Factory(
    type="rename",
    kind=Kind.PROCESSOR,
    config_model=RenameConfig,
    create=RenameProcessor,
    stability=Stability.BETA,
    description="Renames metrics by strict name or regexp with capture groups.",
)
