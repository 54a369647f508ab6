"""Hourly batch: release genre scores, taste vectors, genre ranks, ANN friends, recommendations.

Two layers: pure numpy/faiss modules (:mod:`.weights`, :mod:`.taste`, :mod:`.ranks`,
:mod:`.friends`, :mod:`.recommend`, :mod:`.compute`) hold the maths and are unit-tested on
hand-made data; :mod:`.hourly` is the thin Spark/Cassandra layer run every hour.
"""
