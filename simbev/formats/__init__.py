"""File formats for exchange with other tools: SBML (:mod:`.sbml`).

May import: :mod:`simbev.model`, :mod:`simbev.parameters`, :mod:`simbev.protocol`,
:mod:`simbev.scenario`, :mod:`simbev.symbolic`, :mod:`simbev.errors`. No solver imports it.
"""
