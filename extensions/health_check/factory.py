"""How the registry makes a `health_check` extension (entry point `extensions.health_check:factory`)."""

from collector.component import Factory, Kind, Stability
from extensions.health_check.config import HealthCheckConfig
from extensions.health_check.extension import HealthCheckExtension

factory = Factory(
    type="health_check",
    kind=Kind.EXTENSION,
    config_model=HealthCheckConfig,
    create=HealthCheckExtension,
    stability=Stability.BETA,
    description="HTTP health endpoint: 200 while running, 503 while starting, stopping or failed.",
)
