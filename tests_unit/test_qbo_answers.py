"""Answers QuickBooks does not send: the client raises its own error, with the raw answer kept for
the log, instead of an AttributeError or a TypeError in the caller."""
import pytest

from qbo import QBOClient, QBOError, UnexpectedAnswerError
from qbo.testing import fake_session

GOOD = {"CDCResponse": [{"QueryResponse": [{"Customer": [{"Id": "1", "SyncToken": "3"},
                                                         {"Id": "2", "status": "Deleted"}],
                                            "startPosition": 1, "maxResults": 2}]}],
        "time": "2026-01-01T00:00:00-08:00"}


def client_answering(answer):
    session, _transport = fake_session((200, answer))
    return QBOClient("9130", "https://quickbooks.api.intuit.com", "ACCESS-TOKEN-SECRET-9", session=session,
                     max_retries=0)


def test_good_answer():
    rows, when = client_answering(GOOD).changes(["Customer"], "2026-01-01T00:00:00Z")
    assert [r["Id"] for r in rows["Customer"]] == ["1", "2"] and when == GOOD["time"]
    assert client_answering(GOOD).cdc(["Customer"], "2026-01-01T00:00:00Z") == GOOD["CDCResponse"]


@pytest.mark.parametrize("answer, what", [
    ([{"Customer": []}], "no CDCResponse list"),
    ({"CDCResponse": {"QueryResponse": []}}, "no CDCResponse list"),
    ({"CDCResponse": ["x"]}, "block is not an object"),
    ({"CDCResponse": [{"QueryResponse": ["x"]}]}, "QueryResponse is not an object"),
    ({"CDCResponse": [{"QueryResponse": [{"Customer": ["1"]}]}]}, "Customer row without an Id"),
    ({"CDCResponse": [{"QueryResponse": [{"Customer": [{"Name": "x"}]}]}]}, "Customer row without an Id"),
    ({"CDCResponse": [{"QueryResponse": [{"Customer": [{"Id": "1", "SyncToken": None}]}]}]}, None),
    ({"CDCResponse": [{"QueryResponse": [{"Customer": [{"Id": "1", "SyncToken": "x1"}]}]}]}, "SyncToken 'x1'"),
    ({"CDCResponse": [{"QueryResponse": [{"Invoice": [{"Id": "7", "SyncToken": 2.5}]}]}]}, "SyncToken 2.5"),
    ({"CDCResponse": [], "time": 12}, "time is not a text"),
])
def test_unexpected_shapes_raise_the_clients_error(answer, what, caplog):
    client = client_answering(answer)
    if what is None:   # a row without a SyncToken at all is QuickBooks' right (a deleted one)
        client.changes(["Customer"], "2026-01-01T00:00:00Z")
        return
    with pytest.raises(UnexpectedAnswerError) as info:
        client.changes(["Customer", "Invoice"], "2026-01-01T00:00:00Z")
    error = info.value
    assert isinstance(error, QBOError) and error.code == "invalid_response"
    assert what in str(error)
    assert error.raw and "ACCESS-TOKEN-SECRET-9" not in error.raw
    assert error.raw.startswith(("[", "{"))
    assert "could not be read" in error.user_message()


def test_raw_answer_is_bounded_and_masked():
    error = UnexpectedAnswerError("odd", raw={"access_token": "SECRET-VALUE-12345", "x": "y" * 10000})
    assert len(error.raw) <= 4000 and "SECRET-VALUE-12345" not in error.raw


@pytest.mark.parametrize("answer", [
    {"QueryResponse": {"Customer": "not a list"}}, {"QueryResponse": {"Customer": ["1", "2"]}},
    {"QueryResponse": ["x"]}, ["x"],
])
def test_query_answer_of_unexpected_shape(answer):
    with pytest.raises(UnexpectedAnswerError):
        list(client_answering(answer).query_all("Customer"))


def test_query_answers_qbo_sends():
    client = client_answering({"QueryResponse": {"Customer": [{"Id": "1"}], "startPosition": 1, "maxResults": 1}})
    assert client.query_rows("SELECT * FROM Customer") == [{"Id": "1"}]
    assert client_answering({"QueryResponse": {"totalCount": 3}}).count("Customer") == 3
    assert client_answering({"QueryResponse": {}}).query_rows("SELECT * FROM Customer") == []
