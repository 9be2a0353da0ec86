"""`rename` processor: rules of `include`/`match_type`/`new_name`, first match wins (see README.md)."""

from processors.rename.processor import RenameConfig, RenameProcessor, RenameRule, factory

__all__ = ["RenameConfig", "RenameProcessor", "RenameRule", "factory"]
