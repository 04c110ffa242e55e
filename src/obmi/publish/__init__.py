"""Publishing helpers: classification and colours for maps, downloads, open-data formats."""
