"""Built-in extensions: components outside the data path (health check, storage)."""
