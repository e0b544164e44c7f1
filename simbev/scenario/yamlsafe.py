"""Safe YAML reading for user files: no object tags, no duplicate keys, no aliases, line numbers.

PyYAML's ``safe_load`` already refuses object tags, but it silently keeps the last of two equal
keys and expands aliases (a few lines of ``&a [*b, *b, ...]`` grow to gigabytes: "billion
laughs"). :func:`load_yaml` reads a file with a :class:`yaml.SafeLoader` subclass that

- refuses any anchor (``&name``) or alias (``*name``) while composing, before anything is
  expanded;
- refuses duplicate keys and ``<<`` merge keys;
- refuses tags other than the standard YAML ones (``!!python/object`` and local ``!tags``);
- reads exponent floats written the YAML 1.2 way (``1e3``, ``2.5e-4``), which PyYAML's YAML 1.1
  resolver would otherwise return as strings;
- records the line (1-based) of every mapping key and sequence item, by dotted key path
  (``treatments.0.dose``), so that a later validation error can point at it.

Every problem becomes a :class:`~simbev.errors.InputError` naming the file and the line; no
YAML traceback reaches the user. Non-finite numbers (``.nan``, ``.inf``) are returned as
Python floats, for the validator to refuse where a finite number is required.
"""
from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import InputError

__all__ = ["load_yaml", "join_path", "line_of"]

_STANDARD = "tag:yaml.org,2002:"
_MAP_TAG = _STANDARD + "map"
_SEQ_TAG = _STANDARD + "seq"
_MERGE_TAG = _STANDARD + "merge"
_VALUE_TAG = _STANDARD + "value"

_NO_ANCHORS = ("a plain value: anchors (&) and aliases (*) are not supported in scenario files "
               "(refused so that alias expansion cannot blow up); write the value out in full")
_MAPPING_AT_TOP = "a mapping of keys to values at the top level (e.g. 'name: my_scenario')"

# YAML 1.2 floats with an exponent but no dot, or an unsigned exponent (1e3, 2.5e-4, 1.5e3),
# which the YAML 1.1 resolver of PyYAML leaves as strings.
_EXPONENT_FLOAT = re.compile(r"""^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$""")


def join_path(path: str, piece: object) -> str:
    """Dotted key path of ``piece`` below ``path`` (``join_path("treatments", 0) == "treatments.0"``)."""
    return f"{path}.{piece}" if path else str(piece)


def line_of(linemap: dict[str, int], path: str) -> int | None:
    """Line of ``path`` in ``linemap``, or of its nearest recorded ancestor (``None`` if none)."""
    while True:
        if path in linemap:
            return linemap[path]
        if not path:
            return None
        path = path.rpartition(".")[0]


def _tag_text(tag: str) -> str:
    """A tag as it is written in a file (``!!python/object`` rather than its full URI)."""
    return "!!" + tag[len(_STANDARD):] if tag.startswith(_STANDARD) else tag


