from lvyue.common.migrate import run_env
from lvyue.fulfilment.tables import metadata

run_env(metadata)
