"""The properties QuickBooks Online accepts in a write body, per entity and per nested type.

QBO reads a JSON body with a strict reader: a property its schema does not declare, at any depth, is refused
with 2010 "Request has invalid or unsupported property" (nothing is stored), and so is an object or a list
where a plain value belongs (or the reverse). Read-only properties (Balance, TotalAmt, MetaData, ...) ARE
declared: QBO accepts and ignores them, and python-quickbooks sends many of them as empty defaults.

The tables follow Intuit's published v3 schema (Finance.xsd and IntuitBaseTypes.xsd of Intuit's
QuickBooks-V3-Java-SDK, October 2024; the payables Bill, VendorCredit, BillPayment and their PurchaseByVendor,
BillPaymentCheck and BillPaymentCreditCard from the same file), which is the definition QBO's JSON reader is built from:
``TYPES[name] = (base type, plain properties, nested properties)``. A nested property names its type;
``["Type"]`` is a list of that type; ``ANY`` is an extension element (``...Ex``) whose content is free.
Every ``Line`` shares one type (one detail element per DetailType), as in Intuit's schema.

Add an entity here before the simulator writes it; add a property only when Intuit's API reference
lists it (never to make a connector's typo pass).
"""
from .errors import QBOError

ANY = "*"
UNSUPPORTED = "Request has invalid or unsupported property"
BATCH_ITEM_KEYS = {"bId", "operation", "optionsData", "Query", "ReportQuery", "CDCQuery"}


def _t(base, scalars, **nested):
    return base, scalars.split(), nested


