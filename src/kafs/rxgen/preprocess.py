"""The small C preprocessor rxgen's input goes through.

Supported: comments (``/* */`` and ``//``), backslash-newline,
``#include "file"`` (relative to the including file, then the include path)
and ``#include <file>`` (include path), object-like ``#define``/``#undef``,
``#ifdef``/``#ifndef``/``#if``/``#elif``/``#else``/``#endif`` (``#if``
understands integers, ``defined(X)``, macros, ``! && || == != < > <= >=
+ - * /`` and parentheses), ``#pragma`` (ignored), ``#error``.  Lines that
start with ``%`` are C passthrough for rxgen and are dropped here.

Output: a list of :class:`Line` (text, file, line number) with macros
expanded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .errors import CompileError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    file: str
    line: int


def strip_comments(text: str, file: str) -> str:
    """Replace comments by spaces, keeping newlines (so line numbers hold)."""
    out = []
    i = 0
    n = len(text)
    line = 1
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            if j < 0:
                raise CompileError(file, line, "unterminated comment")
            body = text[i : j + 2]
            nl = body.count("\n")
            out.append(" " + "\n" * nl)
            line += nl
            i = j + 2
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            if j < 0:
                j = n
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            if j < n and text[j] == "\n":
                line += 1
            i = j + 1
        else:
            if c == "\n":
                line += 1
            out.append(c)
            i += 1
    return "".join(out)


class Preprocessor:
    def __init__(self, include_path: list[str] | None = None, defines: dict[str, str] | None = None):
        self.include_path = list(include_path or [])
        self.macros: dict[str, str] = dict(defines or {})
        self.files: list[str] = []  # every file read, in order
        self.includes: list[tuple[str, str]] = []  # (including file, included file)

    # -- macro expansion --------------------------------------------------------
    def expand(self, text: str, disabled: frozenset = frozenset()) -> str:
        if not self.macros:
            return text
        # Expand identifiers outside string literals, preserving spacing.
        res = []
        pos = 0
        for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*', text):
            res.append(text[pos : m.start()])
            tok = m.group(0)
            if tok[0] != '"' and tok in self.macros and tok not in disabled:
                res.append(self.expand(self.macros[tok], disabled | {tok}))
            else:
                res.append(tok)
            pos = m.end()
        res.append(text[pos:])
        return "".join(res)

    # -- #if expressions ----------------------------------------------------------
    def eval_if(self, expr: str, file: str, line: int) -> bool:
        # defined(X) / defined X first, before macro expansion
        def repl(m):
            return "1" if m.group(1) in self.macros or m.group(2) in self.macros else "0"

        expr = re.sub(r"\bdefined\s*(?:\(\s*([A-Za-z_]\w*)\s*\)|([A-Za-z_]\w*))", repl, expr)
        expr = self.expand(expr)
        toks = re.findall(r"0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|&&|\|\||==|!=|<=|>=|\S", expr)
        toks = [re.sub(r"[uUlL]+$", "", t) if t[0].isdigit() else t for t in toks]
        p = _ExprParser(toks, file, line)
        v = p.expr()
        if p.i != len(toks):
            raise CompileError(file, line, f"bad #if expression: {expr.strip()}")
        return v != 0

    # -- files --------------------------------------------------------------------
    def find_include(self, name: str, quoted: bool, cur_file: str, line: int) -> str:
        cands = []
        if quoted:
            cands.append(os.path.join(os.path.dirname(cur_file), name))
        cands += [os.path.join(d, name) for d in self.include_path]
        for c in cands:
            if os.path.isfile(c):
                return os.path.normpath(c)
        raise CompileError(cur_file, line, f"cannot find include file {name!r}")

    def run(self, path: str) -> list[Line]:
        out: list[Line] = []
        self._file(os.path.normpath(path), out, 0)
        return out

    def _file(self, path: str, out: list[Line], depth: int) -> None:
        if depth > 40:
            raise CompileError(path, 1, "#include nested too deeply")
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except OSError as e:
            raise CompileError(path, 0, f"cannot read: {e.strerror}") from None
        self.files.append(path)
        text = strip_comments(text, path)
        raw = text.split("\n")
        # [active, seen_true, after_else, line] per open conditional
        stack: list[list] = []
        i = 0
        while i < len(raw):
            lineno = i + 1
            s = raw[i]
            while s.endswith("\\") and i + 1 < len(raw):
                i += 1
                s = s[:-1] + raw[i]
            i += 1
            active = all(fr[0] for fr in stack)
            st = s.lstrip()
            if st.startswith("#"):
                self._directive(st[1:].strip(), path, lineno, stack, active, out, depth)
                continue
            if not active:
                continue
            if st.startswith("%"):
                continue
            if not st:
                continue
            out.append(Line(self.expand(s), path, lineno))
        if stack:
            raise CompileError(path, stack[-1][3], "unterminated #if")

    def _directive(self, d: str, path: str, lineno: int, stack: list, active: bool, out, depth) -> None:
        m = re.match(r"([A-Za-z_]\w*|\d+)?\s*(.*)$", d)
        name = m.group(1) or ""
        rest = m.group(2).strip()
        if name in ("ifdef", "ifndef"):
            mm = _IDENT.match(rest)
            if not mm:
                raise CompileError(path, lineno, f"#{name} needs a macro name")
            val = (mm.group(0) in self.macros) == (name == "ifdef")
            stack.append([val if active else False, val, False, lineno])
            return
        if name == "if":
            val = self.eval_if(rest, path, lineno) if active else False
            stack.append([val, val, False, lineno])
            return
        if name in ("elif", "else", "endif"):
            if not stack:
                raise CompileError(path, lineno, f"#{name} without #if")
            fr = stack[-1]
            parent = all(f[0] for f in stack[:-1])
            if name == "endif":
                stack.pop()
            elif fr[2]:
                raise CompileError(path, lineno, f"#{name} after #else")
            elif name == "else":
                fr[0] = parent and not fr[1]
                fr[1] = True
                fr[2] = True
            else:
                if fr[1] or not parent:
                    fr[0] = False
                else:
                    v = self.eval_if(rest, path, lineno)
                    fr[0] = v
                    fr[1] = v
            return
        if not active:
            return
        if name == "":
            return  # null directive
        if name.isdigit() or name == "line" or name == "pragma" or name == "ident":
            return
        if name == "define":
            mm = re.match(r"([A-Za-z_]\w*)(\()?\s*(.*)$", rest)
            if not mm:
                raise CompileError(path, lineno, "#define needs a macro name")
            if mm.group(2):
                raise CompileError(path, lineno, f"function-like macro {mm.group(1)} is not supported")
            self.macros[mm.group(1)] = mm.group(3).strip()
            return
        if name == "undef":
            mm = _IDENT.match(rest)
            if not mm:
                raise CompileError(path, lineno, "#undef needs a macro name")
            self.macros.pop(mm.group(0), None)
            return
        if name == "include":
            rest = self.expand(rest).strip()
            mm = re.match(r'"([^"]+)"|<([^>]+)>', rest)
            if not mm:
                raise CompileError(path, lineno, "#include expects \"file\" or <file>")
            inc = self.find_include(mm.group(1) or mm.group(2), mm.group(1) is not None, path, lineno)
            self.includes.append((path, inc))
            self._file(inc, out, depth + 1)
            return
        if name == "error":
            raise CompileError(path, lineno, f"#error {rest}")
        if name == "warning":
            return
        raise CompileError(path, lineno, f"unknown preprocessor directive #{name}")


class _ExprParser:
    """Integer expression evaluator for #if (no eval())."""

    _BIN = [
        ("||",),
        ("&&",),
        ("==", "!="),
        ("<", ">", "<=", ">="),
        ("+", "-"),
        ("*", "/", "%"),
    ]

    def __init__(self, toks, file, line):
        self.t = toks
        self.i = 0
        self.file = file
        self.line = line

    def err(self):
        raise CompileError(self.file, self.line, "bad #if expression")

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else None

    def expr(self, level=0):
        if level == len(self._BIN):
            return self.unary()
        v = self.expr(level + 1)
        while self.peek() in self._BIN[level]:
            op = self.t[self.i]
            self.i += 1
            w = self.expr(level + 1)
            if op == "||":
                v = int(bool(v) or bool(w))
            elif op == "&&":
                v = int(bool(v) and bool(w))
            elif op == "==":
                v = int(v == w)
            elif op == "!=":
                v = int(v != w)
            elif op == "<":
                v = int(v < w)
            elif op == ">":
                v = int(v > w)
            elif op == "<=":
                v = int(v <= w)
            elif op == ">=":
                v = int(v >= w)
            elif op == "+":
                v = v + w
            elif op == "-":
                v = v - w
            elif op == "*":
                v = v * w
            elif w == 0:
                raise CompileError(self.file, self.line, "division by zero in #if")
            elif op == "/":
                v = int(v / w)
            else:
                v = v % w
        return v

    def unary(self):
        t = self.peek()
        if t is None:
            self.err()
        self.i += 1
        if t == "!":
            return int(not self.unary())
        if t == "-":
            return -self.unary()
        if t == "+":
            return self.unary()
        if t == "(":
            v = self.expr()
            if self.peek() != ")":
                self.err()
            self.i += 1
            return v
        if t[0].isdigit():
            return int(t, 0) if not (len(t) > 1 and t[0] == "0" and t[1].isdigit()) else int(t, 8)
        if t[0].isalpha() or t[0] == "_":
            return 0  # undefined identifiers are 0, as in C
        self.err()
