"""A small parser and evaluator for QBO's SQL-like query language."""
import contextlib
import datetime
import re

from .errors import query_error

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),*])
  | (?P<word>[A-Za-z_][\w.]*)
""", re.VERBOSE)

KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "ORDER", "ORDERBY", "BY", "ASC", "DESC",
            "STARTPOSITION", "MAXRESULTS", "IN", "LIKE", "COUNT"}
MAX_RESULTS = 1000
DEFAULT_RESULTS = 100


class Query:
    def __init__(self):
        self.entity = None
        self.count = False
        self.fields = []          # extra fields, e.g. ["Sku"]; empty with star
        self.star = False
        self.where = []           # (field, op, value)
        self.order = []           # (field, descending)
        self.start = 1
        self.max = DEFAULT_RESULTS


def tokenize(text):
    tokens, pos = [], 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise query_error("unexpected character %r at position %d" % (text[pos], pos))
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        value = m.group()
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "word" and value.upper() in KEYWORDS:
            kind, value = "kw", value.upper()
        tokens.append((kind, value, m.start()))
    return tokens


class _Parser:
    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, kind=None, value=None):
        if self.i >= len(self.tokens):
            return None
        tok = self.tokens[self.i]
        if (kind and tok[0] != kind) or (value and tok[1] != value):
            return None
        return tok

    def take(self, kind=None, value=None, what=None):
        tok = self.peek(kind, value)
        if tok is None:
            where = self.tokens[self.i][2] if self.i < len(self.tokens) else len(self.text)
            found = repr(self.tokens[self.i][1]) if self.i < len(self.tokens) else "end of query"
            raise query_error("expected %s at position %d, found %s" % (what or value or kind, where, found))
        self.i += 1
        return tok

    def parse(self):
        q = Query()
        self.take("kw", "SELECT")
        if self.peek("kw", "COUNT"):
            self.i += 1
            self.take("punct", "(")
            self.take("punct", "*")
            self.take("punct", ")")
            q.count = True
        else:
            self._select_list(q)
        self.take("kw", "FROM")
        q.entity = self.take("word", what="entity name")[1]
        if self.peek("kw", "WHERE"):
            self.i += 1
            q.where.append(self._condition())
            while self.peek("kw", "AND"):
                self.i += 1
                q.where.append(self._condition())
            if self.peek("kw", "OR"):
                raise query_error("OR is not supported at position %d" % self.tokens[self.i][2])
        self._tail(q)
        if self.i < len(self.tokens):
            tok = self.tokens[self.i]
            raise query_error("unexpected %r at position %d" % (tok[1], tok[2]))
        return q

    def _select_list(self, q):
        while True:
            if self.peek("punct", "*"):
                self.i += 1
                q.star = True
            else:
                q.fields.append(self.take("word", what="field name or *")[1])
            if not self.peek("punct", ","):
                return
            self.i += 1

    def _condition(self):
        field = self.take("word", what="field name")[1]
        if self.peek("kw", "IN"):
            self.i += 1
            self.take("punct", "(")
            values = [self._value()]
            while self.peek("punct", ","):
                self.i += 1
                values.append(self._value())
            self.take("punct", ")")
            return field, "IN", values
        if self.peek("kw", "LIKE"):
            self.i += 1
            tok = self.take("string", what="quoted pattern after LIKE")
            return field, "LIKE", tok[1]
        op = self.take("op", what="operator")[1]
        return field, "!=" if op == "<>" else op, self._value()

    def _value(self):
        tok = self.peek()
        if tok is None or tok[0] not in ("string", "number", "word"):
            self.take("string", what="value")
        self.i += 1
        if tok[0] == "word":
            if tok[1].lower() in ("true", "false"):
                return tok[1].lower() == "true"
            raise query_error("unquoted value %r at position %d" % (tok[1], tok[2]))
        return tok[1]

    def _tail(self, q):
        while self.i < len(self.tokens):
            tok = self.tokens[self.i]
            if tok[1] in ("ORDER", "ORDERBY") and tok[0] == "kw":
                self.i += 1
                if tok[1] == "ORDER":
                    self.take("kw", "BY")
                while True:
                    field = self.take("word", what="field name after ORDER BY")[1]
                    desc = False
                    if self.peek("kw", "ASC") or self.peek("kw", "DESC"):
                        desc = self.tokens[self.i][1] == "DESC"
                        self.i += 1
                    q.order.append((field, desc))
                    if not self.peek("punct", ","):
                        break
                    self.i += 1
            elif tok[1] in ("STARTPOSITION", "MAXRESULTS") and tok[0] == "kw":
                self.i += 1
                num = self.take("number", what="number after " + tok[1])[1]
                if "." in num or int(num) < 0:
                    raise query_error("%s needs a positive integer, got %s" % (tok[1], num))
                if tok[1] == "STARTPOSITION":
                    q.start = max(1, int(num))
                else:
                    q.max = min(int(num), MAX_RESULTS)
            else:
                return


def parse(text):
    if not text or not text.strip():
        raise query_error("empty query")
    return _Parser(text.strip().rstrip(";")).parse()


def get_field(record, path):
    """Case-insensitive, dotted field lookup; references compare by their value."""
    cur = record
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        key = next((k for k in cur if k.lower() == part.lower()), None)
        if key is None:
            return None
        cur = cur[key]
    if isinstance(cur, dict):
        # a reference compares by its value, an e-mail address (PrimaryEmailAddr) by its Address
        cur = cur.get("value", cur.get("Address", cur))
    return cur


def _key(value):
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (0, float(value))
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a number: a date or plain text
            return (0, float(value))
        try:
            dt = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=datetime.timezone.utc)
            return (1, dt.timestamp())
        except ValueError:
            return (2, value.lower())
    return (3, str(value))


def time_key(value):
    """Comparable key for a timestamp or date string (raises QBO 4000-style errors upstream)."""
    key = _key(value)
    if key[0] != 1:
        raise ValueError("not a date or time: %r" % value)
    return key[1]


def _match(record, cond, wanted=None):
    """Whether `record` meets `cond`; `wanted` is the set of the `IN` list's keys (computed once
    per query by run(), not once per record and listed value)."""
    field, op, want = cond
    have = get_field(record, field)
    if have is None:
        return False
    if op == "LIKE":
        pattern = "^" + ".*".join(re.escape(p) for p in want.split("%")) + "$"
        return re.match(pattern, str(have), re.IGNORECASE | re.DOTALL) is not None
    if op == "IN":
        return _key(have) in (wanted if wanted is not None else {_key(v) for v in want})
    a, b = _key(have), _key(want)
    if a[0] != b[0]:
        a, b = (2, str(have).lower()), (2, str(want).lower())
    return {"=": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def run(q, records, active_default, default_order=None):
    """Filter, order and page records; returns (rows, total).

    Without ORDERBY rows come by Id, or by ``default_order`` (a field, compared case-insensitively) as
    QuickBooks returns its name lists."""
    mentions_active = any(c[0].lower() == "active" for c in q.where)
    wanted = [{_key(v) for v in c[2]} if c[1] == "IN" else None for c in q.where]
    rows = [r for r in records if all(_match(r, c, w) for c, w in zip(q.where, wanted))
            and (not active_default or mentions_active or r.get("Active", True))]
    rows.sort(key=lambda r: _key(r.get("Id", "")))
    if default_order and not q.order:
        rows.sort(key=lambda r: str(get_field(r, default_order) or "").lower())
    for field, desc in reversed(q.order):
        present = [r for r in rows if get_field(r, field) is not None]
        missing = [r for r in rows if get_field(r, field) is None]
        present.sort(key=lambda r: _key(get_field(r, field)), reverse=desc)
        rows = present + missing
    total = len(rows)
    return rows[q.start - 1:q.start - 1 + q.max], total
