/** @odoo-module */

import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

// A customer form: switch the Financial Hub to Active and save; the record is queued.
tours.add("qbo_partner_toggle", {
    steps: () => [
        {
            content: "Open the Sales & Purchase tab",
            trigger: ".o_form_view .o_notebook a.nav-link:contains(Sales & Purchase)",
            run: "click",
        },
        {
            content: "Switch the Financial Hub to Active",
            trigger: ".o_field_widget[name=qbo_hub] input[data-value=active]",
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The customer is queued for QuickBooks",
            trigger: ".o_form_saved .o_field_widget[name=qbo_state] .badge:contains(Queued)",
        },
    ],
});

// The same customer once the queue ran: a green badge and its QuickBooks id.
tours.add("qbo_partner_badge_synced", {
    steps: () => [
        {
            content: "Open the Sales & Purchase tab",
            trigger: ".o_form_view .o_notebook a.nav-link:contains(Sales & Purchase)",
            run: "click",
        },
        {
            content: "The green Synced badge",
            trigger: ".o_field_widget[name=qbo_state] .badge.text-bg-success:contains(Synced)",
        },
        {
            content: "The smart button that opens the customer in QuickBooks",
            trigger: ".o_form_view button[name=action_qbo_open]:contains(Synced)",
        },
    ],
});

// The Financial Hub customer list: select several customers and link them at once.
tours.add("qbo_partner_bulk_link", {
    steps: () => [
        ...["Tour Bulk A", "Tour Bulk B", "Tour Bulk C"].map((name) => ({
            content: `Select ${name}`,
            trigger: `.o_data_row:contains("${name}") .o_list_record_selector input`,
            run: "click",
        })),
        {
            content: "Link to QuickBooks",
            trigger: ".o_control_panel button:contains(Link to QuickBooks):not(.dropdown-item)",
            run: "click",
        },
        {
            content: "They are queued",
            trigger: ".o_notification:contains(3 customer(s) queued for QuickBooks)",
        },
    ],
});

// The dashboard: an error in the list, followed to its record; the error count opens the list.
tours.add("qbo_dashboard_error", {
    steps: () => [
        {
            content: "The dashboard shows the error",
            trigger: ".o_qbo_dashboard_errors .o_data_row:contains(Tour Failing):contains(No match in QuickBooks)",
        },
        {
            content: "Open the failing record",
            trigger: ".o_qbo_dashboard_errors .o_data_row:contains(Tour Failing) button[name=action_open_record]",
            run: "click",
        },
        {
            content: "The customer form, with its error",
            trigger: ".o_breadcrumb:contains(Tour Failing)",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb a:contains(Financial Hub)",
            run: "click",
        },
        {
            content: "Customers in error",
            trigger: ".o_qbo_dashboard button.o_qbo_open_customer_error",
            run: "click",
        },
        {
            content: "The list of customers in error",
            trigger: ".o_list_view .o_data_row:contains(Tour Failing)",
        },
    ],
});

// Settings once connected through the consent page: the connection block says so.
tours.add("qbo_settings_connected", {
    steps: () => [
        {
            content: "The QuickBooks block shows the connected company",
            trigger: ".o_setting_box:contains(Sim US Company), .o_setting_container:contains(Sim US Company)",
        },
        {
            content: "and its connected state",
            trigger: ".o_field_widget[name=qbo_state]:contains(Connected)",
        },
    ],
});

// An invoice: link it to a QuickBooks invoice that already exists, then unlink it.
tours.add("qbo_invoice_link_unlink", {
    steps: () => [
        {
            content: "Link QuickBooks invoice",
            trigger: ".o_form_view button[name=action_qbo_link_wizard]",
            run: "click",
        },
        {
            content: "Search QuickBooks",
            trigger: ".modal button[name=action_search]",
            run: "click",
        },
        {
            content: "Link the QuickBooks invoice found",
            trigger: ".modal .o_data_row:contains(QB-77) button[name=action_link]",
            run: "click",
        },
        {
            content: "The invoice is linked: it can be unlinked",
            trigger: ".o_form_view:not(:has(.modal)) button[name=action_qbo_unlink]",
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
