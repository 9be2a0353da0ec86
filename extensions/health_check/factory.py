"""How the registry makes a `health_check` extension (entry point `extensions.health_check:factory`)."""

from collector.component import ExtensionFactory, Stability
from extensions.health_check.config import HealthCheckConfig
from extensions.health_check.extension import HealthCheckExtension

factory = ExtensionFactory(
    type="health_check",
    config_model=HealthCheckConfig,
    create=HealthCheckExtension,
    stability=Stability.BETA,
    description="HTTP health endpoint: 200 while running, 503 while starting, stopping or failed.",
)
