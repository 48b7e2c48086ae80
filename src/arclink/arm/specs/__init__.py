"""Facts derived from the Azure REST API specs (see openapi/SOURCES.md): ``spec_table.json``, made by ``generate.py``."""
