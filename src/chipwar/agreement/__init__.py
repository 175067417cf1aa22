"""Inter-annotator agreement of two or more annotation sets, per layer, field and document label (``chipwar agree``).

- :mod:`.matching`: which spans of different sets are one unit (exact offsets, overlap);
- :mod:`.fields`: what is compared on matched spans (labels, attributes, references, chains);
- :mod:`.coefficients`: Cohen's kappa, Krippendorff's nominal alpha and unitized alpha;
- :mod:`.figures`: the result values and what each figure measures;
- :mod:`.run`: which documents are compared and the figures over them;
- :mod:`.tables`: the text and Markdown tables.
"""

from __future__ import annotations

from .figures import MEASURES, Agreement
from .run import agree_sets
from .tables import markdown_tables, text_report

__all__ = ["MEASURES", "Agreement", "agree_sets", "markdown_tables", "text_report"]
