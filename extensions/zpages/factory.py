"""How the registry makes a `zpages` extension (entry point `extensions.zpages:factory`)."""

from collector.component import ExtensionFactory, Stability
from extensions.zpages.config import ZPagesConfig
from extensions.zpages.extension import ZPagesExtension

factory = ExtensionFactory(
    type="zpages",
    config_model=ZPagesConfig,
    create=ZPagesExtension,
    stability=Stability.ALPHA,
    description="Status pages: /debug/servicez, pipelinez, extensionz and targetz (scrape targets, Debezium lag).",
)
