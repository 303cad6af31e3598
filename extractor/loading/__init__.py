"""``uttrekk load``: an extract that ``validate`` can read, loaded into SQLite or PostgreSQL as an access copy.

``plan.py`` turns what the validation reader understood of addml.xml into tables and typed
columns, ``convert.py`` turns each value's text into its typed form (or says why it cannot),
``rows.py`` streams the records of every file, ``sqlite_target.py`` and ``postgres_target.py``
write them, ``keys.py`` verifies the keys before they are declared, and ``run.py`` ties it
together with the report (``report.py``). See docs/guide.md, "Opening an extract for use".
"""
