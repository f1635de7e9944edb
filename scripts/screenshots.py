"""Screenshots of the running demo for the README: `make demo` in one terminal, then

    python3 scripts/screenshots.py [--odoo http://localhost:8069] [--sim http://127.0.0.1:8899]

writes docs/screenshots/*.png. It logs in as admin/admin with a JSON-RPC call, hands the
session cookie to a headless Chromium through its DevTools protocol (websocket-client), opens
each page, waits for Odoo to finish drawing it and captures it.
"""
import argparse
import base64
import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import requests
import websocket

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
WIDTH, HEIGHT = 1400, 900


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Just enough of the DevTools protocol: set a cookie, open a page, evaluate, capture."""

    def __init__(self):
        binary = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                      None)
        if not binary:
            sys.exit("no chromium: apt-get install -y chromium")
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="qbo-shots-")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             f"--remote-debugging-port={self.port}", f"--user-data-dir={self.profile}",
             f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _attempt in range(100):
            try:
                pages = requests.get(f"http://127.0.0.1:{self.port}/json", timeout=2).json()
                page = next(p for p in pages if p.get("type") == "page")
                break
            except (requests.RequestException, StopIteration, ValueError):
                time.sleep(0.2)
        else:
            self.close()
            sys.exit("chromium did not start")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)

    def call(self, method, **params):
        mid = next(self.ids)
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == mid:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url, ready="true", settle=1.5, timeout=30):
        self.call("Page.navigate", url=url)
        deadline = time.time() + timeout
        time.sleep(1.0)
        while time.time() < deadline:
            if self.evaluate(f"document.readyState === 'complete' && !!({ready})"):
                break
            time.sleep(0.3)
        else:
            print(f"  (not ready after {timeout}s: {ready})", flush=True)
        time.sleep(settle)

    def capture(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self):
        with contextlib.suppress(Exception):  # closing anyway
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def login(odoo, db, user, password):
    session = requests.Session()
    answer = session.post(f"{odoo}/web/session/authenticate", json={
        "jsonrpc": "2.0", "method": "call", "params": {"db": db, "login": user, "password": password}}, timeout=30)
    answer.raise_for_status()
    if answer.json().get("error"):
        sys.exit(f"login failed: {answer.json()['error'].get('message')}")
    return session


def rpc(session, odoo, model, method, args, kwargs=None):
    answer = session.post(f"{odoo}/web/dataset/call_kw", json={
        "jsonrpc": "2.0", "method": "call",
        "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}}, timeout=60).json()
    if answer.get("error"):
        raise RuntimeError(answer["error"].get("data", {}).get("message") or answer["error"])
    return answer["result"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--odoo", default=os.environ.get("QBO_DEMO_URL", "http://localhost:8069"))
    parser.add_argument("--sim", default=os.environ.get("QBO_SIM_URL", "http://127.0.0.1:8899"))
    parser.add_argument("--db", default=os.environ.get("QBO_DEMO_DB", "qbo_demo"))
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--only", nargs="*", help="take only these pictures (names as printed, or walkthrough)")
    parser.add_argument("--no-walkthrough", action="store_true",
                        help="skip the animated walk-through (it switches a customer Active)")
    args = parser.parse_args()
    odoo = args.odoo.rstrip("/")
    session = login(odoo, args.db, args.login, args.password)
    partner = rpc(session, odoo, "res.partner", "search_read",
                  [[("qbo_state", "=", "synced"), ("is_company", "=", True)]], {"fields": ["id"], "limit": 1})
    invoice = []
    with contextlib.suppress(RuntimeError):  # no invoice sync in this version
        invoice = rpc(session, odoo, "account.move", "search_read",
                      [[("move_type", "=", "out_invoice"), ("qbo_state", "=", "synced")]], {"fields": ["id"], "limit": 1})
    unlinked = []
    with contextlib.suppress(RuntimeError):
        unlinked = rpc(session, odoo, "account.move", "search_read",
                       [[("move_type", "=", "out_invoice"), ("state", "=", "posted"), ("qbo_state", "=", "none")]],
                       {"fields": ["id"], "limit": 1})
    errored = rpc(session, odoo, "res.partner", "search_read", [[("qbo_state", "=", "error")]],
                  {"fields": ["id"], "limit": 1})
    pages = [
        ("settings", f"{odoo}/odoo/action-account.action_account_config",
         "document.querySelector('#qbo_connection')",
         "(() => { const box = document.querySelector('#qbo_connection');"
         " const block = box.closest('.o_settings_container') || box;"
         " (block.previousElementSibling || block).scrollIntoView({block: 'start'}); })()"),
        ("link-wizard", f"{odoo}/odoo/action-qbo_financial_hub.account_move_qbo_action/{unlinked[0]['id']}"
         if unlinked else None, "document.querySelector('button[name=action_qbo_link_wizard]')",
         "document.querySelector('button[name=action_qbo_link_wizard]').click()"),
        ("red-badge", f"{odoo}/odoo/action-qbo_financial_hub.res_partner_qbo_action/{errored[0]['id']}"
         if errored else None, "document.querySelector('button[name=action_qbo_open] .text-danger')",
         "[...document.querySelectorAll('.o_notebook a.nav-link')].find(a => a.textContent.includes('Sales & Purchase'))"
         "?.click(); setTimeout(() => document.querySelector('.o_field_widget[name=qbo_hub]')"
         "?.scrollIntoView({block: 'center'}), 300)"),
        ("customer-form", f"{odoo}/odoo/action-qbo_financial_hub.res_partner_qbo_action/{partner[0]['id']}"
         if partner else None, "document.querySelector('.o_form_view')",
         "[...document.querySelectorAll('.o_notebook a.nav-link')].find(a => a.textContent.includes('Sales & Purchase'))"
         "?.click()"),
        ("invoice", f"{odoo}/odoo/action-qbo_financial_hub.account_move_qbo_action/{invoice[0]['id']}" if invoice else None,
         "document.querySelector('.o_form_view')",
         "[...document.querySelectorAll('.o_notebook a.nav-link')].find(a => a.textContent.includes('QuickBooks'))"
         "?.click()"),
        # step 8 of the README: the same invoice once paid in "QuickBooks" (paid here first, once)
        ("paid-in-quickbooks", f"{odoo}/odoo/action-qbo_financial_hub.account_move_qbo_action/{invoice[0]['id']}"
         if invoice else None, "document.querySelector('.o_qbo_payment_hint')",
         "[...document.querySelectorAll('.o_notebook a.nav-link')].find(a => a.textContent.includes('QuickBooks'))"
         "?.click()"),
        # step 9: the report refreshed after that payment, its difference first
        ("reconciliation", f"{odoo}/odoo/action-qbo_financial_hub.qbo_reconciliation_action",
         "document.querySelector('.o_list_view .o_data_row, .o_list_view .o_view_nocontent')", None),
        ("customers-list", f"{odoo}/odoo/action-qbo_financial_hub.res_partner_qbo_action",
         "document.querySelector('.o_list_view .o_data_row')", None),
        ("products-list", f"{odoo}/odoo/action-qbo_financial_hub.product_product_qbo_action",
         "document.querySelector('.o_list_view .o_data_row')", None),
        ("dashboard", f"{odoo}/odoo/action-qbo_financial_hub.qbo_dashboard_action",
         "document.querySelector('.o_qbo_dashboard')", None),
        ("simulator", f"{args.sim.rstrip('/')}/", "document.body", None),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    browser = Browser()
    try:
        host = urlparse(odoo).hostname
        browser.call("Network.enable")
        for cookie in session.cookies:
            browser.call("Network.setCookie", name=cookie.name, value=cookie.value, domain=host, path="/")
        for name, url, ready, then in pages:
            if args.only and name not in args.only:
                continue
            if not url:
                print(f"{name}: nothing to show, skipped", flush=True)
                continue
            if name == "paid-in-quickbooks":
                paid_in_quickbooks(session, odoo, args.sim.rstrip("/"), invoice[0]["id"])
            if name == "reconciliation":
                refresh_reconciliation(session, odoo)
            browser.open(url, ready=ready, timeout=90)
            if name == "link-wizard":
                quickbooks_counterpart(session, odoo, args.sim.rstrip("/"), unlinked[0]["id"])
            if then:
                browser.evaluate(then)
                time.sleep(1.0)
            # "the page is out of date" and other toasts hide what matters
            browser.evaluate("document.querySelectorAll('.o_notification_close').forEach(b => b.click())")
            time.sleep(0.3)
            if name == "link-wizard":
                wait_for(browser, "document.querySelector('.modal .o_data_row, .modal .o_view_nocontent, .modal .o_list_view')")
            path = OUT / f"{name}.png"
            browser.capture(path)
            print(f"{name}: {path.relative_to(ROOT)}", flush=True)
        if not args.no_walkthrough and (not args.only or "walkthrough" in args.only):
            walkthrough(browser, session, odoo, args.sim.rstrip("/"))
    finally:
        browser.close()


def quickbooks_counterpart(session, odoo, sim, move_id, number="QB-1042"):
    """The invoice the link wizard finds: the same sale entered by hand in "QuickBooks" (through
    the simulator's API, as another QuickBooks app would), made once."""
    move = rpc(session, odoo, "account.move", "read", [[move_id], ["partner_id", "company_id", "invoice_date",
                                                                    "invoice_line_ids"]])[0]
    realm = rpc(session, odoo, "res.company", "read", [[move["company_id"][0]], ["qbo_realm_id"]])[0]["qbo_realm_id"]
    existing = requests.get(f"{sim}/admin/entities", params={"realm_id": realm, "entity": "Invoice"}, timeout=30).json()
    if any(row.get("DocNumber") == number for row in existing):
        return
    customer = rpc(session, odoo, "res.partner", "read", [[move["partner_id"][0]], ["qbo_id"]])[0]["qbo_id"]
    lines = rpc(session, odoo, "account.move.line", "read",
                [move["invoice_line_ids"], ["product_id", "quantity", "price_unit", "price_subtotal"]])
    items = {p["id"]: p["qbo_id"] for p in rpc(session, odoo, "product.product", "read",
                                                [[ln["product_id"][0] for ln in lines if ln["product_id"]], ["qbo_id"]])}
    invoice = {"CustomerRef": {"value": customer}, "DocNumber": number, "TxnDate": move["invoice_date"],
               "Line": [{"DetailType": "SalesItemLineDetail", "Amount": ln["price_subtotal"],
                         "SalesItemLineDetail": {"ItemRef": {"value": items[ln["product_id"][0]]},
                                                 "Qty": ln["quantity"], "UnitPrice": ln["price_unit"]}}
                        for ln in lines if ln["product_id"] and items.get(ln["product_id"][0])]}
    token = requests.post(f"{sim}/admin/tokens", json={"realm_id": realm}, timeout=30).json()["access_token"]
    answer = requests.post(f"{sim}/v3/company/{realm}/invoice", json=invoice, timeout=30,
                           headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    answer.raise_for_status()
    print(f"link-wizard: invoice {number} made in QuickBooks for the wizard to find", flush=True)


def paid_in_quickbooks(session, odoo, sim, move_id, timeout=60):
    """Receive the invoice's payment on the simulator's page, as the README's step 7 asks, once;
    then wait for Odoo to learn it (webhook, else the changes' cron)."""
    move = rpc(session, odoo, "account.move", "read", [[move_id], ["company_id", "qbo_id", "qbo_remote_status"]])[0]
    if move["qbo_remote_status"] != "paid":
        realm = rpc(session, odoo, "res.company", "read", [[move["company_id"][0]], ["qbo_realm_id"]])[0]["qbo_realm_id"]
        requests.post(f"{sim}/company/{realm}/invoice/{move['qbo_id']}/pay", data={}, allow_redirects=False,
                      timeout=30).raise_for_status()
        print("paid-in-quickbooks: the invoice's payment received in QuickBooks", flush=True)
    deadline = time.time() + timeout
    while time.time() < deadline:
        hint = rpc(session, odoo, "account.move", "read", [[move_id], ["qbo_payment_hint"]])[0]["qbo_payment_hint"]
        if hint:
            return
        time.sleep(1)
    print("  (Odoo did not learn the payment in time)", flush=True)


def refresh_reconciliation(session, odoo, timeout=90):
    """Refresh now, as the list's button does (it runs in the background), and wait for it."""
    def refreshed_at():
        companies = rpc(session, odoo, "res.company", "search_read", [[("qbo_state", "=", "connected")]],
                        {"fields": ["qbo_reconciled_at"], "limit": 1})
        return companies[0]["qbo_reconciled_at"] if companies else None
    before = refreshed_at()
    rpc(session, odoo, "qbo.reconciliation.line", "action_qbo_reconcile_refresh", [[]])
    deadline = time.time() + timeout
    while time.time() < deadline and refreshed_at() == before:
        time.sleep(1)


def wait_for(browser, condition, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if browser.evaluate(f"!!({condition})"):
            time.sleep(0.8)
            return True
        time.sleep(0.5)
    print(f"  (still waiting after {timeout}s: {condition})", flush=True)
    return False


def walkthrough(browser, session, odoo, sim):
    """Frames of a customer switched Active on its form until it lands in "QuickBooks" (the
    smart button turns green by itself: the queue's cron pushes it, the bus tells the form),
    and docs/screenshots/walkthrough.gif made of them."""
    found = rpc(session, odoo, "res.partner", "search_read",
                [[("qbo_state", "=", "none"), ("is_company", "=", True), ("parent_id", "=", False),
                  ("ref_company_ids", "=", False)]],
                {"fields": ["id", "name"], "limit": 1})
    if not found:
        print("walkthrough: no customer outside QuickBooks left, skipped", flush=True)
        return
    partner = found[0]
    folder = OUT / "walkthrough"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    frames = []

    def frame(caption):
        browser.evaluate("document.querySelectorAll('.o_notification_close').forEach(b => b.click())")
        browser.evaluate(f"""(() => {{
            let c = document.getElementById('qbo-caption');
            if (!c) {{ c = document.createElement('div'); c.id = 'qbo-caption'; document.body.appendChild(c); }}
            c.style.cssText = 'position:fixed;left:16px;bottom:16px;z-index:99999;background:#212529;color:#fff;'
                + 'padding:10px 16px;border-radius:6px;font:600 18px sans-serif;opacity:.92';
            c.textContent = {json.dumps(caption)};
        }})()""")
        time.sleep(0.3)
        path = folder / f"{len(frames) + 1:02d}.png"
        browser.capture(path)
        frames.append(path)
        print(f"walkthrough: {path.relative_to(ROOT)} ({caption})", flush=True)

    browser.open(f"{odoo}/odoo/action-qbo_financial_hub.res_partner_qbo_action/{partner['id']}",
                 ready="document.querySelector('.o_form_view')")
    browser.evaluate("[...document.querySelectorAll('.o_notebook a.nav-link')]"
                     ".find(a => a.textContent.includes('Sales & Purchase'))?.click()")
    wait_for(browser, "document.querySelector('.o_field_widget[name=qbo_hub] input[data-value=active]')")
    browser.evaluate("document.querySelector('.o_field_widget[name=qbo_hub]').scrollIntoView({block: 'center'})")
    frame(f"1. {partner['name']}: not in the Financial Hub, not in QuickBooks")
    browser.evaluate("document.querySelector('.o_field_widget[name=qbo_hub] input[data-value=active]').click()")
    time.sleep(0.8)
    frame("2. Switch the Financial Hub to Active")
    browser.evaluate("document.querySelector('.o_form_button_save').click()")
    queued = "[...document.querySelectorAll('button[name=action_qbo_open]')].some(b => b.textContent.includes('Queued'))"
    deadline = time.time() + 10
    while time.time() < deadline and not browser.evaluate(f"!!({queued})"):
        time.sleep(0.1)
    if browser.evaluate(f"!!({queued})"):
        frame("3. Saved: queued for QuickBooks")
    else:
        frame("3. Saved (the queue's cron already pushed it)")
    wait_for(browser, "document.querySelector('button[name=action_qbo_open] .text-success')", timeout=180)
    browser.evaluate("window.scrollTo(0, 0)")
    frame("4. The queue pushed it: the smart button turns green by itself")
    qbo_id = rpc(session, odoo, "res.partner", "read", [[partner["id"]], ["qbo_id"]])[0]["qbo_id"]
    if qbo_id:
        browser.open(f"{sim}/app/customerdetail?nameId={qbo_id}", ready="document.body")
        frame("5. ... and it is in QuickBooks (the simulator's page)")
    try:
        from PIL import Image
    except ImportError:
        print("walkthrough: no Pillow, frames only", flush=True)
        return
    images = [Image.open(path).convert("RGB").resize((WIDTH // 2, HEIGHT // 2)) for path in frames]
    gif = OUT / "walkthrough.gif"
    images[0].save(gif, save_all=True, append_images=images[1:], duration=2200, loop=0, optimize=True)
    print(f"walkthrough: {gif.relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    main()
