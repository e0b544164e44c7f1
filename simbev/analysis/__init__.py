"""Analysis of results: response metrics (:mod:`.metrics`, plain functions of a Result),
survival curves (:mod:`.survival`, Kaplan-Meier) and the model's published findings as checks
(:mod:`.findings`).

May import: ``metrics`` and ``survival`` only :mod:`simbev.model` and :mod:`simbev.errors`
(every runner reads them); ``findings`` runs simulations and may import everything below the
command line.
"""
