from . import test_connection
from . import test_sync_customers
from . import test_sync_products
from . import test_import
from . import test_invoices
from . import test_estimates
from . import test_dashboard
from . import test_tours