TYPES = {
    "Account": _t("IntuitEntity",
             "Name SubAccount Description FullyQualifiedName AccountAlias TxnLocationType Active Classification "
             "AccountType AccountSubType AcctNum AcctNumExtn BankNum OpeningBalance OpeningBalanceDate "
             "CurrentBalance CurrentBalanceWithSubAccounts TaxAccount OnlineBankingEnabled FIName",
             ParentRef="ReferenceType", AccountPurposes=["ReferenceType"], CurrencyRef="ReferenceType",
             TaxCodeRef="ReferenceType", JournalCodeRef="ReferenceType", AccountEx=ANY),
    "AccountBasedExpenseLineDetail": _t(None,
             "BillableStatus TaxAmount TaxInclusiveAmt",
             CustomerRef="ReferenceType", ClassRef="ReferenceType", AccountRef="ReferenceType",
             MarkupInfo="MarkupInfo", TaxCodeRef="ReferenceType", ExpenseDetailLineDetailEx=ANY),
    "Attachable": _t("IntuitEntity",
             "FileName FileAccessUri TempDownloadUri Size ContentType Category Lat Long PlaceName Note Tag "
             "ThumbnailFileAccessUri ThumbnailTempDownloadUri",
             AttachableEx=ANY),
    "AttachableRef": _t(None,
             "LineInfo IncludeOnSend",
             EntityRef="ReferenceType", CustomField=["CustomField"], AttachableRefEx=ANY),
    "Bill": _t("PurchaseByVendor",
             "DueDate Balance HomeBalance LessCIS IncludeInAnnualTPAR",
             PayerRef="ReferenceType", SalesTermRef="ReferenceType", RemitToAddr="PhysicalAddress",
             ShipAddr="PhysicalAddress", VendorAddr="PhysicalAddress", BillEx=ANY),
    "BillPayment": _t("Transaction",
             "PayType TotalAmt",
             VendorRef="ReferenceType", VendorAddr="PhysicalAddress", APAccountRef="ReferenceType",
             CheckPayment="BillPaymentCheck", CreditCardPayment="BillPaymentCreditCard", BillPaymentEx=ANY),
    "BillPaymentCheck": _t(None,
             "PrintStatus",
             BankAccountRef="ReferenceType", CheckDetail="CheckPayment", PayeeAddr="PhysicalAddress",
             BillPaymentCheckEx=ANY),
    "BillPaymentCreditCard": _t(None,
             "",
             CCAccountRef="ReferenceType", CCDetail="CreditCardPayment", BillPaymentCreditCardEx=ANY),
    "CheckPayment": _t(None,
             "CheckNum Status NameOnAcct AcctNum BankName",
             CheckPaymentEx=ANY),
    "Class": _t("IntuitEntity",
             "Name SubClass FullyQualifiedName Active",
             ParentRef="ReferenceType", ClassEx=ANY),
    "ContactInfo": _t(None,
             "Type",
             Telephone="TelephoneNumber", Email="EmailAddress", WebSite="WebSiteAddress",
             OtherContact="GenericContactType"),
    "ConvenienceFeeDetail": _t("IntuitEntity",
             "ConvenienceFeeType ConvenienceFeePercent"),
    "CreditCardPayment": _t(None,
             "",
             CreditChargeInfo="CreditChargeInfo", CreditChargeResponse="CreditChargeResponse"),
    "CreditChargeInfo": _t(None,
             "Number Type NameOnAcct CcExpiryMonth CcExpiryYear BillAddrStreet PostalCode CommercialCardCode "
             "CCTxnMode CCTxnType PrevCCTransId Amount ProcessPayment",
             CreditCardChargeInfoEx=ANY),
    "CreditChargeResponse": _t(None,
             "CCProcessor CCTransId Status ResultCode ResultMsg MerchantAcctNum CardSecurityCodeMatch AuthCode "
             "AvsStreet AvsZip SecurityCode ReconBatchId PaymentGroupingCode TxnAuthorizationTime "
             "TxnAuthorizationStamp ClientTransID",
             CreditChargeResponseEx=ANY),
    "CreditMemo": _t("SalesTransaction",
             "RemainingCredit",
             InvoiceRef="ReferenceType", CreditMemoEx=ANY),
    "CustomField": _t(None,
             "DefinitionId Name Type StringValue BooleanValue DateValue NumberValue"),
    "Customer": _t("NameBase",
             "Taxable ContactName AltContactName Notes Job BillWithParent Level Balance OpenBalanceDate "
             "BalanceWithJobs CreditLimit AcctNum OverDueBalance TotalRevenue TotalExpense PreferredDeliveryMethod "
             "ResaleNum TDSEnabled SecondaryTaxIdentifier PrimaryTaxIdentifier TaxExemptionReasonId IsProject "
             "BusinessNumber GSTIN GSTRegistrationType IsCISContractor ClientCompanyId ClientEntityId Source "
             "TaxRegime",
             BillAddr="PhysicalAddress", ShipAddr="PhysicalAddress", OtherAddr=["PhysicalAddress"],
             RootCustomerRef="ReferenceType", ParentRef="ReferenceType", CustomerTypeRef="ReferenceType",
             SalesTermRef="ReferenceType", SalesRepRef="ReferenceType", TaxGroupCodeRef="ReferenceType",
             TaxRateRef="ReferenceType", PaymentMethodRef="ReferenceType", CCDetail="CreditChargeInfo",
             PriceLevelRef="ReferenceType", CurrencyRef="ReferenceType", JobInfo="JobInfo", CustomerEx=ANY,
             ARAccountRef="ReferenceType"),
    "Department": _t("IntuitEntity",
             "Name SubDepartment FullyQualifiedName Active",
             ParentRef="ReferenceType", DepartmentEx=ANY, Address="PhysicalAddress"),
    "DepositLineDetail": _t(None,
             "CheckNum TxnType TaxApplicableOn",
             Entity="ReferenceType", ClassRef="ReferenceType", AccountRef="ReferenceType",
             PaymentMethodRef="ReferenceType", TaxCodeRef="ReferenceType", DepositLineDetailEx=ANY),
    "DescriptionLineDetail": _t(None,
             "ServiceDate",
             TaxCodeRef="ReferenceType", DescriptionLineDetailEx=ANY),
    "DiscountLineDetail": _t("DiscountOverride",
             "ServiceDate",
             ClassRef="ReferenceType", TaxCodeRef="ReferenceType", DiscountLineDetailEx=ANY),
    "DiscountOverride": _t(None,
             "PercentBased DiscountPercent",
             DiscountRef="ReferenceType", DiscountAccountRef="ReferenceType"),
    "EmailAddress": _t(None,
             "Id Address Default Tag"),
    "Employee": _t("NameBase",
             "EmployeeType EmployeeNumber SSN BillableTime BillRate BirthDate Gender HiredDate ReleasedDate "
             "UseTimeEntry CostRate Notes",
             PrimaryAddr="PhysicalAddress", OtherAddr=["PhysicalAddress"], EmployeeEx=ANY),
    "EntityTypeRef": _t(None,
             "Type",
             EntityRef="ReferenceType"),
    "Estimate": _t("SalesTransaction",
             "ExpirationDate AcceptedBy AcceptedDate",
             EstimateEx=ANY),
    "GenericContactType": _t(None,
             "Id Name Value Type Default Tag"),
    "GroupLineDetail": _t(None,
             "Quantity ServiceDate",
             GroupItemRef="ReferenceType", UOMRef="UOMRef", Line=["Line"], GroupLineDetailEx=ANY),
    "IntuitEntity": _t(None,
             "Id SyncToken domain status sparse",
             MetaData="ModificationMetaData", CustomField=["CustomField"], AttachableRef=["AttachableRef"]),
    "Invoice": _t("SalesTransaction",
             "Deposit AllowIPNPayment AllowOnlinePayment AllowOnlineCreditCardPayment AllowOnlineACHPayment "
             "AllowOnlinePayPalPayment EInvoiceStatus ECloudStatusTimeStamp CfdiUse Exportation invoiceStatus "
             "callToAction LessCIS InvoiceLink PaymentDetailsMessage InvoiceLinkSecurityCode InvoiceLinkExpiryDate "
             "AutoPayEligible SchedulePayEligible ScheduledPaymentId GratuityEnabled FinancingProductType "
             "SubscriptionPaymentsSetting",
             GlobalInfo="MXGlobalInfo", invoiceStatusLog=["StatusInfo"], InvoiceEx=ANY,
             ConvenienceFeeDetail="ConvenienceFeeDetail"),
    "Item": _t("IntuitEntity",
             "Name Sku Description Active SubItem Level FullyQualifiedName Taxable SalesTaxIncluded PercentBased "
             "UnitPrice RatePercent Type PurchaseDesc PurchaseTaxIncluded PurchaseCost AvgCost TrackQtyOnHand "
             "QtyOnHand QtyOnPurchaseOrder QtyOnSalesOrder ReorderPoint ManPartNum InvStartDate BuildPoint "
             "PrintGroupedItems SpecialItem SpecialItemType AbatementRate ReverseChargeRate ServiceType "
             "ItemCategoryType UQCDisplayText UQCId Source DeferredRevenue",
             ParentRef="ReferenceType", PaymentMethodRef="ReferenceType", UOMSetRef="ReferenceType",
             IncomeAccountRef="ReferenceType", ExpenseAccountRef="ReferenceType", COGSAccountRef="ReferenceType",
             AssetAccountRef="ReferenceType", PrefVendorRef="ReferenceType", DepositToAccountRef="ReferenceType",
             SalesTaxCodeRef="ReferenceType", PurchaseTaxCodeRef="ReferenceType", ItemGroupDetail="ItemGroupDetail",
             ItemAssemblyDetail="ItemAssemblyDetail", ItemEx=ANY, TaxClassificationRef="ReferenceType",
             ClassRef="ReferenceType"),
    "ItemAdjustmentLineDetail": _t(None,
             "SalesPrice QtyDiff NewQty",
             ItemRef="ReferenceType", ClassRef="ReferenceType"),
    "ItemAssemblyDetail": _t(None,
             "",
             ItemAssemblyLine=["ItemComponentLine"]),
    "ItemBasedExpenseLineDetail": _t("ItemLineDetail",
             "BillableStatus TaxInclusiveAmt",
             CustomerRef="ReferenceType", ItemBasedExpenseLineDetailEx=ANY),
    "ItemComponentLine": _t(None,
             "Qty",
             ItemRef="ReferenceType", UOMRef="UOMRef"),
    "ItemGroupDetail": _t(None,
             "",
             ItemGroupLine=["ItemComponentLine"]),
    "ItemLineDetail": _t(None,
             "UnitPrice UnitCostPrice RatePercent Qty",
             ItemRef="ReferenceType", ClassRef="ReferenceType", PriceLevelRef="ReferenceType",
             MarkupInfo="MarkupInfo", UOMRef="UOMRef", ItemAccountRef="ReferenceType",
             InventorySiteRef="ReferenceType", TaxCodeRef="ReferenceType", TaxClassificationRef="ReferenceType"),
    "ItemReceiptLineDetail": _t(None,
             "",
             ItemReceiptLineDetailEx=ANY),
    "JobInfo": _t(None,
             "Status StartDate ProjectedEndDate EndDate Description",
             JobTypeRef="ReferenceType"),
    "JournalEntryLineDetail": _t(None,
             "PostingType TaxApplicableOn TaxAmount TaxInclusiveAmt BillableStatus",
             Entity="EntityTypeRef", AccountRef="ReferenceType", ClassRef="ReferenceType",
             DepartmentRef="ReferenceType", TaxCodeRef="ReferenceType", TaxRateRef="ReferenceType",
             JournalCodeRef="ReferenceType", JournalEntryLineDetailEx=ANY),
    "Line": _t(None,
             "Id LineNum Description Amount Received DetailType CostAmount HomeCostAmount",
             LinkedTxn=["LinkedTxn"], PaymentLineDetail="PaymentLineDetail",
             DiscountLineDetail="DiscountLineDetail", TaxLineDetail="TaxLineDetail",
             SalesItemLineDetail="SalesItemLineDetail", DescriptionLineDetail="DescriptionLineDetail",
             ItemBasedExpenseLineDetail="ItemBasedExpenseLineDetail",
             AccountBasedExpenseLineDetail="AccountBasedExpenseLineDetail",
             ReimburseLineDetail="ReimburseLineDetail", DepositLineDetail="DepositLineDetail",
             PurchaseOrderItemLineDetail="PurchaseOrderItemLineDetail",
             SalesOrderItemLineDetail="SalesOrderItemLineDetail", ItemReceiptLineDetail="ItemReceiptLineDetail",
             JournalEntryLineDetail="JournalEntryLineDetail", GroupLineDetail="GroupLineDetail",
             SubTotalLineDetail="SubTotalLineDetail", TDSLineDetail="TDSLineDetail",
             ItemAdjustmentLineDetail="ItemAdjustmentLineDetail", CustomField=["CustomField"], LineEx=ANY,
             ProjectRef="ReferenceType"),
    "LinkedTxn": _t(None,
             "TxnId TxnType TxnLineId"),
    "MXGlobalInfo": _t(None,
             "Periodicity Month Year"),
    "MarkupInfo": _t(None,
             "PercentBased Value Percent",
             PriceLevelRef="ReferenceType", MarkUpIncomeAccountRef="ReferenceType"),
    "MemoRef": _t(None,
             "value id"),
    "ModificationMetaData": _t(None,
             "CreateTime LastUpdatedTime LastChangedInQB Synchronized",
             CreatedByRef="ReferenceType", LastModifiedByRef="ReferenceType"),
    "NameBase": _t("IntuitEntity",
             "IntuitId Organization Title GivenName MiddleName FamilyName Suffix FullyQualifiedName CompanyName "
             "DisplayName PrintOnCheckName UserId Active V4IDPseudonym",
             PrimaryPhone="TelephoneNumber", AlternatePhone="TelephoneNumber", Mobile="TelephoneNumber",
             Fax="TelephoneNumber", PrimaryEmailAddr="EmailAddress", WebAddr="WebSiteAddress",
             OtherContactInfo=["ContactInfo"], DefaultTaxCodeRef="ReferenceType"),
    "Payment": _t("Transaction",
             "PaymentRefNum PaymentType TotalAmt UnappliedAmt ProcessPayment",
             CustomerRef="ReferenceType", RemitToRef="ReferenceType", ARAccountRef="ReferenceType",
             DepositToAccountRef="ReferenceType", PaymentMethodRef="ReferenceType", CheckPayment="CheckPayment",
             CreditCardPayment="CreditCardPayment", PaymentEx=ANY),
    "PaymentLineDetail": _t(None,
             "ServiceDate Balance HomeBalance",
             ItemRef="ReferenceType", ClassRef="ReferenceType", Discount="DiscountOverride", PaymentLineEx=ANY),
    "PaymentMethod": _t("IntuitEntity",
             "Name Active Type",
             PaymentMethodEx=ANY),
    "PhysicalAddress": _t(None,
             "Id Line1 Line2 Line3 Line4 Line5 City Country CountryCode County CountrySubDivisionCode PostalCode "
             "PostalCodeSuffix Lat Long Tag Note"),
    "PurchaseOrderItemLineDetail": _t("SalesItemLineDetail",
             "ManPartNum ManuallyClosed OpenQty",
             PurchaseOrderItemLineDetailEx=ANY),
    "PurchaseByVendor": _t("Transaction",
             "TotalAmt Memo GlobalTaxCalculation",
             VendorRef="ReferenceType", APAccountRef="ReferenceType", BillEmail="EmailAddress",
             ReplyEmail="EmailAddress"),
    "RecurringInfo": _t(None,
             "Name RecurType Active",
             ScheduleInfo="RecurringScheduleInfo"),
    "RecurringScheduleInfo": _t(None,
             "IntervalType NumInterval DayOfMonth DayOfWeek WeekOfMonth MonthOfYear RemindDays DaysBefore "
             "MaxOccurrences StartDate EndDate NextDate PreviousDate"),
    "ReferenceType": _t(None,
             "value name type"),
    "RefundReceipt": _t("SalesTransaction",
             "RemainingCredit",
             RefundReceiptEx=ANY),
    "ReimburseLineDetail": _t("ItemLineDetail",
             ""),
    "SalesItemLineDetail": _t("ItemLineDetail",
             "ServiceDate TaxInclusiveAmt DiscountRate DiscountAmt DeferredRevenue",
             SalesItemLineDetailEx=ANY),
    "SalesOrderItemLineDetail": _t("SalesItemLineDetail",
             "ManuallyClosed"),
    "SalesReceipt": _t("SalesTransaction",
             "LessCIS",
             SalesReceiptEx=ANY),
    "SalesTransaction": _t("Transaction",
             "AutoDocNumber FreeFormAddress DueDate PONumber FOB ShipDate TrackingNum GlobalTaxCalculation "
             "TotalAmt HomeTotalAmt ApplyTaxAfterDiscount ShippingTaxIncludedInTotalTax PrintStatus EmailStatus "
             "Balance HomeBalance FinanceCharge PaymentRefNum PaymentType DiscountRate DiscountAmt "
             "GovtTxnRefIdentifier",
             CustomerRef="ReferenceType", CustomerMemo="MemoRef", BillAddr="PhysicalAddress",
             ShipAddr="PhysicalAddress", ShipFromAddr="PhysicalAddress", RemitToRef="ReferenceType",
             ClassRef="ReferenceType", SalesTermRef="ReferenceType", SalesRepRef="ReferenceType",
             ShipMethodRef="ReferenceType", TemplateRef="ReferenceType", BillEmail="EmailAddress",
             BillEmailCc="EmailAddress", BillEmailBcc="EmailAddress", ARAccountRef="ReferenceType",
             PaymentMethodRef="ReferenceType", CheckPayment="CheckPayment", CreditCardPayment="CreditCardPayment",
             DepositToAccountRef="ReferenceType", DeliveryInfo="TransactionDeliveryInfo",
             TaxExemptionRef="ReferenceType"),
    "StatusInfo": _t(None,
             "status statusDate callToAction"),
    "SubTotalLineDetail": _t(None,
             "ServiceDate",
             ItemRef="ReferenceType"),
    "TDSLineDetail": _t(None,
             "TDSSectionTypeId",
             TDSAccountRef="ReferenceType", TDSLineDetailEx=ANY),
    "Tag": _t("IntuitEntity",
             "Name"),
    "TaxLineDetail": _t(None,
             "PercentBased TaxPercent NetAmountTaxable TaxInclusiveAmount OverrideDeltaAmount ServiceDate",
             TaxRateRef="ReferenceType", TaxLineDetailEx=ANY),
    "TelephoneNumber": _t(None,
             "Id DeviceType CountryCode AreaCode ExchangeCode Extension FreeFormNumber Default Tag"),
    "Term": _t("IntuitEntity",
             "Name Active Type DiscountPercent DueDays DiscountDays DayOfMonthDue DueNextMonthDays "
             "DiscountDayOfMonth",
             SalesTermEx=ANY),
    "Transaction": _t("IntuitEntity",
             "DocNumber TxnDate ExchangeRate PrivateNote TxnStatus TxnSource TaxFormType TaxFormNum "
             "TransactionLocationType TotalCostAmount HomeTotalCostAmount",
             DepartmentRef="ReferenceType", CurrencyRef="ReferenceType", LinkedTxn=["LinkedTxn"], Line=["Line"],
             TxnTaxDetail="TxnTaxDetail", Tag=["Tag"], TxnApprovalInfo="TxnApprovalInfo",
             RecurDataRef="ReferenceType", RecurringInfo="RecurringInfo", ProjectRef="ReferenceType"),
    "TransactionDeliveryInfo": _t(None,
             "DeliveryType DeliveryTime DeliveryErrorType"),
    "TxnApprovalInfo": _t(None,
             "ApprovalStatus ApprovalStatusDetail LastChangedByUser LastChangedDate"),
    "TxnTaxDetail": _t(None,
             "TotalTax TaxReviewStatus UseAutomatedSalesTax",
             DefaultTaxCodeRef="ReferenceType", TxnTaxCodeRef="ReferenceType", TaxLine=["Line"]),
    "UOMRef": _t(None,
             "Unit",
             UOMSetRef="ReferenceType"),
    "Vendor": _t("NameBase",
             "ContactName AltContactName Notes TaxCountry TaxIdentifier TaxIdEffectiveDate BusinessNumber Balance "
             "BillRate OpenBalanceDate CreditLimit AcctNum Vendor1099 T4AEligible T5018Eligible TDSEnabled "
             "TDSEntityTypeId TDSSectionTypeId TDSOverrideThreshold TaxReportingBasis GSTIN GSTRegistrationType "
             "IsSubContractor SubcontractorType CISRate HasTPAR Source CostRate",
             BillAddr="PhysicalAddress", ShipAddr="PhysicalAddress", OtherAddr=["PhysicalAddress"],
             ParentRef="ReferenceType", VendorTypeRef="ReferenceType", TermRef="ReferenceType",
             PrefillAccountRef="ReferenceType", CurrencyRef="ReferenceType", APAccountRef="ReferenceType",
             VendorEx=ANY, VendorPaymentBankDetail="VendorBankAccountDetail"),
    "VendorBankAccountDetail": _t(None,
             "BankBranchIdentifier BankAccountNumber BankAccountName StatementText"),
    "VendorCredit": _t("PurchaseByVendor",
             "Balance IncludeInAnnualTPAR",
             VendorAddr="PhysicalAddress", VendorCreditEx=ANY),
    "WebSiteAddress": _t(None,
             "Id URI Default Tag"),
}

