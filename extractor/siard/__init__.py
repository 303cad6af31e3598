"""SIARD (1.0, 2.0, 2.1, 2.2): the format knowledge the SOURCE kind and ``uttrekk validate`` share.

``archive`` opens the ZIP safely, ``metadata`` reads ``header/metadata.xml``, ``types`` maps SQL:2008
type names to kinds and decodes cell text, ``layout`` says where each value sits in a table's XML, and
``rows`` streams a table's rows with its LOBs checked, giving each place that does not match the
metadata as a ``Problem``. Nothing here writes: a SIARD file is only ever read (docs/siard.md).
"""