def _kind(value: Any) -> str:
    """A short description of a value's type, for messages."""
    if value is None:
        return "<null>"
    if isinstance(value, dict):
        return "<a mapping>"
    if isinstance(value, list):
        return "<a list>"
    if isinstance(value, str):
        return f"<a string {value!r}>"
    if isinstance(value, bool):
        return f"<the boolean {value!r}>"
    if isinstance(value, (int, float)):
        return f"<the number {value!r}>"
    return f"<a {type(value).__name__} value {value!r}>"


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases as it composes, and tracks the key path."""

    def __init__(self, stream: str, filename: str):
        super().__init__(stream)
        self.filename = filename
        self.key_stack: list[str] = []

    def compose_node(self, parent, index):
        if isinstance(parent, SequenceNode):
            piece = str(index)
        elif isinstance(parent, MappingNode) and isinstance(index, Node):
            piece = str(index.value) if isinstance(index, ScalarNode) else "?"
        else:  # the root, or a mapping key (reported at its mapping's path)
            piece = None
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            found = (f"<alias *{event.anchor}>" if isinstance(event, yaml.AliasEvent)
                     else f"<anchor &{event.anchor}>")
            where = ".".join(self.key_stack + ([piece] if piece is not None else []))
            raise InputError(self.filename, event.start_mark.line + 1, where or None, found, _NO_ANCHORS)
        if piece is None:
            return super().compose_node(parent, index)
        self.key_stack.append(piece)
        try:
            return super().compose_node(parent, index)
        finally:
            self.key_stack.pop()


_Loader.add_implicit_resolver(_STANDARD + "float", _EXPONENT_FLOAT, list("-+.0123456789"))

# Numbers the YAML 1.2 core schema way: PyYAML's YAML 1.1 resolvers read ``017`` as octal (15)
# and ``1:30`` as sexagesimal (90). Here an int is decimal (``017`` is 17), ``0o17``/``0x1f``
# are octal/hex, and a sexagesimal or ``_``-grouped number is not a number (a string, which the
# validator refuses where a number is required).
_INT_12 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_12 = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in (_STANDARD + "int", _STANDARD + "float")]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(_STANDARD + "int", _INT_12, list("-+0123456789"))
_Loader.add_implicit_resolver(_STANDARD + "float", _FLOAT_12, list("-+.0123456789"))


def _construct_int_12(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _construct_float_12(loader, node):
    text = loader.construct_scalar(node).lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text == ".nan":
        return float("nan")
    return float(text)


_Loader.add_constructor(_STANDARD + "int", _construct_int_12)
_Loader.add_constructor(_STANDARD + "float", _construct_float_12)


class _Builder:
    """Builds Python data from a composed node tree, checking keys and recording lines."""

    def __init__(self, loader: _Loader, filename: str):
        self.loader = loader
        self.filename = filename
        self.lines: dict[str, int] = {}

    def error(self, node: Node, path: str, found: str, expected: str) -> InputError:
        return InputError(self.filename, node.start_mark.line + 1, path or None, found, expected)

    def build(self, node: Node, path: str = "") -> Any:
        if isinstance(node, MappingNode) and node.tag == _MAP_TAG:
            return self.mapping(node, path)
        if isinstance(node, SequenceNode) and node.tag == _SEQ_TAG:
            items = []
            for i, item in enumerate(node.value):
                item_path = join_path(path, i)
                self.lines[item_path] = item.start_mark.line + 1
                items.append(self.build(item, item_path))
            return items
        return self.construct(node, path)

    def mapping(self, node: MappingNode, path: str) -> dict:
        out: dict = {}
        first_line: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise self.error(key_node, path, "<merge key '<<'>",
                                 "explicit keys: merge keys (<<) are not supported in scenario files")
            if not isinstance(key_node, ScalarNode):
                kind = "a mapping" if isinstance(key_node, MappingNode) else "a list"
                raise self.error(key_node, path, f"<{kind} used as a key>", "a plain key such as 'name'")
            key = self.construct(key_node, path)
            line = key_node.start_mark.line + 1
            key_path = join_path(path, key)
            try:
                duplicate = key in first_line
            except TypeError:  # unhashable, e.g. a tagged collection
                raise self.error(key_node, path, _kind(key), "a plain key such as 'name'") from None
            if duplicate:
                raise self.error(key_node, key_path, f"<duplicate key {key!r} (first given at line "
                                 f"{first_line[key]})>", "each key at most once in a mapping")
            first_line[key] = line
            self.lines[key_path] = line
            out[key] = self.build(value_node, key_path)
        return out

    def construct(self, node: Node, path: str) -> Any:
        if node.tag == _VALUE_TAG and isinstance(node, ScalarNode):
            return node.value  # a plain "=" is text, not the YAML 1.1 "value" key
        if node.tag not in self.loader.yaml_constructors:
            raise self.error(node, path, f"<tag {_tag_text(node.tag)}>",
                             "a plain value without a tag (only the standard YAML tags such as "
                             "!!str, !!int or !!float are allowed)")
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            value = node.value if isinstance(node, ScalarNode) else "..."
            raise self.error(node, path, f"<{_tag_text(node.tag)} {value!r}: {exc}>",
                             f"a value that can be read as {_tag_text(node.tag)}") from None


#: largest file read (bytes): scenario and sweep files are a few kB
MAX_FILE_BYTES = 1_000_000


def _read_text(path: Path, filename: str) -> str:
    expected = "a readable UTF-8 YAML file"
    try:
        info = path.stat()  # follows symlinks; a loop raises ELOOP
        if stat.S_ISDIR(info.st_mode):
            raise InputError(filename, None, None, "<a directory>", expected)
        if not stat.S_ISREG(info.st_mode):
            # devices (/dev/zero), FIFOs and sockets could give endless data or block forever
            raise InputError(filename, None, None, "<not a regular file (a device, FIFO or socket)>",
                             "a regular YAML file")
        if info.st_size > MAX_FILE_BYTES:
            raise InputError(filename, None, None, f"<a file of {info.st_size} bytes>",
                             f"a YAML file of at most {MAX_FILE_BYTES} bytes")
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise InputError(filename, None, None, f"<a file of more than {MAX_FILE_BYTES} bytes>",
                             f"a YAML file of at most {MAX_FILE_BYTES} bytes")
    except FileNotFoundError:
        raise InputError(filename, None, None, "<no such file>", "an existing YAML file") from None
    except PermissionError:
        raise InputError(filename, None, None, "<a file that cannot be read: permission denied>",
                         expected) from None
    except (OSError, RuntimeError) as exc:  # ELOOP (a symlink loop), EIO, ...
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(filename, None, None, f"<a file that cannot be read: {reason}>",
                         expected) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(filename, line, None, f"<byte 0x{data[exc.start]:02x}, which is not UTF-8>",
                         "a text file encoded as UTF-8") from None


def _yaml_error(exc: yaml.YAMLError, filename: str, text: str) -> InputError:
    """An InputError for a YAML syntax (or reader) error, with its line."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[:exc.position].count("\n") + 1
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        return InputError(filename, line, None, f"<special character {char!r}>",
                          "printable text (no control characters)")
    line = None
    problem = str(exc)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = "; ".join(p for p in (exc.context, exc.problem) if p)
    return InputError(filename, line, None, f"<invalid YAML: {problem}>", "valid YAML syntax")