# entity name (as in the URL and the body's wrapper key) -> its type in TYPES
ENTITY_TYPES = {name: name for name in (
    "Customer", "Vendor", "Employee", "Item", "Account", "Term", "PaymentMethod", "Class", "Department",
    "Invoice", "Estimate", "CreditMemo", "SalesReceipt", "RefundReceipt", "Payment", "Attachable", "Bill",
    "VendorCredit", "BillPayment")}

_FLAT = {}


def fields(type_name):
    """{property: spec} of a type with the properties of its base types; spec None is a plain value."""
    flat = _FLAT.get(type_name)
    if flat is None:
        base, scalars, nested = TYPES[type_name]
        flat = dict(fields(base)) if base else {}
        flat.update(dict.fromkeys(scalars))
        flat.update(nested)
        _FLAT[type_name] = flat
    return flat


def _java(type_name):
    return "com.intuit.schema.finance.v3." + type_name.split("_")[0]


def _refuse(path, detail):
    return QBOError("2010", "Property Name:%s specified is unsupported or invalid" % detail, path,
                    message=UNSUPPORTED)


def _unknown(key, type_name, path):
    return _refuse(path, 'Unrecognized field "%s" (class %s), not marked as ignorable' % (key, _java(type_name)))


def _shape(value, expected, path):
    token = ("START_OBJECT" if isinstance(value, dict) else "START_ARRAY" if isinstance(value, list)
             else "VALUE_STRING" if isinstance(value, str) else "VALUE_NUMBER" if isinstance(value, (int, float))
             else "VALUE_TRUE")
    return _refuse(path, "Can not deserialize instance of %s out of %s token" % (expected, token))


