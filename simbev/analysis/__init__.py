"""Analysis of results: response metrics (:mod:`.metrics`, plain functions of a Result),
survival curves (:mod:`.survival`, Kaplan-Meier with Greenwood intervals and median intervals),
the volumetric radiological response (:mod:`.response`) and the model's published findings as
checks (:mod:`.findings`).

May import: ``metrics``, ``survival`` and ``response`` only :mod:`simbev.model` and :mod:`simbev.errors`
(every runner reads them); ``findings`` runs simulations and may import everything below the
command line.
"""
