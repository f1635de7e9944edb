/** @odoo-module */

import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

function notTruncated(selector) {
    return {
        content: `Nothing cut in ${selector}`,
        trigger: selector,
        run() {
            for (const cell of document.querySelectorAll(selector)) {
                if (cell.scrollWidth > cell.clientWidth + 1) {
                    throw new Error(`"${cell.textContent.trim()}" is cut (${cell.scrollWidth} > ${cell.clientWidth})`);
                }
            }
        },
    };
}

// QuickBooks > Reconciliation: readable columns, a customer row without totals, Refresh now.
tours.add("qbo_reconciliation_page", {
    steps: () => [
        {
            content: "The reconciliation lists the differences",
            trigger: ".o_list_view .o_data_row:contains(Tour Recon Co)",
        },
        notTruncated(".o_list_view thead th[data-name] span.text-truncate"),
        {
            content: "A customer has a balance, not a total: its total cells are empty",
            trigger: ".o_data_row:has(td[name=kind]:contains(Customer)) td[name=odoo_total]:empty",
        },
        {
            content: "Refresh now, nothing selected",
            trigger: ".o_control_panel button[name=action_qbo_reconcile_refresh], .o_list_view button[name=action_qbo_reconcile_refresh]",
            run: "click",
        },
        {
            content: "It runs in the background, and says so",
            trigger: ".o_notification:contains(refreshed in the background)",
        },
        {
            content: "No error dialog",
            trigger: "body:not(:has(.o_error_dialog))",
        },
    ],
});

// Settings > QuickBooks Online: the block reads well and its boxes hold what they say.
tours.add("qbo_settings_block", {
    steps: () => [
        {
            content: "The connection names the QuickBooks company",
            trigger: "#qbo_connection:contains(Sim US Company)",
        },
        {
            content: "One label per field: Environment",
            trigger: "#qbo_connection label:contains(Environment)",
            run() {
                const label = [...document.querySelectorAll("#qbo_connection label")].find((l) =>
                    l.textContent.includes("Environment"));
                if (label.textContent.includes("URL")) {
                    throw new Error(`one label holds two: "${label.textContent}"`);
                }
            },
        },
        {
            content: "The webhook endpoint URL is in its box",
            trigger: ".o_field_widget[name=qbo_webhook_url]:contains(/qbo/webhook)",
        },
        {
            content: "The reconnect URL is in its box",
            trigger: ".o_field_widget[name=qbo_reconnect_url]:contains(/qbo/reconnect)",
        },
        {
            content: "The disconnect landing URL is in its box",
            trigger: ".o_field_widget[name=qbo_disconnect_url]:contains(/qbo/disconnected)",
        },
        {
            content: "Classes and locations each have their label",
            trigger: "#qbo_classes label:contains(Classes in QuickBooks)",
        },
        {
            content: "and a value",
            trigger: "#qbo_classes .o_qbo_track_departments:visible:contains(Off)",
        },
        {
            content: "Test connection",
            trigger: "#qbo_connection button[name=action_qbo_test_connection]",
            run: "click",
        },
        {
            content: "It names the company it reached",
            trigger: ".o_notification:contains(Sim US Company)",
        },
        {
            content: "No error",
            trigger: "body:not(:has(.o_error_dialog))",
        },
    ],
});

// A customer payment: Push to QuickBooks shows its state at once, on the form.
tours.add("qbo_payment_push", {
    steps: () => [
        {
            content: "Push to QuickBooks",
            trigger: ".o_form_view button[name=action_qbo_push]",
            run: "click",
        },
        {
            content: "The form shows the payment queued, without a reload",
            trigger: ".o_form_view .o_field_widget[name=qbo_state]:contains(Queued)",
        },
        {
            content: "and the smart button",
            trigger: ".o_form_view button[name=action_qbo_open]:contains(Queued)",
        },
    ],
});

// An invoice paid in QuickBooks and not in Odoo: both states side by side, and what to do.
tours.add("qbo_invoice_payment_status", {
    steps: () => [
        {
            content: "One line says what to do",
            trigger: ".o_qbo_payment_hint:contains(Paid in QuickBooks, not in Odoo)",
        },
        {
            content: "Open the QuickBooks tab",
            trigger: ".o_notebook a.nav-link:contains(QuickBooks)",
            run: "click",
        },
        {
            content: "Odoo's payment state",
            trigger: ".o_field_widget.o_qbo_odoo_payment:contains(Not Paid)",
        },
        {
            content: "QuickBooks' beside it, as a status, not a badge",
            trigger: ".o_field_widget.o_qbo_remote_status:contains(Paid in QuickBooks):not(:has(.badge))",
        },
    ],
});

// The dashboard's checklist on a first run: read QuickBooks' lists from it.
tours.add("qbo_dashboard_checklist", {
    steps: () => [
        {
            content: "Getting started: connected",
            trigger: ".o_qbo_checklist .o_qbo_step_connect .fa-check-circle",
        },
        {
            content: "Refresh lists",
            trigger: ".o_qbo_checklist button[name=action_refresh_lists]",
            run: "click",
        },
        {
            content: "The lists are read",
            trigger: ".o_qbo_checklist .o_qbo_step_lists .fa-check-circle",
        },
        {
            content: "What is left to map is listed",
            trigger: ".o_qbo_setup_problems:contains(income account)",
        },
        {
            content: "No job in error: said in words, not a red 0",
            trigger: ".o_qbo_no_error:contains(No job in error)",
        },
    ],
});
