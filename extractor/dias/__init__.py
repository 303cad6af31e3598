"""The DIAS submission package and its info file (issue 5): ``uttrekk package``.

``build_package`` wraps a finished extract in ``{uuid}.tar`` (dias-mets.xml, dias-premis.xml,
descriptive_metadata/, content/) with the info file ``{uuid}.xml`` beside it; docs/package.md
describes the result. The click command lives in ``command.py``.
"""

from .package import PackageResult, build_package
from .tarball import TAR_LIMIT

__all__ = ["PackageResult", "TAR_LIMIT", "build_package"]
