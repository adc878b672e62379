"""SQL text per database. Each dialect names the same statements; only their text differs."""
