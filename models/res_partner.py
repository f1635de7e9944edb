from odoo import api, fields, models
from odoo.exceptions import AccessError

from .qbo_names import clean_name, held_name, suffixed_name
from .qbo_reason import _lt
from .qbo_sync_mixin import QboPayloadError, in_queries

DISPLAY_NAME_MAX = 500
# The fields whose change an Active customer follows into QuickBooks; any other is local.
TRACKED_FIELDS = frozenset({
    "name", "ref", "email", "phone", "mobile", "street", "street2", "city", "zip", "state_id",
    "country_id", "vat", "property_payment_term_id", "qbo_tax_treatment", "parent_id", "type",
    "is_company", "company_name", "active",
})

HUB_FIELDS = frozenset({"qbo_hub", "qbo_tax_treatment"})


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "qbo.sync.mixin"]

    _qbo_kind = "customer"
    _qbo_entity = "Customer"
    _qbo_level = 0
    _qbo_button_invisible = "qbo_state == 'none' or not id or not qbo_can_sync"

    qbo_hub = fields.Selection(
        [("inactive", "Inactive"), ("active", "Active")], string="Financial Hub", company_dependent=True, copy=False,
        help="Active: this customer lives in QuickBooks Online too. Saving pushes it, and later edits of "
             "its name, reference, contact, addresses, tax id, terms and tax treatment follow it. "
             "What is changed in QuickBooks shows here read-only; Odoo's fields are not overwritten.")
    qbo_tax_treatment = fields.Selection(
        [("default", "Default"), ("zero", "Zero-rated"), ("exempt", "Tax-exempt")],
        string="QuickBooks tax treatment", company_dependent=True,
        help="Mapped to a QuickBooks tax code in the settings.")
    qbo_can_sync = fields.Boolean(compute="_compute_qbo_can_sync")

    qbo_listed = fields.Boolean("Listed among QuickBooks customers", compute="_compute_qbo_listed",
                                search="_search_qbo_listed")

    def _qbo_listed_domain(self):
        """Who the QuickBooks > Customers list and the dashboard count: customers and delivery
        addresses, not the people who use Odoo (Administrator) nor the current company itself."""
        return ["&", "&", "|", ("parent_id", "=", False), ("type", "=", "delivery"),
                ("partner_share", "=", True), ("id", "!=", self.env.company.partner_id.id)]

    @api.depends("parent_id", "type", "partner_share")
    @api.depends_context("company")
    def _compute_qbo_listed(self):
        listed = self.filtered_domain(self._qbo_listed_domain())
        for partner in self:
            partner.qbo_listed = partner in listed

    def _search_qbo_listed(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(self.env._("Unsupported search on the QuickBooks customers list."))
        domain = self._qbo_listed_domain()
        return domain if (operator == "=") == value else ["!"] + domain

    @api.depends("parent_id", "type")
    def _compute_qbo_can_sync(self):
        for partner in self:
            partner.qbo_can_sync = partner._qbo_is_customer_shape()

    def _qbo_is_customer_shape(self):
        """Top-level partners are customers; a company's delivery addresses are sub-customers;
        other contacts of a company are never customers of their own."""
        self.ensure_one()
        return not self.parent_id or self.type == "delivery"

    def _qbo_level_of(self):
        return 1 if self.parent_id else 0

    # ------------------------------------------------------------------------------
    # triggers
    # ------------------------------------------------------------------------------
    def _qbo_check_hub_change(self, vals_list):
        """The Financial Hub toggle (and the tax treatment sent with it) decides what is created
        in QuickBooks: only QuickBooks users set it, whatever the path (form, RPC, CSV import)."""
        if self.env.su or self.env.user.has_group("qbo_financial_hub.group_qbo_user"):
            return
        # on create, a value the administrators made the default (ir.default, e.g. every new
        # customer Active) is not the user's choice: creating a user or a contact stays possible
        defaults = {} if self else self.env["ir.default"].sudo()._get_model_defaults(self._name)
        for vals in vals_list:
            for fname in HUB_FIELDS & vals.keys():
                new = vals[fname] or False
                current = {p[fname] or False for p in self} if self else {defaults.get(fname) or False}
                if current != {new}:
                    raise AccessError(self.env._(
                        "Only QuickBooks users can change '%(field)s': ask a QuickBooks user or administrator.",
                        field=self._fields[fname].string))

    @api.model_create_multi
    def create(self, vals_list):
        self._qbo_check_hub_change(vals_list)
        partners = super().create(vals_list)
        active = partners.filtered(lambda p: p.qbo_hub == "active")
        if active:
            active._qbo_enqueue(self.env.company)
        return partners

    def write(self, vals):
        self._qbo_check_hub_change([vals])
        res = super().write(vals)
        if self.env.context.get("qbo_no_enqueue"):
            return res
        if vals.get("qbo_hub") == "active" and not TRACKED_FIELDS & vals.keys():
            self._qbo_enqueue(self.env.company)
        if TRACKED_FIELDS & vals.keys():
            for company in self._qbo_hub_companies():
                # a shared partner follows into every company where it is Active, including
                # companies the editing user is not logged into (with_company would refuse them)
                partners = self.sudo().with_company(company).filtered(lambda p: p.qbo_hub == "active")
                # a delivery address is part of its parent's customer record (ShipAddr) too
                parents = partners.filtered(lambda p: p.parent_id and p.type == "delivery").parent_id
                (partners | parents.filtered(lambda p: p.qbo_hub == "active"))._qbo_enqueue(company)
        return res

    def _qbo_hub_companies(self):
        return self.env["res.company"].sudo().search([("qbo_enabled", "=", True)])

    def _qbo_enqueue(self, company=None, operation="push", trigger=True):
        """Only customers Active in the Financial Hub of a company that syncs are ever queued."""
        company = company or self.env.company
        if not company.sudo().qbo_enabled:
            return None
        pushable = self._qbo_filter_pushable(company)
        result = super(ResPartner, pushable)._qbo_enqueue(company, operation, trigger)
        if operation == "push":
            # delivery addresses that failed while their company was not in QuickBooks try again,
            # behind it (a sub-customer waits for its parent)
            children = pushable.filtered(lambda p: not p.parent_id).child_ids.filtered(
                lambda c: c.type == "delivery")._qbo_filter_pushable(company) - pushable
            links = children._qbo_links(company)
            failed = children.filtered(lambda c: c.id in links and links[c.id].state == "error")
            if failed:
                super(ResPartner, failed)._qbo_enqueue(company, operation, trigger)
        return result

    def _qbo_filter_pushable(self, company):
        return self.with_company(company).filtered(lambda p: p.qbo_hub == "active" and p._qbo_is_customer_shape())

    def action_qbo_link(self):
        """Bulk "Link to QuickBooks": switch the Financial Hub to Active and queue them all."""
        self._qbo_check_push_rights()
        partners = self.filtered(lambda p: p._qbo_is_customer_shape())
        partners.filtered(lambda p: p.qbo_hub != "active").with_context(qbo_no_enqueue=True).write({"qbo_hub": "active"})
        partners._qbo_enqueue(self.env.company)
        skipped = len(self) - len(partners)
        message = self.env._("%(count)s customer(s) queued for QuickBooks.", count=len(partners))
        if skipped:
            message += " " + self.env._("%(count)s contact(s) skipped: contacts of a company are not customers of their own.",
                               count=skipped)
        return self.env.company._qbo_notify(self.env._("QuickBooks"), message, "info")

    def _qbo_app_path(self, qbo_id):
        return f"customerdetail?nameId={qbo_id}"

    # ------------------------------------------------------------------------------
    # matching
    # ------------------------------------------------------------------------------
    def _qbo_display_name(self, company, link=None):
        self.ensure_one()
        # a delivery address is a sub-customer: QuickBooks shows it under its parent
        # (FullyQualifiedName "Parent:Name") and keeps names unique per parent
        base = (self.name or self.city or self.env._("Delivery")) if self.parent_id else (self.name or "")
        if link and link.name_clash:
            return suffixed_name(base, self.ref or f"Odoo {self.id}", DISPLAY_NAME_MAX)
        return clean_name(base, DISPLAY_NAME_MAX)

    def _qbo_match_queries(self, company):
        key = company.qbo_customer_match
        field = {"email": "PrimaryEmailAddr"}.get(key, "DisplayName")
        values = {}
        links = self._qbo_links(company)
        for partner in self:
            if key == "email" and partner.email:
                values[partner.id] = [partner.email.strip()]
            else:
                # the suffixed name exists only after QBO refused the plain one (name_clash is
                # stored before it is ever sent), so only then is it looked up
                link = links.get(partner.id)
                values[partner.id] = [partner._qbo_display_name(company, link)]
        queries = in_queries("SELECT * FROM Customer", field, [v for vs in values.values() for v in vs])
        # a match sits where the partner does: a sub-customer under its parent's QuickBooks
        # customer, a top-level partner at the top (another parent's "North Barn" is not ours)
        parents = {partner.id: partner.parent_id.commercial_partner_id for partner in self if partner.parent_id}
        parent_links = self.browse([p.id for p in parents.values()])._qbo_links(company) if parents else {}

        index = {}

        def pick(partner, rows):
            if not index:
                for row in rows:
                    found = (row.get("PrimaryEmailAddr") or {}).get("Address") if field == "PrimaryEmailAddr" \
                        else held_name(row)
                    if found:
                        index.setdefault(found.lower(), []).append(row)
            parent = parents.get(partner.id)
            parent_link = parent_links.get(parent.id) if parent else None
            under = ((parent_link and parent_link.qbo_id) or "?") if parent else None
            for value in values.get(partner.id) or []:  # the plain name first, then the suffixed one
                for row in index.get((value or "").lower(), []):
                    if (row.get("ParentRef") or {}).get("value") == under:
                        return row
            return None
        return queries, pick

    def _qbo_match_taken(self, company, link, match, other):
        """Matched by email: the clear error naming the other partner. Matched by display name:
        a name clash, pushed under the suffixed name (rule 3 of qbo_names)."""
        if (company.qbo_customer_match == "email" and self.email) or (link and link.name_clash):
            return super()._qbo_match_taken(company, link, match, other)
        return QboPayloadError(_lt("The QuickBooks customer %(name)s is linked to %(other)s: this customer "
                                          "is pushed under its suffixed name.",
                                          name=match.get("DisplayName"), other=other.display_name), code="clash")

    def _qbo_name_clash_allowed(self, payload):
        """A 6240 on the plain name switches to the suffixed name once; on the suffixed one it is an error."""
        return payload.get("DisplayName") == self._qbo_display_name(None)

    # ------------------------------------------------------------------------------
    # payload
    # ------------------------------------------------------------------------------
    def _qbo_address(self, partner):
        lines = [line for line in (partner.street, partner.street2) if line]
        address = {f"Line{i + 1}": line[:500] for i, line in enumerate(lines)}
        address.update({
            "City": partner.city or "",
            "CountrySubDivisionCode": partner.state_id.code or "",
            "PostalCode": partner.zip or "",
            "Country": partner.country_id.code or "",
        })
        return address

    def _qbo_preflight(self, company):
        self.ensure_one()
        company = company.sudo()
        problems = []
        if not self.name and not self.parent_id:
            problems.append(_lt("The customer has no name."))
        if self.email and any(ch in self.email for ch in "\r\n\t\x00"):
            problems.append(_lt("The email %(email)r holds a line break or a tab: QuickBooks accepts none.",
                                       email=self.email))
        term = self.with_company(company).property_payment_term_id
        if term and not term.with_company(company).qbo_term_ref_id:
            problems.append(_lt("The payment term %(term)s has no QuickBooks term in the mapping.", term=term.name))
        treatment = self.with_company(company).qbo_tax_treatment or "default"
        if company.qbo_tax_model != "us" and treatment != "default" and not self._qbo_tax_code(company, treatment):
            problems.append(_lt("The customer tax treatment '%(t)s' has no QuickBooks tax code in the mapping.",
                              t=treatment))
        return problems

    def _qbo_tax_code(self, company, treatment):
        return {"default": company.qbo_tax_default_id, "zero": company.qbo_tax_zero_id,
                "exempt": company.qbo_tax_exempt_id}[treatment]

    def _qbo_prepare_payload(self, company, link, match):
        """(payload, operation) for this customer; raises QboPayloadError with every problem."""
        self.ensure_one()
        company = company.sudo()
        problems = []  # the engine ran _qbo_preflight already: only what needs QBO's answer is checked here
        if self.with_company(company).qbo_hub != "active":
            raise QboPayloadError(_lt("The customer is Inactive in the Financial Hub: it is not pushed."), code="inactive")
        if not self.active and not (link and link.qbo_id):
            return None, None  # an archived customer is not created (nor matched) in QuickBooks
        qbo_id = (link and link.qbo_id) or (match and match.get("Id"))
        if match and not (link and link.qbo_id) and match.get("Active") is False:
            if not (link and link.name_clash):
                # an inactive QBO customer holds the name: it is not ours to revive (rule 3)
                raise QboPayloadError(_lt("An inactive QuickBooks customer holds this name."), code="clash")
            qbo_id = None
        if not qbo_id and not company.qbo_sync_customers:
            raise QboPayloadError(_lt("No match in QuickBooks, and creating customers is switched off in the settings."),
                                  code="no-match")
        payload = {"DisplayName": self._qbo_display_name(company, link), "Active": bool(self.active)}
        commercial = self.commercial_partner_id
        if commercial.is_company:
            payload["CompanyName"] = clean_name(commercial.name, 100)
        payload["PrimaryEmailAddr"] = {"Address": (self.email or "").strip()[:100]}
        payload["PrimaryPhone"] = {"FreeFormNumber": (self.phone or "")[:30]}
        payload["Mobile"] = {"FreeFormNumber": (self.mobile or "")[:30]}
        payload["BillAddr"] = self._qbo_address(self)
        delivery = self.child_ids.filtered(lambda c: c.type == "delivery")[:1] or self
        payload["ShipAddr"] = self._qbo_address(delivery)
        if self.vat:
            payload["PrimaryTaxIdentifier"] = self.vat[:40]
        if self.ref:
            payload["Notes"] = self.env._("Odoo reference: %(ref)s", ref=self.ref)
        term_ref = self.with_company(company).property_payment_term_id.with_company(company).qbo_term_ref_id
        if term_ref:
            payload["SalesTermRef"] = {"value": term_ref.qbo_id}
        treatment = self.with_company(company).qbo_tax_treatment or "default"
        if company.qbo_tax_model == "us":
            payload["Taxable"] = treatment == "default"
        elif self._qbo_tax_code(company, treatment):
            payload["DefaultTaxCodeRef"] = {"value": self._qbo_tax_code(company, treatment).qbo_id}
        if self.parent_id:
            parent = self.parent_id.commercial_partner_id
            parent_link = parent._qbo_links(company).get(parent.id)
            if not parent_link or not parent_link.qbo_id:
                if parent.with_company(company).qbo_hub == "active":
                    raise QboPayloadError(_lt("Waiting for the parent customer %(p)s to reach QuickBooks.", p=parent.name),
                                          code="defer")
                problems.append(_lt("The parent customer %(p)s is not in the Financial Hub: switch it Active, and this "
                                    "delivery address follows it.", p=parent.name))
            else:
                payload.update({"Job": True, "BillWithParent": True, "ParentRef": {"value": parent_link.qbo_id}})
        if problems:
            raise QboPayloadError(problems)
        if qbo_id:
            token = (link and link.qbo_id == qbo_id and link.qbo_sync_token) or (match and match.get("SyncToken"))
            payload.update({"Id": qbo_id, "SyncToken": token, "sparse": True})
            return payload, "update"
        return payload, "create"
