"""One QBO company in memory: entities, validation, totals and queries."""
import copy
import datetime
import logging
import threading
from decimal import Decimal

from . import query as qparser
from . import schema
from .errors import (QBOError, business, check_len, inactive_ref, not_found_ref, required, stale,
                     too_long, unsupported)
from .countries import iso3
from .money import ZERO, money, num, out
from .payables import PayablesRules
from .payments import PaymentRules
from .seed import seed_company
from . import tax
from . import attachments

_log = logging.getLogger("qbo_simulator")

FAMILY = {"Customer": "Names", "Vendor": "Names", "Employee": "Names", "Item": "Item",
          "Account": "Account", "Term": "Term", "TaxCode": "TaxCode", "TaxRate": "TaxRate",
          "Invoice": "Txn", "Estimate": "Txn", "CreditMemo": "Txn", "Payment": "Txn",
          "Bill": "Txn", "VendorCredit": "Txn", "BillPayment": "Txn",
          "CompanyInfo": "CompanyInfo", "Preferences": "Preferences", "PaymentMethod": "PaymentMethod",
          "Class": "Class", "Department": "Department", "Attachable": "Attachable"}
ENTITIES = list(FAMILY)
BY_LOWER = {e.lower(): e for e in ENTITIES}
NAME_LISTS = {"Customer", "Vendor", "Employee", "Item", "Account", "Term", "TaxCode", "TaxRate", "PaymentMethod",
              "Class", "Department"}
# how QuickBooks orders a name list queried without ORDERBY (recorded for customers and vendors)
LIST_ORDER = {"Customer": "FullyQualifiedName", "Vendor": "DisplayName", "Employee": "DisplayName",
              "Item": "FullyQualifiedName"}
WRITABLE = {"Customer", "Vendor", "Employee", "Item", "Account", "Invoice", "Estimate", "CreditMemo", "Payment",
            "Class", "Department", "Attachable", "Bill", "VendorCredit", "BillPayment"}
# inactive records of these lists come back with " (deleted)" after their names
DELETED_SUFFIX = " (deleted)"
SUFFIXED = {"Customer": ("DisplayName", "FullyQualifiedName"), "Vendor": ("DisplayName",),
            "Employee": ("DisplayName",), "Account": ("Name", "FullyQualifiedName")}
ADDRESS_FIELDS = ("BillAddr", "ShipAddr", "PrimaryAddr", "ShipFromAddr", "VendorAddr", "RemitToAddr")
# Intuit removed Lat/Long from answered addresses on 2025-09-15: accepted on write, never kept
REMOVED_ADDRESS_KEYS = ("Lat", "Long")
ACCOUNT_TYPES = {
    "Bank": ("Asset", "Checking"), "Accounts Receivable": ("Asset", "AccountsReceivable"),
    "Other Current Asset": ("Asset", "OtherCurrentAssets"), "Fixed Asset": ("Asset", "OtherFixedAssets"),
    "Other Asset": ("Asset", "OtherLongTermAssets"), "Accounts Payable": ("Liability", "AccountsPayable"),
    "Credit Card": ("Liability", "CreditCard"),
    "Other Current Liability": ("Liability", "OtherCurrentLiabilities"),
    "Long Term Liability": ("Liability", "OtherLongTermLiabilities"), "Equity": ("Equity", "OpeningBalanceEquity"),
    "Income": ("Revenue", "ServiceFeeIncome"), "Other Income": ("Revenue", "OtherMiscellaneousIncome"),
    "Cost of Goods Sold": ("Expense", "SuppliesMaterialsCogs"), "Expense": ("Expense", "OtherMiscellaneousServiceCost"),
    "Other Expense": ("Expense", "OtherMiscellaneousExpense")}
INVOICE_FLAGS = ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment")
TRANSACTIONS = {"Invoice", "Estimate", "CreditMemo", "Payment", "Bill", "VendorCredit", "BillPayment"}
SALES_FORMS = {"Invoice", "Estimate", "CreditMemo"}
PURCHASE_FORMS = {"Bill", "VendorCredit"}
TAX_FORMS = SALES_FORMS | PURCHASE_FORMS
# transactions the API voids (?operation=void, or update&include=void); a bill is voided in QuickBooks' own
# screens only (the simulator's page does it as a QuickBooks user would)
API_VOIDABLE = TRANSACTIONS - PURCHASE_FORMS
SYSTEM_KEYS = {"Id", "SyncToken", "MetaData", "domain", "sparse"}
NAME_FAMILIES = ("Customer", "Vendor", "Employee")
CA_TAX_DETAIL = "Business Validation Error: Make sure all your transactions have a GST/HST rate before you save."
DUP_NAME_DETAIL = ("The name supplied already exists. : Another customer, vendor or employee is already "
                   "using this name. Please use a different name.")
DUP_ITEM_DETAIL = ("The name supplied already exists. : Another product or service is already using this "
                   "name. Please use a different name.")
CURRENCY_NAMES = {"USD": "United States Dollar", "CAD": "Canadian Dollar", "EUR": "Euro",
                  "GBP": "British Pound Sterling"}


