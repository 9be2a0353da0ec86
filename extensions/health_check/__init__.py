"""`health_check` extension: HTTP 200 while the pipelines run, 503 otherwise, with per-component detail."""

from extensions.health_check.config import HealthCheckConfig
from extensions.health_check.factory import factory

__all__ = ["HealthCheckConfig", "factory"]
