"""Lineage: gathered from the code and the runs, stored in the lake, published to Atlas.

Sources (:mod:`.collect`): NiFi flow definitions (source system -> flow -> landing feed), the
bronze parsers (landing feed -> bronze tables), dbt's ``manifest.json`` (model -> model, with
the documented columns) and the runs jobs declare (:func:`.declare.declare_run`: train, score
and export say what they read and wrote). The graph is kept in the lake
(:mod:`.store`), shown and traced (:mod:`.render`), and published to Apache Atlas
(:mod:`.atlas`).
"""
