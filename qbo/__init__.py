"""QuickBooks Online API client in plain Python (no Odoo imports here, ever).

Public interface::

    QBOAuth, TokenSet, PRODUCTION, SANDBOX          # OAuth via intuit-oauth (qbo.auth)
    HostRule, endpoints                              # where requests may go (qbo.hosts)
    QBOClient, BatchItemResult                       # the API client (qbo.client)
    quote, in_list, select                           # query building (qbo.query)
    QBOError and its subclasses, error_from_fault    # typed errors (qbo.errors)
    redact, register_secret                          # secret masking (qbo.redact)
"""
from .auth import API_BASE_URLS, PRODUCTION, SANDBOX, QBOAuth, TokenSet
from .hosts import HostRule, endpoints
from .client import (BATCH_REQUESTID_MAX, BATCH_SIZE, REQUESTID_MAX, BatchItemResult, QBOClient,
                     fit_requestid, new_requestid, parse_retry_after)
from .errors import (AuthenticationError, ConnectionConfigError, DuplicateDocNumberError,
                     DuplicateNameError, InvalidReferenceError, NotFoundError, QBOError, QueryError,
                     RevokedError, StaleObjectError, ThrottledError, TransientError,
                     UnexpectedAnswerError, ValidationError, error_from_fault)
from .query import in_list, quote, select
from .redact import redact, register_secret

__all__ = [
    "API_BASE_URLS", "PRODUCTION", "SANDBOX", "QBOAuth", "TokenSet", "HostRule", "endpoints",
    "BATCH_REQUESTID_MAX", "BATCH_SIZE", "REQUESTID_MAX", "BatchItemResult", "QBOClient",
    "fit_requestid", "new_requestid", "parse_retry_after",
    "AuthenticationError", "ConnectionConfigError", "DuplicateDocNumberError",
    "DuplicateNameError", "InvalidReferenceError", "NotFoundError", "QBOError", "QueryError",
    "RevokedError", "StaleObjectError", "ThrottledError", "TransientError", "UnexpectedAnswerError",
    "ValidationError",
    "error_from_fault", "in_list", "quote", "select", "redact", "register_secret",
]
