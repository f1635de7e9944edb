{
    "name": "QuickBooks Online Financial Hub",
    "summary": "Push customers, products, invoices, credit notes and quotations to QuickBooks Online, "
               "through a durable, batched queue; map terms, taxes and accounts; import from QBO.",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "QBO Financial Hub contributors",
    "website": "https://github.com/qbo-financial-hub/qbo_financial_hub",
    "depends": ["account", "sale"],
    "external_dependencies": {"python": ["requests", "intuit-oauth"]},
    "data": [
        "security/qbo_financial_hub_groups.xml",
        "security/ir.model.access.csv",
        "security/qbo_financial_hub_security.xml",
        "data/ir_cron_data.xml",
        "views/qbo_reference_views.xml",
        "views/qbo_mapping_views.xml",
        "views/res_config_settings_views.xml",
        "views/qbo_menus.xml",
    ],
    "installable": True,
    "application": False,
}
