"""Built-in receivers: one folder each, holding code, config model, sample config and README."""
