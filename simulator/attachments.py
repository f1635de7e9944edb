"""QuickBooks' attachments: POST /upload (multipart: file_metadata_01, the Attachable as JSON,
and file_content_01, the file) creates an Attachable that links the file to entities; the file
is kept with it and shown on the pages of the records it is attached to."""
import base64
import json
from email import policy
from email.parser import BytesParser

from .errors import QBOError, required

MAX_BYTES = 100 * 1024 * 1024  # QuickBooks' limit for one file
CONTENT_TYPES = {"application/pdf", "image/jpeg", "image/jpg", "image/png", "image/gif", "image/tiff",
                 "text/plain", "text/csv", "text/xml", "application/xml", "application/msword",
                 "application/vnd.ms-excel", "application/rtf",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
ATTACHABLE_TYPES = {"Invoice", "Estimate", "CreditMemo", "Payment", "Customer", "Vendor", "Item", "Bill",
                    "VendorCredit", "BillPayment"}
CONTENT_KEY = "_Content"  # kept with the record, never shown by the API


def parse_multipart(body):
    """{part name: (file name, content type, bytes)} of a multipart/form-data body."""
    first = body.split(b"\r\n", 1)[0]
    if not first.startswith(b"--") or len(first) < 3:
        raise QBOError("2010", "Request has invalid or unsupported property: the upload is not multipart/form-data")
    boundary = first[2:].decode("latin-1")
    head = ('Content-Type: multipart/form-data; boundary="%s"\r\n\r\n' % boundary).encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            parts[name] = (part.get_filename(), part.get_content_type(), part.get_payload(decode=True) or b"")
    return parts


def upload(company, body):
    """Create the Attachable of one uploaded file; returns the /upload answer."""
    parts = parse_multipart(body)
    if "file_metadata_01" not in parts or "file_content_01" not in parts:
        raise QBOError("2010", "Request has invalid or unsupported property: an upload has the two parts "
                       "file_metadata_01 and file_content_01")
    try:
        meta = json.loads(parts["file_metadata_01"][2].decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise QBOError("2010", "Request has invalid or unsupported property: file_metadata_01 is not JSON") from None
    file_name, content_type, content = parts["file_content_01"]
    name = meta.get("FileName") or file_name
    if not name:
        raise required("FileName")
    ctype = (meta.get("ContentType") or content_type or "").lower()
    if ctype not in CONTENT_TYPES:
        raise QBOError("2010", "Request has invalid or unsupported property: unsupported content type %s" % ctype,
                       "ContentType")
    if len(content) > MAX_BYTES:
        raise QBOError("2010", "Request has invalid or unsupported property: the file is larger than 100 MB",
                       "file_content_01")
    body = dict(meta, FileName=name, ContentType=ctype)
    with company.lock:
        _kind, attachable = company.write("Attachable", body, "create")   # the metadata as QuickBooks checks it
        rec = company.data["Attachable"][attachable["Id"]]
        rec.update({"Size": len(content), CONTENT_KEY: base64.b64encode(content).decode("ascii")})
    attachable["Size"] = len(content)
    return {"AttachableResponse": [{"Attachable": attachable}]}


def validate(company, rec, old):
    """An Attachable written through /upload or /attachable: a file or a note, linked to
    records that exist."""
    if not rec.get("FileName") and not rec.get("Note"):
        raise required("FileName")
    if rec.get("Note") and len(rec["Note"]) > 2000:
        raise QBOError("2010", "Request has invalid or unsupported property: Note is longer than 2000", "Note")
    refs = []
    for ref in rec.get("AttachableRef") or []:
        entity_ref = (ref or {}).get("EntityRef") or {}
        kind = entity_ref.get("type")
        entity = next((e for e in ATTACHABLE_TYPES if e.lower() == str(kind or "").lower()), None)
        if entity is None:
            raise QBOError("2010", "Request has invalid or unsupported property: AttachableRef.EntityRef.type %s"
                           % kind, "AttachableRef")
        target = company.check_ref(entity_ref, entity, "AttachableRef.EntityRef")
        refs.append({"EntityRef": {"type": entity, "value": target["Id"]},
                     "IncludeOnSend": bool(ref.get("IncludeOnSend", False))})
    rec["AttachableRef"] = refs


def attached_to(company, entity, rid):
    """The Attachables linked to one record."""
    return [rec for rec in company.data["Attachable"].values()
            if any(ref["EntityRef"]["type"] == entity and ref["EntityRef"]["value"] == str(rid)
                   for ref in rec.get("AttachableRef", []))]


def content(company, rid):
    rec = company.data["Attachable"].get(str(rid))
    if rec is None or CONTENT_KEY not in rec:
        return None
    return rec["FileName"], rec["ContentType"], base64.b64decode(rec[CONTENT_KEY])
