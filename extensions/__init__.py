"""Built-in extensions: components outside the data path (storage for persistent queues ...)."""
