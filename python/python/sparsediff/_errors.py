"""Exception classes of sparsediff, and how the Rust errors become them.

Every error of the Rust library arrives with its variant, its message (Rust's Display) and
its Debug text; the Debug text is parsed here into ``fields`` (a dict), and each field is
also an attribute: ``e.row``, ``e.expected``, ... ``e.kind`` is the variant name
(``"NonFinite"``, ``"Shape"``, ...). Errors that only wrap another (a pattern error inside a
design error) are unwrapped to the innermost one.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional

__all__ = [
    "SparseDiffError",
    "PatternError",
    "ColoringError",
    "DesignError",
    "DecodeError",
    "SolveError",
    "SavedPlanError",
    "VerifyError",
]


class SparseDiffError(Exception):
    """Base class of sparsediff's errors.

    Attributes: ``kind`` (the Rust variant, e.g. ``"NonFinite"``), ``message`` (the Rust
    message), ``fields`` (dict of the variant's fields; nested enums and structs as dicts
    with a ``"variant"`` key) and one attribute per field.
    """

    kind: Optional[str]
    fields: Dict[str, Any]

    def __init__(self, message: str, kind: Optional[str] = None, fields: Optional[Dict[str, Any]] = None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.fields = dict(fields or {})
        for name, value in self.fields.items():
            if name.isidentifier() and not hasattr(type(self), name) and name not in ("args",):
                setattr(self, name, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, kind={self.kind!r}, fields={self.fields!r})"


class PatternError(SparseDiffError, ValueError):
    """A pattern could not be built, read or generated (bad indices, spec, file)."""


class ColoringError(SparseDiffError, ValueError):
    """A colouring does not apply (asymmetric pattern for a symmetric problem, ...)."""


class DesignError(SparseDiffError, ValueError):
    """A probe plan could not be designed (designer not applicable, bad parameters, ...)."""


class DecodeError(SparseDiffError, ValueError):
    """Products could not be decoded (wrong shape, non-finite product, unrecoverable rows)."""


class SolveError(SparseDiffError, ValueError):
    """A factorisation or solve failed (not symmetric, band too wide, tiny pivot, ...)."""


class SavedPlanError(SparseDiffError, ValueError):
    """A saved plan could not be written, read or rebuilt."""


class VerifyError(SparseDiffError, ValueError):
    """Verification could not run (wrong lengths, non-finite inputs)."""


_CLASSES = {c.__name__: c for c in (
    SparseDiffError, PatternError, ColoringError, DesignError, DecodeError,
    SolveError, SavedPlanError, VerifyError,
)}


# --- a small parser of Rust's Debug output ------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<num>-?(?:(?:inf|NaN)\b|\d+(?:\.\d*)?(?:e[-+]?\d+)?))
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<punct>[{}()\[\],:])
    )""",
    re.VERBOSE,
)


class _Parser:
    def __init__(self, text: str):
        self.tokens = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise ValueError(f"cannot parse at {pos}")
            kind = m.lastgroup
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise ValueError(f"expected {value!r}, got {tok!r}")
        self.i += 1
        return tok

    def value(self):
        kind, tok = self.peek()
        if kind == "str":
            self.take()
            return _unescape(tok[1:-1])
        if kind == "num":
            self.take()
            if tok in ("inf", "-inf", "NaN") or any(c in tok for c in ".e"):
                return float(tok)
            return int(tok)
        if tok == "[":
            self.take()
            items = []
            while self.peek()[1] != "]":
                items.append(self.value())
                if self.peek()[1] == ",":
                    self.take()
            self.take("]")
            return items
        if tok == "(":  # a tuple
            self.take()
            items = []
            while self.peek()[1] != ")":
                items.append(self.value())
                if self.peek()[1] == ",":
                    self.take()
            self.take(")")
            return tuple(items)
        if kind == "ident":
            self.take()
            name = tok
            if name in ("true", "false"):
                return name == "true"
            if name == "None":
                return None
            nxt = self.peek()[1]
            if nxt == "{":
                self.take()
                fields = {"variant": name}
                while self.peek()[1] != "}":
                    _, key = self.take()
                    self.take(":")
                    fields[key] = self.value()
                    if self.peek()[1] == ",":
                        self.take()
                self.take("}")
                return fields
            if nxt == "(":
                self.take()
                items = []
                named = {}
                while self.peek()[1] != ")":
                    # `Error("msg", line: 1, column: 2)`: serde_json's Debug names some fields
                    if self.peek()[0] == "ident" and self.i + 1 < len(self.tokens) and self.tokens[self.i + 1][1] == ":":
                        _, key = self.take()
                        self.take(":")
                        named[key] = self.value()
                    else:
                        items.append(self.value())
                    if self.peek()[1] == ",":
                        self.take()
                self.take(")")
                if named:
                    out = {"variant": name, **named}
                    if items:
                        out["value"] = items[0] if len(items) == 1 else tuple(items)
                    return out
                if name == "Some" and len(items) == 1:
                    return items[0]
                if len(items) == 1:
                    return {"variant": name, "value": items[0]}
                return {"variant": name, "value": tuple(items)}
            return {"variant": name}
        raise ValueError(f"unexpected token {tok!r}")


def _unescape(s: str) -> str:
    try:
        return bytes(s, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
    except Exception:
        return s


def parse_debug(text: str) -> Any:
    """Rust Debug text -> Python values (structs/variants as dicts with "variant")."""
    p = _Parser(text)
    v = p.value()
    return v


def _innermost(v: Any) -> Any:
    # Transparent wrappers: Pattern(Spec { .. }) -> Spec { .. }
    while (
        isinstance(v, dict)
        and set(v) == {"variant", "value"}
        and isinstance(v["value"], dict)
        and v["value"].get("variant") not in (None, "Error")  # serde_json's error: keep its wrapper
    ):
        v = v["value"]
    return v


def _make(cls_name: str, message: str, debug: str) -> BaseException:
    """Called by the native module: the exception for a Rust error."""
    if cls_name == "ValueError":
        return ValueError(message)
    cls = _CLASSES.get(cls_name, SparseDiffError)
    try:
        parsed = _innermost(parse_debug(debug))
    except Exception:
        parsed = None
    if isinstance(parsed, dict):
        fields = {k: v for k, v in parsed.items() if k != "variant"}
        return cls(message, kind=parsed.get("variant"), fields=fields)
    return cls(message, kind=None, fields={})
