"""Built-in exporters: one folder each, holding code, config model, sample config and README."""
