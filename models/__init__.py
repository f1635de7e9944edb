from . import qbo_reference
from . import res_company
from . import res_config_settings
from . import account_payment_term
from . import account_tax
