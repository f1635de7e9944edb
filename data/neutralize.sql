-- A copied or staging database must not talk to the production QuickBooks company:
-- clear every credential and token and switch the connection and its syncs off.
UPDATE res_company
   SET qbo_enabled = false,
       qbo_client_secret = NULL,
       qbo_access_token = NULL,
       qbo_refresh_token = NULL,
       qbo_access_token_expires_at = NULL,
       qbo_refresh_token_expires_at = NULL,
       qbo_oauth_nonce = NULL,
       qbo_webhook_verifier = NULL,
       qbo_cdc_cursor = NULL,
       qbo_auto_push_invoices = false,
       qbo_auto_push_quotations = false,
       qbo_state = 'disconnected',
       qbo_state_message = 'Neutralized copy: connect again to use QuickBooks Online.';
