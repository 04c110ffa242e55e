"""Reports: area fact sheets (steekkaarten) and their PDF rendering."""
