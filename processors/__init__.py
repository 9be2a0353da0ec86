"""Built-in processors: one folder each, holding code, config model, sample config and README."""