def _object(type_name, obj, path):
    if not isinstance(obj, dict):
        raise _shape(obj, _java(type_name), path)
    known = fields(type_name)
    for key, value in obj.items():
        if key not in known:
            raise _unknown(key, type_name, "%s.%s" % (path, key) if path else key)
        spec = known[key]
        if value is None or spec is ANY:
            continue
        where = "%s.%s" % (path, key) if path else key
        if isinstance(spec, list):
            if not isinstance(value, list):
                raise _shape(value, "java.util.ArrayList", where)
            for index, item in enumerate(value):
                _value(spec[0], item, "%s[%d]" % (where, index))
        else:
            _value(spec, value, where)


def _value(spec, value, path):
    if value is None:
        return
    if spec is None:
        if isinstance(value, (dict, list)):
            raise _shape(value, "java.lang.String", path)
    else:
        _object(spec, value, path)


def check(entity, body):
    """Raise QBO's 2010 for the first property of a write body that QuickBooks does not accept."""
    type_name = ENTITY_TYPES.get(entity)
    if type_name is None:
        raise KeyError("simulator.schema has no write schema for %s" % entity)
    _object(type_name, body, "")


def check_batch_item(item, entities):
    """A /batch item carries bId, operation, optionsData and one of an entity, Query, ReportQuery, CDCQuery."""
    for key in item:
        if key not in BATCH_ITEM_KEYS and key not in entities:
            raise _unknown(key, "BatchItemRequest", key)
