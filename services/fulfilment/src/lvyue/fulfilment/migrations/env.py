import lvyue.fulfilment.logistics.tables
import lvyue.fulfilment.tracking.tables  # noqa: F401  (they add their tables to `metadata`)
from lvyue.common.migrate import run_env
from lvyue.fulfilment.tables import metadata

run_env(metadata)
