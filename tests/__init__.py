from . import test_connection
from . import test_sync_customers
from . import test_sync_products
from . import test_import
