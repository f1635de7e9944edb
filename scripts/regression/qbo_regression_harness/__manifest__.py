{
    "name": "QuickBooks Financial Hub: regression harness (tests only)",
    "summary": "Connects every company to the QuickBooks simulator so that Odoo's own test suites "
               "run with the Financial Hub's hooks firing. Never install it in a real database.",
    "version": "1.0.0",
    "author": "QBO Financial Hub contributors",
    "license": "LGPL-3",
    "depends": ["qbo_financial_hub", "sale_management", "account_payment"],
    "post_init_hook": "post_init_hook",
}
