"""`rename` processor: rules of `include`/`match_type`/`new_name`, first match wins (see README.md)."""

from processors.rename.config import RenameConfig
from processors.rename.factory import factory

__all__ = ["RenameConfig", "factory"]
