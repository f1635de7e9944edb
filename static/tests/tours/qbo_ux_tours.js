/** @odoo-module */

import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

const tours = registry.category("web_tour.tours");

// A product template with one variant: its QuickBooks page and its smart button.
tours.add("qbo_template_page", {
    steps: () => [
        {
            content: "The smart button says the product is in QuickBooks",
            trigger: ".o_form_view button.o_qbo_smart_button:contains(QuickBooks):contains(Synced)",
        },
        {
            content: "Open the QuickBooks page",
            trigger: ".o_form_view .o_notebook a.nav-link:contains(QuickBooks)",
            run: "click",
        },
        {
            content: "The green badge",
            trigger: ".o_notebook .o_field_widget[name=qbo_state] .badge.text-bg-success:contains(Synced)",
        },
        {
            content: "The QuickBooks id, shown as the id",
            trigger: ".o_notebook .o_field_widget[name=qbo_id]:not(:contains(http))",
        },
        {
            content: "Push it again",
            trigger: ".o_notebook button[name=action_qbo_push]",
            run: "click",
        },
        {
            content: "Queued",
            trigger: ".o_notification:contains(1 product(s) queued for QuickBooks)",
        },
    ],
});

// A customer form: the smart button shows the state and opens the record in QuickBooks.
tours.add("qbo_smart_button", {
    steps: () => [
        {
            content: "The smart button in the button box",
            trigger: ".o_form_view button[name=action_qbo_open]:contains(Synced)",
        },
        {
            content: "Open the record in QuickBooks",
            trigger: ".o_form_view button[name=action_qbo_open]",
            run: "click",
        },
        {
            content: "No error: the form is still there",
            trigger: ".o_form_view:not(:has(.o_error_dialog)) .o_breadcrumb:contains(Tour Smart Co)",
        },
    ],
});

// The customer list: a queued badge turns green by itself once the queue ran (the test drains
// the queue when this tour says it saw the Queued badge).
tours.add("qbo_live_badge", {
    steps: () => [
        {
            content: "The customer is queued",
            trigger: ".o_data_row:contains(Tour Live Co) .o_field_widget[name=qbo_state] .badge:contains(Queued)",
            run: async () => {
                await rpc("/web/dataset/call_kw/ir.config_parameter/set_param", {
                    model: "ir.config_parameter",
                    method: "set_param",
                    args: ["qbo_financial_hub.tour_live_ready", "1"],
                    kwargs: {},
                });
            },
        },
        {
            content: "Without a reload, the badge is green",
            trigger: ".o_data_row:contains(Tour Live Co) .o_field_widget[name=qbo_state] .badge.text-bg-success:contains(Synced)",
            timeout: 20000,
        },
    ],
});

// A quotation: link it to an estimate QuickBooks already holds, then unlink it.
tours.add("qbo_estimate_link_wizard", {
    steps: () => [
        {
            content: "Link QuickBooks estimate",
            trigger: ".o_form_view button[name=action_qbo_link_wizard]",
            run: "click",
        },
        {
            content: "Link the estimate found",
            trigger: ".modal .o_data_row:contains(EST-77) button[name=action_link]",
            run: "click",
        },
        {
            content: "Linked: the smart button says so",
            trigger: ".o_form_view:not(:has(.modal)) button[name=action_qbo_open]:contains(Synced)",
        },
        {
            content: "Unlink it",
            trigger: ".o_form_view button[name=action_qbo_unlink]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "Unlinked: it can be linked again",
            trigger: ".o_form_view button[name=action_qbo_link_wizard]",
        },
    ],
});
