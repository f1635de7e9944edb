"""QBO-shaped faults: the exception raised inside the simulator and the JSON/XML bodies."""

MESSAGES = {
    "500": "Unsupported Operation",
    "610": "Object Not Found",
    "2000": "Invalid batch request",
    "2020": "Required param missing, need to supply the required value for the API",
    "2030": "Invalid ID",
    "2010": "Request has invalid or unsupported property",
    "2050": "String length is either shorter or longer than supported by specification",
    "2500": "Invalid Reference Id",
    "3001": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
    "3100": "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
    "4000": "Error parsing query",
    "4001": "Invalid query",
    "5010": "Stale Object Error",
    "6000": "A business validation error has occurred while processing your request",
    "6140": "Duplicate Document Number Error",
    "6240": "Duplicate Name Exists Error",
    "10000": "An application error has occurred while processing your request",
}

INACTIVE_DETAIL = ("Object Not Found : Something you're trying to use has been made inactive. "
                   "Check the fields with accounts, customers, items, vendors or employees.")
THROTTLE_DETAIL = "The request limit was reached.  Try again later"


class QBOError(Exception):
    """A fault answered to the client, with QBO's code, message and shape."""

    def __init__(self, code, detail="", element=None, status=400, ftype="ValidationFault", message=None):
        self.code = str(code)
        self.detail = detail
        self.element = element
        self.status = status
        self.ftype = ftype
        self.message = message or MESSAGES.get(self.code, "Error")
        self.headers = {}
        super().__init__("%s %s: %s" % (self.code, self.message, detail))

    def with_headers(self, headers):
        """Extra HTTP headers for the answer (Retry-After)."""
        self.headers.update(headers)
        return self

    def fault(self):
        err = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element:
            err["element"] = self.element
        return {"Error": [err], "type": self.ftype}


def business(detail, element=None):
    return QBOError("6000", detail, element)


def required(field, element=None):
    return QBOError("2020", "Required parameter %s is missing in the request" % field, element or field)


def too_long(field, value, limit):
    return QBOError("2050", "String length specified does not match the supported length. "
                    "Min:0 Max:%d supplied length:%d for %s" % (limit, len(value), field), field)


def check_len(rec, field, limit):
    """2050 when rec[field] is a text longer than QuickBooks takes."""
    value = rec.get(field)
    if isinstance(value, str) and len(value) > limit:
        raise too_long(field, value, limit)


def not_found_ref(family, ref_id, element=None):
    return QBOError("2500", "Invalid Reference Id : %s element id %s not found" % (family, ref_id), element)


def inactive_ref(element=None):
    return QBOError("610", INACTIVE_DETAIL, element)


def stale(element="SyncToken"):
    return QBOError("5010", "Stale Object Error : You and QuickBooks Simulator were working on this at the same "
                    "time. QuickBooks Simulator finished before you did, so your work was not saved.", element)


def unsupported(detail):
    return QBOError("500", detail, ftype="ValidationFault")


def query_error(detail):
    return QBOError("4000", "QueryParserError: " + detail, ftype="ValidationFault")


def system_error(detail="System Failure Error: An unexpected error occurred"):
    return QBOError("10000", detail, status=500, ftype="SystemFault")


def auth_body(detail, epoch_ms):
    """The lower-case 401 body QBO sends for a missing, expired or revoked token (time in epoch milliseconds)."""
    return {
        "warnings": None, "intuitObject": None,
        "fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                             "detail": detail, "code": "3200", "element": None}],
                  "type": "AUTHENTICATION"},
        "report": None, "queryResponse": None, "batchItemResponse": [], "attachableResponse": [],
        "syncErrorResponse": None, "requestId": None, "time": epoch_ms, "status": None, "cdcresponse": [],
    }


def throttle_xml(now_text):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<IntuitResponse time="%s" xmlns="http://schema.intuit.com/finance/v3">\n'
            '    <Fault type="SERVICE">\n'
            '        <Error code="3001">\n'
            '            <Message>%s</Message>\n'
            '            <Detail>%s</Detail>\n'
            '        </Error>\n'
            '    </Fault>\n'
            '</IntuitResponse>\n') % (now_text, MESSAGES["3001"], THROTTLE_DETAIL)


def throttle_error():
    return QBOError("3001", THROTTLE_DETAIL, status=429, ftype="SERVICE")
