"""Virtual clinical trials: plausible patients, physiological filters, selection to clinical
targets (Allen, Rieger & Musante 2016), populations as data, and trial runs with response and
survival read-outs (``simbev population build``, ``simbev trial``)."""
