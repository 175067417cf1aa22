"""Label Studio: the labeling config and tasks made from the schema, the importer of exports, and server sync."""
