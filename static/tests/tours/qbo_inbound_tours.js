/** @odoo-module */

import { registry } from "@web/core/registry";

// An invoice paid in QuickBooks: its QuickBooks tab shows "Paid in QuickBooks", in green.
registry.category("web_tour.tours").add("qbo_invoice_paid_badge", {
    steps: () => [
        {
            content: "Open the QuickBooks tab",
            trigger: ".o_form_view .o_notebook a.nav-link:contains(QuickBooks)",
            run: "click",
        },
        {
            content: "The invoice is paid in QuickBooks",
            trigger: ".o_field_widget[name=qbo_remote_status].text-success:contains(Paid in QuickBooks)",
        },
        {
            content: "QuickBooks' balance is zero",
            trigger: ".o_field_widget[name=qbo_remote_balance]:contains(0.00)",
        },
    ],
});