def strip_empty(value):
    """Drop "" and None values (python-quickbooks serialises many "" defaults)."""
    if isinstance(value, dict):
        return {k: strip_empty(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list):
        return [strip_empty(v) for v in value]
    return value


def _truthy(value):
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _ref_id(ref):
    value = ref.get("value") if isinstance(ref, dict) else ref
    return None if value in (None, "") else str(value)


def _name_key(entity, rec):
    """What a name is unique by: a customer's FullyQualifiedName, the DisplayName of the others."""
    field = "FullyQualifiedName" if entity == "Customer" else "DisplayName"
    return str(rec.get(field) or rec.get("DisplayName", "")).strip().lower()


def _same(rec, old):
    """True when an update leaves a record as it was (bookkeeping keys aside)."""
    skip = ("SyncToken", "MetaData", "domain", "sparse")
    return ({k: v for k, v in rec.items() if k not in skip} == {k: v for k, v in old.items() if k not in skip})


_check_len = check_len


class Company(PaymentRules, PayablesRules):
    def __init__(self, realm, clock):
        self.realm = realm
        self.clock = clock
        self.lock = threading.RLock()
        self.listener = None   # listener(realm, entity, kind, answer) after each write (webhooks)
        self.reset()

    # ----- state -------------------------------------------------------------------------
    def reset(self):
        with self.lock:
            self.data = {e: {} for e in ENTITIES}
            self.deleted = {e: {} for e in ENTITIES}   # id -> deletion time
            self.invalidate_indexes()
            self.horizon = None
            self.next_id = {}
            now = self.clock.iso_seconds()
            for entity, records in seed_company(self.realm).items():
                for rec in records:
                    rec.update({"SyncToken": "0", "domain": "QBO", "sparse": False,
                                "MetaData": {"CreateTime": now, "LastUpdatedTime": now}})
                    self.data[entity][rec["Id"]] = rec
            self._renumber()
            for entity in ("Customer", "Vendor", "Employee"):
                for rec in self.data[entity].values():
                    self._address_ids(rec, None)

    def _renumber(self):
        addr_ids = []
        for entity, records in self.data.items():
            fam = FAMILY[entity]
            ids = [int(i) for i in list(records) + list(self.deleted[entity]) if str(i).isdigit()]
            self.next_id[fam] = max([self.next_id.get(fam, 1)] + [i + 1 for i in ids])
            addr_ids += [int(rec[f]["Id"]) for rec in records.values() for f in ADDRESS_FIELDS
                         if isinstance(rec.get(f), dict) and str(rec[f].get("Id", "")).isdigit()]
        self.next_id["Addr"] = max([self.next_id.get("Addr", 1)] + [i + 1 for i in addr_ids])

    def _address_ids(self, rec, old):
        """Every stored address carries an Id (an address edited in place keeps the Id it had), its Country as
        the ISO 3-letter code (answered so since 2025-10-31, whatever was written) and no Lat/Long (removed
        from answers on 2025-09-15)."""
        for field in ADDRESS_FIELDS:
            addr = rec.get(field)
            if not isinstance(addr, dict):
                continue
            for key in REMOVED_ADDRESS_KEYS:
                addr.pop(key, None)
            if addr.get("Country"):
                addr["Country"] = iso3(addr["Country"])
            kept = ((old or {}).get(field) or {}).get("Id")
            if kept:
                addr["Id"] = kept
            else:
                addr["Id"] = str(self.next_id["Addr"])
                self.next_id["Addr"] += 1

    def dump(self):
        with self.lock:
            return copy.deepcopy({"data": self.data, "deleted": self.deleted})

    def load(self, state):
        with self.lock:
            self.data = {e: dict(state["data"].get(e, {})) for e in ENTITIES}
            self.invalidate_indexes()
            self.deleted = {}
            for entity in ENTITIES:
                gone = state.get("deleted", {}).get(entity, {})
                if isinstance(gone, list):   # files written before deletion times were kept
                    gone = {rid: "1970-01-01T00:00:00+00:00" for rid in gone}
                self.deleted[entity] = dict(gone)
            self.horizon = None
            self.next_id = {}
            self._renumber()

    # ----- indexes: names and sub-customers found without scanning every record ------------------
    # Both are hints, checked against the stored record when read (an entry whose record changed
    # since is dropped then); every write of a name family's record adds its entry, and whatever
    # changes records in place otherwise (a reset, a load, a merge) calls invalidate_indexes().
    def invalidate_indexes(self):
        self._names = None      # name key -> {(entity, Id)} of the name families
        self._children = None   # parent customer Id -> {child customer Id}
        self._bill_links = None  # (Bill or VendorCredit, Id) -> {BillPayment Id} (simulator/payables.py)

    def _name_index(self):
        if self._names is None:
            self._names, self._children = {}, {}
            for entity in NAME_FAMILIES:
                for rec in self.data[entity].values():
                    self._index(entity, rec)
        return self._names

    def _index(self, entity, rec):
        """Note a stored record of a name family in the indexes (they are built on first use)."""
        if self._names is None or entity not in NAME_FAMILIES:
            return
        self._names.setdefault(_name_key(entity, rec), set()).add((entity, rec["Id"]))
        parent = _ref_id(rec.get("ParentRef")) if entity == "Customer" else None
        if parent is not None:
            self._children.setdefault(parent, set()).add(rec["Id"])

    def _named(self, key):
        """The stored records of the name families whose name key is `key`: [(entity, record)]."""
        entries = self._name_index().get(key, set())
        found = []
        for entity, rid in sorted(entries):
            rec = self.data[entity].get(rid)
            if rec is None or _name_key(entity, rec) != key:
                entries.discard((entity, rid))   # renamed or gone since
            else:
                found.append((entity, rec))
        return found

    def _children_of(self, parent_id):
        self._name_index()
        ids = self._children.get(parent_id, set())
        children = []
        for rid in sorted(ids, key=lambda i: (len(i), i)):
            child = self.data["Customer"].get(rid)
            if child is None or _ref_id(child.get("ParentRef")) != parent_id:
                ids.discard(rid)
            else:
                children.append(child)
        return children

    @property
    def info(self):
        return self.data["CompanyInfo"]["1"]

    @property
    def prefs(self):
        return self.data["Preferences"]["1"]

    @property
    def us(self):
        return self.info.get("Country") == "US"

    @property
    def home_currency(self):
        return self.prefs["CurrencyPrefs"]["HomeCurrency"]["value"]

    def entities(self, entity):
        with self.lock:
            return copy.deepcopy(list(self.data[entity].values()))

    # ----- references ----------------------------------------------------------------------
    def check_ref(self, ref, entity, element):
        rid = _ref_id(ref)
        if rid is None:
            raise required(element)
        rec = self.data[entity].get(rid)
        if rec is None:
            if rid in self.deleted[entity]:
                raise inactive_ref(element)
            raise not_found_ref(self._family_label(entity), rid, element)
        if self.horizon and rid.isdigit() and int(rid) >= self.horizon.get(FAMILY[entity], float("inf")):
            # an item of a batch does not see what an earlier item of the same batch created
            raise not_found_ref(self._family_label(entity), rid, element)
        if not rec.get("Active", True):
            raise inactive_ref(element)
        return rec

    @staticmethod
    def _family_label(entity):
        return "Names" if FAMILY[entity] == "Names" else entity

    def batch_begin(self):
        self.horizon = dict(self.next_id)

    def batch_end(self):
        self.horizon = None

    def _named_ref(self, rec, field, entity, name_key="Name"):
        if _ref_id(rec.get(field)) is None:
            rec.pop(field, None)
            return None
        target = self.check_ref(rec[field], entity, field)
        rec[field] = {"value": target["Id"], "name": target.get(name_key, "")}
        return target

    # ----- reads and queries -------------------------------------------------------------------
    def read(self, entity, rid):
        with self.lock:
            if entity == "Preferences" or (entity == "CompanyInfo" and rid in (self.realm, "1")):
                rid = "1"
            rec = self.data[entity].get(str(rid))
            if rec is None:
                raise QBOError("610", "Object Not Found : Something you're trying to use has been made "
                               "inactive. Check the fields with accounts, customers, items, vendors or "
                               "employees.", "Id")
            return self.present(entity, rec)

    def present(self, entity, rec, with_sku=True):
        rec = copy.deepcopy(rec)
        rec.pop(attachments.CONTENT_KEY, None)
        if entity in SUFFIXED and not rec.get("Active", True):
            for field in SUFFIXED[entity]:
                if rec.get(field):
                    rec[field] += DELETED_SUFFIX
        if entity == "Item" and not with_sku:
            rec.pop("Sku", None)
        tax_id = rec.get("PrimaryTaxIdentifier")
        if tax_id:
            rec["PrimaryTaxIdentifier"] = "XXX-XX-" + tax_id[-4:]
        return rec

    def query(self, text):
        q = qparser.parse(text)
        entity = BY_LOWER.get(q.entity.lower())
        if entity is None:
            raise QBOError("4001", "QueryValidationError: Metadata not found for Entity: %s" % q.entity,
                           message="Invalid query")
        with self.lock:
            rows, total = qparser.run(q, list(self.data[entity].values()), entity in NAME_LISTS,
                                      LIST_ORDER.get(entity))
            if q.count:
                return {"totalCount": total}
            if not rows:
                return {}
            sku = any(f.lower() == "sku" for f in q.fields)
            result = [self._project(entity, r, q, sku) for r in rows]
        return {entity: result, "startPosition": q.start, "maxResults": len(result)}

    def _project(self, entity, rec, q, sku):
        rec = self.present(entity, rec, with_sku=sku)
        if q.star:
            return rec
        wanted = {f.lower() for f in q.fields} | {"id", "synctoken", "metadata", "domain"}
        rec = {k: v for k, v in rec.items() if k.lower() in wanted}
        rec["sparse"] = True
        return rec

    # ----- writes ----------------------------------------------------------------------------
    def write(self, entity, body, operation=None, include=None, user=False):
        """Create/update/delete/void one entity; returns (kind, entity answer). `user`: done by a person in
        QuickBooks' own screens (the simulator's page), which may do what the API may not (void a bill)."""
        if not isinstance(body, dict):
            raise QBOError("2010", "Request body must be a JSON object for %s" % entity)
        if entity not in WRITABLE:
            raise unsupported("Operation %s is not supported for %s." % (operation or "write", entity))
        schema.check(entity, body)   # an unknown property is refused (2010) before anything else
        with self.lock:
            try:
                kind, answer = self._write(entity, body, operation, include, user)
            except (AttributeError, TypeError, ValueError, KeyError, ArithmeticError) as exc:
                # a field of the wrong shape (a string where an object belongs, ...): QBO answers 2010
                _log.warning("malformed %s body rejected: %r", entity, exc, exc_info=True)
                raise QBOError("2010", "Request has invalid or unsupported property: a field of %s has the "
                               "wrong type (%s)" % (entity, exc)) from None
            if self.listener is not None:
                self.listener(self.realm, entity, kind, answer)
            return kind, answer

    def _write(self, entity, body, operation, include, user=False):
        if operation == "delete":
            return "delete", self._delete(entity, body)
        if operation == "void" or (operation == "update" and include == "void"):
            if entity not in API_VOIDABLE and not (user and entity in TRANSACTIONS):
                raise unsupported("Operation Void is not supported for %s." % entity)
            return "void", self._void(entity, body)
        if operation not in (None, "", "create", "update"):
            raise unsupported("Operation %s is not supported." % operation)
        if operation == "update" or (operation != "create" and _ref_id(body.get("Id")) is not None):
            return "update", self._update(entity, body)
        return "create", self._create(entity, body)

    def _create(self, entity, body):
        rec = strip_empty({k: v for k, v in body.items() if k not in SYSTEM_KEYS})
        fam = FAMILY[entity]
        rec["Id"] = str(self.next_id[fam])
        self._validate(entity, rec, None)
        self._check_period(entity, rec)
        self._address_ids(rec, None)
        self.next_id[fam] += 1
        now = self.clock.iso_seconds()
        rec.update({"SyncToken": "0", "domain": "QBO", "sparse": False,
                    "MetaData": {"CreateTime": now, "LastUpdatedTime": now}})
        self.data[entity][rec["Id"]] = rec
        self._index(entity, rec)
        self._after_write(entity, rec)
        return self.present(entity, rec)

    def _current(self, entity, body):
        rid = _ref_id(body.get("Id"))
        if rid is None:
            raise required("Id")
        old = self.data[entity].get(rid)
        if old is None:
            raise QBOError("610", "Object Not Found : Something you're trying to use has been made inactive. "
                           "Check the fields with accounts, customers, items, vendors or employees.", "Id")
        token = body.get("SyncToken")
        if token is None or token == "":
            raise required("SyncToken")
        try:
            same = int(str(token)) == int(old["SyncToken"])
        except ValueError:
            same = False
        if not same:
            raise stale()
        return old

    def _bump(self, rec, old):
        rec["SyncToken"] = str(int(old["SyncToken"]) + 1)
        rec["MetaData"] = {"CreateTime": old["MetaData"]["CreateTime"],
                           "LastUpdatedTime": self.clock.iso_seconds()}
        rec["domain"], rec["sparse"] = "QBO", False

    def close_books(self, date, password=False):
        """QuickBooks' "Close the books" (Advanced settings): no transaction dated on or before `date` is
        created, changed, voided or deleted through the API any more (6200; 6210 when a password guards the
        closing). `date` None opens the books again."""
        with self.lock:
            prefs = self.prefs.setdefault("AccountingInfoPrefs", {})
            if date:
                prefs["BookCloseDate"] = datetime.date.fromisoformat(str(date)).isoformat()
            else:
                prefs.pop("BookCloseDate", None)
            self.books_password = bool(date and password)

    def set_other_pref(self, name, value):
        """Set one of Preferences.OtherPrefs' name/value pairs."""
        with self.lock:
            pairs = self.prefs.setdefault("OtherPrefs", {}).setdefault("NameValue", [])
            found = next((p for p in pairs if p.get("Name") == name), None)
            if found is None:
                pairs.append({"Name": name, "Value": value})
            else:
                found["Value"] = value

    def _check_period(self, entity, rec):
        closed = (self.prefs.get("AccountingInfoPrefs") or {}).get("BookCloseDate")
        if not closed or entity not in TRANSACTIONS or not rec or str(rec.get("TxnDate") or "9999") > closed:
            return
        if getattr(self, "books_password", False):
            raise QBOError("6210", "The account period has closed and the account books cannot be updated through "
                           "the QBO Services API. Please use the QBO website to make these changes. (The books "
                           "are closed with a password.) TxnDate=%s, closing date %s" % (rec["TxnDate"], closed),
                           "TxnDate", message="Account Period Closed, Cannot Update Through Services API")
        raise QBOError("6200", "The account period has closed and the account books cannot be updated through the "
                       "QBO Services API. Please use the QBO website to make these changes. TxnDate=%s, closing "
                       "date %s" % (rec["TxnDate"], closed), "TxnDate", message="Account Period Closed")

    def replace(self, entity, rec, old):
        """Store a changed copy of a record made outside a write body (e-mail sent, ...); returns it."""
        self._bump(rec, old)
        self.data[entity][rec["Id"]] = rec
        self._index(entity, rec)
        return self.present(entity, rec)

    def _update(self, entity, body):
        old = self._current(entity, body)
        incoming = strip_empty({k: v for k, v in body.items() if k not in SYSTEM_KEYS})
        if _truthy(body.get("sparse")):
            rec = copy.deepcopy(old)
            rec.update(incoming)
            if entity in TAX_FORMS and "TxnTaxDetail" not in incoming:
                rec["TxnTaxDetail"] = tax.carry_over(old.get("TxnTaxDetail") or {})
        else:
            rec = incoming
        rec["Id"] = old["Id"]
        for field in SUFFIXED.get(entity, ()):
            # a name read from an inactive record ("X (deleted)") sent back as it came means "X"
            if rec.get(field) == "%s%s" % (old.get(field), DELETED_SUFFIX):
                rec[field] = old[field]
        self._check_period(entity, old)
        self._validate(entity, rec, old)
        self._check_period(entity, rec)
        self._address_ids(rec, old)
        if entity in ("Invoice", "CreditMemo"):
            self._refresh_linked(entity, rec, bump=False)   # payments applied to it, as stored
        if _same(rec, old):
            return self.present(entity, old)   # nothing changed: QBO keeps SyncToken and LastUpdatedTime
        self._bump(rec, old)
        self.data[entity][rec["Id"]] = rec
        self._index(entity, rec)
        self._after_write(entity, rec, old)
        return self.present(entity, rec)

    def _delete(self, entity, body):
        if entity not in TRANSACTIONS and entity != "Attachable":
            raise unsupported("Operation Delete is not supported for %s; set Active to false instead." % entity)
        old = self._current(entity, body)
        self._check_period(entity, old)
        self._check_no_payment(entity, old["Id"], "delete")
        self._check_no_bill_payment(entity, old["Id"], "delete")
        del self.data[entity][old["Id"]]
        self.deleted[entity][old["Id"]] = self.clock.iso_seconds()
        self._after_write(entity, None, old)
        return {"Id": old["Id"], "status": "Deleted", "domain": "QBO"}

    def _void(self, entity, body):
        if entity not in TRANSACTIONS:
            raise unsupported("Operation Void is not supported for %s." % entity)
        old = self._current(entity, body)
        self._check_period(entity, old)
        self._check_no_payment(entity, old["Id"], "void")
        self._check_no_bill_payment(entity, old["Id"], "void")
        rec = copy.deepcopy(old)
        for line in rec.get("Line", []):
            if "Amount" in line:
                line["Amount"] = 0
        rec["TotalAmt"] = 0
        if "Balance" in rec:
            rec["Balance"] = 0
        for key in ("HomeTotalAmt", "HomeBalance"):
            if key in rec:
                rec[key] = 0
        if "UnappliedAmt" in rec:
            rec["UnappliedAmt"] = 0
        if "TxnTaxDetail" in rec:
            rec["TxnTaxDetail"]["TotalTax"] = 0
            rec["TxnTaxDetail"]["TaxLine"] = []
        rec["PrivateNote"] = "Voided"
        self._bump(rec, old)
        self.data[entity][rec["Id"]] = rec
        self._after_write(entity, rec, old)
        return self.present(entity, rec)

    # ----- validation per entity ----------------------------------------------------------------
    def _validate(self, entity, rec, old):
        if entity in SALES_FORMS:
            return self._sales_form(entity, rec, old)
        if entity in PURCHASE_FORMS:
            return self._purchase_form(entity, rec, old)
        if entity in ("Class", "Department"):
            return self._list_entry(rec, old, entity)
        if entity == "Attachable":
            return attachments.validate(self, rec, old)
        return {"Customer": self._customer, "Vendor": self._vendor, "Employee": self._employee, "Item": self._item,
                "Account": self._account, "Payment": self._payment, "BillPayment": self._bill_payment}[entity](rec, old)

    def _list_entry(self, rec, old, entity):
        """A Class or a Department (a location): a name unique in its list."""
        name = rec.get("Name")
        if not name:
            raise required("Name")
        _check_len(rec, "Name", 100)
        for other in self.data[entity].values():
            if other["Id"] != rec["Id"] and other["Name"].lower() == str(name).lower():
                raise QBOError("6240", "Duplicate Name Exists Error : The name supplied already exists. Id=%s"
                               % other["Id"], "Name")
        rec["FullyQualifiedName"] = name
        rec["Active"] = _truthy(rec.get("Active", True))

    def _display_name(self, rec, old):
        if not rec.get("DisplayName"):
            parts = [rec.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
            name = " ".join(str(p) for p in parts if p) or rec.get("CompanyName")
            if not name:
                raise required("DisplayName")
            rec["DisplayName"] = name
        name = rec["DisplayName"] = str(rec["DisplayName"])
        for field, limit in (("DisplayName", 500), ("GivenName", 100), ("FamilyName", 100),
                             ("MiddleName", 100), ("CompanyName", 100), ("PrintOnCheckName", 110)):
            _check_len(rec, field, limit)
        email = (rec.get("PrimaryEmailAddr") or {}).get("Address")
        if email and len(email) > 100:
            raise too_long("PrimaryEmailAddr.Address", email, 100)
        phone = (rec.get("PrimaryPhone") or {}).get("FreeFormNumber")
        if phone and len(phone) > 30:
            raise too_long("PrimaryPhone.FreeFormNumber", phone, 30)
        if any(c in name for c in ":\t\n\r"):
            raise business("Business Validation Error: The DisplayName field cannot contain a colon (:), "
                           "a tab or a newline. Supplied value:%s" % name, "DisplayName")
        rec.setdefault("PrintOnCheckName", name)
        rec["Active"] = _truthy(rec.get("Active", True))

    def _unique_name(self, rec, name):
        """Names are unique across customers, vendors and employees, active or not; a customer is known by
        its FullyQualifiedName (a sub-customer "Doe:Jack Doe" and a top-level "Jack Doe" can coexist)."""
        for _entity, other in self._named(name.strip().lower()):
            if other["Id"] != rec["Id"]:
                raise QBOError("6240", DUP_NAME_DETAIL + " Id=%s" % other["Id"], "DisplayName")

    def _currency(self, rec, old):
        home = self.home_currency
        code = _ref_id(rec.get("CurrencyRef")) or (old and _ref_id(old.get("CurrencyRef"))) or home
        if old is not None and _ref_id(old.get("CurrencyRef")) not in (None, code):
            raise business("Business Validation Error: The currency of a name cannot be changed once set.",
                           "CurrencyRef")
        if code != home and not self.prefs["CurrencyPrefs"]["MultiCurrencyEnabled"]:
            raise business("Business Validation Error: Multicurrency is not enabled for this company; "
                           "only %s can be used (got %s)." % (home, code), "CurrencyRef")
        rec["CurrencyRef"] = {"value": code, "name": self.currency_name(code)}
        return code

    @staticmethod
    def currency_name(code):
        return CURRENCY_NAMES.get(code, code)

    def _customer(self, rec, old):
        self._display_name(rec, old)
        self._currency(rec, old)
        name = rec["DisplayName"]
        self._named_ref(rec, "SalesTermRef", "Term")
        self._named_ref(rec, "DefaultTaxCodeRef", "TaxCode")
        rec["Taxable"] = _truthy(rec.get("Taxable", True))
        for key in ("Balance", "BalanceWithJobs"):
            rec[key] = old.get(key, 0) if old else 0
        rec["PreferredDeliveryMethod"] = rec.get("PreferredDeliveryMethod", "Print")
        if _ref_id(rec.get("ParentRef")) is not None:
            parent = self.check_ref(rec["ParentRef"], "Customer", "ParentRef")
            if parent["Id"] == rec["Id"] or self._is_descendant(parent, rec["Id"]):
                raise business("Business Validation Error: A customer cannot be its own parent.", "ParentRef")
            level = parent.get("Level", 0) + 1
            if level > 4:
                raise business("Business Validation Error: Sub-customers can be nested only 4 levels deep.",
                               "ParentRef")
            rec["ParentRef"] = {"value": parent["Id"], "name": parent["DisplayName"]}
            rec.update(Job=True, Level=level, FullyQualifiedName=parent["FullyQualifiedName"] + ":" + name,
                       BillWithParent=_truthy(rec.get("BillWithParent", False)))
        else:
            if old is not None and old.get("Job"):
                raise business("Business Validation Error: A sub-customer cannot be made a top-level "
                               "customer again.", "ParentRef")
            if _truthy(rec.get("Job", False)):
                raise required("ParentRef")
            rec.pop("ParentRef", None)
            rec.pop("Level", None)   # a top-level customer is answered without Level (recorded in 2026)
            rec.update(Job=False, FullyQualifiedName=name, BillWithParent=False)
        self._unique_name(rec, rec["FullyQualifiedName"])

    def _is_descendant(self, rec, ancestor_id):
        seen = set()
        while rec is not None and rec["Id"] not in seen:
            seen.add(rec["Id"])
            parent_id = _ref_id(rec.get("ParentRef"))
            if parent_id == ancestor_id:
                return True
            rec = self.data["Customer"].get(parent_id) if parent_id else None
        return False

    def _refresh_children(self, parent):
        for child in self._children_of(parent["Id"]):
            child["FullyQualifiedName"] = parent["FullyQualifiedName"] + ":" + child["DisplayName"]
            child["ParentRef"]["name"] = parent["DisplayName"]
            child["Level"] = parent.get("Level", 0) + 1
            self._index("Customer", child)
            self._refresh_children(child)

    def _vendor(self, rec, old):
        self._display_name(rec, old)   # PrintOnCheckName defaults to the display name
        self._unique_name(rec, rec["DisplayName"])
        self._currency(rec, old)
        self._named_ref(rec, "TermRef", "Term")
        if _ref_id(rec.get("APAccountRef")) is not None:
            self._ap_account(rec, rec["CurrencyRef"]["value"])
        rec["Vendor1099"] = _truthy(rec.get("Vendor1099", False))
        rec["Balance"] = old.get("Balance", 0) if old else 0

    def _employee(self, rec, old):
        self._display_name(rec, old)
        self._unique_name(rec, rec["DisplayName"])
        rec["BillableTime"] = _truthy(rec.get("BillableTime", False))

    def _account(self, rec, old):
        name = rec.get("Name")
        if not name:
            raise required("Name")
        name = rec["Name"] = str(name)
        _check_len(rec, "Name", 100)
        _check_len(rec, "Description", 100)
        _check_len(rec, "AcctNum", 20)
        if any(c in name for c in ':"\t\n\r'):
            raise business("Business Validation Error: The account name cannot contain a colon (:), a double "
                           "quote, a tab or a newline. Supplied value:%s" % name, "Name")
        typ = rec.get("AccountType") or (old or {}).get("AccountType")
        if typ is None and rec.get("AccountSubType"):
            typ = next((t for t, (_c, sub) in ACCOUNT_TYPES.items() if sub == rec["AccountSubType"]), None)
        if typ is None:
            raise required("AccountType")
        if typ not in ACCOUNT_TYPES:
            raise business("Business Validation Error: Invalid AccountType %s." % typ, "AccountType")
        classification, subtype = ACCOUNT_TYPES[typ]
        rec.update(AccountType=typ, Classification=classification)
        rec.setdefault("AccountSubType", (old or {}).get("AccountSubType") or subtype)
        parent = self._named_ref(rec, "ParentRef", "Account")
        rec["SubAccount"] = parent is not None
        rec["FullyQualifiedName"] = (parent["FullyQualifiedName"] + ":" + name) if parent else name
        key = rec["FullyQualifiedName"].lower()
        for other in self.data["Account"].values():
            if other["Id"] != rec["Id"] and other.get("FullyQualifiedName", "").lower() == key:
                raise QBOError("6240", "Another account is already using this name. Please use a different "
                               "name. Id=%s" % other["Id"], "Name", message="Duplicate Name Exists Error")
        rec["Active"] = _truthy(rec.get("Active", True))
        rec["CurrentBalance"] = (old or {}).get("CurrentBalance", 0)
        self._currency(rec, old)   # the home currency unless sent; read-only once set

    def _item(self, rec, old):
        name = rec.get("Name")
        if not name:
            raise required("Name")
        name = rec["Name"] = str(name)
        _check_len(rec, "Name", 100)
        _check_len(rec, "Sku", 100)
        _check_len(rec, "Description", 4000)
        key = name.strip().lower()
        for other in self.data["Item"].values():
            if other["Id"] != rec["Id"] and other["Name"].strip().lower() == key:
                raise QBOError("6240", DUP_ITEM_DETAIL + " Id=%s" % other["Id"], "Name")
        typ = rec.get("Type") or (old or {}).get("Type") or "NonInventory"
        if typ not in ("Service", "NonInventory", "Inventory", "Category", "Group"):
            raise business("Business Validation Error: Invalid item Type %s." % typ, "Type")
        rec["Type"] = typ
        if typ in ("Service", "NonInventory", "Inventory"):
            if _ref_id(rec.get("IncomeAccountRef")) is None:
                raise required("IncomeAccountRef")
            self._named_ref(rec, "IncomeAccountRef", "Account")
        self._named_ref(rec, "ExpenseAccountRef", "Account")
        self._named_ref(rec, "AssetAccountRef", "Account")
        self._named_ref(rec, "SalesTaxCodeRef", "TaxCode")
        track = _truthy(rec.get("TrackQtyOnHand", False))
        if typ == "Inventory":
            for field in ("AssetAccountRef", "ExpenseAccountRef", "QtyOnHand", "InvStartDate"):
                if rec.get(field) is None:
                    raise required(field)
            if not track:
                raise required("TrackQtyOnHand")
        if old is not None and old.get("TrackQtyOnHand") and not track:
            raise business("Business Validation Error: Quantity on hand tracking cannot be turned off.",
                           "TrackQtyOnHand")
        rec["TrackQtyOnHand"] = track
        for field in ("UnitPrice", "PurchaseCost", "QtyOnHand"):
            value = num(rec.get(field), field)
            if value is not None:
                rec[field] = out(value)
        rec.setdefault("UnitPrice", 0)
        rec["FullyQualifiedName"] = name
        rec["Active"] = _truthy(rec.get("Active", True))
        rec["Taxable"] = _truthy(rec.get("Taxable", False))

    # ----- transactions ------------------------------------------------------------------------------
    def _txn_header(self, entity, rec, old, party="Customer"):
        """The customer (or vendor) of a transaction, its currency and exchange rate, and its TxnDate."""
        field = party + "Ref"
        cust = self.check_ref(rec.get(field), party, field)
        rec[field] = {"value": cust["Id"], "name": cust["DisplayName"]}
        code = self._currency(rec, None)
        rate = num(rec.get("ExchangeRate"), "ExchangeRate")
        rec["ExchangeRate"] = out(rate) if rate and code != self.home_currency else 1
        if code != _ref_id(cust.get("CurrencyRef")):
            raise business("Business Validation Error: The transaction currency %s must match the %s "
                           "currency %s." % (code, party.lower(), _ref_id(cust.get("CurrencyRef"))), "CurrencyRef")
        rec["TxnDate"] = rec.get("TxnDate") or (old or {}).get("TxnDate") or self.clock.today().isoformat()
        try:
            datetime.date.fromisoformat(rec["TxnDate"])
        except (TypeError, ValueError):
            raise QBOError("2010", "Invalid date %r for TxnDate" % rec["TxnDate"], "TxnDate") from None
        return cust

    def _doc_number(self, entity, rec, old):
        doc = rec.get("DocNumber")
        if doc is None and old is not None:
            doc = old.get("DocNumber")
        if doc is None:
            used = [int(r["DocNumber"]) for r in self.data[entity].values()
                    if str(r.get("DocNumber", "")).isdigit()]
            doc = str(max(used + [1000]) + 1)
        doc = rec["DocNumber"] = str(doc)
        _check_len(rec, "DocNumber", 21)
        for other in self.data[entity].values():
            if other["Id"] != rec["Id"] and str(other.get("DocNumber", "")).lower() == doc.lower():
                raise QBOError("6140", "Duplicate Document Number Error : You must specify a different number. "
                               "This number has already been used. DocNumber=%s is assigned to TxnType=%s "
                               "with TxnId=%s" % (doc, entity, other["Id"]), "DocNumber")

    def _sales_form(self, entity, rec, old):
        if not isinstance(rec.get("Line"), list) or not rec["Line"]:
            raise required("Line")
        cust = self._txn_header(entity, rec, old)
        self._doc_number(entity, rec, old)
        term = self._named_ref(rec, "SalesTermRef", "Term")
        if entity == "Invoice":
            if term is None:
                term_id = _ref_id(cust.get("SalesTermRef")) or _ref_id(self.prefs["SalesFormsPrefs"]["DefaultTerms"])
                term = self.data["Term"].get(term_id)
                if term:
                    rec["SalesTermRef"] = {"value": term["Id"], "name": term["Name"]}
            if not rec.get("DueDate"):
                days = term.get("DueDays", 0) if term else 0
                rec["DueDate"] = (datetime.date.fromisoformat(rec["TxnDate"])
                                  + datetime.timedelta(days=days)).isoformat()
        self._named_ref(rec, "ClassRef", "Class")
        self._named_ref(rec, "DepartmentRef", "Department")
        if entity == "Estimate":
            rec.setdefault("TxnStatus", "Pending")
        if entity == "Invoice":
            self._estimate_links(rec)
            for flag in INVOICE_FLAGS:
                rec[flag] = _truthy(rec.get(flag, False))
        if old is None:
            # a new sales form takes the customer's addresses; a customer without a shipping address ships
            # to its billing address (QuickBooks' "Same as billing address")
            for field, source in (("BillAddr", ("BillAddr",)), ("ShipAddr", ("ShipAddr", "BillAddr"))):
                found = next((cust[f] for f in source if isinstance(cust.get(f), dict)), None)
                if field not in rec and found is not None:
                    rec[field] = {k: v for k, v in found.items() if k != "Id"}
        rec.setdefault("EmailStatus", "NotSet")
        rec.setdefault("PrintStatus", "NeedToPrint" if entity == "Invoice" else "NotSet")
        _check_len(rec, "PrivateNote", 4000)
        self._totals(rec, cust)
        if entity == "CreditMemo":
            rec["Balance"] = rec["RemainingCredit"] = rec["TotalAmt"]
        elif entity == "Invoice":
            rec["Balance"] = rec["TotalAmt"]

    def _estimate_links(self, rec):
        links = []
        for link in rec.get("LinkedTxn") or []:
            if not isinstance(link, dict) or link.get("TxnType") != "Estimate":
                continue
            est_id = str(link.get("TxnId", ""))
            if est_id in self.deleted["Estimate"]:
                raise inactive_ref("LinkedTxn")
            if est_id not in self.data["Estimate"]:
                raise not_found_ref("Estimate", est_id, "LinkedTxn")
            links.append({"TxnId": est_id, "TxnType": "Estimate"})
        rec["LinkedTxn"] = links

    def _close_estimates(self, inv):
        for link in inv.get("LinkedTxn", []):
            est = self.data["Estimate"].get(link["TxnId"]) if link.get("TxnType") == "Estimate" else None
            back = {"TxnId": inv["Id"], "TxnType": "Invoice"}
            if est is not None and back not in est.setdefault("LinkedTxn", []):
                old = copy.deepcopy(est)
                est["LinkedTxn"].append(back)
                est["TxnStatus"] = "Closed"
                self._bump(est, old)

    def changed_since(self, entity, since_key):
        """Records changed at or after since_key (a query._key) plus deletions, for CDC."""
        with self.lock:
            rows = [self.present(entity, r) for r in self.data[entity].values()
                    if qparser.time_key(r["MetaData"]["LastUpdatedTime"]) >= since_key]
            rows += [{"Id": rid, "status": "Deleted", "domain": "QBO", "MetaData": {"LastUpdatedTime": when}}
                     for rid, when in self.deleted[entity].items() if qparser.time_key(when) >= since_key]
            return rows

    def _sales_lines(self, rec):
        """Normalise lines; returns [(line, amount)] for item lines and the discount total."""
        lines, items, pending, discount = [], [], [], ZERO
        for index, line in enumerate(rec["Line"], 1):
            if not isinstance(line, dict):
                raise QBOError("2010", "Line %d is not an object" % index, "Line")
            kind = line.get("DetailType")
            if kind == "SubTotalLineDetail":
                continue
            line = dict(line, Id=str(index), LineNum=index)
            if kind == "SalesItemLineDetail":
                amount = self._item_line(rec, line, index)
                items.append([line, amount])
                pending.append(items[-1])
            elif kind == "DiscountLineDetail":
                detail = line.get("DiscountLineDetail") or {}
                base = sum((entry[1] for entry in pending), ZERO)
                pct = num(detail.get("DiscountPercent"), "DiscountPercent")
                if _truthy(detail.get("PercentBased")) and pct is not None:
                    amount = money(base * pct / 100)
                else:
                    amount = money(num(line.get("Amount"), "Amount") or 0)
                if amount and base:
                    for entry in pending:
                        entry.append(amount * entry[1] / base)
                discount += amount
                pending = []
                line["Amount"] = out(amount)
            elif kind == "DescriptionOnly":
                line.pop("Amount", None)
            else:
                raise business("Business Validation Error: Unsupported line DetailType %r." % kind, "Line")
            lines.append(line)
        if not items:
            raise required("Line.SalesItemLineDetail", "Line")
        subtotal = sum((entry[1] for entry in items), ZERO)
        lines.append({"Amount": out(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
        rec["Line"] = lines
        return [(entry[0], entry[1] - sum(entry[2:], ZERO)) for entry in items], discount

    def _item_line(self, rec, line, index):
        detail = dict(line.get("SalesItemLineDetail") or {})
        element = "Line.SalesItemLineDetail.ItemRef"
        item = self.check_ref(detail.get("ItemRef"), "Item", element)
        detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
        self._named_ref(detail, "ClassRef", "Class")
        qty = num(detail.get("Qty"), "Qty")
        price = num(detail.get("UnitPrice"), "UnitPrice")
        amount = num(line.get("Amount"), "Amount")
        code = _ref_id(detail.get("TaxCodeRef"))
        if qty and price is not None:
            amount = money(qty * price)
        elif amount is not None:
            amount = money(amount)
        elif price is not None:
            qty, amount = Decimal(1), money(price)
        elif (amount := tax.inclusive_net(self, rec, detail, code)) is None:
            raise required("Line.Amount", "Line")
        for key, value in (("Qty", qty), ("UnitPrice", price)):
            if value is not None:
                detail[key] = out(value)
        self._line_tax_code(detail, "Line.SalesItemLineDetail.TaxCodeRef")
        line["SalesItemLineDetail"] = detail
        line["Amount"] = out(amount)
        return amount

    def _line_tax_code(self, detail, element, purchase=False):
        """A line's tax code: TAX or NON in the US (NON when none is sent), a real tax code elsewhere (6000
        without one; on a purchase, a code with purchase rates)."""
        code = _ref_id(detail.get("TaxCodeRef"))
        if self.us:
            code = code or "NON"
            if code not in ("TAX", "NON"):
                raise not_found_ref("TaxCode", code, element)
        elif code is None:
            raise business(CA_TAX_DETAIL, element)
        else:
            found = self.check_ref(code, "TaxCode", element)
            if purchase and not tax.code_rates(self, code, purchase=True):
                raise business("Business Validation Error: The tax code %s has no purchase rate: it cannot be used "
                               "on a purchase." % found["Name"], element)
        detail["TaxCodeRef"] = {"value": code}
        return code

    def _totals(self, rec, cust):
        nets, discount = self._sales_lines(rec)
        tax.compute(self, rec, nets)

    def _after_write(self, entity, rec, old=None):
        if entity == "Customer":
            self._refresh_children(rec)
        elif entity in ("Invoice", "CreditMemo"):
            self._after_linked_write(entity, rec, old)
            if entity == "Invoice" and rec is not None:
                self._close_estimates(rec)
        elif entity == "Payment":
            self._after_payment_write(rec, old)
        elif entity in PURCHASE_FORMS or entity == "BillPayment":
            self._after_payable_write(entity, rec, old)

    def _adjust_customer(self, cust_id, delta):
        cust = self.data["Customer"].get(cust_id)
        if cust is None or not delta:
            return
        cust["Balance"] = out(money(num(cust.get("Balance", 0)) + delta))
        seen = set()
        while cust is not None and cust["Id"] not in seen:
            seen.add(cust["Id"])
            cust["BalanceWithJobs"] = out(money(num(cust.get("BalanceWithJobs", 0)) + delta))
            cust = self.data["Customer"].get(_ref_id(cust.get("ParentRef")) or "")
