"""``chipwar export``: the corpus out into the field's own tools, one small module per format.

:mod:`.formats` holds the shared types and the registry :data:`.formats.FORMATS`; :mod:`.run`
makes an export (checks, a folder written whole, the result). Each format module's docstring
says what it keeps and what the format cannot hold.
"""
