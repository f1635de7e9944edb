"""Fault parsing and the typed error classes."""
import pytest

from qbo import (AuthenticationError, DuplicateDocNumberError, DuplicateNameError,
                 InvalidReferenceError, NotFoundError, QBOError, QueryError, RevokedError,
                 StaleObjectError, ThrottledError, TransientError, ValidationError,
                 error_from_fault, redact, register_secret)


def upper(code, message="Message", detail="Detail", element=None):
    return {"Fault": {"Error": [{"Message": message, "Detail": detail, "code": code,
                                 "element": element}], "type": "ValidationFault"},
            "time": "2024-01-01T00:00:00.000-08:00"}


@pytest.mark.parametrize("code,cls,transient", [
    ("6240", DuplicateNameError, False),
    ("6140", DuplicateDocNumberError, False),
    ("5010", StaleObjectError, True),
    ("610", NotFoundError, False),
    ("2500", InvalidReferenceError, False),
    ("2020", ValidationError, False),
    ("4000", QueryError, False),
    ("6000", ValidationError, False),
    ("10000", TransientError, True),
    ("3001", ThrottledError, True),
    ("3200", AuthenticationError, False),
    ("3100", RevokedError, False),
    ("9999", QBOError, False),
])
def test_codes_map_to_classes(code, cls, transient):
    err = error_from_fault(upper(code, element="Line"), status=400, intuit_tid="tid-1")
    assert type(err) is cls
    assert err.transient is transient
    assert (err.code, err.message, err.detail, err.element, err.status, err.intuit_tid) == (
        code, "Message", "Detail", "Line", 400, "tid-1")
    assert code in err.user_message() and "Message" in err.user_message()
    assert "Detail" in err.user_message()


def test_subclass_tree():
    assert issubclass(ThrottledError, TransientError)
    assert issubclass(RevokedError, AuthenticationError)
    for cls in (DuplicateNameError, DuplicateDocNumberError, StaleObjectError,
                InvalidReferenceError, QueryError):
        assert issubclass(cls, ValidationError)
    assert issubclass(ValidationError, QBOError) and issubclass(QBOError, Exception)


def test_lower_case_401_shape():
    body = {"warnings": None, "intuitObject": None, "fault": {"error": [{
        "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        "detail": "Token expired: abc", "code": "3200", "element": None}],
        "type": "AUTHENTICATION"}, "time": "x"}
    err = error_from_fault(body, status=401)
    assert type(err) is AuthenticationError and err.code == "3200"
    assert "Token expired" in err.detail and err.fault_type == "AUTHENTICATION"


def test_xml_body_and_bytes():
    xml = (b'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3"><Fault type="ValidationFault">'
           b'<Error code="6240" element="DisplayName"><Message>Duplicate Name Exists Error</Message>'
           b'<Detail>The name supplied already exists.</Detail></Error></Fault></IntuitResponse>')
    err = error_from_fault(xml, status=400)
    assert type(err) is DuplicateNameError and err.element == "DisplayName"
    assert err.detail == "The name supplied already exists."
    err = error_from_fault(xml.decode(), status=429, retry_after=3.0)
    assert type(err) is ThrottledError and err.retry_after == 3.0


def test_status_overrides():
    assert type(error_from_fault(upper("6240"), status=503)) is TransientError
    assert type(error_from_fault("Bad gateway", status=502)) is TransientError
    assert type(error_from_fault("", status=429)) is ThrottledError
    assert type(error_from_fault({}, status=401)) is AuthenticationError
    err = error_from_fault("<html>oops</html>", status=400)
    assert type(err) is QBOError and "oops" in err.message


def test_multiple_errors_kept_first_wins():
    body = upper("6240")
    body["Fault"]["Error"].append({"Message": "m2", "code": "2020"})
    err = error_from_fault(body)
    assert type(err) is DuplicateNameError and len(err.errors) == 2 and err.status is None


def test_secrets_masked_in_texts():
    register_secret("SuperSecretRefreshToken123")
    err = error_from_fault(upper("3200", detail="refresh SuperSecretRefreshToken123 bad"),
                           status=401)
    assert "SuperSecretRefreshToken123" not in str(err)
    assert "SuperSecretRefreshToken123" not in err.user_message()
    assert redact("Authorization: Bearer eyJabc.def") == "Authorization: Bearer ***"
    assert redact("grant_type=refresh_token&refresh_token=XYZ123456&x=1") == \
        "grant_type=refresh_token&refresh_token=***&x=1"
    assert redact('{"access_token": "abcdefgh"}') == '{"access_token": "***"}'
    assert redact("http://x/cb?code=AB12345&state=s") == "http://x/cb?code=***&state=s"
    assert redact("Basic dXNlcjpwYXNzd29yZA==") == "Basic ***"
