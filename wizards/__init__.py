
from . import account_move_qbo_link
