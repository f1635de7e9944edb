"""A scripted fake transport for tests: no network, no server.

    session, transport = fake_session(
        (429, "<IntuitResponse>...</IntuitResponse>", {"Retry-After": "3"}),
        (200, {"Customer": {"Id": "1"}}),
        requests.ConnectionError("dropped"),
    )
    client = QBOClient("123", "https://quickbooks.api.intuit.com", "token", session=session, sleep=delays.append)

Each scripted answer is a ``(status, body[, headers])`` tuple (a dict/list body is
sent as JSON, a str/bytes body as is), an exception instance to raise, or a
callable ``f(prepared_request) -> answer``. ``transport.requests`` keeps every
``requests.PreparedRequest`` sent, ``transport.kwargs`` the send() keyword
arguments (timeout...).
"""
import json
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


def make_response(request, status, body=None, headers=None):
    resp = requests.Response()
    resp.status_code = status
    resp.request = request
    resp.url = request.url
    resp.headers = CaseInsensitiveDict(headers or {})
    if isinstance(body, (dict, list)):
        resp._content = json.dumps(body).encode("utf-8")
        resp.headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        resp._content = body.encode("utf-8")
    else:
        resp._content = body or b""
    resp.encoding = "utf-8"
    return resp


class FakeTransport(BaseAdapter):
    def __init__(self, answers=()):
        super().__init__()
        self.answers = list(answers)
        self.requests = []
        self.kwargs = []

    def add(self, *answers):
        self.answers.extend(answers)

    def send(self, request, **kwargs):
        self.requests.append(request)
        self.kwargs.append(kwargs)
        if not self.answers:
            raise AssertionError("FakeTransport: no scripted answer for %s %s"
                                 % (request.method, request.url))
        answer = self.answers.pop(0)
        if callable(answer) and not isinstance(answer, BaseException):
            answer = answer(request)
        if isinstance(answer, BaseException):
            raise answer
        return make_response(request, *answer)

    def close(self):
        pass

    def params(self, index=-1):
        """The query parameters of request ``index`` as a dict of single values."""
        query = parse_qs(urlsplit(self.requests[index].url).query)
        return {key: values[-1] for key, values in query.items()}


def fake_session(*answers):
    session = requests.Session()
    transport = FakeTransport(answers)
    session.mount("http://", transport)
    session.mount("https://", transport)
    return session, transport
