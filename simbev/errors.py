"""Errors that user input can cause. The CLI turns them into a message and exit status 2."""
from __future__ import annotations


class InputError(ValueError):
    """Bad input: names the file, line, key path, the value found and what was expected.

    ``str(err)`` is the full message, e.g.::

        configs/a.yaml:12: treatments.0.dose: found '10 mg/lb'; expected a number with a unit
        mg/kg or mg (e.g. '10 mg/kg')
    """

    def __init__(self, file=None, line=None, key=None, found=None, expected=None, message=None):
        self.file, self.line, self.key, self.found, self.expected = file, line, key, found, expected
        if message is None:
            where = str(file) if file is not None else "<input>"
            if line is not None:
                where += f":{line}"
            parts = [where]
            if key:
                parts.append(str(key))
            text = []
            if found is not None:
                text.append(f"found {found!r}" if not isinstance(found, str) or not found.startswith("<") else f"found {found}")
            if expected is not None:
                text.append(f"expected {expected}")
            message = ": ".join(parts) + ": " + "; ".join(text)
        super().__init__(message)
