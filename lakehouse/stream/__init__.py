"""ECTS transit alerts in real time: reference data, the rules, Kafka control, replays.

``reference`` and ``rules`` are pure Python (no Spark, no Kafka) so they are tested and
scored offline; ``kafka`` starts the one-node broker; ``replay`` turns a simulated day into
traffic with known incidents. The Spark job is ``spark_jobs/stream/ects_alerts.py``.
"""
