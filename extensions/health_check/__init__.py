"""`health_check` extension: HTTP 200 while the pipelines run, 503 otherwise, with per-component detail."""

from extensions.health_check.extension import HealthCheckConfig, HealthCheckExtension, factory

__all__ = ["HealthCheckConfig", "HealthCheckExtension", "factory"]