def load_yaml(path) -> tuple[Any, dict[str, int]]:
    """Read a YAML file safely; return its data and the line of every key.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    data : dict
        The top-level mapping, with plain Python values (dict, list, str, int, float, bool,
        None; dates for YAML timestamps). ``.nan`` and ``.inf`` come back as floats.
    linemap : dict of str to int
        1-based line of every mapping key and sequence item, by dotted key path
        (``"treatments.0.dose"``); ``""`` is the line where the top-level mapping starts.
        :func:`line_of` looks a path up, falling back to its nearest ancestor.

    Raises
    ------
    InputError
        The file is missing, a directory, unreadable, not UTF-8, empty, not valid YAML, not a
        mapping at the top level; or it has a duplicate key, an anchor or alias, a merge key,
        or a tag other than the standard ones.
    """
    filename = str(path)
    text = _read_text(Path(path), filename)
    try:
        loader = _Loader(text, filename)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, filename, text) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError(filename, None, None, "<an empty file>", _MAPPING_AT_TOP)
        builder = _Builder(loader, filename)
        builder.lines[""] = node.start_mark.line + 1
        data = builder.build(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, filename, text) from None
    except RecursionError:
        raise InputError(filename, None, None, "<values nested too deeply>",
                         "a file nested at most a few hundred levels deep") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        # a text file that is not YAML reads as one long string: never quote it
        found = "<plain text, not a mapping>" if isinstance(data, str) else _kind(data)
        raise InputError(filename, builder.lines[""], None, found, _MAPPING_AT_TOP)
    return data, builder.lines
