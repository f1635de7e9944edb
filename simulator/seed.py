"""The seeded companies: a US one and a Canadian one, and with ``--realms N`` more copies of them.

Realm ``9130350000000000 + k`` (k = 1, 2, 3, ...) is a copy of the US company when k is odd and
of the Canadian one when k is even; the first two are the US and Canadian companies themselves,
the others have their own realm id and a company name that carries k.
"""

US_REALM = "9130350000000001"
CA_REALM = "9130350000000002"
REALM_BASE = 9130350000000000


def realm_ids(count=2):
    """The realm ids of the first `count` seeded companies (never fewer than the two originals)."""
    return [str(REALM_BASE + k) for k in range(1, max(int(count), 2) + 1)]


def realm_number(realm):
    """k for a seeded realm id, None for any other realm."""
    realm = str(realm)
    if not realm.isdigit() or not 0 < int(realm) - REALM_BASE < 10 ** 6:
        return None
    return int(realm) - REALM_BASE


def company_name(realm):
    k = realm_number(realm)
    if k is None:
        return None
    if k <= 2:
        return COMPANY_NAMES[realm]
    return "Sim US Company %d" % k if k % 2 else "Sim Canada Company %d" % k


def _ref(value, name=None):
    ref = {"value": str(value)}
    if name:
        ref["name"] = name
    return ref


