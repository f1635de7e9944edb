/** @odoo-module */
/**
 * Live QuickBooks screens. The server announces on the bus what changed (qbo.live):
 * - lists and forms of those models redraw (badges, the dashboard, the import progress),
 *   unless the user is editing them;
 * - a failed push shows its user one notification with a button per record that opens it;
 * - "Linked to QuickBooks" and the end of an import show their user a notification.
 * A notification sent before the page was served is not shown on it: Odoo's bus hands a new
 * page the messages of the last 50 seconds, and they would come back in a new browser session.
 */
import { onWillUnmount } from "@odoo/owl";
import { FormController } from "@web/views/form/form_controller";
import { ListController } from "@web/views/list/list_controller";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { debounce } from "@web/core/utils/timing";
import { patch } from "@web/core/utils/patch";
import { session } from "@web/session";

const UPDATE = "qbo_financial_hub/update";
const FAILED = "qbo_financial_hub/failed";
const NOTIFY = "qbo_financial_hub/notify";

// sent after this page was served (both times are the server's)
function isNew(payload) {
    return !payload.sent_at || !session.qbo_page_time || payload.sent_at >= session.qbo_page_time;
}

function useQboLive(controller, reload) {
    const bus = useService("bus_service");
    const refresh = debounce(reload, 300);
    const onUpdate = (payload) => {
        if ((payload.models || []).includes(controller.props.resModel)) {
            refresh();
        }
    };
    bus.subscribe(UPDATE, onUpdate);
    onWillUnmount(() => {
        bus.unsubscribe(UPDATE, onUpdate);
        refresh.cancel();
    });
}

patch(ListController.prototype, {
    setup() {
        super.setup(...arguments);
        useQboLive(this, async () => {
            const root = this.model.root;
            if (!root.editedRecord && !(root.records || []).some((record) => record.dirty)) {
                await root.load();
            }
        });
    },
});

patch(FormController.prototype, {
    setup() {
        super.setup(...arguments);
        useQboLive(this, async () => {
            const root = this.model.root;
            if (root.resId && !root.dirty && !root.isNew) {
                await root.load();
            }
        });
    },
});

const qboFailureService = {
    dependencies: ["bus_service", "notification", "action"],
    start(env, { bus_service, notification, action }) {
        bus_service.subscribe(NOTIFY, (payload) => {
            if (isNew(payload)) {
                const { message, sticky, title, type } = payload;
                notification.add(message, { sticky, title, type, className: "o_qbo_notification" });
            }
        });
        bus_service.subscribe(FAILED, (payload) => {
            if (!isNew(payload)) {
                return;
            }
            const { title, message, records, open_label } = payload;
            const close = notification.add(message, {
                title,
                type: "danger",
                sticky: true,
                className: "o_qbo_failed_notification",
                buttons: (records || []).map((record) => ({
                    name: `${open_label} ${record.name}`,
                    onClick: () => {
                        action.doAction({
                            type: "ir.actions.act_window",
                            res_model: record.model,
                            res_id: record.id,
                            views: [[false, "form"]],
                            target: "current",
                        });
                        close();
                    },
                })),
            });
        });
    },
};

registry.category("services").add("qbo_financial_hub.failure", qboFailureService);
