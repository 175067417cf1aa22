"""chipwar: a versioned, annotated corpus of chip-war news, and the library that keeps it honest.

Offsets everywhere in this package are Unicode code points, end-exclusive (Python ``str``
indexing), over the stored text; the only other units live in :mod:`chipwar.offsets`.
"""

__version__ = "0.1.0"