def _accounts(currency):
    rows = [
        ("1", "Sales of Product Income", "Income", "SalesOfProductIncome", True),
        ("2", "Services", "Income", "ServiceFeeIncome", True),
        ("3", "Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", True),
        ("4", "Inventory Asset", "Other Current Asset", "Inventory", True),
        ("5", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", True),
        ("6", "Office Expenses", "Expense", "OfficeGeneralAdministrativeExpenses", True),
        ("7", "Checking", "Bank", "Checking", True),
        ("8", "Undeposited Funds", "Other Current Asset", "UndepositedFunds", True),
        ("9", "Old Income Account", "Income", "OtherPrimaryIncome", False),
        ("10", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", True),
        ("11", "Visa", "Credit Card", "CreditCard", True),
        ("12", "Supplies", "Expense", "SuppliesMaterials", True),
        ("13", "Old Expense Account", "Expense", "OtherMiscellaneousServiceCost", False),
    ]
    return [{"Id": i, "Name": n, "FullyQualifiedName": n, "AccountType": t, "AccountSubType": s,
             "Classification": _classification(t), "Active": a, "SubAccount": False,
             "CurrentBalance": 0, "CurrencyRef": dict(currency)} for i, n, t, s, a in rows]


def _classification(account_type):
    if account_type in ("Income", "Other Income"):
        return "Revenue"
    if account_type in ("Expense", "Cost of Goods Sold", "Other Expense"):
        return "Expense"
    if account_type in ("Accounts Payable", "Credit Card", "Other Current Liability", "Long Term Liability"):
        return "Liability"
    return "Asset"


def _terms():
    rows = [("1", "Due on receipt", 0), ("2", "Net 15", 15), ("3", "Net 30", 30), ("4", "Net 60", 60)]
    return [{"Id": i, "Name": n, "Active": True, "Type": "STANDARD", "DueDays": d,
             "DiscountPercent": 0, "DiscountDays": 0} for i, n, d in rows]


def _rate(rid, name, value, agency="1"):
    return {"Id": rid, "Name": name, "Description": name, "Active": True, "RateValue": value,
            "AgencyRef": _ref(agency), "SpecialTaxType": "NONE", "DisplayType": "ReadOnly"}


def _code(cid, name, rate_ids, rates, taxable=True, group=True, purchase_ids=()):
    by_id = {r["Id"]: r for r in rates}

    def details(ids):
        return [{"TaxRateRef": _ref(r, by_id[r]["Name"]), "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}
                for r in ids]
    return {"Id": cid, "Name": name, "Description": name, "Active": True, "Hidden": False,
            "Taxable": taxable, "TaxGroup": group,
            "SalesTaxRateList": {"TaxRateDetail": details(rate_ids)},
            "PurchaseTaxRateList": {"TaxRateDetail": details(purchase_ids)}}


def _currency(us):
    return _ref("USD", "United States Dollar") if us else _ref("CAD", "Canadian Dollar")


def _names(country):
    city, sub, postal = ("Half Moon Bay", "CA", "94213") if country == "US" else ("Vancouver", "BC", "V6B 1A1")
    addr = {"Line1": "12 Ocean Dr.", "City": city, "CountrySubDivisionCode": sub,
            "PostalCode": postal, "Country": country}   # answered as "USA" / "CAN" (ISO 3-letter codes)
    currency = _currency(country == "US")

    def customer(cid, display, active=True, parent=None, **extra):
        rec = {"Id": cid, "DisplayName": display, "PrintOnCheckName": display, "Active": active,
               "Job": bool(parent), "BillWithParent": bool(parent), "Taxable": True,
               "Balance": 0, "BalanceWithJobs": 0, "CurrencyRef": dict(currency),
               "PreferredDeliveryMethod": "Print", "BillAddr": dict(addr),
               "FullyQualifiedName": display}   # a top-level customer has no Level (recorded in 2026)
        if parent:
            rec["ParentRef"] = _ref(parent[0], parent[1])
            rec["FullyQualifiedName"] = parent[1] + ":" + display
            rec["Level"] = 1
        rec.update(extra)
        return rec

    customers = [
        customer("1", "Amy's Bird Sanctuary", GivenName="Amy", FamilyName="Lauterbach",
                 CompanyName="Amy's Bird Sanctuary", PrimaryEmailAddr={"Address": "birds@example.com"}),
        customer("2", "Bill's Windsurf Shop", CompanyName="Bill's Windsurf Shop", SalesTermRef=_ref("3", "Net 30")),
        customer("3", "Old Customer Ltd", active=False, CompanyName="Old Customer Ltd"),
        customer("4", "Beach Branch", parent=("2", "Bill's Windsurf Shop")),
    ]
    vendors = [
        {"Id": "5", "DisplayName": "Brosnahan Insurance Agency", "CompanyName": "Brosnahan Insurance Agency",
         "PrintOnCheckName": "Brosnahan Insurance Agency", "Active": True, "Vendor1099": False, "Balance": 0,
         "CurrencyRef": dict(currency), "BillAddr": dict(addr, Line1="P.O. Box 5")},
        {"Id": "6", "DisplayName": "Acme Supplies Vendor", "CompanyName": "Acme Supplies",
         "PrintOnCheckName": "Acme Supplies Vendor", "Active": True, "Vendor1099": False, "Balance": 0,
         "CurrencyRef": dict(currency), "TermRef": _ref("2", "Net 15")},
    ]
    employees = [{"Id": "7", "DisplayName": "Emily Platt", "GivenName": "Emily", "FamilyName": "Platt",
                  "PrintOnCheckName": "Emily Platt", "Active": True, "BillableTime": False}]
    return customers, vendors, employees


def _account_ref(account_id):
    return _ref(account_id, next(a["Name"] for a in _accounts({}) if a["Id"] == account_id))


def _items(us):
    def item(iid, name, typ, price, income, active=True, **extra):
        rec = {"Id": iid, "Name": name, "FullyQualifiedName": name, "Type": typ, "UnitPrice": price,
               "Active": active, "Taxable": us, "TrackQtyOnHand": False, "SubItem": False,
               "IncomeAccountRef": _account_ref(income), "Description": name}
        rec.update(extra)
        return rec

    return [
        item("1", "Design", "Service", 75, "2", Sku="DES-1", Description="Custom Design"),
        item("2", "Gardening", "Service", 25, "2", Description="Weekly Gardening Service"),
        item("3", "Rock Fountain", "NonInventory", 275, "1", Description="Rock Fountain", ExpenseAccountRef=_account_ref("3"),
             PurchaseCost=125),
        item("4", "Old Item", "Service", 10, "2", active=False),
        item("5", "Pump", "Inventory", 15, "1", Sku="PMP-1", TrackQtyOnHand=True, QtyOnHand=25,
             InvStartDate="2024-01-01", AssetAccountRef=_account_ref("4"), ExpenseAccountRef=_account_ref("3"),
             PurchaseCost=10),
    ]


def _company(realm, name, country, addr):
    info = {"Id": "1", "CompanyName": name, "LegalName": name, "Country": country,
            "CompanyAddr": addr, "LegalAddr": addr, "Email": {"Address": "demo@example.com"},
            "SupportedLanguages": "en", "FiscalYearStartMonth": "January",
            "NameValue": [{"Name": "OfferingSku", "Value": "QuickBooks Online Plus"}]}
    us = country == "US"
    prefs = {"Id": "1",
             "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": False},
             "CurrencyPrefs": {"HomeCurrency": _ref("USD" if us else "CAD"), "MultiCurrencyEnabled": us},
             "SalesFormsPrefs": {"CustomTxnNumbers": True, "DefaultTerms": _ref("3"),
                                 "AllowDiscount": True, "AllowShipping": False},
             "VendorAndPurchasesPrefs": {"EnableBills": True, "TrackingByCustomer": True,
                                         "BillableExpenseTracking": True},
             "AccountingInfoPrefs": {"TrackDepartments": False, "ClassTrackingPerTxn": False,
                                     "DefaultAPAccount": _ref("10", "Accounts Payable (A/P)")},
             # QuickBooks' "Warn if duplicate bill number is used" (Advanced settings), on by default; the
             # simulator refuses a vendor's bill number used twice while it is on (see simulator/payables.py)
             "OtherPrefs": {"NameValue": [{"Name": "VendorAndPurchasesPrefs.WarnDuplicateBillNumber",
                                           "Value": "true"}]}}
    return info, prefs


def seed_company(realm):
    """Return {entity: [records]} for one seeded realm (records without MetaData/SyncToken)."""
    k = realm_number(realm)
    if k is None:
        raise KeyError("not a seeded realm: %r" % (realm,))
    us = k % 2 == 1
    name = company_name(realm)
    if us:
        addr = {"Line1": "2500 Garcia Ave", "City": "Mountain View", "CountrySubDivisionCode": "CA",
                "PostalCode": "94043", "Country": "USA"}
        info, prefs = _company(realm, name, "US", addr)   # CompanyInfo.Country stays "US"; addresses "USA"
        rates = [_rate("1", "California State", 6), _rate("2", "Alameda County", 2.25, "2"),
                 _rate("3", "New York City", 8.875, "3")]
        codes = [_code("TAX", "TAX", [], rates, group=False), _code("NON", "NON", [], rates, False, False),
                 _code("2", "California", ["1", "2"], rates), _code("3", "New York City", ["3"], rates)]
    else:
        addr = {"Line1": "100 King St W", "City": "Toronto", "CountrySubDivisionCode": "ON",
                "PostalCode": "M5X 1A9", "Country": "CAN"}
        info, prefs = _company(realm, name, "CA", addr)
        # QuickBooks Canada keeps sales and purchase rates apart: the purchase rates (input tax credits) are
        # their own TaxRate records, listed in each code's PurchaseTaxRateList
        rates = [_rate("1", "GST", 5), _rate("2", "HST ON", 13), _rate("3", "PST BC", 7, "2"),
                 _rate("4", "Exempt", 0), _rate("5", "Zero-rated", 0),
                 _rate("6", "GST (ITC)", 5), _rate("7", "HST ON (ITC)", 13), _rate("8", "PST BC (purchases)", 7, "2"),
                 _rate("9", "Exempt (purchases)", 0), _rate("10", "Zero-rated (purchases)", 0)]
        codes = [_code("3", "GST", ["1"], rates, purchase_ids=["6"]),
                 _code("4", "HST ON", ["2"], rates, purchase_ids=["7"]),
                 _code("5", "GST/PST BC", ["1", "3"], rates, purchase_ids=["6", "8"]),
                 _code("6", "PST BC", ["3"], rates, purchase_ids=["8"]),
                 _code("7", "Exempt", ["4"], rates, taxable=False, purchase_ids=["9"]),
                 _code("8", "Zero-rated", ["5"], rates, purchase_ids=["10"])]
    customers, vendors, employees = _names(info["Country"])
    return {
        "CompanyInfo": [info], "Preferences": [prefs], "Account": _accounts(_currency(us)),
        "Term": _terms(),
        "TaxRate": rates, "TaxCode": codes, "Customer": customers, "Vendor": vendors,
        "Employee": employees, "Item": _items(us),
        "PaymentMethod": [{"Id": i, "Name": n, "Type": t, "Active": True} for i, n, t in (
            ("1", "Cash", "NON_CREDIT_CARD"), ("2", "Check", "NON_CREDIT_CARD"), ("3", "Credit Card", "CREDIT_CARD"))],
    }


COMPANY_NAMES = {US_REALM: "Sim US Company (Demo Co.)", CA_REALM: "Sim Canada Company"}
