
from . import account_move_qbo_link
from . import base_partner_merge
