"""A tiny standard-library client for the simulator's API, for tests and scripts."""
import json
import urllib.error
import urllib.parse
import urllib.request


class Answer:
    def __init__(self, status, body, headers):
        self.status, self.text, self.headers = status, body, headers
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def fault_code(self):
        data = self.json or {}
        fault = data.get("Fault") or data.get("fault") or {}
        errors = fault.get("Error") or fault.get("error") or [{}]
        return errors[0].get("code")

    def __repr__(self):
        return "<Answer %s %s>" % (self.status, self.text[:200])


class SimClient:
    """Bearer-token calls to /v3/company/{realm}/...; answers are never raised, only returned."""

    def __init__(self, base_url, realm, access_token, minorversion=75, timeout=30):
        self.base_url, self.realm, self.token = base_url.rstrip("/"), realm, access_token
        self.minorversion, self.timeout = minorversion, timeout

    def url(self, path, **params):
        params.setdefault("minorversion", self.minorversion)
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return "%s/v3/company/%s/%s?%s" % (self.base_url, self.realm, path.lstrip("/"), query)

    def call(self, method, path, body=None, content_type="application/json", **params):
        data = None
        if body is not None:
            data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url(path, **params), data=data, method=method, headers={
            "Authorization": "Bearer %s" % self.token, "Accept": "application/json",
            "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return Answer(resp.status, resp.read().decode("utf-8"), dict(resp.headers))
        except urllib.error.HTTPError as err:
            return Answer(err.code, err.read().decode("utf-8"), dict(err.headers))

    def get(self, path, **params):
        return self.call("GET", path, **params)

    def post(self, path, body, **params):
        return self.call("POST", path, body, **params)

    def query(self, text, **params):
        return self.call("POST", "query", text, content_type="application/text", **params)

    def create(self, entity, body, **params):
        return self.post(entity.lower(), body, **params)

    def read(self, entity, rid):
        return self.get("%s/%s" % (entity.lower(), rid))
