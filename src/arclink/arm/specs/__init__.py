"""Facts derived from the Azure REST API specs (see SOURCES.md): ``spec_table.json``, made by ``generate.py``."""
