"""Recommenders behind one small interface (:class:`.base.Ranker`), compared by the evaluation.

Each module holds one ranker; :mod:`.base` holds the input types and the shared top-n helper,
:mod:`.calibration` the genre re-ranking also usable by production.
"""
